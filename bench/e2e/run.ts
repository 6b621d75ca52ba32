/**
 * End-to-end benchmark: the seed-004 change stream through the sandbox pipelines, once per variant (the stack's tuned
 * connector settings, the connectors' defaults), each on a fresh sandbox, with the sink floor measured in the same run.
 *
 *   flock /tmp/cdc-heavy.lock npx ts-node --transpile-only bench/e2e/run.ts [--variants tuned,defaults] [--live 30000]
 *       [--rate 1000] [--backlog 100000] [--floor-batch 3000] [--serialization avro|json]
 *       [--set worker.<key>=<value> | jvm.<-XX name or Xms/Xmx>=<value> (the candidate variant)]...
 *
 * --serialization defaults to the dev stack's (Pulumi.dev.yaml); with avro the sandbox runs its schema registry, and
 * the floor decodes the backlog with the sink's own AvroConverter before its clock starts.
 *
 * Per variant:
 * - live: `--live` changes at `--rate` changes/s, one autocommitted statement per change on three connections per
 *   source database; lag is source commit → target row, p50/p99 over customers and orders (microsecond source
 *   timestamps, see sandbox/apply-log.ts).
 * - backlog: the sinks are paused, the target tables are copied (the floor's starting state), `--backlog` changes
 *   are written and captured into Kafka; then the floor (bench/e2e/floor.ts) applies those change events into the
 *   copies, and the sinks are resumed: drain = last target apply − resume. Both must end in the same rows.
 */
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { parseFlags } from "../../model/args";
import { dataTopicName } from "../../model/naming";
import { applyConnectors } from "../../sandbox/apply";
import { applyStats, appliedSince, installApplyLog } from "../../sandbox/apply-log";
import { describeDiff, Endpoints, waitForSync } from "../../sandbox/compare";
import { endOffsets, watchEndOffsets } from "../../sandbox/kafka-admin";
import { Change, ChangeStream, Dataset, initialDataset, PRIMARY_KEYS } from "../../sandbox/mock-data/change-stream";
import { SERIALIZATIONS, Serialization } from "../../model/schema-registry";
import { workerConfig } from "../../plan/connect-cluster";
import { SCRAPE_INTERVAL_SECONDS } from "../../plan/monitoring";
import { AVRO_CONVERTER_DIR } from "../../sandbox/avro-converter";
import { REPO_ROOT } from "../../sandbox/paths";
import { Sandbox, startSandbox } from "../../sandbox/sandbox";
import { SourceWriters } from "../../sandbox/source-writers";
import { devStackSerialization } from "../../sandbox/stack";
import { renderConnectors } from "../../connectors/render";
import { TablePair, tablePairs } from "../../sandbox/table-pairs";
import { cpuSeconds, postmasterPid } from "./cpu";
import { copyTargetTables, FLOOR_MODES, floorDifferences, FloorResult, runFloor, sinkConverters, TopicRange } from "./floor";
import { connectJvmFor, connectorsFor, Variant, VARIANTS, workerConfigFor } from "./variants";

const SEED = 42;
const SIZE = { customers: 5000, ordersPerCustomer: 2, products: 1000, transactionsPerProduct: 3 };
/** Backlog changes per source transaction: the backlog only has to reach Kafka, and one commit per change takes minutes. */
const BACKLOG_TRANSACTION = 100;

interface LiveResult {
    changes: number;
    rate: number;
    writeSeconds: number;
    lagP50Ms: number | null;
    lagP99Ms: number | null;
    lagMaxMs: number | null;
}

interface DrainResult {
    changes: number;
    kafkaRecords: number;
    seconds: number;
    changesPerSecond: number;
    /** Target transactions committed and rows written meanwhile (pg_stat_database, pg_stat_user_tables). */
    transactions: number;
    rowsWritten: number;
    /** CPU seconds meanwhile: the Connect worker, the Kafka broker, the target PostgreSQL with its backends. */
    cpu: { connect: number; kafka: number; target: number };
    /** The sink tasks' Connect and consumer metrics at the end (the worker's JMX exporter, plan/metrics.ts rules). */
    metrics: string[];
}

interface VariantResult {
    variant: Variant;
    serialization: Serialization;
    overrides: string[];
    live: LiveResult;
    floor: (FloorResult & { changesPerSecond: number })[];
    drain: DrainResult;
    /** Drain throughput over each floor's, measured in this run. */
    ratio: Record<string, number>;
}

