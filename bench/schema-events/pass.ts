/**
 * How fast a schema-events pass reads a topic: 200,000 captured MariaDB change events (7.8 KB each, one schema,
 * then the four captured changes), served from memory so only the detector is timed, against parsing every record
 * as a pass would without its schema-bytes comparison. Run: npx ts-node --transpile-only bench/schema-events/pass.ts
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { detectPass, observe, type RecordIn, type TopicReader } from "../../ops/schema-events-detector";
import { SchemaEventStore } from "../../ops/schema-events-store";

const N = 200_000;
const TOPIC = "inventory.inventory.products";
const captured = (
    JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "test", "fixtures", "schema-events", `${TOPIC}.json`), "utf8")) as {
        value: string;
    }[]
).map((r) => Buffer.from(r.value));
const records: RecordIn[] = Array.from({ length: N }, (_, i) => ({
    partition: 0,
    offset: BigInt(i),
    value: captured[Math.max(0, i - (N - captured.length))],
}));

const rate = (t0: bigint) => Math.round(N / (Number(process.hrtime.bigint() - t0) / 1e9));

async function main(): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "schema-events-bench-"));
    try {
        const reader: TopicReader = {
            earliestOffsets: async () => [{ topic: TOPIC, partition: 0, offset: 0n }],
            latestOffsets: async () => [{ topic: TOPIC, partition: 0, offset: BigInt(N) }],
            read: async (_t, _p, from, opts) => records.slice(Number(from), Number(from) + (opts.max ?? N)),
        };
        const sink = {
            connector: "inventory-postgres-sink",
            targetTable: "inventory.products",
            addsColumns: true,
            evolutionSetting: "schema.evolution=basic",
        };
        let t0 = process.hrtime.bigint();
        const result = await detectPass(
            reader,
            [{ topic: TOPIC, pipeline: "inventory", sourceTable: "inventory.products", sink }],
            new SchemaEventStore(dir),
            {
                now: () => new Date(),
                log: () => undefined,
            },
        );
        const pass = rate(t0);
        t0 = process.hrtime.bigint();
        let table;
        for (const r of records) table = observe(table, r).table;
        const parseAll = rate(t0);
        process.stdout.write(
            `${N} records of ${captured[0].length} bytes, ${result.events.length} changes found\n` +
                `  pass (schema bytes compared, state saved every 500): ${pass} records/s\n` +
                `  parsing every record:                               ${parseAll} records/s\n`,
        );
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
});
