/**
 * The shape of the stack configuration as written in Pulumi.<stack>.yaml (project namespace
 * `cdc-pipeline`). Structural checks only; rules that span fields live in rules.ts, and defaults that
 * depend on the environment are filled by resolve.ts.
 */
import { z } from "zod";
import { ENVIRONMENTS } from "../model/environment";
import { isIP } from "net";
import { KAFKA_AUTHENTICATIONS, STRIMZI_KAFKA_VERSIONS, STRIMZI_VERSION } from "../model/strimzi";
import { MEMORY_QUANTITY } from "../model/quantity";
import {
    CONNECTOR_STATES,
    DECIMAL_HANDLING_MODES,
    ERRORS_TOLERANCE,
    INSERT_MODES,
    PRIMARY_KEY_MODES,
    SINK_IMPLEMENTATIONS,
    SQLSERVER_SNAPSHOT_ISOLATION_MODES,
    TIME_PRECISION_MODES,
} from "../model/options";
import {
    BEFORE_IMAGES,
    COLUMN_TYPE,
    DESTINATION_FORMATS,
    LAKEHOUSE_IDENTIFIER,
    LOGGING_LEVELS,
    METADATA_COLUMNS,
    PARTITION_BY,
    QUALITY_CHECK_TYPES,
    SORT_BY,
    WRITE_MODES,
} from "../model/lakehouse";
import { COMPATIBILITY_LEVELS, SCHEMA_REGISTRATIONS, SCHEMA_REGISTRY_AUTHENTICATIONS, SERIALIZATIONS } from "../model/schema-registry";

/** Kubernetes object names double as Kafka Connect connector names and Kafka topic name parts. */
const dnsName = z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
        error: "must be lower-case letters, digits and '-' (a Kubernetes object name), e.g. sales-sqlserver-source",
    })
    .max(63, { error: "must be at most 63 characters (a Kubernetes object name)" });

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, {
    error: "must be a plain SQL identifier (letters, digits, '_')",
});

const positiveInt = z.number().int().positive();

/** Rendered unquoted into JDBC URLs, Debezium's database.hostname and the reconciler's URLs. */
const hostName = z
    .string()
    .regex(/^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$/, { error: "must be a host name or IPv4 address, e.g. sqlserver.sales.svc" })
    .max(253, { error: "must be at most 253 characters (a DNS name)" });

const columnSchema = z.strictObject({
    name: identifier,
    type: z.string().min(1, { error: "must be a PostgreSQL column type, e.g. bigint or varchar(255)" }),
    nullable: z.boolean().default(true),
});

const tableSchema = z.strictObject({
    /** `schema.table` (SQL Server, PostgreSQL) or `database.table` (MySQL). */
    name: z.string(),
    /** SQL Server only, and only needed when the source captures more than one database. */
    database: z.string().optional(),
    primaryKey: z.array(identifier).min(1, {
        error: "every captured table must declare its primary key columns (e.g. primaryKey: [id]); tables without one cannot be upserted or deleted in the target",
    }),
    /** Target column definitions, used to pre-create target tables when the sink may not create them. */
    columns: z.array(columnSchema).optional(),
    /** The registry's compatibility rule for this table's subjects (`<topic>-key`, `<topic>-value`); default schemaRegistry.compatibility. */
    compatibility: z.enum(COMPATIBILITY_LEVELS).optional(),
});