const log = (line: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const ms = (x: number | null) => (x === null ? null : Math.round(x * 1000));

async function synced(what: string, endpoints: Endpoints, pairs: readonly TablePair[], timeoutMs: number): Promise<void> {
    const sync = await waitForSync(endpoints, pairs, timeoutMs, 2000);
    if (!sync.synced) throw new Error(`${what}: ${sync.diffs.map((d) => describeDiff(d)).join("; ")}`);
}

/** Which source connection a change goes to: customers and orders live in PostgreSQL, the rest in MariaDB. */
const isPostgres = (change: Change) => change.table === "customers" || change.table === "orders";

/** The change with every time stamped at generation (`at`) moved to now: its source timestamps read as commit times. */
function stampedNow(change: Change, at: Date): Change {
    const now = new Date();
    const restamp = (row: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date && v.getTime() === at.getTime() ? now : v]));
    if (change.op === "insert") return { ...change, row: restamp(change.row) };
    if (change.op === "update") return { ...change, set: restamp(change.set) };
    return change;
}

/** Source connections per database in the live phase: on this shared machine one commits about 400 changes/s. */
const LIVE_LANES = 3;

/**
 * Which lane writes a change: a customer and its orders always share one (the orders' foreign key, and the stream's
 * order of their changes), other tables go by key. Lanes are connections, so changes of one row keep their order.
 */
function laneRouter(dataset: Dataset): (change: Change) => number {
    const customerOf = new Map(dataset.orders.map((o) => [o.order_id, o.customer_id]));
    return (change) => {
        const row = change.op === "insert" ? change.row : change.key;
        if (change.table === "orders" && change.op === "insert") customerOf.set(row.order_id as number, row.customer_id as number);
        const entity = change.table === "orders" ? customerOf.get(row.order_id as number) : row[PRIMARY_KEYS[change.table]];
        return Number(entity ?? 0) % LIVE_LANES;
    };
}

/**
 * `changes` at `rate`/s, each committed by itself, as an application's transactions are, on LIVE_LANES connections
 * per source database. A lane that falls behind writes late, not stale: each change is stamped when its lane sends
 * it, so the measured lag starts at the source commit, and the rate reached is reported.
 */
async function writeLive(
    stream: ChangeStream,
    lanes: SourceWriters[],
    route: (c: Change) => number,
    changes: number,
    rate: number,
): Promise<void> {
    const queues = lanes.map(() => ({ pg: [] as { change: Change; at: Date }[], maria: [] as { change: Change; at: Date }[] }));
    let produced = 0;
    const drainQueue = async (writer: SourceWriters, q: { change: Change; at: Date }[]) => {
        while (produced < changes || q.length > 0) {
            const next = q.shift();
            if (next) await writer.apply(stampedNow(next.change, next.at));
            else await new Promise((r) => setTimeout(r, 1));
        }
    };
    const workers = lanes.flatMap((w, i) => [drainQueue(w, queues[i].pg), drainQueue(w, queues[i].maria)]);
    const started = Date.now();
    while (produced < changes) {
        const due = started + (produced * 1000) / rate;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const at = new Date();
        const change = stream.next(at);
        const lane = queues[route(change)];
        (isPostgres(change) ? lane.pg : lane.maria).push({ change, at });
        produced++;
    }
    await Promise.all(workers);
}

async function live(
    sb: Sandbox,
    stream: ChangeStream,
    route: (c: Change) => number,
    endpoints: Endpoints,
    pairs: TablePair[],
    changes: number,
    rate: number,
) {
    log(`live: ${changes} changes at ${rate}/s`);
    const start = new Date();
    const lanes = await Promise.all(
        Array.from({ length: LIVE_LANES }, () => SourceWriters.connect(sb.postgresSource.url, sb.mariaDbSource.url)),
    );
    try {
        await writeLive(stream, lanes, route, changes, rate);
    } finally {
        await Promise.all(lanes.map((l) => l.close()));
    }
    const writeSeconds = (Date.now() - start.getTime()) / 1000;
    await synced("the target never caught up", endpoints, pairs, 10 * 60_000);
    const s = await applyStats(sb.target.url, start);
    const result: LiveResult = {
        changes,
        rate: Math.round(changes / writeSeconds),
        writeSeconds,
        lagP50Ms: ms(s.p50),
        lagP99Ms: ms(s.p99),
        lagMaxMs: ms(s.max),
    };
    log(`live: written at ${result.rate}/s; lag p50 ${result.lagP50Ms} ms, p99 ${result.lagP99Ms} ms, max ${result.lagMaxMs} ms`);
    return result;
}

