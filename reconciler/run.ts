/** One reconciliation run: connect, reconcile every table, write the report, push metrics, pick the exit code. */
import { randomUUID } from "crypto";
import { ReconcilerConfig, resolveEndpoint, settingsOf, tablePair, thresholdsOf } from "./config";
import { connect, Db, parseDatabaseUrl } from "./db";
import { parseTableName } from "./introspect";
import { pushMetrics } from "./metrics";
import { Logger } from "./progress";
import type { LagGate } from "./confirm";
import { reconcileTable, TableSpec } from "./reconcile";
import { buildReport, emptyOutcome, Report, RunCheckpoint, TableOutcome, tableReport, writeReport } from "./report";

const EXIT_OK = 0;
const EXIT_DISCREPANCIES = 1;
export const EXIT_ERROR = 2;

interface RunResult {
    report: Report;
    reportFile: string | null;
    exitCode: number;
}

function failedOutcome(source: string, target: string, step: string, e: Error): TableOutcome {
    return { ...emptyOutcome(source, target), error: { step, message: e.message, stack: e.stack } };
}

/** Exit code from the report: 2 if any table has no verdict, 1 if any is not ok, else 0. Pure. */
export function exitCodeOf(report: Report): number {
    if (report.tables.some((t) => t.error)) return EXIT_ERROR;
    return report.tables.every((t) => t.status === "ok") ? EXIT_OK : EXIT_DISCREPANCIES;
}

/**
 * Where the pipeline stands, for runs that can see Kafka Connect and Kafka (the sandbox, `cdc snapshot`):
 * `checkpoint` is read once before the first table and recorded in the report; `gateFor` lets a table's confirm
 * step stop waiting as soon as the sink has caught up. The CronJob passes none and sleeps the lag window.
 */
interface PipelineProgress {
    checkpoint(): Promise<RunCheckpoint>;
    gateFor(sourceTable: string): LagGate | undefined;
}

const NO_CHECKPOINT_NOTE = "no access to Kafka Connect and Kafka: the confirm step slept the full lag window";

export async function runReconciliation(
    config: ReconcilerConfig,
    log: Logger,
    verbose = false,
    progress?: PipelineProgress,
): Promise<RunResult> {
    const startedAt = new Date();
    let checkpoint: RunCheckpoint = { source: "none", taken_at: startedAt.toISOString(), tables: [], note: NO_CHECKPOINT_NOTE };
    if (progress) {
        try {
            checkpoint = await progress.checkpoint();
        } catch (e) {
            // The checkpoint only speeds the run up; without it the run is what it always was.
            log.error(`reading the replication checkpoint: ${(e as Error).message}`);
            checkpoint.note = `reading the checkpoint failed (${(e as Error).message}); the confirm step may sleep the full lag window`;
        }
    }
    const settings = settingsOf(config);
    const thresholds = thresholdsOf(config);
    const pairs = config.tables.map(tablePair);
    const urls = { source: resolveEndpoint(config.source), target: resolveEndpoint(config.target) };
    const parsed = { source: parseDatabaseUrl(urls.source), target: parseDatabaseUrl(urls.target) };
    const outcomes: TableOutcome[] = [];
    const dbs: Partial<Record<"source" | "target", Db>> = {};
    let connectError: { step: string; error: Error } | null = null;
    for (const side of ["source", "target"] as const) {
        try {
            dbs[side] = await connect(urls[side]);
        } catch (e) {
            connectError = { step: `connecting to the ${side} database ${parsed[side].label}`, error: e as Error };
            break;
        }
    }
    const failed = (o: TableOutcome) =>
        log.error(`table ${o.sourceTable}: failed while ${o.error!.step}: ${o.error!.message}`, verbose ? { stack: o.error!.stack } : {});
    try {
        for (const p of pairs) {
            if (connectError || !dbs.source || !dbs.target) {
                const o = failedOutcome(p.source, p.target, connectError!.step, connectError!.error);
                outcomes.push(o);
                failed(o);
                continue;
            }
            let spec: TableSpec;
            try {
                spec = {
                    source: parseTableName(p.source, dbs.source.engine, parsed.source.database),
                    target: parseTableName(p.target, dbs.target.engine, parsed.target.database),
                    options: { excludeColumns: p.excludeColumns, deletedColumn: p.deletedColumn },
                };
            } catch (e) {
                const o = failedOutcome(p.source, p.target, "parsing the table name", e as Error);
                outcomes.push(o);
                failed(o);
                continue;
            }
            const o = await reconcileTable(
                dbs.source,
                dbs.target,
                spec,
                settings,
                (e) => log.progress(e),
                undefined,
                progress?.gateFor(p.source),
            );
            outcomes.push(o);
            const t = tableReport(o, thresholds);
            if (o.error) {
                failed(o);
            } else {
                log.info(`table ${t.source_table} → ${t.target_table}: ${t.status}`, {
                    table: t.source_table,
                    status: t.status,
                    discrepancies: t.discrepancy_totals.total,
                    inFlight: t.in_flight,
                    durationMs: t.timings_ms.total,
                });
            }
        }
    } finally {
        await Promise.all(Object.values(dbs).map((d) => d!.close().catch(() => undefined)));
    }
    const report = buildReport({
        reportId: randomUUID(),
        startedAt,
        generatedAt: new Date(),
        sourceDatabase: parsed.source.label,
        targetDatabase: parsed.target.label,
        tables: outcomes,
        thresholds,
        checkpoint,
    });
    let exitCode = exitCodeOf(report);
    let reportFile: string | null = null;
    try {
        reportFile = await writeReport(config.reportDir, report);
    } catch (e) {
        log.error(`writing the report to ${config.reportDir}: ${(e as Error).message}`);
        exitCode = EXIT_ERROR;
    }
    if (config.pushgateway) {
        try {
            await pushMetrics(config.pushgateway.url, config.pushgateway.job, config.pushgateway.labels, report, new Date());
        } catch (e) {
            // Metrics are best effort: the report is the record, so a Pushgateway outage does not fail the run.
            log.error(`pushing metrics to ${config.pushgateway.url}: ${(e as Error).message}`);
        }
    }
    return { report, reportFile, exitCode };
}
