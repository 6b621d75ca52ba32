/**
 * Incremental snapshots on request: the signal table each source gets (its SQL per engine, SQL Server's scripts),
 * the signal and notification options rendered into every source connector, their topics and the config key.
 * The options' names and values are also checked against the connectors' real catalogs (test/contracts/) and,
 * for PostgreSQL and MariaDB, run against real servers and a real Connect worker (test/e2e/ops-snapshot.spec.ts).
 */
import { expect } from "chai";
import { parseStackSpec } from "../plan/stack-spec";
import type { MySqlSourceSpec, PostgresSourceSpec, SourceSpec, StackSpec } from "../model/spec";
import { renderConnectors } from "../connectors/render";
import { clusterConnectorContext } from "../plan/connect-cluster";
import { planTopics } from "../plan/topics";
import { planSqlServerSources } from "../plan/sqlserver-source";
import { mysqlSignalTableDdl, postgresSignalTableDdl, signalTableGrant, signalTableScript } from "../plan/signal-table";
import { signalDataCollections, signalTableTopics } from "../model/signal-table";
import { issuesOf, Raw, shippedRaw } from "./helpers/config-problems";

const specOf = (raw: Raw): StackSpec => parseStackSpec(raw).spec;

/** The prod stack with a PostgreSQL and a MariaDB pipeline added, and its SQL Server source capturing two databases. */
function everyKind(edit?: (raw: Raw) => void): StackSpec {
    const raw = shippedRaw("prod");
    raw.pipelines[0].source.databases = ["SalesDB", "ArchiveDB"];
    raw.pipelines[0].source.tables.push({ name: "dbo.invoices", database: "ArchiveDB", primaryKey: ["invoice_id"] });
    for (const t of raw.pipelines[0].source.tables) t.database ??= "SalesDB";
    raw.pipelines.push(
        {
            name: "shop",
            source: {
                kind: "postgres",
                host: "shop-db",
                database: "shop",
                tables: [{ name: "public.customers", primaryKey: ["customer_id"] }],
            },
            sink: { host: "warehouse", database: "warehouse", schema: "shop" },
        },
        {
            name: "inventory",
            source: {
                kind: "mariadb",
                host: "inventory-db",
                database: "inventory",
                tables: [{ name: "inventory.products", primaryKey: ["product_id"] }],
            },
            sink: { host: "warehouse", database: "warehouse", schema: "inventory" },
        },
    );
    edit?.(raw);
    return specOf(raw);
}

const source = (spec: StackSpec, pipeline: string): SourceSpec => spec.pipelines.find((p) => p.name === pipeline)!.source;

describe("signal table: config", () => {
    it("defaults to debezium_signal in the engine's default schema, MySQL and MariaDB in the captured database", () => {
        const spec = everyKind();
        expect(["sales", "shop", "inventory"].map((p) => source(spec, p).signalTable)).to.deep.equal([
            "dbo.debezium_signal",
            "public.debezium_signal",
            "inventory.debezium_signal",
        ]);
    });

    it("takes source.signalTable as written", () => {
        const spec = everyKind((raw) => (raw.pipelines[1].source.signalTable = "ops.cdc_signals"));
        expect(source(spec, "shop").signalTable).to.equal("ops.cdc_signals");
    });

    it("refuses a name that is not schema.table, and a MariaDB signal table outside the captured database", () => {
        const raw = shippedRaw("dev");
        const shop = raw.pipelines.findIndex((p: Raw) => p.name === "shop");
        const inventory = raw.pipelines.findIndex((p: Raw) => p.name === "inventory");
        raw.pipelines[shop].source.signalTable = "debezium_signal";
        raw.pipelines[inventory].source.signalTable = "other.debezium_signal";
        expect(issuesOf(raw)).to.include.members([
            `pipelines.${shop}.source.signalTable: "debezium_signal" must be schema.table (e.g. public.debezium_signal)`,
            `pipelines.${inventory}.source.signalTable: "other.debezium_signal" must be in the captured database: write inventory.debezium_signal`,
        ]);
    });
});

