/** Reconciles one table pair: plan → scan both sides → drill into mismatching buckets → confirm → outcome. */
import { bucketExpr, chooseBucketHash } from "./bucket-hash";
import { BucketVector, mismatchedBuckets } from "./buckets";
import { confirm, ConfirmSettings, LagGate } from "./confirm";
import { Db } from "./db";
import { SideSql } from "./dialects/dialect";
import { drill, DrillSettings } from "./drill";
import { introspect } from "./introspect";
import { Partitioning, TableName } from "./model";
import { hashPartitioning, planTable, rangePartitioning, TableOptions, TablePlan } from "./plan";
import { buildSide, countQuery, minMaxQuery } from "./queries";
import { emptyOutcome, TableOutcome } from "./report";
import { ChunkSettings, scanSide } from "./scan";

export interface Settings extends ChunkSettings, DrillSettings, ConfirmSettings {
    /** Average rows per bucket the scan aims for; smaller buckets mean cheaper drill-down, bigger scan results. */
    bucketRows: number;
}

export const DEFAULT_SETTINGS: Settings = {
    bucketRows: 128,
    chunkSeconds: 2,
    initialChunkRows: 50_000,
    streams: 2,
    leafRows: 4096,
    drillBatchRows: 50_000,
    maxSuspectRows: 100_000,
    lagWindowSeconds: 30,
    recheckAttempts: 3,
    lookupBatch: 1000,
};

type Phase = "plan" | "scan" | "drill" | "confirm" | "done";

export interface ProgressEvent {
    table: string;
    phase: Phase;
    sourceRows?: number;
    targetRows?: number;
    estimatedRows?: number;
    suspects?: number;
    elapsedMs: number;
}

export interface TableSpec {
    source: TableName;
    target: TableName;
    options?: TableOptions;
}

const qualified = (t: TableName) => `${t.schema}.${t.table}`;

class StepError extends Error {
    constructor(
        readonly step: string,
        cause: Error,
    ) {
        super(cause.message);
        this.stack = cause.stack;
    }
}

async function step<T>(name: string, f: () => Promise<T>): Promise<T> {
    try {
        return await f();
    } catch (e) {
        if (e instanceof StepError) throw e;
        throw new StepError(name, e as Error);
    }
}

interface Side {
    db: Db;
    sql: SideSql;
}

/** The integer key range both sides span together; null when both are empty. */
async function keyRange(src: Side, tgt: Side): Promise<{ lo: bigint; hi: bigint } | null> {
    const bounds = await step("reading the key range", () =>
        Promise.all([src.db.query(minMaxQuery(src.db.dialect, src.sql)), tgt.db.query(minMaxQuery(tgt.db.dialect, tgt.sql))]),
    );
    const values = (column: 0 | 1) =>
        bounds
            .map((b) => b[0][column])
            .filter((v): v is string => v !== null)
            .map(BigInt);
    const [los, his] = [values(0), values(1)];
    if (los.length === 0) return null;
    return { lo: los.reduce((a, b) => (a < b ? a : b)), hi: his.reduce((a, b) => (a > b ? a : b)) };
}

/** Both table definitions, the column plan (recorded in the outcome) and each side's SQL, with a row estimate. */
async function planSides(
    source: Db,
    target: Db,
    spec: TableSpec,
    outcome: TableOutcome,
): Promise<{ plan: TablePlan; src: Side; tgt: Side; estimated: number }> {
    const [srcInfo, tgtInfo] = await step("reading the table definitions", () =>
        Promise.all([introspect(source, spec.source), introspect(target, spec.target)]),
    );
    const plan = await step("planning the comparison", async () => planTable(srcInfo, tgtInfo, spec.options));
    outcome.keyColumns = plan.columns.filter((c) => c.isKey).map((c) => c.source.name);
    outcome.valueColumns = plan.columns.map((c) => c.source.name);
    outcome.warnings = plan.warnings;
    outcome.excludedColumns = plan.excludedColumns;
    outcome.keyMode = plan.keyMode;
    const filter = plan.deletedColumn
        ? `${target.dialect.ident(plan.deletedColumn)} IS NULL OR ${target.dialect.ident(plan.deletedColumn)} <> 'true'`
        : null;
    const src = { db: source, sql: buildSide(source.dialect, spec.source, plan.columns, "source", null) };
    const tgt = { db: target, sql: buildSide(target.dialect, spec.target, plan.columns, "target", filter) };
    // Statistics can be missing (never analyzed); bucket sizing then needs a real count.
    const estimated =
        Math.max(srcInfo.estimatedRows ?? 0, tgtInfo.estimatedRows ?? 0) ||
        Number((await step("counting rows", () => source.query(countQuery(source.dialect, src.sql))))[0][0]);
    return { plan, src, tgt, estimated };
}

