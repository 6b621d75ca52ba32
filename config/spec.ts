/**
 * The validated, fully defaulted stack description every layer below config/ works from.
 * Nothing downstream reads Pulumi config or applies defaults of its own.
 */
import type { ConnectorState, SinkImplementation, SourceKind } from "../connectors/options";
import type { Environment, EnvironmentProfile } from "./profiles";

export interface ColumnSpec {
    name: string;
    type: string;
    nullable: boolean;
}

export interface TableSpec {
    /** SQL Server: the database holding the table. PostgreSQL/MySQL: the source database. */
    database: string;
    /** SQL Server/PostgreSQL schema; for MySQL the database (MySQL has no schemas). */
    schema: string;
    table: string;
    primaryKey: string[];
    columns?: ColumnSpec[];
}

interface SourceCommon {
    kind: SourceKind;
    connectorName: string;
    topicPrefix: string;
    host: string;
    port: number;
    tables: TableSpec[];
    snapshotMode: string;
    decimalHandlingMode: string;
    timePrecisionMode: string;
    tombstonesOnDelete: boolean;
    maxBatchSize: number;
    maxQueueSize: number;
    pollIntervalMs: number;
    heartbeatIntervalMs: number;
    heartbeatActionQuery?: string;
    signalTable?: string;
    tasksMax: number;
    state: ConnectorState;
    /** Source login of the connector and the reconciler. */
    username: string;
}

export interface SqlServerSourceSpec extends SourceCommon {
    kind: "sqlserver";
    databases: string[];
    snapshotIsolationMode: string;
    encrypt: boolean;
    trustServerCertificate: boolean;
    readOnlyIntent: boolean;
}

export interface PostgresSourceSpec extends SourceCommon {
    kind: "postgres";
    database: string;
    slotName: string;
    publicationName: string;
    sslMode: string;
}

/** MySQL or MariaDB (`kind` picks Debezium's connector; the two spell their TLS modes differently). */
export interface MySqlSourceSpec extends SourceCommon {
    kind: "mysql" | "mariadb";
    database: string;
    serverId: number;
    sslMode: string;
}

export type SourceSpec = SqlServerSourceSpec | PostgresSourceSpec | MySqlSourceSpec;

export interface SinkSpec {
    implementation: SinkImplementation;
    connectorName: string;
    host: string;
    port: number;
    database: string;
    schema: string;
    insertMode: "insert" | "upsert" | "update";
    primaryKeyMode: "none" | "kafka" | "record_key" | "record_value";
    primaryKeyFields: string[];
    tableNameFormat: string;
    sslMode: string;
    deleteEnabled: boolean;
    truncateEnabled: boolean;
    autoCreate: boolean;
    autoEvolve: boolean;
    batchSize: number;
    connectionPool: { minSize: number; maxSize: number; timeoutSeconds: number };
    errorsTolerance: "none" | "all";
    deadLetterQueue: boolean;
    tasksMax: number;
    state: ConnectorState;
    /** Login role the sink writes with. */
    username: string;
    /** Read-only login role of the reconciliation job. */
    readOnlyUsername: string;
}

export interface TopicSettings {
    partitions: number;
    replicationFactor: number;
    minInsyncReplicas: number;
    retentionMs: number;
}

export interface PipelineSpec {
    name: string;
    source: SourceSpec;
    sink: SinkSpec;
    topics: TopicSettings;
}

export interface KafkaSpec {
    clusterName: string;
    /** Where the `Kafka` and its KafkaUsers live (the stack's namespace unless set). */
    namespace: string;
    bootstrapServers: string;
    listener?: string;
    tls: boolean;
    scramUser?: string;
}

export interface ConnectSpec {
    name: string;
    replicas: number;
    kafkaVersion?: string;
    outputImage: string;
    pushSecret?: string;
    databaseCaSecret?: string;
    resources: { requests: { cpu: string; memory: string }; limits: { cpu?: string; memory: string } };
}

export interface VaultSpec {
    address: string;
    kvMount: string;
    createMount: boolean;
    kubernetesAuthMount: string;
    /** Prefix of policy and auth role names (cdc-<environment> unless set). */
    namePrefix: string;
    caCertSecret?: string;
    refreshAfter: string;
    tokenTtlSeconds: number;
}

export interface SqlServerSetupSpec {
    gatingRole: string;
    cdcRetentionMinutes: number;
    changeTableFilegroup?: string;
    /** source.host → host[:port] Pulumi connects to instead. */
    adminHosts: Record<string, string>;
}

export interface PostgresSetupSpec {
    createDatabases: boolean;
    /** sink.host → host[:port] Pulumi connects to instead. */
    adminHosts: Record<string, string>;
}

export interface ReconcilerSpec {
    name: string;
    image: string;
    schedule: string;
    timeZone?: string;
    lagWindowSeconds?: number;
    maxDiscrepanciesPerTable?: number;
    criticalRatio?: number;
    pushgatewayUrl?: string;
    backoffLimit: number;
    activeDeadlineSeconds: number;
    reportClaimName?: string;
    resources: { requests: { cpu: string; memory: string }; limits: { cpu?: string; memory: string } };
}

export interface StackSpec {
    environment: Environment;
    profile: EnvironmentProfile;
    namespace: string;
    kafka: KafkaSpec;
    connect: ConnectSpec;
    pipelines: PipelineSpec[];
    vault: VaultSpec;
    sqlserver: SqlServerSetupSpec;
    postgres: PostgresSetupSpec;
    /** Absent when the stack deploys no reconciliation job. */
    reconciler?: ReconcilerSpec;
    monitoring: MonitoringSpec;
}

export interface MonitoringSpec {
    enabled: boolean;
    labels: Record<string, string>;
    sourceLagSeconds: number;
    reconciliationMaxAgeHours: number;
    /** Required when `enabled`; alerts link to `<runbookBaseUrl>#<alert name>`. */
    runbookBaseUrl?: string;
}
