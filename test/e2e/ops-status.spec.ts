/**
 * `cdc status` against the running sandbox (PostgreSQL and MariaDB sources, Kafka 4.3.1, Connect, the JDBC sink),
 * each field checked against a witness other than the code under test: the source servers' own log positions,
 * Kafka's Java client's end offsets, the databases' row counts. Then the state progression through a fresh
 * snapshot of the MariaDB pipeline, the exit codes when Connect or Kafka do not answer, and the reconciler's
 * confirm step ending as soon as the sink has caught up (and not before, when the sink is paused).
 */
import { expect } from "chai";
import { PassThrough } from "stream";
import { waitUntil } from "../../model/wait";
import { dataTopicName } from "../../model/naming";
import { comparePositions, parsePgLsn, REPLICATION_STATES, ReplicationState } from "../../ops/checkpoint";
import { pipelineProgress } from "../../ops/checkpoint-gate";
import { main } from "../../ops/cli";
import { KafkaClient } from "../../ops/kafka-client";
import { recordDecoderFor } from "../../ops/record-decoder";
import type { StatusReport, TableCheckpoint } from "../../ops/status";
import { resolveTarget } from "../../ops/target";
import type { Logger } from "../../reconciler/progress";
import { runReconciliation } from "../../reconciler/run";
import { endOffsets } from "../../sandbox/kafka-admin";
import { pipelineReconcilerConfig } from "../../sandbox/reconcile";
import { E2E, e2e, expectInSync, START_TIMEOUT_MS, targetQuery } from "./fixture";

async function cdc(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out = { stdout: "", stderr: "" };
    const stream = (key: "stdout" | "stderr") => {
        const s = new PassThrough();
        s.on("data", (d: Buffer) => (out[key] += d.toString()));
        return s;
    };
    const code = await main(argv, { stdout: stream("stdout"), stderr: stream("stderr"), env: {} });
    return { code, ...out };
}

