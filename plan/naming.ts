/**
 * Every name this stack derives — connectors, topics, Kubernetes objects, secrets — decided in one
 * place. Names are identity here: a connector's name keys its Debezium offsets and a topic's name is
 * the data, so a change to any function below re-snapshots or orphans data and must be deliberate.
 */
import type { SourceKind } from "../connectors/options";
import type { PipelineSpec, SourceSpec, TableSpec } from "../config/spec";

export const defaultSourceConnectorName = (pipeline: string, kind: SourceKind): string => `${pipeline}-${kind}-source`;
export const defaultSinkConnectorName = (pipeline: string): string => `${pipeline}-postgres-sink`;
export const defaultTopicPrefix = (pipeline: string): string => pipeline;
/** PostgreSQL replication slot and publication names allow only lower-case letters, digits and '_'. */
export const defaultSlotName = (connectorName: string): string => connectorName.replace(/-/g, "_");
export const defaultPublicationName = (connectorName: string): string => `${connectorName.replace(/-/g, "_")}_pub`;

/**
 * MySQL replication client ids must be unique per server; deriving one from the connector name keeps
 * it stable across deploys. The 5400+ range stays clear of the small ids DBAs give real replicas.
 */
export function defaultServerId(connectorName: string): number {
    let hash = 0x811c9dc5;
    for (const ch of connectorName) {
        hash ^= ch.codePointAt(0)!;
        hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return 5400 + (hash % 1_000_000_000);
}

/** Debezium's own topic naming for each source kind (DefaultTopicNamingStrategy). */
export function dataTopicName(source: SourceSpec, table: TableSpec): string {
    switch (source.kind) {
        case "sqlserver":
            return `${source.topicPrefix}.${table.database}.${table.schema}.${table.table}`;
        case "postgres":
            return `${source.topicPrefix}.${table.schema}.${table.table}`;
        case "mysql":
            return `${source.topicPrefix}.${table.database}.${table.table}`;
    }
}

export const schemaHistoryTopicName = (source: SourceSpec): string => `${source.topicPrefix}.schema-history`;
export const schemaChangesTopicName = (source: SourceSpec): string => source.topicPrefix;
export const heartbeatTopicName = (source: SourceSpec): string => `__debezium-heartbeat.${source.topicPrefix}`;
export const dlqTopicName = (sinkConnectorName: string): string => `dlq-${sinkConnectorName}`;

/** `schema.table` as Debezium's include lists spell it (`database.table` for MySQL). */
export function tableIncludeEntry(source: SourceSpec, table: TableSpec): string {
    return source.kind === "mysql" ? `${table.database}.${table.table}` : `${table.schema}.${table.table}`;
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

/** Strimzi names the Connect pods' ServiceAccount `<connect>-connect`. */
export const connectServiceAccountName = (connectName: string): string => `${connectName}-connect`;
export const connectMetricsConfigMapName = (connectName: string): string => `${connectName}-metrics`;
