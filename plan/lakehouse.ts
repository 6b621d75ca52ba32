/**
 * The lakehouse writers as plain objects: the configuration file each writer reads (the exact format of
 * lakehouse/schema/writer-config.schema.json, the contract with the Python writer), and the Kubernetes objects
 * that run it: per pipeline with destinations a Deployment, its ConfigMap, a maintenance CronJob (seed §9.3) and a
 * PodMonitor and a KafkaAccess (the Kafka cluster's CA and the credential of the writer's own KafkaUser,
 * plan/kafka-users.ts); for all of them one ServiceAccount (the Vault identity the operator syncs their Secrets with).
 * components/lakehouse.ts creates them.
 *
 * Credentials never appear in the file: it names files (the catalog password, the Kafka credential and CA)
 * that are mounted Secrets, and the object-storage keys reach the process as environment variables from a Secret,
 * where delta-rs and pyarrow's S3 client read them.
 */
import { createHash } from "crypto";
import { MONITORING_API_VERSION } from "../model/prometheus-operator";
import type { DestinationSpec, LakehouseSpec, PipelineSpec, StackSpec } from "../model/spec";
import { readsCaFile, TLS_MODES } from "../model/tls";
import { registryCredentialsSecretName } from "../model/schema-registry";
import { CA_CERT_KEY, KAFKA_ACCESS_KEYS, kafkaAccessFor, MANAGED_BY_LABELS, needsKafkaAccess } from "./connect-cluster";
import { Endpoint, endpointRules, kafkaRule, networkPolicyBody, objectStorageEndpoint } from "./network";
import {
    lakehouseCatalogSecretName,
    lakehouseConfigMapName,
    lakehouseConsumerGroup,
    lakehouseKafkaAccessName,
    lakehouseKafkaUserName,
    lakehouseMaintenanceName,
    lakehouseObjectStorageSecretName,
    lakehouseServiceAccountName,
    lakehouseWriterName,
    validationResultsLocation,
} from "../model/naming";
import { DATABASE_CA_DIR } from "./reconciler-job";
import { containerSecurityContext, podSecurityContext } from "./workload-security";

export const LAKEHOUSE_CONFIG_DIR = "/etc/cdc-lakehouse";
/** JSON: the writer reads YAML or JSON and picks by extension; JSON is also what policies can parse. */
export const LAKEHOUSE_CONFIG_FILE = "lakehouse.json";
export const KAFKA_SECRET_DIR = "/var/run/secrets/cdc/kafka";
export const CATALOG_SECRET_DIR = "/var/run/secrets/cdc/catalog";
export const REGISTRY_SECRET_DIR = "/var/run/secrets/cdc/schema-registry";
export const REGISTRY_CA_DIR = "/var/run/secrets/cdc/schema-registry-ca";
/** The registry CA as PEM: cert-manager writes ca.crt beside the PKCS#12 truststore Connect reads (REGISTRY_TRUSTSTORE_KEYS). */
const REGISTRY_CA_KEY = "ca.crt";
const CATALOG_PASSWORD_KEY = "password";
/** The image's ENTRYPOINT; the Deployment and the CronJob pass the subcommand as arguments. */
export const WRITER_ENTRYPOINT = ["python", "-m", "cdc_lakehouse"] as const;
export const HEALTH_PATH = "/healthz";
const METRICS_PATH = "/metrics";
/** The one SQL catalog every Iceberg destination of the stack is registered in. */
const CATALOG_NAME = "lakehouse";
/** Keys of the object-storage secret in Vault (lakehouse.storage.credentialsPath), synced unchanged. */
const OBJECT_STORAGE_KEYS = { accessKeyId: "access_key_id", secretAccessKey: "secret_access_key" } as const;
export const CONFIG_HASH_ANNOTATION = "cdc.pipeline/config-sha256";
const HTTP_PORT_NAME = "http";

// ---------------------------------------------------------------------------------------------
// The writer's configuration file (snake_case: the contract's names)

