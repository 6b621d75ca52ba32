import { expect } from "chai";
import { parseStackSpec } from "../plan/stack-spec";
import type { StackSpec } from "../model/spec";
import { CONNECTOR_PLUGINS } from "../connectors/catalog";
import { ConnectorContext, CONFIG_PROVIDER_REFERENCE } from "../connectors/context";
import { pluginsInUse, renderConnectors, restConfig } from "../connectors/render";
import {
    buildArtifacts,
    clusterConnectorContext,
    connectorSecretNames,
    kafkaAccessBody,
    kafkaConnectBody,
    workerConfig,
} from "../plan/connect-cluster";
import { kafkaConnectorBody } from "../plan/kafka-connector";
import { jmxExporterConfig } from "../plan/metrics";
import { planTopics } from "../plan/topics";
import { validateManifest } from "./helpers/k8s-schemas";
import { parse } from "yaml";
import { rawProjectConfig } from "./helpers/stack-files";

const spec = (stack: "dev" | "prod", edit?: (raw: Record<string, any>) => void): StackSpec => {
    const raw = structuredClone(rawProjectConfig(stack)) as Record<string, any>;
    edit?.(raw);
    return parseStackSpec(raw).spec;
};

const localContext: ConnectorContext = {
    bootstrapServers: "localhost:9092",
    secretRef: (name, key) => `\${file:/tmp/secrets/${name}.properties:${key}}`,
    kafkaClientSecurity: {},
};

const byName = (s: StackSpec, ctx = clusterConnectorContext(s)) => new Map(renderConnectors(s, ctx).map((c) => [c.name, c]));

