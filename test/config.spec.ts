import { expect } from "chai";
import { ConfigError } from "../config/errors";
import { parseStackSpec } from "../plan/stack-spec";
import { kafkaProviderWarnings } from "../config/kafka-provider";
import { stackConfig } from "./helpers/stack-files";
import { clusterConnectorContext } from "../plan/connect-cluster";
import { renderConnectors } from "../connectors/render";
import { dataTopicName } from "../model/naming";
import { problemsOf, Raw, shippedRaw } from "./helpers/config-problems";

const dev = (): Raw => shippedRaw("dev");
const prod = (): Raw => shippedRaw("prod");

describe("stack config", () => {
    it("accepts both shipped stack files", () => {
        expect(problemsOf(dev())).to.deep.equal([]);
        expect(problemsOf(prod())).to.deep.equal([]);
    });

    it("fills replication from the environment profile", () => {
        expect(parseStackSpec(dev()).spec.pipelines[0].topics).to.include({ replicationFactor: 1, minInsyncReplicas: 1 });
        expect(parseStackSpec(prod()).spec.pipelines[0].topics).to.include({ replicationFactor: 3, minInsyncReplicas: 2 });
    });

    it("reports every problem at once, each with its config path", () => {
        const raw = dev();
        raw.pipelines[0].source.tables[1].name = "orders";
        raw.pipelines[0].source.maxQueueSize = 1000;
        raw.pipelines[0].sink.connectorName = raw.pipelines[0].source.connectorName;
        const problems = problemsOf(raw);
        expect(problems).to.have.length(3);
        expect(problems).to.include(
            'pipelines[0].source.tables[1].name: "orders" must be schema.table (e.g. dbo.customers); Debezium\'s table.include.list matches that form',
        );
        expect(problems).to.include(
            "pipelines[0].source.maxQueueSize: must be greater than maxBatchSize (2048) or Debezium refuses to start; use 8192 (4 × maxBatchSize)",
        );
        expect(problems).to.include(
            'pipelines[0].sink.connectorName: connector name "sqlserver-cdc-source" is already used by pipelines[0].source.connectorName; connector names must be unique across all connectors (set connectorName)',
        );
    });

    it("names the whole stack file in the error header", () => {
        const raw = dev();
        delete raw.environment;
        expect(() => parseStackSpec(raw)).to.throw(
            ConfigError,
            /Invalid stack configuration \(1 problem; paths are under the "cdc-pipeline:" keys/,
        );
    });

    it("requires the environment and names the allowed values", () => {
        const raw = dev();
        raw.environment = "staging";
        expect(problemsOf(raw)).to.deep.equal(['environment: must be "dev" or "prod"']);
    });

    it("suggests the intended key for a misspelt one", () => {
        const raw = dev();
        raw.pipelines[0].sink.taskMax = 2;
        expect(problemsOf(raw)).to.deep.equal([
            'pipelines[0].sink: unknown key "taskMax" (did you mean "tasksMax"?); remove it or fix its spelling',
        ]);
    });

    it("requires a primary key on every captured table", () => {
        const raw = dev();
        raw.pipelines[0].source.tables[0].primaryKey = [];
        expect(problemsOf(raw)).to.deep.equal([
            "pipelines[0].source.tables[0].primaryKey: every captured table must declare its primary key columns (e.g. primaryKey: [id]); tables without one cannot be upserted or deleted in the target",
        ]);
    });

    it("warns, without failing, when the queue is not 4 × the batch", () => {
        const raw = dev();
        raw.pipelines[0].source.maxQueueSize = 5000;
        expect(parseStackSpec(raw).warnings).to.deep.equal([
            "sales: source.maxQueueSize 5000 is not 4 × maxBatchSize (8192), the recommended ratio",
        ]);
    });

    it("explains renamed snapshot modes", () => {
        const raw = dev();
        raw.pipelines[0].source.snapshotMode = "schema_only";
        expect(problemsOf(raw)).to.deep.equal([
            'pipelines[0].source.snapshotMode: "schema_only" is not a Debezium 3.6 sqlserver snapshot mode (renamed to "no_data" in Debezium 2.6 and removed in 3.3); use one of initial, initial_only, no_data, recovery, when_needed, configuration_based, custom, always, when_needed_no_data',
        ]);
    });

    it("requires a key-based primary key mode for upserts", () => {
        const raw = dev();
        raw.pipelines[0].sink.primaryKeyMode = "none";
        raw.pipelines[0].sink.deleteEnabled = false;
        expect(problemsOf(raw)).to.deep.equal([
            "pipelines[0].sink.primaryKeyMode: insertMode upsert needs the row's key; set primaryKeyMode: record_key (was none)",
        ]);
    });

    it("accepts record_value upserts only with primary key fields", () => {
        const raw = dev();
        raw.pipelines[0].sink.primaryKeyMode = "record_value";
        raw.pipelines[0].sink.deleteEnabled = false;
        expect(problemsOf(raw)).to.deep.equal([
            "pipelines[0].sink.primaryKeyMode: insertMode upsert with primaryKeyMode record_value needs primaryKeyFields (e.g. [id]); or use record_key",
        ]);
        raw.pipelines[0].sink.primaryKeyFields = ["id"];
        expect(problemsOf(raw)).to.deep.equal([]);
    });

    it("refuses deletes without record keys", () => {
        const raw = dev();
        raw.pipelines[0].sink.insertMode = "insert";
        raw.pipelines[0].sink.primaryKeyMode = "none";
        expect(problemsOf(raw)).to.deep.equal([
            "pipelines[0].sink.deleteEnabled: deletes can only be applied with primaryKeyMode: record_key (a delete event has no row value); set it, or deleteEnabled: false",
        ]);
    });

    it("refuses errors.tolerance=all without a dead letter queue", () => {
        const raw = dev();
        raw.pipelines[0].sink.deadLetterQueue = false;
        expect(problemsOf(raw)).to.deep.equal([
            "pipelines[0].sink.deadLetterQueue: errorsTolerance all without a dead letter queue drops failed records silently; set deadLetterQueue: true or errorsTolerance: none",
        ]);
        raw.pipelines[0].sink.errorsTolerance = "none";
        expect(problemsOf(raw)).to.deep.equal([]);
    });

    it("keeps min.insync.replicas below the replication factor", () => {
        const raw = prod();
        raw.pipelines[0].topics.minInsyncReplicas = 3;
        expect(problemsOf(raw)).to.deep.equal([
            "pipelines[0].topics.minInsyncReplicas: must be below replicationFactor (3) or losing one broker stops all writes; use 2",
        ]);
    });

    it("refuses a replication factor below 3 in prod", () => {
        const raw = prod();
        raw.pipelines[0].topics.replicationFactor = 2;
        raw.pipelines[0].topics.minInsyncReplicas = 1;
        expect(problemsOf(raw)).to.deep.equal([
            "pipelines[0].topics.replicationFactor: prod requires a replication factor of at least 3 (was 2); remove the override to use 3",
        ]);
    });

    it("allows a replication factor of 1 in dev", () => {
        const raw = dev();
        raw.pipelines[0].topics.replicationFactor = 1;
        expect(problemsOf(raw)).to.deep.equal([]);
    });

    it("limits SQL Server tasks to the number of databases", () => {
        const raw = dev();
        raw.pipelines[0].source.tasksMax = 2;
        expect(problemsOf(raw)).to.deep.equal([
            "pipelines[0].source.tasksMax: Debezium runs one SQL Server task per database; use at most 1 (the number of source.databases)",
        ]);
    });

    it("requires the database of each table when several are captured", () => {
        const raw = dev();
        raw.pipelines[0].source.databases = ["SalesDB", "BillingDB"];
        raw.pipelines[0].source.tables[1].database = "SalesDB";
        raw.pipelines[0].source.tables[2].database = "Billing";
        expect(problemsOf(raw)).to.deep.equal([
            "pipelines[0].source.tables[0].database: this source captures several databases; name the one holding this table (database: <one of source.databases>)",
            'pipelines[0].source.tables[2].database: "Billing" is not in source.databases (SalesDB, BillingDB); add it there or fix the name',
        ]);
    });

    it("requires encrypted, verified database connections in prod", () => {
        const raw = prod();
        raw.pipelines[0].source.encrypt = false;
        raw.pipelines[0].source.trustServerCertificate = true;
        expect(problemsOf(raw)).to.deep.equal([
            "pipelines[0].source.encrypt: prod requires an encrypted connection to SQL Server; set encrypt: true",
            "pipelines[0].source.trustServerCertificate: prod must verify the SQL Server certificate; set trustServerCertificate: false and provide a truststore",
        ]);
    });

    it("requires a verified TLS connection to the target in prod, and the CA to verify it with", () => {
        const raw = prod();
        raw.pipelines[0].sink.sslMode = "require";
        expect(problemsOf(raw)).to.deep.equal([
            "pipelines[0].sink.sslMode: prod requires a verified TLS connection to the target; use verify-ca or verify-full",
        ]);
        raw.pipelines[0].sink.sslMode = "verify-full";
        delete raw.connect.databaseCaSecret;
        expect(problemsOf(raw)).to.deep.equal([
            "connect.databaseCaSecret: pipeline sales verifies PostgreSQL certificates, so Connect pods need the signing CA; set it to a Secret holding ca.crt",
        ]);
    });

    it("requires TLS to Kafka in prod", () => {
        const raw = prod();
        delete raw.kafka.tls;
        expect(problemsOf(raw)).to.deep.equal([
            "kafka.tls: prod requires TLS to Kafka (change events carry row data); set tls: true and point bootstrapServers at a TLS listener",
        ]);
    });

    it("requires the Kafka listener whenever the Access Operator has a CA or a credential to copy", () => {
        const message =
            "kafka.listener: name the listener of Kafka cdc-kafka at bootstrapServers (e.g. tls): the Access Operator copies the cluster CA and the users' credentials for it, and adds the CA only for a TLS listener";
        const tlsOnly = dev();
        tlsOnly.kafka.tls = true;
        expect(problemsOf(tlsOnly)).to.deep.equal([message]);
        const scramOnly = dev();
        scramOnly.kafka.authentication = "scram-sha-512";
        expect(problemsOf(scramOnly)).to.deep.equal([message]);
        expect(problemsOf(dev())).to.deep.equal([]);
    });

    it("authenticates to Kafka as the profile says: prod may choose SCRAM or mutual TLS, but not none", () => {
        expect(parseStackSpec(prod()).spec.kafka.authentication).to.equal("scram-sha-512");
        expect(parseStackSpec(dev()).spec.kafka.authentication).to.equal("none");
        const none = prod();
        none.kafka.authentication = "none";
        expect(problemsOf(none)).to.deep.equal([
            "kafka.authentication: prod requires Connect and the lakehouse writers to authenticate to Kafka, each as a KafkaUser the stack creates with ACLs for exactly its topics and groups; use scram-sha-512 or tls",
        ]);
        const mtls = prod();
        mtls.kafka.authentication = "tls";
        expect(problemsOf(mtls)).to.deep.equal([]);
    });

    it("refuses mutual TLS authentication on a plaintext listener", () => {
        const raw = dev();
        Object.assign(raw.kafka, { authentication: "tls", listener: "plain" });
        expect(problemsOf(raw)).to.deep.equal([
            "kafka.authentication: mutual TLS authentication needs a TLS listener; set kafka.tls: true (and bootstrapServers to that listener) or use scram-sha-512",
        ]);
    });

    it("runs at least the profile's Connect workers, so a drain never stops them all in prod", () => {
        const raw = prod();
        raw.connect.replicas = 1;
        expect(problemsOf(raw)).to.deep.equal([
            "connect.replicas: prod runs at least 2 Connect workers, so a node drain (one worker at a time) never stops replication; use 2 or more",
        ]);
        const single = dev();
        single.connect.replicas = 1;
        expect(problemsOf(single)).to.deep.equal([]);
    });

    it("looks for the Kafka cluster and its users in the stack's namespace unless told otherwise", () => {
        const unset = dev();
        delete unset.kafka.namespace;
        expect(parseStackSpec(unset).spec.kafka.namespace).to.equal("cdc-dev");
        expect(parseStackSpec(prod()).spec.kafka.namespace).to.equal("kafka");
    });

    it("pins Connect only to a Kafka version Strimzi 1.2.0 runs, listing them", () => {
        const raw = prod();
        raw.connect.kafkaVersion = "4.1.1";
        expect(problemsOf(raw)).to.deep.equal([
            'connect.kafkaVersion: "4.1.1" is not a Kafka version Strimzi 1.2.0 runs, and the operator would refuse the KafkaConnect only after pulumi up; use one of 4.2.0, 4.2.1, 4.3.0, 4.3.1',
        ]);
        for (const version of ["4.2.0", "4.3.1"]) {
            raw.connect.kafkaVersion = version;
            expect(parseStackSpec(raw).spec.connect.kafkaVersion).to.equal(version);
        }
        delete raw.connect.kafkaVersion;
        expect(parseStackSpec(raw).spec.connect.kafkaVersion).to.equal(undefined);
    });

    it("warns when the kafka provider is pointed at the in-cluster address, and not for the shipped stacks", () => {
        const spec = parseStackSpec(prod()).spec;
        expect(
            kafkaProviderWarnings(spec, [
                "cdc-kafka-kafka-bootstrap.kafka.svc:9093",
                "kafka-0.kafka.svc.cluster.local:9094",
                "kafka.example.com:9094",
            ]),
        ).to.deep.equal(
            ["cdc-kafka-kafka-bootstrap.kafka.svc:9093", "kafka-0.kafka.svc.cluster.local:9094"].map(
                (server) =>
                    `kafka:bootstrapServers ${server} is an address inside the Kubernetes cluster, but the kafka provider connects from where pulumi runs; unless that is inside the cluster, use the Kafka cluster's external listener (README "Deploying")`,
            ),
        );
        for (const stack of ["dev", "prod"] as const) {
            const shipped = stackConfig(stack)["kafka:bootstrapServers"] as string[];
            expect(kafkaProviderWarnings(parseStackSpec(stack === "dev" ? dev() : prod()).spec, shipped), stack).to.deep.equal([]);
        }
    });

    it("requires the runbook base URL while monitoring is enabled, and only then", () => {
        const raw = prod();
        delete raw.monitoring.runbookBaseUrl;
        expect(problemsOf(raw)).to.deep.equal([
            "monitoring.runbookBaseUrl: is required when monitoring is enabled: every alert links to its runbook section under this URL (e.g. https://git.example.com/platform/cdc-pipeline/-/blob/main/docs/runbooks.md)",
        ]);
        raw.monitoring.enabled = false;
        expect(problemsOf(raw)).to.deep.equal([]);
    });

    it("takes the runbook base URL only as an https URL without a fragment", () => {
        const message =
            'monitoring.runbookBaseUrl: must be the https URL of docs/runbooks.md as your on-call reads it, without a "#" fragment, e.g. https://git.example.com/platform/cdc-pipeline/-/blob/main/docs/runbooks.md';
        for (const url of [
            "http://git.example.com/runbooks.md",
            "https://git.example.com/runbooks.md#alerts",
            "docs/runbooks.md",
            "https://git.example.com/run books.md",
        ]) {
            const raw = dev();
            raw.monitoring.runbookBaseUrl = url;
            expect(problemsOf(raw), url).to.deep.equal([message]);
        }
        const raw = dev();
        raw.monitoring.runbookBaseUrl = "https://wiki.example.com/cdc/runbooks?view=rendered";
        expect(parseStackSpec(raw).spec.monitoring.runbookBaseUrl).to.equal("https://wiki.example.com/cdc/runbooks?view=rendered");
    });

    it("says when the Debezium sink cannot express autoCreate without autoEvolve", () => {
        const raw = dev();
        raw.pipelines[0].sink.autoEvolve = false;
        expect(problemsOf(raw)).to.deep.equal([
            "pipelines[0].sink.autoEvolve: the Debezium JDBC sink has one switch (schema.evolution=basic) that both creates tables and adds columns; set autoCreate and autoEvolve to the same value, or implementation: confluent",
        ]);
        raw.pipelines[0].sink.implementation = "confluent";
        expect(problemsOf(raw)).to.deep.equal([]);
    });

    it("refuses two tables landing in one target table", () => {
        const raw = dev();
        raw.pipelines[0].source.tables.push({ name: "archive.customers", primaryKey: ["id"] });
        expect(problemsOf(raw)).to.deep.equal([
            'pipelines[0].source.tables[3].name: lands in the same target table as tables[0] ("customers"); split the pipeline or change sink.tableNameFormat',
        ]);
    });

    it("keeps topic prefixes, slots and server ids unique across pipelines", () => {
        const raw = dev();
        const pg = {
            name: "crm",
            source: {
                kind: "postgres",
                host: "pg",
                database: "crm",
                topicPrefix: "sqlserver",
                slotName: "s1",
                tables: [{ name: "public.a", primaryKey: ["id"] }],
            },
            sink: { host: "pg", database: "w" },
        };
        raw.pipelines.push(pg, { ...structuredClone(pg), name: "crm2", source: { ...pg.source, topicPrefix: "crm2" } });
        expect(problemsOf(raw)).to.deep.equal([
            'pipelines[3].source.topicPrefix: topic prefix "sqlserver" is already used by pipelines[0].source.topicPrefix; two sources writing one topic namespace would mix their events (set topicPrefix)',
            'pipelines[4].source.slotName: replication slot "s1" is already used by pipelines[3].source.slotName; two connectors on one slot steal each other\'s changes (set slotName)',
        ]);
    });

    it("names the wrong type and the value it got", () => {
        const raw = dev();
        raw.pipelines[0].source.maxBatchSize = "2048";
        expect(problemsOf(raw)).to.deep.equal(['pipelines[0].source.maxBatchSize: must be a number (got "2048")']);
    });

    /** `raw` with its first pipeline replaced by a MySQL-family one capturing `<database>.products`. */
    const mysqlFamily = (raw: Raw, kind: "mysql" | "mariadb", database: string, source: Record<string, unknown> = {}) => {
        raw.pipelines[0] = {
            name: database,
            source: { kind, host: "maria", database, tables: [{ name: `${database}.products`, primaryKey: ["product_id"] }], ...source },
            sink: { host: "pg", database: "w" },
        };
        return raw;
    };

    it("defaults MySQL time precision to what Debezium 3.6 accepts and refuses adaptive", () => {
        const raw = mysqlFamily(dev(), "mysql", "stock");
        expect(parseStackSpec(raw).spec.pipelines[0].source.timePrecisionMode).to.equal("adaptive_time_microseconds");
        raw.pipelines[0].source.timePrecisionMode = "adaptive";
        expect(problemsOf(raw)).to.deep.equal([
            'pipelines[0].source.timePrecisionMode: Debezium 3.6\'s MySQL connector refuses "adaptive" ("no longer supported"); use adaptive_time_microseconds',
        ]);
    });

    describe("MariaDB sources", () => {
        const mariadb = (raw: Raw, source: Record<string, unknown> = {}) => mysqlFamily(raw, "mariadb", "store", source);

        it("renders Debezium's MariaDB connector with MySQL-family naming and MariaDB's TLS mode names", () => {
            const spec = parseStackSpec(mariadb(dev())).spec;
            const source = spec.pipelines[0].source;
            expect(source).to.deep.include({
                kind: "mariadb",
                port: 3306,
                sslMode: "disable",
                timePrecisionMode: "adaptive_time_microseconds",
            });
            const [connector] = renderConnectors(spec, clusterConnectorContext(spec));
            expect(connector.plugin).to.equal("debezium-mariadb");
            expect(connector.connectorClass).to.equal("io.debezium.connector.mariadb.MariaDbConnector");
            expect(connector.config).to.deep.include({
                "database.include.list": "store",
                "table.include.list": "store.products",
                "database.ssl.mode": "disable",
            });
            expect(dataTopicName(source, source.tables[0])).to.equal("store.store.products");
            expect(parseStackSpec(mariadb(prod(), { sslMode: "verify-ca" })).spec.pipelines[0].source).to.deep.include({
                sslMode: "verify-ca",
            });
            expect(parseStackSpec(mariadb(prod())).spec.pipelines[0].source).to.deep.include({ sslMode: "verify-full" });
        });

        it("refuses MySQL's TLS mode spelling and, in prod, modes that do not verify the server", () => {
            expect(problemsOf(mariadb(dev(), { sslMode: "verify_identity" }))[0]).to.match(
                /^pipelines\[0\]\.source\.sslMode: .*"verify-full"/,
            );
            expect(problemsOf(mariadb(prod(), { sslMode: "trust" }))).to.deep.equal([
                "pipelines[0].source.sslMode: prod requires a verified TLS connection; use verify-ca or verify-full",
            ]);
            expect(problemsOf(mariadb(dev(), { timePrecisionMode: "adaptive" }))).to.deep.equal([
                'pipelines[0].source.timePrecisionMode: Debezium 3.6\'s MariaDB connector refuses "adaptive" ("no longer supported"); use adaptive_time_microseconds',
            ]);
        });
    });

    it("requires the database CA when the reconciler verifies a MySQL-family source, as it does for PostgreSQL", () => {
        const raw = mysqlFamily(dev(), "mysql", "stock", { sslMode: "verify_identity" });
        expect(problemsOf(raw)).to.deep.equal([
            "connect.databaseCaSecret: pipeline stock's reconciler verifies the mysql server certificate and needs the signing CA; set it to a Secret holding ca.crt",
        ]);
        delete raw.reconciler;
        expect(problemsOf(raw)).to.deep.equal([]);
    });

    it("validates MySQL tables against the source database", () => {
        const raw = mysqlFamily(dev(), "mysql", "stock", { tables: [{ name: "store.products", primaryKey: ["product_id"] }] });
        expect(problemsOf(raw)).to.deep.equal([
            'pipelines[0].source.tables[0].name: MySQL tables are named database.table; "store.products" is outside source.database "stock"',
        ]);
    });
});
