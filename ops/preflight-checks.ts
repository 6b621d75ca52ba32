/**
 * Pre-replication validation (seed 000, "Pre-Replication Validation" 1–4, plus the topics) as pure
 * decisions: facts gathered from the databases, the Secrets and Kafka go in, one finding per problem with
 * its fix comes out. Gathering is elsewhere (ops/preflight-gather.ts), so every rule here is unit-tested
 * over rows, including SQL Server's, which never ran against a server here.
 */
import { renderConnectors } from "../connectors/render";
import { isMySqlFamily } from "../model/options";
import type { PipelineSpec, PostgresSourceSpec, SqlServerSourceSpec, StackSpec, TableSpec } from "../model/spec";
import { captureInstanceName } from "../model/naming";
import { targetTableName } from "../plan/postgres-target";
import type { TopicSpec } from "../plan/topics";
import { sqlServerEnableTableSql } from "./preflight-sql";
import { signalTableFix, signalTableProblem } from "./signal-table";

export type CheckName = "source-table" | "change-capture" | "target-table" | "secret" | "topic";

export interface Finding {
    check: CheckName;
    /** What the finding is about: `shop source public.orders`, `topic shop.public.orders`. */
    subject: string;
    problem: string;
    fix: string;
}

/** A check that could not run (a database, Kafka or kubectl out of reach): neither passed nor failed. */
export interface Unchecked {
    check: CheckName;
    subject: string;
    reason: string;
    fix: string;
}

export interface TableFacts {
    schema: string;
    table: string;
    exists: boolean;
    /** Column names in key order; empty when the table has no primary key. */
    primaryKey: string[];
    /** PostgreSQL: the login owns the table (or is a member of its owner role). */
    owned?: boolean;
    /** SQL Server: the table's capture instances. */
    captureInstances?: string[];
}

export interface PostgresSourceFacts {
    kind: "postgres";
    tables: TableFacts[];
    server: {
        walLevel: string;
        maxReplicationSlots: number;
        usedReplicationSlots: number;
        login: string;
        superuser: boolean;
        replication: boolean;
        canCreateInDatabase: boolean;
    };
    /** null: no publication of that name. */
    publication: { allTables: boolean; owned: boolean; tables: string[] } | null;
    /** null: no slot of that name. */
    slot: { plugin: string; slotType: string; database: string } | null;
    /** Whether `source.signalTable` exists (its publication membership is read from `publication`). */
    signalTableExists: boolean;
}

export interface MySqlSourceFacts {
    kind: "mysql";
    tables: TableFacts[];
    binlog: { logBin: string; binlogFormat: string; binlogRowImage: string };
    signalTableExists: boolean;
}

export interface SqlServerSourceFacts {
    kind: "sqlserver";
    databases: { name: string; exists: boolean; cdcEnabled: boolean }[];
    tables: (TableFacts & { database: string })[];
    /** sys.dm_server_services' status of SQL Server Agent; null when the login may not see it. */
    agentStatus: string | null;
}

export type SourceFacts = PostgresSourceFacts | MySqlSourceFacts | SqlServerSourceFacts;

export interface TargetFacts {
    schemas: { name: string; exists: boolean; canCreate: boolean }[];
    tables: TableFacts[];
}

/** A topic as the broker describes it; undefined in the map: the topic does not exist. */
export interface TopicFacts {
    partitions: number;
    replicationFactor: number;
    configs: Record<string, string>;
}

const fold = (names: readonly string[]) => names.map((n) => n.toLowerCase()).join(",");
const list = (names: readonly string[]) => names.join(", ");

/** Where a captured table is declared, as the config errors spell paths. */
const tablePath = (pipelineIndex: number, tableIndex: number) => `pipelines[${pipelineIndex}].source.tables[${tableIndex}]`;

/** `schema.table` as the source names it (MySQL/MariaDB: `database.table`). */
export function sourceTableName(pipeline: PipelineSpec, t: TableSpec): string {
    return `${isMySqlFamily(pipeline.source.kind) ? t.database : t.schema}.${t.table}`;
}

function findTable(facts: readonly TableFacts[], schema: string, table: string): TableFacts | undefined {
    return facts.find((f) => f.schema.toLowerCase() === schema.toLowerCase() && f.table.toLowerCase() === table.toLowerCase());
}