describe("signal table: SQL for PostgreSQL, MySQL and MariaDB (run by the database owner)", () => {
    const spec = everyKind();
    const shop = source(spec, "shop") as PostgresSourceSpec;
    const inventory = source(spec, "inventory") as MySqlSourceSpec;

    it("creates Debezium's three-column table and puts it in an existing publication, idempotently", () => {
        expect(postgresSignalTableDdl(shop)).to.equal(
            [
                'CREATE TABLE IF NOT EXISTS "public"."debezium_signal" (',
                "    id VARCHAR(42) NOT NULL,",
                "    type VARCHAR(32) NOT NULL,",
                "    data VARCHAR(2048) NULL,",
                "    PRIMARY KEY (id)",
                ");",
                "DO $$",
                "BEGIN",
                "    IF EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'shop_postgres_source_pub')",
                "       AND NOT EXISTS (SELECT 1 FROM pg_publication_tables WHERE pubname = 'shop_postgres_source_pub'",
                "                       AND schemaname = 'public' AND tablename = 'debezium_signal') THEN",
                '        ALTER PUBLICATION "shop_postgres_source_pub" ADD TABLE "public"."debezium_signal";',
                "    END IF;",
                "END $$;",
            ].join("\n"),
        );
        expect(signalTableGrant(shop)).to.equal('GRANT SELECT, INSERT ON "public"."debezium_signal" TO "cdc_reader";');
    });

    it("creates the MariaDB table in the captured database and grants the connector's login", () => {
        expect(mysqlSignalTableDdl(inventory)).to.equal(
            [
                "CREATE TABLE IF NOT EXISTS `inventory`.`debezium_signal` (",
                "    id VARCHAR(42) NOT NULL,",
                "    type VARCHAR(32) NOT NULL,",
                "    data VARCHAR(2048) NULL,",
                "    PRIMARY KEY (id)",
                ");",
            ].join("\n"),
        );
        expect(signalTableGrant(inventory)).to.equal("GRANT SELECT, INSERT ON `inventory`.`debezium_signal` TO 'cdc_reader'@'%';");
    });

    it("quotes names, so a configured name cannot end the statement", () => {
        const odd = { ...shop, signalTable: 'public.x"; DROP TABLE y; --', publicationName: "p'q" };
        expect(postgresSignalTableDdl(odd)).to.contain('"public"."x""; DROP TABLE y; --"').and.contain("pubname = 'p''q'");
    });

    it("says in the script where and as whom to run it", () => {
        const script = signalTableScript("shop", shop);
        expect(script.split("\n").slice(0, 2)).to.deep.equal([
            "-- Debezium signal table of pipeline shop (source.signalTable public.debezium_signal), for `cdc snapshot`.",
            "-- Run once on shop-db:5432/shop as the captured tables' owner; safe to run again.",
        ]);
        expect(script).to.contain(postgresSignalTableDdl(shop)).and.contain(signalTableGrant(shop));
    });
});

describe("signal table: SQL Server (the stack creates it)", () => {
    const spec = everyKind();
    const [server] = planSqlServerSources(spec);

    it("creates the table in every captured database, captures it gated like the tables and lets the reader insert", () => {
        for (const db of server.databases) {
            const keys = db.scripts.map((s) => s.key);
            expect(keys, db.database).to.include.members([
                "signal-table-dbo.debezium_signal",
                "cdc-table-dbo.debezium_signal",
                "grant-select-cdc_reader-dbo.debezium_signal",
                "grant-insert-cdc_reader-dbo.debezium_signal",
            ]);
            const capture = db.scripts.find((s) => s.key === "cdc-table-dbo.debezium_signal")!;
            expect(capture.state).to.deep.equal({
                primary_key: "id",
                capture_instance: "dbo_debezium_signal",
                role_name: "cdc_gate",
                supports_net_changes: "0",
            });
        }
        expect(server.databases.map((d) => d.database)).to.deep.equal(["ArchiveDB", "SalesDB"]);
    });

    it("creates the table only when missing, and refuses one of that name with other columns", () => {
        const create = server.databases[0].scripts.find((s) => s.key === "signal-table-dbo.debezium_signal")!;
        expect(create.state).to.deep.equal({ signal_columns: "id,type,data" });
        expect(create.readScript).to.contain("FROM sys.columns c").and.contain("ORDER BY c.column_id").and.contain("AS signal_columns");
        expect(create.updateScript).to.equal(
            [
                "IF OBJECT_ID(N'[dbo].[debezium_signal]') IS NULL",
                "    CREATE TABLE [dbo].[debezium_signal] (",
                "        [id] VARCHAR(42) NOT NULL,",
                "        [type] VARCHAR(32) NOT NULL,",
                "        [data] VARCHAR(2048) NULL,",
                "        CONSTRAINT [PK_debezium_signal] PRIMARY KEY ([id])",
                "    );",
                "ELSE",
                "    THROW 50005, N'CDC: dbo.debezium_signal exists with other columns than Debezium''s signal table (id,type,data); drop or rename it, or set source.signalTable to another name', 1;",
            ].join("\n"),
        );
        expect(create.deleteScript).to.equal(undefined);
    });
});

