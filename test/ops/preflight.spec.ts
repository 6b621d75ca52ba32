import { expect } from "chai";
import { parseStackSpec } from "../../plan/stack-spec";
import type { PipelineSpec, StackSpec } from "../../model/spec";
import {
    checkChangeCapture,
    checkSecrets,
    checkSignalTable,
    checkSourceTables,
    checkTarget,
    checkTopics,
    connectorSecretReferences,
    findingLine,
    MySqlSourceFacts,
    PostgresSourceFacts,
    SqlServerSourceFacts,
    TargetFacts,
    TopicFacts,
} from "../../ops/preflight-checks";
import {
    MYSQL_BINLOG_QUERY,
    mysqlTablesQuery,
    pgArray,
    postgresTablesQuery,
    sqlServerDatabasesQuery,
    sqlServerEnableTableSql,
    sqlServerTablesQuery,
} from "../../ops/preflight-sql";
import { enableTableScript } from "../../plan/sqlserver-source";
import { targetTableName } from "../../plan/postgres-target";
import { planTopics } from "../../plan/topics";
import { rawProjectConfig } from "../helpers/stack-files";

const devSpec = (edit?: (raw: Record<string, any>) => void): StackSpec => {
    const raw = rawProjectConfig("dev") as Record<string, any>;
    edit?.(raw);
    return parseStackSpec(raw).spec;
};
const pipelineOf = (spec: StackSpec, kind: string): [PipelineSpec, number] => {
    const i = spec.pipelines.findIndex((p) => p.source.kind === kind);
    return [spec.pipelines[i], i];
};

/** What a source that is ready for the pipeline looks like: every table with its declared key. */
function healthyPostgres(p: PipelineSpec): PostgresSourceFacts {
    return {
        kind: "postgres",
        tables: p.source.tables.map((t) => ({ schema: t.schema, table: t.table, exists: true, primaryKey: t.primaryKey, owned: true })),
        server: {
            walLevel: "logical",
            maxReplicationSlots: 10,
            usedReplicationSlots: 1,
            login: "cdc_reader",
            superuser: false,
            replication: true,
            canCreateInDatabase: true,
        },
        publication: null,
        slot: null,
        signalTableExists: true,
    };
}
function healthyMySql(p: PipelineSpec): MySqlSourceFacts {
    return {
        kind: "mysql",
        tables: p.source.tables.map((t) => ({ schema: t.database, table: t.table, exists: true, primaryKey: t.primaryKey })),
        binlog: { logBin: "1", binlogFormat: "ROW", binlogRowImage: "FULL" },
        signalTableExists: true,
    };
}
function healthySqlServer(p: PipelineSpec): SqlServerSourceFacts {
    return {
        kind: "sqlserver",
        databases: [...new Set(p.source.tables.map((t) => t.database))].map((name) => ({ name, exists: true, cdcEnabled: true })),
        tables: p.source.tables.map((t) => ({
            database: t.database,
            schema: t.schema,
            table: t.table,
            exists: true,
            primaryKey: t.primaryKey.map((c) => c.toLowerCase()),
            captureInstances: [`${t.schema}_${t.table}`],
        })),
        agentStatus: "Running",
    };
}
function healthyTarget(p: PipelineSpec): TargetFacts {
    return {
        schemas: [{ name: p.sink.schema, exists: true, canCreate: true }],
        tables: p.source.tables.map((t) => ({
            schema: p.sink.schema,
            table: targetTableName(p, t),
            exists: true,
            primaryKey: t.primaryKey,
        })),
    };
}