/**
 * The backlog in transactions of BACKLOG_TRANSACTION changes, both source databases written in parallel; resolves
 * once Debezium has captured it all.
 */
async function writeBacklog(sb: Sandbox, writers: SourceWriters, stream: ChangeStream, topics: string[], changes: number): Promise<void> {
    const all = Array.from({ length: changes }, () => stream.next(new Date()));
    const inTransactions = async (list: Change[], begin: () => Promise<unknown>, commit: () => Promise<unknown>) => {
        for (let i = 0; i < list.length; i += BACKLOG_TRANSACTION) {
            await begin();
            for (const change of list.slice(i, i + BACKLOG_TRANSACTION)) await writers.apply(change);
            await commit();
        }
    };
    await Promise.all([
        inTransactions(
            all.filter(isPostgres),
            () => writers.pg.query("BEGIN"),
            () => writers.pg.query("COMMIT"),
        ),
        inTransactions(
            all.filter((c) => !isPostgres(c)),
            () => writers.maria.query("START TRANSACTION"),
            () => writers.maria.query("COMMIT"),
        ),
    ]);
    // Captured = the data topics' end offsets unchanged for 5 s.
    let last = "";
    let stableSince = Date.now();
    const watcher = watchEndOffsets(sb.classpath, sb.kafka.bootstrapServers, topics, 1000, (o) => {
        const now = JSON.stringify(o);
        if (now !== last) [last, stableSince] = [now, Date.now()];
    });
    try {
        while (last === "" || Date.now() - stableSince < 5000) await new Promise((r) => setTimeout(r, 500));
    } finally {
        await watcher.stop();
    }
}

async function targetCounters(targetUrl: string, pairs: readonly TablePair[]): Promise<{ transactions: number; rows: number }> {
    const c = new Client({ connectionString: targetUrl });
    await c.connect();
    try {
        const db = await c.query(`SELECT xact_commit::bigint AS n FROM pg_stat_database WHERE datname = current_database()`);
        const tables = await c.query(
            `SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint AS n FROM pg_stat_user_tables
              WHERE schemaname || '.' || relname = ANY($1)`,
            [pairs.map((p) => p.target)],
        );
        return { transactions: Number(db.rows[0].n), rows: Number(tables.rows[0].n) };
    } finally {
        await c.end();
    }
}

