/**
 * The one full pass per side: time-boxed chunks in the side's own storage or key order, each returning
 * per-bucket counts and hash sums (not row data), accumulated into a bucket vector. Chunk boundaries need not
 * agree between the sides: buckets are a function of the key alone, and sums are additive.
 */
import { BucketVector } from "./buckets";
import { Db } from "./db";
import { Fragment, SideSql } from "./dialects/dialect";
import { Partitioning } from "./model";
import { blocksQuery, boundaryQuery, keysetCond, rangeCond, scanQuery } from "./queries";

export interface ChunkSettings {
    /** Target duration of one chunk query; sizes adapt towards it (pt-table-checksum's --chunk-time). */
    chunkSeconds: number;
    initialChunkRows: number;
    /** Concurrent chunk queries per side, each on its own connection. */
    streams: number;
}

/** Next chunk size from the last one's duration: move towards the target, at most ×4 up or ×0.5 down. */
export function nextChunkSize(current: number, elapsedMs: number, targetMs: number): number {
    const factor = Math.min(4, Math.max(0.5, targetMs / Math.max(elapsedMs, 1)));
    return Math.max(1, Math.round(current * factor));
}

/** Hands out the chunks of one side's pass; `done` feeds each chunk's duration back into the sizing. */
interface ChunkSource {
    next(): Promise<Fragment | null>;
    done(elapsedMs: number): void;
}

/** PostgreSQL heap order: TID range scans are sequential whatever the key's correlation with storage. */
function physicalChunks(blocks: number, rowsPerBlock: number, s: ChunkSettings): ChunkSource {
    let step = Math.max(1, Math.round(s.initialChunkRows / rowsPerBlock));
    let from = 0;
    let finished = false;
    return {
        async next() {
            if (finished) return null;
            const to = from + step;
            const start = from;
            from = to;
            // The last chunk is open-ended so rows stored after the size was read are not skipped.
            if (to >= blocks) {
                finished = true;
                return { sql: `ctid >= '(${start},0)'::tid`, params: [] };
            }
            return { sql: `ctid >= '(${start},0)'::tid AND ctid < '(${to},0)'::tid`, params: [] };
        },
        done: (ms) => (step = nextChunkSize(step, ms, s.chunkSeconds * 1000)),
    };
}

/** Integer keys: consecutive key ranges. */
function rangeChunks(col: string, lo: bigint, hi: bigint, width: bigint, rowsPerBucket: number, s: ChunkSettings): ChunkSource {
    let stepBuckets = Math.max(1, Math.round(s.initialChunkRows / rowsPerBucket));
    const end = hi + 1n;
    let from = lo;
    return {
        async next() {
            if (from >= end) return null;
            const span = BigInt(stepBuckets) * width;
            const to = from + span < end ? from + span : end;
            const c = rangeCond(col, from, to);
            from = to;
            return c;
        },
        done: (ms) => (stepBuckets = nextChunkSize(stepBuckets, ms, s.chunkSeconds * 1000)),
    };
}

/** Other keys: keyset pages in the side's own index order, bounded by a boundary query per chunk. */
class KeysetChunks implements ChunkSource {
    private after: string[] | null = null;
    private finished = false;
    private chunkRows: number;
    private lock: Promise<unknown> = Promise.resolve();

    constructor(
        private readonly db: Db,
        private readonly sql: SideSql,
        private readonly s: ChunkSettings,
    ) {
        this.chunkRows = s.initialChunkRows;
    }

    next(): Promise<Fragment | null> {
        const r = this.lock.then(async () => {
            if (this.finished) return null;
            const q = boundaryQuery(this.db.dialect, this.sql, this.after, this.chunkRows - 1);
            const upTo = ((await this.db.query(q))[0] as string[] | undefined) ?? null;
            const cond = keysetCond(this.db.dialect, this.sql, this.after, upTo);
            if (upTo === null) this.finished = true;
            this.after = upTo;
            return cond;
        });
        this.lock = r;
        return r;
    }

    done(ms: number): void {
        this.chunkRows = nextChunkSize(this.chunkRows, ms, this.s.chunkSeconds * 1000);
    }
}

export async function scanSide(
    db: Db,
    s: SideSql,
    part: Partitioning,
    bucketExpr: string,
    estimatedRows: number,
    settings: ChunkSettings,
    vec: BucketVector,
    onChunk: (rowsSoFar: number) => void,
): Promise<void> {
    let source: ChunkSource;
    if (db.physicalChunks) {
        const blocks = Number((await db.query(blocksQuery(s)))[0][0]);
        source = physicalChunks(blocks, Math.max(1, estimatedRows / Math.max(1, blocks)), settings);
    } else if (part.kind === "range") {
        source = rangeChunks(s.keyCols[0], part.lo, part.hi, part.width, Math.max(1, estimatedRows / part.buckets), settings);
    } else {
        source = new KeysetChunks(db, s, settings);
    }
    // Keyset boundaries are read on `db` while the chunks run, so chunk queries then get connections of their own.
    const ownConnections = source instanceof KeysetChunks ? settings.streams : settings.streams - 1;
    const extra = await Promise.all(Array.from({ length: Math.max(0, ownConnections) }, () => db.fork()));
    const workers = source instanceof KeysetChunks ? extra : [db, ...extra];
    try {
        await Promise.all(
            workers.map(async (conn) => {
                for (let cond = await source.next(); cond; cond = await source.next()) {
                    const t0 = Date.now();
                    vec.addRows(await conn.query(scanQuery(conn.dialect, s, bucketExpr, cond)));
                    source.done(Date.now() - t0);
                    onChunk(vec.rows);
                }
            }),
        );
    } finally {
        await Promise.all(extra.map((c) => c.close()));
    }
}
