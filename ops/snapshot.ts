/**
 * `cdc snapshot <table> [--where <filter>]`: re-sync one captured table without a full re-snapshot. Sends Debezium's
 * `execute-snapshot` (INCREMENTAL, optionally with a filter) through the source's Kafka signal topic, follows the
 * notification topic from STARTED through the chunks to COMPLETED, waits until the sink has committed past what the
 * snapshot wrote, and runs the reconciler on that table.
 *
 * An incremental snapshot re-reads rows that exist in the source and upserts them in the target; it never deletes.
 * Target rows whose key the source no longer has stay: the reconciler reports them (missing_in_source), the command
 * lists their keys and exits 1, and only `--delete-extra` deletes exactly those keys from the target, then
 * reconciles again. Never by default: a row the source lacks may be a delete still in flight, or a row someone
 * keeps in the target on purpose, and the reconciler's re-check after its lag window is what tells them apart.
 */
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { parseFlags } from "../model/args";
import { notificationTopicName, sinkConsumerGroup, signalTopicName, dataTopicName } from "../model/naming";
import type { PipelineSpec } from "../model/spec";
import { validateReconcilerConfig } from "../reconciler/config";
import { connect, Db } from "../reconciler/db";
import { jsonLogger, Logger, ttyLogger } from "../reconciler/progress";
import type { TableReport } from "../reconciler/report";
import { runReconciliation } from "../reconciler/run";
import { Command, EXIT, RefusedError, UnreachableError, UsageError } from "./command";
import { InRecord, KafkaClient } from "./kafka-client";
import { RecordDecoder, recordDecoderFor, UndecodableRecord } from "./record-decoder";
import { readSignalTableFacts, signalTableFix, signalTableProblem } from "./signal-table";
import { emit, OUTPUT_FLAGS } from "./output";
import {
    concernsSnapshot,
    deleteRowSql,
    executeSnapshotSignal,
    extraTargetKeys,
    findSnapshotTable,
    parseNotification,
    progressLine,
    scanStatus,
    SnapshotNotification,
    SnapshotTable,
    UnknownTableError,
} from "./snapshot-signal";
import { connectClient, describeTarget, resolveTarget, Target, TARGET_FLAGS, TARGET_USAGE } from "./target";

const USAGE = [
    "cdc snapshot <table> [--where <SQL filter>] [--pipeline <name>] [--delete-extra] [target flags]",
    "  <table>                      a captured table: schema.table (MySQL/MariaDB database.table; SQL Server also database.schema.table)",
    '  --where <filter>             only rows matching this SQL condition, in the source\'s dialect (e.g. "customer_id BETWEEN 10 AND 20")',
    "  --pipeline <name>            the pipeline, when two capture a table of that name",
    "  --delete-extra               delete the target rows the reconciler confirms the source does not have (never by default)",
    "  --start-timeout <s>          give up when the connector has not started the snapshot after this long (default 120)",
    "  --timeout <s>                give up when the snapshot has not completed after this long (default 3600)",
    "  --lag-window <s>             the reconciler's re-check window for rows still changing (default 30)",
    "  --source-url-file <file>     stack targets: a file holding the source database URL (default: $CDC_SOURCE_URL_FILE)",
    "  --target-url-file <file>     stack targets: a file holding the target database URL (default: $CDC_TARGET_URL_FILE)",
    "  --report-dir <dir>           where the reconciliation report is written (default: the sandbox's reports, else ./cdc-reports)",
    TARGET_USAGE,
].join("\n");

const FLAGS = {
    ...OUTPUT_FLAGS,
    ...TARGET_FLAGS,
    where: { type: "string" },
    pipeline: { type: "string" },
    "delete-extra": { type: "boolean" },
    "start-timeout": { type: "number", min: 1 },
    timeout: { type: "number", min: 1 },
    "lag-window": { type: "number", min: 0 },
    "source-url-file": { type: "string" },
    "target-url-file": { type: "string" },
    "report-dir": { type: "string" },
} as const;

/** Debezium's Kafka signal channel polls every signal.poll.interval.ms (5 s by default); the stack leaves it there. */
const POLL_MS = 500;
/** How long the sink may take to commit past the snapshot's records (it commits every offset.flush.interval.ms, 10 s). */
const SINK_WAIT_MS = 120_000;

export interface ReconciliationSummary {
    status: TableReport["status"];
    reportFile: string | null;
    sourceRows: number;
    targetRows: number;
    discrepancies: TableReport["discrepancy_totals"];
}