/** What a put and a fetch of the sink tasks cost: Connect's sink-task metrics and their consumers' fetch metrics. */
async function sinkMetrics(url: string): Promise<string[]> {
    const text = await (await fetch(url)).text();
    const wanted =
        /^(kafka_connect_\w*(put_batch|batch_size|sink_record_read|sink_record_send)\w*|kafka_consumer_fetch_manager_(records_per_request_avg|fetch_size_avg|fetch_latency_avg|fetch_total))\{/;
    return text.split("\n").filter((l) => wanted.test(l) && /sink/.test(l) && !/topic=/.test(l));
}

/** Resumes the sinks and waits until the target holds what the floor computed; the clock ends at the last apply. */
async function drain(sb: Sandbox, endpoints: Endpoints, pairs: TablePair[], changes: number, kafkaRecords: number): Promise<DrainResult> {
    const sinks = sb.spec.pipelines.map((p) => p.sink.connectorName);
    const pids = { connect: sb.connect.jvm.pid, kafka: sb.kafka.jvm.pid, target: postmasterPid(sb.target.dataDir) };
    const cpuBefore = { connect: cpuSeconds(pids.connect), kafka: cpuSeconds(pids.kafka), target: cpuSeconds(pids.target, true) };
    const before = await targetCounters(sb.target.url, pairs);
    const resumedAt = new Date();
    for (const sink of sinks) await sb.client.resume(sink);
    // Polling the apply log is cheap; comparing tables meanwhile would compete with the sinks for the two cores.
    const deadline = Date.now() + 20 * 60_000;
    for (;;) {
        const quietFor = async () => {
            const a = await appliedSince(sb.target.url, resumedAt);
            return a.lastAppliedAt ? Date.now() - a.lastAppliedAt.getTime() : 0;
        };
        if ((await quietFor()) > 5000) {
            const diffs = await floorDifferences(sb.target.url, pairs, "every");
            if (Object.values(diffs).every((n) => n === 0)) break;
        }
        if (Date.now() > deadline)
            throw new Error(`the backlog never drained: ${JSON.stringify(await floorDifferences(sb.target.url, pairs, "every"))}`);
        await new Promise((r) => setTimeout(r, 1000));
    }
    const cpu = {
        connect: cpuSeconds(pids.connect) - cpuBefore.connect,
        kafka: cpuSeconds(pids.kafka) - cpuBefore.kafka,
        target: cpuSeconds(pids.target, true) - cpuBefore.target,
    };
    const metrics = await sinkMetrics(sb.connect.metricsUrl);
    const last = (await appliedSince(sb.target.url, resumedAt)).lastAppliedAt!;
    const seconds = (last.getTime() - resumedAt.getTime()) / 1000;
    const quietSince = Date.now();
    for (const mode of FLOOR_MODES) {
        const diffs = await floorDifferences(sb.target.url, pairs, mode);
        if (Object.values(diffs).some((n) => n !== 0))
            throw new Error(`the floor (${mode}) and the sinks ended in different rows: ${JSON.stringify(diffs)}`);
    }
    await synced("the target differs from the sources after the drain", endpoints, pairs, 120_000);
    // PostgreSQL publishes an idle backend's statistics within 10 s.
    await new Promise((r) => setTimeout(r, Math.max(0, quietSince + 11_000 - Date.now())));
    const after = await targetCounters(sb.target.url, pairs);
    return {
        changes,
        kafkaRecords,
        seconds,
        changesPerSecond: Math.round(changes / seconds),
        transactions: after.transactions - before.transactions,
        rowsWritten: after.rows - before.rows,
        cpu,
        metrics,
    };
}

async function runVariant(
    variant: Variant,
    opts: { live: number; rate: number; backlog: number; floorBatch: number; serialization: Serialization; set: string[] },
): Promise<VariantResult> {
    const sb = await startSandbox({
        name: `bench-${variant}`,
        log,
        serialization: opts.serialization,
        // Each scrape costs the worker CPU (plan/metrics.ts): scraped as often as the stack's PodMonitor scrapes it.
        scrapeIntervalSeconds: SCRAPE_INTERVAL_SECONDS,
        workerConfig: (c) => workerConfigFor(variant, c, opts.set),
        connectJvm: (j) => connectJvmFor(variant, j, opts.set),
    });
    const writers = await SourceWriters.connect(sb.postgresSource.url, sb.mariaDbSource.url);
    try {
        // The bench measures the JDBC path; the lakehouse writers reading the same topics would compete for the cores.
        await sb.lakehouse.stop();
        const dataset = initialDataset(SEED, SIZE, new Date());
        await writers.load(dataset);
        const connectors = connectorsFor(variant, renderConnectors(sb.spec, sb.ctx), opts.set);
        await applyConnectors(connectors, sb.client, log);
        const endpoints = { postgresSourceUrl: sb.postgresSource.url, mariaDbSourceUrl: sb.mariaDbSource.url, targetUrl: sb.target.url };
        const pairs = tablePairs(sb.spec).filter((p) => p.table !== "cdc_schema_evolution_test");
        await synced(`${variant}: snapshot incomplete`, endpoints, pairs, 300_000);
        await installApplyLog(sb.target.url, pairs);
        const stream = new ChangeStream(SEED, dataset);

        const liveResult = await live(sb, stream, laneRouter(dataset), endpoints, pairs, opts.live, opts.rate);

        for (const sink of sb.spec.pipelines.map((p) => p.sink.connectorName)) await sb.client.pause(sink);
        const topicOf = (pair: TablePair) => {
            const pipeline = sb.spec.pipelines.find((p) => p.name === pair.pipeline)!;
            return dataTopicName(
                pipeline.source,
                pipeline.source.tables.find((t) => t.table === pair.table)!,
            );
        };
        const topics = pairs.map(topicOf);
        const startOffsets = await endOffsets(sb.classpath, sb.kafka.bootstrapServers, topics);
        await copyTargetTables(sb.target.url, pairs);
        log(`${variant}: sinks paused; writing a backlog of ${opts.backlog} changes`);
        await writeBacklog(sb, writers, stream, topics, opts.backlog);
        const endOffs = await endOffsets(sb.classpath, sb.kafka.bootstrapServers, topics);
        const ranges: TopicRange[] = pairs.map((pair, i) => ({
            topic: topics[i],
            pair,
            startOffset: startOffsets[topics[i]],
            endOffset: endOffs[topics[i]],
        }));
        const kafkaRecords = ranges.reduce((n, r) => n + r.endOffset - r.startOffset, 0);
        log(`${variant}: backlog captured (${kafkaRecords} Kafka records); floor`);

        const floor = [];
        for (const mode of FLOOR_MODES) {
            const f = await runFloor({
                classpath: sb.classpath,
                bootstrap: sb.kafka.bootstrapServers,
                targetUrl: sb.target.url,
                ranges,
                batchSize: opts.floorBatch,
                mode,
                // Every sink of the sandbox runs the same converters.
                converters: sinkConverters(
                    connectors.find((c) => c.role === "sink")!.config,
                    workerConfigFor(variant, workerConfig(sb.spec), opts.set),
                ),
                extraClasspath: opts.serialization === "avro" ? [path.join(AVRO_CONVERTER_DIR, "*")] : [],
            });
            floor.push({ ...f, changesPerSecond: Math.round(opts.backlog / f.seconds) });
            log(`${variant}: floor ${mode}: ${f.seconds.toFixed(1)} s, ${f.statements} statements, ${f.transactions} transactions`);
        }

        const drained = await drain(sb, endpoints, pairs, opts.backlog, kafkaRecords);
        log(
            `${variant}: backlog drained in ${drained.seconds.toFixed(1)} s (${drained.changesPerSecond}/s, ${drained.transactions} transactions)`,
        );
        return {
            variant,
            serialization: opts.serialization,
            overrides: variant === "candidate" ? opts.set : [],
            live: liveResult,
            floor,
            drain: drained,
            ratio: Object.fromEntries(
                floor.map((f) => [f.mode, Math.round((drained.changesPerSecond / f.changesPerSecond) * 1000) / 1000]),
            ),
        };
    } finally {
        await writers.close();
        await sb.stop();
    }
}

async function main(): Promise<void> {
    const usage =
        "npx ts-node --transpile-only bench/e2e/run.ts [--variants tuned,defaults] [--live N] [--rate N] [--backlog N] [--floor-batch N] [--serialization avro|json] [--set sink.key=value]... (--set: the candidate variant's overrides; scope source, sink, worker or jvm)";
    const flags = parseFlags(
        process.argv.slice(2),
        {
            variants: { type: "string" },
            live: { type: "number", integer: true, min: 1 },
            rate: { type: "number", integer: true, min: 1 },
            backlog: { type: "number", integer: true, min: 1 },
            "floor-batch": { type: "number", integer: true, min: 1 },
            serialization: { type: "string" },
            set: { type: "string", multiple: true },
        },
        usage,
    );
    const variants = (flags.variants ?? "tuned,defaults").split(",") as Variant[];
    const unknown = variants.filter((v) => !VARIANTS.includes(v));
    if (unknown.length > 0) throw new Error(`--variants: unknown ${unknown.join(", ")} (known: ${VARIANTS.join(", ")}); usage: ${usage}`);
    const serialization = (flags.serialization ?? devStackSerialization()) as Serialization;
    if (!SERIALIZATIONS.includes(serialization))
        throw new Error(`--serialization is one of ${SERIALIZATIONS.join(", ")}, got "${serialization}"; usage: ${usage}`);
    const opts = {
        serialization,
        live: flags.live ?? 30_000,
        rate: flags.rate ?? 1000,
        backlog: flags.backlog ?? 100_000,
        floorBatch: flags["floor-batch"] ?? 3000,
        set: flags.set,
    };
    const results: VariantResult[] = [];
    for (const variant of variants) results.push(await runVariant(variant, opts));
    console.table(
        results.map((r) => ({
            variant: `${r.variant} (${r.serialization})`,
            "live/s": r.live.rate,
            "p50 ms": r.live.lagP50Ms,
            "p99 ms": r.live.lagP99Ms,
            "drain/s": r.drain.changesPerSecond,
            ...Object.fromEntries(r.floor.map((f) => [`floor ${f.mode}/s`, f.changesPerSecond])),
            ...Object.fromEntries(Object.entries(r.ratio).map(([m, x]) => [`÷ ${m}`, x])),
        })),
    );
    const out = path.join(REPO_ROOT, "bench", "out", `e2e-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify({ ...opts, seed: SEED, size: SIZE, results }, null, 2));
    log(`results: ${out}`);
}

if (require.main === module) {
    main().catch((err: Error) => {
        console.error(err.message);
        process.exit(1);
    });
}
