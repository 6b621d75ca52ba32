/**
 * ops/record-decoder.ts: Avro records become the JsonConverter document the commands read. The Avro bytes are the
 * real converter's (lakehouse/tests/fixtures/avro: Apicurio's AvroConverter re-encoding records captured from the
 * sandbox) and its twins the real JsonConverter's; the registry answers are the ones Apicurio Registry 3.3.3 gave,
 * served byte for byte by a local HTTP server. test/integration/record-decoder.spec.ts asks a running registry.
 */
import { expect } from "chai";
import * as avro from "avsc";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import { eventSourceTime, isStreamedEvent } from "../../ops/checkpoint";
import { UnreachableError } from "../../ops/command";
import { presentDecoded } from "../../ops/dlq-present";
import { deadLetterFromRaw } from "../../ops/dlq-record";
import { parseNotification } from "../../ops/snapshot-signal";
import {
    connectSchemaOf,
    RecordDecoder,
    recordDecoderFor,
    registryConnection,
    registrySchemaSource,
    UndecodableRecord,
} from "../../ops/record-decoder";
import { parseRecord } from "../../ops/schema-events-record";
import type { StackSpec } from "../../model/spec";

const FIXTURES = path.join(__dirname, "..", "..", "lakehouse", "tests", "fixtures");
const ANSWERS = path.join(FIXTURES, "avro", "registry");
const TOPICS = ["shop.public.customers", "shop.public.orders", "inventory.inventory.products"];

interface Captured {
    offset: number;
    key: string | null;
    value: string | null;
}
const lines = (file: string): Captured[] =>
    fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Captured);
const twins = (topic: string) => {
    const json = lines(path.join(FIXTURES, "debezium", `${topic}.jsonl`));
    const avroRecords = lines(path.join(FIXTURES, "avro", `${topic}.jsonl`));
    expect(avroRecords.length).to.equal(json.length);
    return json.map((j, i) => ({ json: j, avro: avroRecords[i] }));
};
const b64 = (v: string | null) => (v === null ? null : Buffer.from(v, "base64"));
const registered = (id: number) =>
    JSON.parse((JSON.parse(fs.readFileSync(path.join(ANSWERS, `${id}.json`), "utf8")) as { schema: string }).schema) as avro.Schema;

/** Confluent's framing from its definition: byte 0, the id as a big-endian 32-bit integer, the datum. */
function framed(id: number, datum: Buffer): Buffer {
    const out = Buffer.alloc(5 + datum.length);
    out.writeUInt32BE(id, 1);
    out.set(datum, 5);
    return out;
}