const sourceCommon = {
    connectorName: dnsName.optional(),
    topicPrefix: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/, { error: "must be letters, digits, '_' or '-' (it prefixes every topic name)" })
        .optional(),
    host: hostName,
    port: z.number().int().min(1).max(65535).optional(),
    tables: z.array(tableSchema).min(1, { error: "list at least one table to capture" }),
    snapshotMode: z.string().default("initial"),
    decimalHandlingMode: z.enum(DECIMAL_HANDLING_MODES).default("precise"),
    /** Default per kind: `adaptive`, except MySQL's `adaptive_time_microseconds` (Debezium 3.6 MySQL refuses `adaptive`). */
    timePrecisionMode: z.enum(TIME_PRECISION_MODES).optional(),
    tombstonesOnDelete: z.boolean().default(true),
    maxBatchSize: positiveInt.default(2048),
    maxQueueSize: positiveInt.default(8192),
    /** Default per kind: 100 for PostgreSQL, 500 (Debezium's) otherwise (config/resolve.ts DEFAULT_POLL_INTERVAL_MS). */
    pollIntervalMs: positiveInt.optional(),
    heartbeatIntervalMs: z.number().int().min(0).default(10000),
    heartbeatActionQuery: z.string().optional(),
    /** Debezium's signal table (incremental snapshot watermarks); a default per kind (model/naming.ts defaultSignalTable). */
    signalTable: z.string().optional(),
    tasksMax: positiveInt.optional(),
    state: z.enum(CONNECTOR_STATES).default("running"),
    /** The source login the connector (and the reconciler) use; SQL Server: created by the stack. */
    username: identifier.default("cdc_reader"),
};

const sqlServerSource = z.strictObject({
    kind: z.literal("sqlserver"),
    ...sourceCommon,
    databases: z.array(z.string().min(1)).min(1, { error: "list the CDC-enabled databases to capture" }),
    snapshotIsolationMode: z.enum(SQLSERVER_SNAPSHOT_ISOLATION_MODES).default("snapshot"),
    encrypt: z.boolean().optional(),
    trustServerCertificate: z.boolean().default(false),
    /** Always On secondaries: read from a readable replica. */
    readOnlyIntent: z.boolean().default(false),
});

