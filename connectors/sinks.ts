/**
 * JDBC sink connector configs into PostgreSQL. The Debezium JDBC sink is the default: it reads
 * Debezium's change envelopes natively (deletes included, no unwrap transform), creates columns from
 * the propagated source types, and is Apache-2.0 on Maven Central. The Confluent sink is kept as an
 * option for teams that already run it; it needs an unwrap transform and Confluent's own repository.
 */
import type { PipelineSpec, SinkSpec, StackSpec } from "../model/spec";
import type { ConnectorContext } from "./context";
import type { ConnectorConfig } from "./sources";
import { CREDENTIAL_KEYS, dataTopicName, dlqTopicName, sinkCredentialsSecretName } from "../model/naming";
import { retryTopicOf } from "./dlq-replay";

/**
 * How long a sink waits for its target database before its task fails: 4 minutes, twice the 60–120 s
 * of a managed database failover. Past that the task fails loudly (CdcConnectorTaskFailed) and Strimzi's
 * autoRestart takes over (plan/auto-restart.ts); nothing is lost either way, because a failed batch's
 * offsets are not committed. The Debezium sink waits inside put(), so the wait stays below its
 * consumer's max.poll.interval.ms (Kafka's 300 s), past which the consumer leaves its group.
 */
const TARGET_OUTAGE_WAIT_MS = 240_000;
/** How often a waiting sink tries the database again, so also how soon after it is back writes resume. */
const TARGET_RETRY_DELAY_MS = 5_000;

export function sinkConnectorConfig(spec: StackSpec, pipeline: PipelineSpec, ctx: ConnectorContext): ConnectorConfig {
    const sink = pipeline.sink;
    const secret = sinkCredentialsSecretName(pipeline);
    const framework: ConnectorConfig = {
        // Besides the data topics, the sink's retry topic, where `cdc dlq replay` sends dead letters back (connectors/dlq-replay.ts).
        topics: [...pipeline.source.tables.map((t) => dataTopicName(pipeline.source, t)), retryTopicOf(pipeline) ?? []].flat().join(","),
        "errors.tolerance": sink.errorsTolerance,
        "errors.log.enable": "true",
        "errors.log.include.messages": String(spec.profile.logErrorRecordContents),
        ...(sink.deadLetterQueue
            ? {
                  "errors.deadletterqueue.topic.name": dlqTopicName(sink.connectorName),
                  "errors.deadletterqueue.topic.replication.factor": String(pipeline.topics.replicationFactor),
                  "errors.deadletterqueue.context.headers.enable": "true",
              }
            : {}),
    };
    const tls = `sslmode=${sink.sslMode}${ctx.databaseCaFile ? `&sslrootcert=${ctx.databaseCaFile}` : ""}`;
    const url = `jdbc:postgresql://${sink.host}:${sink.port}/${sink.database}?${tls}`;
    const user = ctx.secretRef(secret, CREDENTIAL_KEYS.username);
    const password = ctx.secretRef(secret, CREDENTIAL_KEYS.password);
    const database = { url, user, password };
    return {
        ...framework,
        ...(sink.implementation === "debezium" ? debeziumSinkConfig(sink, database) : confluentSinkConfig(sink, database)),
    };
}

interface SinkDatabase {
    url: string;
    user: string;
    password: string;
}

