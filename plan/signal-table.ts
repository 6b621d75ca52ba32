/**
 * Debezium's signal table on each source (`source.signalTable`). An incremental snapshot writes its
 * open/close watermarks there and reads them back from the change stream to deduplicate the chunk it
 * is copying against concurrent changes, so the table must exist and be captured even though the
 * snapshot is requested through the Kafka signal topic (Debezium's `source` channel must stay enabled).
 *
 * Who creates it: on SQL Server the stack itself (plan/sqlserver-source.ts: the table, CDC on it and
 * the reader's INSERT); on PostgreSQL, MySQL and MariaDB the stack holds no admin login, so the SQL
 * below is what the database owner runs once (docs/runbooks.md prints it for the shipped stacks), and
 * `cdc snapshot` checks the table before it signals, printing this SQL when it is missing.
 *
 * The shape is Debezium's: three columns, in this order, `id` the primary key.
 */
import type { MySqlSourceSpec, PostgresSourceSpec, SourceSpec, SqlServerSourceSpec } from "../model/spec";
import { SIGNAL_TABLE_COLUMNS, signalTableParts } from "../model/signal-table";

const columnsDdl = (indent: string): string =>
    SIGNAL_TABLE_COLUMNS.map((c) => `${indent}${c.name} ${c.type} ${c.nullable ? "NULL" : "NOT NULL"}`).join(",\n");

const pgIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const pgString = (text: string): string => `'${text.replace(/'/g, "''")}'`;
const myIdent = (name: string): string => `\`${name.replace(/`/g, "``")}\``;

/**
 * PostgreSQL: the table, and the table in the connector's publication when the publication already
 * exists (a first start creates it with the table: `publication.autocreate.mode=filtered` publishes
 * the include list plus the signal table). Idempotent.
 */
export function postgresSignalTableDdl(source: PostgresSourceSpec): string {
    const { schema, table } = signalTableParts(source);
    const qualified = `${pgIdent(schema)}.${pgIdent(table)}`;
    const pub = source.publicationName;
    return [
        `CREATE TABLE IF NOT EXISTS ${qualified} (`,
        `${columnsDdl("    ")},`,
        "    PRIMARY KEY (id)",
        ");",
        "DO $$",
        "BEGIN",
        `    IF EXISTS (SELECT 1 FROM pg_publication WHERE pubname = ${pgString(pub)})`,
        `       AND NOT EXISTS (SELECT 1 FROM pg_publication_tables WHERE pubname = ${pgString(pub)}`,
        `                       AND schemaname = ${pgString(schema)} AND tablename = ${pgString(table)}) THEN`,
        `        ALTER PUBLICATION ${pgIdent(pub)} ADD TABLE ${qualified};`,
        "    END IF;",
        "END $$;",
    ].join("\n");
}

/** MySQL/MariaDB: the table in the captured database (its binlog events carry the watermarks). Idempotent. */
export function mysqlSignalTableDdl(source: MySqlSourceSpec): string {
    const { schema, table } = signalTableParts(source);
    return [
        `CREATE TABLE IF NOT EXISTS ${myIdent(schema)}.${myIdent(table)} (`,
        `${columnsDdl("    ")},`,
        "    PRIMARY KEY (id)",
        ");",
    ].join("\n");
}

/**
 * What the connector's login needs on the table: INSERT for the watermarks, SELECT like every captured
 * table. MySQL's account has a host part the stack does not know; `'%'` is written, adjust it to yours.
 */
export function signalTableGrant(source: PostgresSourceSpec | MySqlSourceSpec): string {
    const { schema, table } = signalTableParts(source);
    if (source.kind === "postgres") return `GRANT SELECT, INSERT ON ${pgIdent(schema)}.${pgIdent(table)} TO ${pgIdent(source.username)};`;
    return `GRANT SELECT, INSERT ON ${myIdent(schema)}.${myIdent(table)} TO '${source.username}'@'%';`;
}

/** The whole script a database owner runs for a PostgreSQL, MySQL or MariaDB source, with what it is for. */
export function signalTableScript(pipeline: string, source: Exclude<SourceSpec, SqlServerSourceSpec>): string {
    const ddl = source.kind === "postgres" ? postgresSignalTableDdl(source) : mysqlSignalTableDdl(source);
    const runAs = source.kind === "postgres" ? "the captured tables' owner" : "an account with CREATE and GRANT OPTION";
    return [
        `-- Debezium signal table of pipeline ${pipeline} (source.signalTable ${source.signalTable}), for \`cdc snapshot\`.`,
        `-- Run once on ${source.host}:${source.port}/${source.database} as ${runAs}; safe to run again.`,
        ddl,
        signalTableGrant(source),
        "",
    ].join("\n");
}
