/** The seed's reconciliation report: built from table outcomes (pure), validated, and written atomically. */
import Ajv from "ajv";
import { promises as fs } from "fs";
import * as path from "path";
import { checksumHex } from "./buckets";
import { Confirmed, LagWait } from "./confirm";
import { MismatchType } from "./drill";
import { BucketHash } from "./model";
import schema from "./report.schema.json";

export const CHECKSUM_DEFINITION = "sum of first 48 bits of MD5(canonical row, UTF-8) over all rows, 128-bit hex (reconciler/README.md)";

/** What reconciling one table produced; `report.ts` turns it into the seed's table entry. */
export interface TableOutcome {
    sourceTable: string;
    targetTable: string;
    keyColumns: string[];
    valueColumns: string[];
    sourceRows: number;
    targetRows: number;
    sourceSum: bigint;
    targetSum: bigint;
    confirmed: Confirmed[];
    /** Drill-down found more suspects than the budget: the differences were not enumerated. */
    overflow: boolean;
    resolved: number;
    unstable: number;
    artifacts: number;
    warnings: string[];
    excludedColumns: string[];
    keyMode: "range" | "hash" | null;
    /** Hash buckets only: MD5, or the engine's own hash when both sides run the same engine. */
    bucketHash: BucketHash | null;
    buckets: { total: number; mismatched: number };
    suspects: number;
    drillRowsRead: number;
    timings: { plan: number; scan: number; drill: number; confirm: number; total: number };
    /** How the confirm step waited for replication lag; absent when there was nothing to confirm. */
    lagWait?: LagWait;
    error?: { step: string; message: string; stack?: string };
}

/** A table's outcome before any step has run; the scan and failure paths fill it in. */
export function emptyOutcome(sourceTable: string, targetTable: string): TableOutcome {
    return {
        sourceTable,
        targetTable,
        keyColumns: [],
        valueColumns: [],
        sourceRows: 0,
        targetRows: 0,
        sourceSum: 0n,
        targetSum: 0n,
        confirmed: [],
        overflow: false,
        resolved: 0,
        unstable: 0,
        artifacts: 0,
        warnings: [],
        excludedColumns: [],
        keyMode: null,
        bucketHash: null,
        buckets: { total: 0, mismatched: 0 },
        suspects: 0,
        drillRowsRead: 0,
        timings: { plan: 0, scan: 0, drill: 0, confirm: 0, total: 0 },
    };
}

export type Status = "ok" | "row_count_mismatch" | "checksum_mismatch" | "critical";
export type ActionCode = "none" | "recheck_next_run" | "resync_rows" | "fix_pipeline_config" | "full_resnapshot" | "investigate_error";

export interface Discrepancy {
    primary_key: Record<string, string>;
    mismatch_type: MismatchType;
    source_values: Record<string, string | null> | null;
    target_values: Record<string, string | null> | null;
    differing_columns?: string[];
}

export interface TableReport {
    source_table: string;
    target_table: string;
    source_row_count: number;
    target_row_count: number;
    row_count_match: boolean;
    source_checksum: string;
    target_checksum: string;
    checksum_match: boolean;
    discrepancies: Discrepancy[];
    status: Status;
    recommended_action: string;
    recommended_action_code: ActionCode;
    discrepancy_totals: { missing_in_target: number; missing_in_source: number; value_mismatch: number; total: number };
    discrepancies_truncated: boolean;
    in_flight: { resolved_on_recheck: number; still_changing: number };
    normalization_artifacts: number;
    normalization_warnings: string[];
    excluded_columns: string[];
    key_partitioning?: "range" | "hash";
    bucket_hash?: BucketHash;
    buckets: { total: number; mismatched: number };
    suspect_rows: number;
    drill_rows_read: number;
    timings_ms: TableOutcome["timings"];
    rows_per_second: number;
    lag_wait?: { by: "gate" | "window"; waited_ms: number; window_ms: number; reason?: string };
    error?: { step: string; message: string };
}

/** One captured table's replication checkpoint when the run started (seed 000 §4; `cdc status` computes it). */
export interface TableCheckpoint {
    source_table: string;
    connector_name: string;
    state: string;
    last_lsn: string | null;
    last_event_timestamp: string | null;
    last_offset_commit: string | null;
    total_events_processed: number;
    sink_lag: number | null;
}

/** The checkpoint a run compared against: read from Connect and Kafka, or `none` (with why) when it had no access. */
export interface RunCheckpoint {
    source: "connect+kafka" | "none";
    taken_at: string;
    tables: TableCheckpoint[];
    note?: string;
}