const postgresSource = z.strictObject({
    kind: z.literal("postgres"),
    ...sourceCommon,
    database: z.string().min(1),
    slotName: identifier.optional(),
    publicationName: identifier.optional(),
    sslMode: z.enum(["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]).optional(),
});

const mysqlSource = z.strictObject({
    kind: z.literal("mysql"),
    ...sourceCommon,
    database: z.string().min(1),
    /** Must be unique among every client of the MySQL/MariaDB server's replication stream. */
    serverId: z.number().int().min(1).max(4294967295).optional(),
    sslMode: z.enum(["disabled", "preferred", "required", "verify_ca", "verify_identity"]).optional(),
});

const mariaDbSource = z.strictObject({
    kind: z.literal("mariadb"),
    ...sourceCommon,
    database: z.string().min(1),
    /** Must be unique among every client of the MariaDB server's replication stream. */
    serverId: z.number().int().min(1).max(4294967295).optional(),
    sslMode: z.enum(["disable", "trust", "verify-ca", "verify-full"]).optional(),
});

const sourceSchema = z.discriminatedUnion("kind", [sqlServerSource, postgresSource, mysqlSource, mariaDbSource], {
    error: 'source.kind must be one of "sqlserver", "postgres", "mysql", "mariadb"',
});

const sinkSchema = z.strictObject({
    implementation: z.enum(SINK_IMPLEMENTATIONS).default("debezium"),
    connectorName: dnsName.optional(),
    host: hostName,
    port: z.number().int().min(1).max(65535).default(5432),
    database: z.string().min(1),
    schema: identifier.default("public"),
    insertMode: z.enum(INSERT_MODES).default("upsert"),
    primaryKeyMode: z.enum(PRIMARY_KEY_MODES).default("record_key"),
    primaryKeyFields: z.array(identifier).default([]),
    /** Target table name; `${source.table}` keeps the source table's name. */
    tableNameFormat: z.string().default("${source.table}"),
    /** PostgreSQL JDBC `sslmode` of the sink's connection; defaults per environment. */
    sslMode: z.enum(["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]).optional(),
    deleteEnabled: z.boolean().default(true),
    truncateEnabled: z.boolean().default(false),
    autoCreate: z.boolean().default(false),
    autoEvolve: z.boolean().default(false),
    batchSize: positiveInt.default(3000),
    connectionPool: z
        .strictObject({
            minSize: positiveInt.default(1),
            maxSize: positiveInt.default(10),
            timeoutSeconds: positiveInt.default(1800),
        })
        .prefault({}),
    errorsTolerance: z.enum(ERRORS_TOLERANCE).default("all"),
    /** Route records the sink cannot write to `dlq-<sink connector name>` instead of dropping them. */
    deadLetterQueue: z.boolean().default(true),
    tasksMax: positiveInt.default(1),
    state: z.enum(CONNECTOR_STATES).default("running"),
    /** Login role the sink writes with (created by the stack; not superuser, no CREATEDB/CREATEROLE). */
    username: identifier.default("cdc_writer"),
    /** Read-only login role the reconciliation job reads the target with (created by the stack). */
    readOnlyUsername: identifier.default("cdc_reconciler"),
});

// ---------------------------------------------------------------------------------------------
// Lakehouse destinations (seed 004 §4.1) and the writer that fills them; the names follow the stack's camelCase,
// rendered into the writer's snake_case file by plan/lakehouse.ts.

const lakehouseIdentifier = z.string().regex(LAKEHOUSE_IDENTIFIER, {
    error: "must be letters, digits and '_', not starting with a digit (a name both Delta Lake and Iceberg tables accept)",
});

/** The writer reaches object storage through delta-rs and pyarrow's S3 clients; the stack wires S3 credentials only. */
const objectStorageUri = z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s?#]*)?$/, {
    error: "must be an s3:// URI (bucket and optional prefix), e.g. s3://cdc-lakehouse/warehouse",
});

const destinationColumnSchema = z.strictObject({
    name: lakehouseIdentifier,
    type: z
        .string()
        .regex(COLUMN_TYPE, { error: "must be string, int, long, boolean, float, double, date, timestamp, binary or decimal(p,s)" }),
    required: z.boolean().default(false),
});

const qualityCheckSchema = z.strictObject({
    type: z.enum(QUALITY_CHECK_TYPES),
    enabled: z.boolean().default(true),
    /** row_count: the share by which the table may differ from what its commits recorded (seed §8.3: 1 %). */
    tolerance: z.number().min(0).max(1).default(0.01),
    /** checksum: the key columns hashed. */
    columns: z.array(lakehouseIdentifier).min(1, { error: "name at least one column" }).optional(),
    /** lag_monitoring: the lag that fails the check. */
    thresholdSeconds: z.number().positive().optional(),
});

const destinationSchema = z.strictObject({
    /** Table name (seed §3: customers_cdc, orders_cdc, products_cdc, customers_analytics). */
    name: lakehouseIdentifier,
    format: z.enum(DESTINATION_FORMATS, { error: 'must be "deltalake" or "iceberg"' }),
    /** The captured table this destination is written from, as in source.tables[].name. */
    table: z.string().min(1, { error: "must name a table of source.tables, e.g. public.customers" }),
    /** append: one change-log row per source change; upsert: current state merged by primary key. */
    writeMode: z.enum(WRITE_MODES).default("append"),
    primaryKey: z.array(lakehouseIdentifier).min(1).optional(),
    /** Delta only: the table's URI; default <lakehouse.warehouse>/delta/<pipeline>/<name>. */
    location: objectStorageUri.optional(),
    /** Iceberg only: the catalog namespace; default the pipeline's name. */
    namespace: lakehouseIdentifier.optional(),
    partitionBy: z
        .string()
        .regex(PARTITION_BY, {
            error: "must be a column or transform(column) with transform identity, year, month, day or hour, e.g. day(order_date)",
        })
        .optional(),
    /** Iceberg only: the table's sort order. */
    sortBy: z.array(z.string().regex(SORT_BY, { error: 'must be a column, optionally followed by " ASC" or " DESC"' })).optional(),
    columns: z.array(destinationColumnSchema).min(1).optional(),
    metadataColumns: z.array(z.enum(METADATA_COLUMNS)).optional(),
    /** Value of the _source_system column (seed: postgres_cdc). */
    sourceSystemLabel: z.string().min(1).optional(),
    tableProperties: z.record(z.string(), z.string()).default({}),
    /** customers_analytics: current customer state with total_orders counted in a Delta orders change log of the pipeline. */
    derive: z.strictObject({ kind: z.literal("customers_analytics"), ordersTable: lakehouseIdentifier }).optional(),
    qualityChecks: z.array(qualityCheckSchema).default([]),
});

/** The pipeline's writer process: one per pipeline, so these are per pipeline, not per destination. */
const pipelineLakehouseSchema = z
    .strictObject({
        observability: z
            .strictObject({
                loggingLevel: z.enum(LOGGING_LEVELS).default("INFO"),
                metricsEnabled: z.boolean().default(true),
                healthCheckPort: z
                    .number()
                    .int()
                    .min(1024, {
                        error: "must be 1024 or higher: the writer runs as a non-root user without capabilities, which cannot bind lower ports",
                    })
                    .max(65535)
                    .default(8080),
            })
            .prefault({}),
        /** How often the writer runs the destinations' quality checks and writes validation_results. */
        qualityIntervalSeconds: positiveInt.default(60),
        /** What before images the source sends; the writer's default is key for PostgreSQL (REPLICA IDENTITY DEFAULT), full otherwise. */
        beforeImage: z.enum(BEFORE_IMAGES).optional(),
    })
    .prefault({});

const topicOverrides = z
    .strictObject({
        partitions: positiveInt.default(3),
        replicationFactor: positiveInt.optional(),
        minInsyncReplicas: positiveInt.optional(),
        retentionMs: z
            .number()
            .int()
            .min(-1)
            .default(7 * 24 * 3600 * 1000),
    })
    .prefault({});

const pipelineSchema = z.strictObject({
    name: dnsName,
    source: sourceSchema,
    sink: sinkSchema,
    topics: topicOverrides,
    destinations: z.array(destinationSchema).default([]),
    lakehouse: pipelineLakehouseSchema,
});

/** Checked here because the Connect workers' heap is derived from the limit (plan/connect-jvm.ts). */
const memoryQuantity = z.string().regex(MEMORY_QUANTITY, {
    error: "must be a Kubernetes memory quantity such as 2Gi, 512Mi or 2G",
});

const resourcesSchema = z.strictObject({
    requests: z.strictObject({ cpu: z.string(), memory: memoryQuantity }),
    limits: z.strictObject({ cpu: z.string().optional(), memory: memoryQuantity }),
});

const kafkaSchema = z.strictObject({
    /** Name of the Strimzi `Kafka` cluster the Connect cluster and topics belong to. */
    clusterName: dnsName,
    /** Namespace of that `Kafka` and its KafkaUsers (where Strimzi writes their Secrets); unset: the stack's namespace. */
    namespace: dnsName.optional(),
    /** Bootstrap address as seen from inside the Kubernetes cluster (Connect, Debezium). */
    bootstrapServers: z.string().min(1),
    /**
     * Name of the listener (in the `Kafka` resource) at bootstrapServers. The Access Operator copies the
     * CA only for a TLS listener, so it must not pick one of its own.
     */
    listener: z
        .string()
        .regex(/^[a-z0-9]{1,11}$/, {
            error: "must be the name of a listener of the Kafka resource (lower-case letters and digits, at most 11), e.g. tls",
        })
        .optional(),
    /** Connect to the listener over TLS, trusting the cluster CA. */
    tls: z.boolean().default(false),
    /** How Connect and the writers authenticate, each as a KafkaUser the stack creates; default from the profile. */
    authentication: z.enum(KAFKA_AUTHENTICATIONS).optional(),
});

const connectSchema = z.strictObject({
    name: dnsName.default("cdc-connect"),
    replicas: positiveInt.optional(),
    /** Unset means the operator's default Kafka version; pin it to control upgrades. */
    kafkaVersion: z
        .string()
        .refine((version) => (STRIMZI_KAFKA_VERSIONS as readonly string[]).includes(version), {
            error: (issue) =>
                `${JSON.stringify(issue.input)} is not a Kafka version Strimzi ${STRIMZI_VERSION} runs, and the operator would refuse the KafkaConnect only after pulumi up; use one of ${STRIMZI_KAFKA_VERSIONS.join(", ")}`,
        })
        .optional(),
    /** Where Strimzi pushes the image it builds with the connector plugins. */
    outputImage: z.string().min(1),
    pushSecret: z.string().optional(),
    /** Secret with `ca.crt`, the CA that signed the databases' certificates; mounted into Connect pods. */
    databaseCaSecret: z.string().optional(),
    resources: resourcesSchema.default({
        requests: { cpu: "500m", memory: "2Gi" },
        limits: { memory: "2Gi" },
    }),
});

const vaultSchema = z
    .strictObject({
        /** Vault as the Vault Secrets Operator reaches it from inside the cluster. */
        address: z
            .string()
            .regex(/^https?:\/\/[^\s/]+(:\d+)?\/?$/, { error: "must be a Vault URL such as https://vault.vault.svc:8200" })
            .default("http://vault.vault.svc:8200"),
        /** Path of the KV version 2 secrets engine holding the credentials. */
        kvMount: z
            .string()
            .regex(/^[a-z0-9][a-z0-9_-]*$/, { error: "must be a mount path of letters, digits, '_' or '-' (no slashes), e.g. secret" })
            .default("secret"),
        /** Create the KV v2 mount; false when it already exists (a dev-mode Vault mounts secret/). */
        createMount: z.boolean().default(true),
        /** Path of the Kubernetes auth method the Vault Secrets Operator logs in through. */
        kubernetesAuthMount: z
            .string()
            .regex(/^[a-z0-9][a-z0-9_/-]*$/, { error: "must be an auth mount path, e.g. kubernetes" })
            .default("kubernetes"),
        /** Prefix of the Vault policy and auth role names; defaults to cdc-<environment>. */
        namePrefix: dnsName.optional(),
        /** Secret (key ca.crt) in the namespace holding the CA that signed Vault's certificate. */
        caCertSecret: dnsName.optional(),
        /** How often the operator re-reads the secrets from Vault, e.g. 1h, 30m. */
        refreshAfter: z
            .string()
            .regex(/^\d+(s|m|h)$/, { error: "must be a duration such as 30s, 15m or 1h" })
            .default("1h"),
        /** TTL of the Vault tokens issued to the operator for each consumer. */
        tokenTtlSeconds: z.number().int().min(60).max(86400).default(3600),
    })
    .prefault({});

const registryUrl = z.string().regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, {
    error: "must be the registry's http(s) base URL without /apis/..., e.g. https://apicurio-registry.registry.svc:8443",
});
const kvPath = z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, {
    error: "must be a path inside the KV mount, e.g. schema-registry/cdc-writer",
});

