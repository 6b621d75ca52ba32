/**
 * `npm run demo`: the whole CDC pipeline on this machine. Starts the sandbox, applies the stack's dev
 * pipelines, loads seed-004 mock data, streams changes with a live progress line, waits for the target
 * and the lakehouse tables to catch up, runs the reconciler and prints its summary, then shuts everything down;
 * the lakehouse tables stay on disk (until the next run) with a command printed to query them.
 *
 *   npm run demo -- [--changes N] [--rate N] [--seed N] [--keep] [--serialization json|avro]
 *
 * --serialization defaults to the dev stack's: with avro an Apicurio Registry starts with the sandbox.
 * --keep leaves everything running (Connect REST URL, the sandbox Prometheus's graphs of lag and throughput, and psql
 * commands printed) until Ctrl-C.
 */
import { FlagSpec, parseFlags, UsageError } from "../model/args";
import { SERIALIZATIONS, Serialization } from "../model/schema-registry";
import { resolveEndpoint } from "../reconciler/config";
import { ttyLogger, jsonLogger } from "../reconciler/progress";
import { runReconciliation } from "../reconciler/run";
import { applyConnectors } from "./apply";
import { applyStats, installApplyLog } from "./apply-log";
import { describeDiff, waitForSync } from "./compare";
import { demoVerdict, PipelineReconciliation } from "./demo-verdict";
import { endOffsets, watchEndOffsets } from "./kafka-admin";
import { ChangeStream, initialDataset } from "./mock-data/change-stream";
import { describeProgress, lakehouseCaughtUp, lakehouseProgress, LakehouseTableProgress } from "./lakehouse-compare";
import { VENV_PYTHON } from "./lakehouse";
import { installHint, missingPackages } from "./prerequisites";
import { pipelineReconcilerConfig } from "./reconcile";
import { Sandbox, startSandbox } from "./sandbox";
import { devStackSerialization } from "./stack";
import { stopAll } from "./shutdown";
import { SourceWriters } from "./source-writers";
import { renderConnectors } from "../connectors/render";
import { streamChanges } from "./stream";
import { tablePairs } from "./table-pairs";
import { dataTopicName } from "../model/naming";
import { waitUntil, WaitTimeoutError } from "../model/wait";

const DEMO_FLAGS = {
    changes: { type: "number", integer: true, min: 0 },
    rate: { type: "number", integer: true, min: 0 },
    seed: { type: "number", integer: true, min: 0 },
    keep: { type: "boolean" },
    serialization: { type: "string" },
} as const satisfies Record<string, FlagSpec>;

interface DemoOptions {
    changes: number;
    rate: number;
    seed: number;
    keep: boolean;
    /** Default: the dev stack's (Pulumi.dev.yaml `serialization`). */
    serialization: Serialization;
}

const DEMO_USAGE = "npm run demo -- [--changes N] [--rate N] [--seed N] [--keep] [--serialization json|avro]";

/** Throws UsageError on an unknown flag or a value that is not a whole number. */
export function parseDemoArgs(argv: readonly string[]): DemoOptions {
    const f = parseFlags(argv, DEMO_FLAGS, DEMO_USAGE);
    const serialization = f.serialization ?? devStackSerialization();
    if (!(SERIALIZATIONS as readonly string[]).includes(serialization))
        throw new UsageError(`--serialization is one of ${SERIALIZATIONS.join(", ")}, got "${serialization}"`, DEMO_USAGE);
    return {
        changes: f.changes ?? 3000,
        rate: f.rate ?? 100,
        seed: f.seed ?? 4,
        keep: f.keep,
        serialization: serialization as Serialization,
    };
}

const t0 = Date.now();
const say = (line: string) => process.stdout.write(`[demo ${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${line}\n`);
const live = (line: string) => (process.stdout.isTTY ? process.stdout.write(`\r\x1b[K${line}`) : undefined);
const fmtLag = (s: number | null) => (s === null ? "-" : `${(s * 1000).toFixed(0)} ms`);

const CATCH_UP_SECONDS = 180;

