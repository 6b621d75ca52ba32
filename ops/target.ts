/**
 * Which deployment a `cdc` command talks to, and how. Two kinds of target:
 *
 * - a sandbox (`--sandbox <name>`, default `demo`, or CDC_SANDBOX): the running local sandbox writes
 *   `.sandbox/<name>/ops-target.json` at start (Connect URL, Kafka bootstrap, secrets folder, database URLs,
 *   the raw stack config), and the target is rebuilt from that file;
 * - a deployed stack (`--stack <name>` reads `Pulumi.<name>.yaml`, or `--stack <file.yaml>`): the stack config
 *   goes through the same parser `pulumi up` uses, and the endpoints come from flags, environment or the
 *   stack's defaults (see `resolveTarget`).
 *
 * Kafka TLS and SASL settings come only from environment variables naming files (KAFKA_ENV), never from a
 * flag: a password on a command line ends up in shell history and `ps`.
 *
 * `mode` says how connector writes are made: `rest` through Connect's REST API (the sandbox), `strimzi`
 * through the KafkaConnector resources (a cluster with `use-connector-resources`, where the operator
 * reverts REST writes). Reads go through Connect REST in both modes.
 */
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { parseStackSpec } from "../plan/stack-spec";
import { SECRET_CONFIG_KEYS } from "../config/schema";
import type { Flags } from "../model/args";
import type { StackSpec } from "../model/spec";
import { UnreachableError, UsageError } from "./command";
import { ConnectClient } from "./connect-client";

/** Spread into a command's flag spec next to OUTPUT_FLAGS; `TARGET_USAGE` documents them. */
export const TARGET_FLAGS = {
    sandbox: { type: "string" },
    stack: { type: "string" },
    "connect-url": { type: "string" },
    "bootstrap-servers": { type: "string" },
    mode: { type: "string" },
} as const;

export type TargetFlags = Flags<typeof TARGET_FLAGS>;

/** Lines for a command's usage text, after its own flags. */
export const TARGET_USAGE = [
    "  --sandbox <name>             the local sandbox named <name> (default: $CDC_SANDBOX or demo)",
    "  --stack <name|file.yaml>     a deployed stack: Pulumi.<name>.yaml, or that file",
    "  --connect-url <url>          Kafka Connect REST (default: $CDC_CONNECT_URL, else the stack's <connect>-connect-api Service)",
    "  --bootstrap-servers <list>   Kafka (default: $CDC_BOOTSTRAP_SERVERS, else the stack's kafka.bootstrapServers)",
    "  --mode rest|strimzi          how connector writes are made (default: rest for a sandbox, strimzi for a stack)",
    "  --json                       one JSON document on stdout instead of a table",
].join("\n");

export const DEFAULT_SANDBOX = "demo";
export const TARGET_FILE_NAME = "ops-target.json";

/** Environment variables for Kafka client security (all optional; files are read, never the secrets themselves). */
export const KAFKA_ENV = {
    /** "true" or "false"; a stack defaults to its kafka.tls, a sandbox to false. */
    tls: "CDC_KAFKA_TLS",
    /** PEM file of the cluster CA (Strimzi: the `<cluster>-cluster-ca-cert` Secret's ca.crt). */
    caFile: "CDC_KAFKA_CA_FILE",
    /** PEM client certificate and key for mutual TLS (Strimzi KafkaUser with tls authentication: user.crt, user.key). */
    certFile: "CDC_KAFKA_CERT_FILE",
    keyFile: "CDC_KAFKA_KEY_FILE",
    /** SASL mechanism (Strimzi scram-sha-512: SCRAM-SHA-512); with a username and a password file. */
    saslMechanism: "CDC_KAFKA_SASL_MECHANISM",
    saslUsername: "CDC_KAFKA_SASL_USERNAME",
    saslPasswordFile: "CDC_KAFKA_SASL_PASSWORD_FILE",
} as const;

const KAFKA_USAGE = "Kafka security is set by environment variables, see docs/ops.md (Targets)";

export type TargetMode = "rest" | "strimzi";
export const TARGET_MODES: readonly TargetMode[] = ["rest", "strimzi"];

