/**
 * Debezium's signal table of a source (`source.signalTable`) as Debezium names it: its columns, its data collection
 * ids, the table per captured database and the topics its change events would get. The SQL that creates it is in
 * plan/signal-table.ts; the connector options that use it in connectors/sources.ts.
 */
import type { SourceSpec, TableSpec } from "./spec";
import { dataTopicName } from "./naming";

/** Debezium's shape: three columns, in this order, `id` the primary key. */
export const SIGNAL_TABLE_COLUMNS = [
    { name: "id", type: "VARCHAR(42)", nullable: false },
    { name: "type", type: "VARCHAR(32)", nullable: false },
    { name: "data", type: "VARCHAR(2048)", nullable: true },
] as const;

/** `source.signalTable` split: schema (SQL Server, PostgreSQL) or database (MySQL, MariaDB), and table. */
export function signalTableParts(source: SourceSpec): { schema: string; table: string } {
    const [schema, table] = source.signalTable.split(".");
    return { schema, table };
}

/**
 * `signal.data.collection`: `<database>.<schema>.<table>` on SQL Server, one per captured database (a
 * multi-database connector needs the table in each, or its watermarks land in the wrong partition);
 * `<schema>.<table>` on PostgreSQL and `<database>.<table>` on MySQL and MariaDB.
 */
export function signalDataCollections(source: SourceSpec): string[] {
    return source.kind === "sqlserver" ? source.databases.map((db) => `${db}.${source.signalTable}`) : [source.signalTable];
}

/** The signal table as a captured table (one per database on SQL Server), keyed on `id`. */
export function signalTableSpecs(source: SourceSpec): TableSpec[] {
    const { schema, table } = signalTableParts(source);
    const databases = source.kind === "sqlserver" ? source.databases : [source.kind === "postgres" ? source.database : schema];
    return databases.map((database) => ({ database, schema, table, primaryKey: ["id"] }));
}

/** The topics Debezium's default naming gives the signal table's change events (the connector drops them). */
export const signalTableTopics = (source: SourceSpec): string[] => signalTableSpecs(source).map((t) => dataTopicName(source, t));
