/**
 * Whether each target table holds exactly its source table's rows, decided by the reconciler itself
 * (reconciler/reconcile.ts): its typed canonical forms per column pair (DECIMAL to its scale, booleans against
 * TINYINT(1), timestamps to the common precision, JSON by value), so the sandbox, the e2e tests and the bench judge
 * a copy the way the production CronJob does. No lag window: callers poll while replication catches up.
 */
import { waitUntil, WaitTimeoutError } from "../model/wait";
import { connect, parseDatabaseUrl } from "../reconciler/db";
import { parseTableName } from "../reconciler/introspect";
import { DEFAULT_SETTINGS, reconcileTable, Settings } from "../reconciler/reconcile";
import type { TableOutcome } from "../reconciler/report";
import type { TablePair } from "./table-pairs";

export interface Endpoints {
    postgresSourceUrl: string;
    mariaDbSourceUrl: string;
    targetUrl: string;
}

export interface TableDiff {
    table: string;
    sourceRows: number;
    targetRows: number;
    /** Primary keys (columns joined with "|") in the source only, in the target only, and in both with other values. */
    missing: string[];
    extra: string[];
    different: { key: string; columns: string[] }[];
    /** Rows still changing on the source when the reconciler read them again. */
    unsettled: number;
    /** More differing rows than the reconciler lists: only the counts say how far apart the tables are. */
    overflow: boolean;
    /** Why the tables could not be compared, e.g. the target table does not exist yet. */
    error?: string;
}

/** A poll, not a verdict: suspects are read again at once, and a row changing meanwhile counts as unsettled. */
const POLL_SETTINGS: Settings = { ...DEFAULT_SETTINGS, lagWindowSeconds: 0, recheckAttempts: 1 };

const keyOf = (key: string[]): string => key.join("|");

function tableDiff(table: string, o: TableOutcome): TableDiff {
    const confirmed = (type: string) => o.confirmed.filter((c) => c.type === type);
    return {
        table,
        sourceRows: o.sourceRows,
        targetRows: o.targetRows,
        missing: confirmed("missing_in_target").map((c) => keyOf(c.key)),
        extra: confirmed("missing_in_source").map((c) => keyOf(c.key)),
        different: confirmed("value_mismatch").map((c) => ({ key: keyOf(c.key), columns: c.differingColumns })),
        unsettled: o.unstable,
        overflow: o.overflow,
        ...(o.error ? { error: `${o.error.step}: ${o.error.message}` } : {}),
    };
}

export const inSync = (d: TableDiff): boolean =>
    d.error === undefined && !d.overflow && d.unsettled === 0 && d.missing.length === 0 && d.extra.length === 0 && d.different.length === 0;

export function describeDiff(d: TableDiff, limit = 5): string {
    if (d.error !== undefined) return `${d.table}: not compared (${d.error})`;
    if (inSync(d)) return `${d.table}: ${d.sourceRows} rows, in sync`;
    const parts = [
        `${d.table}: source ${d.sourceRows} rows, target ${d.targetRows}`,
        d.missing.length ? `missing in target: ${d.missing.length} (${d.missing.slice(0, limit).join(", ")})` : "",
        d.extra.length ? `only in target: ${d.extra.length} (${d.extra.slice(0, limit).join(", ")})` : "",
        ...d.different.slice(0, limit).map((x) => `key ${x.key}: ${x.columns.join(", ")} differ`),
        d.unsettled ? `still changing on the source: ${d.unsettled}` : "",
        d.overflow ? "more differing rows than the reconciler lists" : "",
    ];
    return parts.filter(Boolean).join("; ");
}

export async function diffPair(e: Endpoints, pair: TablePair): Promise<TableDiff> {
    const sourceUrl = pair.engine === "postgres" ? e.postgresSourceUrl : e.mariaDbSourceUrl;
    const source = await connect(sourceUrl);
    try {
        const target = await connect(e.targetUrl);
        try {
            const spec = {
                source: parseTableName(pair.source, source.engine, parseDatabaseUrl(sourceUrl).database),
                target: parseTableName(pair.target, target.engine, parseDatabaseUrl(e.targetUrl).database),
            };
            return tableDiff(pair.target, await reconcileTable(source, target, spec, POLL_SETTINGS));
        } finally {
            await target.close();
        }
    } finally {
        await source.close();
    }
}

/** Polls until every pair is in sync; on timeout returns the last diffs so the caller can say what differs. */
export async function waitForSync(
    e: Endpoints,
    pairs: readonly TablePair[],
    timeoutMs: number,
    pollMs = 1000,
): Promise<{ synced: boolean; diffs: TableDiff[] }> {
    let diffs: TableDiff[] = [];
    try {
        await waitUntil(
            "every target table to equal its source",
            timeoutMs,
            async () => {
                diffs = await Promise.all(pairs.map((p) => diffPair(e, p)));
                return diffs.every(inSync);
            },
            { intervalMs: pollMs },
        );
        return { synced: true, diffs };
    } catch (err) {
        if (err instanceof WaitTimeoutError) return { synced: false, diffs };
        throw err;
    }
}