describe("connector plan", () => {
    it("renders every field of the seed's SQL Server source configuration plus what Debezium 3.x requires", () => {
        const source = byName(spec("dev")).get("sqlserver-cdc-source")!;
        expect(source.connectorClass).to.equal("io.debezium.connector.sqlserver.SqlServerConnector");
        expect(source.config).to.include({
            "database.hostname": "sqlserver.sales-dev.svc",
            "database.port": "1433",
            "database.user": "${secrets:cdc-dev/sales-source-db:username}",
            "database.password": "${secrets:cdc-dev/sales-source-db:password}",
            "database.names": "SalesDB",
            "table.include.list": "dbo.customers,dbo.orders,dbo.order_items",
            "snapshot.mode": "initial",
            "snapshot.isolation.mode": "snapshot",
            "decimal.handling.mode": "precise",
            "time.precision.mode": "adaptive",
            "tombstones.on.delete": "true",
            "max.batch.size": "2048",
            "max.queue.size": "8192",
            "poll.interval.ms": "500",
            "topic.prefix": "sqlserver",
            "schema.history.internal.kafka.topic": "sqlserver.schema-history",
            "schema.history.internal.kafka.bootstrap.servers": "cdc-kafka-kafka-bootstrap.kafka.svc:9092",
            "driver.encrypt": "false",
            "driver.trustServerCertificate": "true",
            "heartbeat.interval.ms": "10000",
        });
    });

    it("encrypts and verifies the SQL Server connection in prod and gives schema history clients the Kafka credentials", () => {
        const source = byName(spec("prod")).get("sqlserver-cdc-source")!;
        expect(source.config).to.include({ "driver.encrypt": "true", "driver.trustServerCertificate": "false" });
        // Strimzi 1.x mounts no certificate file (the workers read PEM through its config provider since 0.47),
        // so the clients read the CA and the password from the KafkaAccess binding Secret the same way.
        for (const client of ["producer", "consumer"]) {
            const prefix = `schema.history.internal.${client}.`;
            const security = Object.fromEntries(
                Object.entries(source.config)
                    .filter(([k]) => k.startsWith(prefix))
                    .map(([k, v]) => [k.slice(prefix.length), v]),
            );
            expect(security).to.deep.equal({
                "security.protocol": "SASL_SSL",
                "sasl.mechanism": "SCRAM-SHA-512",
                "sasl.jaas.config":
                    'org.apache.kafka.common.security.scram.ScramLoginModule required username="cdc-connect" password="${secrets:cdc/cdc-connect-kafka-access:password}";',
                "ssl.truststore.type": "PEM",
                "ssl.truststore.certificates": "${secrets:cdc/cdc-connect-kafka-access:ssl.truststore.crt}",
            });
        }
    });

    it("has the Access Operator copy the cluster CA and Connect's password from the Kafka cluster's namespace, and points the KafkaConnect at its Secret", () => {
        const prod = spec("prod");
        expect(kafkaAccessBody(prod)).to.deep.equal({
            apiVersion: "access.strimzi.io/v1alpha1",
            kind: "KafkaAccess",
            metadata: {
                name: "cdc-connect-kafka-access",
                namespace: "cdc",
                labels: { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "cdc-pipeline" },
                annotations: { "pulumi.com/waitFor": "condition=Ready" },
            },
            spec: {
                kafka: { name: "cdc-kafka", namespace: "kafka", listener: "tls" },
                user: { kind: "KafkaUser", apiGroup: "kafka.strimzi.io", name: "cdc-connect", namespace: "kafka" },
                secretName: "cdc-connect-kafka-access",
            },
        });
        const connect = kafkaConnectBody(prod).spec;
        expect(connect.tls).to.deep.equal({
            trustedCertificates: [{ secretName: "cdc-connect-kafka-access", certificate: "ssl.truststore.crt" }],
        });
        expect(connect.authentication).to.deep.equal({
            type: "scram-sha-512",
            username: "cdc-connect",
            passwordSecret: { secretName: "cdc-connect-kafka-access", password: "password" },
        });
        expect(connectorSecretNames(prod)).to.deep.equal([
            "cdc-connect-kafka-access",
            "cdc-connect-registry-reader",
            "cdc-connect-registry-writer",
            "sales-source-db",
            "sales-target-db",
            "schema-registry-truststore",
        ]);
    });

    it("needs no KafkaAccess for a plaintext listener without authentication, and names no user for TLS alone", () => {
        const dev = spec("dev");
        expect(kafkaAccessBody(dev)).to.equal(undefined);
        expect(kafkaConnectBody(dev).spec).to.not.have.any.keys("tls", "authentication");
        expect(connectorSecretNames(dev)).to.deep.equal([
            "inventory-source-db",
            "inventory-target-db",
            "sales-source-db",
            "sales-target-db",
            "shop-source-db",
            "shop-target-db",
        ]);
        const tlsOnly = spec("dev", (raw) => Object.assign(raw.kafka, { tls: true, listener: "tls" }));
        expect(kafkaAccessBody(tlsOnly)!.spec).to.not.have.property("user");
        expect(kafkaConnectBody(tlsOnly).spec).to.not.have.property("authentication");
        expect(byName(tlsOnly).get("sqlserver-cdc-source")!.config).to.include({
            "schema.history.internal.producer.security.protocol": "SSL",
            "schema.history.internal.producer.ssl.truststore.certificates":
                "${secrets:cdc-dev/cdc-connect-kafka-access:ssl.truststore.crt}",
        });
    });

    it("authenticates Connect and its schema history clients with the KafkaUser's certificate under mutual TLS", () => {
        const mtls = spec("prod", (raw) => (raw.kafka.authentication = "tls"));
        expect(kafkaConnectBody(mtls).spec.authentication).to.deep.equal({
            type: "tls",
            certificateAndKey: { secretName: "cdc-connect-kafka-access", certificate: "ssl.keystore.crt", key: "ssl.keystore.key" },
        });
        expect(validateManifest(kafkaConnectBody(mtls) as any)).to.deep.equal([]);
        const source = byName(mtls).get("sqlserver-cdc-source")!.config;
        const prefix = "schema.history.internal.consumer.";
        expect(
            Object.fromEntries(
                Object.entries(source)
                    .filter(([k]) => k.startsWith(prefix))
                    .map(([k, v]) => [k.slice(prefix.length), v]),
            ),
        ).to.deep.equal({
            "security.protocol": "SSL",
            "ssl.truststore.type": "PEM",
            "ssl.truststore.certificates": "${secrets:cdc/cdc-connect-kafka-access:ssl.truststore.crt}",
            "ssl.keystore.type": "PEM",
            "ssl.keystore.certificate.chain": "${secrets:cdc/cdc-connect-kafka-access:ssl.keystore.crt}",
            "ssl.keystore.key": "${secrets:cdc/cdc-connect-kafka-access:ssl.keystore.key}",
        });
    });

    it("gives Strimzi's PodDisruptionBudget for the workers one pod at a time", () => {
        for (const stack of ["dev", "prod"] as const) {
            expect(kafkaConnectBody(spec(stack)).spec.template).to.deep.include({ podDisruptionBudget: { maxUnavailable: 1 } });
        }
    });

    it("renders the Debezium JDBC sink in its own key spelling, with the DLQ and context headers", () => {
        const sink = byName(spec("prod")).get("postgresql-jdbc-sink")!;
        expect(sink.config).to.include({
            topics: "sqlserver.SalesDB.dbo.customers,sqlserver.SalesDB.dbo.orders,sqlserver.SalesDB.dbo.order_items,dlq-postgresql-jdbc-sink.retry",
            "connection.url":
                "jdbc:postgresql://warehouse.postgres.svc:5432/warehouse?sslmode=verify-full&sslrootcert=/opt/kafka/database-ca/ca.crt",
            "connection.username": "${secrets:cdc/sales-target-db:username}",
            "insert.mode": "upsert",
            "primary.key.mode": "record_key",
            "delete.enabled": "true",
            "schema.evolution": "none",
            "collection.name.format": "sales.${source.table}",
            "batch.size": "3000",
            "connection.pool.max_size": "10",
            "errors.tolerance": "all",
            "errors.deadletterqueue.topic.name": "dlq-postgresql-jdbc-sink",
            "errors.deadletterqueue.topic.replication.factor": "3",
            "errors.deadletterqueue.context.headers.enable": "true",
            "errors.log.include.messages": "false",
        });
        for (const confluentKey of ["pk.mode", "pk.fields", "auto.create", "auto.evolve", "connection.user", "table.name.format"]) {
            expect(sink.config).to.not.have.property(confluentKey);
        }
    });

    it("mounts the database CA into Connect pods only when configured, and points the drivers at it", () => {
        const prod = spec("prod");
        const template = kafkaConnectBody(prod).spec.template as any;
        expect(template.pod.volumes[0]).to.deep.equal({ name: "database-ca", secret: { secretName: "database-ca" } });
        expect(template.connectContainer.volumeMounts[0].mountPath).to.equal("/opt/kafka/database-ca");
        expect(kafkaConnectBody(spec("dev")).spec.template).to.not.have.any.keys("pod", "connectContainer");
        expect(byName(spec("dev")).get("postgresql-jdbc-sink")!.config["connection.url"]).to.equal(
            "jdbc:postgresql://warehouse-dev.postgres.svc:5432/warehouse?sslmode=prefer",
        );
    });

    it("lets the sink create and evolve tables only when the pipeline allows it", () => {
        expect(byName(spec("dev")).get("postgresql-jdbc-sink")!.config["schema.evolution"]).to.equal("basic");
    });

    it("renders the Confluent sink in Confluent's spelling with the unwrap transform", () => {
        const s = spec("dev", (raw) => (raw.pipelines[0].sink.implementation = "confluent"));
        const sink = byName(s).get("postgresql-jdbc-sink")!;
        expect(sink.connectorClass).to.equal("io.confluent.connect.jdbc.JdbcSinkConnector");
        expect(sink.config).to.include({
            "pk.mode": "record_key",
            "auto.create": "true",
            "auto.evolve": "true",
            "connection.user": "${secrets:cdc-dev/sales-target-db:username}",
        });
        expect(sink.config["transforms.unwrap.type"]).to.equal("io.debezium.transforms.ExtractNewRecordState");
        // dev's other pipelines keep the Debezium sink.
        expect(pluginsInUse(s)).to.deep.equal([
            "debezium-sqlserver",
            "debezium-postgres",
            "debezium-mariadb",
            "debezium-jdbc-sink",
            "confluent-jdbc-sink",
        ]);
    });

    it("references every credential through the context's config provider", () => {
        const connectors = renderConnectors(spec("dev"), localContext);
        const credentials = connectors.flatMap((c) => Object.entries(c.config).filter(([k]) => /user(name)?$|password$/.test(k)));
        // Four per pipeline: the source's and the sink's username and password.
        expect(credentials).to.have.length(12);
        for (const [key, value] of credentials) {
            expect(value, key).to.match(CONFIG_PROVIDER_REFERENCE);
            expect(value).to.match(
                /^\$\{file:\/tmp\/secrets\/(sales|shop|inventory)-(source|target)-db\.properties:(username|password)\}$/,
            );
        }
    });

    it("renders PostgreSQL and MySQL sources with their own slot, publication and server id settings", () => {
        const s = spec("dev", (raw) => {
            raw.pipelines.push(
                {
                    name: "crm",
                    source: {
                        kind: "postgres",
                        host: "pg",
                        database: "crm",
                        tables: [{ name: "public.customers", primaryKey: ["customer_id"] }],
                    },
                    sink: { host: "w", database: "w" },
                },
                {
                    name: "store",
                    source: {
                        kind: "mysql",
                        host: "maria",
                        database: "store",
                        tables: [{ name: "store.products", primaryKey: ["product_id"] }],
                    },
                    sink: { host: "w", database: "w" },
                },
            );
        });
        const connectors = byName(s);
        expect(connectors.get("crm-postgres-source")!.config).to.include({
            "database.dbname": "crm",
            "plugin.name": "pgoutput",
            "slot.name": "crm_postgres_source",
            "publication.name": "crm_postgres_source_pub",
            "publication.autocreate.mode": "filtered",
            "table.include.list": "public.customers",
        });
        expect(connectors.get("crm-postgres-source")!.config).to.not.have.property("schema.history.internal.kafka.topic");
        const mysql = connectors.get("store-mysql-source")!;
        expect(mysql.config).to.include({
            "database.include.list": "store",
            "table.include.list": "store.products",
            "topic.prefix": "store",
        });
        expect(Number(mysql.config["database.server.id"])).to.be.within(5400, 5400 + 1e9);
        const topics = planTopics(s).map((t) => t.name);
        expect(topics).to.include.members(["crm.public.customers", "store.store.products", "store.schema-history"]);
        expect(topics).to.not.include("crm.schema-history");
    });

    it("takes connector state and tasks from config into the KafkaConnector spec", () => {
        const s = spec("dev", (raw) => {
            raw.pipelines[0].sink.state = "paused";
            raw.pipelines[0].sink.tasksMax = 3;
        });
        const sink = byName(s).get("postgresql-jdbc-sink")!;
        const body = kafkaConnectorBody(sink, s.namespace, "cdc-connect");
        expect(body.spec).to.include({ state: "paused", tasksMax: 3, class: "io.debezium.connector.jdbc.JdbcSinkConnector" });
        expect(body.spec.config).to.not.have.property("tasks.max");
        expect(body.metadata.annotations).to.deep.equal({ "pulumi.com/skipAwait": "true" });
        expect(restConfig(sink)).to.include({ "tasks.max": "3", "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector" });
    });

    it("defaults SQL Server tasks to one per captured database", () => {
        const s = spec("dev", (raw) => {
            raw.pipelines[0].source.databases = ["SalesDB", "BillingDB"];
            for (const t of raw.pipelines[0].source.tables) t.database = "SalesDB";
        });
        expect(byName(s).get("sqlserver-cdc-source")!.tasksMax).to.equal(2);
    });
});