export type SaslMechanism = "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";
const SASL_MECHANISMS: readonly SaslMechanism[] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

/** How to reach Kafka; ops/kafka-client.ts turns it into client options. */
export interface KafkaConnection {
    bootstrapServers: string[];
    /** PEM contents (not paths), read at resolve time so a missing file fails before any connection. */
    tls?: { ca?: string; cert?: string; key?: string };
    sasl?: { mechanism: SaslMechanism; username: string; password: string };
}

/** What the sandbox writes to `.sandbox/<name>/ops-target.json` (file mode 0600: it holds throwaway database URLs with passwords). */
export interface SandboxTargetFile {
    name: string;
    connectUrl: string;
    bootstrapServers: string;
    /** Where the Secrets the connectors reference live: `<secretsDir>/<secret>/<key>`, like a mounted Kubernetes Secret. */
    secretsDir: string;
    /** Connection URLs (with the throwaway passwords) of the sandbox's databases. */
    databases: { postgresSource: string; mariaDbSource: string; target: string };
    /** The raw stack config the sandbox parsed (Pulumi.<stack>.yaml's `cdc-pipeline:` keys without the prefix). */
    stackConfig: Record<string, unknown>;
    /** When the sandbox started, ISO 8601. */
    startedAt: string;
    /** The sandbox's Prometheus (sandbox/prometheus.ts), the worker's JMX exporter and the Pushgateway, once they run. */
    metrics?: { prometheusUrl: string; connectMetricsUrl: string; pushgatewayUrl?: string };
}

export interface Target {
    kind: "sandbox" | "stack";
    /** The sandbox's or the stack's name, for messages. */
    name: string;
    mode: TargetMode;
    spec: StackSpec;
    /** Kubernetes namespace of the KafkaConnectors (strimzi mode). */
    namespace: string;
    connectUrl: string;
    kafka: KafkaConnection;
    /** Only for a sandbox target: its folder, secrets and database URLs. */
    sandbox?: { runDir: string; secretsDir: string; databases: SandboxTargetFile["databases"] };
}

/** The repository (or installed package) root: the nearest folder above this file with a package.json. */
function packageRoot(): string {
    for (let dir = __dirname; ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "package.json"))) return dir;
        if (path.dirname(dir) === dir) return process.cwd();
    }
}

/** Where sandboxes keep their state: CDC_SANDBOX_DIR, else `<repo>/.sandbox` (sandbox/paths.ts's RUN_DIR). */
export function sandboxRoot(env: NodeJS.ProcessEnv): string {
    return env.CDC_SANDBOX_DIR ?? path.join(packageRoot(), ".sandbox");
}

export function sandboxTargetPath(runDir: string): string {
    return path.join(runDir, TARGET_FILE_NAME);
}

/** Called by the sandbox once its servers run; readable by its owner only. */
export function writeSandboxTarget(runDir: string, file: SandboxTargetFile): void {
    fs.writeFileSync(sandboxTargetPath(runDir), JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
}

/**
 * The Pulumi stack file's project keys (`cdc-pipeline:<key>`) without the prefix, as the config layer's
 * parser takes them. Secret keys are left out: they are encrypted in the file and no command needs them.
 */
export function rawConfigOfStackFile(text: string, file: string, defaults: Record<string, unknown> = {}): Record<string, unknown> {
    const doc = parseYaml(text) as { config?: Record<string, unknown> } | null;
    if (!doc?.config) throw new Error(`${file} has no "config:" section; is it a Pulumi stack file?`);
    const secret = new Set<string>(SECRET_CONFIG_KEYS);
    // The Pulumi CLI fills in Pulumi.yaml's defaults for the keys a stack leaves out; so does this.
    const raw: Record<string, unknown> = Object.fromEntries(Object.entries(defaults).filter(([key]) => !secret.has(key)));
    for (const [fullKey, value] of Object.entries(doc.config)) {
        if (!fullKey.startsWith("cdc-pipeline:")) continue;
        const key = fullKey.slice("cdc-pipeline:".length);
        if (!secret.has(key)) raw[key] = value;
    }
    return raw;
}

/** The `default` of each project key Pulumi.yaml declares with one. */
export function projectDefaults(pulumiYaml: string): Record<string, unknown> {
    const project = parseYaml(pulumiYaml) as { config?: Record<string, { default?: unknown } | null> } | null;
    const out: Record<string, unknown> = {};
    for (const [key, declaration] of Object.entries(project?.config ?? {})) {
        if (declaration?.default !== undefined) out[key.replace(/^cdc-pipeline:/, "")] = declaration.default;
    }
    return out;
}

function readFileOrUnreachable(what: string, file: string, fix: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new UnreachableError(what, file, (e as NodeJS.ErrnoException).code ?? (e as Error).message, fix);
    }
}