/** Apicurio Registry: the Avro schemas of every topic the connectors write when serialization is avro. */
const schemaRegistrySchema = z.strictObject({
    /** As Connect reaches it in-cluster; the converter appends /apis/registry/v2. */
    url: registryUrl.refine((url) => !/\/apis(\/|$)/.test(url), {
        error: "must be the base URL only: the stack appends /apis/registry/v2 (converter) and /apis/registry/v3 (rules); remove the /apis/... part",
    }),
    /** Where `pulumi up` reaches the registry to set compatibility rules (CI runs outside the cluster); default: url. */
    adminUrl: registryUrl.optional(),
    /** basic: the converters log in with the logins at credentials.*Path; required in prod. */
    authentication: z.enum(SCHEMA_REGISTRY_AUTHENTICATIONS).default("none"),
    credentials: z
        .strictObject({
            /** The sources' login (registers schemas): keys username and password. */
            writerPath: kvPath.default("schema-registry/cdc-writer"),
            /** The sinks' and writers' login (reads only): keys username and password. */
            readerPath: kvPath.default("schema-registry/cdc-reader"),
        })
        .prefault({}),
    /** Secret with truststore.p12 and truststore.password: the CA of an https registry; required for https. */
    truststoreSecret: dnsName.optional(),
    /** source: the sources register new schemas under the compatibility rule; preregistered: they only look them up. */
    registration: z.enum(SCHEMA_REGISTRATIONS).default("source"),
    compatibility: z.enum(COMPATIBILITY_LEVELS).default("BACKWARD"),
});

