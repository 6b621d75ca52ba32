/**
 * Derives the connector property catalogs the contract tests check rendered connector configs against
 * (test/helpers/catalogs.ts) from the artifacts the stack deploys: each SHA-512-pinned plugin archive
 * of connectors/catalog.ts, asked through its connector's own `config()` (plus the Debezium Field sets
 * described in java/DeriveCatalogs.java), and the Kafka Connect runtime the sandbox runs, for the
 * framework keys and Kafka's own transforms. Only the JVM can call a ConfigDef, so a small Java program
 * does the asking, run like sandbox/java/KafkaAdmin.java through Java's single-file source launcher.
 *
 * Input: the folders sandbox/prefetch.ts installs under .cache/ (run just before this by
 * scripts/setup.sh). Output: one JSON file per plugin under .cache/contracts/catalogs/<plugin>/,
 * named by its archive's SHA-512, and one for the Kafka runtime; a rerun with the same pins returns at once.
 */
import { spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { createInterface } from "readline";
import { CONNECTOR_PLUGINS, ConnectorPlugin, PluginArchive, PluginId } from "../../connectors/catalog";
import { KAFKA_VERSION, resolveKafkaClasspath } from "../../sandbox/kafka-jars";
import { CACHE_DIR } from "../../sandbox/paths";
import { partitionByReachability, resolvePlugins } from "../../sandbox/plugins";
import { deriveConverterCatalog } from "./derive-converter-catalog";

export const CATALOG_DIR = path.join(CACHE_DIR, "contracts", "catalogs");
const TOOL = path.join(__dirname, "java", "DeriveCatalogs.java");

const DEBEZIUM_DRIVER = "io.debezium.config.CommonConnectorConfig#DRIVER_CONFIG_PREFIX";
const SCHEMA_HISTORY_CLIENTS = [
    "io.debezium.storage.kafka.history.KafkaSchemaHistory#PRODUCER_PREFIX",
    "io.debezium.storage.kafka.history.KafkaSchemaHistory#CONSUMER_PREFIX",
];
const SIGNAL_CONSUMER = "io.debezium.pipeline.signal.channels.KafkaSignalChannel#CONSUMER_PREFIX";

/**
 * Key prefixes a connector passes on, unchecked, to a library it configures: the JDBC driver (Debezium
 * sources, `driver.*`), the Kafka clients of the Kafka schema history (the sources that keep one;
 * PostgreSQL does not) and of the Kafka signal channel (every Debezium source), Hibernate (the JDBC sink). Named here by the constant each plugin defines its
 * prefix with, so the prefix itself is read from the pinned jar.
 */
const PREFIX_CONSTANTS: Readonly<Record<PluginId, readonly string[]>> = {
    "debezium-sqlserver": [DEBEZIUM_DRIVER, ...SCHEMA_HISTORY_CLIENTS, SIGNAL_CONSUMER],
    "debezium-postgres": [DEBEZIUM_DRIVER, SIGNAL_CONSUMER],
    "debezium-mysql": [DEBEZIUM_DRIVER, ...SCHEMA_HISTORY_CLIENTS, SIGNAL_CONSUMER],
    "debezium-mariadb": [DEBEZIUM_DRIVER, ...SCHEMA_HISTORY_CLIENTS, SIGNAL_CONSUMER],
    "debezium-jdbc-sink": ["io.debezium.connector.jdbc.JdbcSinkConnectorConfig#HIBERNATE_PREFIX"],
    "confluent-jdbc-sink": [],
};

export interface Property {
    name: string;
    /** Kafka's ConfigDef.Type, lower-case: boolean, string, int, short, long, double, list, class, password. */
    type: string;
    default?: string | number | boolean | null;
    required?: boolean;
    internal?: boolean;
    /** Fixed values from a ValidString / CaseInsensitiveValidString / ValidList validator or a Debezium enum. */
    allowed?: string[];
    /** The value is a comma-separated list, each item one of `allowed`. */
    allowedList?: boolean;
    /** Whether the validator also accepts `allowed` values in another case (asked of the validator itself). */
    caseInsensitive?: boolean;
    min?: number;
    max?: number;
    /** Old names the connector still accepts for this key. */
    deprecatedAliases?: string[];
    /** For Debezium's pattern keys (`column.mask.with.(d+).chars`): what a real key must match. */
    pattern?: string;
    /** Where a key outside the connector's `config()` was found (see java/DeriveCatalogs.java). */
    from?: string;
}

export interface Prefix {
    prefix: string;
    /** The `Class#CONSTANT` it was read from. */
    from: string;
}

/** Transformations or predicates by class name; `unavailable` when the worker could not instantiate one. */
export type PluginConfigs = Record<string, { properties?: Property[]; unavailable?: string }>;

interface Stamped {
    /** Of the generator and its inputs besides the archive: a mismatch means derived by another version. */
    fingerprint: string;
}

export interface ConnectorCatalog extends Stamped {
    plugin: PluginId;
    archiveSha512: string;
    connector: string;
    /** `Connector.version()` of the class in the archive. */
    version: string;
    kind: "source" | "sink";
    properties: Property[];
    prefixes: Prefix[];
    /** The transformations and predicates this plugin folder itself ships (Debezium's SMTs). */
    transforms: PluginConfigs;
    predicates: PluginConfigs;
}

export interface KafkaConnectCatalog extends Stamped {
    version: string;
    /** ConnectorConfig keys (`all`) and what SinkConnectorConfig / SourceConnectorConfig add. */
    framework: Record<"all" | "sink" | "source", Property[]>;
    prefixes: Prefix[];
    /** Keys Connect itself defines under every `transforms.<alias>.` / `predicates.<alias>.`. */
    transformAliasKeys: Property[];
    predicateAliasKeys: Property[];
    /** Kafka's own transformations and predicates (connect-transforms, on the worker's class path). */
    transforms: PluginConfigs;
    predicates: PluginConfigs;
}

type Installable = ConnectorPlugin & { archive: PluginArchive };

const FINGERPRINT = createHash("sha256")
    .update(fs.readFileSync(TOOL, "utf8"))
    .update(JSON.stringify({ KAFKA_VERSION, PREFIX_CONSTANTS }))
    .digest("hex");

export function kafkaConnectCatalogFile(): string {
    return path.join(CATALOG_DIR, `kafka-connect-${KAFKA_VERSION}.json`);
}

export function connectorCatalogFile(plugin: Installable): string {
    return path.join(CATALOG_DIR, plugin.id, `${plugin.archive.sha512}.json`);
}

function isCurrent(file: string): boolean {
    try {
        return (JSON.parse(fs.readFileSync(file, "utf8")) as Stamped).fingerprint === FINGERPRINT;
    } catch {
        return false;
    }
}

/** A derived catalog file; throws, telling what to run, when it is missing or was derived by another generator. */
export function readCatalog<T extends Stamped>(file: string): T {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run scripts/setup.sh (it derives the connector catalogs)`);
    const catalog = JSON.parse(fs.readFileSync(file, "utf8")) as T;
    if (catalog.fingerprint !== FINGERPRINT)
        throw new Error(`${file} was derived by another version of ${path.relative(process.cwd(), TOOL)}: run scripts/setup.sh`);
    return catalog;
}

interface ToolOutput {
    kafka: Omit<KafkaConnectCatalog, "fingerprint">;
    plugins: Record<string, Omit<ConnectorCatalog, "fingerprint" | "plugin" | "archiveSha512">>;
}

/** Runs DeriveCatalogs.java; its progress lines (stderr) go to `log` as they come. */
function runTool(classpath: string, request: unknown, log: (line: string) => void): Promise<ToolOutput> {
    return new Promise((resolve, reject) => {
        const child = spawn("java", ["-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classpath, TOOL], {
            stdio: ["pipe", "pipe", "pipe"],
        });
        const stdout: string[] = [];
        const stderr: string[] = [];
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => stdout.push(chunk));
        createInterface({ input: child.stderr }).on("line", (line) => {
            stderr.push(line);
            log(line);
        });
        const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
        child.on("error", (err) => reject(new Error(`java did not start (${err.message}): run scripts/setup.sh, which installs a JDK`)));
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            if (code === 0) resolve(JSON.parse(stdout.join("")) as ToolOutput);
            else reject(new Error(`DeriveCatalogs.java failed (${signal ?? `exit ${code}`}):\n${stderr.slice(-30).join("\n")}`));
        });
        child.stdin.end(JSON.stringify(request));
    });
}

function writeAtomically(file: string, content: unknown): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const partial = `${file}.partial-${process.pid}`;
    fs.writeFileSync(partial, `${JSON.stringify(content, null, 2)}\n`);
    fs.renameSync(partial, file);
}

export async function deriveCatalogs(log: (line: string) => void): Promise<void> {
    const { reachable, skipped } = partitionByReachability(Object.values(CONNECTOR_PLUGINS));
    for (const s of skipped)
        log(
            `${s.id}: no catalog (${s.reason}); a shipped config that uses ${CONNECTOR_PLUGINS[s.id].connectorClass} fails the contract tests`,
        );
    const stale = reachable.filter((p) => !isCurrent(connectorCatalogFile(p)));
    if (stale.length === 0 && isCurrent(kafkaConnectCatalogFile())) {
        log(`Kafka Connect ${KAFKA_VERSION} and ${reachable.map((p) => p.id).join(", ")} catalogs (cached) in ${CATALOG_DIR}`);
        return;
    }
    const started = Date.now();
    const classpath = await resolveKafkaClasspath(log);
    const { resolved } = await resolvePlugins(log, stale);
    log(`asking the ConfigDefs of Kafka Connect ${KAFKA_VERSION}${stale.length > 0 ? ` and ${stale.map((p) => p.id).join(", ")}` : ""}`);
    const output = await runTool(
        classpath,
        {
            plugins: resolved.map((r) => ({
                id: r.id,
                dir: r.dir,
                connectorClass: r.connectorClass,
                prefixConstants: PREFIX_CONSTANTS[r.id],
            })),
        },
        log,
    );
    writeAtomically(kafkaConnectCatalogFile(), { fingerprint: FINGERPRINT, ...output.kafka });
    for (const plugin of stale) {
        const file = connectorCatalogFile(plugin);
        writeAtomically(file, {
            fingerprint: FINGERPRINT,
            plugin: plugin.id,
            archiveSha512: plugin.archive.sha512,
            ...output.plugins[plugin.id],
        });
        // Catalogs of earlier pins of this plugin.
        for (const old of fs.readdirSync(path.dirname(file)))
            if (old !== path.basename(file)) fs.rmSync(path.join(path.dirname(file), old), { force: true });
    }
    log(`catalogs derived in ${((Date.now() - started) / 1000).toFixed(1)}s into ${CATALOG_DIR}`);
}

if (require.main === module) {
    const log = (line: string) => console.log(`[catalogs] ${line}`);
    deriveCatalogs(log)
        .then(() => deriveConverterCatalog(log))
        .catch((err: Error) => {
            console.error(`[catalogs] ${err.message}`);
            process.exit(1);
        });
}
