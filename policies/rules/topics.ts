/**
 * Kafka topics: replication that survives a broker loss, deletion protection for stateful topics, and
 * the topic invariants Debezium and Kafka Connect rely on (schema history, Connect's internal topics).
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { boolean, integer, settings } from "../lib/config";
import { viewOf } from "../lib/connectors";
import { forTypes } from "../lib/match";
import { asRecord, isKafkaConnect, isKafkaConnector, k8sLabel, TOPIC, topicConfig, topicLabel, topicsByName } from "../lib/resources";

const replicationFactorSettings = settings<{ minReplicationFactor: number }>({
    minReplicationFactor: integer(
        3,
        "Smallest replication factor any topic may have (the environment profile's minimumReplicationFactor).",
        1,
    ),
});

export const kafkaTopicReplicationFactor: ResourceValidationPolicy = {
    name: "kafka-topic-replication-factor",
    description: "Kafka topics are replicated at least as often as the environment requires (3 in prod).",
    enforcementLevel: "mandatory",
    configSchema: replicationFactorSettings.schema,
    validateResource: forTypes([TOPIC], (topic, args, report) => {
        const { minReplicationFactor } = replicationFactorSettings.read(args);
        const rf = topic.replicationFactor;
        if (typeof rf !== "number" || rf < minReplicationFactor) {
            report(
                `${topicLabel(topic, args.name)} has replication factor ${rf ?? "(unset)"}, below the ${minReplicationFactor} this environment requires; ` +
                    `losing one broker would lose acknowledged change events. Fix: set replicationFactor to at least ${minReplicationFactor} ` +
                    `(pipelines[].topics.replicationFactor in the stack config, or remove the override to use the environment profile).`,
            );
        }
    }),
};

const minIsrSettings = settings<{ minInsyncReplicas: number }>({
    minInsyncReplicas: integer(
        2,
        "Smallest min.insync.replicas a replicated topic may have (the environment profile's minInsyncReplicas).",
        1,
    ),
});

export const kafkaTopicMinInsyncReplicas: ResourceValidationPolicy = {
    name: "kafka-topic-min-insync-replicas",
    description: "Kafka topics set min.insync.replicas explicitly, at least the environment minimum and below the replication factor.",
    enforcementLevel: "mandatory",
    configSchema: minIsrSettings.schema,
    validateResource: forTypes([TOPIC], (topic, args, report) => {
        const { minInsyncReplicas } = minIsrSettings.read(args);
        const label = topicLabel(topic, args.name);
        const rf = typeof topic.replicationFactor === "number" ? topic.replicationFactor : undefined;
        const raw = topicConfig(topic)["min.insync.replicas"];
        const isr = raw === undefined ? undefined : Number(raw);
        // A single-replica topic (dev) can only have min ISR 1; anything replicated must tolerate one loss.
        const required = rf === 1 ? 1 : minInsyncReplicas;
        if (isr === undefined || !Number.isInteger(isr)) {
            report(
                `${label} does not set min.insync.replicas, so the broker default (usually 1) applies and acks=all writes can be acknowledged by a single replica. ` +
                    `Fix: set config["min.insync.replicas"] to ${required} (pipelines[].topics.minInsyncReplicas, default from the environment profile).`,
            );
            return;
        }
        if (isr < required) {
            report(
                `${label} has min.insync.replicas ${isr}, below the ${required} this environment requires; a write acknowledged by fewer replicas is lost with one broker. ` +
                    `Fix: set min.insync.replicas to ${required}.`,
            );
        }
        if (rf !== undefined && isr >= rf && !(rf === 1 && isr === 1)) {
            report(
                `${label} has min.insync.replicas ${isr} with replication factor ${rf}; ` +
                    `${isr === rf ? "any single broker outage would stop acks=all producers" : "every acks=all write would fail"}. ` +
                    `Fix: ${rf > 1 ? `set min.insync.replicas to ${rf - 1} (below the replication factor)` : "set min.insync.replicas to 1 or raise the replication factor"}.`,
            );
        }
    }),
};

const protectSettings = settings<{ requireProtect: boolean }>({
    requireProtect: boolean(
        true,
        "Whether topics must carry the `protect` resource option (the environment profile's protectStatefulResources).",
    ),
});

export const kafkaTopicProtected: ResourceValidationPolicy = {
    name: "kafka-topic-protected",
    description: "Stateful Kafka topics are protected from deletion where the environment requires it (prod).",
    enforcementLevel: "mandatory",
    configSchema: protectSettings.schema,
    validateResource: forTypes([TOPIC], (topic, args, report) => {
        const { requireProtect } = protectSettings.read(args);
        if (!requireProtect) args.notApplicable("this environment does not require protected topics");
        if (!args.opts.protect) {
            report(
                `${topicLabel(topic, args.name)} is not protected: removing it from the program or replacing it deletes the topic and its change events. ` +
                    `Fix: create it with { protect: true, retainOnDelete: true } (CdcTopics does when the environment profile sets protectStatefulResources).`,
            );
        }
    }),
};

export const schemaHistoryTopic: StackValidationPolicy = {
    name: "schema-history-topic",
    description: "Every Debezium schema history topic is declared with one partition, delete cleanup and infinite retention.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const topics = topicsByName(args.resources);
        const sources = args.resources.filter((r) => isKafkaConnector(r.type)).map((r) => ({ r, view: viewOf(r) }));
        const withHistory = sources.filter(({ view }) => view.role === "source" && view.config["schema.history.internal.kafka.topic"]);
        if (withHistory.length === 0) args.notApplicable("no source connector keeps a schema history topic");
        for (const { r, view } of withHistory) {
            const name = view.config["schema.history.internal.kafka.topic"];
            const topic = topics.get(name);
            if (!topic) {
                report(
                    `${view.label} keeps its schema history in "${name}", but the stack declares no such topic; Debezium would create it with broker defaults. ` +
                        `Fix: declare "${name}" with 1 partition, cleanup.policy=delete, retention.ms=-1 and retention.bytes=-1.`,
                    r.urn,
                );
                continue;
            }
            const config = topicConfig(topic.props);
            const problems: string[] = [];
            if (topic.props.partitions !== 1)
                problems.push(`partitions is ${topic.props.partitions} (must be 1: DDL must be replayed in order)`);
            if ((config["cleanup.policy"] ?? "delete") !== "delete")
                problems.push(`cleanup.policy is ${config["cleanup.policy"]} (must be delete: compaction drops keyless history records)`);
            if (config["retention.ms"] !== "-1")
                problems.push(`retention.ms is ${config["retention.ms"] ?? "the broker default"} (must be -1)`);
            if ((config["retention.bytes"] ?? "-1") !== "-1") problems.push(`retention.bytes is ${config["retention.bytes"]} (must be -1)`);
            if (problems.length > 0) {
                report(
                    `Schema history ${topicLabel(topic.props, topic.name)} of ${view.label}: ${problems.join("; ")}. ` +
                        "Losing history forces a recovery snapshot or stops the connector. Fix: set partitions 1, cleanup.policy=delete, retention.ms=-1, retention.bytes=-1.",
                    topic.urn,
                );
            }
        }
    },
};

export const connectInternalTopicsCompacted: StackValidationPolicy = {
    name: "connect-internal-topics-compacted",
    description: "Kafka Connect's config, offset and status topics, where the stack declares them, are compacted.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const topics = topicsByName(args.resources);
        const clusters = args.resources.filter((r) => isKafkaConnect(r.type));
        if (clusters.length === 0) args.notApplicable("no KafkaConnect in this stack");
        for (const cluster of clusters) {
            const spec = asRecord(cluster.props.spec);
            const config = asRecord(spec.config);
            const internal = {
                configs: spec.configStorageTopic ?? config["config.storage.topic"],
                offsets: spec.offsetStorageTopic ?? config["offset.storage.topic"],
                status: spec.statusStorageTopic ?? config["status.storage.topic"],
            };
            for (const [role, name] of Object.entries(internal)) {
                const topic = typeof name === "string" ? topics.get(name) : undefined;
                if (!topic) continue; // Connect creates undeclared ones itself, compacted.
                const policy = topicConfig(topic.props)["cleanup.policy"];
                if (policy !== "compact") {
                    report(
                        `${topicLabel(topic.props, topic.name)} holds the ${role} of ${k8sLabel("KafkaConnect", cluster.props, cluster.name)} but has cleanup.policy=${policy ?? "(broker default)"}; ` +
                            "deleting old records erases connector configs and source offsets (a re-snapshot) and Connect refuses non-compacted internal topics. " +
                            'Fix: set config["cleanup.policy"] to "compact".',
                        topic.urn,
                    );
                }
            }
        }
    },
};