export interface Report {
    report_id: string;
    generated_at: string;
    source_database: string;
    target_database: string;
    started_at: string;
    duration_ms: number;
    checksum_definition: string;
    checkpoint?: RunCheckpoint;
    tables: TableReport[];
    summary: {
        total_tables: number;
        tables_ok: number;
        tables_with_discrepancies: number;
        total_discrepancies: number;
        tables_failed: number;
        in_flight_rows: number;
    };
}

export interface Thresholds {
    maxDiscrepancies: number;
    /** Confirmed discrepancies above this fraction of the source rows make the table critical. */
    criticalRatio: number;
}

function totals(c: Confirmed[]) {
    const n = (t: MismatchType) => c.filter((x) => x.type === t).length;
    return {
        missing_in_target: n("missing_in_target"),
        missing_in_source: n("missing_in_source"),
        value_mismatch: n("value_mismatch"),
        total: c.length,
    };
}

export function tableStatus(o: TableOutcome, th: Thresholds): Status {
    if (o.error || o.overflow) return "critical";
    const t = totals(o.confirmed);
    if (t.total === 0) return "ok";
    if (t.total > Math.max(1, o.sourceRows * th.criticalRatio)) return "critical";
    if (o.sourceRows > 0 && o.targetRows === 0) return "critical";
    return t.missing_in_source + t.missing_in_target > 0 ? "row_count_mismatch" : "checksum_mismatch";
}

/** A single column behind every changed row points at a conversion in the pipeline rather than lost events. */
export function systematicColumn(c: Confirmed[]): string | null {
    const changed = c.filter((x) => x.type === "value_mismatch");
    if (changed.length < 10 || changed.length !== c.length) return null;
    const first = changed[0].differingColumns;
    return first.length === 1 && changed.every((x) => x.differingColumns.length === 1 && x.differingColumns[0] === first[0])
        ? first[0]
        : null;
}

export function recommendedAction(o: TableOutcome, status: Status, th: Thresholds): { code: ActionCode; text: string } {
    const t = totals(o.confirmed);
    if (o.error) {
        return {
            code: "investigate_error",
            text: `Reconciliation of ${o.sourceTable} failed while ${o.error.step}: ${o.error.message}. Fix the cause and re-run; no verdict was reached for this table.`,
        };
    }
    if (o.overflow || status === "critical") {
        const why = o.overflow
            ? `more than ${o.suspects - 1} rows differ`
            : `${t.total} rows differ (over ${th.criticalRatio * 100}% of ${o.sourceRows})`;
        return {
            code: "full_resnapshot",
            text:
                `${why}: check the sink connector for failed tasks and the dead-letter topic, then re-snapshot ${o.sourceTable} ` +
                `(Debezium incremental snapshot of the whole table via the signal table) instead of repairing rows one by one.`,
        };
    }
    if (status === "ok") {
        if (o.unstable > 0) {
            return {
                code: "recheck_next_run",
                text: `No confirmed discrepancies; ${o.unstable} rows were still changing on the source and will be rechecked on the next run.`,
            };
        }
        const inflight = o.resolved ? ` (${o.resolved} rows were in flight and matched on recheck)` : "";
        return { code: "none", text: `No action needed: ${o.targetTable} matches ${o.sourceTable}${inflight}.` };
    }
    const col = systematicColumn(o.confirmed);
    if (col) {
        return {
            code: "fix_pipeline_config",
            text:
                `All ${t.total} changed rows differ only in column ${col}: a systematic conversion, not lost events. Compare the column's ` +
                `types and the connector settings (time.precision.mode, decimal.handling.mode, sink column type), fix them, then re-snapshot the table.`,
        };
    }
    const parts = [
        t.missing_in_target ? `${t.missing_in_target} missing in the target` : "",
        t.missing_in_source ? `${t.missing_in_source} present only in the target (deletes not applied?)` : "",
        t.value_mismatch ? `${t.value_mismatch} with different values` : "",
    ].filter(Boolean);
    return {
        code: "resync_rows",
        text:
            `Re-sync ${t.total} rows of ${o.targetTable} from ${o.sourceTable} (${parts.join(", ")}): trigger a Debezium incremental snapshot ` +
            `limited to the listed primary keys (execute-snapshot signal with additional-conditions), or delete the target-only rows if the source deleted them.`,
    };
}

const MAX_VALUE_CHARS = 1000;
const clip = (v: string | null) => (v !== null && v.length > MAX_VALUE_CHARS ? `${v.slice(0, MAX_VALUE_CHARS)}…` : v);