interface WriterKafkaConfig {
    bootstrap_servers: string;
    security_protocol: "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL";
    tls?: { ca_file: string; cert_file?: string; key_file?: string };
    sasl?: { mechanism: "SCRAM-SHA-512"; username: string; password_file: string };
}

interface WriterCatalogConfig {
    uri: string;
    password_file: string;
    warehouse: string;
    properties?: Record<string, string>;
}

export interface WriterDestinationConfig {
    name: string;
    format: "deltalake" | "iceberg";
    topic: string;
    location?: string;
    catalog?: string;
    namespace?: string;
    write_mode: "append" | "upsert";
    primary_key: string[];
    partition_by?: string;
    sort_by?: string[];
    columns?: { name: string; type: string; required: boolean }[];
    metadata_columns?: string[];
    source_system_label?: string;
    table_properties?: Record<string, string>;
    derive?: { kind: "customers_analytics"; orders_table: string };
    quality_checks?: { type: string; enabled: boolean; tolerance?: number; columns?: string[]; threshold_seconds?: number }[];
}

interface WriterPipelineConfig {
    pipeline_id: string;
    consumer_group: string;
    source: { system: string; before_image?: "full" | "key" };
    dead_letter_topic: string;
    observability: { logging_level: string; metrics_enabled: boolean; health_check_port: number };
    validation_results?: { format: "deltalake"; location: string; interval_seconds: number };
    maintenance: {
        vacuum_retention_hours: number;
        change_data_feed_retention_hours: number;
        snapshot_retention_hours: number;
        orphan_file_retention_hours: number;
    };
    destinations: WriterDestinationConfig[];
}

interface WriterRegistryConfig {
    url: string;
    tls?: { ca_file: string };
    basic_auth?: { username_file: string; password_file: string };
}

export interface WriterConfigFile {
    kafka: WriterKafkaConfig;
    serialization?: "avro";
    schema_registry?: WriterRegistryConfig;
    catalogs?: Record<string, WriterCatalogConfig>;
    pipelines: [WriterPipelineConfig];
}

/** Pipelines that run a writer: those with destinations, once the stack has a lakehouse section. */
export function lakehousePipelines(spec: StackSpec): PipelineSpec[] {
    return spec.lakehouse ? spec.pipelines.filter((p) => p.destinations.length > 0) : [];
}

function requireLakehouse(spec: StackSpec): LakehouseSpec {
    // config/lakehouse.ts refuses destinations without a lakehouse section, the only case that renders writers.
    if (!spec.lakehouse) throw new Error("no lakehouse section in the spec");
    return spec.lakehouse;
}

/** The writer's Kafka client: Connect's listener, authenticated as the writer's own KafkaUser. */
function kafkaConfig(spec: StackSpec, lakehouse: LakehouseSpec, pipeline: PipelineSpec): WriterKafkaConfig {
    const { tls, authentication } = spec.kafka;
    const file = (key: string): string => `${KAFKA_SECRET_DIR}/${key}`;
    const bootstrap_servers = spec.kafka.bootstrapServers;
    const ca_file = file(KAFKA_ACCESS_KEYS.caCert);
    switch (authentication) {
        case "none":
            return { bootstrap_servers, security_protocol: tls ? "SSL" : "PLAINTEXT", ...(tls ? { tls: { ca_file } } : {}) };
        case "tls":
            return {
                bootstrap_servers,
                security_protocol: "SSL",
                tls: { ca_file, cert_file: file(KAFKA_ACCESS_KEYS.userCert), key_file: file(KAFKA_ACCESS_KEYS.userKey) },
            };
        case "scram-sha-512":
            return {
                bootstrap_servers,
                security_protocol: tls ? "SASL_SSL" : "SASL_PLAINTEXT",
                ...(tls ? { tls: { ca_file } } : {}),
                sasl: {
                    mechanism: "SCRAM-SHA-512",
                    username: lakehouseKafkaUserName(lakehouse, pipeline),
                    password_file: file(KAFKA_ACCESS_KEYS.password),
                },
            };
    }
}

