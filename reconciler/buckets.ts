/**
 * Bucket vectors: per bucket, the row count and the sum of 48-bit row hashes. Sums are additive, so each side
 * may chunk its scan differently and the vectors still line up bucket by bucket.
 */
import { Cell } from "./db";

const MASK64 = (1n << 64n) - 1n;

export class BucketVector {
    readonly counts: Float64Array;
    /** Per-bucket sums modulo 2^64: equality is all a bucket comparison needs. */
    readonly sums: BigUint64Array;
    rows = 0;
    /** Exact table-wide sum, the basis of the report's checksum. */
    total = 0n;

    constructor(readonly size: number) {
        this.counts = new Float64Array(size);
        this.sums = new BigUint64Array(size);
    }

    add(bucket: number, count: number, sum: bigint): void {
        if (!(bucket >= 0 && bucket < this.size))
            throw new Error(`bucket ${bucket} outside 0..${this.size - 1}: the key changed range during the scan`);
        this.counts[bucket] += count;
        this.sums[bucket] = (this.sums[bucket] + sum) & MASK64;
        this.rows += count;
        this.total += sum;
    }

    /** Adds the rows of a `SELECT b, COUNT(*), SUM(h) ... GROUP BY b` result; `offset` shifts bucket ids. */
    addRows(rows: Cell[][], offset = 0): number {
        let n = 0;
        for (const [b, c, s] of rows) {
            const count = Number(c);
            this.add(Number(b) + offset, count, BigInt(s ?? "0"));
            n += count;
        }
        return n;
    }
}

export function mismatchedBuckets(a: BucketVector, b: BucketVector): number[] {
    const out: number[] = [];
    for (let i = 0; i < a.size; i++) if (a.counts[i] !== b.counts[i] || a.sums[i] !== b.sums[i]) out.push(i);
    return out;
}

/**
 * The table checksum: the exact sum over all rows of the first 48 bits of MD5(canonical row), as 32 lower-case
 * hex digits. Order-independent and equal on both sides exactly when the summed row hashes are.
 */
export function checksumHex(total: bigint): string {
    return (total & ((1n << 128n) - 1n)).toString(16).padStart(32, "0");
}