describe("Connect cluster plan", () => {
    it("builds exactly the plugins in use from Debezium's checksum-pinned plugin archives on Maven Central", () => {
        const body = kafkaConnectBody(spec("dev"));
        const built = body.spec.build as { plugins: Array<{ name: string; artifacts: Array<Record<string, string>> }> };
        // The dev stack's Avro converter is the one Maven build (test/schema-registry-plan.spec.ts).
        const build = { plugins: built.plugins.filter((p) => p.name !== "apicurio-avro-converter") };
        const central = "https://repo1.maven.org/maven2/io/debezium";
        expect(build.plugins.map((p) => [p.name, p.artifacts.map((a) => [a.type, a.url])])).to.deep.equal([
            [
                "debezium-sqlserver",
                [["tgz", `${central}/debezium-connector-sqlserver/3.6.1.Final/debezium-connector-sqlserver-3.6.1.Final-plugin.tar.gz`]],
            ],
            [
                "debezium-postgres",
                [["tgz", `${central}/debezium-connector-postgres/3.6.1.Final/debezium-connector-postgres-3.6.1.Final-plugin.tar.gz`]],
            ],
            [
                "debezium-mariadb",
                [["tgz", `${central}/debezium-connector-mariadb/3.5.0.Final/debezium-connector-mariadb-3.5.0.Final-plugin.tar.gz`]],
            ],
            [
                "debezium-jdbc-sink",
                [["tgz", `${central}/debezium-connector-jdbc/3.5.0.Final/debezium-connector-jdbc-3.5.0.Final-plugin.tar.gz`]],
            ],
        ]);
        for (const p of build.plugins) expect(p.artifacts[0].sha512sum).to.match(/^[0-9a-f]{128}$/);
    });

    it("falls back to a pinned Maven build for plugins without an archive (the Confluent sink)", () => {
        expect(buildArtifacts(CONNECTOR_PLUGINS["confluent-jdbc-sink"])).to.deep.equal([
            {
                type: "maven",
                group: "io.confluent",
                artifact: "kafka-connect-jdbc",
                version: "10.9.7",
                repository: "https://packages.confluent.io/maven/",
            },
        ]);
    });

    it("sizes the sink consumer's poll to the largest sink batch so batches are not capped", () => {
        const s = spec("dev", (raw) => (raw.pipelines[0].sink.batchSize = 5000));
        expect(workerConfig(s)["consumer.max.poll.records"]).to.equal("5000");
        expect(workerConfig(s)["connector.client.config.override.policy"]).to.equal("None");
    });

    it("ships JMX exporter rules for Connect and Debezium metrics", () => {
        const rules = parse(jmxExporterConfig()).rules as Array<{ pattern: string; name: string }>;
        expect(rules.map((r) => r.name)).to.include.members(["kafka_connect_connector_status", "debezium_metrics_$6"]);
        const debezium = new RegExp(`^${rules.find((r) => r.name === "debezium_metrics_$6")!.pattern}$`);
        const match = debezium.exec(
            "debezium.sql_server<type=connector-metrics, server=sqlserver, task=0, context=streaming, database=SalesDB><>MilliSecondsBehindSource",
        );
        expect(match?.slice(1)).to.deep.equal(["sql_server", "sqlserver", "0", "streaming", "SalesDB", "MilliSecondsBehindSource"]);
    });
});

