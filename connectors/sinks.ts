/**
 * JDBC sink connector configs into PostgreSQL. The Debezium JDBC sink is the default: it reads
 * Debezium's change envelopes natively (deletes included, no unwrap transform), creates columns from
 * the propagated source types, and is Apache-2.0 on Maven Central. The Confluent sink is kept as an
 * option for teams that already run it; it needs an unwrap transform and Confluent's own repository.
 */
import type { PipelineSpec, StackSpec } from "../config/spec";
import type { ConnectorContext } from "./context";
import type { ConnectorConfig } from "./sources";
import { CREDENTIAL_KEYS, dataTopicName, dlqTopicName, sinkCredentialsSecretName } from "../plan/naming";

export function sinkConnectorConfig(spec: StackSpec, pipeline: PipelineSpec, ctx: ConnectorContext): ConnectorConfig {
    const sink = pipeline.sink;
    const secret = sinkCredentialsSecretName(pipeline);
    const framework: ConnectorConfig = {
        topics: pipeline.source.tables.map((t) => dataTopicName(pipeline.source, t)).join(","),
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
    const table = `${sink.schema}.${sink.tableNameFormat}`;

    if (sink.implementation === "debezium") {
        return {
            ...framework,
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
            "connection.pool.min_size": String(sink.connectionPool.minSize),
            "connection.pool.max_size": String(sink.connectionPool.maxSize),
            "connection.pool.timeout": String(sink.connectionPool.timeoutSeconds),
            "flush.max.retries": String(5),
            "flush.retry.delay.ms": String(1000),
            // Target database failovers drop pooled connections; reconnect instead of failing the task.
            "connection.restart.on.errors": "true",
        };
    }
    return {
        ...framework,
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
