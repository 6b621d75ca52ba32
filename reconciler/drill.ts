/**
 * Drill-down: only mismatching buckets are read again, as (canonical key, row hash) pairs, and diffed to find the
 * suspect keys. Range buckets are index range reads; oversized range buckets are first split by a finer GROUP BY.
 * Hash buckets need one filtered pass per side (no index covers a hash of the key).
 */
import { BucketVector } from "./buckets";
import { batches, Cell, Db } from "./db";
import { Fragment, SideSql } from "./dialects/dialect";
import { Partitioning } from "./model";
import { bucketRowsQuery, rangeCond, rangesCond, rowsQuery, scanQuery } from "./queries";

export type MismatchType = "missing_in_target" | "missing_in_source" | "value_mismatch";

export interface Suspect {
    key: string[];
    type: MismatchType;
}

export interface DrillSettings {
    /** Range buckets estimated above this many rows are split before their rows are read. */
    leafRows: number;
    /** Rows per side held in memory at once while diffing. */
    drillBatchRows: number;
    /** Stop enumerating beyond this many suspects: the table is reported as needing a resnapshot. */
    maxSuspectRows: number;
}

interface DrillSide {
    db: Db;
    sql: SideSql;
}

interface DrillResult {
    suspects: Suspect[];
    overflow: boolean;
    rowsRead: number;
}

export const KEY_SEP = "\u001f";

/** Diffs two (key → hash) maps into suspects. Pure. */
export function diffKeyHashes(source: Map<string, string>, target: Map<string, string>): Suspect[] {
    const out: Suspect[] = [];
    for (const [k, h] of source) {
        const t = target.get(k);
        if (t === undefined) out.push({ key: k.split(KEY_SEP), type: "missing_in_target" });
        else if (t !== h) out.push({ key: k.split(KEY_SEP), type: "value_mismatch" });
    }
    for (const k of target.keys()) if (!source.has(k)) out.push({ key: k.split(KEY_SEP), type: "missing_in_source" });
    return out;
}

/** Groups items into batches whose estimated row total stays under `limit` (an item larger than it goes alone). */
export function batchByRows<T>(items: T[], rows: (t: T) => number, limit: number, maxItems: number): T[][] {
    const out: T[][] = [];
    let cur: T[] = [];
    let sum = 0;
    for (const it of items) {
        const r = rows(it);
        if (cur.length && (sum + r > limit || cur.length >= maxItems)) {
            out.push(cur);
            cur = [];
            sum = 0;
        }
        cur.push(it);
        sum += r;
    }
    if (cur.length) out.push(cur);
    return out;
}

async function keyHashes(side: DrillSide, cond: Fragment): Promise<Map<string, string>> {
    const n = side.sql.keyCols.length;
    const map = new Map<string, string>();
    await side.db.stream(rowsQuery(side.db.dialect, side.sql, cond), 10_000, (rows: Cell[][]) => {
        for (const r of rows) map.set(r.slice(0, n).join(KEY_SEP), String(r[n]));
    });
    return map;
}

interface Range {
    from: bigint;
    to: bigint;
    rows: number;
}

/** Splits oversized mismatching ranges with a finer per-range GROUP BY on both sides, down to leaves. */
async function refineRanges(src: DrillSide, tgt: DrillSide, ranges: Range[], width: bigint, leafRows: number): Promise<Range[]> {
    const leaves: Range[] = [];
    let todo = ranges.map((r) => ({ ...r, width }));
    while (todo.length) {
        const next: typeof todo = [];
        for (const r of todo) {
            if (r.rows <= leafRows || r.width <= 1n) {
                leaves.push(r);
                continue;
            }
            const w = (r.width + 63n) / 64n;
            const n = Number((r.to - r.from + w - 1n) / w);
            const vecs = await Promise.all(
                [src, tgt].map(async (side) => {
                    const v = new BucketVector(n);
                    const col = side.sql.keyCols[0];
                    v.addRows(
                        await side.db.query(
                            scanQuery(side.db.dialect, side.sql, side.db.dialect.rangeBucket(col, r.from, w), rangeCond(col, r.from, r.to)),
                        ),
                    );
                    return v;
                }),
            );
            for (let i = 0; i < n; i++) {
                if (vecs[0].counts[i] !== vecs[1].counts[i] || vecs[0].sums[i] !== vecs[1].sums[i]) {
                    const from = r.from + BigInt(i) * w;
                    const to = from + w < r.to ? from + w : r.to;
                    next.push({ from, to, rows: Math.max(vecs[0].counts[i], vecs[1].counts[i]), width: w });
                }
            }
        }
        todo = next;
    }
    return leaves;
}

