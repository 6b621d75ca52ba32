/**
 * One sandbox for every end-to-end spec: Kafka, Connect and the databases start once per mocha run
 * (about 30 s) and stop in a root `after` hook. Specs leave source and target in sync when they end.
 * Rows a spec inserts use keys of its own, so specs cannot see each other's rows whatever their order:
 * dlq 900_1xx–900_2xx, ops-actions 910_xxx and 990_xxx, ops-dlq 930_xxx, lakehouse 940_xxx, ops-snapshot 970_xxx,
 * metrics 950_xxx, alerts 960_xxx.
 */
import { Client } from "pg";
import { waitUntil } from "../../model/wait";
import type { Logger } from "../../reconciler/progress";
import { runReconciliation } from "../../reconciler/run";
import { applyConnectors } from "../../sandbox/apply";
import { Endpoints, waitForSync, describeDiff } from "../../sandbox/compare";
import { ChangeStream, DatasetSize, initialDataset } from "../../sandbox/mock-data/change-stream";
import { pipelineReconcilerConfig } from "../../sandbox/reconcile";
import { Sandbox, startSandbox } from "../../sandbox/sandbox";
import type { Serialization } from "../../model/schema-registry";
import { SourceWriters } from "../../sandbox/source-writers";
import { renderConnectors } from "../../connectors/render";
import { TablePair, tablePairs } from "../../sandbox/table-pairs";

export const SEED = 2025;
const SIZE: DatasetSize = { customers: 300, ordersPerCustomer: 1.5, products: 150, transactionsPerProduct: 2 };
export const START_TIMEOUT_MS = 10 * 60_000;

export interface E2E {
    sb: Sandbox;
    writers: SourceWriters;
    stream: ChangeStream;
    pairs: TablePair[];
    endpoints: Endpoints;
}

let started: Promise<E2E> | undefined;

/**
 * A sandbox with the seed data loaded and the connectors' initial snapshot in the target. `e2e()` shares one
 * per mocha process; a spec needing another serialization starts its own under another name and stops it.
 */
export async function startE2E(opts: { name: string; serialization?: Serialization }): Promise<E2E> {
    const t0 = Date.now();
    const log = (line: string) => process.stderr.write(`      [${opts.name} ${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}\n`);
    const sb = await startSandbox({ ...opts, log });
    const writers = await SourceWriters.connect(sb.postgresSource.url, sb.mariaDbSource.url);
    const dataset = initialDataset(SEED, SIZE, new Date());
    await writers.load(dataset);
    await applyConnectors(renderConnectors(sb.spec, sb.ctx), sb.client, log);
    const endpoints = { postgresSourceUrl: sb.postgresSource.url, mariaDbSourceUrl: sb.mariaDbSource.url, targetUrl: sb.target.url };
    const pairs = tablePairs(sb.spec).filter((p) => p.table !== "cdc_schema_evolution_test");
    const snapshot = await waitForSync(endpoints, pairs, 120_000);
    if (!snapshot.synced)
        throw new Error(`initial snapshot did not reach the target:\n${snapshot.diffs.map((d) => describeDiff(d)).join("\n")}`);
    log(`initial snapshot in sync; logs in ${sb.logDir}`);
    return { sb, writers, stream: new ChangeStream(SEED, dataset), pairs, endpoints };
}

export function e2e(): Promise<E2E> {
    started ??= startE2E({ name: "e2e" });
    return started;
}

after(async function () {
    this.timeout(120_000);
    if (!started) return;
    const env = await started.catch(() => undefined);
    await env?.writers.close();
    await env?.sb.stop();
});

export async function expectInSync(env: E2E, pairs: readonly TablePair[] = env.pairs, timeoutMs = 120_000): Promise<void> {
    const { synced, diffs } = await waitForSync(env.endpoints, pairs, timeoutMs);
    if (!synced) throw new Error(`target differs from source after ${timeoutMs / 1000}s:\n${diffs.map((d) => describeDiff(d)).join("\n")}`);
}

export interface Reconciliation {
    pipeline: string;
    exitCode: number;
    differingRows: number;
    /** What the reconciler logged as errors (a table it could not compare). */
    errors: string[];
}

/** The reconciler's verdict (reconciler/run.ts, as the CronJob runs it) on every pipeline over the fixture's tables. */
export async function reconcile(env: E2E): Promise<Reconciliation[]> {
    const results: Reconciliation[] = [];
    for (const pipeline of env.sb.spec.pipelines) {
        const errors: string[] = [];
        const quiet: Logger = { progress: () => undefined, info: () => undefined, error: (m) => errors.push(m), flush: () => undefined };
        const run = await runReconciliation(pipelineReconcilerConfig(env.sb, pipeline.name, env.pairs), quiet);
        results.push({ pipeline: pipeline.name, exitCode: run.exitCode, differingRows: run.report.summary.total_discrepancies, errors });
    }
    return results;
}

/** Runs one statement in the target database and returns its rows. */
export async function targetQuery<T = Record<string, unknown>>(env: E2E, sql: string, params: unknown[] = []): Promise<T[]> {
    const c = new Client({ connectionString: env.sb.target.url });
    await c.connect();
    try {
        return (await c.query(sql, params)).rows as T[];
    } finally {
        await c.end();
    }
}

export async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
    await waitUntil(what, timeoutMs, probe);
}
