/**
 * The DeadLetterRecord schema of the sinks' state topics (issue 15 item 3): which subjects an Avro stack registers it
 * under, the Confluent-compatible requests `pulumi up` and the sandbox send, and the provider that sends them (a local
 * HTTP server standing in for the registry; test/e2e/avro.spec.ts checks the result in Apicurio Registry).
 */
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import { subjectSchemaProvider } from "../components/schema-registry-rules";
import {
    DEAD_LETTER_SCHEMA_FILE,
    lookupSchemaRequest,
    plannedDeadLetterSubjects,
    registeredSchemaText,
    registerSchemaRequest,
} from "../plan/schema-registry";
import { parseStackSpec } from "../plan/stack-spec";
import { shippedRaw } from "./helpers/config-problems";

const spec = (stack: "dev" | "prod", edit?: (raw: Record<string, any>) => void) => {
    const raw = shippedRaw(stack);
    edit?.(raw);
    return parseStackSpec(raw).spec;
};

describe("DeadLetterRecord schema registration plan", () => {
    it("names dlq-<sink>.state-value for every sink with a dead letter queue on an Avro stack, none on a JSON one", () => {
        const dev = spec("dev");
        const withDlq = dev.pipelines.filter((p) => p.sink.deadLetterQueue).map((p) => p.sink.connectorName);
        expect(withDlq.length).to.be.above(0);
        expect(plannedDeadLetterSubjects(dev)).to.deep.equal(
            withDlq.map((sink) => ({ sink, stateTopic: `dlq-${sink}.state`, subject: `dlq-${sink}.state-value` })),
        );
        expect(plannedDeadLetterSubjects(spec("dev", (raw) => (raw.serialization = "json")))).to.deep.equal([]);
    });

    it("registers with POST /subjects/<subject>/versions and looks up with POST /subjects/<subject>, schemaType AVRO", () => {
        const schema = registeredSchemaText(fs.readFileSync(DEAD_LETTER_SCHEMA_FILE, "utf8"));
        expect(schema).to.not.contain("\n");
        expect(JSON.parse(schema).name).to.equal("DeadLetterRecord");
        const headers = { "Content-Type": "application/vnd.schemaregistry.v1+json", Accept: "application/json" };
        expect(registerSchemaRequest("https://r.example", "dlq-a b.state-value", '"string"')).to.deep.equal({
            method: "POST",
            url: "https://r.example/apis/ccompat/v7/subjects/dlq-a%20b.state-value/versions",
            headers,
            body: '{"schemaType":"AVRO","schema":"\\"string\\""}',
        });
        expect(lookupSchemaRequest("https://r.example", "dlq-s.state-value", '"string"')).to.deep.equal({
            method: "POST",
            url: "https://r.example/apis/ccompat/v7/subjects/dlq-s.state-value",
            headers,
            body: '{"schemaType":"AVRO","schema":"\\"string\\""}',
        });
    });

    describe("the provider pulumi up registers it with", () => {
        let server: http.Server;
        let base: string;
        const seen: { method: string; url: string; auth?: string; body: string }[] = [];
        let status = 200;

        before(async () => {
            server = http.createServer((req, res) => {
                let body = "";
                req.on("data", (c: Buffer) => (body += c.toString()));
                req.on("end", () => {
                    seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
                    res.writeHead(status, { "Content-Type": "application/json" }).end(status === 200 ? '{"id":17}' : '{"message":"no"}');
                });
            });
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        });
        after(() => new Promise<void>((resolve) => server.close(() => resolve())));

        it("creates: registers with the login, keeps the id, leaves the login out of the outputs", async () => {
            const login = { username: "w", password: "p" };
            const created = await subjectSchemaProvider.create!({
                adminUrl: base,
                subject: "dlq-s.state-value",
                schema: '"string"',
                login,
            });
            expect(created.id).to.equal("dlq-s.state-value");
            expect(created.outs).to.deep.equal({ adminUrl: base, subject: "dlq-s.state-value", schema: '"string"', schemaId: 17 });
            expect(seen.at(-1)).to.deep.equal({
                method: "POST",
                url: "/apis/ccompat/v7/subjects/dlq-s.state-value/versions",
                auth: `Basic ${Buffer.from("w:p").toString("base64")}`,
                body: '{"schemaType":"AVRO","schema":"\\"string\\""}',
            });
        });

        it("diffs on the schema and the URL, replaces on the subject", async () => {
            const olds = { adminUrl: base, subject: "s", schema: "a" };
            expect(await subjectSchemaProvider.diff!("s", olds, olds)).to.include({ changes: false });
            expect(await subjectSchemaProvider.diff!("s", olds, { ...olds, schema: "b" })).to.include({ changes: true });
            expect((await subjectSchemaProvider.diff!("s", olds, { ...olds, subject: "t" })).replaces).to.deep.equal(["subject"]);
        });

        it("a refused registration names the request and the registry's answer", async () => {
            status = 409;
            let message = "";
            await subjectSchemaProvider.create!({ adminUrl: base, subject: "s", schema: "x" }).catch((e: Error) => (message = e.message));
            status = 200;
            expect(message).to.contain(`POST ${base}/apis/ccompat/v7/subjects/s/versions: 409`);
        });
    });
});