/** The binding Secret's keys the writer reads: the CA for a TLS listener and its user's credential. */
function kafkaAccessKeys(spec: StackSpec): string[] {
    const credential: Record<typeof spec.kafka.authentication, string[]> = {
        none: [],
        "scram-sha-512": [KAFKA_ACCESS_KEYS.password],
        tls: [KAFKA_ACCESS_KEYS.userCert, KAFKA_ACCESS_KEYS.userKey],
    };
    return [...(spec.kafka.tls ? [KAFKA_ACCESS_KEYS.caCert] : []), ...credential[spec.kafka.authentication]];
}

const usesCatalog = (pipeline: PipelineSpec): boolean => pipeline.destinations.some((d) => d.format === "iceberg");

/** Whether the writers' catalog connection reads connect.databaseCaSecret, mounted where the reconciler has it. */
function catalogCaFile(spec: StackSpec): string | undefined {
    const catalog = spec.lakehouse?.catalog;
    if (!catalog || !spec.connect.databaseCaSecret || !readsCaFile(TLS_MODES.postgres[catalog.sslMode])) return undefined;
    return `${DATABASE_CA_DIR}/${CA_CERT_KEY}`;
}

/** SQLAlchemy's URL for pyiceberg's SqlCatalog; the writer adds the password from the mounted file. */
function catalogUri(spec: StackSpec): string {
    const catalog = requireLakehouse(spec).catalog;
    if (!catalog) throw new Error("no Iceberg catalog in the spec");
    const ca = catalogCaFile(spec);
    const user = encodeURIComponent(catalog.username);
    return `postgresql+psycopg2://${user}@${catalog.host}:${catalog.port}/${encodeURIComponent(catalog.database)}?sslmode=${catalog.sslMode}${ca ? `&sslrootcert=${ca}` : ""}`;
}

/** pyiceberg's FileIO takes region and endpoint as properties; delta-rs reads the same settings from the environment. */
function fileIoProperties(lakehouse: LakehouseSpec): Record<string, string> {
    const { region, endpoint } = lakehouse.storage;
    return { ...(region ? { "s3.region": region } : {}), ...(endpoint ? { "s3.endpoint": endpoint.replace(/\/$/, "") } : {}) };
}

function destinationConfig(d: DestinationSpec): WriterDestinationConfig {
    return {
        name: d.name,
        format: d.format,
        topic: d.topic,
        ...(d.format === "deltalake" ? { location: d.location! } : { catalog: CATALOG_NAME, namespace: d.namespace! }),
        write_mode: d.writeMode,
        primary_key: d.primaryKey,
        ...(d.partitionBy !== undefined ? { partition_by: d.partitionBy } : {}),
        ...(d.sortBy !== undefined ? { sort_by: d.sortBy } : {}),
        ...(d.columns ? { columns: d.columns.map((c) => ({ name: c.name, type: c.type, required: c.required })) } : {}),
        ...(d.metadataColumns ? { metadata_columns: [...d.metadataColumns] } : {}),
        ...(d.sourceSystemLabel !== undefined ? { source_system_label: d.sourceSystemLabel } : {}),
        ...(Object.keys(d.tableProperties).length > 0 ? { table_properties: d.tableProperties } : {}),
        ...(d.derive ? { derive: { kind: d.derive.kind, orders_table: d.derive.ordersTable } } : {}),
        ...(d.qualityChecks.length > 0
            ? {
                  quality_checks: d.qualityChecks.map((q) => ({
                      type: q.type,
                      enabled: q.enabled,
                      ...(q.type === "row_count" ? { tolerance: q.tolerance } : {}),
                      ...(q.columns ? { columns: q.columns } : {}),
                      ...(q.thresholdSeconds !== undefined ? { threshold_seconds: q.thresholdSeconds } : {}),
                  })),
              }
            : {}),
    };
}