describe("topic plan", () => {
    it("gives heartbeat, schema-change and DLQ topics their own retention and one partition", () => {
        const topics = new Map(planTopics(spec("prod")).map((t) => [t.name, t]));
        expect(topics.get("__debezium-heartbeat.sqlserver")).to.include({ partitions: 1, role: "heartbeat", replicationFactor: 3 });
        expect(topics.get("sqlserver")).to.include({ partitions: 1, role: "schema-changes" });
        expect(topics.get("dlq-postgresql-jdbc-sink")!.config["min.insync.replicas"]).to.equal("2");
    });

    it("applies per-pipeline replication overrides to that pipeline's topics only", () => {
        const s = spec("prod", (raw) => {
            raw.pipelines[0].topics.replicationFactor = 5;
            raw.pipelines[0].topics.minInsyncReplicas = 3;
        });
        for (const t of planTopics(s)) {
            expect(t.replicationFactor, t.name).to.equal(t.pipeline ? 5 : 3);
        }
    });

    it("drops the DLQ topic only when the pipeline has none", () => {
        const s = spec("dev", (raw) => {
            raw.pipelines[0].sink.deadLetterQueue = false;
            raw.pipelines[0].sink.errorsTolerance = "none";
        });
        expect(
            planTopics(s)
                .filter((t) => t.pipeline === "sales")
                .map((t) => t.role),
        ).to.not.include("dlq");
        expect(byName(s).get("postgresql-jdbc-sink")!.config).to.not.have.property("errors.deadletterqueue.topic.name");
    });
});
