/**
 * How far the lakehouse tables are behind the sources, read by DuckDB (sandbox/lakehouse_read.py): a change
 * log is caught up when its latest row per key, deletes dropped, has as many keys as the source table has
 * rows; a current-state table when it has as many rows.
 */
import * as mysql from "mysql2/promise";
import { Client } from "pg";
import type { DestinationSpec, PipelineSpec } from "../model/spec";
import { lakehousePipelines } from "../plan/lakehouse";
import type { Sandbox } from "./sandbox";

export interface LakehouseTableProgress {
    table: string;
    /** Rows in the table: change-log rows for append, current rows for upsert. */
    rows: number;
    /** Keys the table says exist now. */
    currentKeys: number;
    sourceRows: number;
}

/** The change log's order: its source position (binlog coordinates where the table keeps no LSN column). */
export function positionColumns(d: Pick<DestinationSpec, "metadataColumns">): string[] {
    const meta = d.metadataColumns ?? [];
    return !meta.includes("_cdc_source_lsn") && meta.includes("_cdc_binlog_position")
        ? ["_cdc_binlog_file", "_cdc_binlog_position"]
        : ["_cdc_source_lsn"];
}

/** A change log's current state: each key's newest change, unless that was a delete. */
export function currentStateSql(d: Pick<DestinationSpec, "name" | "primaryKey" | "metadataColumns">): string {
    const order = positionColumns(d)
        .map((c) => `${c} DESC`)
        .join(", ");
    return (
        `SELECT * EXCLUDE (_rn) FROM (SELECT *, row_number() OVER (PARTITION BY ${d.primaryKey.join(", ")} ORDER BY ${order}) AS _rn FROM ${d.name}) ` +
        `WHERE _rn = 1 AND _cdc_operation <> 'DELETE'`
    );
}

async function sourceRowCount(sb: Sandbox, pipeline: PipelineSpec, table: string): Promise<number> {
    if (pipeline.source.kind === "postgres") {
        const c = new Client({ connectionString: sb.postgresSource.url });
        await c.connect();
        try {
            return Number((await c.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
        } finally {
            await c.end();
        }
    }
    const c = await mysql.createConnection({ uri: sb.mariaDbSource.url });
    try {
        const [rows] = await c.query(`SELECT count(*) AS n FROM ${table}`);
        return Number((rows as { n: number }[])[0].n);
    } finally {
        await c.end();
    }
}

export async function lakehouseProgress(sb: Sandbox): Promise<LakehouseTableProgress[]> {
    const dests = lakehousePipelines(sb.spec).flatMap((p) => p.destinations.map((d) => ({ p, d })));
    const sql = dests.flatMap(({ d }) =>
        d.writeMode === "append"
            ? [`SELECT count(*) AS n FROM ${d.name}`, `SELECT count(*) AS n FROM (${currentStateSql(d)})`]
            : [`SELECT count(*) AS n FROM ${d.name}`, `SELECT count(*) AS n FROM ${d.name}`],
    );
    const existing = new Set(Object.keys(await sb.lakehouse.tablesNow()));
    const present = dests.every(({ d }) => existing.has(d.name));
    const counts = present ? (await sb.lakehouse.query<{ n: number }>(...sql)).map((r) => Number(r[0].n)) : undefined;
    return Promise.all(
        dests.map(async ({ p, d }, i) => ({
            table: d.name,
            rows: counts ? counts[2 * i] : 0,
            currentKeys: counts ? counts[2 * i + 1] : 0,
            sourceRows: await sourceRowCount(sb, p, d.table),
        })),
    );
}

export const lakehouseCaughtUp = (progress: readonly LakehouseTableProgress[]): boolean =>
    progress.length > 0 && progress.every((t) => t.currentKeys === t.sourceRows);

export const describeProgress = (progress: readonly LakehouseTableProgress[]): string =>
    progress.map((t) => `${t.table} ${t.rows} rows (${t.currentKeys}/${t.sourceRows} keys)`).join(", ");
