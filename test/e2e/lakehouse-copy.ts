/**
 * Puts rows into a PostgreSQL table on the sandbox's target server so the reconciler (reconciler/run.ts) can
 * compare them with a source table through its own normalization (reconciler/columns.ts and the dialects'
 * canonical forms) instead of a second canonicalizer: a lakehouse table's current state as DuckDB reads it,
 * typed as DuckDB reports it, or the rows a SQL query computes on a source.
 */
import * as path from "path";
import { Client } from "pg";
import { validateReconcilerConfig } from "../../reconciler/config";
import type { Logger } from "../../reconciler/progress";
import type { TableReport } from "../../reconciler/report";
import { runReconciliation } from "../../reconciler/run";
import type { E2E } from "./fixture";

export interface CopyColumn {
    name: string;
    /** A PostgreSQL type. */
    type: string;
}

/** DuckDB's type names (DESCRIBE) as the PostgreSQL types that hold the same values. */
export function postgresTypeOfDuckDb(duckdb: string): string {
    const t = duckdb.toUpperCase();
    const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
    if (decimal) return `numeric(${decimal[1]},${decimal[2]})`;
    const types: Record<string, string> = {
        BIGINT: "bigint",
        INTEGER: "integer",
        SMALLINT: "smallint",
        TINYINT: "smallint",
        VARCHAR: "text",
        BOOLEAN: "boolean",
        DOUBLE: "double precision",
        FLOAT: "real",
        DATE: "date",
        TIMESTAMP: "timestamp",
        "TIMESTAMP WITH TIME ZONE": "timestamptz",
        BLOB: "bytea",
    };
    const pg = types[t];
    if (!pg) throw new Error(`no PostgreSQL type for DuckDB's ${duckdb}`);
    return pg;
}

/** Columns and rows of a query over the lakehouse tables, read by DuckDB. */
export async function readLakehouseRows(env: E2E, sql: string): Promise<{ columns: CopyColumn[]; rows: Record<string, unknown>[] }> {
    const [described, rows] = await env.sb.lakehouse.query<Record<string, unknown>>(`DESCRIBE ${sql}`, sql);
    const columns = described.map((c) => ({ name: String(c.column_name), type: postgresTypeOfDuckDb(String(c.column_type)) }));
    return { columns, rows };
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

function asText(v: unknown): string | null {
    if (v === null || v === undefined) return null;
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
}

/**
 * (Re)creates `schema.table` on the target server and inserts the rows as text, each value cast by PostgreSQL to
 * its column's type (naive timestamps are read as UTC, the writers' and Debezium's convention).
 */
export async function copyToTarget(
    env: E2E,
    table: string,
    columns: readonly CopyColumn[],
    primaryKey: readonly string[],
    rows: readonly Record<string, unknown>[],
): Promise<void> {
    const [schema, name] = table.split(".");
    const c = new Client({ connectionString: env.sb.target.url });
    await c.connect();
    try {
        await c.query("SET TimeZone = 'UTC'");
        await c.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
        await c.query(`DROP TABLE IF EXISTS ${ident(schema)}.${ident(name)}`);
        const defs = columns.map((col) => `${ident(col.name)} ${col.type}`);
        await c.query(
            `CREATE TABLE ${ident(schema)}.${ident(name)} (${defs.join(", ")}, PRIMARY KEY (${primaryKey.map(ident).join(", ")}))`,
        );
        const list = columns.map((col) => ident(col.name)).join(", ");
        const perBatch = Math.max(1, Math.floor(10_000 / columns.length));
        for (let i = 0; i < rows.length; i += perBatch) {
            const batch = rows.slice(i, i + perBatch);
            const values = batch.map((_, r) => `(${columns.map((_c, k) => `$${r * columns.length + k + 1}`).join(", ")})`);
            const params = batch.flatMap((row) => columns.map((col) => asText(row[col.name])));
            await c.query(`INSERT INTO ${ident(schema)}.${ident(name)} (${list}) VALUES ${values.join(", ")}`, params);
        }
    } finally {
        await c.end();
    }
}

/** The reconciler's verdict on one table pair, as the CronJob would give it, and what it logged as errors. */
export async function reconcilePair(
    env: E2E,
    sourceUrl: string,
    source: string,
    target: string,
): Promise<{ exitCode: number; table: TableReport; errors: string[] }> {
    const errors: string[] = [];
    const quiet: Logger = { progress: () => undefined, info: () => undefined, error: (m) => errors.push(m), flush: () => undefined };
    const config = validateReconcilerConfig({
        source: sourceUrl,
        target: env.sb.target.url,
        tables: [`${source}=${target}`],
        reportDir: path.join(env.sb.runDir, "reports", "lakehouse"),
    });
    const run = await runReconciliation(config, quiet);
    return { exitCode: run.exitCode, table: run.report.tables[0], errors };
}