/** Item 1: every captured table exists and has the primary key the stack declares for it. */
export function checkSourceTables(pipeline: PipelineSpec, index: number, facts: SourceFacts): Finding[] {
    const out: Finding[] = [];
    pipeline.source.tables.forEach((t, i) => {
        const name = sourceTableName(pipeline, t);
        const schema = isMySqlFamily(pipeline.source.kind) ? t.database : t.schema;
        const where = facts.kind === "sqlserver" ? ` in database ${t.database}` : "";
        const found =
            facts.kind === "sqlserver"
                ? facts.tables.find((f) => f.database.toLowerCase() === t.database.toLowerCase() && findTable([f], t.schema, t.table))
                : findTable(facts.tables, schema, t.table);
        const subject = `${pipeline.name} source ${name}`;
        if (!found?.exists) {
            out.push({
                check: "source-table",
                subject,
                problem: `table does not exist${where}`,
                fix: `create it, or remove it from ${tablePath(index, i)}`,
            });
        } else if (found.primaryKey.length === 0) {
            out.push({
                check: "source-table",
                subject,
                problem: "table has no primary key; its changes cannot be keyed, upserted or reconciled",
                fix: `ALTER TABLE ${name} ADD PRIMARY KEY (${list(t.primaryKey)}) (the key ${tablePath(index, i)}.primaryKey declares)`,
            });
        } else if (fold(found.primaryKey) !== fold(t.primaryKey)) {
            out.push({
                check: "source-table",
                subject,
                problem: `primary key (${list(found.primaryKey)}) differs from the declared (${list(t.primaryKey)})`,
                fix: `set ${tablePath(index, i)}.primaryKey to [${list(found.primaryKey)}], or change the table's key`,
            });
        }
    });
    return out;
}

type FindingOf = (problem: string, fix: string, about?: string) => Finding;

/** Item 2: the source's change capture is on, or the connector's login can turn it on, the way the rendered config asks. */
export function checkChangeCapture(spec: StackSpec, pipeline: PipelineSpec, facts: SourceFacts): Finding[] {
    const subject = `${pipeline.name} source`;
    const finding: FindingOf = (problem, fix, about = subject) => ({ check: "change-capture", subject: about, problem, fix });
    const source = pipeline.source;
    switch (facts.kind) {
        case "postgres":
            if (source.kind !== "postgres") return [];
            return [...postgresServerFindings(source, facts, finding), ...postgresPublicationFindings(source, facts, finding)];
        case "mysql":
            return binlogFindings(facts, finding);
        case "sqlserver":
            if (source.kind !== "sqlserver") return [];
            return sqlServerCaptureFindings(spec, pipeline, source, facts, finding);
    }
}

/** PostgreSQL: logical decoding on, the login may replicate, and the slot is the connector's or one can be made. */
function postgresServerFindings(source: PostgresSourceSpec, facts: PostgresSourceFacts, finding: FindingOf): Finding[] {
    const out: Finding[] = [];
    const s = facts.server;
    if (s.walLevel !== "logical")
        out.push(
            finding(
                `wal_level is ${s.walLevel}; logical decoding needs logical`,
                "ALTER SYSTEM SET wal_level = logical, then restart PostgreSQL",
            ),
        );
    if (!s.superuser && !s.replication)
        out.push(finding(`login ${s.login} has no REPLICATION attribute`, `ALTER ROLE ${s.login} WITH REPLICATION`));
    const slot = `replication slot ${source.slotName}`;
    if (facts.slot) {
        if (facts.slot.plugin !== "pgoutput" || facts.slot.slotType !== "logical")
            out.push(
                finding(
                    `${slot} is a ${facts.slot.slotType} slot of plugin ${facts.slot.plugin}; the connector decodes with pgoutput`,
                    `SELECT pg_drop_replication_slot('${source.slotName}') once nothing consumes it (the connector re-creates it and snapshots as configured), or set source.slotName`,
                ),
            );
        if (facts.slot.database !== source.database)
            out.push(
                finding(
                    `${slot} belongs to database ${facts.slot.database}, not ${source.database}`,
                    "set source.slotName to a slot name unused on this server",
                ),
            );
    } else if (s.usedReplicationSlots >= s.maxReplicationSlots) {
        out.push(
            finding(
                `${slot} does not exist and all ${s.maxReplicationSlots} slots (max_replication_slots) are in use`,
                "raise max_replication_slots (restart needed) or drop an unused slot",
            ),
        );
    }
    return out;
}

