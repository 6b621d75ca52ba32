/**
 * Avro (Apicurio Registry 3.3.3, its converter 2.6.13.Final) against JSON with embedded schemas (Kafka's
 * JsonConverter, schemas.enable=true): the same seed-004 data and change stream through the sandbox pipelines,
 * each serialization on a fresh sandbox with the stack's connector settings.
 *
 *   flock /tmp/cdc-heavy.lock npx ts-node --transpile-only bench/e2e/serialization.ts [--changes 100000]
 *
 * Per variant:
 * - bytes on the topic: the data topics' records written for the live phase's changes, key plus value as the
 *   converter wrote them, and the growth of the topics' log segments on disk (lz4 batches, the topics' planned
 *   compression.type);
 * - live: the changes written as fast as one writer per source database commits them; end-to-end changes/s =
 *   changes / (last target apply − first write);
 * - backlog: sinks paused while as many changes again are written and captured, then resumed; drain changes/s =
 *   changes / (last target apply − resume), where the sink's deserialization counts.
 */
import * as fs from "fs";
import * as path from "path";
import { parseFlags } from "../../model/args";
import { dataTopicName } from "../../model/naming";
import type { Serialization } from "../../model/schema-registry";
import { renderConnectors } from "../../connectors/render";
import { KafkaClient, PartitionOffset } from "../../ops/kafka-client";
import { applyConnectors } from "../../sandbox/apply";
import { appliedSince, applyStats, installApplyLog } from "../../sandbox/apply-log";
import { describeDiff, Endpoints, waitForSync } from "../../sandbox/compare";
import { ChangeStream, initialDataset } from "../../sandbox/mock-data/change-stream";
import { REPO_ROOT } from "../../sandbox/paths";
import { Sandbox, startSandbox } from "../../sandbox/sandbox";
import { SourceWriters } from "../../sandbox/source-writers";
import { streamChanges } from "../../sandbox/stream";
import { TablePair, tablePairs } from "../../sandbox/table-pairs";

const SEED = 42;
const SIZE = { customers: 5000, ordersPerCustomer: 2, products: 1000, transactionsPerProduct: 3 };

interface SerializationResult {
    serialization: Serialization;
    changes: number;
    /** Records on the data topics for the live phase (a delete is two: the delete event and its tombstone). */
    records: number;
    keyValueBytes: number;
    keyValueBytesPerChange: number;
    diskBytes: number;
    diskBytesPerChange: number;
    endToEndSeconds: number;
    endToEndChangesPerSecond: number;
    drainSeconds: number;
    drainChangesPerSecond: number;
}

const log = (line: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** Bytes of the topics' log segments in the broker's data folder (one folder per partition: `<topic>-<n>`). */
function segmentBytes(runDir: string, topics: readonly string[]): number {
    const dataDir = path.join(runDir, "kafka-data");
    return fs
        .readdirSync(dataDir)
        .filter((dir) => topics.some((t) => dir.startsWith(`${t}-`) && /^\d+$/.test(dir.slice(t.length + 1))))
        .flatMap((dir) =>
            fs
                .readdirSync(path.join(dataDir, dir))
                .filter((f) => f.endsWith(".log"))
                .map((f) => fs.statSync(path.join(dataDir, dir, f)).size),
        )
        .reduce((a, b) => a + b, 0);
}

async function recordBytes(
    kafka: KafkaClient,
    from: PartitionOffset[],
    until: PartitionOffset[],
): Promise<{ records: number; bytes: number }> {
    let records = 0;
    let bytes = 0;
    for (const start of from) {
        const end = until.find((u) => u.topic === start.topic && u.partition === start.partition)!;
        for (const r of await kafka.read(start.topic, start.partition, start.offset, { until: end.offset })) {
            records++;
            bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0);
        }
    }
    return { records, bytes };
}

async function settle(what: string, endpoints: Endpoints, pairs: TablePair[], timeoutMs: number): Promise<void> {
    const sync = await waitForSync(endpoints, pairs, timeoutMs, 2000);
    if (!sync.synced) throw new Error(`${what}: ${sync.diffs.map((d) => describeDiff(d)).join("; ")}`);
}

