/**
 * Column typing: which family a native column belongs to, and which canonical form a source/target pair is
 * compared in. The rules follow what the Debezium connectors and the Debezium JDBC sink do to each type on the
 * way into PostgreSQL (see README "Normalization rules").
 */
import { CanonicalKind, Engine, Family, NativeColumn } from "./model";

const INT_TYPES = new Set(["smallint", "integer", "int", "bigint", "tinyint", "mediumint", "int2", "int4", "int8", "serial", "bigserial"]);
const TEXT_TYPES = new Set([
    "text",
    "varchar",
    "character varying",
    "nvarchar",
    "ntext",
    "tinytext",
    "mediumtext",
    "longtext",
    "enum",
    "set",
    "citext",
    "name",
]);
const CHAR_TYPES = new Set(["char", "character", "bpchar", "nchar"]);
const BYTES_TYPES = new Set(["bytea", "binary", "varbinary", "blob", "tinyblob", "mediumblob", "longblob", "image"]);

export function familyOf(engine: Engine, c: NativeColumn): Family {
    const t = c.type;
    if (c.json || t === "json" || t === "jsonb") return "json";
    if (t === "boolean" || t === "bool") return "bool";
    if (t === "bit") {
        // SQL Server bit is a boolean; MySQL BIT(1) is what Debezium maps to BOOLEAN, wider BIT(n) to bytes.
        if (engine === "mssql" || (c.precision ?? 1) === 1) return "bool";
        return "bytes";
    }
    if (INT_TYPES.has(t)) return "int";
    if (t === "year") return "int";
    if (t === "numeric" || t === "decimal" || t === "money" || t === "smallmoney") return c.scale === 0 ? "int" : "decimal";
    if (t === "real" || t === "float" || t === "double" || t === "double precision" || t === "float4" || t === "float8") return "float";
    if (t === "uuid" || t === "uniqueidentifier") return "uuid";
    if (CHAR_TYPES.has(t)) return "char";
    if (TEXT_TYPES.has(t)) return "text";
    if (t === "date") return "date";
    if (t === "time" || t === "time without time zone") return "time";
    if (t === "timestamp with time zone" || t === "datetimeoffset") return "timestamptz";
    // MySQL TIMESTAMP is stored in UTC and rendered in the session zone, like timestamptz.
    if (t === "timestamp") return engine === "mysql" ? "timestamptz" : "timestamp";
    if (t === "timestamp without time zone" || t === "datetime" || t === "datetime2" || t === "smalldatetime") return "timestamp";
    if (BYTES_TYPES.has(t)) return "bytes";
    return "other";
}

/** Significant decimal digits a float column carries exactly: 6 for 4-byte floats, 15 for doubles. */
function floatDigits(engine: Engine, c: NativeColumn): number {
    if (c.type === "real" || c.type === "float4") return 6;
    if (engine === "mysql" && c.type === "float") return 6;
    if (engine === "mssql" && c.type === "float" && (c.precision ?? 53) <= 24) return 6;
    return 15;
}

/** Fractional-second digits a temporal column keeps (SQL Server datetime is 1/300 s, delivered as ms). */
function temporalPrecision(engine: Engine, c: NativeColumn): number {
    if (engine === "mssql" && c.type === "datetime") return 3;
    if (engine === "mssql" && c.type === "smalldatetime") return 0;
    return Math.min(c.fsp ?? 6, 6);
}

/** PostgreSQL money has the locale's 2 fraction digits; SQL Server money/smallmoney report scale 4 themselves. */
function moneyScale(engine: Engine, c: NativeColumn): number | null {
    return engine === "postgres" && c.type === "money" ? 2 : null;
}

interface Negotiated {
    canonical: CanonicalKind;
    hashed: boolean;
    /** Set when the pair is compared in a weaker or unusual form; it goes into the report. */
    warning?: string;
}

const TEMPORAL = new Set<Family>(["timestamp", "timestamptz"]);

/**
 * Chooses the canonical form for a source/target column pair: the lowest common precision and scale, booleans
 * as 0/1 on both sides, UUIDs in lower case, timestamps as UTC wall-clock text.
 */
