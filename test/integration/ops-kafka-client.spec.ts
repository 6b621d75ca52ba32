/** What Kafka's Java consumer reports per record of one partition: offset, timestamp type and time, headers in order. */
function javaTimestamps(classpath: string, bootstrap: string, topic: string, count: number): string[][] {
    const out = execFileSync(
        "java",
        ["-cp", classpath, path.join(__dirname, "java", "ReadTimestamps.java"), bootstrap, topic, "0", String(count)],
        { stdio: "pipe", timeout: 60_000, encoding: "utf8" },
    );
    return out
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => l.split("\t"));
}

/**
 * The ops CLI's Kafka client (ops/kafka-client.ts, on @platformatic/kafka) against a real Kafka 4.3.1 broker,
 * which removed the old protocol versions some Node clients still send. Every answer is checked against Kafka's
 * own Java client (sandbox/kafka-admin.ts, test/integration/java/CommitOffset.java) writing or reading the
 * same records, so the client is never the only witness of its own correctness.
 */
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { waitUntil } from "../../model/wait";
import { UnreachableError } from "../../ops/command";
import { KafkaClient } from "../../ops/kafka-client";
import { consume, createTopics, endOffsets, produce } from "../../sandbox/kafka-admin";
import { RunningKafka, startKafka } from "../../sandbox/kafka";
import { resolveKafkaClasspath } from "../../sandbox/kafka-jars";
import { RUN_DIR } from "../../sandbox/paths";

const PLAIN = "ops.client.plain";
const SINGLE = "ops.client.single";
const COMPACTED = "ops.client.compacted";
const APPENDED = "ops.client.log-append-time";
const CREATED = "ops.client.create-time";

function commitOffset(classpath: string, bootstrap: string, group: string, topic: string, partition: number, offset: number): void {
    execFileSync(
        "java",
        ["-cp", classpath, path.join(__dirname, "java", "CommitOffset.java"), bootstrap, group, topic, String(partition), String(offset)],
        {
            stdio: "pipe",
            timeout: 60_000,
        },
    );
}