function parseSpec(raw: Record<string, unknown>, origin: string): StackSpec {
    try {
        return parseStackSpec(raw).spec;
    } catch (e) {
        throw new Error(`the stack config in ${origin} does not parse: ${(e as Error).message}`);
    }
}

function sandboxTarget(name: string, env: NodeJS.ProcessEnv, usage: string): Omit<Target, "mode" | "kafka"> & { bootstrapServers: string } {
    // A name, not a path: "." and ".." would read the sandbox folder's own parent.
    if (!/^[\w.-]+$/.test(name) || name === "." || name === "..")
        throw new UsageError(`--sandbox needs a sandbox name like "demo" or "e2e", got ${JSON.stringify(name)}`, usage);
    const runDir = path.join(sandboxRoot(env), name);
    const file = sandboxTargetPath(runDir);
    const text = readFileOrUnreachable(
        `sandbox "${name}"`,
        file,
        `no running sandbox wrote it: start one (npm run demo starts "demo"), or pass --sandbox <name> or --stack <name>`,
    );
    const t = JSON.parse(text) as SandboxTargetFile;
    return {
        kind: "sandbox",
        name,
        spec: parseSpec(t.stackConfig, file),
        namespace: "",
        connectUrl: t.connectUrl,
        bootstrapServers: t.bootstrapServers,
        sandbox: { runDir, secretsDir: t.secretsDir, databases: t.databases },
    };
}

function stackTarget(stack: string, usage: string): Omit<Target, "mode" | "kafka" | "connectUrl"> {
    if (stack.trim() === "" || /[\0\r\n]/.test(stack))
        throw new UsageError(
            `--stack needs a stack name (for Pulumi.<name>.yaml) or a YAML file path, got ${JSON.stringify(stack)}`,
            usage,
        );
    const file = /\.ya?ml$/.test(stack) ? path.resolve(stack) : path.join(packageRoot(), `Pulumi.${stack}.yaml`);
    const text = readFileOrUnreachable(
        `stack file for "${stack}"`,
        file,
        `pass --stack <name> for a Pulumi.<name>.yaml in ${packageRoot()}, or a file path`,
    );
    const project = path.join(path.dirname(file), "Pulumi.yaml");
    const defaults = fs.existsSync(project) ? projectDefaults(fs.readFileSync(project, "utf8")) : {};
    const spec = parseSpec(rawConfigOfStackFile(text, file, defaults), file);
    return { kind: "stack", name: stack, spec, namespace: spec.namespace };
}