/** PostgreSQL: the publication Debezium creates or alters can be created or altered by the connector's login. */
function postgresPublicationFindings(source: PostgresSourceSpec, facts: PostgresSourceFacts, finding: FindingOf): Finding[] {
    const out: Finding[] = [];
    const s = facts.server;
    // publication.autocreate.mode=filtered (connectors/sources.ts): Debezium creates the publication FOR TABLE the
    // include list when it is missing and runs ALTER PUBLICATION … SET TABLE on it at every start otherwise.
    const publication = `publication ${source.publicationName}`;
    const captured = source.tables.map((t) => `${t.schema}.${t.table}`);
    if (facts.publication === null) {
        if (!s.superuser && !s.canCreateInDatabase)
            out.push(
                finding(
                    `${publication} does not exist and login ${s.login} may not create it (no CREATE on database ${source.database})`,
                    `GRANT CREATE ON DATABASE ${source.database} TO ${s.login}, or create it: CREATE PUBLICATION ${source.publicationName} FOR TABLE ${list(captured)}`,
                ),
            );
        const notOwned = facts.tables.filter((t) => t.exists && !t.owned).map((t) => `${t.schema}.${t.table}`);
        if (!s.superuser && notOwned.length > 0)
            out.push(
                finding(
                    `${publication} does not exist and login ${s.login} does not own ${list(notOwned)}, which CREATE PUBLICATION … FOR TABLE needs`,
                    `create it as the tables' owner: CREATE PUBLICATION ${source.publicationName} FOR TABLE ${list(captured)}; then ALTER PUBLICATION ${source.publicationName} OWNER TO ${s.login}`,
                ),
            );
    } else {
        if (facts.publication.allTables)
            out.push(
                finding(
                    `${publication} is FOR ALL TABLES; with publication.autocreate.mode=filtered Debezium refuses to alter it`,
                    `DROP PUBLICATION ${source.publicationName} (the connector re-creates it for the captured tables)`,
                ),
            );
        else if (!s.superuser && !facts.publication.owned)
            out.push(
                finding(
                    `${publication} is not owned by login ${s.login}, and the connector alters it to the captured tables at every start`,
                    `ALTER PUBLICATION ${source.publicationName} OWNER TO ${s.login}`,
                ),
            );
    }
    return out;
}

/** MySQL/MariaDB: the binary log on, in ROW format with FULL row images. */
function binlogFindings(facts: MySqlSourceFacts, finding: FindingOf): Finding[] {
    const out: Finding[] = [];
    const b = facts.binlog;
    if (!["1", "ON"].includes(b.logBin.toUpperCase()))
        out.push(finding("the binary log is off (log_bin)", "start the server with log_bin (and server_id) set"));
    if (b.binlogFormat.toUpperCase() !== "ROW")
        out.push(
            finding(
                `binlog_format is ${b.binlogFormat}; Debezium reads row events only`,
                "SET GLOBAL binlog_format = 'ROW' and set it in the server's config file",
            ),
        );
    if (b.binlogRowImage.toUpperCase() !== "FULL")
        out.push(
            finding(
                `binlog_row_image is ${b.binlogRowImage}; change events would miss unchanged columns`,
                "SET GLOBAL binlog_row_image = 'FULL' and set it in the server's config file",
            ),
        );
    return out;
}

/** SQL Server: the Agent running, CDC on every database, a capture instance per captured table. */
function sqlServerCaptureFindings(
    spec: StackSpec,
    pipeline: PipelineSpec,
    source: SqlServerSourceSpec,
    facts: SqlServerSourceFacts,
    finding: FindingOf,
): Finding[] {
    const out: Finding[] = [];
    if (facts.agentStatus !== null && facts.agentStatus !== "Running")
        out.push(
            finding(
                `SQL Server Agent is ${facts.agentStatus}; it runs the CDC capture and cleanup jobs`,
                "start SQL Server Agent (the capture job reads the transaction log into the change tables)",
            ),
        );
    for (const db of facts.databases) {
        const about = `${pipeline.name} source database ${db.name}`;
        if (!db.exists) out.push(finding("database does not exist", `create it, or correct source.databases`, about));
        else if (!db.cdcEnabled)
            out.push(
                finding(
                    "CDC is not enabled on the database",
                    `pulumi up (the stack enables it), or as sysadmin: USE ${db.name}; EXEC sys.sp_cdc_enable_db`,
                    about,
                ),
            );
    }
    const enabled = new Set(facts.databases.filter((d) => d.cdcEnabled).map((d) => d.name.toLowerCase()));
    for (const t of source.tables) {
        const found = facts.tables.find((f) => f.database.toLowerCase() === t.database.toLowerCase() && findTable([f], t.schema, t.table));
        if (!found?.exists || !enabled.has(t.database.toLowerCase())) continue;
        const instance = captureInstanceName(t);
        if (!(found.captureInstances ?? []).some((c) => c.toLowerCase() === instance.toLowerCase()))
            out.push(
                finding(
                    `table is not captured (no capture instance ${instance}${found.captureInstances?.length ? `; it has ${list(found.captureInstances)}` : ""})`,
                    `pulumi up (the stack enables it), or in ${t.database}: ${sqlServerEnableTableSql(t, instance, spec.sqlserver.gatingRole)}`,
                    `${pipeline.name} source ${t.database}.${t.schema}.${t.table}`,
                ),
            );
    }
    return out;
}

