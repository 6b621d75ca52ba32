/** The handful of query shapes the reconciler runs, assembled from a dialect's expressions. */
import { ColumnPlan, Side, TableName } from "./model";
import { Dialect, Fragment, Query, SideSql, and } from "./dialects/dialect";

export function buildSide(d: Dialect, table: TableName, columns: ColumnPlan[], side: Side, filter: string | null): SideSql {
    const native = (c: ColumnPlan) => (side === "source" ? c.source : c.target);
    const keys = columns.filter((c) => c.isKey);
    const keyCanon = keys.map((c) => d.canonical(native(c), c.canonical, true));
    const hashed = columns
        .filter((c) => c.hashed)
        .map((c) => (c.isKey ? d.canonical(native(c), c.canonical, true) : d.canonical(native(c), c.canonical, false)));
    return {
        table: d.table(table),
        filter,
        keyCols: keys.map((c) => d.ident(native(c).name)),
        keyNative: keys.map(native),
        keyKinds: keys.map((c) => c.canonical),
        keyCanon,
        keyString: d.frame(keyCanon),
        rowHash: d.hash48(d.frame(hashed)),
        values: columns.map((c) => d.value(native(c), c.canonical)),
    };
}

/** Per-bucket count and exact hash sum over the rows matching `cond`. */
export function scanQuery(d: Dialect, s: SideSql, bucket: string, cond: Fragment): Query {
    const inner = `SELECT ${bucket} AS b, ${s.rowHash} AS h FROM ${s.table} WHERE ${and(cond.sql, s.filter)}`;
    return d.finish({ sql: `SELECT b, COUNT(*), ${d.sum("h")} FROM (${inner}) s GROUP BY b`, params: cond.params });
}

/** One aggregate over the whole table: the benchmark's floor and a cheap whole-table verdict. */
export function totalQuery(d: Dialect, s: SideSql): Query {
    return d.finish({ sql: `SELECT COUNT(*), ${d.sum(s.rowHash)} FROM ${s.table} WHERE ${and(s.filter)}`, params: [] });
}

export function rangeCond(col: string, from: bigint, to: bigint): Fragment {
    return { sql: `${col} >= ${from} AND ${col} < ${to}`, params: [] };
}

export function rangesCond(col: string, ranges: [bigint, bigint][]): Fragment {
    return { sql: ranges.map(([a, b]) => `(${col} >= ${a} AND ${col} < ${b})`).join(" OR "), params: [] };
}

export function keysetCond(d: Dialect, s: SideSql, after: string[] | null, upTo: string[] | null): Fragment {
    const parts: Fragment[] = [];
    if (after) parts.push(d.keyCompare(s.keyCols, s.keyNative, ">", after));
    if (upTo) parts.push(d.keyCompare(s.keyCols, s.keyNative, "<=", upTo));
    return { sql: and(...parts.map((p) => p.sql)), params: parts.flatMap((p) => p.params) };
}

/** The key `offset` rows after `after` in this side's own index order, as native text. */
export function boundaryQuery(d: Dialect, s: SideSql, after: string[] | null, offset: number): Query {
    const cond = after ? d.keyCompare(s.keyCols, s.keyNative, ">", after) : { sql: "1=1", params: [] };
    // Aliased: PostgreSQL and SQL Server resolve ORDER BY names against output columns first, and `"id"::text`
    // keeps the name id, which would order integers as text.
    const cols = s.keyCols.map((c, i) => `${d.nativeKeyText(s.keyNative[i], c)} AS __b${i}`).join(", ");
    return d.finish({
        sql: d.limitOffset(`SELECT ${cols} FROM ${s.table} WHERE ${cond.sql}`, s.keyCols.join(", "), 1, offset),
        params: cond.params,
    });
}

/** PostgreSQL heap size in blocks, for TID-range chunking. */
export function blocksQuery(s: SideSql): Query {
    return { sql: "SELECT pg_relation_size($1::regclass) / current_setting('block_size')::int", params: [s.table] };
}

export function countQuery(d: Dialect, s: SideSql): Query {
    return d.finish({ sql: `SELECT COUNT(*) FROM ${s.table} WHERE ${and(s.filter)}`, params: [] });
}

export function minMaxQuery(d: Dialect, s: SideSql): Query {
    const k = s.keyCols[0];
    return d.finish({ sql: `SELECT MIN(${k}), MAX(${k}) FROM ${s.table} WHERE ${and(s.filter)}`, params: [] });
}

/** Canonical key, hash (and optionally bucket) of the rows matching `cond`. */
export function rowsQuery(d: Dialect, s: SideSql, cond: Fragment, bucket?: string): Query {
    const extra = bucket ? `, ${bucket}` : "";
    return d.finish({
        sql: `SELECT ${s.keyCanon.join(", ")}, ${s.rowHash}${extra} FROM ${s.table} WHERE ${and(cond.sql, s.filter)}`,
        params: cond.params,
    });
}

/** Bucket, canonical key and hash of the rows in the given buckets, ordered by bucket (hash-bucket drill-down). */
export function bucketRowsQuery(d: Dialect, s: SideSql, bucket: string, buckets: number[]): Query {
    const where = and(`${bucket} IN (${buckets.join(", ")})`, s.filter);
    return d.finish({
        sql: `SELECT ${bucket} AS __b, ${s.keyCanon.join(", ")}, ${s.rowHash} FROM ${s.table} WHERE ${where} ORDER BY __b`,
        params: [],
    });
}

/** Canonical key, hash and every compared value of the rows with the given canonical keys. */
export function lookupQuery(d: Dialect, s: SideSql, keys: string[][]): Query {
    const l = d.keyLookup(s, keys);
    const sql = `SELECT ${s.keyCanon.join(", ")}, ${s.rowHash}, ${s.values.join(", ")} FROM ${s.table} ${l.join} WHERE ${and(l.where || null, s.filter)}`;
    return d.finish({ sql, params: l.params });
}
