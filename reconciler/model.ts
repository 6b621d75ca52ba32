/** Shared vocabulary of the reconciler: engines, introspected tables, and the per-column comparison plan. */

export type Engine = "postgres" | "mysql" | "mssql";

export interface TableName {
    schema: string;
    table: string;
}

/** One column as the database describes it, reduced to what normalization needs. */
export interface NativeColumn {
    name: string;
    /** Lower-case base type: `integer`, `numeric`, `timestamp with time zone`, `varchar`, `tinyint`, `datetime2`, ... */
    type: string;
    /** The engine's full spelling, used for casts back to the native type (`numeric(12,2)`, `tinyint(1) unsigned`). */
    fullType: string;
    precision: number | null;
    scale: number | null;
    /** Fractional-second digits for temporal types. */
    fsp: number | null;
    unsigned: boolean;
    /** Character set of text columns (MySQL only; null elsewhere). */
    charset: string | null;
    nullable: boolean;
    /** MariaDB declares JSON as LONGTEXT with a json_valid() check; introspection sets this from the check. */
    json: boolean;
}

export interface TableInfo {
    engine: Engine;
    name: TableName;
    columns: NativeColumn[];
    primaryKey: string[];
    /** Planner statistics; null when the engine has none yet. */
    estimatedRows: number | null;
}

/** Type families the canonical forms are defined for. */
export type Family =
    | "int"
    | "bool"
    | "decimal"
    | "float"
    | "text"
    | "char"
    | "uuid"
    | "date"
    | "time"
    | "timestamp"
    | "timestamptz"
    | "bytes"
    | "json"
    | "other";

/** The canonical form both sides of one column pair are rendered to before hashing. */
export type CanonicalKind =
    | { kind: "int" }
    | { kind: "bool" }
    | { kind: "decimal"; scale: number | null }
    | { kind: "float"; digits: number }
    | { kind: "text"; trimTrailingSpaces: boolean }
    | { kind: "uuid" }
    | { kind: "date" }
    | { kind: "time"; precision: number }
    | { kind: "timestamp"; precision: number }
    | { kind: "bytes" }
    | { kind: "json" }
    /** Identical native types on two PostgreSQL servers: the engine's own text output is canonical. */
    | { kind: "native_text" };

export interface ColumnPlan {
    source: NativeColumn;
    target: NativeColumn;
    canonical: CanonicalKind;
    /** False when the column cannot be hashed identically in both engines (cross-engine JSON): it is then
     * compared only for suspect rows, in TypeScript. */
    hashed: boolean;
    isKey: boolean;
}

export type Partitioning =
    /** Integer key: buckets are key ranges of `width`, so drill-down is an index range read. */
    | { kind: "range"; lo: bigint; hi: bigint; width: bigint; buckets: number }
    /**
     * Any other key: bucket = a hash of the canonical key modulo `buckets`, so no collation has to agree. `md5`
     * works across engines; `native` (the engine's own hash, same engine on both sides) is cheaper.
     */
    | { kind: "hash"; buckets: number; hash: BucketHash };

export type BucketHash = "md5" | "native";

export type Side = "source" | "target";
