/**
 * SQL Server dialect. No SQL Server runs in this repository's CI: this text is unit-tested only (see
 * README "SQL Server"). Requires SQL Server 2019+ for the UTF-8 collation that makes HASHBYTES see the same
 * bytes as PostgreSQL and MySQL.
 */
import { CanonicalKind, NativeColumn, TableName } from "../model";
import { Dialect, Fragment, P, Query, SideSql, numbered } from "./dialect";

const q = (name: string) => `[${name.replace(/]/g, "]]")}]`;

const UTF8 = "Latin1_General_100_BIN2_UTF8";
const utf8Bytes = (s: string) => `CONVERT(VARCHAR(MAX), ${s} COLLATE ${UTF8})`;

/** Temporal text: reduce to the common precision (CONVERT rounds), then print with 6 fraction digits. */
function datetimeText(c: NativeColumn, col: string, p: number): string {
    const utc = c.type === "datetimeoffset" ? `SWITCHOFFSET(${col}, '+00:00')` : col;
    return `CONVERT(NVARCHAR(26), CONVERT(DATETIME2(6), CONVERT(DATETIME2(${p}), ${utc})), 121)`;
}

function canonical(c: NativeColumn, k: CanonicalKind, col: string, asKey: boolean): string {
    switch (k.kind) {
        case "int":
            return `CONVERT(NVARCHAR(40), ${col})`;
        case "bool":
            return c.type === "bit" ? `CONVERT(NVARCHAR(1), ${col})` : `CASE WHEN ${col} <> 0 THEN N'1' WHEN ${col} = 0 THEN N'0' END`;
        case "decimal":
            return `CONVERT(NVARCHAR(60), CONVERT(DECIMAL(38, ${Math.min(k.scale ?? 10, 38)}), ${col}))`;
        case "float": {
            const x = `CONVERT(FLOAT, ${col})`;
            const e = `(CONVERT(INT, FLOOR(LOG10(ABS(${x})))) - ${k.digits - 1})`;
            const a = `FLOOR(-${e} / 2.0)`;
            return (
                `CASE WHEN ${x} = 0 THEN N'0' ELSE CONVERT(NVARCHAR(30), CONVERT(BIGINT, ROUND(${x} * POWER(CONVERT(FLOAT, 10), ${a}) * POWER(CONVERT(FLOAT, 10), -${e} - ${a}), 0))) ` +
                `+ N'e' + CONVERT(NVARCHAR(10), ${e}) END`
            );
        }
        case "text": {
            const v = c.type === "nvarchar" || c.type === "nchar" || c.type === "ntext" ? col : `CONVERT(NVARCHAR(MAX), ${col})`;
            return k.trimTrailingSpaces ? `RTRIM(${v})` : v;
        }
        case "uuid":
            return c.type === "uniqueidentifier" ? `LOWER(CONVERT(NCHAR(36), ${col}))` : `LOWER(${col})`;
        case "date":
            return `CONVERT(NVARCHAR(10), ${col}, 23)`;
        case "time":
            return `CONVERT(NVARCHAR(15), CONVERT(TIME(6), CONVERT(TIME(${k.precision}), ${col})))`;
        case "timestamp":
            return datetimeText(c, col, k.precision);
        case "bytes":
            return asKey ? `LOWER(CONVERT(NVARCHAR(MAX), ${col}, 2))` : `LOWER(CONVERT(NVARCHAR(32), HASHBYTES('MD5', ${col}), 2))`;
        case "json":
        case "native_text":
            return `CONVERT(NVARCHAR(MAX), ${col})`;
    }
}

const keyType = (c: NativeColumn) => c.fullType;

