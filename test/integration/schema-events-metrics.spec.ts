/**
 * The detector's metrics read by Prometheus' own exposition parser (prometheus_client, from the lakehouse
 * venv that the full setup builds; the unit tier's setup has no Python environment).
 */
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { detectPass, type TopicBinding, type TopicReader } from "../../ops/schema-events-detector";
import { renderSchemaEventMetrics } from "../../ops/schema-events-metrics";
import { SchemaEventStore } from "../../ops/schema-events-store";
import { BASIC, captured, PG_TOPIC } from "../helpers/schema-events-fixtures";
import { REPO_ROOT } from "../helpers/stack-files";

describe("schema-evolution detector: metrics", () => {
    it("exposes counters by pipeline, table, change type and status that Prometheus' own parser reads", async function () {
        const python = path.join(REPO_ROOT, ".cache", "lakehouse-venv", "bin", "python");
        if (!fs.existsSync(python))
            throw new Error(`${python} missing: run scripts/setup.sh (it installs prometheus_client for the lakehouse)`);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "schema-events-"));
        try {
            const store = new SchemaEventStore(dir);
            const binding: TopicBinding = { topic: PG_TOPIC, pipeline: "shop", sourceTable: 'public."odd\\name"', sink: BASIC };
            const records = captured(PG_TOPIC);
            const reader: TopicReader = {
                earliestOffsets: async () => [{ topic: PG_TOPIC, partition: 0, offset: 0n }],
                latestOffsets: async () => [{ topic: PG_TOPIC, partition: 0, offset: BigInt(records.length) }],
                read: async (_t, _p, from) => records.filter((r) => r.offset >= from),
            };
            await detectPass(reader, [binding], store, { now: () => new Date("2026-12-01T12:00:00Z"), log: () => undefined });
            const text = renderSchemaEventMetrics(store.readEvents().events, 2, new Date("2026-12-01T12:05:00Z"));
            const parsed = JSON.parse(
                execFileSync(
                    python,
                    [
                        "-c",
                        "import sys, json\nfrom prometheus_client.parser import text_string_to_metric_families as p\n" +
                            "print(json.dumps([{'name': f.name, 'type': f.type, 'samples': [[s.name, s.labels, s.value] for s in f.samples]} for f in p(sys.stdin.read())]))",
                    ],
                    { input: text },
                ).toString(),
            ) as { name: string; type: string; samples: [string, Record<string, string>, number][] }[];
            const byName = new Map(parsed.map((f) => [f.name, f]));
            const events = byName.get("cdc_schema_change_events")!;
            expect(events.type).to.equal("counter");
            const label = (s: [string, Record<string, string>, number]) => `${s[1].change_type}/${s[1].handling_status}=${s[2]}`;
            expect(events.samples.map(label).sort()).to.deep.equal([
                "ADD_COLUMN/AUTO_APPLIED=2",
                "DROP_COLUMN/PENDING_REVIEW=1",
                "MODIFY_COLUMN/AUTO_APPLIED=1",
                "MODIFY_COLUMN/MANUAL_REQUIRED=1",
                "RENAME_COLUMN/MANUAL_REQUIRED=1",
            ]);
            expect(events.samples.every((s) => s[1].pipeline === "shop" && s[1].source_table === 'public."odd\\name"')).to.equal(true);
            expect(byName.get("cdc_schema_change_last_event_timestamp_seconds")!.samples[0][2]).to.equal(
                Date.parse("2026-12-01T12:00:00Z") / 1000,
            );
            expect(byName.get("cdc_schema_event_detector_skipped_records")!.samples[0][2]).to.equal(2);
            expect(byName.get("cdc_schema_event_detector_last_pass_timestamp_seconds")!.samples[0][2]).to.equal(
                Date.parse("2026-12-01T12:05:00Z") / 1000,
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
