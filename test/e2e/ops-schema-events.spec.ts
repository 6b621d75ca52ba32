/**
 * `cdc schema-events` against the sandbox: the events of seed 004 §6's plan (./evolution-plan.ts, run once per
 * mocha process) with the handling the real JDBC sink gave each step, the metrics push, and a long-running detector
 * that skips records it cannot read without losing its place.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { dataTopicName } from "../../model/naming";
import { KafkaClient } from "../../ops/kafka-client";
import { recordDecoderFor } from "../../ops/record-decoder";
import { followDetector, openDetector } from "../../ops/schema-events";
import type { SchemaEventsReport } from "../../ops/schema-events";
import type { SchemaEvolutionEvent } from "../../ops/schema-events-model";
import { SchemaEventStore } from "../../ops/schema-events-store";
import { directorySecretStore } from "../../ops/preflight-gather";
import { resolveTarget, sandboxTargetPath, type SandboxTargetFile } from "../../ops/target";
import { createTopics } from "../../sandbox/kafka-admin";
import { evolutionPlan } from "./evolution-plan";
import { E2E, e2e, START_TIMEOUT_MS, targetQuery, waitFor } from "./fixture";
import { cdc } from "./ops-run";

const TABLE = "public.cdc_schema_evolution_test";
const FIXTURE = path.join(__dirname, "..", "fixtures", "schema-events", "shop.public.cdc_schema_evolution_test.json");

const summary = (e: SchemaEvolutionEvent) =>
    `${e.change_type} ${e.change_details.old_column_name ? `${e.change_details.old_column_name}->` : ""}${e.change_details.column_name} ` +
    `${e.change_details.old_type ?? "-"}->${e.change_details.new_type ?? "-"}: ${e.handling_status}/${e.connector_action}`;

describe("sandbox e2e: cdc schema-events", function () {
    this.timeout(5 * 60_000);
    let env: E2E;
    let dir: string;

    before(async function () {
        this.timeout(START_TIMEOUT_MS + 3 * 60_000);
        env = await e2e();
        await evolutionPlan(env);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-schema-events-"));
    });

    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("logs one event per seed 004 §6 step, with the handling the sink really gave it, and pushes the metrics", async () => {
        const pushes: { method?: string; url?: string; body: string }[] = [];
        const gateway = http.createServer((req, res) => {
            let body = "";
            req.on("data", (d) => (body += d));
            req.on("end", () => (pushes.push({ method: req.method, url: req.url, body }), res.end()));
        });
        await new Promise<void>((r) => gateway.listen(0, "127.0.0.1", r));
        const url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
        try {
            const state = path.join(dir, "sandbox");
            const t0 = Date.now();
            const run = await cdc(["schema-events", "--sandbox", "e2e", "--state-dir", state, "--pushgateway-url", url, "--json"]);
            const seconds = (Date.now() - t0) / 1000;
            const report = JSON.parse(run.stdout) as SchemaEventsReport;
            const mine = report.events.filter((e) => e.source_table === TABLE);
            expect(mine.map(summary), run.stderr).to.deep.equal([
                // The sink added the column itself.
                "ADD_COLUMN new_column_added -->VARCHAR(100): AUTO_APPLIED/CONTINUED",
                // The plan relaxed the target's NOT NULL copy first, so the sink went on, leaving it NULL in new rows.
                "DROP_COLUMN original_column VARCHAR(255)->-: PENDING_REVIEW/CONTINUED",
                // The sink never retypes; the plan widened the target to TEXT, which takes every value.
                "MODIFY_COLUMN new_column_added VARCHAR(100)->TEXT: AUTO_APPLIED/CONTINUED",
                // The sink added renamed_column and kept new_column_added: values before and after the rename are split.
                "RENAME_COLUMN new_column_added->renamed_column TEXT->TEXT: MANUAL_REQUIRED/CONTINUED",
            ]);
            // No DDL touched the other captured tables.
            expect(report.events.filter((e) => e.source_table !== TABLE)).to.deep.equal([]);
            expect(report.detected).to.equal(report.events.length);
            expect(run.code).to.equal(1);
            process.stderr.write(`      [first pass over every captured topic: ${seconds.toFixed(1)} s]\n`);

            // What the statuses claim is what the sink and the target show.
            const status = await env.sb.client.status("shop-postgres-sink");
            expect([status.connector.state, ...status.tasks.map((t) => t.state)]).to.deep.equal(["RUNNING", "RUNNING"]);
            const columns = await targetQuery<{ column_name: string; data_type: string; is_nullable: string }>(
                env,
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'shop' AND table_name = 'cdc_schema_evolution_test'",
            );
            const col = (n: string) => columns.find((c) => c.column_name === n);
            expect(col("original_column")).to.include({ is_nullable: "YES" });
            expect(col("new_column_added")).to.include({ data_type: "text" });
            expect(col("renamed_column")).to.include({ data_type: "text" });
            expect(mine[3].reason).to.contain(
                "UPDATE shop.cdc_schema_evolution_test SET renamed_column = new_column_added WHERE renamed_column IS NULL",
            );

            // alert_sent: the push carrying them got through, for the two that need a person.
            expect(mine.map((e) => e.alert_sent)).to.deep.equal([false, true, false, true]);
            expect(pushes.length).to.be.greaterThan(0);
            expect(pushes.every((p) => p.method === "PUT" && p.url === "/metrics/job/cdc-schema-events")).to.equal(true);
            expect(pushes[pushes.length - 1].body).to.contain(
                'cdc_schema_change_events_total{pipeline="shop",source_table="public.cdc_schema_evolution_test",change_type="RENAME_COLUMN",handling_status="MANUAL_REQUIRED"} 1',
            );

            // The log is the seed's JSONL file; a second run finds nothing new and exits 0.
            const lines = fs.readFileSync(path.join(state, "schema-evolution.jsonl"), "utf8").trim().split("\n");
            expect(lines.map((l) => (JSON.parse(l) as SchemaEvolutionEvent).event_id)).to.deep.equal(report.events.map((e) => e.event_id));
            const again = await cdc(["schema-events", "--sandbox", "e2e", "--state-dir", state, "--json"]);
            expect(again.code, again.stderr).to.equal(0);
            expect((JSON.parse(again.stdout) as SchemaEventsReport).detected).to.equal(0);
            expect((JSON.parse(again.stdout) as SchemaEventsReport).events).to.deep.equal(report.events);

            // --no-detect reads the log alone: Kafka and Connect are not contacted.
            const offline = await cdc([
                "schema-events",
                "--sandbox",
                "e2e",
                "--state-dir",
                state,
                "--no-detect",
                "--bootstrap-servers",
                "127.0.0.1:1",
                "--connect-url",
                "http://127.0.0.1:1",
            ]);
            expect(offline.code).to.equal(0);
            expect(offline.stdout).to.match(/^4 schema change\(s\) in .*schema-evolution\.jsonl \(0 new this run\)\n/);
            expect(offline.stdout).to.match(
                /\nDETECTED +PIPELINE +SOURCE TABLE +CHANGE +COLUMN +OLD TYPE +NEW TYPE +STATUS +SINK +ALERT\n/,
            );
            expect(offline.stdout).to.contain("new_column_added -> renamed_column");
            expect(offline.stdout).to.contain(`to do:\n  ${TABLE}.original_column DROP_COLUMN PENDING_REVIEW: `);
        } finally {
            gateway.close();
        }
    });

    it("keeps running past records it cannot read, logging each with its place, and resumes after a restart without repeating", async () => {
        // A copy of the sandbox's target capturing one more table, whose topic only this test writes (no sink reads it).
        const root = path.join(dir, "targets");
        const file = JSON.parse(fs.readFileSync(sandboxTargetPath(env.sb.runDir), "utf8")) as SandboxTargetFile;
        const pipelines = file.stackConfig.pipelines as { name: string; source: { tables: unknown[] } }[];
        pipelines.find((p) => p.name === "shop")!.source.tables.push({ name: "public.schema_events_probe", primaryKey: ["id"] });
        fs.mkdirSync(path.join(root, "e2e-probe"), { recursive: true });
        fs.writeFileSync(path.join(root, "e2e-probe", "ops-target.json"), JSON.stringify({ ...file, name: "e2e-probe" }), { mode: 0o600 });
        const processEnv = { ...process.env, CDC_SANDBOX_DIR: root };
        const target = resolveTarget({ sandbox: "e2e-probe" } as Parameters<typeof resolveTarget>[0], processEnv);
        const shop = target.spec.pipelines.find((p) => p.name === "shop")!;
        const topic = dataTopicName(
            shop.source,
            shop.source.tables.find((t) => t.table === "schema_events_probe")!,
        );
        await createTopics(env.sb.classpath, env.sb.kafka.bootstrapServers, [
            { name: topic, partitions: 1, replicationFactor: 1, config: {} },
        ]);

        // Real change events (captured from the sandbox), between which go records no detector can read.
        const captured = (JSON.parse(fs.readFileSync(FIXTURE, "utf8")) as { value: string }[]).map((r) => r.value);
        const kafka = new KafkaClient(target.kafka, "schema-events-e2e");
        const state = path.join(dir, "probe");
        const store = new SchemaEventStore(state);
        const lines: string[] = [];
        const stop = new AbortController();
        const detector = await openDetector(target, store, {
            secrets: directorySecretStore(env.sb.secretsDir, "the sandbox writes it"),
            log: (l) => lines.push(l),
            decoder: recordDecoderFor(target.spec, {}),
        });
        const found: SchemaEvolutionEvent[] = [];
        // The same detector also reads the sandbox's real topics; only the probe table's events matter here.
        const probe = (events: SchemaEvolutionEvent[]) => events.filter((e) => e.source_table === "public.schema_events_probe");
        const following = followDetector(
            detector,
            500,
            stop.signal,
            (r) => found.push(...probe(r.events)),
            (l) => lines.push(l),
        );
        try {
            const schemaless = JSON.stringify(JSON.parse(captured[0]).payload);
            await kafka.produce(
                [captured[0], "{not json", schemaless, captured[1]].map((value) => ({ topic, key: null, value, partition: 0 })),
            );
            await waitFor("the ADD_COLUMN after the unreadable records", 60_000, async () => found.length === 1);
            expect(
                found.map((e) => `${e.source_table} ${e.change_type} ${e.change_details.column_name} @${e.source_position.offset}`),
            ).to.deep.equal(["public.schema_events_probe ADD_COLUMN new_column_added @3"]);
            // Other specs' poison records in the sandbox's own topics are skipped too; these are the probe's.
            expect(lines.filter((l) => l.startsWith(`skipped ${topic}[`))).to.deep.equal([
                `skipped ${topic}[0]@1: the value is not JSON (${jsonError("{not json")})`,
                `skipped ${topic}[0]@2: the value has no embedded schema: the data topics must be written by JsonConverter with schemas.enable=true`,
            ]);
        } finally {
            stop.abort();
            await following;
            await detector.close();
        }

        const skippedBefore = store.readState().skipped;
        expect(skippedBefore).to.be.at.least(2);
        // Restarted (a new process would read the same files), with more input: only the new records are read.
        await kafka.produce([Buffer.from([0xff, 0xfe]), captured[2]].map((value) => ({ topic, key: null, value, partition: 0 })));
        await kafka.close();
        lines.length = 0;
        const run = await cdc(["schema-events", "--sandbox", "e2e-probe", "--state-dir", state, "--json"], processEnv);
        const report = JSON.parse(run.stdout) as SchemaEventsReport;
        expect(probe(report.events).map((e) => e.change_type)).to.deep.equal(["ADD_COLUMN", "DROP_COLUMN"]);
        expect(report.detected, "only the DROP_COLUMN is new").to.equal(1);
        expect(report.skipped).to.equal(1);
        expect(run.stderr.split("\n").filter((l) => l.includes(`skipped ${topic}[`))).to.deep.equal([
            `cdc schema-events: skipped ${topic}[0]@4: the value is not JSON (${jsonError(Buffer.from([0xff, 0xfe]).toString("utf8"))})`,
        ]);
        expect(new SchemaEventStore(state).readState().next[`${topic}/0`]).to.equal("6");
        expect(new SchemaEventStore(state).readState().skipped).to.equal(skippedBefore + 1);
    });
});

function jsonError(text: string): string {
    try {
        JSON.parse(text);
    } catch (e) {
        return (e as Error).message;
    }
    return "";
}
