/**
 * `cdc dlq` against the real sandbox: records Kafka Connect dead-letters, presented as seed 000's DeadLetterRecord,
 * replayed through the sink alone (its retry topic), resolved, ignored, with illegal moves refused, and the state
 * read back from the compacted state topic by a separate CLI process.
 */
import { expect } from "chai";
import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";
import { dataTopicName, dlqRetryTopicName } from "../../model/naming";
import type { PipelineSpec } from "../../model/spec";
import type { PresentedRecord } from "../../ops/dlq-present";
import { KafkaClient } from "../../ops/kafka-client";
import { endOffsets } from "../../sandbox/kafka-admin";
import { E2E, e2e, expectInSync, START_TIMEOUT_MS, targetQuery, waitFor } from "./fixture";
import { cdc } from "./ops-run";

const REPO = path.resolve(__dirname, "../..");

/** `cdc <argv> --sandbox e2e --json` in this process: exit code and parsed stdout (undefined when empty). */
async function run(argv: string[]): Promise<{ code: number; out: any; stderr: string }> {
    const { code, stdout, stderr } = await cdc([...argv, "--sandbox", "e2e", "--json"]);
    return { code, out: stdout.trim() ? JSON.parse(stdout) : undefined, stderr };
}

/** The same command in a new Node process, as an operator's shell runs it: nothing shared with this process's memory. */
async function runFresh(argv: string[]): Promise<{ code: number; out: any }> {
    const bin = path.join(REPO, "node_modules", ".bin", "ts-node");
    try {
        const { stdout } = await promisify(execFile)(bin, ["--transpile-only", "ops/cli.ts", ...argv, "--sandbox", "e2e", "--json"], {
            cwd: REPO,
        });
        return { code: 0, out: JSON.parse(stdout) };
    } catch (e) {
        const err = e as { code: number; stdout: string };
        return { code: err.code, out: err.stdout.trim() ? JSON.parse(err.stdout) : undefined };
    }
}

const listed = async (): Promise<PresentedRecord[]> => (await run(["dlq", "list"])).out;