async function status(...extra: string[]): Promise<StatusReport> {
    const r = await cdc("status", "--sandbox", "e2e", "--json", ...extra);
    if (r.code !== 0) throw new Error(`cdc status exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as StatusReport;
}

const quiet: Logger = { progress: () => undefined, info: () => undefined, error: () => undefined, flush: () => undefined };

describe("sandbox e2e: cdc status", function () {
    this.timeout(10 * 60_000);
    let env: E2E;
    let started: Date;

    before(async function () {
        this.timeout(START_TIMEOUT_MS);
        env = await e2e();
        started = new Date(Date.now() - START_TIMEOUT_MS);
    });

    const row = (r: StatusReport, table: string): TableCheckpoint => {
        const found = r.tables.find((t) => t.source_table === table);
        if (!found) throw new Error(`no ${table} in ${r.tables.map((t) => t.source_table).join(", ")}`);
        return found;
    };

    it("reports every captured table with fields that agree with the servers and Kafka's Java client", async () => {
        // One change per captured data table, then wait until both sources committed a streaming offset and the sinks
        // caught up. Every table gets one: an earlier spec's dead-lettered record can be the last on a topic, and the
        // sink's committed offset stays before it until a good record follows.
        await env.writers.pg.query(
            "UPDATE customers SET last_updated = now() WHERE customer_id = (SELECT min(customer_id) FROM customers)",
        );
        await env.writers.pg.query("UPDATE orders SET last_updated = now() WHERE order_id = (SELECT min(order_id) FROM orders)");
        await env.writers.maria.query(
            "UPDATE products SET quantity_in_stock = quantity_in_stock + 1 WHERE product_id = (SELECT id FROM (SELECT min(product_id) AS id FROM products) m)",
        );
        await env.writers.maria.query(
            "UPDATE inventory_transactions SET notes = CONCAT(COALESCE(notes, ''), '.') WHERE transaction_id = (SELECT id FROM (SELECT min(transaction_id) AS id FROM inventory_transactions) m)",
        );
        let behind = "";
        const report = await waitUntil(
            "streaming offsets and caught-up sinks",
            90_000,
            async () => {
                const r = await status();
                const lagging = r.tables.filter((t) => t.state !== "STREAMING" || t.sink_lag !== 0);
                behind = lagging.map((t) => `${t.source_table}: ${t.state}, sink lag ${t.sink_lag}`).join("; ");
                return lagging.length === 0 ? r : undefined;
            },
            { describe: () => `still behind: ${behind}` },
        );
        const expected = env.sb.spec.pipelines.flatMap((p) => p.source.tables.map((t) => `${t.schema}.${t.table}`));
        expect(report.tables.map((t) => t.source_table)).to.have.members(expected);
        expect(report.problems).to.deep.equal([]);

        const [pgLsn] = (await env.writers.pg.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows;
        const [[binlog]] = (await env.writers.maria.query("SHOW MASTER STATUS")) as unknown as [{ File: string; Position: number }[]];
        const topics = env.sb.spec.pipelines.flatMap((p) => p.source.tables.map((t) => dataTopicName(p.source, t)));
        const javaEnds = await endOffsets(env.sb.classpath, env.sb.kafka.bootstrapServers, topics);

        for (const p of env.sb.spec.pipelines) {
            for (const t of p.source.tables) {
                const r = row(report, `${t.schema}.${t.table}`);
                expect(r.connector_name).to.equal(p.source.connectorName);
                expect(r.sink_connector).to.equal(p.sink.connectorName);
                expect([r.connector_state, ...r.task_states, r.sink_state, ...r.sink_task_states]).to.satisfy((s: string[]) =>
                    s.every((x) => x === "RUNNING"),
                );
                expect(r.total_events_processed, r.topic).to.equal(javaEnds[r.topic]);
                const commit = new Date(r.last_offset_commit!);
                expect(commit.getTime(), "last_offset_commit").to.be.within(started.getTime(), Date.now());
                if (p.source.kind === "postgres") {
                    expect(r.last_lsn).to.match(/^[0-9A-F]+\/[0-9A-F]+$/);
                    expect(
                        comparePositions(
                            { kind: "postgres", lsn: parsePgLsn(r.last_lsn!) },
                            { kind: "postgres", lsn: parsePgLsn(pgLsn.lsn) },
                        ),
                    ).to.be.at.most(0);
                } else {
                    const [file, pos] = r.last_lsn!.split(":");
                    expect(file).to.equal(binlog.File);
                    expect(Number(pos)).to.be.within(1, binlog.Position);
                }
            }
        }
        // Every source row was read by the snapshot, so each table's topic holds at least as many events.
        const [{ n: customers }] = (await env.writers.pg.query<{ n: string }>("SELECT count(*) AS n FROM customers")).rows;
        expect(row(report, "public.customers").total_events_processed).to.be.at.least(Number(customers));
        // The change just made is the newest event of customers: its source time is within the test.
        const lastEvent = new Date(row(report, "public.customers").last_event_timestamp!);
        expect(lastEvent.getTime()).to.be.within(Date.now() - 120_000, Date.now());
    });

    it("prints one table line per captured table without --json", async () => {
        const r = await cdc("status", "--sandbox", "e2e");
        expect(r.code).to.equal(0);
        const lines = r.stdout.split("\n");
        expect(lines[0]).to.match(/^sandbox e2e \(rest mode; Connect http:\/\/127\.0\.0\.1:\d+; Kafka 127\.0\.0\.1:\d+\)$/);
        expect(lines[2]).to.match(/^TABLE +CONNECTOR +STATE +LAST LSN +LAST EVENT +OFFSET COMMIT +EVENTS +SINK +LAG$/);
        for (const p of env.sb.spec.pipelines) {
            for (const t of p.source.tables)
                expect(r.stdout).to.match(new RegExp(`^${t.schema}\\.${t.table} +${p.source.connectorName} RUNNING/RUNNING `, "m"));
        }
    });

    it("follows a fresh snapshot of the MariaDB pipeline through every state in order: NULL, SNAPSHOT_START, SNAPSHOT_COMPLETE, STREAMING", async () => {
        const p = env.sb.spec.pipelines.find((x) => x.source.kind === "mariadb")!;
        const name = p.source.connectorName;
        await env.sb.client.stopConnector(name);
        await waitUntil(`${name} STOPPED`, 60_000, async () => (await env.sb.client.status(name)).connector.state === "STOPPED");
        await env.sb.client.resetOffsets(name);
        const tables = p.source.tables.map((t) => `${t.schema}.${t.table}`);
        const whileStopped = await cdc("status", "--sandbox", "e2e", "--json", "--pipeline", p.name);
        expect(whileStopped.code, "a stopped connector is a problem").to.equal(1);
        const stopped = JSON.parse(whileStopped.stdout) as StatusReport;
        expect(stopped.problems).to.deep.equal([`${name}: connector STOPPED`]);
        for (const t of tables) expect(row(stopped, t).state, t).to.equal("NULL");
        expect(row(stopped, tables[0]).last_lsn).to.equal(null);

        const seen = new Map<string, ReplicationState[]>(tables.map((t) => [t, ["NULL"]]));
        const record = (r: StatusReport) => {
            for (const t of tables) {
                const states = seen.get(t)!;
                const s = row(r, t).state;
                if (states[states.length - 1] !== s) states.push(s);
            }
        };
        await env.sb.client.resume(name);
        // Once the snapshot's end is committed (the worker flushes every 10 s), a change moves it on to streaming.
        let changed = false;
        await waitUntil("a streaming offset after the new snapshot", 120_000, async () => {
            const r = JSON.parse((await cdc("status", "--sandbox", "e2e", "--json", "--pipeline", p.name)).stdout) as StatusReport;
            record(r);
            if (!changed && r.tables.every((t) => t.state === "SNAPSHOT_COMPLETE")) {
                await env.writers.maria.query(
                    "UPDATE products SET quantity_in_stock = quantity_in_stock + 1 WHERE product_id = (SELECT id FROM (SELECT min(product_id) AS id FROM products) m)",
                );
                changed = true;
            }
            return r.tables.every((t) => t.state === "STREAMING") || undefined;
        });
        for (const [t, states] of seen) {
            process.stderr.write(`      ${t}: ${states.join(" → ")}\n`);
            expect(states, t).to.deep.equal([...REPLICATION_STATES]);
        }
        await expectInSync(env);
    });

    it("exits 3 naming Connect or Kafka when one does not answer", async () => {
        const connect = await cdc("status", "--sandbox", "e2e", "--connect-url", "http://127.0.0.1:1");
        expect(connect.code).to.equal(3);
        expect(connect.stderr).to.match(/^cdc status: Kafka Connect REST at http:\/\/127\.0\.0\.1:1 is unreachable: /);
        const kafka = await cdc("status", "--sandbox", "e2e", "--bootstrap-servers", "127.0.0.1:1", "--json");
        expect(kafka.code).to.equal(3);
        expect(JSON.parse(kafka.stdout).error.message).to.match(/^Kafka at 127\.0\.0\.1:1 is unreachable: /);
    });

    describe("the reconciler's confirm step", () => {
        const shop = () => env.sb.spec.pipelines.find((x) => x.source.kind === "postgres")!;
        const reconcileShop = async (withProgress: boolean) => {
            const p = shop();
            const target = resolveTarget(
                { sandbox: "e2e", stack: undefined, "connect-url": undefined, "bootstrap-servers": undefined, mode: undefined },
                {},
            );
            const kafka = new KafkaClient(target.kafka, "e2e-reconciler");
            try {
                const config = pipelineReconcilerConfig(env.sb, p.name, env.pairs);
                const run = await runReconciliation(
                    config,
                    quiet,
                    false,
                    withProgress ? pipelineProgress(target.spec, p, env.sb.client, kafka, recordDecoderFor(target.spec, {})) : undefined,
                );
                return run.report;
            } finally {
                await kafka.close();
            }
        };

        it("re-reads suspects as soon as the sink has caught up, well within the window, and still confirms a real difference", async () => {
            const p = shop();
            const [{ id }] = await targetQuery<{ id: number }>(
                env,
                `DELETE FROM ${p.sink.schema}.customers WHERE customer_id = (SELECT max(customer_id) FROM ${p.sink.schema}.customers) RETURNING customer_id AS id`,
            );
            try {
                const gated = await reconcileShop(true);
                const windowed = await reconcileShop(false);
                const table = (r: typeof gated) => r.tables.find((t) => t.source_table.endsWith("customers"))!;
                expect(gated.checkpoint?.source).to.equal("connect+kafka");
                expect(gated.checkpoint?.tables.map((t) => t.source_table)).to.include("public.customers");
                expect(windowed.checkpoint).to.deep.include({ source: "none" });
                for (const r of [gated, windowed]) {
                    expect(table(r).discrepancies.map((d) => d.primary_key.customer_id)).to.deep.equal([String(id)]);
                    expect(table(r).discrepancies[0].mismatch_type).to.equal("missing_in_target");
                }
                const g = table(gated).lag_wait!;
                const w = table(windowed).lag_wait!;
                expect(g.by).to.equal("gate");
                expect(w).to.deep.include({ by: "window", waited_ms: 30_000 });
                expect(g.waited_ms).to.be.below(w.window_ms / 2);
                process.stderr.write(
                    `      confirm: ${table(gated).timings_ms.confirm} ms through the gate (waited ${g.waited_ms} ms) vs ${table(windowed).timings_ms.confirm} ms sleeping the window\n`,
                );
            } finally {
                // Touching the source row makes the pipeline write it to the target again.
                await env.writers.pg.query("UPDATE customers SET last_updated = last_updated WHERE customer_id = $1", [id]);
                await expectInSync(env);
            }
        });

        it("does not stop early while the sink is paused: the window bounds the wait", async () => {
            const p = shop();
            await env.sb.client.pause(p.sink.connectorName);
            try {
                await waitUntil("sink paused", 60_000, async () =>
                    (await env.sb.client.status(p.sink.connectorName)).tasks.every((t) => t.state === "PAUSED"),
                );
                await env.writers.pg.query(
                    "UPDATE customers SET city = city || ' (moved)' WHERE customer_id = (SELECT min(customer_id) FROM customers)",
                );
                const report = await reconcileShop(true);
                const customers = report.tables.find((t) => t.source_table.endsWith("customers"))!;
                expect(customers.lag_wait?.by).to.equal("window");
                expect(customers.lag_wait?.waited_ms).to.be.within(30_000, 31_000);
                expect(customers.lag_wait!.reason).to.include("did not pass the mark within the window");
                expect(customers.discrepancies.map((d) => d.mismatch_type)).to.deep.equal(["value_mismatch"]);
            } finally {
                await env.sb.client.resume(p.sink.connectorName);
                await expectInSync(env);
            }
        });
    });
});