describe("cdc preflight: the decisions over gathered facts", () => {
    const spec = devSpec();
    const [pg, pgIndex] = pipelineOf(spec, "postgres");
    const [maria, mariaIndex] = pipelineOf(spec, "mariadb");
    const [mssql, mssqlIndex] = pipelineOf(spec, "sqlserver");

    it("finds nothing wrong with sources, targets, Secrets and topics that are as planned", () => {
        expect(checkSourceTables(pg, pgIndex, healthyPostgres(pg))).to.deep.equal([]);
        expect(checkChangeCapture(spec, pg, healthyPostgres(pg))).to.deep.equal([]);
        expect(checkSourceTables(maria, mariaIndex, healthyMySql(maria))).to.deep.equal([]);
        expect(checkChangeCapture(spec, maria, healthyMySql(maria))).to.deep.equal([]);
        expect(checkSourceTables(mssql, mssqlIndex, healthySqlServer(mssql))).to.deep.equal([]);
        expect(checkChangeCapture(spec, mssql, healthySqlServer(mssql))).to.deep.equal([]);
        expect(checkSignalTable(pg, healthyPostgres(pg))).to.deep.equal([]);
        expect(checkSignalTable(maria, healthyMySql(maria))).to.deep.equal([]);
        expect(checkSignalTable(mssql, healthySqlServer(mssql))).to.deep.equal([]);
        for (const [p, i] of [
            [pg, pgIndex],
            [maria, mariaIndex],
            [mssql, mssqlIndex],
        ] as const)
            expect(checkTarget(p, i, healthyTarget(p))).to.deep.equal([]);
        const topics = planTopics(spec);
        const actual = new Map<string, TopicFacts>(
            topics.map((t) => [
                t.name,
                {
                    partitions: t.partitions,
                    replicationFactor: t.replicationFactor,
                    configs: { ...t.config, "segment.bytes": "1073741824" },
                },
            ]),
        );
        expect(checkTopics(topics, actual)).to.deep.equal([]);
        const refs = connectorSecretReferences(spec);
        expect(checkSecrets(refs, new Set(refs.map((r) => `${r.secret}/${r.key}`)), "here", () => "")).to.deep.equal([]);
    });

    describe("1. source tables have the declared primary keys", () => {
        it("a table without a primary key, with the ALTER TABLE that adds the declared one", () => {
            const facts = healthyMySql(maria);
            facts.tables[0].primaryKey = [];
            const t = maria.source.tables[0];
            expect(checkSourceTables(maria, mariaIndex, facts).map(findingLine)).to.deep.equal([
                `inventory source ${t.database}.${t.table}: table has no primary key; its changes cannot be keyed, upserted or reconciled — fix: ALTER TABLE ${t.database}.${t.table} ADD PRIMARY KEY (${t.primaryKey.join(", ")}) (the key pipelines[${mariaIndex}].source.tables[0].primaryKey declares)`,
            ]);
        });

        it("a key other than the declared one, and a missing table, each naming its config path", () => {
            const facts = healthyPostgres(pg);
            facts.tables[0].primaryKey = ["email"];
            facts.tables[1].exists = false;
            expect(checkSourceTables(pg, pgIndex, facts)).to.deep.equal([
                {
                    check: "source-table",
                    subject: "shop source public.customers",
                    problem: "primary key (email) differs from the declared (customer_id)",
                    fix: `set pipelines[${pgIndex}].source.tables[0].primaryKey to [email], or change the table's key`,
                },
                {
                    check: "source-table",
                    subject: "shop source public.orders",
                    problem: "table does not exist",
                    fix: `create it, or remove it from pipelines[${pgIndex}].source.tables[1]`,
                },
            ]);
        });

        it("compares keys without regard to case (SQL Server reports them folded) but in key order", () => {
            const facts = healthySqlServer(mssql);
            const composite = mssql.source.tables.findIndex((t) => t.primaryKey.length > 1);
            facts.tables[composite].primaryKey = mssql.source.tables[composite].primaryKey.map((c) => c.toUpperCase());
            expect(checkSourceTables(mssql, mssqlIndex, facts)).to.deep.equal([]);
            facts.tables[composite].primaryKey = [...mssql.source.tables[composite].primaryKey].reverse();
            expect(checkSourceTables(mssql, mssqlIndex, facts)).to.have.length(1);
        });

        it("a SQL Server table is looked up in its own database", () => {
            const facts = healthySqlServer(mssql);
            facts.tables[0].database = "OtherDB";
            expect(checkSourceTables(mssql, mssqlIndex, facts).map((f) => f.problem)).to.deep.equal([
                `table does not exist in database ${mssql.source.tables[0].database}`,
            ]);
        });
    });

    describe("2. change capture", () => {
        it("PostgreSQL: wal_level, the REPLICATION attribute and a full slot table", () => {
            const facts = healthyPostgres(pg);
            facts.server.walLevel = "replica";
            facts.server.replication = false;
            facts.server.usedReplicationSlots = 10;
            expect(checkChangeCapture(spec, pg, facts).map((f) => f.problem)).to.deep.equal([
                "wal_level is replica; logical decoding needs logical",
                "login cdc_reader has no REPLICATION attribute",
                `replication slot ${(pg.source as { slotName: string }).slotName} does not exist and all 10 slots (max_replication_slots) are in use`,
            ]);
            facts.server.superuser = true;
            expect(checkChangeCapture(spec, pg, facts).map((f) => f.problem)).to.not.include(
                "login cdc_reader has no REPLICATION attribute",
            );
        });

        it("PostgreSQL: an existing slot of another plugin or database", () => {
            const facts = healthyPostgres(pg);
            facts.slot = { plugin: "wal2json", slotType: "logical", database: "other" };
            const problems = checkChangeCapture(spec, pg, facts).map((f) => f.problem);
            expect(problems).to.have.length(2);
            expect(problems[0]).to.match(/of plugin wal2json; the connector decodes with pgoutput$/);
            expect(problems[1]).to.match(/belongs to database other, not /);
            facts.slot = { plugin: "pgoutput", slotType: "logical", database: (pg.source as { database: string }).database };
            facts.server.usedReplicationSlots = 10;
            expect(checkChangeCapture(spec, pg, facts), "an existing slot needs no free one").to.deep.equal([]);
        });

        it("PostgreSQL: the publication filtered mode must create (CREATE, ownership) or alter (ownership, not FOR ALL TABLES)", () => {
            const source = pg.source as { publicationName: string };
            const facts = healthyPostgres(pg);
            facts.server.canCreateInDatabase = false;
            facts.tables[1].owned = false;
            expect(checkChangeCapture(spec, pg, facts).map((f) => f.problem)).to.deep.equal([
                `publication ${source.publicationName} does not exist and login cdc_reader may not create it (no CREATE on database ${(pg.source as { database: string }).database})`,
                `publication ${source.publicationName} does not exist and login cdc_reader does not own public.orders, which CREATE PUBLICATION … FOR TABLE needs`,
            ]);
            const existing = healthyPostgres(pg);
            existing.publication = { allTables: false, owned: false, tables: ["public.customers", "public.orders"] };
            expect(checkChangeCapture(spec, pg, existing).map((f) => f.fix)).to.deep.equal([
                `ALTER PUBLICATION ${source.publicationName} OWNER TO cdc_reader`,
            ]);
            existing.publication = { allTables: true, owned: true, tables: [] };
            expect(checkChangeCapture(spec, pg, existing).map((f) => f.problem)).to.deep.equal([
                `publication ${source.publicationName} is FOR ALL TABLES; with publication.autocreate.mode=filtered Debezium refuses to alter it`,
            ]);
        });

        it("the signal table: missing, or (PostgreSQL) left out of an existing publication, with the script that creates it", () => {
            const source = pg.source as { publicationName: string; signalTable: string };
            const missing = { ...healthyPostgres(pg), signalTableExists: false };
            const [gone] = checkSignalTable(pg, missing);
            expect(gone).to.include({
                check: "change-capture",
                subject: "shop source",
                problem: `the signal table ${source.signalTable} does not exist; incremental snapshots (cdc snapshot) need it for their watermarks`,
            });
            expect(gone.fix)
                .to.include("CREATE TABLE IF NOT EXISTS")
                .and.to.include("GRANT SELECT, INSERT")
                .and.not.include("\n")
                .and.not.include("--");

            const [schema, table] = source.signalTable.split(".");
            const published = healthyPostgres(pg);
            published.publication = { allTables: false, owned: true, tables: ["public.customers", `${schema}.${table}`] };
            expect(checkSignalTable(pg, published), "in the publication").to.deep.equal([]);
            published.publication.tables = ["public.customers", "public.orders"];
            const [outside] = checkSignalTable(pg, published);
            expect(outside.problem).to.equal(
                `the signal table ${source.signalTable} is not in the publication ${source.publicationName}; incremental snapshots (cdc snapshot) need it for their watermarks`,
            );
            expect(outside.fix).to.include(`ALTER PUBLICATION`);

            expect(checkSignalTable(maria, { ...healthyMySql(maria), signalTableExists: false }).map((f) => f.problem)).to.deep.equal([
                `the signal table ${maria.source.signalTable} does not exist; incremental snapshots (cdc snapshot) need it for their watermarks`,
            ]);
        });

        it("MySQL/MariaDB: the binary log on, in ROW format with FULL row images", () => {
            const facts = healthyMySql(maria);
            facts.binlog = { logBin: "0", binlogFormat: "MIXED", binlogRowImage: "MINIMAL" };
            expect(checkChangeCapture(spec, maria, facts).map(findingLine)).to.deep.equal([
                "inventory source: the binary log is off (log_bin) — fix: start the server with log_bin (and server_id) set",
                "inventory source: binlog_format is MIXED; Debezium reads row events only — fix: SET GLOBAL binlog_format = 'ROW' and set it in the server's config file",
                "inventory source: binlog_row_image is MINIMAL; change events would miss unchanged columns — fix: SET GLOBAL binlog_row_image = 'FULL' and set it in the server's config file",
            ]);
            expect(
                checkChangeCapture(spec, maria, { ...facts, binlog: { logBin: "ON", binlogFormat: "row", binlogRowImage: "full" } }),
            ).to.deep.equal([]);
        });

        it("SQL Server: CDC on the database, a capture instance per table, the Agent running", () => {
            const facts = healthySqlServer(mssql);
            const db = facts.databases[0].name;
            facts.databases[0].cdcEnabled = false;
            expect(checkChangeCapture(spec, mssql, facts).map(findingLine)).to.deep.equal([
                `sales source database ${db}: CDC is not enabled on the database — fix: pulumi up (the stack enables it), or as sysadmin: USE ${db}; EXEC sys.sp_cdc_enable_db`,
            ]);
            const tables = healthySqlServer(mssql);
            tables.tables[1].captureInstances = ["dbo_orders_old"];
            tables.agentStatus = "Stopped";
            const t = mssql.source.tables[1];
            expect(checkChangeCapture(spec, mssql, tables)).to.deep.equal([
                {
                    check: "change-capture",
                    subject: "sales source",
                    problem: "SQL Server Agent is Stopped; it runs the CDC capture and cleanup jobs",
                    fix: "start SQL Server Agent (the capture job reads the transaction log into the change tables)",
                },
                {
                    check: "change-capture",
                    subject: `sales source ${t.database}.${t.schema}.${t.table}`,
                    problem: `table is not captured (no capture instance ${t.schema}_${t.table}; it has dbo_orders_old)`,
                    fix: `pulumi up (the stack enables it), or in ${t.database}: ${sqlServerEnableTableSql(t, `${t.schema}_${t.table}`, spec.sqlserver.gatingRole)}`,
                },
            ]);
            expect(
                checkChangeCapture(spec, mssql, { ...healthySqlServer(mssql), agentStatus: null }),
                "unknown Agent state is not a finding",
            ).to.deep.equal([]);
        });
    });

    describe("3. target tables", () => {
        const noAutoCreate = devSpec((raw) => {
            const sink = raw.pipelines.find((p: any) => p.source.kind === "postgres").sink;
            sink.autoCreate = false;
            sink.autoEvolve = false;
        });
        const [fixed, fixedIndex] = pipelineOf(noAutoCreate, "postgres");

        it("without auto-create, a missing table and a mismatched key are problems", () => {
            const facts = healthyTarget(fixed);
            facts.tables[0].exists = false;
            facts.tables[1].primaryKey = ["customer_id"];
            const [first, second] = fixed.source.tables.map((t) => targetTableName(fixed, t));
            expect(checkTarget(fixed, fixedIndex, facts).map(findingLine)).to.deep.equal([
                `shop target ${fixed.sink.schema}.${first}: table does not exist and pipelines[${fixedIndex}].sink.autoCreate is off — fix: pulumi up (the stack creates it from source.tables[].columns), or CREATE TABLE ${fixed.sink.schema}.${first} (…, PRIMARY KEY (customer_id))`,
                `shop target ${fixed.sink.schema}.${second}: primary key (customer_id) differs from the sink's (order_id) — fix: ALTER TABLE ${fixed.sink.schema}.${second} DROP CONSTRAINT <its primary key>, ADD PRIMARY KEY (order_id)`,
            ]);
        });

        it("with auto-create, a missing table is fine, but the schema must exist and take new tables", () => {
            const facts = healthyTarget(pg);
            facts.tables[0].exists = false;
            expect(checkTarget(pg, pgIndex, facts)).to.deep.equal([]);
            facts.schemas[0].canCreate = false;
            expect(checkTarget(pg, pgIndex, facts).map((f) => f.fix)).to.deep.equal([
                `GRANT CREATE ON SCHEMA ${pg.sink.schema} TO ${pg.sink.username}, or set pipelines[${pgIndex}].sink.autoCreate: false and create the tables`,
            ]);
            facts.schemas[0].exists = false;
            expect(checkTarget(pg, pgIndex, facts).map((f) => f.problem)).to.deep.equal([
                `schema does not exist in database ${pg.sink.database}; the sink creates tables, not schemas`,
            ]);
        });

        it("an existing table without a primary key is a problem even with auto-create (the sink upserts by key)", () => {
            const facts = healthyTarget(pg);
            facts.tables[0].primaryKey = [];
            expect(checkTarget(pg, pgIndex, facts).map((f) => f.problem)).to.deep.equal([
                "table has no primary key; the sink upserts by (customer_id)",
            ]);
        });
    });

    describe("4. the Secrets the connectors reference", () => {
        it("are found by rendering the connectors: a username and a password per source and per sink", () => {
            const refs = connectorSecretReferences(spec);
            for (const p of spec.pipelines) {
                for (const [connector, secret] of [
                    [p.source.connectorName, `${p.name}-source-db`],
                    [p.sink.connectorName, `${p.name}-target-db`],
                ]) {
                    expect(refs.filter((r) => r.connector === connector).map((r) => `${r.secret}/${r.key}`)).to.have.members([
                        `${secret}/username`,
                        `${secret}/password`,
                    ]);
                }
            }
        });

        it("one finding per missing key, naming every connector that needs it and the fix for where they are kept", () => {
            const refs = connectorSecretReferences(spec);
            const present = new Set(refs.map((r) => `${r.secret}/${r.key}`));
            present.delete("shop-source-db/password");
            expect(checkSecrets(refs, present, "/tmp/secrets", (s, k) => `restore /tmp/secrets/${s}/${k}`).map(findingLine)).to.deep.equal([
                `Secret shop-source-db key password: missing in /tmp/secrets; ${pg.source.connectorName} cannot resolve it and will fail at start — fix: restore /tmp/secrets/shop-source-db/password`,
            ]);
        });
    });

    describe("topics", () => {
        it("missing, fewer partitions, other replication and other configs each get their fix", () => {
            const topics = planTopics(spec).filter((t) => t.pipeline === "shop");
            const [a, b, c] = topics;
            const actual = new Map<string, TopicFacts | undefined>(
                topics.map((t) => [t.name, { partitions: t.partitions, replicationFactor: t.replicationFactor, configs: { ...t.config } }]),
            );
            actual.set(a.name, undefined);
            actual.set(b.name, { partitions: b.partitions + 2, replicationFactor: b.replicationFactor + 1, configs: { ...b.config } });
            actual.set(c.name, {
                partitions: c.partitions,
                replicationFactor: c.replicationFactor,
                configs: { ...c.config, "cleanup.policy": "compact" },
            });
            const found = checkTopics(topics, actual);
            expect(found.map((f) => `${f.subject}: ${f.problem}`)).to.deep.equal([
                `topic ${a.name}: does not exist`,
                `topic ${b.name}: has ${b.partitions + 2} partitions, planned ${b.partitions}`,
                `topic ${b.name}: has replication factor ${b.replicationFactor + 1}, planned ${b.replicationFactor}`,
                `topic ${c.name}: cleanup.policy is compact, planned ${c.config["cleanup.policy"]}`,
            ]);
            expect(found[0].fix).to.include(`kafka-topics.sh --create --topic ${a.name} --partitions ${a.partitions}`);
            expect(found[1].fix).to.match(/^partitions cannot shrink/);
            expect(found[3].fix).to.match(
                new RegExp(`--entity-name ${c.name.replace(/\./g, "\\.")} --add-config cleanup.policy=${c.config["cleanup.policy"]}$`),
            );
        });
    });
});