export const mssql: Dialect = {
    engine: "mssql",
    ident: q,
    table: (t: TableName) => `${q(t.schema)}.${q(t.table)}`,
    session: [
        "SET LANGUAGE us_english",
        "SET DATEFORMAT ymd",
        "SET CONCAT_NULL_YIELDS_NULL ON",
        "SET ARITHABORT ON",
        "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
    ],
    canonical: (c, k, asKey) => canonical(c, k, q(c.name), asKey),
    value(c, k) {
        const col = q(c.name);
        if (k.kind === "float") return `CONVERT(NVARCHAR(30), CONVERT(FLOAT, ${col}), 3)`;
        if (k.kind === "json") return `CONVERT(NVARCHAR(MAX), ${col})`;
        if (k.kind === "bytes") return `LOWER(CONVERT(NVARCHAR(MAX), ${col}, 2))`;
        return canonical(c, k, col, true);
    },
    frame: (fields) => fields.map((f) => `ISNULL(N'.' + ${f}, N'')`).join(" + NCHAR(31) + "),
    hash48: (s) => `CONVERT(BIGINT, SUBSTRING(HASHBYTES('MD5', ${utf8Bytes(s)}), 1, 6))`,
    hashBucket: (s, buckets) => `(CONVERT(INT, SUBSTRING(HASHBYTES('MD5', ${utf8Bytes(s)}), 1, 2)) % ${buckets})`,
    // CHECKSUM and BINARY_CHECKSUM are collation- and type-dependent; MD5 stays the bucket hash.
    nativeBucket: null,
    rangeBucket: (col, lo, width) => `((CONVERT(BIGINT, ${col}) - (${lo})) / ${width})`,
    nativeKeyText: (c, col) =>
        ["binary", "varbinary"].includes(c.type)
            ? `CONVERT(NVARCHAR(MAX), ${col}, 1)`
            : ["datetime", "datetime2", "datetimeoffset"].includes(c.type)
              ? `CONVERT(NVARCHAR(40), ${col}, 126)`
              : `CONVERT(NVARCHAR(4000), ${col})`,
    nativeKeyParam: (c) => (["binary", "varbinary"].includes(c.type) ? `CONVERT(${keyType(c)}, ${P}, 1)` : `CONVERT(${keyType(c)}, ${P})`),
    sum: (h) => `SUM(CONVERT(DECIMAL(38, 0), ${h}))`,
    keyCompare(cols, natives, op, values): Fragment {
        const rhs = natives.map((n) => mssql.nativeKeyParam(n));
        const params: unknown[] = [];
        const ors: string[] = [];
        for (let i = 0; i < cols.length; i++) {
            const eqs = cols.slice(0, i).map((c, j) => {
                params.push(values[j]);
                return `${c} = ${rhs[j]}`;
            });
            params.push(values[i]);
            const cmp = i === cols.length - 1 ? op : op === ">" ? ">" : "<";
            ors.push([...eqs, `${cols[i]} ${cmp} ${rhs[i]}`].join(" AND "));
        }
        return { sql: ors.map((o) => `(${o})`).join(" OR "), params };
    },
    limitOffset: (select, orderBy, limit, offset) => `${select} ORDER BY ${orderBy} OFFSET ${offset} ROWS FETCH NEXT ${limit} ROWS ONLY`,
    keyLookup(s: SideSql, keys: string[][]) {
        // One JSON parameter instead of thousands of bind variables (SQL Server allows 2,100 per request).
        const withCols = s.keyCols.map((_, i) => `__k${i} NVARCHAR(4000) '$[${i}]'`).join(", ");
        const conds = s.keyCols.map((col, i) => {
            const n = s.keyNative[i];
            if (s.keyKinds[i].kind === "bytes") return `${col} = CONVERT(${keyType(n)}, __keys.__k${i}, 2)`;
            return `${col} = CONVERT(${keyType(n)}, __keys.__k${i})`;
        });
        return {
            join: `JOIN OPENJSON(${P}) WITH (${withCols}) AS __keys ON ${conds.join(" AND ")}`,
            where: "",
            params: [JSON.stringify(keys)],
        };
    },
    finish: (query: Query) => ({ sql: numbered(query.sql, (i) => `@p${i}`), params: query.params }),
};
