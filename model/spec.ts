/**
 * The validated, fully defaulted stack description every layer below config/ works from.
 * Nothing downstream reads Pulumi config or applies defaults of its own.
 */
import type { ConnectorState, SinkImplementation, SourceKind } from "./options";
import type { Environment, EnvironmentProfile } from "./environment";
import type { DestinationFormat, LoggingLevel, MetadataColumn, QualityCheckType, WriteMode } from "./lakehouse";
import type { KafkaAuthentication } from "./strimzi";
import type { CompatibilityLevel, SchemaRegistration, SchemaRegistryAuthentication, Serialization } from "./schema-registry";

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
    /** The registry's compatibility rule for this table's key and value subjects; unset: `schemaRegistry.compatibility`. */
    compatibility?: CompatibilityLevel;
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
    /**
     * Debezium's signal table, `schema.table` (MySQL, MariaDB: `database.table`, in the captured database): incremental
     * snapshots write their watermarks there (plan/signal-table.ts).
     */
    signalTable: string;
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
    /** Lakehouse tables written from this pipeline's change topics; empty: no writer. */
    destinations: DestinationSpec[];
    /** The pipeline's writer; present exactly when it has destinations. */
    lakehouse?: PipelineLakehouseSpec;
}

export interface LakehouseColumnSpec {
    name: string;
    type: string;
    required: boolean;
}

export interface QualityCheckSpec {
    type: QualityCheckType;
    enabled: boolean;
    tolerance: number;
    columns?: string[];
    thresholdSeconds?: number;
}

export interface DestinationSpec {
    name: string;
    format: DestinationFormat;
    /** The captured table as written in the config (`source.tables[].name`). */
    table: string;
    /** Its Debezium data topic. */
    topic: string;
    writeMode: WriteMode;
    /** The destination's own, or the captured table's. */
    primaryKey: string[];
    /** Delta: the table URI. */
    location?: string;
    /** Iceberg: the catalog namespace. */
    namespace?: string;
    partitionBy?: string;
    sortBy?: string[];
    columns?: LakehouseColumnSpec[];
    metadataColumns?: MetadataColumn[];
    sourceSystemLabel?: string;
    tableProperties: Record<string, string>;
    derive?: { kind: "customers_analytics"; ordersTable: string };
    qualityChecks: QualityCheckSpec[];
}

export interface PipelineLakehouseSpec {
    observability: { loggingLevel: LoggingLevel; metricsEnabled: boolean; healthCheckPort: number };
    qualityIntervalSeconds: number;
    beforeImage?: "full" | "key";
    /** Where the writer sends events that break a §8.2 rule. */
    deadLetterTopic: string;
}

export interface IcebergCatalogSpec {
    host: string;
    port: number;
    database: string;
    username: string;
    sslMode: string;
}

export interface LakehouseSpec {
    name: string;
    image: string;
    /** Without a trailing slash. */
    warehouse: string;
    storage: { region?: string; endpoint?: string; credentialsPath: string };
    /** Present when a destination is Iceberg. */
    catalog?: IcebergCatalogSpec;
    resources: { requests: { cpu: string; memory: string }; limits: { cpu?: string; memory: string } };
    maintenance: { schedule: string; retentionHours: number };
}

export interface KafkaSpec {
    clusterName: string;
    /** Where the `Kafka` and its KafkaUsers live (the stack's namespace unless set). */
    namespace: string;
    bootstrapServers: string;
    listener?: string;
    tls: boolean;
    /** How Connect and the lakehouse writers authenticate, each as its own KafkaUser (none: no KafkaUser). */
    authentication: KafkaAuthentication;
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

export interface SchemaRegistrySpec {
    /** Base URL as Connect (and the writers) reach it, without a trailing slash or an /apis/... path. */
    url: string;
    /** Where `pulumi up` reaches the registry to set the compatibility rules (`url` unless set). */
    adminUrl: string;
    authentication: SchemaRegistryAuthentication;
    /**
     * KV v2 paths (in vault.kvMount) of the registry logins, each with `username` and `password`: the sources'
     * (may register schemas) and the readers' (sinks, lakehouse writers: read only). Present when authentication is basic.
     */
    credentials?: { writerPath: string; readerPath: string };
    /** Secret with the registry CA as a PKCS#12 truststore (REGISTRY_TRUSTSTORE_KEYS), mounted into the Connect pods. */
    truststoreSecret?: string;
    registration: SchemaRegistration;
    /** Rule of every subject the stack's sources write, unless a table sets its own. */
    compatibility: CompatibilityLevel;
}

export interface StackSpec {
    environment: Environment;
    profile: EnvironmentProfile;
    namespace: string;
    /** How the connectors serialize keys and values on every topic they write and read. */
    serialization: Serialization;
    /** Present when declared; required for `avro`. */
    schemaRegistry?: SchemaRegistrySpec;
    kafka: KafkaSpec;
    connect: ConnectSpec;
    pipelines: PipelineSpec[];
    vault: VaultSpec;
    sqlserver: SqlServerSetupSpec;
    postgres: PostgresSetupSpec;
    /** Absent when the stack deploys no reconciliation job. */
    reconciler?: ReconcilerSpec;
    /** Absent when no pipeline has destinations. */
    lakehouse?: LakehouseSpec;
    monitoring: MonitoringSpec;
    /** Absent unless configured: no spans are exported. */
    tracing?: TracingSpec;
    network: NetworkSpec;
}

export interface NetworkSpec {
    enabled: boolean;
    dns: { namespaceLabels: Record<string, string>; podLabels: Record<string, string> };
    prometheusNamespaceLabels: Record<string, string>;
    /** Host → the networks it is in, for hosts outside the cluster. */
    egressCidrs: Record<string, string[]>;
}

export interface MonitoringSpec {
    enabled: boolean;
    labels: Record<string, string>;
    sourceLagSeconds: number;
    reconciliationMaxAgeHours: number;
    sinkLagRecords: number;
    sourceIdleMinutes: number;
    /** Required when `enabled`; alerts link to `<runbookBaseUrl>#<alert name>`. */
    runbookBaseUrl?: string;
    /** Labels of the dashboards' ConfigMaps, the ones Grafana's dashboard sidecar watches for. */
    dashboardLabels: Record<string, string>;
}

/** OpenTelemetry tracing of the Connect workers (Strimzi `spec.tracing`) and, optionally, of every change event. */
export interface TracingSpec {
    /** OTLP endpoint the workers export spans to (OTEL_EXPORTER_OTLP_ENDPOINT). */
    otlpEndpoint: string;
    /** OTEL_SERVICE_NAME of the workers' spans; unset: the KafkaConnect's name. */
    serviceName?: string;
    /** Debezium's ActivateTracingSpan on every source connector: a trace per change event. */
    changeEventSpans: boolean;
}