/** Streams the changes and reports whether the target caught up within CATCH_UP_SECONDS. */
async function streamWithProgress(sb: Sandbox, writers: SourceWriters, stream: ChangeStream, opts: DemoOptions): Promise<boolean> {
    const topics = sb.spec.pipelines.flatMap((p) => p.source.tables.map((t) => dataTopicName(p.source, t)));
    const sum = (offsets: Record<string, number>) => Object.values(offsets).reduce((a, b) => a + b, 0);
    let captured = 0;
    // eslint-disable-next-line prefer-const -- assigned once, after the watcher whose callback reads it has started
    let baseline: number | undefined;
    // The watcher JVM takes seconds to answer; the baseline is read before the first change is written.
    const watcher = watchEndOffsets(sb.classpath, sb.kafka.bootstrapServers, topics, 1000, (offsets) => {
        if (baseline !== undefined) captured = Math.max(0, sum(offsets) - baseline);
    });
    baseline = sum(await endOffsets(sb.classpath, sb.kafka.bootstrapServers, topics));
    const streamStart = new Date();
    let written = 0;
    let last = "";
    let lakehouseRows = "";
    const lakehouseTicker = setInterval(() => {
        void lakehouseProgress(sb).then(
            (p) => (lakehouseRows = p.map((t) => `${t.table} ${t.rows}`).join(" ")),
            () => undefined,
        );
    }, 3000);
    const ticker = setInterval(() => {
        void applyStats(sb.target.url, streamStart).then((s) => {
            last =
                `written ${written}/${opts.changes}  captured ${captured} records (deletes add a tombstone)  ` +
                `applied ${s.applied}  lag p50 ${fmtLag(s.p50)} p99 ${fmtLag(s.p99)}  lakehouse rows: ${lakehouseRows || "-"}`;
            if (process.stdout.isTTY) live(last);
            else say(last);
        });
    }, 1000);
    try {
        await streamChanges(stream, writers, {
            count: opts.changes,
            ratePerSecond: opts.rate,
            onProgress: (n) => {
                written = n;
            },
        });
        const pairs = tablePairs(sb.spec);
        const sync = await waitForSync(
            { postgresSourceUrl: sb.postgresSource.url, mariaDbSourceUrl: sb.mariaDbSource.url, targetUrl: sb.target.url },
            pairs,
            CATCH_UP_SECONDS * 1000,
        );
        clearInterval(ticker);
        const s = await applyStats(sb.target.url, streamStart);
        live("");
        say(
            `stream done: ${written} changes written, ${s.applied} applied, lag p50 ${fmtLag(s.p50)} p99 ${fmtLag(s.p99)} max ${fmtLag(s.max)}`,
        );
        say(
            sync.synced
                ? "target caught up with the sources"
                : `target still differs after ${CATCH_UP_SECONDS} s:\n${sync.diffs.map((d) => describeDiff(d)).join("\n")}`,
        );
        return sync.synced;
    } finally {
        clearInterval(ticker);
        clearInterval(lakehouseTicker);
        await watcher.stop();
    }
}

/** Waits until every lakehouse table holds the sources' current keys, or CATCH_UP_SECONDS pass. */
async function waitForLakehouse(sb: Sandbox): Promise<{ caughtUp: boolean; progress: LakehouseTableProgress[] }> {
    let progress: LakehouseTableProgress[] = [];
    const caughtUp = await waitUntil(
        "the lakehouse tables to hold the sources' keys",
        CATCH_UP_SECONDS * 1000,
        async () => lakehouseCaughtUp((progress = await lakehouseProgress(sb))),
        { intervalMs: 2000 },
    ).catch((err: unknown) => {
        if (err instanceof WaitTimeoutError) return false;
        throw err;
    });
    say(`lakehouse: ${describeProgress(progress)}`);
    return { caughtUp, progress };
}

async function printLakehouseWhere(sb: Sandbox): Promise<void> {
    const tablesFile = await sb.lakehouse.writeTablesFile();
    say(
        `lakehouse tables kept in ${sb.lakehouse.warehouseDir} (Delta under delta/, Iceberg under iceberg/; writer logs in ${sb.logDir}) until the next demo`,
    );
    say(`query them with DuckDB (each table is a view of its name):`);
    say(
        `  ${VENV_PYTHON} sandbox/lakehouse_read.py ${tablesFile} "SELECT customer_tier, count(*) AS customers, sum(total_orders) AS orders FROM customers_analytics GROUP BY 1 ORDER BY 1"`,
    );
}

async function reconcile(sb: Sandbox): Promise<PipelineReconciliation[]> {
    const results: PipelineReconciliation[] = [];
    const log = process.stdout.isTTY ? ttyLogger(process.stdout) : jsonLogger(process.stdout);
    const pairs = tablePairs(sb.spec);
    for (const pipeline of sb.spec.pipelines) {
        const config = pipelineReconcilerConfig(sb, pipeline.name, pairs);
        say(`reconciling pipeline ${pipeline.name}: ${resolveEndpoint(config.source).replace(/:[^:@/]+@/, ":***@")} → target`);
        const result = await runReconciliation(config, log);
        const s = result.report.summary;
        say(
            `${pipeline.name}: ${s.total_tables} tables, ${s.tables_ok} ok, ${s.tables_with_discrepancies} with discrepancies, ` +
                `${s.tables_failed} failed, ${s.total_discrepancies} differing rows; report ${result.reportFile ?? "(not written)"}`,
        );
        results.push({
            pipeline: pipeline.name,
            exitCode: result.exitCode,
            differingRows: s.total_discrepancies,
            failedTables: s.tables_failed,
            reportFile: result.reportFile ?? undefined,
        });
    }
    return results;
}

