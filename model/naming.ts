/**
 * Every name this stack derives — connectors, topics, Kubernetes objects, secrets — decided in one
 * place. Names are identity here: a connector's name keys its Debezium offsets and a topic's name is
 * the data, so a change to any function below re-snapshots or orphans data and must be deliberate.
 */
import { isMySqlFamily, SourceKind } from "./options";
import type { LakehouseSpec, PipelineSpec, ReconcilerSpec, SourceSpec, StackSpec, TableSpec } from "./spec";

export const defaultSourceConnectorName = (pipeline: string, kind: SourceKind): string => `${pipeline}-${kind}-source`;
export const defaultSinkConnectorName = (pipeline: string): string => `${pipeline}-postgres-sink`;
export const defaultTopicPrefix = (pipeline: string): string => pipeline;
/** PostgreSQL replication slot and publication names allow only lower-case letters, digits and '_'. */
export const defaultSlotName = (connectorName: string): string => connectorName.replace(/-/g, "_");
export const defaultPublicationName = (connectorName: string): string => `${connectorName.replace(/-/g, "_")}_pub`;
/**
 * `source.signalTable` unless set: Debezium's documented table name in the engine's default schema (SQL Server `dbo`,
 * PostgreSQL `public`); MySQL and MariaDB have no schemas, so the captured database, whose binlog carries its rows.
 */
export function defaultSignalTable(kind: SourceKind, database: string): string {
    const table = "debezium_signal";
    if (kind === "sqlserver") return `dbo.${table}`;
    return kind === "postgres" ? `public.${table}` : `${database}.${table}`;
}

/**
 * MySQL replication client ids must be unique per server; deriving one from the connector name keeps
 * it stable across deploys. The 5400+ range stays clear of the small ids DBAs give real replicas.
 */
export function defaultServerId(connectorName: string): number {
    return 5400 + (stableHash(connectorName) % 1_000_000_000);
}

