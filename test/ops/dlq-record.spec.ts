/**
 * A dead letter as Kafka Connect writes it (the failed record's key, value and headers, then the
 * `__connect.errors.*` context headers) presented as seed 000 §6's DeadLetterRecord, and that record against the
 * shipped Avro schema: it conforms, round-trips, and reads back with the seed's own schema.
 */
import * as avro from "avsc";
import { expect } from "chai";
import { deadLetterType, decodeDeadLetter, encodeDeadLetter, nonConformingFields } from "../../ops/dlq-avro";
import { deadLetterFromRaw, formatId, Header, isDeadLetterOf, parseId, RawRecord, replayHeaders } from "../../ops/dlq-record";

const text = (key: string, value: string): Header => ({ key, value: Buffer.from(value, "utf8") });

const STACK =
    "org.apache.kafka.connect.errors.DataException: Converting byte[] to Kafka Connect data failed due to serialization error\n\tat org.apache.kafka.connect.json.JsonConverter.toConnectData(JsonConverter.java:333)";

/** Headers in the order Connect's DeadLetterQueueReporter adds them, after the record's own `trace-id`. */
function connectDeadLetter(over: Partial<RawRecord> = {}, extra: Header[] = []): RawRecord {
    return {
        topic: "dlq-shop-postgres-sink",
        partition: 0,
        offset: 7,
        timestamp: 1_764_600_000_123,
        key: Buffer.from('{"schema":null,"payload":{"order_id":42}}'),
        value: Buffer.from("{not json"),
        headers: [
            text("trace-id", "abc"),
            ...extra,
            text("__connect.errors.topic", "shop.public.orders"),
            text("__connect.errors.partition", "2"),
            text("__connect.errors.offset", "1234"),
            text("__connect.errors.connector.name", "shop-postgres-sink"),
            text("__connect.errors.task.id", "0"),
            text("__connect.errors.stage", "VALUE_CONVERTER"),
            text("__connect.errors.class.name", "org.apache.kafka.connect.json.JsonConverter"),
            text("__connect.errors.exception.class.name", "org.apache.kafka.connect.errors.DataException"),
            text("__connect.errors.exception.message", "Converting byte[] to Kafka Connect data failed due to serialization error"),
            text("__connect.errors.exception.stacktrace", STACK),
        ],
        ...over,
    };
}

/** Seed 000 §6's schema exactly as the seed writes it (logicalType beside the type, where Avro ignores it). */
const SEED_SCHEMA = {
    type: "record",
    name: "DeadLetterRecord",
    fields: [
        { name: "original_topic", type: "string" },
        { name: "original_partition", type: "int" },
        { name: "original_offset", type: "long" },
        { name: "original_key", type: ["null", "bytes"] },
        { name: "original_value", type: ["null", "bytes"] },
        { name: "error_timestamp", type: "long", logicalType: "timestamp-millis" },
        { name: "error_class", type: "string" },
        { name: "error_message", type: "string" },
        { name: "error_stack_trace", type: "string" },
        { name: "retry_count", type: "int", default: 0 },
        {
            name: "resolution_status",
            type: { type: "enum", name: "ResolutionStatus", symbols: ["PENDING", "RESOLVED", "IGNORED"] },
            default: "PENDING",
        },
    ],
};

