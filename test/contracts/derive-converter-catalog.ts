/**
 * Derives the property catalog of the pinned Avro converter (connectors/converters.ts AVRO_CONVERTER), which
 * test/contracts/converter-catalog.spec.ts checks every rendered `key.converter.*` / `value.converter.*` key against:
 * Kafka Connect passes those keys to the converter unchecked, and the converter ignores keys it does not read.
 * Asked of the converter's own classes by java/DeriveConverterCatalog.java, after the converter jar in the plugin
 * folder (sandbox/avro-converter.ts) is checked against its pinned SHA-512. Run by scripts/setup.sh through
 * derive-catalogs.ts; a rerun with the same pin returns at once.
 */
import { spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { AVRO_CONVERTER } from "../../connectors/converters";
import { resolveAvroConverter } from "../../sandbox/avro-converter";
import { resolveKafkaClasspath } from "../../sandbox/kafka-jars";
import { CACHE_DIR } from "../../sandbox/paths";

const TOOL = path.join(__dirname, "java", "DeriveConverterCatalog.java");

/** Where the converter's keys are defined: its serde configs' ConfigDefs, its resolver's constants and defaults. */
const REQUEST = {
    converterClass: AVRO_CONVERTER.converterClass,
    configDefs: [
        "io.apicurio.registry.serde.config.BaseKafkaSerDeConfig#buildConfigDef",
        "io.apicurio.registry.serde.avro.AvroKafkaSerdeConfig#configDef",
        "io.apicurio.registry.serde.config.BaseKafkaDeserializerConfig#configDef",
    ],
    keyConstants: ["io.apicurio.registry.resolver.SchemaResolverConfig", "io.apicurio.registry.serde.SerdeConfig"],
    defaultsMaps: ["io.apicurio.registry.resolver.config.DefaultSchemaResolverConfig#DEFAULTS"],
    enums: [{ key: "apicurio.registry.use-id", from: "io.apicurio.registry.serde.config.IdOption" }],
};

export interface ConverterProperty {
    name: string;
    /** Where it was found: `Class#method` of a ConfigDef, `Class#CONSTANT` of a key, or the defaults map. */
    from: string;
    type?: string;
    default?: string | null;
    allowed?: string[];
}

export interface ConverterCatalog {
    fingerprint: string;
    jarSha512: string;
    /** From the jar's pom.properties. */
    version: string;
    /** Whether the jar has META-INF/services/org.apache.kafka.connect.storage.Converter. */
    serviceManifest: boolean;
    properties: ConverterProperty[];
    prefixes: { prefix: string; from: string }[];
}

const FINGERPRINT = createHash("sha256").update(fs.readFileSync(TOOL, "utf8")).update(JSON.stringify(REQUEST)).digest("hex");

export function converterCatalogFile(): string {
    return path.join(CACHE_DIR, "contracts", "catalogs", AVRO_CONVERTER.id, `${AVRO_CONVERTER.sha512}.json`);
}

export function readConverterCatalog(): ConverterCatalog {
    const file = converterCatalogFile();
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run scripts/setup.sh (it derives the converter catalog)`);
    const catalog = JSON.parse(fs.readFileSync(file, "utf8")) as ConverterCatalog;
    if (catalog.fingerprint !== FINGERPRINT) throw new Error(`${file} was derived by another version of ${TOOL}: run scripts/setup.sh`);
    return catalog;
}

function sha512Of(file: string): string {
    return createHash("sha512")
        .update(fs.readFileSync(file) as Uint8Array)
        .digest("hex");
}

function runTool(classpath: string, request: unknown): Promise<Omit<ConverterCatalog, "fingerprint" | "jarSha512">> {
    return new Promise((resolve, reject) => {
        const child = spawn("java", ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classpath, TOOL]);
        const [stdout, stderr]: string[][] = [[], []];
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => stdout.push(chunk));
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk));
        child.on("error", (err) => reject(new Error(`java did not start (${err.message}): run scripts/setup.sh, which installs a JDK`)));
        child.on("close", (code) =>
            code === 0
                ? resolve(JSON.parse(stdout.join("")))
                : reject(new Error(`DeriveConverterCatalog.java failed (exit ${code}):\n${stderr.join("").slice(-3000)}`)),
        );
        child.stdin.end(JSON.stringify(request));
    });
}

export async function deriveConverterCatalog(log: (line: string) => void): Promise<void> {
    const file = converterCatalogFile();
    try {
        readConverterCatalog();
        log(`${AVRO_CONVERTER.id} ${AVRO_CONVERTER.artifact.version} catalog (cached) in ${path.dirname(file)}`);
        return;
    } catch {
        // Missing or derived by another generator: derive it.
    }
    const started = Date.now();
    const dir = await resolveAvroConverter(log);
    const { artifactId, version } = AVRO_CONVERTER.artifact;
    const jar = path.join(dir, `${artifactId}-${version}.jar`);
    const actual = sha512Of(jar);
    if (actual !== AVRO_CONVERTER.sha512)
        throw new Error(
            `${jar}: SHA-512 ${actual} differs from the pinned ${AVRO_CONVERTER.sha512} (connectors/converters.ts); refusing it`,
        );
    const classpath = [await resolveKafkaClasspath(log), path.join(dir, "*")].join(path.delimiter);
    const derived = await runTool(classpath, { ...REQUEST, converterJar: jar });
    fs.mkdirSync(path.dirname(file), { recursive: true });
    for (const old of fs.readdirSync(path.dirname(file))) fs.rmSync(path.join(path.dirname(file), old), { force: true });
    const partial = `${file}.partial-${process.pid}`;
    fs.writeFileSync(partial, `${JSON.stringify({ fingerprint: FINGERPRINT, jarSha512: actual, ...derived }, null, 2)}\n`);
    fs.renameSync(partial, file);
    log(`${AVRO_CONVERTER.id} catalog derived in ${((Date.now() - started) / 1000).toFixed(1)}s into ${file}`);
}
