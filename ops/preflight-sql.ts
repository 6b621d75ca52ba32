/**
 * The catalog queries `cdc preflight` runs, per engine, as text with bind parameters: what each source's
 * tables and change capture look like, and what the target holds. Read-only, catalog views only, run as the
 * connector's own login so privileges are judged as the connector will meet them. The SQL Server queries
 * have never run against a server here (there is none); their text and the decisions over their rows are
 * unit-tested (test/ops/preflight.spec.ts).
 */

/** One statement with its parameters: `$1…` for PostgreSQL, `?` for MySQL/MariaDB, `@p1…` for SQL Server. */
export interface CatalogQuery {
    sql: string;
    params: string[];
}

/** `schema.table` pairs as two parallel arrays, the shape PostgreSQL's `unnest` and the SQL Server VALUES list take. */
export interface QualifiedName {
    schema: string;
    table: string;
}

// PostgreSQL (source and target)

/** Each requested table: whether it exists, its primary key columns in key order, and whether the login owns it. */
export function postgresTablesQuery(tables: readonly QualifiedName[]): CatalogQuery {
    return {
        sql: [
            "SELECT w.schema_name, w.table_name, c.oid IS NOT NULL AS table_exists,",
            "  COALESCE((SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM pg_index i",
            "    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)",
            "    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum",
            "    WHERE i.indrelid = c.oid AND i.indisprimary), '') AS primary_key,",
            "  COALESCE(pg_has_role(current_user, c.relowner, 'USAGE'), false) AS owned",
            "FROM unnest($1::text[], $2::text[]) AS w(schema_name, table_name)",
            "LEFT JOIN pg_namespace n ON n.nspname = w.schema_name",
            "LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.table_name AND c.relkind IN ('r', 'p')",
        ].join("\n"),
        params: [pgArray(tables.map((t) => t.schema)), pgArray(tables.map((t) => t.table))],
    };
}

/** Server settings and the login's attributes logical replication depends on. */
export const POSTGRES_REPLICATION_QUERY: CatalogQuery = {
    sql: [
        "SELECT current_setting('wal_level') AS wal_level,",
        "  current_setting('max_replication_slots')::int AS max_replication_slots,",
        "  (SELECT count(*) FROM pg_replication_slots)::int AS used_replication_slots,",
        "  current_user AS login, r.rolsuper AS superuser, r.rolreplication AS replication,",
        "  has_database_privilege(current_user, current_database(), 'CREATE') AS can_create_in_database",
        "FROM pg_roles r WHERE r.rolname = current_user",
    ].join("\n"),
    params: [],
};

/** The named publication (none when it does not exist), whether it is FOR ALL TABLES, the login's ownership, and its tables. */
export function postgresPublicationQuery(publication: string): CatalogQuery {
    return {
        sql: [
            "SELECT p.puballtables AS all_tables, pg_has_role(current_user, p.pubowner, 'USAGE') AS owned,",
            "  COALESCE((SELECT string_agg(t.schemaname || '.' || t.tablename, ',' ORDER BY t.schemaname, t.tablename)",
            "    FROM pg_publication_tables t WHERE t.pubname = p.pubname), '') AS tables",
            "FROM pg_publication p WHERE p.pubname = $1",
        ].join("\n"),
        params: [publication],
    };
}

/** The named replication slot (none when it does not exist). */
export function postgresSlotQuery(slot: string): CatalogQuery {
    return {
        sql: "SELECT plugin, slot_type, database FROM pg_replication_slots WHERE slot_name = $1",
        params: [slot],
    };
}

/** Whether each schema exists and whether the login may create tables in it. */
export function postgresSchemasQuery(schemas: readonly string[]): CatalogQuery {
    return {
        sql: [
            "SELECT w.schema_name, n.oid IS NOT NULL AS schema_exists,",
            "  CASE WHEN n.oid IS NULL THEN false ELSE has_schema_privilege(current_user, n.oid, 'CREATE') END AS can_create",
            "FROM unnest($1::text[]) AS w(schema_name) LEFT JOIN pg_namespace n ON n.nspname = w.schema_name",
        ].join("\n"),
        params: [pgArray(schemas)],
    };
}

