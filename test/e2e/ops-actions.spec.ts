import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ActionResult } from "../../ops/connector-actions";
import { dataTopicName } from "../../model/naming";
import type { PipelineSpec } from "../../model/spec";
import { endOffsets } from "../../sandbox/kafka-admin";
import { E2E, e2e, expectInSync, START_TIMEOUT_MS, targetQuery, waitFor } from "./fixture";
import { cdc } from "./ops-run";

/** `cdc <argv> --sandbox e2e --json`, parsed; fails the test on an exit code other than `expected`. */
async function json(argv: string[], expected = 0): Promise<ActionResult & { error?: { message: string } }> {
    const { code, stdout, stderr } = await cdc([...argv, "--sandbox", "e2e", "--json"]);
    expect(code, `cdc ${argv.join(" ")}: ${stderr}`).to.equal(expected);
    return JSON.parse(stdout);
}

describe("sandbox e2e: cdc restart, pause, resume, stop and offsets (rest mode)", function () {
    this.timeout(10 * 60_000);
    let env: E2E;
    let shop: PipelineSpec;
    let inventory: PipelineSpec;

    before(async function () {
        this.timeout(START_TIMEOUT_MS);
        env = await e2e();
        shop = env.sb.spec.pipelines.find((p) => p.name === "shop")!;
        inventory = env.sb.spec.pipelines.find((p) => p.name === "inventory")!;
    });

    // A step that fails between stop and resume must not leave a connector stopped for the specs sharing this sandbox.
    afterEach(async () => {
        for (const s of await env.sb.client.statuses())
            if (s.connector.state === "STOPPED" || s.connector.state === "PAUSED") await env.sb.client.resume(s.name);
        await waitFor("every connector running again", 120_000, async () =>
            (await env.sb.client.statuses()).every((s) => s.connector.state === "RUNNING"),
        );
    });

    it("restarts a sink task that failed on a row the target refused, once the target is fixed", async () => {
        const sink = shop.sink.connectorName;
        const orders = `${shop.sink.schema}.orders`;
        const ids = [910_001, 910_002];
        const inTarget = async () => (await targetQuery(env, `SELECT order_id FROM ${orders} WHERE order_id = ANY($1)`, [ids])).length;
        // The sandbox's stand-in for Strimzi's autoRestart would restart the task itself; here the CLI must.
        await env.sb.supervisor.stop();
        await targetQuery(env, `ALTER TABLE ${orders} ADD CONSTRAINT ops_actions_cap CHECK (total_amount <= 2000)`);
        try {
            for (const [id, total] of [
                [ids[0], 2500],
                [ids[1], 10],
            ])
                await env.writers.pg.query(
                    `INSERT INTO orders (order_id, customer_id, order_date, order_status, total_amount, last_updated)
                     SELECT $1, min(customer_id), now(), 'pending', $2, now() FROM customers`,
                    [id, total],
                );
            await waitFor("the sink task to fail", 120_000, async () => (await env.sb.client.status(sink)).tasks[0]?.state === "FAILED");

            await targetQuery(env, `ALTER TABLE ${orders} DROP CONSTRAINT ops_actions_cap`);
            const restarted = await json(["restart", sink, "--only-failed"]);
            expect(restarted.mode).to.equal("rest");
            expect(restarted.action).to.equal("restart with tasks, only failed");
            await waitFor("the held-up orders in the target", 120_000, async () => (await inTarget()) === 2);
            const status = await env.sb.client.status(sink);
            expect(status.tasks.map((t) => t.state)).to.deep.equal(["RUNNING"]);
        } finally {
            await targetQuery(env, `ALTER TABLE ${orders} DROP CONSTRAINT IF EXISTS ops_actions_cap`);
            await env.writers.pg.query("DELETE FROM orders WHERE order_id = ANY($1)", [ids]);
            env.sb.supervisor.start();
        }
        await expectInSync(env);
    });

    it("restarts one task by id, and refuses a task the connector does not have", async () => {
        const source = inventory.source.connectorName;
        const result = await json(["restart", source, "--task", "0"]);
        expect(result.action).to.equal("restart task 0");
        await env.sb.client.waitForRunning(source);
        // The stack plans one task for it, so task 7 is a mistake on the command line, refused before Connect is asked.
        const refused = await cdc(["restart", source, "--task", "7", "--sandbox", "e2e"]);
        expect(refused.code).to.equal(2);
        expect(refused.stderr).to.include(`connector ${source} has tasks 0..0 (tasksMax 1); there is no task 7`);
    });

    it("pauses a source (changes wait in the database log) and resumes it (they arrive)", async () => {
        const source = inventory.source.connectorName;
        const paused = await json(["pause", source]);
        expect(paused.status!.connector.state).to.equal("PAUSED");
        expect(paused.status!.tasks.map((t) => t.state)).to.deep.equal(["PAUSED"]);
        const id = 990_001;
        await env.writers.maria.query(
            "INSERT INTO products (product_id, sku, product_name, category, price, created_at, updated_at) VALUES (?, 'OPS-PAUSE-PROBE', 'paused probe', 'probe', 1.00, NOW(), NOW())",
            [id],
        );
        try {
            await new Promise((r) => setTimeout(r, 8000));
            const products = `${inventory.sink.schema}.products`;
            expect(
                await targetQuery(env, `SELECT 1 FROM ${products} WHERE product_id = $1`, [id]),
                "nothing is captured while paused",
            ).to.have.length(0);
            const resumed = await json(["resume", source]);
            expect(resumed.status!.connector.state).to.equal("RUNNING");
            await waitFor(
                "the change made while paused",
                120_000,
                async () => (await targetQuery(env, `SELECT 1 FROM ${products} WHERE product_id = $1`, [id])).length === 1,
            );
        } finally {
            await env.writers.maria.query("DELETE FROM products WHERE product_id = ?", [id]);
        }
        await expectInSync(env);
    });

    it("source: refuses reset while running; stop → offsets list → reset → resume snapshots the tables again and the copy still matches", async () => {
        const source = shop.source.connectorName;
        const refused = await cdc(["offsets", "reset", source, "--sandbox", "e2e"]);
        expect(refused.code).to.equal(1);
        expect(refused.stderr).to.include(
            `connector ${source} is RUNNING; Connect changes offsets only while it is STOPPED: cdc stop ${source} first`,
        );

        const stopped = await json(["stop", source]);
        expect(stopped.status!.connector.state).to.equal("STOPPED");
        expect(stopped.status!.tasks).to.deep.equal([]);
        const listed = await json(["offsets", "list", source]);
        expect(listed.offsets).to.have.length(1);
        expect(listed.offsets![0].partition).to.deep.equal({ server: shop.source.topicPrefix });
        expect(listed.offsets![0].offset).to.have.property("lsn");

        const topic = dataTopicName(
            shop.source,
            shop.source.tables.find((t) => t.table === "customers")!,
        );
        const before = (await endOffsets(env.sb.classpath, env.sb.kafka.bootstrapServers, [topic]))[topic];
        const reset = await json(["offsets", "reset", source]);
        expect(reset.message).to.match(/offsets.*reset/i);
        expect(reset.offsets).to.deep.equal([]);

        const resumed = await json(["resume", source]);
        expect(resumed.status!.connector.state).to.equal("RUNNING");
        const customers = Number((await env.writers.pg.query("SELECT count(*) AS n FROM customers")).rows[0].n);
        // Without offsets the connector starts as on its first day: snapshot.mode initial re-reads every row.
        await waitFor("the re-snapshot of customers", 180_000, async () => {
            const now = (await endOffsets(env.sb.classpath, env.sb.kafka.bootstrapServers, [topic]))[topic];
            return now - before >= customers;
        });
        await expectInSync(env);
    });

    it("sink: stop → offsets alter back to 0 → resume replays the topic and repairs a row deleted behind the pipeline's back", async () => {
        const sink = shop.sink.connectorName;
        const customers = `${shop.sink.schema}.customers`;
        const stopped = await json(["stop", sink]);
        expect(stopped.status!.connector.state).to.equal("STOPPED");
        const listed = await json(["offsets", "list", sink]);
        const topic = dataTopicName(
            shop.source,
            shop.source.tables.find((t) => t.table === "customers")!,
        );
        const entry = listed.offsets!.find((o) => o.partition.kafka_topic === topic)!;
        expect(entry.partition).to.deep.equal({ kafka_topic: topic, kafka_partition: 0 });
        expect(Number(entry.offset!.kafka_offset)).to.be.greaterThan(0);

        const [victim] = await targetQuery<{ customer_id: number }>(
            env,
            `SELECT customer_id FROM ${customers} ORDER BY customer_id LIMIT 1`,
        );
        await targetQuery(env, `DELETE FROM ${customers} WHERE customer_id = $1`, [victim.customer_id]);

        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-offsets-"));
        const file = path.join(dir, "offsets.json");
        try {
            fs.writeFileSync(file, JSON.stringify({ offsets: [{ partition: entry.partition, offset: { kafka_offset: 0 } }] }));
            const altered = await json(["offsets", "alter", sink, "--file", file]);
            expect(altered.message).to.match(/offsets.*altered/i);
            expect(altered.offsets!.find((o) => o.partition.kafka_topic === topic)!.offset).to.deep.equal({ kafka_offset: 0 });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
        const resumed = await json(["resume", sink]);
        expect(resumed.status!.tasks.map((t) => t.state)).to.deep.equal(["RUNNING"]);
        await waitFor(
            "the replay to restore the deleted row",
            120_000,
            async () => (await targetQuery(env, `SELECT 1 FROM ${customers} WHERE customer_id = $1`, [victim.customer_id])).length === 1,
        );
        await expectInSync(env);
    });
});
