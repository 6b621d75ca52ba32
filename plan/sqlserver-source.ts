/**
 * SQL Server source preparation as plain data: the CDC reader login, its user in each captured
 * database with exactly what Debezium needs, and the CDC enablement as idempotent T-SQL scripts for
 * mssql.Script (a read script reporting the current state, the desired state, and an update script run
 * only when they differ, so `pulumi preview` shows drift).
 *
 * What the reader gets, per database: membership of the CDC gating role (sp_cdc_enable_table
 * @role_name), SELECT on each captured table (snapshots and the change functions need it), SELECT on
 * the `cdc` schema (change tables, lsn_time_mapping; data.query.mode=direct reads them), and VIEW
 * DATABASE STATE; and on Debezium's signal table (created here, captured like the tables, plan/signal-table.ts)
 * SELECT and INSERT, because incremental snapshots write their watermarks there. Nothing else: no db_owner, no other
 * write, no server-level permission.
 *
 * The seed's pre-replication rule "every captured table must declare a primary key" is enforced in
 * config (tables[].primaryKey is required, config/schema.ts); the table scripts here also check the real
 * primary key against the declared one and refuse to enable capture when they differ.
 */
import type { SqlServerSourceSpec, StackSpec, TableSpec } from "../model/spec";
import { adminEndpoint, captureInstanceName, serverKey } from "../model/naming";
import { SIGNAL_TABLE_COLUMNS, signalTableSpecs } from "../model/signal-table";

/** `[name]` with `]` doubled. */
export const bracket = (identifier: string): string => `[${identifier.replace(/]/g, "]]")}]`;
/** `N'text'` with `'` doubled. */
export const nstring = (text: string): string => `N'${text.replace(/'/g, "''")}'`;

export interface SqlScriptPlan {
    /** Stable key, part of the Pulumi resource name. */
    key: string;
    description: string;
    readScript: string;
    /** Column → expected value of the read script's single row. */
    state: Record<string, string>;
    updateScript: string;
    /** Undoing CDC enablement would drop change data other consumers may still need: only grants are revoked. */
    deleteScript?: string;
    /** Keys of scripts of the same database that must run first. */
    after: string[];
    /** Runs only once the reader's database user exists. */
    needsUser?: string;
}

export interface SqlServerDatabasePlan {
    database: string;
    /** Database users, one per reader login capturing from this database. */
    users: string[];
    gatingRole: string;
    scripts: SqlScriptPlan[];
}

/** One SQL Server that pipelines capture from; each gets its own provider and logins. */
export interface SqlServerSourcePlan {
    /** The server as the pipelines (and Debezium) name it. */
    host: string;
    port: number;
    /** Where Pulumi connects to prepare it (sqlserver.adminHosts, or host:port). */
    admin: { host: string; port: number };
    /** Stable, name-safe key of the server (host, and the port when it is not 1433). */
    key: string;
    pipelines: string[];
    /** Reader logins (server level), each with the pipelines that use it. */
    logins: { name: string; pipelines: string[] }[];
    databases: SqlServerDatabasePlan[];
}

export const VIEW_DATABASE_STATE = "VIEW DATABASE STATE";

export function sqlServerSources(spec: StackSpec): { pipeline: string; source: SqlServerSourceSpec }[] {
    return spec.pipelines.flatMap((p) => (p.source.kind === "sqlserver" ? [{ pipeline: p.name, source: p.source }] : []));
}

/** One plan per source server, in the order the pipelines first name them. */
export function planSqlServerSources(spec: StackSpec): SqlServerSourcePlan[] {
    const servers = new Map<string, { pipeline: string; source: SqlServerSourceSpec }[]>();
    for (const entry of sqlServerSources(spec)) {
        const key = serverKey(entry.source.host, entry.source.port, 1433);
        servers.set(key, [...(servers.get(key) ?? []), entry]);
    }
    return [...servers.entries()].map(([key, sources]) => planSqlServer(spec, key, sources));
}