/**
 * The signal table `cdc snapshot` needs exists, and on PostgreSQL is in the publication once the publication exists
 * (a first start creates the publication with it). SQL Server's are the stack's: its capture scripts create them.
 */
export function checkSignalTable(pipeline: PipelineSpec, facts: SourceFacts): Finding[] {
    if (facts.kind === "sqlserver") return [];
    const publication = facts.kind === "postgres" ? (facts.publication?.tables ?? undefined) : undefined;
    const problem = signalTableProblem(pipeline.source, { exists: facts.signalTableExists, publication });
    if (!problem) return [];
    return [
        {
            check: "change-capture",
            subject: `${pipeline.name} source`,
            problem: `${problem}; incremental snapshots (cdc snapshot) need it for their watermarks`,
            // One line: the script's comment lines go, since on one line they would comment out what follows them.
            fix: signalTableFix(pipeline.name, pipeline.source)
                .split("\n")
                .filter((l) => !l.trimStart().startsWith("--"))
                .map((l) => l.trim())
                .filter((l) => l !== "")
                .join(" "),
        },
    ];
}

/** The primary key the sink writes by: the configured fields, else the source table's key (record_key). */
export function expectedTargetKey(pipeline: PipelineSpec, t: TableSpec): string[] | undefined {
    const sink = pipeline.sink;
    if (sink.primaryKeyMode === "none" || sink.primaryKeyMode === "kafka") return undefined;
    return sink.primaryKeyFields.length > 0 ? sink.primaryKeyFields : t.primaryKey;
}

/** Item 3: the target schema takes the sink's tables; without auto-create each table exists with the matching primary key. */
export function checkTarget(pipeline: PipelineSpec, index: number, facts: TargetFacts): Finding[] {
    const sink = pipeline.sink;
    const out: Finding[] = [];
    const schema = facts.schemas.find((s) => s.name === sink.schema.toLowerCase() || s.name === sink.schema);
    const subject = `${pipeline.name} target schema ${sink.schema}`;
    if (!schema?.exists) {
        return [
            {
                check: "target-table",
                subject,
                problem: `schema does not exist in database ${sink.database}; the sink creates tables, not schemas`,
                fix: `pulumi up (the stack creates it), or CREATE SCHEMA ${sink.schema}`,
            },
        ];
    }
    if (sink.autoCreate && !schema.canCreate)
        out.push({
            check: "target-table",
            subject,
            problem: `sink.autoCreate is on but the sink's login may not create tables in it`,
            fix: `GRANT CREATE ON SCHEMA ${sink.schema} TO ${sink.username}, or set pipelines[${index}].sink.autoCreate: false and create the tables`,
        });
    for (const t of pipeline.source.tables) {
        const name = targetTableName(pipeline, t);
        const found = findTable(facts.tables, sink.schema, name);
        const about = `${pipeline.name} target ${sink.schema}.${name}`;
        const key = expectedTargetKey(pipeline, t);
        if (!found?.exists) {
            if (!sink.autoCreate)
                out.push({
                    check: "target-table",
                    subject: about,
                    problem: `table does not exist and pipelines[${index}].sink.autoCreate is off`,
                    fix: `pulumi up (the stack creates it from source.tables[].columns), or CREATE TABLE ${sink.schema}.${name} (…${key ? `, PRIMARY KEY (${list(key)})` : ""})`,
                });
        } else if (key && fold(found.primaryKey) !== fold(key)) {
            out.push({
                check: "target-table",
                subject: about,
                problem:
                    found.primaryKey.length === 0
                        ? `table has no primary key; the sink upserts by (${list(key)})`
                        : `primary key (${list(found.primaryKey)}) differs from the sink's (${list(key)})`,
                fix: `ALTER TABLE ${sink.schema}.${name} ${found.primaryKey.length ? "DROP CONSTRAINT <its primary key>, " : ""}ADD PRIMARY KEY (${list(key)})`,
            });
        }
    }
    return out;
}