/** Avro data topics: the registry's Confluent-compatible API, read with the readers' login (the sinks' too). */
function registryConfig(spec: StackSpec): Pick<WriterConfigFile, "serialization" | "schema_registry"> {
    const registry = spec.schemaRegistry;
    if (spec.serialization !== "avro" || !registry) return {};
    return {
        serialization: "avro",
        schema_registry: {
            url: `${registry.url}/apis/ccompat/v7`,
            ...(registry.truststoreSecret && registry.url.startsWith("https://")
                ? { tls: { ca_file: `${REGISTRY_CA_DIR}/${REGISTRY_CA_KEY}` } }
                : {}),
            ...(registry.authentication === "basic"
                ? { basic_auth: { username_file: `${REGISTRY_SECRET_DIR}/username`, password_file: `${REGISTRY_SECRET_DIR}/password` } }
                : {}),
        },
    };
}

function registryMounts(spec: StackSpec): Mount[] {
    const registry = spec.schemaRegistry;
    if (spec.serialization !== "avro" || !registry) return [];
    const mounts: Mount[] = [];
    if (registry.authentication === "basic") {
        const secretName = registryCredentialsSecretName(spec.connect.name, "reader");
        const items = ["username", "password"].map((key) => ({ key, path: key }));
        mounts.push({
            volume: { name: "schema-registry", secret: { secretName, items, defaultMode: READ_ONLY } },
            mount: { name: "schema-registry", mountPath: REGISTRY_SECRET_DIR, readOnly: true },
        });
    }
    if (registry.truststoreSecret && registry.url.startsWith("https://")) {
        const items = [{ key: REGISTRY_CA_KEY, path: REGISTRY_CA_KEY }];
        mounts.push({
            volume: { name: "schema-registry-ca", secret: { secretName: registry.truststoreSecret, items, defaultMode: READ_ONLY } },
            mount: { name: "schema-registry-ca", mountPath: REGISTRY_CA_DIR, readOnly: true },
        });
    }
    return mounts;
}

/** Quality checks write their results only where the file names a validation_results table; without one they never run. */
export function writerConfigFile(spec: StackSpec, pipeline: PipelineSpec): WriterConfigFile {
    const lakehouse = requireLakehouse(spec);
    const writer = pipeline.lakehouse;
    if (!writer) throw new Error(`pipeline ${pipeline.name} has no destinations`);
    const retention = lakehouse.maintenance.retentionHours;
    const checks = pipeline.destinations.some((d) => d.qualityChecks.some((q) => q.enabled));
    return {
        kafka: kafkaConfig(spec, lakehouse, pipeline),
        ...registryConfig(spec),
        ...(usesCatalog(pipeline)
            ? {
                  catalogs: {
                      [CATALOG_NAME]: {
                          uri: catalogUri(spec),
                          password_file: `${CATALOG_SECRET_DIR}/${CATALOG_PASSWORD_KEY}`,
                          warehouse: `${lakehouse.warehouse}/iceberg`,
                          ...(Object.keys(fileIoProperties(lakehouse)).length > 0 ? { properties: fileIoProperties(lakehouse) } : {}),
                      },
                  },
              }
            : {}),
        pipelines: [
            {
                pipeline_id: pipeline.name,
                consumer_group: lakehouseConsumerGroup(pipeline),
                source: { system: pipeline.source.kind, ...(writer.beforeImage ? { before_image: writer.beforeImage } : {}) },
                dead_letter_topic: writer.deadLetterTopic,
                observability: {
                    logging_level: writer.observability.loggingLevel,
                    metrics_enabled: writer.observability.metricsEnabled,
                    health_check_port: writer.observability.healthCheckPort,
                },
                ...(checks
                    ? {
                          validation_results: {
                              format: "deltalake" as const,
                              location: validationResultsLocation(lakehouse, pipeline),
                              interval_seconds: writer.qualityIntervalSeconds,
                          },
                      }
                    : {}),
                maintenance: {
                    vacuum_retention_hours: retention,
                    change_data_feed_retention_hours: retention,
                    snapshot_retention_hours: retention,
                    orphan_file_retention_hours: retention,
                },
                destinations: pipeline.destinations.map(destinationConfig),
            },
        ],
    };
}

