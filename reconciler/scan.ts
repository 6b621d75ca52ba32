/**
 * The one full pass per side: time-boxed chunks in the side's own key order, each returning per-bucket counts
 * and hash sums (not row data), accumulated into a bucket vector.
 */
import { BucketVector } from "./buckets";
import { Db } from "./db";
import { SideSql } from "./dialects/dialect";
import { Partitioning } from "./model";
import { boundaryQuery, keysetCond, rangeCond, scanQuery } from "./queries";

export interface ChunkSettings {
  /** Target duration of one chunk query; sizes adapt towards it (pt-table-checksum's --chunk-time). */
  chunkSeconds: number;
  initialChunkRows: number;
}

/** Next chunk size from the last one's duration: move towards the target, at most ×4 up or ×0.5 down. */
export function nextChunkSize(current: number, elapsedMs: number, targetMs: number): number {
  const factor = Math.min(4, Math.max(0.5, targetMs / Math.max(elapsedMs, 1)));
  return Math.max(1, Math.round(current * factor));
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
  const targetMs = settings.chunkSeconds * 1000;
  if (part.kind === "range") {
    const end = part.hi + 1n;
    const rowsPerBucket = Math.max(1, estimatedRows / part.buckets);
    let stepBuckets = Math.max(1, Math.round(settings.initialChunkRows / rowsPerBucket));
    for (let from = part.lo; from < end; ) {
      const span = BigInt(stepBuckets) * part.width;
      const to = from + span < end ? from + span : end;
      const t0 = Date.now();
      vec.addRows(await db.query(scanQuery(db.dialect, s, bucketExpr, rangeCond(s.keyCols[0], from, to))));
      stepBuckets = nextChunkSize(stepBuckets, Date.now() - t0, targetMs);
      from = to;
      onChunk(vec.rows);
    }
    return;
  }
  let after: string[] | null = null;
  let chunkRows = settings.initialChunkRows;
  for (;;) {
    const t0 = Date.now();
    const boundary = (await db.query(boundaryQuery(db.dialect, s, after, chunkRows - 1)))[0] as string[] | undefined;
    const upTo = boundary ?? null;
    vec.addRows(await db.query(scanQuery(db.dialect, s, bucketExpr, keysetCond(db.dialect, s, after, upTo))));
    onChunk(vec.rows);
    if (!upTo) return;
    after = upTo;
    chunkRows = nextChunkSize(chunkRows, Date.now() - t0, targetMs);
  }
}
