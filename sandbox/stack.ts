/**
 * The sandbox's stack: a dev-environment stack config with the two seed-004 pipelines, pointed at
 * the local databases and parsed by the stack's own config layer, so every default and rule that
 * applies to a deployed stack applies here too.
 */
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { parseStackSpec } from "../plan/stack-spec";
import type { PipelineSpec, StackSpec } from "../model/spec";
import type { Serialization } from "../model/schema-registry";
import type { ConnectorContext } from "../connectors/context";
import { CREDENTIAL_KEYS, sinkCredentialsSecretName, sourceCredentialsSecretName } from "../model/naming";
import type { RunningDatabase } from "./databases";
import { REPO_ROOT } from "./paths";

interface LocalEndpoints {
    bootstrapServers: string;
    postgresSource: RunningDatabase;
    mariaDbSource: RunningDatabase;
    target: RunningDatabase;
    /** Set: the connectors write Avro, registering schemas at this registry (sandbox/schema-registry.ts); unset: JSON. */
    schemaRegistryUrl?: string;
    /** Set: the stack's tracing is on and the worker exports its spans here (sandbox/jaeger.ts). */
    otlpEndpoint?: string;
}

/** The target database and one schema per pipeline in it. */
export const TARGET_DATABASE = "warehouse";
export const PIPELINES = { postgres: "shop", mysql: "inventory" } as const;
/** The Iceberg SQL catalog's database on the target server, apart from the JDBC sink's. */
export const CATALOG_DATABASE = "iceberg_catalog";
/**
 * Stands in for the object-storage warehouse the stack requires (s3:// only); sandbox/lakehouse.ts
 * maps every path under it to the instance's local warehouse folder.
 */
export const SANDBOX_WAREHOUSE_URI = "s3://sandbox-lakehouse/warehouse";

/**
 * The dev stack's seed-004 destinations, read from Pulumi.dev.yaml so the sandbox writes exactly the
 * tables a deployed dev stack does, not a copy that drifts from it.
 */