/** The Debezium JDBC sink's own settings, waiting out a target outage in its connection pool. */
function debeziumSinkConfig(sink: SinkSpec, { url, user, password }: SinkDatabase): ConnectorConfig {
    const table = `${sink.schema}.${sink.tableNameFormat}`;
    return {
        "connection.url": url,
        "connection.username": user,
        "connection.password": password,
        "insert.mode": sink.insertMode,
        "primary.key.mode": sink.primaryKeyMode,
        ...(sink.primaryKeyFields.length > 0 ? { "primary.key.fields": sink.primaryKeyFields.join(",") } : {}),
        "delete.enabled": String(sink.deleteEnabled),
        "truncate.enabled": String(sink.truncateEnabled),
        "schema.evolution": sink.autoCreate ? "basic" : "none",
        "collection.name.format": table,
        "quote.identifiers": "false",
        "use.time.zone": "UTC",
        "batch.size": String(sink.batchSize),
        // Without it the sink flushes a table's pending upserts at each of its deletes (and the reverse), one
        // transaction each: with 15 % deletes that was 66,000 transactions for 100,000 changes (bench/RESULTS.md).
        // The reduction buffer keeps each key's last change per poll, so a poll is one upsert and one delete batch
        // per table. Only for upserts: in insert or update mode every event is meant to become its own statement.
        ...(sink.insertMode === "upsert" ? { "use.reduction.buffer": "true" } : {}),
        "connection.pool.min_size": String(sink.connectionPool.minSize),
        "connection.pool.max_size": String(sink.connectionPool.maxSize),
        "connection.pool.timeout": String(sink.connectionPool.timeoutSeconds),
        // The Debezium sink (3.5.0) waits for its database in its connection pool (c3p0 0.12), not in
        // its own retries: those cover only errors of SQLState class 08 (Hibernate's
        // JDBCConnectionException, with connection.restart.on.errors), and each is a single attempt.
        // A database that went away ends the pooled connections with SQLState 57P01 ("terminating
        // connection due to administrator command"), which the sink takes as fatal: testing each
        // connection as it is handed out replaces a dead one instead.
        "hibernate.c3p0.testConnectionOnCheckout": "true",
        // Connection attempts never give up (c3p0's default gives up after 30, 1 s apart), but a
        // checkout does after the outage budget, failing the task. The same wait covers a task
        // (re)started while the database is still down: it starts once the database answers.
        "hibernate.c3p0.acquireRetryAttempts": "-1",
        "hibernate.c3p0.acquireRetryDelay": String(TARGET_RETRY_DELAY_MS),
        "hibernate.c3p0.checkoutTimeout": String(TARGET_OUTAGE_WAIT_MS),
        // A write cut off by a connection error is retried once, on a new connection that waits as above.
        "connection.restart.on.errors": "true",
        "flush.max.retries": "1",
        "flush.retry.delay.ms": String(TARGET_RETRY_DELAY_MS),
    };
}

/** The Confluent JDBC sink's own settings: it reads flattened records, so the envelope is unwrapped first. */
function confluentSinkConfig(sink: SinkSpec, { url, user, password }: SinkDatabase): ConnectorConfig {
    return {
        "connection.url": url,
        "connection.user": user,
        "connection.password": password,
        "insert.mode": sink.insertMode,
        "pk.mode": sink.primaryKeyMode,
        ...(sink.primaryKeyFields.length > 0 ? { "pk.fields": sink.primaryKeyFields.join(",") } : {}),
        "delete.enabled": String(sink.deleteEnabled),
        "auto.create": String(sink.autoCreate),
        "auto.evolve": String(sink.autoEvolve),
        "table.name.format": `${sink.schema}.\${topic}`,
        "batch.size": String(sink.batchSize),
        "db.timezone": "UTC",
        // The Confluent sink retries a failed batch itself, redelivered after the back-off without blocking
        // its consumer (documented keys; this sink is not installed in the sandbox, so not tried here).
        "max.retries": String(TARGET_OUTAGE_WAIT_MS / TARGET_RETRY_DELAY_MS),
        "retry.backoff.ms": String(TARGET_RETRY_DELAY_MS),
        // The Confluent sink cannot read Debezium envelopes: flatten them (keeping delete tombstones), then
        // route each topic to its bare table name.
        transforms: "unwrap,route",
        "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
        "transforms.unwrap.delete.tombstone.handling.mode": "tombstone",
        "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.route.regex": "(?:.*\\.)?([^.]+)",
        "transforms.route.replacement": "$1",
    };
}