export const renderWriterConfig = (file: WriterConfigFile): string => `${JSON.stringify(file, null, 2)}\n`;

// ---------------------------------------------------------------------------------------------
// Kubernetes objects

type Component = "writer" | "maintenance";

function selectorLabels(lakehouse: LakehouseSpec, pipeline: PipelineSpec, component: Component): Record<string, string> {
    return {
        "app.kubernetes.io/name": "cdc-lakehouse",
        "app.kubernetes.io/instance": lakehouseWriterName(lakehouse, pipeline),
        "app.kubernetes.io/component": component,
    };
}

const labels = (lakehouse: LakehouseSpec, pipeline: PipelineSpec, component: Component): Record<string, string> => ({
    ...MANAGED_BY_LABELS,
    ...selectorLabels(lakehouse, pipeline, component),
    "cdc.pipeline/name": pipeline.name,
});

const sharedLabels = (): Record<string, string> => ({ ...MANAGED_BY_LABELS, "app.kubernetes.io/name": "cdc-lakehouse" });

export function lakehouseServiceAccountBody(spec: StackSpec) {
    const lakehouse = requireLakehouse(spec);
    return {
        apiVersion: "v1" as const,
        kind: "ServiceAccount" as const,
        metadata: { name: lakehouseServiceAccountName(lakehouse), namespace: spec.namespace, labels: sharedLabels() },
        // The writers read files only; this identity is the Vault Secrets Operator's, not the pods'.
        automountServiceAccountToken: false,
    };
}

/** The binding Secret the writer reads the Kafka CA and its credential from, when it needs either. */
function kafkaAccessSecret(spec: StackSpec, lakehouse: LakehouseSpec, pipeline: PipelineSpec): string | undefined {
    return needsKafkaAccess(spec) ? lakehouseKafkaAccessName(lakehouse, pipeline) : undefined;
}

/**
 * Like Connect's KafkaAccess (plan/connect-cluster.ts), for the writer's own KafkaUser: Strimzi's User Operator owns
 * its credential in the Kafka cluster's namespace, where no Vault secret could reach it.
 */
export function lakehouseKafkaAccessBody(spec: StackSpec, pipeline: PipelineSpec) {
    const lakehouse = requireLakehouse(spec);
    const name = kafkaAccessSecret(spec, lakehouse, pipeline);
    return name
        ? kafkaAccessFor(spec, name, lakehouseKafkaUserName(lakehouse, pipeline), labels(lakehouse, pipeline, "writer"))
        : undefined;
}

export function lakehouseConfigMapBody(spec: StackSpec, pipeline: PipelineSpec) {
    const lakehouse = requireLakehouse(spec);
    return {
        apiVersion: "v1" as const,
        kind: "ConfigMap" as const,
        metadata: {
            name: lakehouseConfigMapName(lakehouse, pipeline),
            namespace: spec.namespace,
            labels: labels(lakehouse, pipeline, "writer"),
        },
        data: { [LAKEHOUSE_CONFIG_FILE]: renderWriterConfig(writerConfigFile(spec, pipeline)) },
    };
}

const READ_ONLY = 0o440;

/** Object storage for delta-rs (which reads AWS_* from the environment) and pyarrow; keys from the synced Secret. */
function storageEnv(lakehouse: LakehouseSpec) {
    const { region, endpoint } = lakehouse.storage;
    const secret = lakehouseObjectStorageSecretName(lakehouse);
    const fromSecret = (name: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: secret, key } } });
    return [
        ...(region ? [{ name: "AWS_REGION", value: region }] : []),
        ...(endpoint ? [{ name: "AWS_ENDPOINT_URL", value: endpoint.replace(/\/$/, "") }] : []),
        // config/lakehouse.ts refuses an http endpoint where the profile requires TLS.
        ...(endpoint?.startsWith("http://") ? [{ name: "AWS_ALLOW_HTTP", value: "true" }] : []),
        fromSecret("AWS_ACCESS_KEY_ID", OBJECT_STORAGE_KEYS.accessKeyId),
        fromSecret("AWS_SECRET_ACCESS_KEY", OBJECT_STORAGE_KEYS.secretAccessKey),
    ];
}