type BothSides<T> = Record<"source" | "target", T>;

/** Per-bucket checksums of both sides, scanned at once; `onRows` sees both running row counts. */
async function scanBoth(
    sides: BothSides<Side>,
    part: Partitioning,
    exprs: BothSides<string>,
    estimated: number,
    settings: Settings,
    onRows: (rows: BothSides<number>) => void,
): Promise<BothSides<BucketVector>> {
    const vectors = { source: new BucketVector(part.buckets), target: new BucketVector(part.buckets) };
    const rows = { source: 0, target: 0 };
    await step("scanning (per-bucket checksums)", () =>
        Promise.all(
            (["source", "target"] as const).map((side) =>
                scanSide(sides[side].db, sides[side].sql, part, exprs[side], estimated, settings, vectors[side], (n) => {
                    rows[side] = n;
                    onRows(rows);
                }),
            ),
        ),
    );
    return vectors;
}

export async function reconcileTable(
    source: Db,
    target: Db,
    spec: TableSpec,
    settings: Settings,
    onProgress: (e: ProgressEvent) => void = () => undefined,
    sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
    gate?: LagGate,
): Promise<TableOutcome> {
    const t0 = Date.now();
    const label = qualified(spec.source);
    const outcome: TableOutcome = emptyOutcome(qualified(spec.source), qualified(spec.target));
    const progress = (phase: Phase, extra: Partial<ProgressEvent> = {}) =>
        onProgress({ table: label, phase, elapsedMs: Date.now() - t0, ...extra });
    try {
        progress("plan");
        const { plan, src, tgt, estimated } = await planSides(source, target, spec, outcome);

        let part: Partitioning;
        if (plan.keyMode === "range") {
            const range = await keyRange(src, tgt);
            if (!range) {
                outcome.timings.plan = outcome.timings.total = Date.now() - t0;
                progress("done");
                return outcome;
            }
            part = rangePartitioning(range.lo, range.hi, estimated || null, settings.bucketRows);
        } else {
            const hash = await step("choosing the bucket hash", () => chooseBucketHash(source, target));
            part = hashPartitioning(estimated || null, settings.bucketRows, hash);
            outcome.bucketHash = hash;
        }
        const exprFor = (side: Side) =>
            part.kind === "range"
                ? side.db.dialect.rangeBucket(side.sql.keyCols[0], part.lo, part.width)
                : bucketExpr(side.db, side.sql.keyString, part.buckets, part.hash);
        const exprs = { source: exprFor(src), target: exprFor(tgt) };
        outcome.timings.plan = Date.now() - t0;

        const tScan = Date.now();
        const vectors = await scanBoth({ source: src, target: tgt }, part, exprs, estimated, settings, (rows) =>
            progress("scan", { sourceRows: rows.source, targetRows: rows.target, estimatedRows: estimated || undefined }),
        );
        outcome.timings.scan = Date.now() - tScan;
        outcome.sourceRows = vectors.source.rows;
        outcome.targetRows = vectors.target.rows;
        outcome.sourceSum = vectors.source.total;
        outcome.targetSum = vectors.target.total;
        const mismatched = mismatchedBuckets(vectors.source, vectors.target);
        outcome.buckets = { total: part.buckets, mismatched: mismatched.length };

        if (mismatched.length) {
            const tDrill = Date.now();
            progress("drill", { suspects: 0 });
            const d = await step("drilling into mismatching buckets", () => drill(src, tgt, part, exprs, mismatched, vectors, settings));
            outcome.timings.drill = Date.now() - tDrill;
            outcome.suspects = d.suspects.length;
            outcome.drillRowsRead = d.rowsRead;
            outcome.overflow = d.overflow;
            if (!d.overflow && d.suspects.length) {
                const tConfirm = Date.now();
                progress("confirm", { suspects: d.suspects.length });
                const c = await step("confirming suspect rows after the lag window", () =>
                    confirm(src, tgt, plan.columns, d.suspects, settings, sleep, gate),
                );
                outcome.timings.confirm = Date.now() - tConfirm;
                outcome.confirmed = c.confirmed;
                outcome.resolved = c.resolved;
                outcome.unstable = c.unstable;
                outcome.artifacts = c.artifacts;
                outcome.lagWait = c.lagWait;
            }
        }
    } catch (e) {
        const err = e as Error;
        outcome.error = { step: e instanceof StepError ? e.step : "reconciling", message: err.message };
        outcome.error.stack = err.stack;
    }
    outcome.timings.total = Date.now() - t0;
    progress("done");
    return outcome;
}
