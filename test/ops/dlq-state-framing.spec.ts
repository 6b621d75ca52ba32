/**
 * ops/dlq-state-framing.ts: state records Confluent-framed with the registered DeadLetterRecord id on an Avro stack,
 * bare Avro on a JSON stack, both read back (records written before the framing stay readable), and the id looked up
 * once per subject from a registry's `POST /subjects/<subject>` (a local HTTP server standing in for its answers;
 * test/e2e/avro.spec.ts checks the same against Apicurio Registry).
 */
import { expect } from "chai";
import * as avro from "avsc";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import type { DeadLetterRecord } from "../../ops/dlq-record";
import { decodeStateValue, registrySchemaIds, stateEncoder } from "../../ops/dlq-state-framing";
import { latestStates, sinkDlqs } from "../../ops/dlq-store";
import { DEAD_LETTER_SCHEMA_FILE } from "../../plan/schema-registry";
import { parseStackSpec } from "../../plan/stack-spec";
import { rawProjectConfig } from "../helpers/stack-files";
import { deadLetter } from "../helpers/dead-letter-fixture";

const record = deadLetter({ resolution_status: "IGNORED", status_changed_at: 5, status_note: "n" });

/** The bare datum from the schema file itself, not from the module under test. */
const datum = (r: DeadLetterRecord) =>
    avro.Type.forSchema(JSON.parse(fs.readFileSync(DEAD_LETTER_SCHEMA_FILE, "utf8")) as avro.Schema).toBuffer(r);

describe("ops: dead letter state records, framed on an Avro stack", () => {
    it("frames with byte 0 and the subject's id big-endian, looking the id up under <state topic>-value", async () => {
        const asked: string[] = [];
        const encode = stateEncoder("dlq-shop-postgres-sink.state", async (subject) => (asked.push(subject), 300));
        const bytes = await encode(record);
        expect(bytes.subarray(0, 5)).to.deep.equal(Buffer.from([0, 0, 0, 0x01, 0x2c]));
        expect(bytes.subarray(5)).to.deep.equal(datum(record));
        expect(asked).to.deep.equal(["dlq-shop-postgres-sink.state-value"]);
    });

    it("writes the bare datum on a JSON stack", async () => {
        expect(await stateEncoder("dlq-shop-postgres-sink.state", undefined)(record)).to.deep.equal(datum(record));
    });

    it("reads framed and bare records alike, so state written before the framing is kept", () => {
        const framedBytes = Buffer.from([0, 0, 0, 0, 7, ...datum(record)]);
        expect({ ...decodeStateValue(framedBytes, "framed") }).to.deep.equal(record);
        expect({ ...decodeStateValue(datum(record), "bare") }).to.deep.equal(record);
        const topic = "dlq-shop-postgres-sink.state";
        const states = latestStates([
            { topic, partition: 0, offset: 0n, timestamp: 0n, key: Buffer.from("a"), value: datum(record), headers: [] },
            { topic, partition: 0, offset: 1n, timestamp: 0n, key: Buffer.from("b"), value: framedBytes, headers: [] },
        ]);
        expect([...states.keys()]).to.deep.equal(["a", "b"]);
        expect(states.get("b")!.status_note).to.equal("n");
    });

    it("frames only on an Avro stack: sinkDlqs' encoder on the shipped dev stack as avro and as json", async () => {
        const spec = (serialization: string) => {
            const raw = rawProjectConfig("dev");
            raw.serialization = serialization;
            return parseStackSpec(raw).spec;
        };
        const [json] = sinkDlqs(spec("json"), "shop-postgres-sink", "u");
        expect(await json.encodeState(record)).to.deep.equal(datum(record));
        // An Avro stack without a reachable registry: the write fails naming the registry, nothing is written bare.
        const [avroSink] = sinkDlqs(spec("avro"), "shop-postgres-sink", "u", { CDC_REGISTRY_URL: "http://127.0.0.1:9" });
        let message = "";
        await avroSink.encodeState(record).catch((e: Error) => (message = e.message));
        expect(message).to.contain("http://127.0.0.1:9/apis/ccompat/v7/subjects/dlq-shop-postgres-sink.state-value");
    });

    describe("the id from the registry", () => {
        let server: http.Server;
        let base: string;
        const requests: { method: string; url: string; body: string }[] = [];
        let answer: { status: number; body: string } = { status: 200, body: '{"subject":"s","id":42,"version":1}' };

        before(async () => {
            server = http.createServer((req, res) => {
                let body = "";
                req.on("data", (c: Buffer) => (body += c.toString()));
                req.on("end", () => {
                    requests.push({ method: req.method!, url: req.url!, body });
                    res.writeHead(answer.status, { "Content-Type": "application/json" }).end(answer.body);
                });
            });
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        });
        after(() => new Promise<void>((resolve) => server.close(() => resolve())));
        beforeEach(() => (requests.length = 0));

        it("asks POST /subjects/<subject> with the schema once, and answers the id from then on", async () => {
            const lookup = registrySchemaIds({ ccompatUrl: `${base}/apis/ccompat/v7` }, '{"type":"string"}');
            expect(await lookup("dlq-x.state-value")).to.equal(42);
            expect(await lookup("dlq-x.state-value")).to.equal(42);
            expect(requests).to.deep.equal([
                {
                    method: "POST",
                    url: "/apis/ccompat/v7/subjects/dlq-x.state-value",
                    body: JSON.stringify({ schemaType: "AVRO", schema: '{"type":"string"}' }),
                },
            ]);
        });

        it("a subject without the schema is an error naming it and the fix, and is asked again next time", async () => {
            answer = { status: 404, body: '{"error_code":40401,"message":"Subject not found"}' };
            const lookup = registrySchemaIds({ ccompatUrl: `${base}/apis/ccompat/v7` }, '{"type":"string"}');
            let message = "";
            await lookup("dlq-x.state-value").catch((e: Error) => (message = e.message));
            expect(message).to.contain("subject dlq-x.state-value does not hold the DeadLetterRecord schema").and.contain("pulumi up");
            answer = { status: 200, body: '{"id":43}' };
            expect(await lookup("dlq-x.state-value")).to.equal(43);
            expect(requests).to.have.length(2);
        });
    });
});