export interface SnapshotResult {
    target: string;
    pipeline: string;
    connector: string;
    table: string;
    dataCollection: string;
    filter: string | null;
    signalId: string;
    notifications: { type: string; at: string; data: Record<string, string> }[];
    scan: { status: string; rowsScanned: number; meaning: string } | null;
    sink: { group: string; caughtUp: boolean; waitedMs: number };
    /** Milliseconds from sending the signal to the first notification, to COMPLETED, and the reconciliation's. */
    timings: { toStartedMs: number | null; toCompletedMs: number; reconcileMs: number };
    reconciliation: ReconciliationSummary;
    /** Keys in the target the source does not have (confirmed), as the reconciler reported them. */
    extraInTarget: Record<string, string>[];
    /** Set with --delete-extra: how many target rows were deleted, and the reconciliation after. */
    deleted?: number;
    afterDelete?: ReconciliationSummary;
}

function splitArgs(argv: string[]): { table: string | undefined; rest: string[] } {
    if (argv.length > 0 && !argv[0].startsWith("-")) return { table: argv[0], rest: argv.slice(1) };
    return { table: undefined, rest: argv };
}

function readUrlFile(flag: string, file: string): string {
    try {
        return fs.readFileSync(file, "utf8").trim();
    } catch (e) {
        throw new UnreachableError(
            `the database URL file of ${flag}`,
            file,
            (e as NodeJS.ErrnoException).code ?? (e as Error).message,
            "point it at a readable file",
        );
    }
}

/** Source and target URLs: the sandbox's own, or the files a stack target names (the reconciler's Secrets hold such URLs). */
function databaseUrls(
    target: Target,
    pipeline: PipelineSpec,
    files: { source?: string; target?: string },
): { source: string; target: string } {
    if (target.sandbox) {
        const dbs = target.sandbox.databases;
        return { source: pipeline.source.kind === "postgres" ? dbs.postgresSource : dbs.mariaDbSource, target: dbs.target };
    }
    if (!files.source || !files.target) {
        throw new UsageError(
            "a stack target needs the source and target database URLs: --source-url-file and --target-url-file (or CDC_SOURCE_URL_FILE, CDC_TARGET_URL_FILE), " +
                "e.g. the reconciler's Secrets' keys mounted as files; --delete-extra needs a target login that may DELETE (the sink's)",
            USAGE,
        );
    }
    return { source: readUrlFile("--source-url-file", files.source), target: readUrlFile("--target-url-file", files.target) };
}

async function withDb<T>(url: string, what: string, fn: (db: Db) => Promise<T>): Promise<T> {
    let db: Db;
    try {
        db = await connect(url);
    } catch (e) {
        const where = url.replace(/\/\/[^@/]*@/, "//");
        throw new UnreachableError(what, where, (e as Error).message, "check the database runs and the URL and its login");
    }
    try {
        return await fn(db);
    } finally {
        await db.close().catch(() => undefined);
    }
}