const adminHost = z.string().regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, { error: "must be host or host:port, e.g. warehouse.example.com:5432" });

const sqlServerSetupSchema = z
    .strictObject({
        /** Database role gating access to the change tables (sp_cdc_enable_table @role_name). */
        gatingRole: identifier.default("cdc_gate"),
        /** CDC cleanup retention: how long a connector outage can last before changes are purged. */
        cdcRetentionMinutes: z.number().int().min(60).max(52494800).default(4320),
        /** Filegroup for the change tables (sp_cdc_enable_table @filegroup_name); default: the database's default. */
        changeTableFilegroup: identifier.optional(),
        /** Where Pulumi reaches a source server when not at source.host (e.g. from CI): { <source.host>: <host[:port]> }. */
        adminHosts: z.record(z.string(), adminHost).default({}),
    })
    .prefault({});

const postgresSetupSchema = z
    .strictObject({
        /** Create the target databases; false when a DBA owns them (the schemas, roles and grants are still created). */
        createDatabases: z.boolean().default(true),
        /** Where Pulumi reaches a target server when not at sink.host (e.g. from CI): { <sink.host>: <host[:port]> }. */
        adminHosts: z.record(z.string(), adminHost).default({}),
    })
    .prefault({});

function isHttpsUrlWithoutFragment(value: string): boolean {
    if (!URL.canParse(value)) return false;
    return new URL(value).protocol === "https:" && !value.includes("#") && !/\s/.test(value);
}

