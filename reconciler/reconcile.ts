/** Reconciles one table pair: plan → scan both sides → drill into mismatching buckets → confirm → outcome. */
import { bucketExpr, chooseBucketHash } from "./bucket-hash";
import { BucketVector, mismatchedBuckets } from "./buckets";
import { confirm, ConfirmSettings, LagGate } from "./confirm";
import { Db } from "./db";
import { drill, DrillSettings } from "./drill";
import { introspect } from "./introspect";
import { Partitioning, TableName } from "./model";
import { hashPartitioning, planTable, rangePartitioning, TableOptions } from "./plan";
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

        let part: Partitioning;
        if (plan.keyMode === "range") {
            const bounds = await step("reading the key range", () =>
                Promise.all([source.query(minMaxQuery(source.dialect, src.sql)), target.query(minMaxQuery(target.dialect, tgt.sql))]),
            );
            const los = bounds
                .map((b) => b[0][0])
                .filter((v): v is string => v !== null)
                .map(BigInt);
            const his = bounds
                .map((b) => b[0][1])
                .filter((v): v is string => v !== null)
                .map(BigInt);
            if (los.length === 0) {
                outcome.timings.plan = outcome.timings.total = Date.now() - t0;
                progress("done");
                return outcome;
            }
            const lo = los.reduce((a, b) => (a < b ? a : b));
            const hi = his.reduce((a, b) => (a > b ? a : b));
            part = rangePartitioning(lo, hi, estimated || null, settings.bucketRows);
        } else {
            const hash = await step("choosing the bucket hash", () => chooseBucketHash(source, target));
            part = hashPartitioning(estimated || null, settings.bucketRows, hash);
            outcome.bucketHash = hash;
        }
        const exprFor = (side: typeof src) =>
            part.kind === "range"
                ? side.db.dialect.rangeBucket(side.sql.keyCols[0], part.lo, part.width)
                : bucketExpr(side.db, side.sql.keyString, part.buckets, part.hash);
        const exprs = { source: exprFor(src), target: exprFor(tgt) };
        outcome.timings.plan = Date.now() - t0;

        const tScan = Date.now();
        const vectors = { source: new BucketVector(part.buckets), target: new BucketVector(part.buckets) };
        const rows = { source: 0, target: 0 };
        const report = () => progress("scan", { sourceRows: rows.source, targetRows: rows.target, estimatedRows: estimated || undefined });
        await step("scanning (per-bucket checksums)", () =>
            Promise.all(
                (["source", "target"] as const).map((side) =>
                    scanSide(
                        side === "source" ? source : target,
                        (side === "source" ? src : tgt).sql,
                        part,
                        exprs[side],
                        estimated,
                        settings,
                        vectors[side],
                        (n) => {
                            rows[side] = n;
                            report();
                        },
                    ),
                ),
            ),
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
