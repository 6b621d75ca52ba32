/**
 * End-to-end benchmark: the same seed-004 change stream through the sandbox pipelines twice, once with
 * the stack's tuned connector settings and once with the connectors' defaults, each on a fresh sandbox.
 *
 *   flock /tmp/cdc-heavy.lock npx ts-node --transpile-only bench/e2e/run.ts [--changes 100000] [--rate 0]
 *
 * Two phases per variant:
 * - live: the change stream as fast as one writer per source database commits it; lag is source commit
 *   → target row, p50/p99 over customers and orders (microsecond source timestamps, see
 *   sandbox/apply-log.ts); throughput here is bounded by the writer.
 * - backlog: the sinks are paused while another batch of changes is written and captured, then resumed;
 *   drain throughput = changes / (last target apply − resume), what the sinks sustain flat out.
 */
import * as fs from "fs";
import * as path from "path";
import { parseFlags } from "../../model/args";
import { applyConnectors } from "../../sandbox/apply";
import { applyStats, appliedSince, installApplyLog } from "../../sandbox/apply-log";
import { describeDiff, waitForSync } from "../../sandbox/compare";
import { ChangeStream, initialDataset } from "../../sandbox/mock-data/change-stream";
import { REPO_ROOT } from "../../sandbox/paths";
import { startSandbox } from "../../sandbox/sandbox";
import { SourceWriters } from "../../sandbox/source-writers";
import { renderConnectors } from "../../connectors/render";
import { streamChanges } from "../../sandbox/stream";
import { tablePairs } from "../../sandbox/table-pairs";
import { connectorsFor, Variant, workerConfigFor } from "./variants";

const SEED = 42;
const SIZE = { customers: 5000, ordersPerCustomer: 2, products: 1000, transactionsPerProduct: 3 };

interface VariantResult {
    variant: Variant;
    changes: number;
    writeSeconds: number;
    endToEndSeconds: number;
    eventsPerSecond: number;
    applied: number;
    lagP50Ms: number | null;
    lagP99Ms: number | null;
    lagMaxMs: number | null;
    drainSeconds: number;
    drainEventsPerSecond: number;
}

const log = (line: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function runVariant(variant: Variant, changes: number, rate: number): Promise<VariantResult> {
    const sb = await startSandbox({ name: `bench-${variant}`, log, workerConfig: (c) => workerConfigFor(variant, c) });
    const writers = await SourceWriters.connect(sb.postgresSource.url, sb.mariaDbSource.url);
    try {
        const dataset = initialDataset(SEED, SIZE, new Date());
        await writers.load(dataset);
        await applyConnectors(connectorsFor(variant, renderConnectors(sb.spec, sb.ctx)), sb.client, log);
        const endpoints = { postgresSourceUrl: sb.postgresSource.url, mariaDbSourceUrl: sb.mariaDbSource.url, targetUrl: sb.target.url };
        const pairs = tablePairs(sb.spec).filter((p) => p.table !== "cdc_schema_evolution_test");
        const snapshot = await waitForSync(endpoints, pairs, 300_000, 2000);
        if (!snapshot.synced) throw new Error(`${variant}: snapshot incomplete: ${snapshot.diffs.map((d) => describeDiff(d)).join("; ")}`);
        await installApplyLog(sb.target.url, pairs);

        log(`${variant}: streaming ${changes} changes (${rate || "max"}/s)`);
        const start = new Date();
        let lastReport = Date.now();
        const stream = new ChangeStream(SEED, dataset);
        await streamChanges(stream, writers, {
            count: changes,
            ratePerSecond: rate,
            onProgress: (n) => {
                if (Date.now() - lastReport > 10_000) {
                    lastReport = Date.now();
                    log(`${variant}: ${n}/${changes} written`);
                }
            },
        });
        const writeSeconds = (Date.now() - start.getTime()) / 1000;
        log(`${variant}: written in ${writeSeconds.toFixed(1)} s; waiting for the target`);
        const sync = await waitForSync(endpoints, pairs, 30 * 60_000, 5000);
        if (!sync.synced) throw new Error(`${variant}: target never caught up: ${sync.diffs.map((d) => describeDiff(d)).join("; ")}`);
        const s = await applyStats(sb.target.url, start);
        const endToEndSeconds = (s.lastAppliedAt!.getTime() - start.getTime()) / 1000;

        const sinks = sb.spec.pipelines.map((p) => p.sink.connectorName);
        for (const sink of sinks) await sb.client.pause(sink);
        log(`${variant}: sinks paused; writing a backlog of ${changes} changes`);
        await streamChanges(stream, writers, { count: changes, ratePerSecond: 0 });
        const resumedAt = new Date();
        for (const sink of sinks) await sb.client.resume(sink);
        const drained = await waitForSync(endpoints, pairs, 30 * 60_000, 2000);
        if (!drained.synced) throw new Error(`${variant}: backlog never drained: ${drained.diffs.map((d) => describeDiff(d)).join("; ")}`);
        const drain = await appliedSince(sb.target.url, resumedAt);
        const drainSeconds = (drain.lastAppliedAt!.getTime() - resumedAt.getTime()) / 1000;
        log(`${variant}: backlog drained in ${drainSeconds.toFixed(1)} s`);

        const ms = (x: number | null) => (x === null ? null : Math.round(x * 1000));
        return {
            variant,
            changes,
            writeSeconds,
            endToEndSeconds,
            eventsPerSecond: Math.round(changes / endToEndSeconds),
            applied: s.applied,
            lagP50Ms: ms(s.p50),
            lagP99Ms: ms(s.p99),
            lagMaxMs: ms(s.max),
            drainSeconds,
            drainEventsPerSecond: Math.round(changes / drainSeconds),
        };
    } finally {
        await writers.close();
        await sb.stop();
    }
}

async function main(): Promise<void> {
    const flags = parseFlags(
        process.argv.slice(2),
        { changes: { type: "number", integer: true, min: 1 }, rate: { type: "number", integer: true, min: 0 } },
        "npx ts-node --transpile-only bench/e2e/run.ts [--changes N] [--rate N]",
    );
    const changes = flags.changes ?? 100_000;
    const rate = flags.rate ?? 0;
    const results: VariantResult[] = [];
    for (const variant of ["tuned", "defaults"] as const) results.push(await runVariant(variant, changes, rate));
    console.table(results);
    const out = path.join(REPO_ROOT, "bench", "out", `e2e-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify({ changes, rate, seed: SEED, size: SIZE, results }, null, 2));
    log(`results: ${out}`);
}

if (require.main === module) {
    main().catch((err: Error) => {
        console.error(err.message);
        process.exit(1);
    });
}