function printKeepInstructions(sb: Sandbox): void {
    say("left running (--keep); Ctrl-C stops everything");
    say(`Connect REST: ${sb.connect.url}   e.g. curl -s ${sb.connect.url}/connectors?expand=status`);
    const graphs = ["cdc_replication_lag_seconds", "cdc_throughput_records_per_second", "cdc_lag_seconds"]
        .map((expr, i) => `g${i}.expr=${encodeURIComponent(expr)}&g${i}.tab=0&g${i}.range_input=15m`)
        .join("&");
    say(`Prometheus: ${sb.prometheus.url}/graph?${graphs}   (seed metrics, alerts at ${sb.prometheus.url}/alerts; README "Seed metrics")`);
    say(`source PostgreSQL: psql '${sb.postgresSource.url}'`);
    say(
        `source MariaDB:    mariadb -h 127.0.0.1 -P ${sb.mariaDbSource.port} -u ${sb.mariaDbSource.user} -p ${sb.mariaDbSource.database}  (password in ${sb.secretsDir})`,
    );
    say(`target PostgreSQL: psql '${sb.target.url}'   (schemas: ${sb.spec.pipelines.map((p) => p.sink.schema).join(", ")})`);
    say(`Kafka: ${sb.kafka.bootstrapServers}; logs: ${sb.logDir}`);
    say(
        "operations CLI, from another terminal: npm run cdc -- status   (also dlq list, preflight, schema-events, snapshot <table>; docs/ops.md)",
    );
}

async function main(): Promise<number> {
    const opts = parseDemoArgs(process.argv.slice(2));
    const missing = missingPackages();
    if (missing.length > 0) throw new Error(installHint(missing));

    say("starting PostgreSQL ×2, MariaDB, Kafka (KRaft) and Kafka Connect; first run resolves jars from Maven Central");
    const sb = await startSandbox({ name: "demo", log: say, serialization: opts.serialization });
    const writers = await SourceWriters.connect(sb.postgresSource.url, sb.mariaDbSource.url);
    try {
        const dataset = initialDataset(
            opts.seed,
            { customers: 1000, ordersPerCustomer: 2, products: 300, transactionsPerProduct: 3 },
            new Date(),
        );
        await writers.load(dataset);
        await writers.pg.query(
            "INSERT INTO cdc_schema_evolution_test (original_column, created_at) SELECT 'row ' || g, now() FROM generate_series(1, 10) g",
        );
        say(
            `loaded ${dataset.customers.length} customers, ${dataset.orders.length} orders, ${dataset.products.length} products, ${dataset.inventory_transactions.length} inventory transactions`,
        );

        await applyConnectors(renderConnectors(sb.spec, sb.ctx), sb.client, say);
        const endpoints = { postgresSourceUrl: sb.postgresSource.url, mariaDbSourceUrl: sb.mariaDbSource.url, targetUrl: sb.target.url };
        const pairs = tablePairs(sb.spec);
        const snapshot = await waitForSync(endpoints, pairs, 180_000);
        if (!snapshot.synced) throw new Error(`initial snapshot incomplete:\n${snapshot.diffs.map((d) => describeDiff(d)).join("\n")}`);
        say("initial snapshot copied to the target");

        await installApplyLog(sb.target.url, pairs);
        say(`streaming ${opts.changes} changes at ${opts.rate || "max"}/s (inserts, updates, deletes over 4 tables)`);
        const caughtUp = await streamWithProgress(sb, writers, new ChangeStream(opts.seed, dataset), opts);

        const lakehouse = await waitForLakehouse(sb);
        await printLakehouseWhere(sb);
        const verdict = demoVerdict({
            caughtUp,
            lakehouseCaughtUp: lakehouse.caughtUp,
            lakehouseSummary: describeProgress(lakehouse.progress),
            catchUpSeconds: CATCH_UP_SECONDS,
            reconciliations: await reconcile(sb),
        });
        say(verdict.line);
        if (opts.keep) {
            printKeepInstructions(sb);
            await new Promise(() => setInterval(() => undefined, 60_000));
        }
        return verdict.exitCode;
    } finally {
        await writers.close();
        if (!opts.keep) await sb.stop();
    }
}

if (require.main === module) {
    main().then(
        (code) => {
            process.exitCode = code;
        },
        async (err: Error) => {
            process.stderr.write(`\n[demo] FAILED: ${err.message}\n`);
            await stopAll((line) => process.stderr.write(`[demo] ${line}\n`));
            process.exit(1);
        },
    );
}
