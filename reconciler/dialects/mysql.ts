import { CanonicalKind, NativeColumn, TableName } from "../model";
import { Dialect, Fragment, P, Query, SideSql, numbered } from "./dialect";

const q = (name: string) => "`" + name.replace(/`/g, "``") + "`";

const BINARY_TYPES = new Set(["binary", "varbinary", "blob", "tinyblob", "mediumblob", "longblob", "bit"]);

function utf8(c: NativeColumn, col: string): string {
    return c.charset && !/^utf8mb4/i.test(c.charset) ? `CONVERT(${col} USING utf8mb4)` : col;
}

/** Debezium turns zero dates into NULL for nullable columns and into the epoch for NOT NULL ones. */
function zeroDate(c: NativeColumn, text: string, zero: string, epoch: string): string {
    return c.nullable ? `NULLIF(${text}, '${zero}')` : `IF(${text} = '${zero}', '${epoch}', ${text})`;
}

function canonical(c: NativeColumn, k: CanonicalKind, col: string, asKey: boolean): string {
    switch (k.kind) {
        case "int":
            return `CAST(${col} AS CHAR)`;
        case "bool":
            return `CAST((${col} <> 0) AS CHAR)`;
        case "decimal":
            // MySQL caps DECIMAL scale at 30 (MariaDB at 38); wider scales are compared at 30 digits.
            return `CAST(CAST(${col} AS DECIMAL(65, ${Math.min(k.scale ?? 30, 30)})) AS CHAR)`;
        case "float": {
            const e = `CAST(FLOOR(LOG10(ABS(${col}))) - ${k.digits - 1} AS SIGNED)`;
            const a = `FLOOR(-${e} / 2)`;
            return `CASE WHEN ${col} = 0 THEN '0' ELSE CONCAT(CAST(ROUND(${col} * POW(10, ${a}) * POW(10, -${e} - ${a})) AS SIGNED), 'e', ${e}) END`;
        }
        case "text":
            return k.trimTrailingSpaces ? `TRIM(TRAILING ' ' FROM ${utf8(c, col)})` : utf8(c, col);
        case "uuid":
            return c.type === "uuid" ? `CAST(${col} AS CHAR)` : `LOWER(${utf8(c, col)})`;
        case "date":
            return zeroDate(c, `CAST(${col} AS CHAR)`, "0000-00-00", "1970-01-01");
        case "time": {
            const v = (c.fsp ?? 0) > k.precision ? `CAST(${col} AS TIME(${k.precision}))` : col;
            return `TIME_FORMAT(${v}, '%H:%i:%s.%f')`;
        }
        case "timestamp": {
            // Session time_zone is +00:00, so TIMESTAMP columns render as UTC; DATETIME is naive wall-clock.
            const v = (c.fsp ?? 0) > k.precision ? `CAST(${col} AS DATETIME(${k.precision}))` : col;
            return zeroDate(c, `DATE_FORMAT(${v}, '%Y-%m-%d %H:%i:%s.%f')`, "0000-00-00 00:00:00.000000", "1970-01-01 00:00:00.000000");
        }
        case "bytes":
            return asKey ? `LOWER(HEX(${col}))` : `MD5(${col})`;
        case "json":
        case "native_text":
            return `CAST(${col} AS CHAR)`;
    }
}

export function mysqlDialect(mariadb: boolean): Dialect {
    return {
        engine: "mysql",
        ident: q,
        table: (t: TableName) => `${q(t.schema)}.${q(t.table)}`,
        session: [
            "SET NAMES utf8mb4",
            "SET time_zone = '+00:00'",
            // Temporal casts to a lower precision must round, as PostgreSQL does when the sink inserts; MariaDB
            // truncates unless told otherwise, MySQL rounds by default.
            ...(mariadb ? ["SET SESSION sql_mode = CONCAT(@@sql_mode, ',TIME_ROUND_FRACTIONAL')"] : []),
            "SET SESSION TRANSACTION READ ONLY",
        ],
        canonical: (c, k, asKey) => canonical(c, k, q(c.name), asKey),
        value(c, k) {
            const col = q(c.name);
            if (k.kind === "float" || k.kind === "json") return `CAST(${col} AS CHAR)`;
            if (k.kind === "bytes") return `LOWER(HEX(${col}))`;
            return canonical(c, k, col, true);
        },
        frame: (fields) => `CONCAT(${fields.map((f) => `COALESCE(CONCAT('.', ${f}), '')`).join(", CHAR(31 USING utf8mb4), ")})`,
        hash48: (s) => `CAST(CONV(LEFT(MD5(${s}), 12), 16, 10) AS UNSIGNED)`,
        // 16 bits: CONV of 4 hex digits costs a quarter less per row than of 8, and buckets never exceed 2^13.
        hashBucket: (s, buckets) => `(CONV(LEFT(MD5(${s}), 4), 16, 10) % ${buckets})`,
        // CRC32 over the utf8mb4 bytes (SET NAMES above), the same function in MySQL and MariaDB.
        nativeBucket: (s, buckets) => `(CRC32(${s}) & ${buckets - 1})`,
        rangeBucket: (col, lo, width) => `((${col} - (${lo})) DIV ${width})`,
        nativeKeyText: (c, col) => (BINARY_TYPES.has(c.type) ? `HEX(${col})` : `CAST(${col} AS CHAR)`),
        nativeKeyParam: (c) => (BINARY_TYPES.has(c.type) ? `UNHEX(${P})` : P),
        sum: (h) => `SUM(${h})`,
        keyCompare(cols, natives, op, values): Fragment {
            // Expanded form: MariaDB's range optimizer does not use row-value comparisons on composite keys.
            const rhs = natives.map((n) => (BINARY_TYPES.has(n.type) ? `UNHEX(${P})` : P));
            const params: unknown[] = [];
            const ors: string[] = [];
            for (let i = 0; i < cols.length; i++) {
                const last = i === cols.length - 1;
                const eqs = cols.slice(0, i).map((c, j) => {
                    params.push(values[j]);
                    return `${c} = ${rhs[j]}`;
                });
                params.push(values[i]);
                const cmp = last ? op : op === ">" ? ">" : "<";
                ors.push([...eqs, `${cols[i]} ${cmp} ${rhs[i]}`].join(" AND "));
            }
            return { sql: ors.map((o) => `(${o})`).join(" OR "), params };
        },
        limitOffset: (select, orderBy, limit, offset) => `${select} ORDER BY ${orderBy} LIMIT ${limit} OFFSET ${offset}`,
        keyLookup(s: SideSql, keys: string[][]) {
            const one = (i: number) => (s.keyKinds[i].kind === "bytes" ? `UNHEX(${P})` : P);
            const tuple = s.keyCols.length === 1 ? one(0) : `(${s.keyCols.map((_, i) => one(i)).join(", ")})`;
            const lhs = s.keyCols.length === 1 ? s.keyCols[0] : `(${s.keyCols.join(", ")})`;
            return { join: "", where: `${lhs} IN (${keys.map(() => tuple).join(", ")})`, params: keys.flat() };
        },
        finish: (query: Query) => ({ sql: numbered(query.sql, () => "?"), params: query.params }),
    };
}
