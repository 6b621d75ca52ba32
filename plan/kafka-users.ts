/**
 * The Kafka identities the stack owns: one Strimzi KafkaUser for Connect and one per lakehouse writer, each in the
 * Kafka cluster's namespace (where the User Operator watches) with ACLs for exactly the topics and consumer groups
 * that client uses, derived from the topic plan and the naming module. None when Kafka has no authentication
 * (kafka.authentication none): ACLs would then name a principal nobody authenticates as.
 */
import type { PipelineSpec, StackSpec } from "../model/spec";
import { MANAGED_BY_LABELS, STRIMZI_API_VERSION } from "./connect-cluster";
import {
    CONSOLE_CONSUMER_GROUP_PREFIX,
    connectInternalTopics,
    connectKafkaUserName,
    dataTopicPrefix,
    lakehouseConsumerGroup,
    lakehouseKafkaUserName,
    schemaHistoryConsumerGroup,
    signalConsumerGroup,
    sinkConsumerGroup,
} from "../model/naming";
import { planTopics, TopicSpec } from "./topics";

export type AclOperation = "Read" | "Write" | "Describe" | "DescribeConfigs";

export interface KafkaAcl {
    resource: { type: "topic" | "group"; name: string; patternType: "literal" | "prefix" };
    operations: AclOperation[];
}

export interface KafkaUserBody {
    apiVersion: typeof STRIMZI_API_VERSION;
    kind: "KafkaUser";
    metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
    spec: {
        authentication: { type: "scram-sha-512" | "tls" };
        authorization: { type: "simple"; acls: KafkaAcl[] };
    };
}

const literal = (type: KafkaAcl["resource"]["type"], name: string, operations: AclOperation[]): KafkaAcl => ({
    resource: { type, name, patternType: "literal" },
    operations,
});
const prefixed = (type: KafkaAcl["resource"]["type"], name: string, operations: AclOperation[]): KafkaAcl => ({
    resource: { type, name, patternType: "prefix" },
    operations,
});

/** One entry per resource, its operations merged, so the rendered list reads as one grant per topic or group. */
function merged(acls: KafkaAcl[]): KafkaAcl[] {
    const byResource = new Map<string, KafkaAcl>();
    for (const acl of acls) {
        const key = `${acl.resource.type}\u0000${acl.resource.patternType}\u0000${acl.resource.name}`;
        const known = byResource.get(key);
        if (known) known.operations = [...new Set([...known.operations, ...acl.operations])];
        else byResource.set(key, { resource: { ...acl.resource }, operations: [...acl.operations] });
    }
    return [...byResource.values()];
}

const topicsOf = (topics: TopicSpec[], pipeline: PipelineSpec, role: TopicSpec["role"]): TopicSpec[] =>
    topics.filter((t) => t.pipeline === pipeline.name && t.role === role);

/**
 * What Kafka Connect 4.x and the connectors of this stack do on the cluster:
 * - the workers read and write their config, offset and status topics and check their cleanup policy
 *   (DescribeConfigs); the stack creates those topics, and Connect treats a refused CreateTopics as "exists";
 * - the workers join the group `connect.name`, each sink's consumers `connect-<sink>`;
 * - sources write their data, schema-change and heartbeat topics; Debezium's schema history clients write and
 *   re-read their topic in the group `<topicPrefix>-schemahistory` and check its settings (DescribeConfigs);
 * - sinks read the data topics and write their dead letter topic.
 * - each source's Kafka signal channel reads its signal topic (partition 0, assigned) and commits to its own group
 *   `<topicPrefix>-signal`; the source task writes incremental snapshot notifications to its notification topic;
 * Exactly-once source support (`exactly.once.source.support`) is off in plan/connect-cluster.ts's worker config, so
 * no transactional id is granted.
 *
 * Some grants serve operators rather than Connect: Read on the dead letter topics and on the groups
 * `console-consumer-*`, which docs/runbooks.md's DLQ inspection uses with Connect's identity, and Write on the signal
 * topics and Read on the notification topics, which `cdc snapshot` uses with it. They expose nothing Connect cannot
 * already read or do: a dead letter is a record Connect took from its own data topics, a notification one it wrote,
 * and a signal asks its own connector to re-read tables it already captures.
 */
