/**
 * JDBC sinks: failed records go to a dead letter queue with their error context, upserts and deletes
 * have the primary key they need, sinks read only data topics, and where required they reach the target
 * over verified TLS.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { encryptionSettings, VERIFYING_SSL_MODES } from "../lib/tls";
import {
    ConnectorView,
    connectorView,
    primaryKeySettings,
    sinkConsumes,
    sourceAuxiliaryTopics,
    splitList,
    viewOf,
} from "../lib/connectors";
import { forTypes } from "../lib/match";
import { asRecord, isKafkaConnect, isKafkaConnector, KAFKA_CONNECTOR_TYPES, topicsByName } from "../lib/resources";

function sinkOnly(props: Record<string, unknown>, name: string, notApplicable: (reason: string) => never): ConnectorView {
    const view = connectorView(props, name);
    if (view.role !== "sink") notApplicable("applies to sink connectors");
    return view;
}

const sinkEncryption = encryptionSettings("sink");

/** The `sslmode` of a `jdbc:postgresql://` URL, lower-cased; undefined when absent (the driver then uses prefer). */
export function jdbcSslMode(url: string): string | undefined {
    const query = url.split("?")[1] ?? "";
    const param = query.split("&").find((p) => p.split("=")[0].trim().toLowerCase() === "sslmode");
    return param?.split("=")[1]?.trim().toLowerCase();
}

export const sinkDatabaseEncryption: ResourceValidationPolicy = {
    name: "sink-database-encryption",
    description: "Where the environment requires it (prod), PostgreSQL sinks connect to the target with sslmode=verify-full or verify-ca.",
    enforcementLevel: "mandatory",
    configSchema: sinkEncryption.schema,
    validateResource: forTypes(KAFKA_CONNECTOR_TYPES, (props, args, report) => {
        const { requireEncryption } = sinkEncryption.read(args);
        if (!requireEncryption) args.notApplicable("this environment does not require encrypted sink connections");
        const view = sinkOnly(props, args.name, (reason) => args.notApplicable(reason));
        const url = view.config["connection.url"]?.trim();
        if (!url?.toLowerCase().startsWith("jdbc:postgresql:")) args.notApplicable("applies to PostgreSQL JDBC sinks");
        const mode = jdbcSslMode(url!);
        if (!mode || !VERIFYING_SSL_MODES.postgres.allowed.includes(mode)) {
            report(
                `${view.label} connects to the target with sslmode=${mode ?? "unset (the driver's prefer)"}, which does not both encrypt and verify the server; every replicated row and the writer's password cross this connection. ` +
                    `Fix: set the sink's sslMode to verify-full (or verify-ca) in the stack config and mount the target's CA (connect.databaseCaSecret).`,
            );
        }
    }),
};

const tolerance = (view: ConnectorView): string => (view.config["errors.tolerance"] ?? "none").trim().toLowerCase();
const DLQ_TOPIC = "errors.deadletterqueue.topic.name";
const DLQ_HEADERS = "errors.deadletterqueue.context.headers.enable";

export const sinkDeadLetterQueue: ResourceValidationPolicy = {
    name: "sink-dead-letter-queue",
    description:
        "A sink that tolerates errors (errors.tolerance=all) routes failed records to a dead letter queue topic with error context headers.",
    enforcementLevel: "mandatory",
    validateResource: forTypes(KAFKA_CONNECTOR_TYPES, (props, args, report) => {
        const view = sinkOnly(props, args.name, (reason) => args.notApplicable(reason));
        const dlq = view.config[DLQ_TOPIC]?.trim();
        if (tolerance(view) === "all") {
            if (!dlq) {
                report(
                    `${view.label} sets errors.tolerance=all without ${DLQ_TOPIC}: every record that fails conversion or its write is silently skipped and lost from the target. ` +
                        `Fix: set ${DLQ_TOPIC} (dlq-<connector name>) and declare that topic, or set errors.tolerance=none.`,
                );
            } else if (view.config[DLQ_HEADERS]?.toLowerCase() !== "true") {
                report(
                    `${view.label} sends failed records to "${dlq}" without ${DLQ_HEADERS}=true; they arrive without the error, topic, partition and offset needed to fix and replay them. ` +
                        `Fix: set ${DLQ_HEADERS} to "true".`,
                );
            }
        } else if (dlq) {
            report(
                `${view.label} names a dead letter queue ("${dlq}") but errors.tolerance is ${tolerance(view)}, so nothing is ever routed there (the Debezium JDBC sink rejects the combination). ` +
                    "Fix: set errors.tolerance=all or remove the dead letter queue settings.",
            );
        }
    }),
};