async function runVariant(serialization: Serialization, changes: number): Promise<SerializationResult> {
    const sb: Sandbox = await startSandbox({ name: `bench-${serialization}`, serialization, log });
    const writers = await SourceWriters.connect(sb.postgresSource.url, sb.mariaDbSource.url);
    const kafka = new KafkaClient({ bootstrapServers: [sb.kafka.bootstrapServers] }, "bench-serialization");
    try {
        const dataset = initialDataset(SEED, SIZE, new Date());
        await writers.load(dataset);
        await applyConnectors(renderConnectors(sb.spec, sb.ctx), sb.client, log);
        const endpoints = { postgresSourceUrl: sb.postgresSource.url, mariaDbSourceUrl: sb.mariaDbSource.url, targetUrl: sb.target.url };
        const pairs = tablePairs(sb.spec).filter((p) => p.table !== "cdc_schema_evolution_test");
        await settle(`${serialization}: snapshot incomplete`, endpoints, pairs, 300_000);
        await installApplyLog(sb.target.url, pairs);
        const topics = sb.spec.pipelines.flatMap((p) =>
            p.source.tables.filter((t) => pairs.some((pair) => pair.table === t.table)).map((t) => dataTopicName(p.source, t)),
        );

        const offsetsBefore = await kafka.latestOffsets(topics);
        const diskBefore = segmentBytes(sb.runDir, topics);
        log(`${serialization}: streaming ${changes} changes`);
        const start = new Date();
        const stream = new ChangeStream(SEED, dataset);
        await streamChanges(stream, writers, { count: changes, ratePerSecond: 0 });
        await settle(`${serialization}: target never caught up`, endpoints, pairs, 30 * 60_000);
        const stats = await applyStats(sb.target.url, start);
        const endToEndSeconds = (stats.lastAppliedAt!.getTime() - start.getTime()) / 1000;
        const { records, bytes } = await recordBytes(kafka, offsetsBefore, await kafka.latestOffsets(topics));
        const diskBytes = segmentBytes(sb.runDir, topics) - diskBefore;
        log(`${serialization}: ${records} records, ${bytes} key+value bytes, ${diskBytes} bytes on disk, ${endToEndSeconds.toFixed(1)} s`);

        const sinks = sb.spec.pipelines.map((p) => p.sink.connectorName);
        for (const sink of sinks) await sb.client.pause(sink);
        log(`${serialization}: sinks paused; writing a backlog of ${changes} changes`);
        await streamChanges(stream, writers, { count: changes, ratePerSecond: 0 });
        const resumedAt = new Date();
        for (const sink of sinks) await sb.client.resume(sink);
        await settle(`${serialization}: backlog never drained`, endpoints, pairs, 30 * 60_000);
        const drain = await appliedSince(sb.target.url, resumedAt);
        const drainSeconds = (drain.lastAppliedAt!.getTime() - resumedAt.getTime()) / 1000;
        log(`${serialization}: backlog drained in ${drainSeconds.toFixed(1)} s`);

        return {
            serialization,
            changes,
            records,
            keyValueBytes: bytes,
            keyValueBytesPerChange: Math.round(bytes / changes),
            diskBytes,
            diskBytesPerChange: Math.round(diskBytes / changes),
            endToEndSeconds,
            endToEndChangesPerSecond: Math.round(changes / endToEndSeconds),
            drainSeconds,
            drainChangesPerSecond: Math.round(changes / drainSeconds),
        };
    } finally {
        await kafka.close();
        await writers.close();
        await sb.stop();
    }
}

async function main(): Promise<void> {
    const flags = parseFlags(
        process.argv.slice(2),
        { changes: { type: "number", integer: true, min: 1 } },
        "npx ts-node --transpile-only bench/e2e/serialization.ts [--changes N]",
    );
    const changes = flags.changes ?? 100_000;
    const results: SerializationResult[] = [];
    for (const serialization of ["json", "avro"] as const) results.push(await runVariant(serialization, changes));
    console.table(results);
    const out = path.join(REPO_ROOT, "bench", "out", `e2e-serialization-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify({ changes, seed: SEED, size: SIZE, results }, null, 2));
    log(`results: ${out}`);
}

if (require.main === module) {
    main().catch((err: Error) => {
        console.error(err.message);
        process.exit(1);
    });
}
