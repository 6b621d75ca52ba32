/** Change events captured from the sandbox (test/fixtures/schema-events/capture.ts) and the sink they meet. */
import * as fs from "fs";
import * as path from "path";
import type { RecordIn } from "../../ops/schema-events-detector";
import type { SinkBehaviour } from "../../ops/schema-events-handling";

const FIXTURES = path.join(__dirname, "..", "fixtures", "schema-events");
export const PG_TOPIC = "shop.public.cdc_schema_evolution_test";

export function captured(topic: string): RecordIn[] {
    const raw = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${topic}.json`), "utf8")) as {
        partition: number;
        offset: number;
        value: string | null;
    }[];
    return raw.map((r) => ({ partition: r.partition, offset: BigInt(r.offset), value: r.value === null ? null : Buffer.from(r.value) }));
}

export const BASIC: SinkBehaviour = {
    connector: "shop-postgres-sink",
    targetTable: "shop.cdc_schema_evolution_test",
    addsColumns: true,
    evolutionSetting: "schema.evolution=basic",
};