/** Kafka client security from KAFKA_ENV; `tlsDefault` when CDC_KAFKA_TLS is unset. */
export function kafkaSecurity(env: NodeJS.ProcessEnv, tlsDefault: boolean): Pick<KafkaConnection, "tls" | "sasl"> {
    const flag = env[KAFKA_ENV.tls];
    if (flag !== undefined && flag !== "true" && flag !== "false") {
        throw new UsageError(`${KAFKA_ENV.tls} must be "true" or "false", got ${JSON.stringify(flag)}`, KAFKA_USAGE);
    }
    const tlsOn = flag === undefined ? tlsDefault : flag === "true";
    const pem = (variable: string) => {
        const file = env[variable];
        return file === undefined ? undefined : readFileOrUnreachable(`${variable}`, file, `point ${variable} at a readable PEM file`);
    };
    const out: Pick<KafkaConnection, "tls" | "sasl"> = {};
    if (tlsOn) out.tls = { ca: pem(KAFKA_ENV.caFile), cert: pem(KAFKA_ENV.certFile), key: pem(KAFKA_ENV.keyFile) };
    const mechanism = env[KAFKA_ENV.saslMechanism];
    if (mechanism !== undefined) {
        if (!SASL_MECHANISMS.includes(mechanism as SaslMechanism)) {
            throw new UsageError(
                `${KAFKA_ENV.saslMechanism} must be one of ${SASL_MECHANISMS.join(", ")}, got ${JSON.stringify(mechanism)}`,
                KAFKA_USAGE,
            );
        }
        const username = env[KAFKA_ENV.saslUsername];
        const passwordFile = env[KAFKA_ENV.saslPasswordFile];
        if (!username || !passwordFile) {
            throw new UsageError(
                `${KAFKA_ENV.saslMechanism} needs ${KAFKA_ENV.saslUsername} and ${KAFKA_ENV.saslPasswordFile} (a file holding the password)`,
                KAFKA_USAGE,
            );
        }
        const password = readFileOrUnreachable(
            KAFKA_ENV.saslPasswordFile,
            passwordFile,
            `point ${KAFKA_ENV.saslPasswordFile} at the file holding the password`,
        );
        out.sasl = { mechanism: mechanism as SaslMechanism, username, password: password.trimEnd() };
    }
    return out;
}

function parseMode(flag: string | undefined, fallback: TargetMode, usage: string): TargetMode {
    if (flag === undefined) return fallback;
    if (!TARGET_MODES.includes(flag as TargetMode))
        throw new UsageError(`--mode must be rest or strimzi, got ${JSON.stringify(flag)}`, usage);
    return flag as TargetMode;
}

/**
 * The target a command's flags name. A sandbox's endpoints come from its target file (flags override them);
 * a stack's Connect URL defaults to Strimzi's in-cluster REST Service, which from outside the cluster needs
 * `kubectl port-forward svc/<connect>-connect-api 8083` and `--connect-url http://localhost:8083`.
 */
export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv, usage = ""): Target {
    if (flags.sandbox !== undefined && flags.stack !== undefined)
        throw new UsageError("--sandbox and --stack name two targets; pass one", usage);
    const connectOverride = flags["connect-url"] ?? env.CDC_CONNECT_URL;
    const bootstrapOverride = flags["bootstrap-servers"] ?? env.CDC_BOOTSTRAP_SERVERS;
    if (flags.stack === undefined) {
        const mode = parseMode(flags.mode, "rest", usage);
        if (mode === "strimzi") throw new UsageError("--mode strimzi needs a Kubernetes cluster; a sandbox has none (use --stack)", usage);
        const { bootstrapServers, ...t } = sandboxTarget(flags.sandbox ?? env.CDC_SANDBOX ?? DEFAULT_SANDBOX, env, usage);
        return {
            ...t,
            mode,
            connectUrl: connectOverride ?? t.connectUrl,
            kafka: { bootstrapServers: splitServers(bootstrapOverride ?? bootstrapServers), ...kafkaSecurity(env, false) },
        };
    }
    const t = stackTarget(flags.stack, usage);
    return {
        ...t,
        mode: parseMode(flags.mode, "strimzi", usage),
        connectUrl: connectOverride ?? `http://${t.spec.connect.name}-connect-api.${t.spec.namespace}.svc:8083`,
        kafka: {
            bootstrapServers: splitServers(bootstrapOverride ?? t.spec.kafka.bootstrapServers),
            ...kafkaSecurity(env, t.spec.kafka.tls),
        },
    };
}

function splitServers(list: string): string[] {
    return list
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
}

/** Connect REST client for the target; unreachable endpoints surface as UnreachableError (exit 3). */
export function connectClient(target: Target, timeoutMs = 15_000): ConnectClient {
    return new ConnectClient(target.connectUrl, timeoutMs);
}

/** One line naming the target, for the head of human output and for error messages. */
export function describeTarget(t: Target): string {
    return `${t.kind} ${t.name} (${t.mode} mode; Connect ${t.connectUrl}; Kafka ${t.kafka.bootstrapServers.join(",")})`;
}
