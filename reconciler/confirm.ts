/**
 * Confirmation of suspects against replication lag (read–wait–read): read the source (S1), wait the lag window,
 * read the target (T), read the source again (S2). S1 = S2 ≠ T is a confirmed discrepancy: CDC preserves per-row
 * order, so after the wait the target has applied everything up to S1. S1 ≠ S2 means the row is still changing
 * and is retried; S1 = S2 = T means the first pass saw a row in flight.
 */
import { compareRow } from "./compare";
import { Db } from "./db";
import { SideSql } from "./dialects/dialect";
import { KEY_SEP, MismatchType, Suspect } from "./drill";
import { ColumnPlan } from "./model";
import { lookupQuery } from "./queries";

export interface ConfirmSettings {
    lagWindowSeconds: number;
    /** Read–wait–read rounds before a still-changing row is reported as unstable. */
    recheckAttempts: number;
    lookupBatch: number;
}

export interface RowState {
    hash: string;
    values: (string | null)[];
}

export interface Confirmed {
    key: string[];
    type: MismatchType;
    source: RowState | null;
    target: RowState | null;
    differingColumns: string[];
}

export interface ConfirmResult {
    confirmed: Confirmed[];
    /** Suspects that matched on recheck: the first pass saw them in flight. */
    resolved: number;
    /** Suspects still changing on the source after every attempt. */
    unstable: number;
    /** Hashes differed but the typed comparison found every value equal. */
    artifacts: number;
}

export async function lookupRows(db: Db, s: SideSql, keys: string[][], batch: number): Promise<Map<string, RowState>> {
    const out = new Map<string, RowState>();
    const n = s.keyCols.length;
    for (let i = 0; i < keys.length; i += batch) {
        for (const r of await db.query(lookupQuery(db.dialect, s, keys.slice(i, i + batch)))) {
            out.set(r.slice(0, n).join(KEY_SEP), { hash: String(r[n]), values: r.slice(n + 1) });
        }
    }
    return out;
}

const same = (a: RowState | undefined, b: RowState | undefined) =>
    a === undefined ? b === undefined : b !== undefined && a.hash === b.hash;

/** Classifies one key from its three reads. Pure. */
export function classify(
    s1: RowState | undefined,
    t: RowState | undefined,
    s2: RowState | undefined,
): "unstable" | "resolved" | MismatchType {
    if (!same(s1, s2)) return "unstable";
    if (same(s1, t)) return "resolved";
    if (s1 === undefined) return "missing_in_source";
    if (t === undefined) return "missing_in_target";
    return "value_mismatch";
}

export async function confirm(
    src: { db: Db; sql: SideSql },
    tgt: { db: Db; sql: SideSql },
    columns: ColumnPlan[],
    suspects: Suspect[],
    settings: ConfirmSettings,
    sleep: (ms: number) => Promise<void>,
): Promise<ConfirmResult> {
    const result: ConfirmResult = { confirmed: [], resolved: 0, unstable: 0, artifacts: 0 };
    let pending = suspects.map((s) => s.key);
    for (let attempt = 0; attempt < settings.recheckAttempts && pending.length; attempt++) {
        const s1 = await lookupRows(src.db, src.sql, pending, settings.lookupBatch);
        await sleep(settings.lagWindowSeconds * 1000);
        const t = await lookupRows(tgt.db, tgt.sql, pending, settings.lookupBatch);
        const s2 = await lookupRows(src.db, src.sql, pending, settings.lookupBatch);
        const again: string[][] = [];
        for (const key of pending) {
            const k = key.join(KEY_SEP);
            const verdict = classify(s1.get(k), t.get(k), s2.get(k));
            if (verdict === "unstable") again.push(key);
            else if (verdict === "resolved") result.resolved++;
            else {
                const source = s2.get(k) ?? null;
                const target = t.get(k) ?? null;
                const differingColumns = source && target ? compareRow(columns, source.values, target.values).differing : [];
                if (verdict === "value_mismatch" && differingColumns.length === 0) result.artifacts++;
                else result.confirmed.push({ key, type: verdict, source, target, differingColumns });
            }
        }
        pending = again;
    }
    result.unstable = pending.length;
    return result;
}