const cronSchedule = z.string().regex(/^\s*(\S+\s+){4}\S+\s*$/, { error: 'must be a five-field cron expression, e.g. "30 2 * * *"' });

const reconcilerSchema = z.strictObject({
    /** Name of the CronJob, its ServiceAccount and ConfigMap. */
    name: dnsName.default("cdc-reconciler"),
    image: z.string().min(1, { error: "must name the reconciler image, e.g. registry.example.com/cdc/reconciler:0.1.0" }),
    schedule: cronSchedule.default("30 2 * * *"),
    /** IANA time zone of the schedule (CronJob spec.timeZone); default: the controller's (UTC on most clusters). */
    timeZone: z.string().optional(),
    // Tolerances passed to the reconciler; unset ones take the reconciler's own defaults (reconciler/config.ts).
    /** Rows changed within this window before a run count as in flight, not as discrepancies. */
    lagWindowSeconds: z.number().int().min(0).optional(),
    /** Differing primary keys listed per table in the report (the totals count all of them). */
    maxDiscrepanciesPerTable: positiveInt.optional(),
    /** Share of differing rows above which a table is reported critical. */
    criticalRatio: z.number().min(0).max(1).optional(),
    /** Prometheus Pushgateway the job pushes its per-table results to. */
    pushgatewayUrl: z
        .string()
        .regex(/^https?:\/\/\S+$/, { error: "must be an http(s) URL, e.g. http://pushgateway.monitoring.svc:9091" })
        .optional(),
    backoffLimit: z.number().int().min(0).max(10).default(1),
    activeDeadlineSeconds: positiveInt.default(3600),
    /** An existing PersistentVolumeClaim for /var/reports; without one, reports live only as long as the pod. */
    reportClaimName: dnsName.optional(),
    resources: resourcesSchema.default({
        requests: { cpu: "250m", memory: "256Mi" },
        limits: { cpu: "1", memory: "512Mi" },
    }),
});

