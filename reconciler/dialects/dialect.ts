/**
 * SQL generation per engine. Everything here is pure text building, so every dialect (including SQL Server,
 * which has no server in CI) is tested as text, and the PostgreSQL/MariaDB output is also tested against
 * real servers.
 */
import { CanonicalKind, Engine, NativeColumn, TableName } from "../model";

/** `$?` marks a bind parameter; each dialect numbers or rewrites it when the query is finished. */
export const P = "$?";

export interface Query {
    sql: string;
    params: unknown[];
}

export interface Fragment {
    sql: string;
    params: unknown[];
}

/** Everything needed to query one side of one table. */
export interface SideSql {
    table: string;
    /** Extra predicate (e.g. hide rows a Debezium rewrite marked deleted); null for none. */
    filter: string | null;
    keyCols: string[];
    keyNative: NativeColumn[];
    keyKinds: CanonicalKind[];
    keyCanon: string[];
    /** Canonical key string (framed like a row), input of the hash bucket. */
    keyString: string;
    /** 48-bit row hash of the framed canonical row (hashed columns only). */
    rowHash: string;
    /** Per compared column, the value returned for suspect rows. */
    values: string[];
}

export interface Dialect {
    engine: Engine;
    ident(name: string): string;
    table(t: TableName): string;
    /** Session settings that make value→text conversion deterministic. */
    session: string[];
    /** Canonical text of a column; NULL stays NULL. */
    canonical(c: NativeColumn, k: CanonicalKind, asKey: boolean): string;
    /** The value shown in the report and used by the typed comparison. */
    value(c: NativeColumn, k: CanonicalKind): string;
    /** Joins canonical fields: NULL → '' and a value v → '.' || v, separated by U+001F. */
    frame(fields: string[]): string;
    /** First 48 bits of MD5(UTF-8 bytes of s), as an unsigned integer. */
    hash48(s: string): string;
    /** First 16 bits of MD5(UTF-8 bytes of s), modulo `buckets` (a power of two up to 2^13). */
    hashBucket(s: string, buckets: number): string;
    /**
     * A cheap engine-native hash of s modulo `buckets` (a power of two), or null when the engine has none. Only
     * used when both sides run the same engine and a probe shows they agree: MD5 per row costs a third of a row
     * hash in PostgreSQL (its per-call overhead), the native hashes almost nothing.
     */
    nativeBucket: ((s: string, buckets: number) => string) | null;
    /** floor((col - lo) / width) for an integer column. */
    rangeBucket(col: string, lo: bigint, width: bigint): string;
    /** The key column as text that casts back to the same value in the same engine (keyset boundaries). */
    nativeKeyText(c: NativeColumn, col: string): string;
    /** Converts a native key text parameter back to the column type. */
    nativeKeyParam(c: NativeColumn): string;
    /** Exact SUM of 48-bit hashes. */
    sum(h: string): string;
    /** `(a, b) > (x, y)`-style keyset comparison over native key parameters. */
    keyCompare(cols: string[], natives: NativeColumn[], op: ">" | "<=", values: string[]): Fragment;
    limitOffset(select: string, orderBy: string, limit: number, offset: number): string;
    /** Restricts to rows whose canonical key is one of `keys`. */
    keyLookup(s: SideSql, keys: string[][]): { join: string; where: string; params: unknown[] };
    /** Turns `$?` markers into the driver's placeholders. */
    finish(q: Query): Query;
}

export function and(...parts: (string | null | undefined)[]): string {
    const p = parts.filter((x): x is string => !!x);
    return p.length ? p.map((x) => `(${x})`).join(" AND ") : "1=1";
}

export function numbered(sql: string, marker: (i: number) => string): string {
    let i = 0;
    return sql.split(P).reduce((acc, part, idx) => (idx === 0 ? part : acc + marker(++i) + part), "");
}