type KeyItems = { key: string; path: string }[];

interface Mount {
    volume: {
        name: string;
        configMap?: { name: string; items: KeyItems };
        secret?: { secretName: string; items: KeyItems; defaultMode: number };
        emptyDir?: { sizeLimit: string };
    };
    mount: { name: string; mountPath: string; readOnly?: boolean };
}

/** What both the writer and its maintenance job read: the file, the catalog password and CA, a writable /tmp. */
function commonMounts(spec: StackSpec, lakehouse: LakehouseSpec, pipeline: PipelineSpec): Mount[] {
    const mounts: Mount[] = [
        {
            volume: {
                name: "config",
                configMap: {
                    name: lakehouseConfigMapName(lakehouse, pipeline),
                    items: [{ key: LAKEHOUSE_CONFIG_FILE, path: LAKEHOUSE_CONFIG_FILE }],
                },
            },
            mount: { name: "config", mountPath: LAKEHOUSE_CONFIG_DIR, readOnly: true },
        },
    ];
    if (usesCatalog(pipeline)) {
        mounts.push({
            volume: {
                name: "catalog",
                secret: {
                    secretName: lakehouseCatalogSecretName(lakehouse),
                    items: [{ key: CATALOG_PASSWORD_KEY, path: CATALOG_PASSWORD_KEY }],
                    defaultMode: READ_ONLY,
                },
            },
            mount: { name: "catalog", mountPath: CATALOG_SECRET_DIR, readOnly: true },
        });
        const caSecret = spec.connect.databaseCaSecret;
        if (caSecret && catalogCaFile(spec)) {
            mounts.push({
                volume: {
                    name: "database-ca",
                    secret: { secretName: caSecret, items: [{ key: CA_CERT_KEY, path: CA_CERT_KEY }], defaultMode: READ_ONLY },
                },
                mount: { name: "database-ca", mountPath: DATABASE_CA_DIR, readOnly: true },
            });
        }
    }
    // The only writable path (HOME points here in the image): for whatever temporary or cache files the libraries write.
    mounts.push({ volume: { name: "tmp", emptyDir: { sizeLimit: "1Gi" } }, mount: { name: "tmp", mountPath: "/tmp" } });
    return mounts;
}

function kafkaMount(spec: StackSpec, lakehouse: LakehouseSpec, pipeline: PipelineSpec): Mount[] {
    const secretName = kafkaAccessSecret(spec, lakehouse, pipeline);
    if (!secretName) return [];
    const items = kafkaAccessKeys(spec).map((key) => ({ key, path: key }));
    return [
        {
            volume: { name: "kafka", secret: { secretName, items, defaultMode: READ_ONLY } },
            mount: { name: "kafka", mountPath: KAFKA_SECRET_DIR, readOnly: true },
        },
    ];
}

const configArgs = (pipeline: PipelineSpec): string[] => [
    "--config",
    `${LAKEHOUSE_CONFIG_DIR}/${LAKEHOUSE_CONFIG_FILE}`,
    "--pipeline",
    pipeline.name,
];

