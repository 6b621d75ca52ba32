/**
 * Which hash assigns keys to buckets. MD5 is the same everywhere; an engine's native hash is far cheaper but only
 * usable when both sides run that engine and compute the same values, which a probe checks on the live servers
 * (a PostgreSQL built for another byte order, or a MySQL fork with another CRC, falls back to MD5).
 */
import { Db } from "./db";
import { BucketHash } from "./model";

/** ASCII, an empty key, Unicode beyond the BMP and a framed composite key. */
const PROBES = ["k1", "", "Zürich ✓ 😀", ".42\u001f.x"];
const PROBE_BUCKETS = 1 << 30;

export function probeQuery(db: Db): string | null {
    const f = db.dialect.nativeBucket;
    if (!f) return null;
    return `SELECT ${PROBES.map((p) => f(`'${p.replace(/'/g, "''")}'`, PROBE_BUCKETS)).join(", ")}`;
}

export async function chooseBucketHash(source: Db, target: Db): Promise<BucketHash> {
    if (source.engine !== target.engine) return "md5";
    const [qs, qt] = [probeQuery(source), probeQuery(target)];
    if (!qs || !qt) return "md5";
    const [a, b] = await Promise.all([source.query({ sql: qs, params: [] }), target.query({ sql: qt, params: [] })]);
    return a[0].map(String).join(",") === b[0].map(String).join(",") ? "native" : "md5";
}

export function bucketExpr(db: Db, keyString: string, buckets: number, hash: BucketHash): string {
    const native = db.dialect.nativeBucket;
    return hash === "native" && native ? native(keyString, buckets) : db.dialect.hashBucket(keyString, buckets);
}