function discrepancy(o: TableOutcome, c: Confirmed): Discrepancy {
    const values = (vals: (string | null)[] | undefined) =>
        vals ? Object.fromEntries(o.valueColumns.map((n, i) => [n, clip(vals[i])])) : null;
    const d: Discrepancy = {
        primary_key: Object.fromEntries(o.keyColumns.map((k, i) => [k, c.key[i]])),
        mismatch_type: c.type,
        source_values: values(c.source?.values),
        target_values: values(c.target?.values),
    };
    if (c.type === "value_mismatch") d.differing_columns = c.differingColumns;
    return d;
}

export function tableReport(o: TableOutcome, th: Thresholds): TableReport {
    const status = tableStatus(o, th);
    const action = recommendedAction(o, status, th);
    const sourceChecksum = checksumHex(o.sourceSum);
    const targetChecksum = checksumHex(o.targetSum);
    const r: TableReport = {
        source_table: o.sourceTable,
        target_table: o.targetTable,
        source_row_count: o.sourceRows,
        target_row_count: o.targetRows,
        row_count_match: o.sourceRows === o.targetRows,
        source_checksum: sourceChecksum,
        target_checksum: targetChecksum,
        checksum_match: sourceChecksum === targetChecksum,
        discrepancies: o.confirmed.slice(0, th.maxDiscrepancies).map((c) => discrepancy(o, c)),
        status,
        recommended_action: action.text,
        recommended_action_code: action.code,
        discrepancy_totals: totals(o.confirmed),
        discrepancies_truncated: o.confirmed.length > th.maxDiscrepancies,
        in_flight: { resolved_on_recheck: o.resolved, still_changing: o.unstable },
        normalization_artifacts: o.artifacts,
        normalization_warnings: o.warnings,
        excluded_columns: o.excludedColumns,
        buckets: o.buckets,
        suspect_rows: o.suspects,
        drill_rows_read: o.drillRowsRead,
        timings_ms: o.timings,
        rows_per_second: o.timings.scan > 0 ? Math.round(((o.sourceRows + o.targetRows) / 2 / o.timings.scan) * 1000) : 0,
    };
    if (o.keyMode) r.key_partitioning = o.keyMode;
    if (o.bucketHash) r.bucket_hash = o.bucketHash;
    if (o.lagWait) {
        r.lag_wait = { by: o.lagWait.by, waited_ms: o.lagWait.waitedMs, window_ms: o.lagWait.windowMs };
        if (o.lagWait.reason) r.lag_wait.reason = o.lagWait.reason;
    }
    if (o.error) r.error = { step: o.error.step, message: o.error.message };
    return r;
}

export function buildReport(args: {
    reportId: string;
    startedAt: Date;
    generatedAt: Date;
    sourceDatabase: string;
    targetDatabase: string;
    tables: TableOutcome[];
    thresholds: Thresholds;
    checkpoint?: RunCheckpoint;
}): Report {
    const tables = args.tables.map((t) => tableReport(t, args.thresholds));
    return {
        ...(args.checkpoint ? { checkpoint: args.checkpoint } : {}),
        report_id: args.reportId,
        generated_at: args.generatedAt.toISOString(),
        source_database: args.sourceDatabase,
        target_database: args.targetDatabase,
        started_at: args.startedAt.toISOString(),
        duration_ms: Math.max(0, args.generatedAt.getTime() - args.startedAt.getTime()),
        checksum_definition: CHECKSUM_DEFINITION,
        tables,
        summary: {
            total_tables: tables.length,
            tables_ok: tables.filter((t) => t.status === "ok").length,
            tables_with_discrepancies: tables.filter((t) => t.status !== "ok" && !t.error).length,
            total_discrepancies: tables.reduce((n, t) => n + t.discrepancy_totals.total, 0),
            tables_failed: tables.filter((t) => t.error).length,
            in_flight_rows: tables.reduce((n, t) => n + t.in_flight.resolved_on_recheck + t.in_flight.still_changing, 0),
        },
    };
}

const ajv = new Ajv({ allErrors: true });
const validateSchema = ajv.compile(schema);

export function validateReport(report: unknown): string[] {
    if (validateSchema(report)) return [];
    return (validateSchema.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`);
}

/** Validates, then writes via a temp file and rename so readers never see a partial report. */
export async function writeReport(dir: string, report: Report): Promise<string> {
    const errors = validateReport(report);
    if (errors.length) throw new Error(`report failed schema validation: ${errors.join("; ")}`);
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, `reconciliation-${report.report_id}.json`);
    const tmp = path.join(dir, `.reconciliation-${report.report_id}.json.tmp`);
    const handle = await fs.open(tmp, "w");
    try {
        await handle.writeFile(JSON.stringify(report, null, 2) + "\n");
        await handle.sync();
    } finally {
        await handle.close();
    }
    await fs.rename(tmp, file);
    return file;
}