export const sinkDeadLetterTopicExists: StackValidationPolicy = {
    name: "sink-dead-letter-topic-exists",
    description: "Every dead letter queue a sink writes to is a topic declared in this stack (replication and retention under control).",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const topics = topicsByName(args.resources);
        const sinks = args.resources
            .filter((r) => isKafkaConnector(r.type))
            .map((r) => ({ r, view: viewOf(r) }))
            .filter(({ view }) => view.role === "sink");
        const withDlq = sinks.filter(({ view }) => tolerance(view) === "all" && view.config[DLQ_TOPIC]);
        if (withDlq.length === 0) args.notApplicable("no sink writes to a dead letter queue");
        for (const { r, view } of withDlq) {
            const name = view.config[DLQ_TOPIC].trim();
            if (!topics.has(name)) {
                report(
                    `${view.label} routes failed records to "${name}", but the stack declares no such topic; Connect would create it with ` +
                        `replication factor ${view.config["errors.deadletterqueue.topic.replication.factor"] ?? 3} and broker-default retention, or fail on a small cluster. ` +
                        `Fix: declare the topic "${name}" with the environment's replication and 30 days retention.`,
                    r.urn,
                );
            }
        }
    },
};

const KEYED_MODES = new Set(["record_key", "record_value", "record_header"]);

export const sinkUpsertPrimaryKey: ResourceValidationPolicy = {
    name: "sink-upsert-primary-key",
    description:
        "Sinks writing with insert.mode upsert or update declare a key-based primary key mode (primary.key.mode / pk.mode) and, for record_value, the key fields.",
    enforcementLevel: "mandatory",
    validateResource: forTypes(KAFKA_CONNECTOR_TYPES, (props, args, report) => {
        const view = sinkOnly(props, args.name, (reason) => args.notApplicable(reason));
        const mode = (view.config["insert.mode"] ?? "insert").trim().toLowerCase();
        if (mode !== "upsert" && mode !== "update") return;
        const pk = primaryKeySettings(view);
        if (!pk.mode || !KEYED_MODES.has(pk.mode)) {
            report(
                `${view.label} writes with insert.mode=${mode} but ${pk.modeKey} is ${pk.mode ?? "unset (none)"}; without the row's key it cannot find the row to update, ` +
                    "so redelivered or updated changes duplicate or fail. " +
                    `Fix: set ${pk.modeKey}=record_key (the Debezium key carries the source primary key).`,
            );
        } else if (pk.mode === "record_value" && pk.fields.length === 0) {
            report(
                `${view.label} uses ${pk.modeKey}=record_value without ${pk.fieldsKey}, so it cannot tell which value fields form the key. ` +
                    `Fix: set ${pk.fieldsKey} to the primary key columns, or use ${pk.modeKey}=record_key.`,
            );
        }
    }),
};

export const sinkDeleteRequiresRecordKey: ResourceValidationPolicy = {
    name: "sink-delete-requires-record-key",
    description: "Sinks with delete.enabled=true take the primary key from the record key (primary.key.mode / pk.mode = record_key).",
    enforcementLevel: "mandatory",
    validateResource: forTypes(KAFKA_CONNECTOR_TYPES, (props, args, report) => {
        const view = sinkOnly(props, args.name, (reason) => args.notApplicable(reason));
        if (view.config["delete.enabled"]?.trim().toLowerCase() !== "true") return;
        const pk = primaryKeySettings(view);
        if (pk.mode !== "record_key") {
            report(
                `${view.label} sets delete.enabled=true with ${pk.modeKey}=${pk.mode ?? "none"}; a delete event or tombstone carries only the key, ` +
                    `so the sink refuses to start or cannot delete the row. Fix: set ${pk.modeKey}=record_key.`,
            );
        }
    }),
};

export const sinkTopicsExcludeInternal: StackValidationPolicy = {
    name: "sink-topics-exclude-internal",
    description:
        "Sinks consume only data topics: never schema history, schema change, heartbeat, signal, notification, dead letter or Kafka Connect internal topics.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const connectors = args.resources.filter((r) => isKafkaConnector(r.type)).map((r) => ({ r, view: viewOf(r) }));
        const sinks = connectors.filter(({ view }) => view.role === "sink");
        if (sinks.length === 0) args.notApplicable("no sink connectors in this stack");
        const internal = new Map<string, string>();
        for (const { view } of connectors) {
            if (view.role === "source") {
                for (const { topic, role } of sourceAuxiliaryTopics(view)) internal.set(topic, `the ${role} topic of ${view.label}`);
            } else if (view.config[DLQ_TOPIC]) {
                internal.set(view.config[DLQ_TOPIC].trim(), `the dead letter queue of ${view.label}`);
            }
        }
        for (const cluster of args.resources.filter((r) => isKafkaConnect(r.type))) {
            const spec = asRecord(cluster.props.spec);
            for (const key of ["configStorageTopic", "offsetStorageTopic", "statusStorageTopic"]) {
                if (typeof spec[key] === "string") internal.set(spec[key], "a Kafka Connect internal topic");
            }
        }
        for (const { r, view } of sinks) {
            const listed = splitList(view.config.topics);
            for (const [topic, what] of internal) {
                if (!sinkConsumes(view, topic)) continue;
                const how = listed.includes(topic) ? "lists it in topics" : `matches it with topics.regex ${view.config["topics.regex"]}`;
                report(
                    `${view.label} consumes "${topic}", ${what} (it ${how}); the sink would write these records into target tables or loop failures back into itself. ` +
                        "Fix: consume only the data topics (name them in topics, or anchor topics.regex to exclude this one).",
                    r.urn,
                );
            }
        }
    },
};