function planSqlServer(spec: StackSpec, key: string, sources: { pipeline: string; source: SqlServerSourceSpec }[]): SqlServerSourcePlan {
    const logins = new Map<string, string[]>();
    interface Db {
        users: Set<string>;
        tables: Map<string, TableSpec>;
        signalTables: Map<string, TableSpec>;
        snapshotIsolation: boolean;
    }
    const dbOf = (database: string): Db =>
        dbs.get(database) ?? { users: new Set(), tables: new Map(), signalTables: new Map(), snapshotIsolation: false };
    const dbs = new Map<string, Db>();
    for (const { pipeline, source } of sources) {
        logins.set(source.username, [...(logins.get(source.username) ?? []), pipeline]);
        for (const table of source.tables) {
            const db = dbOf(table.database);
            db.users.add(source.username);
            db.tables.set(`${table.schema}.${table.table}`, table);
            db.snapshotIsolation ||= source.snapshotIsolationMode === "snapshot";
            dbs.set(table.database, db);
        }
        for (const signal of signalTableSpecs(source)) {
            const db = dbOf(signal.database);
            db.users.add(source.username);
            db.signalTables.set(`${signal.schema}.${signal.table}`, signal);
            dbs.set(signal.database, db);
        }
    }
    const databases = [...dbs.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([database, db]): SqlServerDatabasePlan => {
            const users = [...db.users].sort();
            const tables = [...db.tables.values()];
            const signals = [...db.signalTables.values()].filter((t) => !db.tables.has(`${t.schema}.${t.table}`));
            const tableKeys = [...tables, ...signals].map((t) => tableScriptKey(t));
            const scripts: SqlScriptPlan[] = [enableDatabaseScript(database)];
            if (db.snapshotIsolation) scripts.push(snapshotIsolationScript(database));
            for (const table of tables)
                scripts.push(enableTableScript(table, spec.sqlserver.gatingRole, spec.sqlserver.changeTableFilegroup));
            for (const signal of signals) {
                scripts.push(createSignalTableScript(signal));
                const capture = enableTableScript(signal, spec.sqlserver.gatingRole, spec.sqlserver.changeTableFilegroup);
                scripts.push({ ...capture, after: [...capture.after, signalTableScriptKey(signal)] });
            }
            // The cleanup job exists once the first table is enabled.
            scripts.push(retentionScript(spec.sqlserver.cdcRetentionMinutes, tableKeys));
            for (const user of users) {
                scripts.push(grantSelectOnCdcSchemaScript(user));
                for (const table of tables) scripts.push(grantSelectOnTableScript(user, table));
                for (const signal of signals) {
                    scripts.push({ ...grantSelectOnTableScript(user, signal), after: [signalTableScriptKey(signal)] });
                    scripts.push(grantInsertOnSignalTableScript(user, signal));
                }
            }
            return { database, users, gatingRole: spec.sqlserver.gatingRole, scripts };
        });
    return {
        host: sources[0].source.host,
        port: sources[0].source.port,
        admin: adminEndpoint(spec.sqlserver.adminHosts, sources[0].source.host, sources[0].source.port),
        key,
        pipelines: sources.map((s) => s.pipeline),
        logins: [...logins.entries()].map(([name, pipelines]) => ({ name, pipelines })),
        databases,
    };
}

const tableScriptKey = (t: TableSpec): string => `cdc-table-${t.schema}.${t.table}`;
const signalTableScriptKey = (t: TableSpec): string => `signal-table-${t.schema}.${t.table}`;

/**
 * Debezium's signal table, created when missing (never dropped: its capture instance and rows are Debezium's).
 * The update script refuses a table of that name with other columns rather than altering someone's table.
 */