export async function drill(
    src: DrillSide,
    tgt: DrillSide,
    part: Partitioning,
    bucketExprs: { source: string; target: string },
    mismatched: number[],
    vectors: { source: BucketVector; target: BucketVector },
    settings: DrillSettings,
): Promise<DrillResult> {
    const est = (b: number) => Math.max(vectors.source.counts[b], vectors.target.counts[b]);
    const suspects: Suspect[] = [];
    let rowsRead = 0;
    const run = async (conds: [Fragment, Fragment]): Promise<boolean> => {
        const [s, t] = await Promise.all([keyHashes(src, conds[0]), keyHashes(tgt, conds[1])]);
        rowsRead += s.size + t.size;
        for (const x of diffKeyHashes(s, t)) {
            suspects.push(x);
            if (suspects.length > settings.maxSuspectRows) return false;
        }
        return true;
    };
    if (part.kind === "range") {
        const ranges = mismatched.map((b) => {
            const from = part.lo + BigInt(b) * part.width;
            const to = from + part.width;
            return { from, to: to > part.hi + 1n ? part.hi + 1n : to, rows: est(b) };
        });
        const leaves = await refineRanges(src, tgt, ranges, part.width, settings.leafRows);
        for (const batch of batchByRows(leaves, (r) => r.rows, settings.drillBatchRows, 500)) {
            const pairs = batch.map((r) => [r.from, r.to] as [bigint, bigint]);
            if (!(await run([rangesCond(src.sql.keyCols[0], pairs), rangesCond(tgt.sql.keyCols[0], pairs)])))
                return { suspects, overflow: true, rowsRead };
        }
        return { suspects, overflow: false, rowsRead };
    }
    return drillHashBuckets(src, tgt, bucketExprs, mismatched, settings);
}

/** One bucket's rows at a time from a bucket-ordered stream. */
class BucketReader {
    private rows: Cell[][] = [];
    private i = 0;
    private readonly it: AsyncGenerator<Cell[][]>;

    constructor(side: DrillSide, bucket: string, buckets: number[]) {
        this.it = batches(side.db, bucketRowsQuery(side.db.dialect, side.sql, bucket, buckets), 10_000);
    }

    /** The bucket of the next row, or null at the end. */
    async peek(): Promise<number | null> {
        while (this.i >= this.rows.length) {
            const n = await this.it.next();
            if (n.done) return null;
            this.rows = n.value;
            this.i = 0;
        }
        return Number(this.rows[this.i][0]);
    }

    /** Key → hash of every row of `bucket` (the next bucket, or one this side has no rows in). */
    async take(bucket: number, keyCount: number): Promise<Map<string, string>> {
        const map = new Map<string, string>();
        while ((await this.peek()) === bucket) {
            const r = this.rows[this.i++];
            map.set(r.slice(1, 1 + keyCount).join(KEY_SEP), String(r[1 + keyCount]));
        }
        return map;
    }

    stop(): Promise<unknown> {
        return this.it.return(undefined);
    }
}

/**
 * Hash buckets: no index covers the bucket, so each side is read once, filtered to the mismatching buckets and
 * ordered by bucket, and the two streams are diffed bucket by bucket. Memory holds one bucket per side whatever
 * the number of mismatching buckets; the sort is over the selected rows only.
 */
async function drillHashBuckets(
    src: DrillSide,
    tgt: DrillSide,
    exprs: { source: string; target: string },
    mismatched: number[],
    settings: DrillSettings,
): Promise<DrillResult> {
    const keyCount = src.sql.keyCols.length;
    const readers = [new BucketReader(src, exprs.source, mismatched), new BucketReader(tgt, exprs.target, mismatched)];
    const suspects: Suspect[] = [];
    let rowsRead = 0;
    try {
        for (;;) {
            const [a, b] = await Promise.all(readers.map((r) => r.peek()));
            if (a === null && b === null) break;
            const bucket = a === null ? b! : b === null ? a : Math.min(a, b);
            const [s, t] = await Promise.all(readers.map((r) => r.take(bucket, keyCount)));
            rowsRead += s.size + t.size;
            for (const x of diffKeyHashes(s, t)) {
                suspects.push(x);
                if (suspects.length > settings.maxSuspectRows) return { suspects, overflow: true, rowsRead };
            }
        }
        return { suspects, overflow: false, rowsRead };
    } finally {
        await Promise.all(readers.map((r) => r.stop()));
    }
}