export function negotiate(srcEngine: Engine, src: NativeColumn, tgtEngine: Engine, tgt: NativeColumn): Negotiated {
    const fs = familyOf(srcEngine, src);
    const ft = familyOf(tgtEngine, tgt);
    const both = (f: Family) => fs === f && ft === f;
    const either = (f: Family) => fs === f || ft === f;
    const pgPair = srcEngine === "postgres" && tgtEngine === "postgres";

    if (either("json")) {
        if (pgPair && both("json")) return { canonical: { kind: "json" }, hashed: true };
        return {
            canonical: { kind: "json" },
            hashed: false,
            warning: `JSON column ${src.name} is not hashed across engines (key order and number formats differ); it is compared only in rows that differ elsewhere`,
        };
    }
    if (either("bool") && (fs === "bool" || fs === "int") && (ft === "bool" || ft === "int"))
        return { canonical: { kind: "bool" }, hashed: true };
    if (both("int")) return { canonical: { kind: "int" }, hashed: true };
    if ((fs === "decimal" || fs === "int") && (ft === "decimal" || ft === "int")) {
        const scales = [
            fs === "int" ? 0 : (moneyScale(srcEngine, src) ?? src.scale),
            ft === "int" ? 0 : (moneyScale(tgtEngine, tgt) ?? tgt.scale),
        ];
        const declared = scales.filter((s): s is number => s !== null);
        return { canonical: { kind: "decimal", scale: declared.length ? Math.min(...declared) : null }, hashed: true };
    }
    if (either("float") && ["float", "decimal", "int"].includes(fs) && ["float", "decimal", "int"].includes(ft)) {
        const digits = Math.min(fs === "float" ? floatDigits(srcEngine, src) : 15, ft === "float" ? floatDigits(tgtEngine, tgt) : 15);
        const warning = both("float")
            ? undefined
            : `column ${src.name} is float on one side only (e.g. decimal.handling.mode=double): compared at ${digits} significant digits`;
        return { canonical: { kind: "float", digits }, hashed: true, warning };
    }
    if (either("uuid") && ["uuid", "text", "char"].includes(fs) && ["uuid", "text", "char"].includes(ft))
        return { canonical: { kind: "uuid" }, hashed: true };
    if (["text", "char"].includes(fs) && ["text", "char"].includes(ft)) {
        return { canonical: { kind: "text", trimTrailingSpaces: either("char") }, hashed: true };
    }
    if (both("date")) return { canonical: { kind: "date" }, hashed: true };
    if (both("time")) {
        return {
            canonical: { kind: "time", precision: Math.min(temporalPrecision(srcEngine, src), temporalPrecision(tgtEngine, tgt)) },
            hashed: true,
        };
    }
    if (TEMPORAL.has(fs) && TEMPORAL.has(ft)) {
        const precision = Math.min(temporalPrecision(srcEngine, src), temporalPrecision(tgtEngine, tgt));
        const warning =
            fs === ft
                ? undefined
                : `column ${src.name} is ${fs} in the source and ${ft} in the target: naive values are compared as UTC wall-clock time`;
        return { canonical: { kind: "timestamp", precision }, hashed: true, warning };
    }
    if (both("bytes")) return { canonical: { kind: "bytes" }, hashed: true };
    if (pgPair && src.fullType === tgt.fullType) return { canonical: { kind: "native_text" }, hashed: true };
    throw new Error(
        `column ${src.name}: no comparison rule for ${srcEngine} ${src.fullType} → ${tgtEngine} ${tgt.fullType} (exclude it with excludeColumns)`,
    );
}

/**
 * Parses PostgreSQL's `format_type()` output into the type name and its modifiers, e.g.
 * `numeric(12,2)` → numeric 12 2, `timestamp(3) with time zone` → timestamp with time zone, fsp 3.
 */
export function parsePgType(formatted: string): { type: string; precision: number | null; scale: number | null; fsp: number | null } {
    const m = /^([a-z0-9_ ."]+?)(?:\((\d+)(?:,(\d+))?\))?( with time zone| without time zone)?(\[\])?$/.exec(formatted.trim());
    if (!m || m[5]) return { type: formatted, precision: null, scale: null, fsp: null };
    const base = m[1].trim();
    const zone = m[4] ?? "";
    const a = m[2] === undefined ? null : Number(m[2]);
    const b = m[3] === undefined ? null : Number(m[3]);
    if (base === "timestamp" || base === "time") {
        return { type: `${base}${zone}`, precision: null, scale: null, fsp: a ?? 6 };
    }
    if (base === "numeric") return { type: "numeric", precision: a, scale: a === null ? null : (b ?? 0), fsp: null };
    if (base === "bit") return { type: "bit", precision: a ?? 1, scale: null, fsp: null };
    return { type: base, precision: a, scale: null, fsp: null };
}