export function lakehouseDeploymentBody(spec: StackSpec, pipeline: PipelineSpec) {
    const lakehouse = requireLakehouse(spec);
    const writer = pipeline.lakehouse!;
    const mounts = [...commonMounts(spec, lakehouse, pipeline), ...kafkaMount(spec, lakehouse, pipeline), ...registryMounts(spec)];
    const probe = { httpGet: { path: HEALTH_PATH, port: HTTP_PORT_NAME }, timeoutSeconds: 5 };
    const configHash = createHash("sha256")
        .update(renderWriterConfig(writerConfigFile(spec, pipeline)))
        .digest("hex");
    return {
        apiVersion: "apps/v1" as const,
        kind: "Deployment" as const,
        metadata: {
            name: lakehouseWriterName(lakehouse, pipeline),
            namespace: spec.namespace,
            labels: labels(lakehouse, pipeline, "writer"),
        },
        spec: {
            // Exactly one writer per table: the writer assigns itself every partition of its topics and commits offsets
            // with its table commits, so a second replica, or an old pod overlapping a new one, would write every change twice.
            replicas: 1,
            strategy: { type: "Recreate" },
            revisionHistoryLimit: 3,
            selector: { matchLabels: selectorLabels(lakehouse, pipeline, "writer") },
            template: {
                // The file is read once at start: a changed file must restart the writer.
                metadata: { labels: labels(lakehouse, pipeline, "writer"), annotations: { [CONFIG_HASH_ANNOTATION]: configHash } },
                spec: {
                    serviceAccountName: lakehouseServiceAccountName(lakehouse),
                    automountServiceAccountToken: false,
                    // On SIGTERM the writer finishes its batch and commits it with its offsets before it exits.
                    terminationGracePeriodSeconds: 60,
                    securityContext: podSecurityContext(),
                    containers: [
                        {
                            name: "writer",
                            image: lakehouse.image,
                            imagePullPolicy: "IfNotPresent",
                            args: ["run", ...configArgs(pipeline)],
                            ports: [{ name: HTTP_PORT_NAME, containerPort: writer.observability.healthCheckPort, protocol: "TCP" }],
                            env: storageEnv(lakehouse),
                            resources: lakehouse.resources,
                            // /healthz is 503 until the writer has opened its tables and after a failed batch, until one succeeds.
                            // Opening loads each key's last source position, which takes minutes on large tables.
                            startupProbe: { ...probe, periodSeconds: 10, failureThreshold: 60 },
                            readinessProbe: { ...probe, periodSeconds: 10, failureThreshold: 3 },
                            // The writer retries failed batches itself; a restart after 5 unhealthy minutes resets anything stuck.
                            livenessProbe: { ...probe, periodSeconds: 30, failureThreshold: 10 },
                            securityContext: containerSecurityContext(),
                            volumeMounts: mounts.map((m) => m.mount),
                        },
                    ],
                    volumes: mounts.map((m) => m.volume),
                },
            },
        },
    };
}

/** Seed §9.3: Delta VACUUM, Iceberg snapshot expiry and orphan-file removal, with the profile's retention. */
export function lakehouseMaintenanceCronJobBody(spec: StackSpec, pipeline: PipelineSpec) {
    const lakehouse = requireLakehouse(spec);
    const mounts = commonMounts(spec, lakehouse, pipeline);
    const podLabels = labels(lakehouse, pipeline, "maintenance");
    return {
        apiVersion: "batch/v1" as const,
        kind: "CronJob" as const,
        metadata: { name: lakehouseMaintenanceName(lakehouse, pipeline), namespace: spec.namespace, labels: podLabels },
        spec: {
            schedule: lakehouse.maintenance.schedule,
            // Two runs would race on the same files and log entries.
            concurrencyPolicy: "Forbid",
            startingDeadlineSeconds: 3600,
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 5,
            jobTemplate: {
                metadata: { labels: podLabels },
                spec: {
                    backoffLimit: 1,
                    activeDeadlineSeconds: 3600,
                    ttlSecondsAfterFinished: 7 * 24 * 3600,
                    template: {
                        metadata: { labels: podLabels },
                        spec: {
                            serviceAccountName: lakehouseServiceAccountName(lakehouse),
                            automountServiceAccountToken: false,
                            restartPolicy: "Never",
                            securityContext: podSecurityContext(),
                            containers: [
                                {
                                    name: "maintenance",
                                    image: lakehouse.image,
                                    imagePullPolicy: "IfNotPresent",
                                    // No Kafka credentials: maintenance opens the tables only.
                                    args: ["maintain", ...configArgs(pipeline)],
                                    env: storageEnv(lakehouse),
                                    resources: lakehouse.resources,
                                    securityContext: containerSecurityContext(),
                                    volumeMounts: mounts.map((m) => m.mount),
                                },
                            ],
                            volumes: mounts.map((m) => m.volume),
                        },
                    },
                },
            },
        },
    };
}

