/**
 * Debezium source connector configs (SQL Server, PostgreSQL, MySQL/MariaDB), in Debezium 3.6 key
 * spelling. Settings that matter in production are pinned explicitly even where they equal today's
 * default, because Debezium upgrades have changed defaults before (e.g. data.query.mode in 3.4).
 */
import type { PipelineSpec, SourceSpec, SqlServerSourceSpec, PostgresSourceSpec, MySqlSourceSpec } from "../model/spec";
import type { ConnectorContext } from "./context";
import {
    CREDENTIAL_KEYS,
    notificationTopicName,
    schemaHistoryTopicName,
    signalConsumerGroup,
    signalTopicName,
    sourceCredentialsSecretName,
    tableIncludeEntry,
} from "../model/naming";
import { signalDataCollections, signalTableTopics } from "../model/signal-table";

export type ConnectorConfig = Record<string, string>;

/**
 * Bounded so a persistently failing database turns into a FAILED task that alerts and auto-restarts.
 * Debezium counts only failures with no change event in between (a poll that returns changes resets
 * the count). A lost connection restarts the task inside the worker every
 * `retriable.restart.connector.wait.ms` until the database answers; for PostgreSQL those attempts do not
 * count (Debezium 3.6 PostgresConnectorTask), so a restart or failover of any length costs one retry and
 * streaming resumes within 10 s of the database coming back. Meanwhile the task stays RUNNING and
 * CdcSourceDisconnected is what alerts.
 */
const SOURCE_ERRORS_MAX_RETRIES = 10;
const SOURCE_RESTART_WAIT_MS = 10_000;

export function sourceConnectorConfig(pipeline: PipelineSpec, ctx: ConnectorContext): ConnectorConfig {
    const source = pipeline.source;
    const secret = sourceCredentialsSecretName(pipeline);
    const common: ConnectorConfig = {
        "topic.prefix": source.topicPrefix,
        "database.hostname": source.host,
        "database.port": String(source.port),
        "database.user": ctx.secretRef(secret, CREDENTIAL_KEYS.username),
        "database.password": ctx.secretRef(secret, CREDENTIAL_KEYS.password),
        "table.include.list": source.tables.map((t) => tableIncludeEntry(source, t)).join(","),
        "snapshot.mode": source.snapshotMode,
        "decimal.handling.mode": source.decimalHandlingMode,
        "time.precision.mode": source.timePrecisionMode,
        "tombstones.on.delete": String(source.tombstonesOnDelete),
        "max.batch.size": String(source.maxBatchSize),
        "max.queue.size": String(source.maxQueueSize),
        "poll.interval.ms": String(source.pollIntervalMs),
        "heartbeat.interval.ms": String(source.heartbeatIntervalMs),
        // Lets the Debezium JDBC sink create target columns with the source's exact types and lengths.
        "column.propagate.source.type": ".*",
        "event.processing.failure.handling.mode": "fail",
        "errors.max.retries": String(SOURCE_ERRORS_MAX_RETRIES),
        "retriable.restart.connector.wait.ms": String(SOURCE_RESTART_WAIT_MS),
        ...(source.heartbeatActionQuery ? { "heartbeat.action.query": source.heartbeatActionQuery } : {}),
        ...signals(source, ctx),
    };
    switch (source.kind) {
        case "sqlserver":
            return { ...common, ...schemaHistory(source, ctx), ...sqlServer(source) };
        case "postgres":
            return { ...common, ...postgres(source), ...(ctx.databaseCaFile ? { "database.sslrootcert": ctx.databaseCaFile } : {}) };
        case "mysql":
        case "mariadb":
            return { ...common, ...schemaHistory(source, ctx), ...mysql(source) };
    }
}

function sqlServer(source: SqlServerSourceSpec): ConnectorConfig {
    return {
        "database.names": source.databases.join(","),
        "snapshot.isolation.mode": source.snapshotIsolationMode,
        "data.query.mode": "direct",
        // Debezium 3.x passes `driver.*` to the Microsoft JDBC driver, which encrypts by default since 10.2.
        "driver.encrypt": String(source.encrypt),
        "driver.trustServerCertificate": String(source.trustServerCertificate),
        ...(source.readOnlyIntent ? { "driver.applicationIntent": "ReadOnly" } : {}),
    };
}