describe("ops: dead letter → DeadLetterRecord (ops/dlq-record.ts)", () => {
    it("fills every seed field from the dead letter and Connect's error headers", () => {
        const r = deadLetterFromRaw(connectDeadLetter());
        expect(r.original_topic).to.equal("shop.public.orders");
        expect(r.original_partition).to.equal(2);
        expect(r.original_offset).to.equal(1234);
        expect(r.original_key!.toString()).to.equal('{"schema":null,"payload":{"order_id":42}}');
        expect(r.original_value!.toString()).to.equal("{not json");
        expect(r.error_timestamp).to.equal(1_764_600_000_123);
        expect(r.error_class).to.equal("org.apache.kafka.connect.errors.DataException");
        expect(r.error_message).to.equal("Converting byte[] to Kafka Connect data failed due to serialization error");
        expect(r.error_stack_trace).to.equal(STACK);
        expect(r.retry_count).to.equal(0);
        expect(r.resolution_status).to.equal("PENDING");
    });

    it("keeps the context no seed field has: connector, task, stage, the failing class, the record's own headers, where the dead letter lies", () => {
        const r = deadLetterFromRaw(connectDeadLetter());
        expect(r).to.include({
            connector_name: "shop-postgres-sink",
            task_id: 0,
            error_stage: "VALUE_CONVERTER",
            error_executing_class: "org.apache.kafka.connect.json.JsonConverter",
            dlq_topic: "dlq-shop-postgres-sink",
            dlq_partition: 0,
            dlq_offset: 7,
        });
        expect(r.original_headers.map((h) => [h.key, h.value?.toString()])).to.deep.equal([["trace-id", "abc"]]);
    });

    it("builds a readable message when the exception had none (Connect then leaves the header out)", () => {
        const raw = connectDeadLetter();
        raw.headers = raw.headers.filter((h) => h.key !== "__connect.errors.exception.message");
        expect(deadLetterFromRaw(raw).error_message).to.equal(
            "org.apache.kafka.connect.errors.DataException without a message in VALUE_CONVERTER of shop-postgres-sink task 0",
        );
    });

    it("maps a replay that failed again back to the record it retried, not to the retry topic", () => {
        const replayed = deadLetterFromRaw(connectDeadLetter());
        const headers = replayHeaders(replayed, 1);
        const again: RawRecord = {
            ...connectDeadLetter({ offset: 9 }),
            headers: [
                ...headers,
                text("__connect.errors.topic", "dlq-retry-shop-postgres-sink"),
                text("__connect.errors.partition", "0"),
                text("__connect.errors.offset", "3"),
                text("__connect.errors.exception.class.name", "org.apache.kafka.connect.errors.DataException"),
            ],
        };
        const r = deadLetterFromRaw(again);
        expect(formatId({ topic: r.original_topic, partition: r.original_partition, offset: r.original_offset })).to.equal(
            "shop.public.orders/2/1234",
        );
        expect(r.dlq_offset).to.equal(9);
        expect(r.original_headers.map((h) => h.key)).to.deep.equal(["trace-id"]);
        expect(isDeadLetterOf(again, { retry_topic: "dlq-retry-shop-postgres-sink", retry_partition: 0, retry_offset: 3 })).to.equal(true);
        expect(isDeadLetterOf(again, { retry_topic: "dlq-retry-shop-postgres-sink", retry_partition: 0, retry_offset: 4 })).to.equal(false);
    });

    it("refuses a dead letter without Connect's context headers, naming it and the sink setting", () => {
        const raw = connectDeadLetter();
        raw.headers = raw.headers.filter((h) => !h.key.startsWith("__connect."));
        expect(() => deadLetterFromRaw(raw)).to.throw(
            "dead letter dlq-shop-postgres-sink/0/7 has no __connect.errors.topic header: set errors.deadletterqueue.context.headers.enable=true",
        );
        const garbled = connectDeadLetter({}, []);
        garbled.headers = garbled.headers.map((h) => (h.key === "__connect.errors.offset" ? text(h.key, "12x") : h));
        expect(() => deadLetterFromRaw(garbled)).to.throw('header __connect.errors.offset is "12x", not an integer');
    });

    it("parses ids of the form topic/partition/offset and nothing else", () => {
        expect(parseId("shop.public.orders/2/1234")).to.deep.equal({ topic: "shop.public.orders", partition: 2, offset: 1234 });
        for (const bad of ["shop.public.orders/2", "a/b/c", "x y/0/1", "t/-1/0", "t/0/1/2", "t/99999999999/0"])
            expect(parseId(bad), bad).to.equal(undefined);
    });
});

describe("ops: DeadLetterRecord Avro schema (ops/schemas/dead-letter-record.avsc)", () => {
    it("a mapped record conforms and round-trips byte for byte", () => {
        const r = deadLetterFromRaw(connectDeadLetter());
        expect(nonConformingFields(r)).to.deep.equal([]);
        // avsc decodes into its generated record classes; their JSON is the plain record's, Buffers included.
        expect(JSON.stringify(decodeDeadLetter(encodeDeadLetter(r), "test"))).to.equal(JSON.stringify(r));
    });

    it("a stored record reads back with the seed's own schema (the additions are ignored by schema resolution)", () => {
        const r = {
            ...deadLetterFromRaw(connectDeadLetter()),
            retry_count: 2,
            resolution_status: "RESOLVED" as const,
            last_replay: { sent_at: 1, retry_topic: "dlq-retry-x", retry_partition: 0, retry_offset: 5, outcome: "APPLIED" as const },
        };
        const seed = avro.Type.forSchema(SEED_SCHEMA as avro.Schema);
        const ours = deadLetterType();
        const read = seed.fromBuffer(encodeDeadLetter(r), seed.createResolver(ours)) as Record<string, unknown>;
        expect(Object.keys(read)).to.deep.equal(SEED_SCHEMA.fields.map((f) => f.name));
        expect(read).to.include({
            original_topic: "shop.public.orders",
            original_offset: 1234,
            retry_count: 2,
            resolution_status: "RESOLVED",
            error_timestamp: 1_764_600_000_123,
        });
    });

    it("refuses a record that does not conform, naming the fields", () => {
        const r = deadLetterFromRaw(connectDeadLetter());
        const bad = { ...r, original_offset: "1234", resolution_status: "RETRYING" } as unknown as typeof r;
        expect(nonConformingFields(bad)).to.have.members(["original_offset", "resolution_status"]);
        expect(() => encodeDeadLetter(bad)).to.throw("does not conform to");
        expect(() => decodeDeadLetter(Buffer.from([0xff, 0xff]), "dlq-state x/0/1")).to.throw("dlq-state x/0/1 is not a DeadLetterRecord");
    });
});