/** FNV-1a over the code points: names derived from it never change between deploys or Node versions. */
export function stableHash(text: string): number {
    let hash = 0x811c9dc5;
    for (const ch of text) {
        hash ^= ch.codePointAt(0)!;
        hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash;
}

/**
 * What every data topic and the schema history topic of a source start with. topicPrefix has no dots, so no other
 * source's topics, nor the schema-change topic named the prefix alone, share it: Kafka ACLs grant by this prefix.
 */
export const dataTopicPrefix = (source: SourceSpec): string => `${source.topicPrefix}.`;

/** Debezium's own topic naming for each source kind (DefaultTopicNamingStrategy). */
export function dataTopicName(source: SourceSpec, table: TableSpec): string {
    switch (source.kind) {
        case "sqlserver":
            return `${dataTopicPrefix(source)}${table.database}.${table.schema}.${table.table}`;
        case "postgres":
            return `${dataTopicPrefix(source)}${table.schema}.${table.table}`;
        case "mysql":
        case "mariadb":
            return `${dataTopicPrefix(source)}${table.database}.${table.table}`;
    }
}

export const schemaHistoryTopicName = (source: SourceSpec): string => `${dataTopicPrefix(source)}schema-history`;
export const schemaChangesTopicName = (source: SourceSpec): string => source.topicPrefix;
export const heartbeatTopicName = (source: SourceSpec): string => `__debezium-heartbeat.${source.topicPrefix}`;
/**
 * Debezium's Kafka signal channel reads partition 0 of this topic; `cdc snapshot` writes `execute-snapshot` there,
 * keyed by the topic prefix (the connector's logical name, which the channel compares the key with). Named like the
 * heartbeat topic so no pipeline's `<topicPrefix>.` data prefix, nor another pipeline's prefix, can share it.
 */
export const signalTopicName = (source: SourceSpec): string => `__debezium-signal.${source.topicPrefix}`;
/** Where the source's sink notification channel reports incremental snapshot progress (STARTED … COMPLETED). */
export const notificationTopicName = (source: SourceSpec): string => `__debezium-notification.${source.topicPrefix}`;
export const dlqTopicName = (sinkConnectorName: string): string => `dlq-${sinkConnectorName}`;
/** Where `cdc dlq replay` writes a dead letter back: the sink also subscribes to it, so a replay reaches that sink alone. */
export const dlqRetryTopicName = (sinkConnectorName: string): string => `${dlqTopicName(sinkConnectorName)}.retry`;
/** The sink's dead letters' resolution state: compacted, keyed by the original `<topic>/<partition>/<offset>`. */
export const dlqStateTopicName = (sinkConnectorName: string): string => `${dlqTopicName(sinkConnectorName)}.state`;

// Consumer groups, named by their clients rather than by the stack; Kafka ACLs must name them exactly.

/** Kafka Connect's group for a sink connector's consumers (SinkUtils.consumerGroupId). */
export const sinkConsumerGroup = (sinkConnectorName: string): string => `connect-${sinkConnectorName}`;
/** Debezium's schema history consumer joins `<topic.prefix>-schemahistory` (its schema.history.internal.name default). */
export const schemaHistoryConsumerGroup = (source: SourceSpec): string => `${source.topicPrefix}-schemahistory`;
/**
 * The signal channel's consumer (`signal.kafka.groupId`): it assigns itself partition 0 and commits there. Debezium's
 * default, `kafka-signal`, would be one group for every connector of the cluster; one per source keeps ACLs literal.
 */
export const signalConsumerGroup = (source: SourceSpec): string => `${source.topicPrefix}-signal`;
/** The random group kafka-console-consumer.sh joins without --group: docs/runbooks.md reads dead letters with it. */
export const CONSOLE_CONSUMER_GROUP_PREFIX = "console-consumer-";

/** `schema.table` as Debezium's include lists spell it (`database.table` for MySQL). */
export function tableIncludeEntry(source: SourceSpec, table: TableSpec): string {
    return isMySqlFamily(source.kind) ? `${table.database}.${table.table}` : `${table.schema}.${table.table}`;
}

/** Kubernetes Secrets the connectors read through Strimzi's config provider (synced from Vault). */
export const sourceCredentialsSecretName = (pipeline: PipelineSpec): string => `${pipeline.name}-source-db`;
export const sinkCredentialsSecretName = (pipeline: PipelineSpec): string => `${pipeline.name}-target-db`;
export const CREDENTIAL_KEYS = { username: "username", password: "password" } as const;

export const connectInternalTopics = (connectName: string) => ({
    groupId: connectName,
    configStorageTopic: `${connectName}-configs`,
    offsetStorageTopic: `${connectName}-offsets`,
    statusStorageTopic: `${connectName}-status`,
});

/**
 * The KafkaAccess that brings the Kafka cluster's CA and the Connect user's password into the stack's
 * namespace, and the binding Secret the Access Operator writes for it.
 */
export const kafkaAccessName = (connectName: string): string => `${connectName}-kafka-access`;

/** Connect's own KafkaUser: its SCRAM user name or certificate CN, in the Kafka cluster's namespace. */
export const connectKafkaUserName = (connectName: string): string => connectName;

/** Strimzi names the Connect pods' ServiceAccount `<connect>-connect`. */
export const connectServiceAccountName = (connectName: string): string => `${connectName}-connect`;
export const connectMetricsConfigMapName = (connectName: string): string => `${connectName}-metrics`;

// Credential plumbing: Vault paths, policies and auth roles, operator objects, the reconciliation
// job and SQL Server capture instances. Identity too: renaming a Vault path orphans the secret,
// renaming a capture instance re-creates the change table.

/** The workloads that read credentials from Vault, each with its own policy and auth role. */
export const VAULT_CONSUMERS = ["connect", "reconciler", "lakehouse"] as const;
export type VaultConsumer = (typeof VAULT_CONSUMERS)[number];

/** What a credential is for; one KV v2 secret per pipeline and purpose. */
export type CredentialPurpose = "source" | "target" | "target-readonly" | "iceberg-catalog";

/** Path inside the KV v2 mount (no `data/` prefix): `db/<pipeline>/<purpose>`. */
export const dbSecretPath = (pipeline: PipelineSpec, purpose: CredentialPurpose): string => `db/${pipeline.name}/${purpose}`;

export const vaultPolicyName = (spec: StackSpec, consumer: VaultConsumer): string => `${spec.vault.namePrefix}-${consumer}`;
/** One Kubernetes auth role per consumer, named like its policy. */
export const vaultAuthRoleName = vaultPolicyName;

export const vaultConnectionName = (spec: StackSpec): string => `${spec.vault.namePrefix}-vault`;
export const vaultAuthName = (spec: StackSpec, consumer: VaultConsumer): string => `${spec.vault.namePrefix}-${consumer}`;

/** The reconciler's own copies of the credentials, synced under its own Vault identity. */
export const reconcilerSourceSecretName = (reconciler: ReconcilerSpec, pipeline: PipelineSpec): string =>
    `${reconciler.name}-${pipeline.name}-source`;
export const reconcilerTargetSecretName = (reconciler: ReconcilerSpec, pipeline: PipelineSpec): string =>
    `${reconciler.name}-${pipeline.name}-target`;

export const reconcilerServiceAccountName = (reconciler: ReconcilerSpec): string => reconciler.name;
export const reconcilerConfigMapName = (reconciler: ReconcilerSpec): string => `${reconciler.name}-config`;

/**
 * The lakehouse writers: per pipeline with destinations a Deployment, its ConfigMap, its maintenance CronJob, its
 * KafkaUser and KafkaAccess; one ServiceAccount (the Vault identity of all of them) and the Secrets they share.
 */
export const lakehouseWriterName = (lakehouse: LakehouseSpec, pipeline: PipelineSpec): string => `${lakehouse.name}-${pipeline.name}`;
export const lakehouseConfigMapName = (lakehouse: LakehouseSpec, pipeline: PipelineSpec): string =>
    `${lakehouseWriterName(lakehouse, pipeline)}-config`;
export const lakehouseMaintenanceName = (lakehouse: LakehouseSpec, pipeline: PipelineSpec): string =>
    `${lakehouseWriterName(lakehouse, pipeline)}-maintenance`;
export const lakehouseServiceAccountName = (lakehouse: LakehouseSpec): string => lakehouse.name;
/** Each writer authenticates as itself, so one writer's credential reads only its own pipeline's topics. */
export const lakehouseKafkaUserName = lakehouseWriterName;
export const lakehouseKafkaAccessName = (lakehouse: LakehouseSpec, pipeline: PipelineSpec): string =>
    `${lakehouseWriterName(lakehouse, pipeline)}-kafka-access`;
/** The writer's consumer_group: it resumes from its tables, and commits here only for lag tooling. */
export const lakehouseConsumerGroup = (pipeline: PipelineSpec): string => `lakehouse-${pipeline.name}`;
export const lakehouseObjectStorageSecretName = (lakehouse: LakehouseSpec): string => `${lakehouse.name}-object-storage`;
export const lakehouseCatalogSecretName = (lakehouse: LakehouseSpec): string => `${lakehouse.name}-iceberg-catalog`;
/** The seed's example name (dlq-lakehouse-shop): where a writer sends the events that break a §8.2 rule. */
export const lakehouseDlqTopicName = (pipelineName: string): string => `dlq-lakehouse-${pipelineName}`;
/** The Iceberg catalog role's credentials, laid out like every database secret. */
export const icebergCatalogSecretPath = (lakehouse: LakehouseSpec): string => `db/${lakehouse.name}/iceberg-catalog`;

/** SQL Server's own default capture instance name, spelled out so it never depends on a server default. */
export const captureInstanceName = (table: TableSpec): string => `${table.schema}_${table.table}`;

/** A database server in resource names: its host, and the port when it is not the engine's default. */
export const serverKey = (host: string, port: number, defaultPort: number): string =>
    (port === defaultPort ? host : `${host}-${port}`).toLowerCase().replace(/[^a-z0-9.-]+/g, "-");

/** Where Pulumi connects to prepare a server: its admin endpoint from config, or the address the pipeline uses. */
export function adminEndpoint(adminHosts: Record<string, string>, host: string, port: number): { host: string; port: number } {
    // Own keys only: a source at host "constructor" has no admin endpoint in Object.prototype.
    const override = Object.hasOwn(adminHosts, host) ? adminHosts[host] : undefined;
    if (!override) return { host, port };
    const [h, p] = override.split(":");
    return { host: h, port: p ? Number(p) : port };
}

/** CronJob names are at most 52 characters: the controller appends an 11-character suffix to Job names. */
export const CRONJOB_NAME_MAX = 52;

/** Where a pipeline's quality checks write their results: a Delta table beside the destinations. */
export const validationResultsLocation = (lakehouse: LakehouseSpec, pipeline: PipelineSpec): string =>
    `${lakehouse.warehouse}/delta/${pipeline.name}/validation_results`;
