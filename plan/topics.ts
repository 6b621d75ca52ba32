/**
 * The topic plan: every Kafka topic the stack owns, with its role, partitions, replication and
 * topic-level config, derived from the spec. Replication comes from the resolved pipeline settings
 * (environment profile plus overrides, see config/profiles.ts); retention and cleanup by role here.
 */
import type { PipelineSpec, StackSpec } from "../model/spec";
import {
    connectInternalTopics,
    dataTopicName,
    dlqStateTopicName,
    dlqTopicName,
    heartbeatTopicName,
    lakehouseDlqTopicName,
    notificationTopicName,
    schemaChangesTopicName,
    schemaHistoryTopicName,
    signalTopicName,
} from "../model/naming";
import { retryTopicOf } from "../connectors/dlq-replay";

export type TopicRole =
    | "data"
    | "schema-history"
    | "schema-changes"
    | "heartbeat"
    | "signal"
    | "notification"
    | "dlq"
    | "dlq-retry"
    | "dlq-state"
    | "lakehouse-dlq"
    | "connect-configs"
    | "connect-offsets"
    | "connect-status";

export interface TopicSpec {
    name: string;
    role: TopicRole;
    /** Owning pipeline; Connect's internal topics belong to the platform. */
    pipeline?: string;
    partitions: number;
    replicationFactor: number;
    config: Record<string, string>;
}

const DAY_MS = 24 * 3600 * 1000;
export const DLQ_RETENTION_MS = 30 * DAY_MS;
/**
 * A dead letter's resolution state outlives the dead letter itself: twice its retention leaves room for the
 * dead letter topic's segments (deleted only once their newest record expires), so no dead letter reappears
 * PENDING after its state was deleted. Compaction keeps only the latest state of each record meanwhile.
 */
export const DLQ_STATE_RETENTION_MS = 2 * DLQ_RETENTION_MS;
const HEARTBEAT_RETENTION_MS = DAY_MS;
const SCHEMA_CHANGES_RETENTION_MS = 30 * DAY_MS;
/** A signal nobody consumed within a day is stale: `cdc snapshot` gives up on it long before. */
const SIGNAL_RETENTION_MS = DAY_MS;
/** A month of incremental snapshot history, like the schema changes. */
const NOTIFICATION_RETENTION_MS = 30 * DAY_MS;
/** Connect's internal topic partition counts, as Kafka Connect itself defaults them. */
const CONNECT_OFFSETS_PARTITIONS = 25;
const CONNECT_STATUS_PARTITIONS = 5;

export function planTopics(spec: StackSpec): TopicSpec[] {
    return [...spec.pipelines.flatMap(pipelineTopics), ...connectTopics(spec)];
}

function pipelineTopics(pipeline: PipelineSpec): TopicSpec[] {
    const { source, sink, topics } = pipeline;
    const make = (name: string, role: TopicRole, partitions: number, config: Record<string, string>): TopicSpec => ({
        name,
        role,
        pipeline: pipeline.name,
        partitions,
        replicationFactor: topics.replicationFactor,
        config: { "min.insync.replicas": String(topics.minInsyncReplicas), ...config },
    });

    const result: TopicSpec[] = source.tables.map((table) =>
        make(dataTopicName(source, table), "data", topics.partitions, {
            "cleanup.policy": "delete",
            "retention.ms": String(topics.retentionMs),
            "compression.type": "lz4",
        }),
    );
    if (source.kind !== "postgres") {
        // Debezium rebuilds table schemas from this topic on every restart: one partition keeps DDL in
        // order, and anything but infinite retention eventually forces a recovery snapshot.
        result.push(
            make(schemaHistoryTopicName(source), "schema-history", 1, {
                "cleanup.policy": "delete",
                "retention.ms": "-1",
                "retention.bytes": "-1",
            }),
            make(schemaChangesTopicName(source), "schema-changes", 1, {
                "cleanup.policy": "delete",
                "retention.ms": String(SCHEMA_CHANGES_RETENTION_MS),
                "compression.type": "lz4",
            }),
        );
    }
    if (source.heartbeatIntervalMs > 0) {
        result.push(
            make(heartbeatTopicName(source), "heartbeat", 1, {
                "cleanup.policy": "delete",
                "retention.ms": String(HEARTBEAT_RETENTION_MS),
            }),
        );
    }
    // Debezium's Kafka signal channel reads partition 0 only; one partition also keeps notifications in order.
    result.push(
        make(signalTopicName(source), "signal", 1, { "cleanup.policy": "delete", "retention.ms": String(SIGNAL_RETENTION_MS) }),
        make(notificationTopicName(source), "notification", 1, {
            "cleanup.policy": "delete",
            "retention.ms": String(NOTIFICATION_RETENTION_MS),
        }),
    );
    if (sink.deadLetterQueue) {
        result.push(
            make(dlqTopicName(sink.connectorName), "dlq", 1, {
                "cleanup.policy": "delete",
                "retention.ms": String(DLQ_RETENTION_MS),
                "compression.type": "lz4",
                // Connect keeps the failed record's own timestamp on its dead letter; the broker's append time is
                // when the sink failed, which is what a DeadLetterRecord's error_timestamp means.
                "message.timestamp.type": "LogAppendTime",
            }),
            make(dlqStateTopicName(sink.connectorName), "dlq-state", 1, {
                "cleanup.policy": "compact,delete",
                "retention.ms": String(DLQ_STATE_RETENTION_MS),
            }),
        );
        const retryTopic = retryTopicOf(pipeline);
        // One partition keeps replays of one key in the order they were sent.
        if (retryTopic) {
            result.push(make(retryTopic, "dlq-retry", 1, { "cleanup.policy": "delete", "retention.ms": String(DLQ_RETENTION_MS) }));
        }
    }
    if (pipeline.lakehouse) {
        // The writer produces its dead letters here; brokers may not auto-create topics, and should not with defaults.
        result.push(
            make(lakehouseDlqTopicName(pipeline.name), "lakehouse-dlq", 1, {
                "cleanup.policy": "delete",
                "retention.ms": String(DLQ_RETENTION_MS),
                "compression.type": "lz4",
            }),
        );
    }
    return result;
}

/**
 * Connect's config/offsets/status topics are pre-created so their replication and min ISR follow the
 * environment profile, not broker defaults; Connect refuses them unless they are compacted.
 */
function connectTopics(spec: StackSpec): TopicSpec[] {
    const names = connectInternalTopics(spec.connect.name);
    const { replicationFactor, minInsyncReplicas } = spec.profile;
    const compacted = { "cleanup.policy": "compact", "min.insync.replicas": String(minInsyncReplicas) };
    return [
        { name: names.configStorageTopic, role: "connect-configs", partitions: 1, replicationFactor, config: compacted },
        {
            name: names.offsetStorageTopic,
            role: "connect-offsets",
            partitions: CONNECT_OFFSETS_PARTITIONS,
            replicationFactor,
            config: compacted,
        },
        {
            name: names.statusStorageTopic,
            role: "connect-status",
            partitions: CONNECT_STATUS_PARTITIONS,
            replicationFactor,
            config: compacted,
        },
    ];
}