describe("ops Kafka client against a real Kafka 4.3.1 broker", function () {
    this.timeout(180_000);
    let kafka: RunningKafka;
    let classpath: string;
    let client: KafkaClient;

    before(async function () {
        const runDir = path.join(RUN_DIR, "ops-kafka-client");
        fs.rmSync(runDir, { recursive: true, force: true });
        classpath = await resolveKafkaClasspath(() => undefined);
        kafka = await startKafka({ runDir, classpath });
        await createTopics(classpath, kafka.bootstrapServers, [
            { name: PLAIN, partitions: 3, replicationFactor: 1, config: {} },
            { name: SINGLE, partitions: 1, replicationFactor: 1, config: {} },
            { name: APPENDED, partitions: 1, replicationFactor: 1, config: { "message.timestamp.type": "LogAppendTime" } },
            { name: CREATED, partitions: 1, replicationFactor: 1, config: {} },
            {
                name: COMPACTED,
                partitions: 1,
                replicationFactor: 1,
                // Small segments and an eager cleaner, so compaction happens within the test.
                config: {
                    "cleanup.policy": "compact",
                    "segment.ms": "200",
                    "min.cleanable.dirty.ratio": "0.001",
                    "delete.retention.ms": "0",
                    "min.compaction.lag.ms": "0",
                },
            },
        ]);
        client = new KafkaClient({ bootstrapServers: [kafka.bootstrapServers] });
    });

    after(async function () {
        await client?.close();
        await kafka?.stop();
    });

    it("lists topics and their partitions from metadata", async () => {
        const topics = await client.listTopics();
        expect(topics).to.include.members([PLAIN, SINGLE, COMPACTED]);
        expect(await client.partitions(PLAIN)).to.deep.equal([0, 1, 2]);
    });

    it("produces records with headers that Kafka's Java consumer reads back byte for byte", async () => {
        const written = await client.produce([
            {
                topic: SINGLE,
                key: "k1",
                value: '{"a":1}',
                headers: [
                    ["__connect.errors.topic", "shop.public.orders"],
                    ["x-bin", Buffer.from([0, 1, 2])],
                ],
            },
            { topic: SINGLE, key: null, value: "no key" },
            { topic: SINGLE, key: "k3", value: null },
        ]);
        expect(written.map((w) => w.topic)).to.include(SINGLE);
        const read = await consume(classpath, kafka.bootstrapServers, SINGLE, 3, 20_000);
        expect(read.map((r) => [r.offset, r.key, r.value])).to.deep.equal([
            [0, "k1", '{"a":1}'],
            [1, null, "no key"],
            [2, "k3", null],
        ]);
        expect(read[0].headers["__connect.errors.topic"]).to.equal("shop.public.orders");
        expect(read[0].headers["x-bin"]).to.equal(Buffer.from([0, 1, 2]).toString("utf8"));
    });

    it("reads what Kafka's Java producer wrote, from an offset up to an end, and the earliest/latest offsets agree with Java's", async () => {
        const values = Array.from({ length: 20 }, (_, i) => ({ key: `key-${i}`, value: `value-${i}` }));
        const offsets = await produce(classpath, kafka.bootstrapServers, PLAIN, values);
        expect(offsets).to.have.length(20);
        const latest = await client.latestOffsets([PLAIN]);
        const earliest = await client.earliestOffsets([PLAIN]);
        const javaTotal = (await endOffsets(classpath, kafka.bootstrapServers, [PLAIN]))[PLAIN];
        expect(latest.reduce((n, o) => n + Number(o.offset), 0))
            .to.equal(javaTotal)
            .and.to.equal(20);
        expect(earliest.map((o) => o.offset)).to.deep.equal([0n, 0n, 0n]);

        const all = (await client.readAll(PLAIN)).map((r) => [r.key!.toString(), r.value!.toString()]);
        expect(all.map(([k]) => k).sort()).to.deep.equal(values.map((v) => v.key).sort());
        for (const [k, v] of all) expect(v).to.equal(k.replace("key", "value"));

        const busiest = latest.reduce((a, b) => (b.offset > a.offset ? b : a));
        const middle = await client.read(PLAIN, busiest.partition, 1n, { until: busiest.offset - 1n });
        expect(middle.map((r) => r.offset)).to.deep.equal(Array.from({ length: Number(busiest.offset) - 2 }, (_, i) => BigInt(i + 1)));
        expect(await client.read(PLAIN, busiest.partition, 0n, { max: 2 })).to.have.length(2);
        expect(await client.read(PLAIN, busiest.partition, busiest.offset)).to.deep.equal([]);
    });

    it("reads a consumer group's committed offsets and lag as Kafka's Java consumer committed them", async () => {
        const group = "connect-ops-client-sink";
        const latest = await client.latestOffsets([PLAIN]);
        const busiest = latest.reduce((a, b) => (b.offset > a.offset ? b : a));
        commitOffset(classpath, kafka.bootstrapServers, group, PLAIN, busiest.partition, 2);
        const committed = await client.committedOffsets(group);
        expect(committed).to.deep.equal([{ topic: PLAIN, partition: busiest.partition, offset: 2n }]);
        const lag = await client.groupLag(group, [PLAIN]);
        for (const l of lag) {
            const end = latest.find((o) => o.partition === l.partition)!.offset;
            if (l.partition === busiest.partition)
                expect(l).to.deep.equal({ topic: PLAIN, partition: l.partition, committed: 2n, end, lag: end - 2n });
            else expect(l).to.deep.equal({ topic: PLAIN, partition: l.partition, committed: null, end, lag: end });
        }
        expect(await client.committedOffsets("no-such-group")).to.deep.equal([]);
    });

    it("writes and reads a compacted topic: tombstones, and the offset gaps the cleaner leaves", async () => {
        const state = (n: number) => [
            { topic: COMPACTED, key: "a", value: `a-${n}` },
            { topic: COMPACTED, key: "b", value: `b-${n}` },
        ];
        for (let n = 0; n < 5; n++) await client.produce(state(n));
        await client.produce([{ topic: COMPACTED, key: "b", value: null }]);
        // Rolls the active segment (segment.ms) so the cleaner can compact the ones before it.
        await new Promise((r) => setTimeout(r, 500));
        await client.produce([{ topic: COMPACTED, key: "c", value: "c-0" }]);
        const before = await client.readAll(COMPACTED);
        expect(before.map((r) => r.offset)).to.deep.equal(Array.from({ length: 12 }, (_, i) => BigInt(i)));
        const tombstone = before.find((r) => r.key!.toString() === "b" && r.value === null);
        expect(tombstone, "the tombstone reads back as a null value").to.not.equal(undefined);

        // The broker's cleaner runs every 15 s by default (log.cleaner.backoff.ms).
        const after = await waitUntil("compaction of the compacted topic", 90_000, async () => {
            const records = await client.readAll(COMPACTED);
            return records.length < before.length ? records : undefined;
        });
        const latestValue = new Map<string, string | null>();
        for (const r of after) latestValue.set(r.key!.toString(), r.value?.toString() ?? null);
        expect(latestValue.get("a")).to.equal("a-4");
        expect(latestValue.get("c")).to.equal("c-0");
        // Deleted: either the tombstone is still there or the cleaner already dropped it with the key.
        expect(latestValue.has("b") ? latestValue.get("b") : null).to.equal(null);
        const offsets = after.map((r) => r.offset);
        expect(offsets).to.deep.equal([...offsets].sort((x, y) => (x < y ? -1 : 1)));
        expect(
            offsets.some((o, i) => i > 0 && o !== offsets[i - 1] + 1n),
            "compaction left a gap the reader stepped over",
        ).to.equal(true);
    });

    it("reads a LogAppendTime topic's records with the broker's append time, a CreateTime topic's with the producer's, as Java does", async () => {
        const hourAgo = BigInt(Date.now() - 3_600_000);
        // Two records per send, so a batch holds more than one record with its own delta.
        const records = (topic: string) =>
            [0, 1].map((i) => ({
                topic,
                key: `k${i}`,
                value: `v${i}`,
                timestamp: hourAgo + BigInt(i * 1000),
                headers: [
                    ["dup", "first"],
                    ["dup", "second"],
                    ["none", null],
                ] as const,
            }));
        const before = Date.now();
        await client.produce(records(APPENDED));
        await client.produce(records(CREATED));
        const after = Date.now();

        const appended = await client.readAll(APPENDED);
        const javaAppended = javaTimestamps(classpath, kafka.bootstrapServers, APPENDED, 2);
        expect(javaAppended.map((r) => r[1])).to.deep.equal(["LogAppendTime", "LogAppendTime"]);
        expect(appended.map((r) => [String(r.offset), String(r.timestamp)])).to.deep.equal(javaAppended.map((r) => [r[0], r[2]]));
        for (const r of appended) expect(Number(r.timestamp), "the broker's append time, not the record's own").to.be.within(before, after);

        const created = await client.readAll(CREATED);
        const javaCreated = javaTimestamps(classpath, kafka.bootstrapServers, CREATED, 2);
        expect(javaCreated.map((r) => r[1])).to.deep.equal(["CreateTime", "CreateTime"]);
        expect(created.map((r) => r.timestamp)).to.deep.equal([hourAgo, hourAgo + 1000n]);
        expect(created.map((r) => [String(r.offset), String(r.timestamp)])).to.deep.equal(javaCreated.map((r) => [r[0], r[2]]));

        // A repeated header name and a null value survive the round trip, in order, for both clients.
        for (const r of [...appended, ...created])
            expect(r.headers).to.deep.equal([
                ["dup", Buffer.from("first")],
                ["dup", Buffer.from("second")],
                ["none", null],
            ]);
        for (const r of [...javaAppended, ...javaCreated]) expect(r[3]).to.equal("dup=first|dup=second|none");
    });

    it("names the bootstrap list when no broker answers", async () => {
        const dead = new KafkaClient({ bootstrapServers: ["127.0.0.1:1"] });
        try {
            const err = await dead.listTopics().then(
                () => undefined,
                (e: unknown) => e,
            );
            expect(err).to.be.instanceOf(UnreachableError);
            expect((err as Error).message).to.include("127.0.0.1:1");
        } finally {
            await dead.close();
        }
    });
});