/** A PostgreSQL array literal of text: every element double-quoted, so commas and braces in names stay inside. */
export function pgArray(values: readonly string[]): string {
    return `{${values.map((v) => `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(",")}}`;
}

// MySQL / MariaDB

/** Binary log settings Debezium's binlog reader needs. */
export const MYSQL_BINLOG_QUERY: CatalogQuery = {
    sql: "SELECT @@GLOBAL.log_bin AS log_bin, @@GLOBAL.binlog_format AS binlog_format, @@GLOBAL.binlog_row_image AS binlog_row_image",
    params: [],
};

/** Primary key columns, in key order, of every base table of `database` among `tables` (tables absent here do not exist). */
export function mysqlTablesQuery(database: string, tables: readonly string[]): CatalogQuery {
    return {
        sql: [
            "SELECT t.TABLE_NAME AS table_name,",
            "  COALESCE((SELECT GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR ',') FROM information_schema.KEY_COLUMN_USAGE k",
            "    WHERE k.TABLE_SCHEMA = t.TABLE_SCHEMA AND k.TABLE_NAME = t.TABLE_NAME AND k.CONSTRAINT_NAME = 'PRIMARY'), '') AS primary_key",
            "FROM information_schema.TABLES t",
            `WHERE t.TABLE_SCHEMA = ? AND t.TABLE_TYPE = 'BASE TABLE' AND t.TABLE_NAME IN (${tables.map(() => "?").join(", ")})`,
        ].join("\n"),
        params: [database, ...tables],
    };
}

// SQL Server

/** `N'text'` with `'` doubled. */
const nstring = (text: string): string => `N'${text.replace(/'/g, "''")}'`;

/** Whether each captured database exists and has CDC enabled (sys.sp_cdc_enable_db). */
export function sqlServerDatabasesQuery(databases: readonly string[]): CatalogQuery {
    return {
        sql: [
            "SELECT w.name AS database_name, CASE WHEN d.database_id IS NULL THEN 0 ELSE 1 END AS database_exists,",
            "  CAST(ISNULL(d.is_cdc_enabled, 0) AS int) AS is_cdc_enabled",
            `FROM (VALUES ${databases.map((_, i) => `(@p${i + 1})`).join(", ")}) AS w(name)`,
            "LEFT JOIN sys.databases d ON d.name = w.name",
        ].join("\n"),
        params: [...databases],
    };
}

/** Whether SQL Server Agent, which runs the CDC capture and cleanup jobs, is running (needs VIEW SERVER STATE; no row: unknown). */
export const SQLSERVER_AGENT_QUERY: CatalogQuery = {
    sql: "SELECT status_desc FROM sys.dm_server_services WHERE servicename LIKE N'SQL Server Agent%'",
    params: [],
};

/**
 * Run in the captured database: each requested table, whether it exists, its primary key (lower case, key
 * order) and its capture instances. `cdc.change_tables` exists only once CDC is enabled on the database, so
 * the gatherer runs this only then; `withCapture: false` leaves it out.
 */
export function sqlServerTablesQuery(tables: readonly QualifiedName[], withCapture: boolean): CatalogQuery {
    const capture = withCapture
        ? [
              "  ISNULL(STUFF((SELECT N',' + ct.capture_instance FROM cdc.change_tables ct WHERE ct.source_object_id = t.object_id",
              "    ORDER BY ct.create_date FOR XML PATH(N'')), 1, 1, N''), N'') AS capture_instances",
          ]
        : ["  N'' AS capture_instances"];
    return {
        sql: [
            "SELECT w.schema_name, w.table_name, CASE WHEN t.object_id IS NULL THEN 0 ELSE 1 END AS table_exists,",
            "  ISNULL(STUFF((SELECT N',' + LOWER(c.name) FROM sys.indexes i",
            "    JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id",
            "    JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id",
            "    WHERE i.object_id = t.object_id AND i.is_primary_key = 1",
            "    ORDER BY ic.key_ordinal FOR XML PATH(N'')), 1, 1, N''), N'') AS primary_key,",
            ...capture,
            `FROM (VALUES ${tables.map((_, i) => `(@p${2 * i + 1}, @p${2 * i + 2})`).join(", ")}) AS w(schema_name, table_name)`,
            "LEFT JOIN sys.schemas s ON s.name = w.schema_name",
            "LEFT JOIN sys.tables t ON t.schema_id = s.schema_id AND t.name = w.table_name",
        ].join("\n"),
        params: tables.flatMap((t) => [t.schema, t.table]),
    };
}

/** The statement that enables capture of one table the way the stack does (plan/sqlserver-source.ts), for fixes. */
export function sqlServerEnableTableSql(t: QualifiedName, captureInstance: string, gatingRole: string): string {
    return (
        `EXEC sys.sp_cdc_enable_table @source_schema = ${nstring(t.schema)}, @source_name = ${nstring(t.table)}, ` +
        `@capture_instance = ${nstring(captureInstance)}, @role_name = ${nstring(gatingRole)}, @supports_net_changes = 0`
    );
}