describe("sandbox e2e: cdc dlq list, show, replay, resolve, ignore", function () {
    this.timeout(10 * 60_000);
    let env: E2E;
    let shop: PipelineSpec;
    let sink: string;
    let ordersTopic: string;
    let orders: string;

    before(async function () {
        this.timeout(START_TIMEOUT_MS);
        env = await e2e();
        shop = env.sb.spec.pipelines.find((p) => p.source.kind === "postgres")!;
        sink = shop.sink.connectorName;
        ordersTopic = dataTopicName(
            shop.source,
            shop.source.tables.find((t) => t.table === "orders")!,
        );
        orders = `${shop.sink.schema}.orders`;
    });

    const insertOrder = (id: number) =>
        env.writers.pg.query(
            `INSERT INTO orders (order_id, customer_id, order_date, order_status, total_amount, last_updated)
             SELECT $1, min(customer_id), now(), 'pending', 12.5, now() FROM customers`,
            [id],
        );
    const inTarget = async (id: number) =>
        (await targetQuery(env, `SELECT order_id FROM ${orders} WHERE order_id = $1`, [id])).length === 1;
    const retryEnd = async () =>
        (await endOffsets(env.sb.classpath, env.sb.kafka.bootstrapServers, [dlqRetryTopicName(sink)]))[`${dlqRetryTopicName(sink)}-0`];

    it("lists a change a broken sink transform dead-lettered as a DeadLetterRecord; replays it before the fix (dead-lettered again) and after (applied, RESOLVED, in the target)", async () => {
        const orderId = 930_001;
        const good = await env.sb.client.getConfig(sink);
        let record: PresentedRecord | undefined;
        // A deploy that breaks the sink: a transform that fails on every record it is given.
        await env.sb.client.putConfig(sink, {
            ...good,
            transforms: "broken",
            "transforms.broken.type": "org.apache.kafka.connect.transforms.ExtractField$Value",
            "transforms.broken.field": "no_such_field",
        });
        await env.sb.client.waitForRunning(sink);
        const broken = Date.now();
        try {
            await insertOrder(orderId);
            await waitFor("the broken sink to dead-letter the new order", 120_000, async () => {
                record = (await listed()).find(
                    (r) => r.original_topic === ordersTopic && r.original_key_text?.includes(`"order_id":${orderId}`),
                );
                return record !== undefined;
            });
            const r = record!;
            expect(r.id).to.equal(`${r.original_topic}/${r.original_partition}/${r.original_offset}`);
            expect(r.original_value_text).to.contain(`"order_id":${orderId}`).and.contain('"op":"c"');
            expect(r).to.include({
                error_stage: "TRANSFORMATION",
                connector_name: sink,
                task_id: 0,
                retry_count: 0,
                resolution_status: "PENDING",
            });
            expect(r.error_executing_class).to.equal("org.apache.kafka.connect.transforms.ExtractField$Value");
            expect(r.error_class).to.match(/^[\w.$]+(Exception|Error)$/);
            expect(r.error_message).to.contain("no_such_field");
            expect(r.error_stack_trace).to.contain("ExtractField");
            expect(Date.parse(r.error_timestamp!)).to.be.within(broken, Date.now());
            expect((await run(["dlq", "list"])).code, "list exits 1 while a record is PENDING").to.equal(1);

            const early = await run(["dlq", "replay", r.id, "--wait", "60"]);
            expect(early.code, early.stderr).to.equal(1);
            expect(early.out[0]).to.include({ id: r.id, result: "dead-lettered", status: "PENDING", retry_count: 1 });
            const again = (await listed()).filter((x) => x.id === r.id);
            expect(again, "a replay that failed again is the same record, not a second one").to.have.length(1);
            expect(again[0].dlq_offset).to.be.greaterThan(r.dlq_offset!);
            expect(again[0].last_replay).to.include({ outcome: "DEAD_LETTERED", retry_topic: dlqRetryTopicName(sink) });
            expect(await inTarget(orderId)).to.equal(false);
        } finally {
            await env.sb.client.putConfig(sink, good);
        }
        await env.sb.client.waitForRunning(sink);

        const id = record!.id;
        const fixed = await run(["dlq", "replay", id]);
        expect(fixed.code, fixed.stderr).to.equal(0);
        expect(fixed.out[0]).to.include({ id, result: "applied", status: "RESOLVED", retry_count: 2 });
        expect(await inTarget(orderId), "the replayed change is in the target").to.equal(true);

        const sent = await retryEnd();
        const twice = await run(["dlq", "replay", id]);
        expect(twice.code).to.equal(0);
        expect(twice.out[0]).to.include({ result: "unchanged", status: "RESOLVED", retry_count: 2 });
        expect(await retryEnd(), "a second replay of a RESOLVED record sends nothing").to.equal(sent);

        const ignore = await run(["dlq", "ignore", id]);
        expect(ignore.code).to.equal(1);
        expect(ignore.out.error.message).to.contain("RESOLVED → IGNORED is not a transition");

        const fresh = await runFresh(["dlq", "show", id]);
        expect(fresh.code).to.equal(0);
        expect(fresh.out).to.include({ id, resolution_status: "RESOLVED", retry_count: 2 });
        expect(fresh.out.last_replay).to.include({ outcome: "APPLIED" });
        expect(fresh.out.status_note).to.match(/^replay .+ applied by the sink$/);

        await env.writers.pg.query(`DELETE FROM orders WHERE order_id = $1`, [orderId]);
        await expectInSync(env);
    });

    it("ignores a record no sink can read; refuses to replay or resolve it unless asked explicitly; the state survives in Kafka", async () => {
        // Written with a timestamp an hour old: the dead letter keeps it, but error_timestamp must say when the sink failed.
        const before = Date.now();
        const producer = new KafkaClient({ bootstrapServers: env.sb.kafka.bootstrapServers.split(",") }, "e2e-dlq");
        const [{ offset }] = await producer
            .produce([{ topic: ordersTopic, key: null, value: Buffer.from("{still not json"), timestamp: BigInt(before - 3_600_000) }])
            .finally(() => producer.close());
        const id = `${ordersTopic}/0/${offset}`;
        await waitFor("the unreadable record in the dead letter list", 120_000, async () => (await listed()).some((r) => r.id === id));
        const r = (await listed()).find((x) => x.id === id)!;
        expect(r).to.include({
            error_stage: "VALUE_CONVERTER",
            error_class: "org.apache.kafka.connect.errors.DataException",
            original_value_text: "{still not json",
        });
        expect(Date.parse(r.error_timestamp!), "error_timestamp is the dead letter's append time, not the record's own").to.be.within(
            before,
            Date.now(),
        );

        const ignored = await run(["dlq", "ignore", id, "--note", "written by a test producer"]);
        expect(ignored.code, ignored.stderr).to.equal(0);
        expect(ignored.out[0]).to.include({ result: "changed", status: "IGNORED" });

        const replay = await run(["dlq", "replay", id]);
        expect(replay.code).to.equal(1);
        expect(replay.stderr).to.contain("pass --include-ignored");
        const resolve = await run(["dlq", "resolve", id]);
        expect(resolve.code).to.equal(1);
        expect(resolve.stderr).to.contain("IGNORED → RESOLVED is not a transition");
        expect((await run(["dlq", "ignore", id])).out[0]).to.include({ result: "unchanged", status: "IGNORED" });
        const unknown = await run(["dlq", "show", `${ordersTopic}/0/999999999`]);
        expect(unknown.code).to.equal(1);
        expect(unknown.stderr).to.contain("no dead letter");

        const fresh = await runFresh(["dlq", "list", "--status", "IGNORED"]);
        const stored = (fresh.out as PresentedRecord[]).find((x) => x.id === id);
        expect(stored, "the IGNORED state, read back from the state topic by another process").to.include({
            resolution_status: "IGNORED",
            status_note: "written by a test producer",
            retry_count: 0,
        });
    });
});