function summary(report: TableReport, reportFile: string | null): ReconciliationSummary {
    return {
        status: report.status,
        reportFile,
        sourceRows: report.source_row_count,
        targetRows: report.target_row_count,
        discrepancies: report.discrepancy_totals,
    };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Progress {
    line(text: string): void;
}

/**
 * Follows the notification topic from `from` until this snapshot completes. Returns the notifications seen; throws
 * RefusedError for an aborted snapshot or a table scan that did not succeed, and when nothing starts or ends in time.
 */
/** A notification record as its JSON document; a record the decoder cannot read is not a notification of ours. */
async function readableNotification(decoder: RecordDecoder, r: InRecord): Promise<Buffer | null> {
    try {
        return await decoder.toJsonDocument(r.value, `notification ${r.topic}[${r.partition}]@${r.offset}`);
    } catch (e) {
        if (e instanceof UndecodableRecord) return null;
        throw e;
    }
}

async function followNotifications(
    kafka: KafkaClient,
    decoder: RecordDecoder,
    t: SnapshotTable,
    signalId: string,
    from: bigint,
    limits: { startMs: number; totalMs: number },
    progress: Progress,
): Promise<{ seen: SnapshotNotification[]; scan: SnapshotResult["scan"] }> {
    const topic = notificationTopicName(t.pipeline.source);
    const started = Date.now();
    const ids = new Set<string>([signalId]);
    const seen: SnapshotNotification[] = [];
    let scan: SnapshotResult["scan"] = null;
    let next = from;
    for (;;) {
        for (const record of await kafka.read(topic, 0, next)) {
            next = record.offset + 1n;
            const n = parseNotification(await readableNotification(decoder, record));
            if (!n || !concernsSnapshot(n, t, signalId, ids)) continue;
            ids.add(n.id);
            seen.push(n);
            progress.line(progressLine(n));
            if (n.type === "TABLE_SCAN_COMPLETED" && (n.data.scanned_collection ?? "").toLowerCase() === t.dataCollection.toLowerCase()) {
                const s = scanStatus(n.data.status ?? "");
                scan = { status: n.data.status ?? "", rowsScanned: Number(n.data.total_rows_scanned ?? 0), meaning: s.meaning };
                if (!s.ok)
                    throw new RefusedError(`the incremental snapshot of ${t.dataCollection} ended with ${scan.status}: ${s.meaning}`);
            }
            if (n.type === "ABORTED") {
                throw new RefusedError(
                    `the incremental snapshot of ${t.dataCollection} was aborted (a stop-snapshot signal, or the table was removed); nothing after the last chunk was re-read: run cdc snapshot again`,
                );
            }
            if (n.type === "COMPLETED") return { seen, scan };
        }
        const waited = Date.now() - started;
        if (seen.length === 0 && waited > limits.startMs) {
            throw new RefusedError(
                `connector ${t.pipeline.source.connectorName} did not start the snapshot within ${limits.startMs / 1000} s of the signal on ${signalTopicName(t.pipeline.source)}: ` +
                    "check that it runs, that its deployed config has signal.enabled.channels=source,kafka (redeploy the stack), and its log for the signal id " +
                    signalId,
            );
        }
        if (waited > limits.totalMs) {
            throw new RefusedError(
                `the incremental snapshot of ${t.dataCollection} did not complete within ${limits.totalMs / 1000} s (last: ${seen.at(-1)?.type ?? "nothing"}); ` +
                    "it goes on in the connector: follow it with --timeout raised, or in the notification topic " +
                    topic,
            );
        }
        await sleep(POLL_MS);
    }
}

/** Waits until the sink's group has committed past every record the data topic held when the snapshot completed. */
async function waitForSink(kafka: KafkaClient, t: SnapshotTable): Promise<SnapshotResult["sink"]> {
    const group = sinkConsumerGroup(t.pipeline.sink.connectorName);
    const topic = dataTopicName(t.pipeline.source, t.table);
    const ends = await kafka.latestOffsets([topic]);
    const started = Date.now();
    for (;;) {
        const committed = await kafka.committedOffsets(group);
        const caughtUp = ends.every(
            (e) => (committed.find((c) => c.topic === e.topic && c.partition === e.partition)?.offset ?? -1n) >= e.offset,
        );
        const waitedMs = Date.now() - started;
        if (caughtUp || waitedMs > SINK_WAIT_MS) return { group, caughtUp, waitedMs };
        await sleep(1000);
    }
}

/**
 * Where the reconciler's progress goes: stderr, as the redrawn line the reconciler's own CLI shows a person at a
 * terminal, or as JSON lines when stderr is a pipe or a log collector.
 */
export function reconcilerLogger(stderr: NodeJS.WritableStream & { isTTY?: boolean }): Logger {
    // ttyLogger only writes to the stream; a TTY stderr is a tty.WriteStream.
    return stderr.isTTY ? ttyLogger(stderr as NodeJS.WriteStream) : jsonLogger(stderr);
}

async function reconcileTable(
    t: SnapshotTable,
    urls: { source: string; target: string },
    reportDir: string,
    lagWindowSeconds: number | undefined,
    log: Logger,
): Promise<{ report: TableReport; file: string | null }> {
    const config = validateReconcilerConfig({
        source: urls.source,
        target: urls.target,
        tables: [`${t.source}=${t.target}`],
        reportDir,
        ...(lagWindowSeconds !== undefined ? { lagWindowSeconds } : {}),
    });
    const result = await runReconciliation(config, log);
    const [report] = result.report.tables;
    if (report.error) {
        throw new UnreachableError(`the reconciler on ${t.source} → ${t.target}`, report.error.step, report.error.message);
    }
    return { report, file: result.reportFile };
}

/** The snapshot runs inside the source connector and writes its watermarks to the signal table: both must be there. */
async function refuseUnlessReady(target: Target, t: SnapshotTable, sourceUrl: string): Promise<void> {
    const source = t.pipeline.source;
    const status = await connectClient(target).status(source.connectorName);
    const states = [status.connector.state, ...status.tasks.map((task) => task.state)];
    if (states.some((s) => s !== "RUNNING")) {
        throw new RefusedError(
            `source connector ${source.connectorName} is not running (connector ${status.connector.state}, tasks ${status.tasks.map((task) => task.state).join(",") || "none"}): ` +
                "an incremental snapshot runs inside it; resume or restart it first (cdc resume / cdc restart)",
        );
    }
    const facts = await withDb(sourceUrl, `source database of pipeline ${t.pipeline.name}`, (db) => readSignalTableFacts(source, db));
    const problem = signalTableProblem(source, facts);
    if (problem) {
        throw new RefusedError(
            `${problem}; Debezium writes the snapshot's watermarks there. Fix: ${signalTableFix(t.pipeline.name, source)}`,
        );
    }
}

/** Sends `execute-snapshot` for the table to the source's Kafka signal topic; returns its id and when it was sent. */
async function sendSignal(
    kafka: KafkaClient,
    t: SnapshotTable,
    filter: string | undefined,
    progress: Progress,
): Promise<{ signalId: string; sentAt: number }> {
    const topic = signalTopicName(t.pipeline.source);
    const signalId = randomUUID();
    const signal = executeSnapshotSignal(t, signalId, filter);
    // The signal channel reads partition 0 only (the planned topic has no other).
    await kafka.produce([{ topic, partition: 0, key: signal.key, value: signal.value }]);
    const sentAt = Date.now();
    progress.line(
        `${new Date(sentAt).toISOString()} signal ${signalId} sent to ${topic}: execute-snapshot ${t.dataCollection}${filter ? ` WHERE ${filter}` : ""}`,
    );
    return { signalId, sentAt };
}

export async function runSnapshot(
    target: Target,
    t: SnapshotTable,
    opts: {
        filter?: string;
        deleteExtra: boolean;
        startTimeoutS: number;
        timeoutS: number;
        lagWindowS?: number;
        urls: { source: string; target: string };
        reportDir: string;
        /** Debezium's sink notification channel writes through the connector's value converter: Avro when the data is. */
        decoder: RecordDecoder;
    },
    progress: Progress,
    log: Logger,
): Promise<SnapshotResult> {
    const source = t.pipeline.source;
    await refuseUnlessReady(target, t, opts.urls.source);
    const kafka = new KafkaClient(target.kafka, "cdc-snapshot");
    try {
        const [end] = await kafka.latestOffsets([notificationTopicName(source)]);
        const { signalId, sentAt } = await sendSignal(kafka, t, opts.filter, progress);
        const { seen, scan } = await followNotifications(
            kafka,
            opts.decoder,
            t,
            signalId,
            end.offset,
            { startMs: opts.startTimeoutS * 1000, totalMs: opts.timeoutS * 1000 },
            progress,
        );
        const completedAt = Date.now();
        const sink = await waitForSink(kafka, t);
        progress.line(
            sink.caughtUp
                ? `sink group ${sink.group} committed past the snapshot's records after ${(sink.waitedMs / 1000).toFixed(1)} s`
                : `sink group ${sink.group} has not committed past the snapshot's records after ${SINK_WAIT_MS / 1000} s; reconciling anyway (its re-check window covers rows in flight)`,
        );

        progress.line(`reconciling ${t.source} → ${t.target}`);
        const reconcileStart = Date.now();
        const first = await reconcileTable(t, opts.urls, opts.reportDir, opts.lagWindowS, log);
        const result: SnapshotResult = {
            target: describeTarget(target),
            pipeline: t.pipeline.name,
            connector: source.connectorName,
            table: t.source,
            dataCollection: t.dataCollection,
            filter: opts.filter ?? null,
            signalId,
            notifications: seen.map((n) => ({ type: n.type, at: new Date(n.timestamp).toISOString(), data: n.data })),
            scan,
            sink,
            timings: {
                toStartedMs: seen.length > 0 ? seen[0].timestamp - sentAt : null,
                toCompletedMs: completedAt - sentAt,
                reconcileMs: Date.now() - reconcileStart,
            },
            reconciliation: summary(first.report, first.file),
            extraInTarget: extraTargetKeys(first.report.discrepancies),
        };
        if (opts.deleteExtra && result.extraInTarget.length > 0) {
            result.deleted = await deleteTargetRows(opts.urls.target, t, result.extraInTarget, progress);
            const after = await reconcileTable(t, opts.urls, opts.reportDir, opts.lagWindowS, log);
            result.afterDelete = summary(after.report, after.file);
        }
        return result;
    } finally {
        await kafka.close();
    }
}

/**
 * Deletes exactly these keys from the target table in one transaction (all or none). Its own connection: the
 * reconciler's sessions are read-only on purpose.
 */
async function deleteTargetRows(url: string, t: SnapshotTable, keys: Record<string, string>[], progress: Progress): Promise<number> {
    const pg = new Client({ connectionString: url });
    try {
        await pg.connect();
    } catch (e) {
        throw new UnreachableError(
            `target database of pipeline ${t.pipeline.name}`,
            url.replace(/\/\/[^@/]*@/, "//"),
            (e as Error).message,
        );
    }
    try {
        await pg.query("BEGIN");
        let deleted = 0;
        for (const key of keys) {
            const q = deleteRowSql(t.target, key);
            deleted += (await pg.query(q.sql, q.params)).rowCount ?? 0;
            progress.line(`deleting ${t.target} row ${JSON.stringify(key)} (not in the source)`);
        }
        await pg.query("COMMIT");
        return deleted;
    } catch (e) {
        await pg.query("ROLLBACK").catch(() => undefined);
        throw new RefusedError(`deleting the extra rows from ${t.target} failed, nothing was deleted: ${(e as Error).message}`);
    } finally {
        await pg.end().catch(() => undefined);
    }
}

export function snapshotExitCode(r: SnapshotResult): number {
    return (r.afterDelete ?? r.reconciliation).status === "ok" ? EXIT.OK : EXIT.PROBLEMS;
}

function renderResult(r: SnapshotResult): string {
    const totals = (s: ReconciliationSummary) =>
        `${s.status}: source ${s.sourceRows} rows, target ${s.targetRows}; missing in target ${s.discrepancies.missing_in_target}, ` +
        `extra in target ${s.discrepancies.missing_in_source}, differing ${s.discrepancies.value_mismatch} (report ${s.reportFile ?? "not written"})`;
    const lines = [
        `incremental snapshot of ${r.dataCollection} (pipeline ${r.pipeline}, connector ${r.connector})${r.filter ? ` WHERE ${r.filter}` : ""}`,
        `  scan:            ${r.scan ? `${r.scan.status}, ${r.scan.rowsScanned} rows re-read` : "no table scan reported"}`,
        `  sink:            ${r.sink.caughtUp ? "caught up" : "not caught up"} (${r.sink.group})`,
        `  reconciliation:  ${totals(r.reconciliation)}`,
    ];
    if (r.extraInTarget.length > 0 && r.deleted === undefined) {
        lines.push(
            `  ${r.extraInTarget.length} target row(s) the source does not have; an incremental snapshot never deletes them:`,
            ...r.extraInTarget.slice(0, 20).map((k) => `    ${JSON.stringify(k)}`),
            ...(r.extraInTarget.length > 20 ? [`    … ${r.extraInTarget.length - 20} more in the report`] : []),
            "  delete exactly these with: cdc snapshot <table> ... --delete-extra (after checking no delete is still in flight)",
        );
    }
    if (r.deleted !== undefined)
        lines.push(`  deleted:         ${r.deleted} target row(s)`, `  after delete:    ${totals(r.afterDelete!)}`);
    return lines.join("\n") + "\n";
}

export const snapshot: Command = {
    name: "snapshot",
    summary: "re-sync one table: Debezium incremental snapshot (optionally filtered), then reconcile it",
    usage: USAGE,
    async run(argv, ctx) {
        const { table, rest } = splitArgs(argv);
        const flags = parseFlags(rest, FLAGS, USAGE);
        if (table === undefined || table.trim() === "")
            throw new UsageError("name the table to snapshot, e.g. cdc snapshot public.customers", USAGE);
        const target = resolveTarget(flags, ctx.env, USAGE);
        let t: SnapshotTable;
        try {
            t = findSnapshotTable(target.spec, table, flags.pipeline);
        } catch (e) {
            if (e instanceof UnknownTableError) throw new UsageError(e.message, USAGE);
            throw e;
        }
        if (flags.where !== undefined && flags.where.trim() === "") throw new UsageError("--where needs a SQL condition", USAGE);
        const urls = databaseUrls(target, t.pipeline, {
            source: flags["source-url-file"] ?? ctx.env.CDC_SOURCE_URL_FILE,
            target: flags["target-url-file"] ?? ctx.env.CDC_TARGET_URL_FILE,
        });
        const reportDir =
            flags["report-dir"] ?? (target.sandbox ? path.join(target.sandbox.runDir, "reports") : path.resolve("cdc-reports"));
        const result = await runSnapshot(
            target,
            t,
            {
                filter: flags.where,
                deleteExtra: flags["delete-extra"],
                startTimeoutS: flags["start-timeout"] ?? 120,
                timeoutS: flags.timeout ?? 3600,
                lagWindowS: flags["lag-window"],
                urls,
                reportDir,
                decoder: recordDecoderFor(target.spec, ctx.env),
            },
            { line: (text) => ctx.stderr.write(`${text}\n`) },
            reconcilerLogger(ctx.stderr),
        );
        emit(ctx, flags, result, renderResult);
        return snapshotExitCode(result);
    },
};