/** One config-provider reference of a connector: which Secret and key it needs at start. */
export interface SecretReference {
    connector: string;
    secret: string;
    key: string;
}

/**
 * Every Secret key the stack's connectors reference, found by rendering them with a context that records
 * each reference it is asked for (so nothing here restates which connector uses which Secret).
 */
export function connectorSecretReferences(spec: StackSpec): SecretReference[] {
    const asked: { secret: string; key: string }[] = [];
    const ctx = {
        bootstrapServers: "",
        kafkaClientSecurity: {},
        secretRef: (secret: string, key: string) => {
            asked.push({ secret, key });
            return `\${ref:${asked.length - 1}}`;
        },
    };
    const out: SecretReference[] = [];
    for (const c of renderConnectors(spec, ctx)) {
        for (const value of Object.values(c.config)) {
            const m = /^\$\{ref:(\d+)\}$/.exec(value);
            if (m) out.push({ connector: c.name, ...asked[Number(m[1])] });
        }
    }
    return out;
}

/**
 * Item 4: every referenced Secret key exists. `present` holds `secret/key` for the ones found; `where`
 * names the place looked in (a folder, a namespace) and `fixFor` says how to bring a Secret back there.
 */
export function checkSecrets(
    refs: readonly SecretReference[],
    present: ReadonlySet<string>,
    where: string,
    fixFor: (secret: string, key: string) => string,
): Finding[] {
    const missing = new Map<string, { secret: string; key: string; connectors: string[] }>();
    for (const r of refs) {
        const id = `${r.secret}/${r.key}`;
        if (present.has(id)) continue;
        const entry = missing.get(id) ?? { secret: r.secret, key: r.key, connectors: [] };
        if (!entry.connectors.includes(r.connector)) entry.connectors.push(r.connector);
        missing.set(id, entry);
    }
    return [...missing.values()].map((m) => ({
        check: "secret" as const,
        subject: `Secret ${m.secret} key ${m.key}`,
        problem: `missing in ${where}; ${list(m.connectors)} cannot resolve it and will fail at start`,
        fix: fixFor(m.secret, m.key),
    }));
}

/** Topics exist with the planned partitions, replication and configs (plan/topics.ts). */
export function checkTopics(planned: readonly TopicSpec[], actual: ReadonlyMap<string, TopicFacts | undefined>): Finding[] {
    const out: Finding[] = [];
    for (const t of planned) {
        const subject = `topic ${t.name}`;
        const a = actual.get(t.name);
        if (!a) {
            out.push({
                check: "topic",
                subject,
                problem: "does not exist",
                fix: `pulumi up (the stack creates it), or kafka-topics.sh --create --topic ${t.name} --partitions ${t.partitions} --replication-factor ${t.replicationFactor}${Object.entries(
                    t.config,
                )
                    .map(([k, v]) => ` --config ${k}=${v}`)
                    .join("")}`,
            });
            continue;
        }
        if (a.partitions !== t.partitions)
            out.push({
                check: "topic",
                subject,
                problem: `has ${a.partitions} partitions, planned ${t.partitions}`,
                fix:
                    a.partitions < t.partitions
                        ? `kafka-topics.sh --alter --topic ${t.name} --partitions ${t.partitions} (keys move to other partitions: only while no connector writes)`
                        : `partitions cannot shrink: recreate the topic with ${t.partitions}, or set the pipeline's topics.partitions to ${a.partitions}`,
            });
        if (a.replicationFactor !== t.replicationFactor)
            out.push({
                check: "topic",
                subject,
                problem: `has replication factor ${a.replicationFactor}, planned ${t.replicationFactor}`,
                fix: "reassign its replicas (kafka-reassign-partitions.sh) or set the pipeline's topics.replicationFactor to match",
            });
        const wrong = Object.entries(t.config).filter(([k, v]) => a.configs[k] !== v);
        if (wrong.length > 0)
            out.push({
                check: "topic",
                subject,
                problem: wrong.map(([k, v]) => `${k} is ${a.configs[k] ?? "unset"}, planned ${v}`).join("; "),
                fix: `pulumi up (the stack owns topic configs), or kafka-configs.sh --alter --entity-type topics --entity-name ${t.name} --add-config ${wrong
                    .map(([k, v]) => `${k}=${v}`)
                    .join(",")}`,
            });
    }
    return out;
}

/** One line per finding: what, the problem, the fix. */
export function findingLine(f: Finding): string {
    return `${f.subject}: ${f.problem} — fix: ${f.fix}`;
}