/** The writers of every pipeline with destinations: image, object storage, Iceberg catalog, Kafka identity, maintenance. */
const lakehouseSchema = z.strictObject({
    /** Prefix of the writers' Deployments, ConfigMaps, CronJobs, ServiceAccount and Secrets. */
    name: dnsName.default("cdc-lakehouse"),
    image: z.string().min(1, { error: "must name the lakehouse writer image, e.g. registry.example.com/cdc/lakehouse:0.1.0" }),
    /** Where every table lives: Delta tables under <warehouse>/delta, the Iceberg catalog's warehouse under <warehouse>/iceberg. */
    warehouse: objectStorageUri,
    storage: z
        .strictObject({
            region: z
                .string()
                .regex(/^[a-z0-9-]+$/, { error: "must be a region name, e.g. eu-west-1" })
                .optional(),
            /** An S3-compatible endpoint (MinIO, Ceph); unset: AWS S3. */
            endpoint: z
                .string()
                .regex(/^https?:\/\/[^\s/?#]+\/?$/, { error: "must be an http(s) URL without a path, e.g. https://minio.storage.svc:9000" })
                .optional(),
            /** KV v2 path (in vault.kvMount) holding access_key_id and secret_access_key; written by whoever owns the bucket. */
            credentialsPath: z
                .string()
                .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, {
                    error: "must be a path inside the KV mount, e.g. lakehouse/object-storage",
                })
                .default("lakehouse/object-storage"),
        })
        .prefault({}),
    /** The Iceberg SQL catalog's PostgreSQL database; required once a destination is Iceberg. */
    catalog: z
        .strictObject({
            host: hostName,
            port: z.number().int().min(1).max(65535).default(5432),
            database: z
                .string()
                .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be a plain database name (letters, digits, '_')" })
                .default("iceberg_catalog"),
            username: identifier.default("iceberg_catalog"),
            sslMode: z.enum(["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]).optional(),
        })
        .optional(),
    resources: resourcesSchema.default({
        requests: { cpu: "250m", memory: "1Gi" },
        limits: { cpu: "1", memory: "2Gi" },
    }),
    maintenance: z
        .strictObject({
            schedule: cronSchedule.optional(),
            /** Seed §9.3 retention of VACUUM, snapshot expiry and orphan-file removal. */
            retentionHours: z.number().positive().optional(),
        })
        .prefault({}),
});

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function isLabelKey(key: string): boolean {
    const slash = key.indexOf("/");
    if (slash < 0) return LABEL_NAME.test(key);
    const prefix = key.slice(0, slash);
    return prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix) && LABEL_NAME.test(key.slice(slash + 1));
}

/** Kubernetes refuses other labels only when the objects are applied, after a preview that passed. */
const labelsSchema = z.record(
    z.string().refine(isLabelKey, {
        error: "is not a Kubernetes label key: up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, optionally after a DNS prefix and '/' (e.g. release, example.com/team)",
    }),
    z.string().refine((value) => value === "" || LABEL_NAME.test(value), {
        error: "must be a Kubernetes label value: up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (or empty)",
    }),
);

const monitoringSchema = z
    .strictObject({
        /** PodMonitor for the Connect pods and PrometheusRule alerts (prometheus-operator CRDs). */
        enabled: z.boolean().default(true),
        /** Labels your Prometheus selects PodMonitors and PrometheusRules by, e.g. { release: kube-prometheus-stack }. */
        labels: labelsSchema.default({}),
        /** Alert when a source connector is this far behind its database. */
        sourceLagSeconds: positiveInt.default(300),
        /** Alert when no reconciliation has found a table in sync for this long. */
        reconciliationMaxAgeHours: positiveInt.default(26),
        /** Alert when a sink's consumer has more records than this left to read on its topics (CdcSinkConsumerLagHigh). */
        sinkLagRecords: positiveInt.default(10000),
        /** Alert when a source with heartbeats saw no change event for this long (CdcSourceNoEvents); raise it for quiet databases. */
        sourceIdleMinutes: positiveInt.default(60),
        /**
         * Where the on-call reads docs/runbooks.md; each alert's runbook_url is this plus `#<alert name>`.
         * No default: only the deploying team knows where its copy is rendered, and a guessed URL pages people to a 404.
         */
        runbookBaseUrl: z
            .string()
            .refine(isHttpsUrlWithoutFragment, {
                error: 'must be the https URL of docs/runbooks.md as your on-call reads it, without a "#" fragment, e.g. https://git.example.com/platform/cdc-pipeline/-/blob/main/docs/runbooks.md',
            })
            .optional(),
        /** Labels of the dashboards' ConfigMaps: the label Grafana's dashboard sidecar selects by (its `label` / `labelValue`). */
        dashboardLabels: labelsSchema
            .refine((labels) => Object.keys(labels).length > 0, {
                error: 'must name the label Grafana\'s dashboard sidecar watches, e.g. { grafana_dashboard: "1" }',
            })
            .default({ grafana_dashboard: "1" }),
    })
    .superRefine((monitoring, ctx) => {
        if (monitoring.enabled && monitoring.runbookBaseUrl === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["runbookBaseUrl"],
                message:
                    "is required when monitoring is enabled: every alert links to its runbook section under this URL (e.g. https://git.example.com/platform/cdc-pipeline/-/blob/main/docs/runbooks.md)",
            });
        }
    })
    .prefault({});