export function connectAcls(spec: StackSpec): KafkaAcl[] {
    const topics = planTopics(spec);
    const internal = connectInternalTopics(spec.connect.name);
    const acls: KafkaAcl[] = [
        ...[internal.configStorageTopic, internal.offsetStorageTopic, internal.statusStorageTopic].map((name) =>
            literal("topic", name, ["Read", "Write", "Describe", "DescribeConfigs"]),
        ),
        literal("group", internal.groupId, ["Read"]),
    ];
    for (const pipeline of spec.pipelines) {
        const { source, sink } = pipeline;
        acls.push(prefixed("topic", dataTopicPrefix(source), ["Read", "Write", "Describe"]));
        for (const t of topicsOf(topics, pipeline, "schema-history")) {
            acls.push(literal("topic", t.name, ["DescribeConfigs"]), literal("group", schemaHistoryConsumerGroup(source), ["Read"]));
        }
        for (const t of [...topicsOf(topics, pipeline, "schema-changes"), ...topicsOf(topics, pipeline, "heartbeat")]) {
            acls.push(literal("topic", t.name, ["Write", "Describe"]));
        }
        // Write on the signal topic and Read on the notification topic are for `cdc snapshot`, run with Connect's identity.
        for (const t of topicsOf(topics, pipeline, "signal")) {
            acls.push(literal("topic", t.name, ["Read", "Write", "Describe"]), literal("group", signalConsumerGroup(source), ["Read"]));
        }
        for (const t of topicsOf(topics, pipeline, "notification")) acls.push(literal("topic", t.name, ["Write", "Describe", "Read"]));
        for (const t of topicsOf(topics, pipeline, "dlq")) acls.push(literal("topic", t.name, ["Write", "Describe", "Read"]));
        // The sink reads its retry topic. Writing replays there and reading and writing the resolution state are for
        // `cdc dlq`, run with Connect's identity: nothing Connect cannot already read (records of its own data topics).
        for (const t of topicsOf(topics, pipeline, "dlq-retry")) acls.push(literal("topic", t.name, ["Read", "Write", "Describe"]));
        for (const t of topicsOf(topics, pipeline, "dlq-state")) acls.push(literal("topic", t.name, ["Read", "Write", "Describe"]));
        acls.push(literal("group", sinkConsumerGroup(sink.connectorName), ["Read"]));
    }
    acls.push(prefixed("group", CONSOLE_CONSUMER_GROUP_PREFIX, ["Read"]));
    return merged(acls);
}

/**
 * A writer assigns itself the partitions of its destinations' topics (Read, Describe for their metadata), produces
 * rejected events to its dead letter topic with an idempotent producer (Write on a topic is all Kafka 3+ asks of
 * one), and commits its position to its group for lag tooling (Read on the group).
 */
export function lakehouseAcls(spec: StackSpec, pipeline: PipelineSpec): KafkaAcl[] {
    const topics = planTopics(spec);
    return merged([
        ...pipeline.destinations.map((d) => literal("topic", d.topic, ["Read", "Describe"])),
        ...topicsOf(topics, pipeline, "lakehouse-dlq").map((t) => literal("topic", t.name, ["Write", "Describe"])),
        literal("group", lakehouseConsumerGroup(pipeline), ["Read"]),
    ]);
}

function kafkaUserBody(spec: StackSpec, name: string, labels: Record<string, string>, acls: KafkaAcl[]): KafkaUserBody | undefined {
    const { kafka } = spec;
    if (kafka.authentication === "none") return undefined;
    return {
        apiVersion: STRIMZI_API_VERSION,
        kind: "KafkaUser",
        metadata: {
            name,
            // The User Operator watches only its Kafka cluster's namespace, and picks users by this label.
            namespace: kafka.namespace,
            labels: { "strimzi.io/cluster": kafka.clusterName, ...MANAGED_BY_LABELS, ...labels },
            // Ready once the User Operator has written the user's Secret and ACLs; the KafkaAccess copies that Secret.
            annotations: { "pulumi.com/waitFor": "condition=Ready" },
        },
        spec: { authentication: { type: kafka.authentication }, authorization: { type: "simple", acls } },
    };
}

export function connectKafkaUserBody(spec: StackSpec): KafkaUserBody | undefined {
    return kafkaUserBody(spec, connectKafkaUserName(spec.connect.name), { "app.kubernetes.io/name": "kafka-connect" }, connectAcls(spec));
}

export function lakehouseKafkaUserBody(spec: StackSpec, pipeline: PipelineSpec): KafkaUserBody | undefined {
    if (!spec.lakehouse) throw new Error("no lakehouse section in the spec");
    const labels = { "app.kubernetes.io/name": "cdc-lakehouse", "cdc.pipeline/name": pipeline.name };
    return kafkaUserBody(spec, lakehouseKafkaUserName(spec.lakehouse, pipeline), labels, lakehouseAcls(spec, pipeline));
}