describe("signal and notification options of every source connector", () => {
    const spec = everyKind();
    const connectors = renderConnectors(spec, clusterConnectorContext(spec)).filter((c) => c.role === "source");
    const topics = planTopics(spec);

    it("names the signal table per Debezium's data collection form: SQL Server one per captured database", () => {
        expect(connectors.map((c) => [c.name, c.config["signal.data.collection"]])).to.deep.equal([
            ["sqlserver-cdc-source", "SalesDB.dbo.debezium_signal,ArchiveDB.dbo.debezium_signal"],
            ["shop-postgres-source", "public.debezium_signal"],
            ["inventory-mariadb-source", "inventory.debezium_signal"],
        ]);
        expect(signalDataCollections(source(spec, "shop"))).to.deep.equal(["public.debezium_signal"]);
    });

    it("keeps the source channel (watermarks) and adds the Kafka channel on the planned one-partition signal topic", () => {
        for (const c of connectors) {
            const pipeline = spec.pipelines.find((p) => p.name === c.pipeline)!;
            expect(c.config["signal.enabled.channels"], c.name).to.equal("source,kafka");
            const signal = topics.find((t) => t.name === c.config["signal.kafka.topic"] && t.role === "signal");
            expect(signal, c.name).to.deep.include({
                name: `__debezium-signal.${pipeline.source.topicPrefix}`,
                partitions: 1,
                replicationFactor: 3,
            });
            expect(c.config["signal.kafka.bootstrap.servers"]).to.equal(spec.kafka.bootstrapServers);
            expect(c.config["signal.kafka.groupId"]).to.equal(`${pipeline.source.topicPrefix}-signal`);
            expect(c.config["signal.kafka.poll.timeout.ms"]).to.equal("100");
            expect(c.config["incremental.snapshot.watermarking.strategy"]).to.equal("insert_insert");
        }
    });

    it("gives the signal consumer the workers' Kafka security through the config provider, never a plain secret", () => {
        for (const c of connectors) {
            expect(c.config["signal.consumer.security.protocol"], c.name).to.equal("SASL_SSL");
            expect(c.config["signal.consumer.sasl.mechanism"]).to.equal("SCRAM-SHA-512");
            expect(c.config["signal.consumer.ssl.truststore.type"]).to.equal("PEM");
            expect(c.config["signal.consumer.sasl.jaas.config"]).to.match(/password="\$\{secrets:cdc\/[^:]+:password\}";$/);
            // The same settings as the schema history consumer of sources that keep one.
            const history = Object.entries(c.config).filter(([k]) => k.startsWith("schema.history.internal.consumer."));
            for (const [k, v] of history)
                expect(c.config[k.replace("schema.history.internal.consumer.", "signal.consumer.")], k).to.equal(v);
        }
    });

    it("reports progress to the planned notification topic through the sink channel", () => {
        for (const c of connectors) {
            expect(c.config["notification.enabled.channels"], c.name).to.equal("sink");
            const notification = topics.find((t) => t.name === c.config["notification.sink.topic.name"]);
            expect(notification?.role, c.name).to.equal("notification");
            expect(notification?.partitions).to.equal(1);
        }
    });

    it("drops the signal table's own change events, and only them, before they reach an unplanned topic", () => {
        for (const c of connectors) {
            const src = spec.pipelines.find((p) => p.name === c.pipeline)!.source;
            expect(c.config.transforms, c.name).to.equal("dropSignalTableEvents");
            expect(c.config["transforms.dropSignalTableEvents.type"]).to.equal("org.apache.kafka.connect.transforms.Filter");
            expect(c.config["transforms.dropSignalTableEvents.predicate"]).to.equal("isSignalTable");
            expect(c.config["predicates.isSignalTable.type"]).to.equal("org.apache.kafka.connect.transforms.predicates.TopicNameMatches");
            // TopicNameMatches matches the whole name (Java's Matcher.matches); JavaScript needs the anchors spelled out.
            const pattern = new RegExp(`^(?:${c.config["predicates.isSignalTable.pattern"]})$`);
            const signalTopics = signalTableTopics(src);
            for (const t of signalTopics) expect(pattern.test(t), t).to.equal(true);
            for (const t of topics.filter((t) => t.pipeline === c.pipeline)) expect(pattern.test(t.name), t.name).to.equal(false);
            // The dots are literal: a table named like the signal table with another character in place of a dot is kept.
            for (const t of signalTopics) expect(pattern.test(t.replace(/\.(?=[^.]*$)/, "x")), t).to.equal(false);
        }
        expect(signalTableTopics(source(spec, "sales"))).to.deep.equal([
            "sqlserver.SalesDB.dbo.debezium_signal",
            "sqlserver.ArchiveDB.dbo.debezium_signal",
        ]);
        expect(signalTableTopics(source(spec, "inventory"))).to.deep.equal(["inventory.inventory.debezium_signal"]);
    });
});
