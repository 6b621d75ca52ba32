/**
 * Confirmation of suspects against replication lag (read–wait–read): read the source (S1), wait until the target
 * has applied everything up to S1, read the target (T), read the source again (S2). S1 = S2 ≠ T is a confirmed
 * discrepancy: CDC preserves per-row order, so after the wait the target has applied everything up to S1.
 * S1 ≠ S2 means the row is still changing and is retried; S1 = S2 = T means the first pass saw a row in flight.
 *
 * The wait is the lag window, unless a `LagGate` can tell sooner: it marks the pipeline's position right after
 * S1 and is polled until the sink has applied past that mark, the window staying the upper bound. Without a gate
 * (the CronJob has no Kafka access) or when the gate fails, the whole window is slept, and the outcome says so.
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

/**
 * Knows when the sink has applied everything the source had at a moment (ops/checkpoint-gate.ts implements it
 * from the sink's committed Kafka offsets). `mark` is called right after S1 is read.
 */
export interface LagGate {
    /** What the gate checks against, e.g. "sink connect-shop-sink past the table topic's end offsets". */
    describe: string;
    mark(): Promise<unknown>;
    passed(mark: unknown): Promise<boolean>;
}

/** How the confirm step waited: through the gate (and how long), or the whole window (and why). */
export interface LagWait {
    by: "gate" | "window";
    /** Longest wait of one attempt, milliseconds. */
    waitedMs: number;
    windowMs: number;
    /** Why the window was slept: no gate configured, the gate failed, or the window ran out first. */
    reason?: string;
}

const GATE_POLL_MS = 250;

/**
 * Waits up to `windowMs`: until `gate.passed(mark)`, or the whole window without a gate. A gate error ends the
 * polling and the rest of the window is slept, so a Kafka outage costs the time it always cost, never correctness.
 */
export async function waitForLag(
    windowMs: number,
    gate: LagGate | undefined,
    mark: unknown,
    sleep: (ms: number) => Promise<void>,
    now: () => number = Date.now,
): Promise<LagWait> {
    const start = now();
    if (!gate) {
        await sleep(windowMs);
        return { by: "window", waitedMs: windowMs, windowMs, reason: "no checkpoint source (Kafka) configured" };
    }
    for (;;) {
        let passed: boolean;
        try {
            passed = await gate.passed(mark);
        } catch (e) {
            const left = Math.max(0, windowMs - (now() - start));
            await sleep(left);
            return { by: "window", waitedMs: now() - start, windowMs, reason: `checkpoint check failed: ${(e as Error).message}` };
        }
        if (passed) return { by: "gate", waitedMs: now() - start, windowMs };
        const left = windowMs - (now() - start);
        if (left <= 0)
            return {
                by: "window",
                waitedMs: now() - start,
                windowMs,
                reason: `the sink did not pass the mark within the window (${gate.describe})`,
            };
        await sleep(Math.min(GATE_POLL_MS, left));
    }
}

export interface ConfirmResult {
    confirmed: Confirmed[];
    /** Suspects that matched on recheck: the first pass saw them in flight. */
    resolved: number;
    /** Suspects still changing on the source after every attempt. */
    unstable: number;
    /** Hashes differed but the typed comparison found every value equal. */
    artifacts: number;
    /** How each attempt waited for the lag (absent when nothing was confirmed). */
    lagWait?: LagWait;
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
    gate?: LagGate,
): Promise<ConfirmResult> {
    const result: ConfirmResult = { confirmed: [], resolved: 0, unstable: 0, artifacts: 0 };
    let pending = suspects.map((s) => s.key);
    for (let attempt = 0; attempt < settings.recheckAttempts && pending.length; attempt++) {
        const s1 = await lookupRows(src.db, src.sql, pending, settings.lookupBatch);
        let mark: unknown;
        let markError: Error | undefined;
        try {
            mark = gate ? await gate.mark() : undefined;
        } catch (e) {
            markError = e as Error;
        }
        const wait = markError
            ? {
                  ...(await waitForLag(settings.lagWindowSeconds * 1000, undefined, undefined, sleep)),
                  reason: `checkpoint mark failed: ${markError.message}`,
              }
            : await waitForLag(settings.lagWindowSeconds * 1000, gate, mark, sleep);
        // The report shows the slowest attempt: that is what the window had to cover.
        if (!result.lagWait || wait.waitedMs >= result.lagWait.waitedMs) result.lagWait = wait;
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
