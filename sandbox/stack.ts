/**
 * The sandbox's stack: a dev-environment stack config with the two seed-004 pipelines, pointed at
 * the local databases and parsed by the stack's own config layer, so every default and rule that
 * applies to a deployed stack applies here too.
 */
import * as fs from "fs";
import * as path from "path";
import { parseStackSpec } from "../config/resolve";
import type { PipelineSpec, StackSpec } from "../config/spec";
import type { ConnectorContext } from "../connectors/context";
import { CREDENTIAL_KEYS, sinkCredentialsSecretName, sourceCredentialsSecretName } from "../plan/naming";
import type { RunningDatabase } from "./databases";

export interface LocalEndpoints {
    bootstrapServers: string;
    postgresSource: RunningDatabase;
    mariaDbSource: RunningDatabase;
    target: RunningDatabase;
}

/** The target database and one schema per pipeline in it. */
export const TARGET_DATABASE = "warehouse";
export const PIPELINES = { postgres: "shop", mysql: "inventory" } as const;

/** Raw stack config, the shape Pulumi.<stack>.yaml holds under `cdc-pipeline:`. */
export function sandboxStackConfig(e: LocalEndpoints): Record<string, unknown> {
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
        kafka: { clusterName: "sandbox", bootstrapServers: e.bootstrapServers },
        connect: {
            name: "cdc-sandbox",
            // Required by the stack for Strimzi's image build; the sandbox loads plugins from .cache instead.
            outputImage: "localhost/cdc-sandbox-connect:unused",
        },
        // No Prometheus here: nothing scrapes the local worker or evaluates alerts.
        monitoring: { enabled: false },
        // No Kubernetes either, so no NetworkPolicy, and no network its stand-in hosts could be placed in.
        network: { enabled: false },
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

export interface Credentials {
    username: string;
    password: string;
}

export function writeSecret(secretsDir: string, secretName: string, credentials: Credentials): void {
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
