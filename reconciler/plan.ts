/** Pairs a source table with its replica: which columns are compared, how, and how rows are bucketed. */
import { familyOf, negotiate } from "./columns";
import { BucketHash, ColumnPlan, NativeColumn, Partitioning, TableInfo } from "./model";

export interface TableOptions {
    excludeColumns?: string[];
    /** Target column marking rows a Debezium rewrite kept as deleted ('true'); undefined → `__deleted` when the
     * target has it and the source does not; null → none. */
    deletedColumn?: string | null;
}

export interface TablePlan {
    columns: ColumnPlan[];
    deletedColumn: string | null;
    warnings: string[];
    excludedColumns: string[];
    keyMode: "range" | "hash";
}

const INTEGER_KEY_TYPES = new Set(["smallint", "integer", "int", "bigint", "tinyint", "mediumint"]);

export function planTable(source: TableInfo, target: TableInfo, opts: TableOptions = {}): TablePlan {
    const label = `${source.name.schema}.${source.name.table}`;
    if (source.primaryKey.length === 0) throw new Error(`source table ${label} has no primary key; rows cannot be matched`);
    const lower = (s: string) => s.toLowerCase();
    const tgtByName = new Map(target.columns.map((c) => [lower(c.name), c]));
    const srcByName = new Map(source.columns.map((c) => [lower(c.name), c]));
    const excluded = new Set((opts.excludeColumns ?? []).map(lower));
    const warnings: string[] = [];
    const excludedColumns: string[] = [];

    for (const k of source.primaryKey) {
        if (excluded.has(lower(k))) throw new Error(`primary key column ${k} cannot be excluded`);
        if (!tgtByName.has(lower(k))) throw new Error(`primary key column ${k} of ${label} is missing in the target table`);
    }
    const tgtKey = target.primaryKey.map(lower);
    if (tgtKey.length && tgtKey.join(",") !== source.primaryKey.map(lower).join(",")) {
        warnings.push(
            `target primary key (${target.primaryKey.join(", ")}) differs from the source's (${source.primaryKey.join(", ")}); rows are matched on the source's`,
        );
    }

    const deletedColumn =
        opts.deletedColumn !== undefined
            ? opts.deletedColumn
            : tgtByName.has("__deleted") && !srcByName.has("__deleted")
              ? tgtByName.get("__deleted")!.name
              : null;

    const keyOrder = source.primaryKey.map(lower);
    const ordered = [...source.columns].sort((a, b) => {
        const ka = keyOrder.indexOf(lower(a.name));
        const kb = keyOrder.indexOf(lower(b.name));
        return (ka < 0 ? Infinity : ka) - (kb < 0 ? Infinity : kb);
    });
    const columns: ColumnPlan[] = [];
    for (const src of ordered) {
        const isKey = keyOrder.includes(lower(src.name));
        if (excluded.has(lower(src.name))) {
            excludedColumns.push(src.name);
            continue;
        }
        const tgt = tgtByName.get(lower(src.name));
        if (!tgt) {
            excludedColumns.push(src.name);
            warnings.push(`column ${src.name} is missing in the target table and is not compared`);
            continue;
        }
        const n = negotiate(source.engine, src, target.engine, tgt);
        if (isKey && (n.canonical.kind === "float" || n.canonical.kind === "json")) {
            throw new Error(`primary key column ${src.name} has type ${src.fullType}, which cannot be matched exactly across engines`);
        }
        if (n.warning) warnings.push(n.warning);
        columns.push({ source: src, target: tgt, canonical: n.canonical, hashed: n.hashed, isKey });
    }
    for (const t of target.columns) {
        const name = lower(t.name);
        // Debezium's metadata columns (__deleted, __op, __source_ts_ms, ...) exist only in the replica by design.
        if (!srcByName.has(name) && !name.startsWith("__"))
            warnings.push(`column ${t.name} exists only in the target table and is not compared`);
    }

    const keys = columns.filter((c) => c.isKey);
    const isIntKey = (c: NativeColumn, engine: TableInfo["engine"]) => INTEGER_KEY_TYPES.has(c.type) && familyOf(engine, c) === "int";
    const keyMode =
        keys.length === 1 && isIntKey(keys[0].source, source.engine) && isIntKey(keys[0].target, target.engine) ? "range" : "hash";
    return { columns, deletedColumn, warnings, excludedColumns, keyMode };
}

const MAX_BUCKETS = 1 << 20;

/** Equal-width key ranges sized so an average bucket holds about `bucketRows` rows. */
export function rangePartitioning(lo: bigint, hi: bigint, estimatedRows: number | null, bucketRows: number): Partitioning {
    const span = hi - lo + 1n;
    const rows = estimatedRows && estimatedRows > 0 ? BigInt(Math.ceil(estimatedRows)) : span;
    const wanted = (rows < span ? rows : span) / BigInt(bucketRows) + 1n;
    const target = wanted > BigInt(MAX_BUCKETS) ? BigInt(MAX_BUCKETS) : wanted;
    let width = (span + target - 1n) / target;
    if (width < 1n) width = 1n;
    const buckets = Number((span + width - 1n) / width);
    return { kind: "range", lo, hi, width, buckets };
}

/**
 * Every scan chunk of a hash-partitioned table touches every bucket, so each chunk returns up to `buckets` rows;
 * past this many the scan's own result grows towards the table's size.
 */
const MAX_HASH_BUCKETS = 8192;

/** A power of two near rows/bucketRows (at most MAX_HASH_BUCKETS): each bucket is a fixed slice of hash space. */
export function hashPartitioning(estimatedRows: number | null, bucketRows: number, hash: BucketHash = "md5"): Partitioning {
    const want = Math.max(1, Math.ceil((estimatedRows ?? 0) / bucketRows));
    let buckets = 256;
    while (buckets < want && buckets < MAX_HASH_BUCKETS) buckets *= 2;
    return { kind: "hash", buckets, hash };
}