describe("ops record decoder", () => {
    let server: http.Server;
    let url: string;
    const requests: string[] = [];

    before(async () => {
        server = http.createServer((req, res) => {
            requests.push(req.url ?? "");
            const m = /^\/apis\/ccompat\/v7\/schemas\/ids\/(\d+)$/.exec(req.url ?? "");
            const file = m && path.join(ANSWERS, `${m[1]}.json`);
            const found = file !== null && fs.existsSync(file);
            res.writeHead(found ? 200 : 404, { "Content-Type": "application/json" });
            res.end(fs.readFileSync(found ? file : path.join(ANSWERS, "not-found.json")));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    beforeEach(() => requests.splice(0));

    const decoder = () => new RecordDecoder("avro", registrySchemaSource({ ccompatUrl: `${url}/apis/ccompat/v7` }));

    for (const topic of TOPICS) {
        it(`the converter's Avro records of ${topic} decode to their JsonConverter twins`, async () => {
            const d = decoder();
            for (const { json, avro: a } of twins(topic)) {
                for (const side of ["key", "value"] as const) {
                    const doc = await d.toJsonDocument(b64(a[side]), `${topic}@${a.offset} ${side}`);
                    const twin = json[side] === null ? null : (JSON.parse(json[side]) as { schema: unknown; payload: unknown });
                    const mine = doc === null ? null : (JSON.parse(doc.toString("utf8")) as { schema: unknown; payload: unknown });
                    expect(mine?.payload, `${topic}@${a.offset} ${side} payload`).to.deep.equal(twin?.payload);
                    expect(mine?.schema, `${topic}@${a.offset} ${side} schema`).to.deep.equal(twin?.schema);
                }
            }
            const ids = new Set(
                twins(topic).flatMap(({ avro: a }) => [a.key, a.value].filter((v) => v !== null).map((v) => b64(v)!.readUInt32BE(1))),
            );
            expect([...requests].sort()).to.deep.equal([...ids].map((id) => `/apis/ccompat/v7/schemas/ids/${id}`).sort(), "one GET per id");
        });
    }

    it("cdc status, schema-events and snapshot read the decoded document as they read JSON", async () => {
        const d = decoder();
        const [first] = twins("shop.public.orders");
        const doc = await d.toJsonDocument(b64(first.avro.value), "orders@0");
        const json = Buffer.from(first.json.value!);
        expect(eventSourceTime(doc)).to.deep.equal(eventSourceTime(json)).and.not.equal(null);
        expect(isStreamedEvent(doc)).to.equal(isStreamedEvent(json));
        expect(parseRecord(doc)).to.deep.equal(parseRecord(json));
        expect(parseRecord(doc).kind).to.equal("change");
    });

    it("decodes a datum avsc writes with the registered schema behind a framing built here", async () => {
        const schema = registered(7);
        const type = avro.Type.forSchema(schema, { wrapUnions: false });
        const row = {
            order_id: 7001,
            customer_id: 42,
            order_date: 1_767_225_600_123_456,
            order_status: "SHIPPED",
            total_amount: Buffer.from([0xfe, 0x1c, 0x52]), // unscaled -123822 at scale 2: -1238.22
            shipping_address: null,
            payment_method: "card",
            order_notes: null,
            last_updated: 1_767_225_601_000_000,
        };
        const source = {
            version: "3.6.1.Final",
            connector: "postgresql",
            name: "shop",
            ts_ms: 1_767_225_601_000,
            snapshot: "false",
            db: "shop",
            sequence: null,
            ts_us: null,
            ts_ns: null,
            schema: "public",
            table: "orders",
            txId: 900,
            lsn: 123_456,
            xmin: null,
            origin: null,
            origin_lsn: null,
        };
        const value = { before: null, after: row, source, transaction: null, op: "u", ts_ms: 1_767_225_601_500, ts_us: null, ts_ns: null };
        const doc = JSON.parse((await decoder().toJsonDocument(framed(7, type.toBuffer(value)), "built"))!.toString("utf8")) as {
            payload: { after: Record<string, unknown>; op: string; source: { lsn: number; snapshot: string } };
        };
        expect(doc.payload.after).to.deep.equal({ ...row, total_amount: "/hxS" });
        expect([doc.payload.op, doc.payload.source.lsn, doc.payload.source.snapshot]).to.deep.equal(["u", 123_456, "false"]);
        expect(eventSourceTime(Buffer.from(JSON.stringify(doc)))).to.deep.equal(new Date(1_767_225_601_000));
    });

    it("maps the converter's Avro properties back to Connect types", () => {
        expect(connectSchemaOf({ type: "int", "connect.type": "int16" })).to.deep.equal({ type: "int16", optional: false });
        expect(
            connectSchemaOf(["null", { type: "long", "connect.name": "io.debezium.time.MicroTimestamp", "connect.version": 1 }]),
        ).to.deep.equal({
            type: "int64",
            optional: true,
            name: "io.debezium.time.MicroTimestamp",
            version: 1,
        });
        expect(() => connectSchemaOf(["string", "int"])).to.throw(/a union other than \[null, T\]/);
    });

    it("refuses what is not framed Avro or names an unknown schema, naming the record; an unreachable registry is UnreachableError", async () => {
        const d = decoder();
        const json = Buffer.from(twins("shop.public.orders")[0].json.value!);
        await expectReject(
            d.toJsonDocument(json, "shop.public.orders[0]@0"),
            UndecodableRecord,
            /shop.public.orders\[0\]@0 is not Confluent-framed Avro .* starts 7b22/,
        );
        const good = b64(twins("shop.public.orders")[0].avro.value)!;
        const unknown = Buffer.alloc(good.length);
        unknown.set(good);
        unknown.writeUInt32BE(9999, 1);
        await expectReject(
            d.toJsonDocument(unknown, "x"),
            UndecodableRecord,
            /schemas\/ids\/9999: no schema with id 9999 .*Schema 9999 not found/,
        );
        await expectReject(
            d.toJsonDocument(good.subarray(0, 30), "orders@0"),
            UndecodableRecord,
            /orders@0: its Avro datum does not decode with schema 6/,
        );
        const down = new RecordDecoder("avro", registrySchemaSource({ ccompatUrl: "http://127.0.0.1:9/apis/ccompat/v7" }));
        await expectReject(down.toJsonDocument(good, "x"), UnreachableError, /127\.0\.0\.1:9\/apis\/ccompat\/v7\/schemas\/ids\/6/);
        expect(await d.toJsonDocument(null, "tombstone")).to.equal(null);
    });

    it("schema keys: Avro's framed id, JsonConverter's text before the payload", () => {
        const [a, b] = twins("shop.public.orders").map((t) => b64(t.avro.value)!);
        const d = decoder();
        expect(Buffer.from(d.schemaKey(a)!).toString("hex")).to.equal(a.subarray(0, 5).toString("hex"));
        expect(d.schemaKey(Buffer.from("{}"))).to.equal(undefined);
        expect(new RecordDecoder("json").schemaKey(Buffer.from('{"schema":{"a":1},"payload":{}}'))!.length).to.equal(17);
        expect(b.length).to.be.greaterThan(5);
    });

    it("cdc dlq show decodes an Avro dead letter's key and value, and says when it cannot", async () => {
        const [first] = twins("shop.public.orders");
        const raw = {
            topic: "dlq-sink",
            partition: 0,
            offset: 3,
            timestamp: 1_767_225_601_000,
            key: b64(first.avro.key),
            value: Buffer.from("not avro"),
            headers: [
                { key: "__connect.errors.topic", value: Buffer.from("shop.public.orders") },
                { key: "__connect.errors.partition", value: Buffer.from("0") },
                { key: "__connect.errors.offset", value: Buffer.from("0") },
                { key: "__connect.errors.exception.class.name", value: Buffer.from("org.apache.kafka.connect.errors.DataException") },
            ],
        };
        const shown = await presentDecoded(deadLetterFromRaw(raw), decoder());
        expect(JSON.parse(shown.original_key_text!)).to.deep.equal(JSON.parse(first.json.key!));
        expect(shown.original_value_text).to.match(/^\(not decodable: shop.public.orders\/0\/0 value is not Confluent-framed Avro/);
        expect(shown.original_value).to.equal(Buffer.from("not avro").toString("base64"));
    });

    it("notifications of an Avro connector parse like JsonConverter's", async () => {
        const schema: avro.Schema = {
            type: "record",
            name: "Notification",
            namespace: "io.debezium.connector.common",
            fields: [
                { name: "id", type: "string" },
                { name: "aggregate_type", type: "string" },
                { name: "type", type: "string" },
                { name: "additional_data", type: ["null", { type: "map", values: "string" }], default: null },
                { name: "timestamp", type: "long" },
            ],
        };
        const datum = avro.Type.forSchema(schema, { wrapUnions: false }).toBuffer({
            id: "n1",
            aggregate_type: "Incremental Snapshot",
            type: "STARTED",
            additional_data: { connector_name: "shop", data_collections: "public.orders" },
            timestamp: 1_767_225_601_000,
        });
        const d = new RecordDecoder("avro", (id) => (id === 41 ? Promise.resolve(schema) : Promise.reject(new Error(`id ${id}`))));
        const n = parseNotification(await d.toJsonDocument(framed(41, datum), "notification"));
        expect(n).to.deep.include({ id: "n1", type: "STARTED", connectorName: "shop", dataCollections: ["public.orders"] });
    });

    it("the stack's serialization chooses the decoder; the registry connection comes from the spec and the environment", () => {
        const spec = { serialization: "avro", schemaRegistry: { url: "https://registry:8443/" } } as unknown as StackSpec;
        expect(recordDecoderFor({ ...spec, serialization: "json" }, {}).serialization).to.equal("json");
        expect(recordDecoderFor(spec, {}).serialization).to.equal("avro");
        expect(registryConnection(spec, {}).ccompatUrl).to.equal("https://registry:8443/apis/ccompat/v7");
        expect(registryConnection(spec, { CDC_REGISTRY_URL: "http://other:8080/apis/registry/v2" }).ccompatUrl).to.equal(
            "http://other:8080/apis/ccompat/v7",
        );
        expect(() => registryConnection({ serialization: "avro" } as StackSpec, {})).to.throw(
            /declares no schemaRegistry.url; set one or CDC_REGISTRY_URL/,
        );
        expect(() => registryConnection(spec, { CDC_REGISTRY_USERNAME: "reader" })).to.throw(
            /CDC_REGISTRY_USERNAME is set without CDC_REGISTRY_PASSWORD_FILE/,
        );
    });
});

async function expectReject(p: Promise<unknown>, kind: new (...a: never[]) => Error, message: RegExp): Promise<void> {
    try {
        await p;
    } catch (e) {
        expect(e).to.be.instanceOf(kind);
        expect((e as Error).message).to.match(message);
        return;
    }
    expect.fail(`expected a ${kind.name}`);
}
