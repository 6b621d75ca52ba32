/**
 * The Avro readers against the real thing: Apicurio's AvroConverter (the sandbox's plugin folder) writes the captured
 * change events through a running Apicurio Registry 3.3.3 (lakehouse/tests/fixtures/avro/CaptureAvro.java), and the
 * ops CLI's decoder and the lakehouse writer read them back through that registry's Confluent-compatible API: each
 * must equal what the same record reads as when JsonConverter wrote it.
 */
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { StackSpec } from "../../model/spec";
import { recordDecoderFor } from "../../ops/record-decoder";
import { resolveAvroConverter } from "../../sandbox/avro-converter";
import { resolveKafkaClasspath } from "../../sandbox/kafka-jars";
import { VENV_PYTHON } from "../../sandbox/lakehouse";
import { REPO_ROOT } from "../../sandbox/paths";
import { confluentApiUrl, RunningRegistry, startRegistry } from "../../sandbox/schema-registry";

const FIXTURES = path.join(REPO_ROOT, "lakehouse", "tests", "fixtures");
const TOPICS = ["shop.public.customers", "shop.public.orders", "inventory.inventory.products"];

interface Line {
    offset: number;
    key: string | null;
    value: string | null;
}
const read = (file: string): Line[] =>
    fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Line);

describe("Avro readers against Apicurio's converter and registry", function () {
    this.timeout(300_000);
    let registry: RunningRegistry;
    let dir: string;

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-avro-decoder-"));
        registry = await startRegistry({ runDir: dir });
        const converter = await resolveAvroConverter();
        const classpath = [
            await resolveKafkaClasspath(),
            ...fs
                .readdirSync(converter)
                .filter((j) => j.endsWith(".jar"))
                .map((j) => path.join(converter, j)),
        ].join(path.delimiter);
        const classes = path.join(dir, "classes");
        execFileSync("javac", ["-d", classes, "-cp", classpath, path.join(FIXTURES, "avro", "CaptureAvro.java")]);
        fs.mkdirSync(path.join(dir, "avro"));
        for (const topic of TOPICS)
            execFileSync("java", [
                "-cp",
                `${classes}${path.delimiter}${classpath}`,
                "CaptureAvro",
                registry.url,
                path.join(FIXTURES, "debezium", `${topic}.jsonl`),
                path.join(dir, "avro", `${topic}.jsonl`),
            ]);
    });

    after(async () => {
        await registry?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("the ops CLI's decoder gives every record's JsonConverter document (schema and payload)", async () => {
        const spec = { serialization: "avro", schemaRegistry: { url: registry.url } } as StackSpec;
        const decoder = recordDecoderFor(spec, {});
        let checked = 0;
        for (const topic of TOPICS) {
            const json = read(path.join(FIXTURES, "debezium", `${topic}.jsonl`));
            const avro = read(path.join(dir, "avro", `${topic}.jsonl`));
            expect(avro).to.have.length(json.length);
            for (const [i, a] of avro.entries()) {
                for (const side of ["key", "value"] as const) {
                    const bytes = a[side] === null ? null : Buffer.from(a[side], "base64");
                    expect(bytes === null || bytes[0] === 0, "Confluent framing").to.equal(true);
                    const doc = await decoder.toJsonDocument(bytes, `${topic}@${a.offset} ${side}`);
                    const twin = json[i][side];
                    expect(doc === null ? null : JSON.parse(doc.toString("utf8")), `${topic}@${a.offset} ${side}`).to.deep.equal(
                        twin === null ? null : JSON.parse(twin),
                    );
                    checked++;
                }
            }
        }
        expect(checked).to.equal(60);
    });

    it("the lakehouse writer reads every record into the envelope its JSON twin gives", () => {
        const out = execFileSync(VENV_PYTHON, [
            path.join(REPO_ROOT, "lakehouse", "tests", "live_registry_check.py"),
            confluentApiUrl(registry.url),
            path.join(dir, "avro"),
        ]).toString();
        expect(out.trim()).to.equal("30");
    });
});