describe("cdc preflight: the catalog queries", () => {
    /** `$n`, `?` or `@pn` placeholders must match the parameters one to one. */
    const placeholders = (sql: string, style: "pg" | "mysql" | "mssql") =>
        style === "mysql" ? (sql.match(/\?/g) ?? []).length : new Set(sql.match(style === "pg" ? /\$\d+/g : /@p\d+/g)).size;

    it("pass every name as a parameter, never in the SQL text", () => {
        const evil = { schema: "x'; DROP TABLE t; --", table: 'y"z' };
        const queries = [
            [postgresTablesQuery([evil, { schema: "public", table: "orders" }]), "pg"],
            [mysqlTablesQuery("inv'db", ["a", "b'c"]), "mysql"],
            [sqlServerDatabasesQuery(["SalesDB", "O'Brien"]), "mssql"],
            [sqlServerTablesQuery([evil, { schema: "dbo", table: "orders" }], true), "mssql"],
        ] as const;
        for (const [q, style] of queries) {
            expect(q.sql).to.not.include("DROP TABLE").and.not.include("O'Brien").and.not.include("b'c");
            expect(placeholders(q.sql, style), q.sql).to.equal(style === "pg" ? 2 : q.params.length);
        }
        expect(sqlServerTablesQuery([evil], true).params).to.deep.equal([evil.schema, evil.table]);
    });

    it("PostgreSQL array parameters survive commas, quotes and backslashes", () => {
        expect(pgArray(["a,b", 'c"d', "e\\f"])).to.equal('{"a,b","c\\"d","e\\\\f"}');
        expect(postgresTablesQuery([{ schema: "public", table: "orders" }]).params).to.deep.equal(['{"public"}', '{"orders"}']);
    });

    it("SQL Server reads capture instances only when the database has CDC (cdc.change_tables exists only then)", () => {
        expect(sqlServerTablesQuery([{ schema: "dbo", table: "orders" }], true).sql).to.include(
            "FROM cdc.change_tables ct WHERE ct.source_object_id = t.object_id",
        );
        expect(sqlServerTablesQuery([{ schema: "dbo", table: "orders" }], false).sql).to.not.include("cdc.");
        expect(sqlServerDatabasesQuery(["SalesDB"]).sql).to.match(/LEFT JOIN sys\.databases d ON d\.name = w\.name/);
        expect(sqlServerTablesQuery([{ schema: "dbo", table: "orders" }], false).sql).to.match(
            /i\.is_primary_key = 1\s+ORDER BY ic\.key_ordinal/,
        );
    });

    it("the SQL Server fix enables capture exactly as the stack's own script does", () => {
        const spec = devSpec();
        const [mssql] = pipelineOf(spec, "sqlserver");
        const t = mssql.source.tables[0];
        const mine = sqlServerEnableTableSql(t, `${t.schema}_${t.table}`, spec.sqlserver.gatingRole);
        const stack = enableTableScript(t, spec.sqlserver.gatingRole).updateScript;
        for (const arg of mine.replace("EXEC sys.sp_cdc_enable_table ", "").split(", ")) expect(stack).to.include(arg);
    });

    it("MySQL/MariaDB binlog settings are read as globals", () => {
        expect(MYSQL_BINLOG_QUERY.sql).to.equal(
            "SELECT @@GLOBAL.log_bin AS log_bin, @@GLOBAL.binlog_format AS binlog_format, @@GLOBAL.binlog_row_image AS binlog_row_image",
        );
    });
});