function postgres(source: PostgresSourceSpec): ConnectorConfig {
    return {
        "database.dbname": source.database,
        "plugin.name": "pgoutput",
        "slot.name": source.slotName,
        "publication.name": source.publicationName,
        // The connector keeps the publication limited to the captured tables as the include list changes.
        "publication.autocreate.mode": "filtered",
        "database.sslmode": source.sslMode,
    };
}

function mysql(source: MySqlSourceSpec): ConnectorConfig {
    return {
        "database.include.list": source.database,
        "database.server.id": String(source.serverId),
        "database.ssl.mode": source.sslMode,
        "snapshot.locking.mode": "minimal",
        // A restarted server closes the binlog connection without an error the task sees; the binlog
        // client's keep-alive thread finds out when a ping fails (the first one after the close still
        // goes out) and reconnects. At Debezium's 60 s that took 100 s after a 15 s restart in the
        // sandbox; 10 s brings it to about 20 s.
        "connect.keep.alive.interval.ms": "10000",
    };
}

function schemaHistory(source: SourceSpec, ctx: ConnectorContext): ConnectorConfig {
    const security: ConnectorConfig = {};
    for (const [key, value] of Object.entries(ctx.kafkaClientSecurity)) {
        security[`schema.history.internal.producer.${key}`] = value;
        security[`schema.history.internal.consumer.${key}`] = value;
    }
    return {
        "schema.history.internal.kafka.topic": schemaHistoryTopicName(source),
        "schema.history.internal.kafka.bootstrap.servers": ctx.bootstrapServers,
        "schema.history.internal.store.only.captured.tables.ddl": "true",
        "include.schema.changes": "true",
        ...security,
    };
}

/**
 * Incremental snapshots on request (`cdc snapshot`, docs/ops.md): `execute-snapshot` arrives on the Kafka signal
 * topic, keyed by topic.prefix. The `source` channel stays enabled because it is how Debezium reads its own
 * watermarks back from the signal table's change events; a snapshot requested only through Kafka still writes them
 * there. Progress goes to the notification topic through the task's own producer (the `sink` channel). The signal
 * channel's consumer is Debezium's, not the worker's, so it gets the worker's Kafka security like the schema history
 * clients (`signal.consumer.*`). The watermark rows' change events would go to an unplanned topic of the signal
 * table (brokers here do not auto-create topics, and nothing reads them), so a Filter drops them after Debezium
 * has seen them. `insert_insert` (Debezium's default, pinned) leaves two rows per chunk in the table; a DELETE
 * watermark would need the whole row in PostgreSQL's delete events (REPLICA IDENTITY FULL on the signal table).
 */
function signals(source: SourceSpec, ctx: ConnectorContext): ConnectorConfig {
    const security: ConnectorConfig = {};
    for (const [key, value] of Object.entries(ctx.kafkaClientSecurity)) security[`signal.consumer.${key}`] = value;
    const escaped = signalTableTopics(source).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    return {
        "signal.data.collection": signalDataCollections(source).join(","),
        "signal.enabled.channels": "source,kafka",
        "signal.kafka.topic": signalTopicName(source),
        "signal.kafka.bootstrap.servers": ctx.bootstrapServers,
        "signal.kafka.groupId": signalConsumerGroup(source),
        // Debezium's default 0 ms poll cannot finish the consumer's first offset lookup in one call, and the channel is
        // polled every signal.poll.interval.ms (5 s): the first signal after a start waited 21 s in the sandbox, 3 s with
        // this. The poll holds the lock the streaming thread takes for watermark events, so the wait stays short.
        "signal.kafka.poll.timeout.ms": String(SIGNAL_POLL_TIMEOUT_MS),
        ...security,
        "notification.enabled.channels": "sink",
        "notification.sink.topic.name": notificationTopicName(source),
        "incremental.snapshot.watermarking.strategy": "insert_insert",
        transforms: DROP_SIGNAL_EVENTS,
        [`transforms.${DROP_SIGNAL_EVENTS}.type`]: "org.apache.kafka.connect.transforms.Filter",
        [`transforms.${DROP_SIGNAL_EVENTS}.predicate`]: IS_SIGNAL_TABLE,
        predicates: IS_SIGNAL_TABLE,
        [`predicates.${IS_SIGNAL_TABLE}.type`]: "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        [`predicates.${IS_SIGNAL_TABLE}.pattern`]: escaped.join("|"),
    };
}

const SIGNAL_POLL_TIMEOUT_MS = 100;
const DROP_SIGNAL_EVENTS = "dropSignalTableEvents";
const IS_SIGNAL_TABLE = "isSignalTable";
