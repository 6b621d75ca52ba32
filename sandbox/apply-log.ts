/**
 * Measures what the sink applies, inside the target database: a row trigger on each target table
 * logs the change's source timestamp (the row's update-time column, written by the change stream at
 * commit) next to `clock_timestamp()` at apply time. Both clocks are this machine's, so the difference
 * is the end-to-end lag from source commit to target row.
 */
import { Client } from "pg";
import type { TablePair } from "./table-pairs";

/** The column the change stream stamps with the change's time, per seed-004 table. */
const SOURCE_TIME_COLUMN: Readonly<Record<string, string>> = {
    customers: "last_updated",
    orders: "last_updated",
    products: "updated_at",
    inventory_transactions: "created_at",
};

/**
 * Lag is taken from these tables only: their source times are TIMESTAMP (microseconds), while the
 * seed's MariaDB tables use DATETIME, which keeps whole seconds and would add up to a second of error.
 */
const LAG_TABLES = ["customers", "orders"] as const;

const LOG = "cdc_sandbox.apply_log";

/** Installs the log and the triggers; the target tables must exist (created by the sink on first write). */
export async function installApplyLog(targetUrl: string, pairs: readonly TablePair[]): Promise<void> {
    const c = new Client({ connectionString: targetUrl });
    await c.connect();
    try {
        await c.query(`CREATE SCHEMA IF NOT EXISTS cdc_sandbox`);
        // Unlogged: measurement data, not worth WAL that would slow the sink being measured.
        await c.query(`CREATE UNLOGGED TABLE IF NOT EXISTS ${LOG} (tbl text, op char(1), source_ts timestamp, applied_at timestamp)`);
        for (const pair of pairs) {
            const column = SOURCE_TIME_COLUMN[pair.table];
            if (!column) continue;
            const fn = `cdc_sandbox.log_${pair.table}`;
            await c.query(`CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO ${LOG} VALUES (TG_TABLE_NAME, left(TG_OP, 1),
                        CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.${column} END,
                        clock_timestamp() AT TIME ZONE 'UTC');
                    RETURN NULL;
                END $$`);
            await c.query(`DROP TRIGGER IF EXISTS cdc_sandbox_apply_log ON ${pair.target}`);
            await c.query(
                `CREATE TRIGGER cdc_sandbox_apply_log AFTER INSERT OR UPDATE OR DELETE ON ${pair.target} FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
            );
        }
    } finally {
        await c.end();
    }
}

interface ApplyStats {
    applied: number;
    /** Source-commit-to-target-row lag over LAG_TABLES, seconds; null before any such change was applied. */
    p50: number | null;
    p99: number | null;
    max: number | null;
    firstAppliedAt: Date | null;
    lastAppliedAt: Date | null;
}

/**
 * Counts the changes applied since the log was installed, and their lag. Inserts and updates carry a
 * source time; deletes are counted but have none. `since` limits the lag to changes made after it.
 */
export async function applyStats(targetUrl: string, since?: Date): Promise<ApplyStats> {
    const c = new Client({ connectionString: targetUrl });
    await c.connect();
    try {
        const params = since ? [since.toISOString().replace("T", " ").replace("Z", "")] : [];
        // Every logged change counts as applied; lag only over changes stamped at or after `since`.
        const timed = `tbl IN (${LAG_TABLES.map((t) => `'${t}'`).join(",")})${since ? " AND source_ts >= $1" : ""}`;
        const { rows } = await c.query(
            `SELECT count(*)::int AS applied,
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - source_ts)) FILTER (WHERE ${timed}) AS p50,
                    percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - source_ts)) FILTER (WHERE ${timed}) AS p99,
                    max(extract(epoch FROM applied_at - source_ts)) FILTER (WHERE ${timed}) AS max,
                    min(applied_at) AS first, max(applied_at) AS last
               FROM ${LOG}`,
            params,
        );
        const r = rows[0];
        const num = (v: unknown) => (v === null ? null : Number(v));
        return { applied: r.applied, p50: num(r.p50), p99: num(r.p99), max: num(r.max), firstAppliedAt: r.first, lastAppliedAt: r.last };
    } finally {
        await c.end();
    }
}

/** Changes applied at or after `from` (target clock), and when the last one was. */
export async function appliedSince(targetUrl: string, from: Date): Promise<{ applied: number; lastAppliedAt: Date | null }> {
    const c = new Client({ connectionString: targetUrl });
    await c.connect();
    try {
        const { rows } = await c.query(`SELECT count(*)::int AS applied, max(applied_at) AS last FROM ${LOG} WHERE applied_at >= $1`, [
            from.toISOString().replace("T", " ").replace("Z", ""),
        ]);
        return { applied: rows[0].applied, lastAppliedAt: rows[0].last };
    } finally {
        await c.end();
    }
}