/** Off unless the section is present: Strimzi's OpenTelemetry tracing of the Connect workers. */
const tracingSchema = z.strictObject({
    /** Where the workers export spans over OTLP (OTEL_EXPORTER_OTLP_ENDPOINT), e.g. an OpenTelemetry collector or Jaeger. */
    otlpEndpoint: z.string().regex(/^https?:\/\/[^\s/?#]+\/?$/, {
        error: "must be an http(s) URL without a path, e.g. http://otel-collector.observability.svc:4317",
    }),
    /** OTEL_SERVICE_NAME of the workers' spans; unset: connect.name. */
    serviceName: z.string().min(1).optional(),
    /** Debezium's ActivateTracingSpan on every source connector: a trace per change event, its context in the record's headers. */
    changeEventSpans: z.boolean().default(true),
});

/** An IPv4 or IPv6 network in CIDR notation, as a NetworkPolicy's ipBlock takes it. */
const cidr = z.string().refine(
    (value) => {
        const [address, prefix, ...rest] = value.split("/");
        const family = isIP(address);
        return rest.length === 0 && family !== 0 && /^\d{1,3}$/.test(prefix ?? "") && Number(prefix) <= (family === 4 ? 32 : 128);
    },
    { error: "must be an IP network in CIDR notation, e.g. 10.20.0.0/16 or 192.0.2.10/32" },
);

const networkSchema = z
    .strictObject({
        /** NetworkPolicies for the pods the stack runs (reconciler, lakehouse writers and their maintenance). */
        enabled: z.boolean().default(true),
        /** Where the cluster DNS runs; every policy allows port 53 to these pods. */
        dns: z
            .strictObject({
                namespaceLabels: labelsSchema.default({ "kubernetes.io/metadata.name": "kube-system" }),
                podLabels: labelsSchema.default({ "k8s-app": "kube-dns" }),
            })
            .prefault({}),
        /** Labels of the namespace(s) Prometheus scrapes from: the writers' metrics port accepts only them. */
        prometheusNamespaceLabels: labelsSchema.default({ "kubernetes.io/metadata.name": "monitoring" }),
        /** { <host>: [CIDR, ...] }: where a host outside the cluster is, since a NetworkPolicy matches addresses, not names. */
        egressCidrs: z.record(z.string(), z.array(cidr).min(1, { error: "list at least one CIDR" })).default({}),
    })
    .prefault({});

export const stackConfigSchema = z.strictObject({
    environment: z.enum(ENVIRONMENTS, { error: 'must be "dev" or "prod"' }),
    namespace: dnsName.default("cdc"),
    /** How the connectors serialize keys and values; avro needs schemaRegistry. */
    serialization: z.enum(SERIALIZATIONS).default("json"),
    schemaRegistry: schemaRegistrySchema.optional(),
    kafka: kafkaSchema,
    connect: connectSchema,
    pipelines: z.array(pipelineSchema).min(1, { error: "declare at least one pipeline" }),
    vault: vaultSchema,
    sqlserver: sqlServerSetupSchema,
    postgres: postgresSetupSchema,
    /** The reconciliation CronJob; leave the section out to deploy none. */
    reconciler: reconcilerSchema.optional(),
    /** The lakehouse writers; required once a pipeline declares destinations. */
    lakehouse: lakehouseSchema.optional(),
    monitoring: monitoringSchema,
    /** OpenTelemetry tracing; leave the section out to trace nothing. */
    tracing: tracingSchema.optional(),
    network: networkSchema,
});

/** Project keys read as secrets by config/load.ts, outside the parsed spec; listed so a misspelling gets a suggestion. */
export const SECRET_CONFIG_KEYS = ["sourcePasswords"] as const;

export type ParsedStackConfig = z.output<typeof stackConfigSchema>;
export type ParsedPipeline = ParsedStackConfig["pipelines"][number];
export type ParsedSource = ParsedPipeline["source"];
export type ParsedTable = ParsedSource["tables"][number];
export type ParsedDestination = ParsedPipeline["destinations"][number];
export type ParsedLakehouse = NonNullable<ParsedStackConfig["lakehouse"]>;
