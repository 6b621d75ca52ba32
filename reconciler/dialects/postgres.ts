import { CanonicalKind, NativeColumn, TableName } from "../model";
import { Dialect, Fragment, P, Query, SideSql, and, numbered } from "./dialect";

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Reduces a temporal value to `p` fractional digits; PostgreSQL rounds on this cast, as it did on insert. */
function atPrecision(c: NativeColumn, col: string, p: number, base: "timestamp" | "timestamptz" | "time"): string {
    return (c.fsp ?? 6) > p ? `${col}::${base}(${p})` : col;
}

function canonical(c: NativeColumn, k: CanonicalKind, col: string, asKey: boolean): string {
    switch (k.kind) {
        case "int":
            return `${col}::text`;
        case "bool":
            return c.type === "boolean" ? `${col}::int::text` : `(${col} <> 0)::int::text`;
        case "decimal":
            // round(numeric, s) yields exactly s fraction digits; trim_scale when neither side declares a scale.
            return k.scale === null ? `trim_scale(${col}::numeric)::text` : `round(${col}::numeric, ${k.scale})::text`;
        case "float": {
            // x = m × 10^e with m a (digits)-digit integer; 10^-e is applied in two halves so neither factor
            // overflows or underflows for any finite double, subnormals included.
            const x = `${col}::float8`;
            const e = `(floor(log(abs(${x}))) - ${k.digits - 1})`;
            const a = `floor(-${e} / 2)`;
            return (
                `CASE WHEN ${x} = 0 THEN '0' WHEN ${x} IN ('NaN', 'Infinity', '-Infinity') THEN ${x}::text ` +
                `ELSE round(${x} * power(10::float8, ${a}) * power(10::float8, -${e} - ${a}))::bigint::text || 'e' || ${e}::int::text END`
            );
        }
        case "text":
            return k.trimTrailingSpaces && c.type !== "character" && c.type !== "bpchar" ? `rtrim(${col}::text, ' ')` : `${col}::text`;
        case "uuid":
            return c.type === "uuid" ? `${col}::text` : `lower(${col}::text)`;
        case "date":
            return `${col}::text`;
        case "time":
            return `to_char(${atPrecision(c, col, k.precision, "time")}::interval, 'HH24:MI:SS.US')`;
        case "timestamp": {
            const base = c.type === "timestamp with time zone" ? "timestamptz" : "timestamp";
            const v = atPrecision(c, col, k.precision, base);
            // to_char has no text for ±infinity; fall back to the engine's own spelling for those.
            return `COALESCE(to_char(${v}, 'YYYY-MM-DD HH24:MI:SS.US'), ${col}::text)`;
        }
        case "bytes":
            return asKey ? `encode(${col}, 'hex')` : `md5(${col})`;
        case "json":
            return `${col}::jsonb::text`;
        case "native_text":
            return `${col}::text`;
    }
}

export const postgres: Dialect = {
    engine: "postgres",
    ident: q,
    table: (t: TableName) => `${q(t.schema)}.${q(t.table)}`,
    session: [
        "SET TimeZone = 'UTC'",
        "SET DateStyle = 'ISO, YMD'",
        "SET IntervalStyle = 'postgres'",
        "SET extra_float_digits = 1",
        "SET bytea_output = 'hex'",
        "SET default_transaction_read_only = on",
        // The planner cannot estimate how few distinct buckets a chunk has and, past work_mem, sorts the whole chunk
        // (whole rows, spilled to disk) instead of hash-aggregating a few thousand groups: 1.2-1.5x the scan time.
        // Queries with no other plan (the drill-down's ORDER BY) still sort.
        "SET enable_sort = off",
    ],
    canonical: (c, k, asKey) => canonical(c, k, q(c.name), asKey),
    value(c, k) {
        const col = q(c.name);
        if (k.kind === "float") return `${col}::float8::text`;
        if (k.kind === "json") return `${col}::text`;
        if (k.kind === "bytes") return `encode(${col}, 'hex')`;
        return canonical(c, k, col, true);
    },
    frame: (fields) => fields.map((f) => `COALESCE('.' || ${f}, '')`).join(" || chr(31) || "),
    // md5(text) hashes the server-encoding bytes; the connection refuses non-UTF8 servers (see db.ts).
    hash48: (s) => `('x' || left(md5(${s}), 12))::bit(48)::bigint`,
    hashBucket: (s, buckets) => `(('x' || left(md5(${s}), 4))::bit(16)::int % ${buckets})`,
    // hashtextextended is the hash of hash partitioning, which PostgreSQL keeps stable across versions. Under
    // "C" it hashes the bytes: a nondeterministic (ICU) column collation would otherwise hash a sort key.
    nativeBucket: (s, buckets) => `(hashtextextended((${s}) COLLATE "C", 0) & ${buckets - 1})`,
    rangeBucket: (col, lo, width) => `((${col} - (${lo})) / ${width})`,
    nativeKeyText: (_c, col) => `${col}::text`,
    nativeKeyParam: (c) => `${P}::${c.fullType}`,
    sum: (h) => `sum(${h})`,
    keyCompare(cols, natives, op, values): Fragment {
        const rhs = natives.map((n) => `${P}::${n.fullType}`);
        return { sql: `(${cols.join(", ")}) ${op} (${rhs.join(", ")})`, params: values };
    },
    limitOffset: (select, orderBy, limit, offset) => `${select} ORDER BY ${orderBy} LIMIT ${limit} OFFSET ${offset}`,
    keyLookup(s: SideSql, keys: string[][]) {
        const names = s.keyCols.map((_, i) => `__k${i}`);
        const conds = s.keyCols.map((col, i) => {
            const n = s.keyNative[i];
            const v = `__keys.${names[i]}`;
            if (s.keyKinds[i].kind === "bytes") return `${col} = decode(${v}, 'hex')`;
            if (s.keyKinds[i].kind === "uuid" && n.type !== "uuid") return `${col} IN (${v}, upper(${v}))`;
            return `${col} = ${v}::${n.fullType}`;
        });
        const arrays = s.keyCols.map((_, i) => keys.map((k) => k[i]));
        return {
            join: `JOIN unnest(${names.map(() => `${P}::text[]`).join(", ")}) AS __keys(${names.join(", ")}) ON ${and(...conds)}`,
            where: "",
            params: arrays,
        };
    },
    finish: (query: Query) => ({ sql: numbered(query.sql, (i) => `$${i}`), params: query.params }),
};
