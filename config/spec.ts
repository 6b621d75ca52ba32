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

export interface MySqlSourceSpec extends SourceCommon {
    kind: "mysql";
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
    bootstrapServers: string;
    tlsCaSecret?: string;
    scramUser?: string;
}

export interface ConnectSpec {
    name: string;
    replicas: number;
    kafkaVersion?: string;
    outputImage: string;
    pushSecret?: string;
    resources: { requests: { cpu: string; memory: string }; limits: { cpu?: string; memory: string } };
}

export interface StackSpec {
    environment: Environment;
    profile: EnvironmentProfile;
    namespace: string;
    kafka: KafkaSpec;
    connect: ConnectSpec;
    pipelines: PipelineSpec[];
}