/** None when monitoring is off or the pipeline's writer serves no metrics. */
export function lakehousePodMonitorBody(spec: StackSpec, pipeline: PipelineSpec) {
    const lakehouse = requireLakehouse(spec);
    if (!spec.monitoring.enabled || !pipeline.lakehouse?.observability.metricsEnabled) return undefined;
    return {
        apiVersion: MONITORING_API_VERSION,
        kind: "PodMonitor" as const,
        metadata: {
            name: lakehouseWriterName(lakehouse, pipeline),
            namespace: spec.namespace,
            labels: { ...labels(lakehouse, pipeline, "writer"), ...spec.monitoring.labels },
        },
        spec: {
            selector: { matchLabels: selectorLabels(lakehouse, pipeline, "writer") },
            podMetricsEndpoints: [{ port: HTTP_PORT_NAME, path: METRICS_PATH, interval: "30s" }],
        },
    };
}

// ---------------------------------------------------------------------------------------------
// NetworkPolicies and the PodDisruptionBudget

/**
 * The writer runs one replica by design, so a budget can only choose between blocking every voluntary eviction
 * (maxUnavailable 0: a node drain then waits forever, until someone deletes the pod) and allowing it. It allows
 * it: on SIGTERM the writer commits its batch with its offsets and the next pod resumes from its tables, so a drain
 * costs a restart (up to the startup probe's ten minutes of loading positions). The budget states that decision
 * where cluster tooling and the policy pack can read it.
 */
export function lakehouseDisruptionBudgetBody(spec: StackSpec, pipeline: PipelineSpec) {
    const lakehouse = requireLakehouse(spec);
    return {
        apiVersion: "policy/v1" as const,
        kind: "PodDisruptionBudget" as const,
        metadata: {
            name: lakehouseWriterName(lakehouse, pipeline),
            namespace: spec.namespace,
            labels: labels(lakehouse, pipeline, "writer"),
        },
        spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(lakehouse, pipeline, "writer") } },
    };
}

/** Object storage, and the Iceberg catalog's database where the pipeline writes Iceberg tables. */
function lakehouseStorageEndpoints(spec: StackSpec, pipeline: PipelineSpec): Endpoint[] {
    const lakehouse = requireLakehouse(spec);
    const storage = objectStorageEndpoint(lakehouse);
    const catalog = usesCatalog(pipeline) ? lakehouse.catalog : undefined;
    return [...(storage ? [storage] : []), ...(catalog ? [{ host: catalog.host, port: catalog.port }] : [])];
}

/** The writer reaches Kafka besides its tables, and takes scrapes where a PodMonitor is (kubelet probes come from the node, which policies never block). */
export function lakehouseWriterNetworkPolicyBody(spec: StackSpec, pipeline: PipelineSpec) {
    const lakehouse = requireLakehouse(spec);
    const monitored = lakehousePodMonitorBody(spec, pipeline) !== undefined;
    return networkPolicyBody(spec, () => ({
        name: lakehouseWriterName(lakehouse, pipeline),
        labels: labels(lakehouse, pipeline, "writer"),
        podSelector: selectorLabels(lakehouse, pipeline, "writer"),
        egress: [kafkaRule(spec), ...endpointRules(spec, lakehouseStorageEndpoints(spec, pipeline))],
        ...(monitored ? { metricsPort: pipeline.lakehouse!.observability.healthCheckPort } : {}),
    }));
}

/** Maintenance opens the tables only: no Kafka, no ingress. */
export function lakehouseMaintenanceNetworkPolicyBody(spec: StackSpec, pipeline: PipelineSpec) {
    const lakehouse = requireLakehouse(spec);
    return networkPolicyBody(spec, () => ({
        name: lakehouseMaintenanceName(lakehouse, pipeline),
        labels: labels(lakehouse, pipeline, "maintenance"),
        podSelector: selectorLabels(lakehouse, pipeline, "maintenance"),
        egress: endpointRules(spec, lakehouseStorageEndpoints(spec, pipeline)),
    }));
}