function devStackDestinations(file = path.join(REPO_ROOT, "Pulumi.dev.yaml")): Record<string, unknown[]> {
    const config = (parseYaml(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config;
    const pipelines = config["cdc-pipeline:pipelines"] as { name: string; destinations?: unknown[] }[];
    return Object.fromEntries(pipelines.map((p) => [p.name, p.destinations ?? []]));
}

/** The dev stack's monitoring settings: the sandbox's Prometheus loads the alerts the dev stack renders. */
function devStackMonitoring(file = path.join(REPO_ROOT, "Pulumi.dev.yaml")): Record<string, unknown> {
    const config = (parseYaml(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config;
    return (config["cdc-pipeline:monitoring"] as Record<string, unknown> | undefined) ?? {};
}

/** The dev stack's wire format, so the demo runs what a deployed dev stack runs unless told otherwise. */
export function devStackSerialization(file = path.join(REPO_ROOT, "Pulumi.dev.yaml")): Serialization {
    const config = (parseYaml(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config;
    return config["cdc-pipeline:serialization"] === "avro" ? "avro" : "json";
}

/** Raw stack config, the shape Pulumi.<stack>.yaml holds under `cdc-pipeline:`. */
export function sandboxStackConfig(e: LocalEndpoints): Record<string, unknown> {
    const destinations = devStackDestinations();
    const sink = (schema: string) => ({
        host: e.target.host,
        port: e.target.port,
        database: TARGET_DATABASE,
        schema,
        autoCreate: true,
        autoEvolve: true,
    });
    return {
        environment: "dev",
        namespace: "cdc-sandbox",
        ...(e.schemaRegistryUrl ? { serialization: "avro", schemaRegistry: { url: e.schemaRegistryUrl } } : { serialization: "json" }),
        kafka: { clusterName: "sandbox", bootstrapServers: e.bootstrapServers },
        connect: {
            name: "cdc-sandbox",
            // Required by the stack for Strimzi's image build; the sandbox loads plugins from .cache instead.
            outputImage: "localhost/cdc-sandbox-connect:unused",
        },
        // The sandbox's own Prometheus (sandbox/prometheus.ts) scrapes the worker and the writers and evaluates the rules.
        monitoring: { ...devStackMonitoring(), enabled: true },
        ...(e.otlpEndpoint ? { tracing: { otlpEndpoint: e.otlpEndpoint } } : {}),
        // No Kubernetes either, so no NetworkPolicy, and no network its stand-in hosts could be placed in.
        network: { enabled: false },
        lakehouse: {
            // Required by the stack for the Deployment; the sandbox runs the writer from the venv instead.
            image: "localhost/cdc-sandbox-lakehouse:unused",
            warehouse: SANDBOX_WAREHOUSE_URI,
            catalog: { host: e.target.host, port: e.target.port, database: CATALOG_DATABASE, username: e.target.user, sslMode: "disable" },
        },
        pipelines: [
            {
                name: PIPELINES.postgres,
                source: {
                    kind: "postgres",
                    host: e.postgresSource.host,
                    port: e.postgresSource.port,
                    database: e.postgresSource.database,
                    tables: [
                        { name: "public.customers", primaryKey: ["customer_id"] },
                        { name: "public.orders", primaryKey: ["order_id"] },
                        { name: "public.cdc_schema_evolution_test", primaryKey: ["id"] },
                    ],
                },
                sink: sink(PIPELINES.postgres),
                topics: { partitions: 1 },
                destinations: destinations[PIPELINES.postgres],
            },
            {
                name: PIPELINES.mysql,
                source: {
                    kind: "mariadb",
                    host: e.mariaDbSource.host,
                    port: e.mariaDbSource.port,
                    database: e.mariaDbSource.database,
                    tables: [
                        { name: `${e.mariaDbSource.database}.products`, primaryKey: ["product_id"] },
                        { name: `${e.mariaDbSource.database}.inventory_transactions`, primaryKey: ["transaction_id"] },
                    ],
                },
                sink: sink(PIPELINES.mysql),
                topics: { partitions: 1 },
                destinations: destinations[PIPELINES.mysql],
            },
        ],
    };
}

export function sandboxStackSpec(e: LocalEndpoints): StackSpec {
    return parseStackSpec(sandboxStackConfig(e)).spec;
}

/**
 * Kafka's DirectoryConfigProvider reads `<dir>/<key>`: the same layout as a Kubernetes Secret mounted
 * as a volume, so `${dir:<secrets>/<secret>:<key>}` mirrors Strimzi's `${secrets:<ns>/<secret>:<key>}`.
 */
export function sandboxConnectorContext(bootstrapServers: string, secretsDir: string): ConnectorContext {
    return {
        bootstrapServers,
        secretRef: (secretName, key) => `\${dir:${path.join(secretsDir, secretName)}:${key}}`,
        kafkaClientSecurity: {},
    };
}

interface Credentials {
    username: string;
    password: string;
}

function writeSecret(secretsDir: string, secretName: string, credentials: Credentials): void {
    const dir = path.join(secretsDir, secretName);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dir, CREDENTIAL_KEYS.username), credentials.username, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, CREDENTIAL_KEYS.password), credentials.password, { mode: 0o600 });
}

/** Every credential Secret the stack's connectors reference, written where the dir provider reads. */
export function writePipelineSecrets(
    secretsDir: string,
    pipelines: readonly PipelineSpec[],
    credentialsFor: (pipeline: PipelineSpec, role: "source" | "target") => Credentials,
): void {
    for (const p of pipelines) {
        writeSecret(secretsDir, sourceCredentialsSecretName(p), credentialsFor(p, "source"));
        writeSecret(secretsDir, sinkCredentialsSecretName(p), credentialsFor(p, "target"));
    }
}
