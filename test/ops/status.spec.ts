/**
 * `cdc status`'s pure parts (ops/status.ts, ops/output.ts): the rows built from what Connect and Kafka answered
 * (offsets from test/fixtures/ops/offsets.json, captured from the sandbox), the problems listed, and the two views
 * of one result.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { PassThrough } from "stream";
import { parseStackSpec } from "../../plan/stack-spec";
import type { ConnectorOffset, ConnectorStatus } from "../../ops/connect-client";
import { cellText, emit, table, toJson } from "../../ops/output";
import { pipelineCheckpoints, PipelineObservation, renderStatus, statusProblems } from "../../ops/status";
import type { RunningDatabase } from "../../sandbox/databases";
import { sandboxStackConfig } from "../../sandbox/stack";

const db = (engine: "postgres" | "mariadb", database: string) =>
    ({ engine, url: "", host: "127.0.0.1", port: 1, user: "u", password: "p", database }) as RunningDatabase;
const spec = parseStackSpec(
    sandboxStackConfig({
        bootstrapServers: "127.0.0.1:9092",
        postgresSource: db("postgres", "shop"),
        mariaDbSource: db("mariadb", "inventory"),
        target: db("postgres", "warehouse"),
    }),
).spec;
const shop = spec.pipelines.find((p) => p.source.kind === "postgres")!;
const captured = (
    JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "ops", "offsets.json"), "utf8")) as {
        samples: { connector: string; kind: string; atMs: number; offsets: ConnectorOffset[] }[];
    }
).samples;

const running = (name: string, type: "source" | "sink"): ConnectorStatus => ({
    name,
    type,
    connector: { state: "RUNNING", worker_id: "w" },
    tasks: [{ id: 0, state: "RUNNING", worker_id: "w" }],
});

describe("cdc status rows (ops/status.ts)", () => {
    const streaming = captured
        .filter((s) => s.kind === "source:postgres")
        .sort((a, b) => a.atMs - b.atMs)
        .at(-1)!;
    const observation = (): PipelineObservation => ({
        source: { status: running(shop.source.connectorName, "source"), offsets: streaming.offsets },
        sink: { status: running(shop.sink.connectorName, "sink") },
        lastOffsetCommit: new Date("2026-12-01T10:00:00Z"),
        topics: new Map([
            [
                "shop.public.customers",
                {
                    ends: [{ topic: "shop.public.customers", partition: 0, offset: 1500n }],
                    lastEvent: new Date("2026-12-01T09:59:58Z"),
                    lag: [{ topic: "shop.public.customers", partition: 0, committed: 1490n, end: 1500n, lag: 10n }],
                },
            ],
        ]),
    });

    it("builds one row per captured table, each with the connector's position and its own topic's numbers", () => {
        const rows = pipelineCheckpoints(shop, observation());
        expect(rows.map((r) => r.source_table)).to.deep.equal(shop.source.tables.map((t) => `${t.schema}.${t.table}`));
        const customers = rows.find((r) => r.source_table === "public.customers")!;
        expect(customers).to.deep.include({
            connector_name: shop.source.connectorName,
            topic: "shop.public.customers",
            state: "STREAMING",
            last_lsn: "0/377D8D8",
            last_event_timestamp: "2026-12-01T09:59:58.000Z",
            last_offset_commit: "2026-12-01T10:00:00.000Z",
            total_events_processed: 1500,
            sink_lag: 10,
        });
        // A table whose topic Kafka does not have: no events, no lag to speak of; same connector position.
        const orders = rows.find((r) => r.source_table === "public.orders")!;
        expect(orders).to.deep.include({ total_events_processed: 0, sink_lag: null, last_lsn: "0/377D8D8", last_event_timestamp: null });
    });

    it("marks connectors Connect does not know as ABSENT, and lists what is not RUNNING", () => {
        const seen = observation();
        seen.source = { status: null, offsets: [] };
        const [row] = pipelineCheckpoints(shop, seen);
        expect(row).to.deep.include({ connector_state: "ABSENT", task_states: [], state: "NULL", last_lsn: null });
        const failed: ConnectorStatus = {
            ...running("inventory-postgres-sink", "sink"),
            tasks: [{ id: 0, state: "FAILED", worker_id: "w", trace: "org.apache.kafka.connect.errors.ConnectException: boom\n\tat x" }],
        };
        const paused: ConnectorStatus = {
            ...running("inventory-mariadb-source", "source"),
            connector: { state: "PAUSED", worker_id: "w" },
        };
        expect(
            statusProblems([null, failed, paused], ["shop-postgres-source", "inventory-postgres-sink", "inventory-mariadb-source"]),
        ).to.deep.equal([
            "shop-postgres-source: not deployed in Connect",
            "inventory-postgres-sink: task 0 FAILED: org.apache.kafka.connect.errors.ConnectException: boom",
            "inventory-mariadb-source: connector PAUSED",
        ]);
    });

    it("prints the same result as a table and as JSON", () => {
        const report = {
            target: "sandbox demo",
            generated_at: "2026-12-01T10:00:01.000Z",
            tables: pipelineCheckpoints(shop, observation()),
            problems: ["x: connector PAUSED"],
        };
        const text = renderStatus(report);
        const lines = text.split("\n");
        expect(lines[0]).to.equal("sandbox demo");
        expect(lines[2]).to.match(
            /^TABLE {2,}CONNECTOR {2,}STATE {2,}LAST LSN {2,}LAST EVENT {2,}OFFSET COMMIT {2,}EVENTS {2,}SINK {2,}LAG$/,
        );
        expect(lines[3]).to.match(
            /^public\.customers +shop-postgres-source RUNNING\/RUNNING +STREAMING +0\/377D8D8 +2026-12-01T09:59:58\.000Z +2026-12-01T10:00:00\.000Z +1500 +shop-postgres-sink RUNNING\/RUNNING +10$/,
        );
        expect(text).to.include("\nproblems:\n  x: connector PAUSED\n");
        let out = "";
        const stdout = new PassThrough();
        stdout.on("data", (d: Buffer) => (out += d.toString()));
        emit({ stdout, stderr: new PassThrough(), env: {} }, { json: true }, report, renderStatus);
        expect(JSON.parse(out)).to.deep.equal(JSON.parse(JSON.stringify(report)));
    });
});

describe("output (ops/output.ts)", () => {
    it("pads columns to the widest cell, right-aligns numbers asked to, and prints absent values as -", () => {
        const text = table(
            [
                { name: "a", n: 5, at: null },
                { name: "longer", n: 12345, at: new Date("2026-01-02T03:04:05Z") },
            ],
            [
                { header: "NAME", value: (r) => r.name },
                { header: "N", value: (r) => r.n, align: "right" },
                { header: "AT", value: (r) => r.at },
            ],
        );
        expect(text).to.equal(["NAME        N  AT", "a           5  -", "longer  12345  2026-01-02T03:04:05.000Z", ""].join("\n"));
    });

    it("writes Kafka's bigint offsets into JSON as exact decimal strings", () => {
        expect(JSON.parse(toJson({ offset: 9007199254740993n }))).to.deep.equal({ offset: "9007199254740993" });
        expect(cellText({ a: 1n })).to.equal('{"a":"1"}');
    });
});
