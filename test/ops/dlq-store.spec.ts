/**
 * The pure parts of ops/dlq-store.ts and ops/dlq-present.ts: which sinks have a dead letter queue, the latest state
 * per record from a compacted topic's records, a replay's evidence, and how records are shown.
 */
import { expect } from "chai";
import { UsageError } from "../../ops/command";
import { encodeDeadLetter } from "../../ops/dlq-avro";
import { present, showText, utf8 } from "../../ops/dlq-present";
import type { DeadLetterRecord } from "../../ops/dlq-record";
import { evidenceFor, latestStates, missingTopics, rawOf, sinkDlqs } from "../../ops/dlq-store";
import { recordTimestamp, type InRecord } from "../../ops/kafka-client";
import { parseStackSpec } from "../../plan/stack-spec";
import { rawProjectConfig } from "../helpers/stack-files";
import { deadLetter } from "../helpers/dead-letter-fixture";

const record = deadLetter({ original_key: Buffer.from('{"payload":{"order_id":1}}') });

const stateRecord = (offset: number, key: string, value: DeadLetterRecord | null): InRecord => ({
    topic: "dlq-shop-postgres-sink.state",
    partition: 0,
    offset: BigInt(offset),
    timestamp: 0n,
    key: Buffer.from(key),
    value: value && encodeDeadLetter(value),
    headers: [],
});

describe("ops: dead letter store and presentation", () => {
    const dev = parseStackSpec(rawProjectConfig("dev")).spec;

    it("finds every sink with a dead letter queue, or the one --sink names, and names the choices otherwise", () => {
        expect(sinkDlqs(dev, undefined, "u").map((s) => s.sink)).to.deep.equal([
            "postgresql-jdbc-sink",
            "shop-postgres-sink",
            "inventory-postgres-sink",
        ]);
        expect(sinkDlqs(dev, "shop-postgres-sink", "u")[0]).to.deep.include({
            dlqTopic: "dlq-shop-postgres-sink",
            stateTopic: "dlq-shop-postgres-sink.state",
            route: { retryTopic: "dlq-shop-postgres-sink.retry" },
        });
        expect(() => sinkDlqs(dev, "nope", "u"))
            .to.throw(UsageError)
            .with.property("message")
            .that.contains("sinks with one: postgresql-jdbc-sink, shop-postgres-sink, inventory-postgres-sink");
    });

    it("names the planned topics Kafka lacks (a stack deployed before they were planned)", () => {
        const [shop] = sinkDlqs(dev, "shop-postgres-sink", "u");
        expect(missingTopics(["dlq-shop-postgres-sink", "shop.public.orders"], [shop])).to.deep.equal([
            "dlq-shop-postgres-sink.state",
            "dlq-shop-postgres-sink.retry",
        ]);
        expect(
            missingTopics(["dlq-shop-postgres-sink", "dlq-shop-postgres-sink.state", "dlq-shop-postgres-sink.retry"], [shop]),
        ).to.deep.equal([]);
    });

    it("reads the latest state per record from a state topic not yet compacted, tombstones removing it", () => {
        const id = "shop.public.orders/0/10";
        const states = latestStates([
            stateRecord(0, id, record),
            stateRecord(1, "shop.public.orders/0/11", { ...record, original_offset: 11 }),
            stateRecord(2, id, { ...record, resolution_status: "IGNORED" }),
            stateRecord(3, "shop.public.orders/0/11", null),
        ]);
        expect([...states.keys()]).to.deep.equal([id]);
        expect(states.get(id)!.resolution_status).to.equal("IGNORED");
    });

    it("takes a replay's evidence from the sink's position on the retry partition and the dead letters naming it", () => {
        const replayed = {
            ...record,
            last_replay: { sent_at: 1, retry_topic: "r", retry_partition: 0, retry_offset: 4, outcome: "IN_FLIGHT" as const },
        };
        const failedAgain = {
            topic: "dlq-shop-postgres-sink",
            partition: 0,
            offset: 5,
            timestamp: 0,
            key: null,
            value: null,
            headers: ["r", "0", "4"].map((v, i) => ({
                key: `__connect.errors.${["topic", "partition", "offset"][i]}`,
                value: Buffer.from(v),
            })),
        };
        expect(evidenceFor(replayed, [], new Map([[0, 5]]))).to.deep.equal({ committedOffset: 5, deadLettered: false });
        expect(evidenceFor(replayed, [failedAgain], new Map())).to.deep.equal({ committedOffset: undefined, deadLettered: true });
        expect(evidenceFor(record, [failedAgain], new Map([[0, 5]]))).to.deep.equal({ committedOffset: undefined, deadLettered: false });
    });

    it("dates a record of a LogAppendTime batch by the broker's append time, others by their own", () => {
        const batch = { firstTimestamp: 1_000n, maxTimestamp: 9_000n };
        // Attribute bit 3 is the timestamp type; lz4 compression (3) alongside must not matter.
        expect(recordTimestamp({ ...batch, attributes: 0x08 | 0x03 }, { timestampDelta: 5n })).to.equal(9_000n);
        expect(recordTimestamp({ ...batch, attributes: 0x03 }, { timestampDelta: 5n })).to.equal(1_005n);
    });

    it("turns a record read from Kafka into the dead letter model's raw record, repeated and null headers kept in order", () => {
        const read: InRecord = {
            topic: "dlq-shop-postgres-sink",
            partition: 1,
            offset: 7n,
            timestamp: 1_700_000_000_123n,
            key: Buffer.from("k"),
            value: null,
            headers: [
                ["a", Buffer.from("1")],
                ["a", null],
                ["b", Buffer.from("2")],
            ],
        };
        expect(rawOf(read)).to.deep.equal({
            topic: "dlq-shop-postgres-sink",
            partition: 1,
            offset: 7,
            timestamp: 1_700_000_000_123,
            key: Buffer.from("k"),
            value: null,
            headers: [
                { key: "a", value: Buffer.from("1") },
                { key: "a", value: null },
                { key: "b", value: Buffer.from("2") },
            ],
        });
    });

    it("shows bytes as base64, and as text only when they are UTF-8; times as ISO 8601", () => {
        const p = present(record);
        expect(p).to.include({
            id: "shop.public.orders/0/10",
            original_key_text: '{"payload":{"order_id":1}}',
            original_value: "//4=",
            original_value_text: null,
            error_timestamp: "2026-12-01T12:00:00.000Z",
        });
        expect(utf8(Buffer.from("é"))).to.equal("é");
        expect(showText(p)).to.contain("original_value         base64://4=").and.contain("error_stack_trace:\ntrace line\n");
    });
});