export function createSignalTableScript(table: TableSpec): SqlScriptPlan {
    const qualified = `${bracket(table.schema)}.${bracket(table.table)}`;
    const columns = SIGNAL_TABLE_COLUMNS.map((c) => c.name).join(",");
    const columnsOf = [
        "ISNULL(STUFF((SELECT N',' + LOWER(c.name) FROM sys.columns c",
        `    WHERE c.object_id = OBJECT_ID(${nstring(qualified)}) ORDER BY c.column_id FOR XML PATH(N'')), 1, 1, N''), N'')`,
    ].join("\n");
    return {
        key: signalTableScriptKey(table),
        description: `Debezium signal table ${table.schema}.${table.table} (incremental snapshot watermarks)`,
        readScript: `SELECT ${columnsOf} AS signal_columns;`,
        state: { signal_columns: columns },
        updateScript: [
            `IF OBJECT_ID(${nstring(qualified)}) IS NULL`,
            `    CREATE TABLE ${qualified} (`,
            SIGNAL_TABLE_COLUMNS.map((c) => `        ${bracket(c.name)} ${c.type} ${c.nullable ? "NULL" : "NOT NULL"}`).join(",\n") + ",",
            `        CONSTRAINT ${bracket(`PK_${table.table}`)} PRIMARY KEY (${bracket("id")})`,
            "    );",
            "ELSE",
            `    THROW 50005, ${nstring(
                `CDC: ${table.schema}.${table.table} exists with other columns than Debezium's signal table (${columns}); drop or rename it, or set source.signalTable to another name`,
            )}, 1;`,
        ].join("\n"),
        after: [],
    };
}

export function enableDatabaseScript(database: string): SqlScriptPlan {
    return {
        key: "cdc-database",
        description: `enable CDC on database ${database} (sys.sp_cdc_enable_db; needs sysadmin)`,
        readScript: "SELECT CAST(is_cdc_enabled AS varchar(1)) AS is_cdc_enabled FROM sys.databases WHERE database_id = DB_ID();",
        state: { is_cdc_enabled: "1" },
        updateScript: [
            "IF (SELECT is_cdc_enabled FROM sys.databases WHERE database_id = DB_ID()) = 0",
            "    EXEC sys.sp_cdc_enable_db;",
        ].join("\n"),
        after: [],
    };
}

/** snapshot.isolation.mode=snapshot reads the initial snapshot without table locks, under row versioning. */
export function snapshotIsolationScript(database: string): SqlScriptPlan {
    return {
        key: "snapshot-isolation",
        description: `ALLOW_SNAPSHOT_ISOLATION ON for ${database} (Debezium snapshot.isolation.mode=snapshot)`,
        readScript:
            "SELECT CAST(snapshot_isolation_state AS varchar(1)) AS snapshot_isolation_state FROM sys.databases WHERE database_id = DB_ID();",
        state: { snapshot_isolation_state: "1" },
        updateScript: `ALTER DATABASE ${bracket(database)} SET ALLOW_SNAPSHOT_ISOLATION ON;`,
        after: [],
    };
}

/** The declared primary key, lower-cased and comma-joined, as the read script reports the real one. */
export const declaredPrimaryKey = (table: TableSpec): string => table.primaryKey.map((c) => c.toLowerCase()).join(",");

/** Comma-joined primary key columns of `@object_id` in key order (FOR XML PATH works from SQL Server 2016 on). */
const PRIMARY_KEY_EXPRESSION = [
    "ISNULL(STUFF((SELECT N',' + LOWER(c.name)",
    "    FROM sys.indexes i",
    "    JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id",
    "    JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id",
    "    WHERE i.object_id = @object_id AND i.is_primary_key = 1",
    "    ORDER BY ic.key_ordinal FOR XML PATH(N'')), 1, 1, N''), N'')",
].join("\n");

/**
 * sys.sp_cdc_enable_table with an explicit capture instance, the gating role and no net changes. The read
 * script reports the table's real primary key and its capture instance's settings; cdc.change_tables is
 * only consulted once the cdc schema exists. An instance that exists with other settings is not silently
 * replaced (that would drop its change table): the update script stops with the manual step instead.
 */
export function enableTableScript(table: TableSpec, gatingRole: string, filegroup?: string): SqlScriptPlan {
    const qualified = `${bracket(table.schema)}.${bracket(table.table)}`;
    const instance = captureInstanceName(table);
    const declared = declaredPrimaryKey(table);
    const readScript = [
        `DECLARE @object_id int = OBJECT_ID(${nstring(qualified)});`,
        "DECLARE @capture_instance sysname = N'', @role_name sysname = N'', @net_changes varchar(1) = '';",
        "IF OBJECT_ID(N'cdc.change_tables') IS NOT NULL",
        "    SELECT @capture_instance = capture_instance, @role_name = ISNULL(role_name, N''), @net_changes = CAST(supports_net_changes AS varchar(1))",
        `    FROM cdc.change_tables WHERE capture_instance = ${nstring(instance)} AND source_object_id = @object_id;`,
        "SELECT",
        `    ${PRIMARY_KEY_EXPRESSION.split("\n").join("\n    ")} AS primary_key,`,
        "    @capture_instance AS capture_instance, @role_name AS role_name, @net_changes AS supports_net_changes;",
    ].join("\n");
    const enable = [
        "    EXEC sys.sp_cdc_enable_table",
        `        @source_schema = ${nstring(table.schema)},`,
        `        @source_name = ${nstring(table.table)},`,
        `        @capture_instance = ${nstring(instance)},`,
        `        @role_name = ${nstring(gatingRole)},`,
        ...(filegroup ? [`        @filegroup_name = ${nstring(filegroup)},`] : []),
        "        @supports_net_changes = 0;",
    ];
    const updateScript = [
        `DECLARE @object_id int = OBJECT_ID(${nstring(qualified)});`,
        "DECLARE @message nvarchar(2048);",
        "IF @object_id IS NULL",
        `    THROW 50001, ${nstring(`CDC: source table ${table.schema}.${table.table} does not exist in this database`)}, 1;`,
        `DECLARE @primary_key nvarchar(2048) = ${PRIMARY_KEY_EXPRESSION.split("\n").join("\n    ")};`,
        `IF @primary_key <> ${nstring(declared)}`,
        "BEGIN",
        `    SET @message = ${nstring(`CDC: ${table.schema}.${table.table} has primary key (`)} + @primary_key + ${nstring(`) but the stack config declares (${declared}); every captured table needs the declared primary key`)};`,
        "    THROW 50002, @message, 1;",
        "END;",
        `IF NOT EXISTS (SELECT 1 FROM cdc.change_tables WHERE capture_instance = ${nstring(instance)})`,
        ...enable,
        "ELSE IF NOT EXISTS (SELECT 1 FROM cdc.change_tables",
        `        WHERE capture_instance = ${nstring(instance)} AND source_object_id = @object_id AND role_name = ${nstring(gatingRole)} AND supports_net_changes = 0)`,
        `    THROW 50003, ${nstring(
            `CDC: capture instance ${instance} exists with another source table, gating role or net-changes setting; once Debezium has consumed its changes, run sys.sp_cdc_disable_table @source_schema = N'${table.schema}', @source_name = N'${table.table}', @capture_instance = N'${instance}' and deploy again`,
        )}, 1;`,
    ].join("\n");
    return {
        key: tableScriptKey(table),
        description: `capture ${table.schema}.${table.table} as ${instance}, gated by ${gatingRole}`,
        readScript,
        state: { primary_key: declared, capture_instance: instance, role_name: gatingRole, supports_net_changes: "0" },
        updateScript,
        after: ["cdc-database"],
    };
}

/** CDC cleanup retention: a connector outage longer than this loses changes (its stored LSN is purged). */
export function retentionScript(minutes: number, tableKeys: string[]): SqlScriptPlan {
    return {
        key: "cdc-retention",
        description: `CDC cleanup retention ${minutes} minutes (sys.sp_cdc_change_job)`,
        readScript:
            "SELECT ISNULL((SELECT CAST(retention AS varchar(20)) FROM msdb.dbo.cdc_jobs WHERE database_id = DB_ID() AND job_type = N'cleanup'), N'') AS retention_minutes;",
        state: { retention_minutes: String(minutes) },
        updateScript: [
            "IF NOT EXISTS (SELECT 1 FROM msdb.dbo.cdc_jobs WHERE database_id = DB_ID() AND job_type = N'cleanup')",
            "    THROW 50004, N'CDC: this database has no CDC cleanup job; is SQL Server Agent running? (sys.sp_cdc_add_job @job_type = N''cleanup'')', 1;",
            `EXEC sys.sp_cdc_change_job @job_type = N'cleanup', @retention = ${minutes};`,
        ].join("\n"),
        after: ["cdc-database", ...tableKeys],
    };
}

const explicitGrantRead = (permissionClass: number, majorId: string, user: string, permission = "SELECT"): string =>
    [
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM sys.database_permissions",
        `    WHERE class = ${permissionClass} AND major_id = ${majorId} AND minor_id = 0`,
        `    AND grantee_principal_id = DATABASE_PRINCIPAL_ID(${nstring(user)})`,
        `    AND permission_name = ${nstring(permission)} AND state IN ('G', 'W')) THEN '1' ELSE '0' END AS granted;`,
    ].join("\n");

export function grantSelectOnCdcSchemaScript(user: string): SqlScriptPlan {
    return {
        key: `grant-cdc-schema-${user}`,
        description: `SELECT on the cdc schema for ${user} (change tables, lsn_time_mapping)`,
        readScript: explicitGrantRead(3, "ISNULL(SCHEMA_ID(N'cdc'), -1)", user),
        state: { granted: "1" },
        updateScript: `GRANT SELECT ON SCHEMA::[cdc] TO ${bracket(user)};`,
        deleteScript: `IF SCHEMA_ID(N'cdc') IS NOT NULL AND DATABASE_PRINCIPAL_ID(${nstring(user)}) IS NOT NULL REVOKE SELECT ON SCHEMA::[cdc] FROM ${bracket(user)};`,
        after: ["cdc-database"],
        needsUser: user,
    };
}

export function grantSelectOnTableScript(user: string, table: TableSpec): SqlScriptPlan {
    const qualified = `${bracket(table.schema)}.${bracket(table.table)}`;
    return {
        key: `grant-select-${user}-${table.schema}.${table.table}`,
        description: `SELECT on ${table.schema}.${table.table} for ${user}`,
        readScript: explicitGrantRead(1, `ISNULL(OBJECT_ID(${nstring(qualified)}), -1)`, user),
        state: { granted: "1" },
        updateScript: `GRANT SELECT ON OBJECT::${qualified} TO ${bracket(user)};`,
        deleteScript: `IF OBJECT_ID(${nstring(qualified)}) IS NOT NULL AND DATABASE_PRINCIPAL_ID(${nstring(user)}) IS NOT NULL REVOKE SELECT ON OBJECT::${qualified} FROM ${bracket(user)};`,
        after: [],
        needsUser: user,
    };
}

/** Incremental snapshots insert their open/close watermarks into the signal table as the reader. */
export function grantInsertOnSignalTableScript(user: string, table: TableSpec): SqlScriptPlan {
    const qualified = `${bracket(table.schema)}.${bracket(table.table)}`;
    return {
        key: `grant-insert-${user}-${table.schema}.${table.table}`,
        description: `INSERT on the signal table ${table.schema}.${table.table} for ${user}`,
        readScript: explicitGrantRead(1, `ISNULL(OBJECT_ID(${nstring(qualified)}), -1)`, user, "INSERT"),
        state: { granted: "1" },
        updateScript: `GRANT INSERT ON OBJECT::${qualified} TO ${bracket(user)};`,
        deleteScript: `IF OBJECT_ID(${nstring(qualified)}) IS NOT NULL AND DATABASE_PRINCIPAL_ID(${nstring(user)}) IS NOT NULL REVOKE INSERT ON OBJECT::${qualified} FROM ${bracket(user)};`,
        after: [signalTableScriptKey(table)],
        needsUser: user,
    };
}
