/**
 * Seed 000 §8's metric names as Prometheus recording rules over what the exporters really emit (plan/metrics.ts's
 * JMX exporter rules on the Connect pods): the idiomatic way to give derived series stable names. One meaning per
 * name: seed 004 §4.3's names (`cdc_lag_seconds`, `cdc_events_processed_total`, `cdc_events_failed_total`,
 * `cdc_pipeline_health`, `cdc_throughput_events_per_second`) are the lakehouse writer's own metrics and are not
 * recorded here; seed 000's task status, `process_cpu_usage` and `jvm_memory_used_bytes` are raw exporter series
 * (see SEED_METRICS); the DLQ size needs Strimzi's Kafka Exporter, which runs with the `Kafka`, not with this stack.
 */
import type { PipelineSpec, StackSpec } from "../model/spec";
import { dataTopicName } from "../model/naming";

export interface RecordingRule {
    record: string;
    expr: string;
    labels?: Record<string, string>;
}

export const RECORDING_GROUP_NAME = "cdc-seed-metrics";

/**
 * The rate window: four scrapes of the PodMonitors' 30 s interval, so a rate always has samples to work with
 * (Prometheus's rule of thumb), in the sandbox's 3 s scrapes as much as in the cluster.
 */
export const RATE_WINDOW = "2m";

/** Connect names a task's consumer `connector-consumer-<connector>-<task>` (Worker.taskConsumerConfigs). */
const sinkConsumerClient = (sinkConnector: string) => `client_id=~"connector-consumer-${escapeRegex(sinkConnector)}-[0-9]+"`;

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\\\$&");

/** The seed's table label: `schema.table` as the source names it (`dbo.customers`, `public.orders`, `inventory.products`). */
export const seedTableName = (t: { schema: string; table: string }) => `${t.schema}.${t.table}`;

/**
 * Per source table: how far the target is behind the source. Debezium's lag of its last event behind the source
 * commit (the streaming MilliSecondsBehindSource; -1 before the first event, so clamped at 0), plus the time the sink
 * needs to drain what it has not consumed yet of the table's topic: its consumer's records-lag divided by its
 * consumption rate over the window (at least one record a second, so a stalled sink shows its backlog in seconds
 * rather than no value).
 */
function replicationLagRules(spec: StackSpec, p: PipelineSpec): RecordingRule[] {
    const ns = `namespace="${spec.namespace}"`;
    const source = `clamp_min(max by (namespace) (debezium_metrics_millisecondsbehindsource{${ns},context="streaming",name="${p.source.topicPrefix}"}), 0) / 1000`;
    return p.source.tables.map((t) => {
        const topic = `topic="${dataTopicName(p.source, t)}"`;
        const client = sinkConsumerClient(p.sink.connectorName);
        const backlog = `sum by (namespace) (kafka_consumer_fetch_manager_records_lag{${ns},${client},${topic}})`;
        // The consumer creates a topic's consumed counter with the topic's first records: until then the rate is 0.
        const consumed = `sum by (namespace) (rate(kafka_consumer_fetch_manager_records_consumed_total{${ns},${client},${topic}}[${RATE_WINDOW}]))`;
        const drainRate = `clamp_min(${consumed} or on (namespace) (0 * ${backlog}), 1)`;
        return {
            record: "cdc_replication_lag_seconds",
            expr: `${source} + on (namespace) (${backlog} / on (namespace) ${drainRate})`,
            labels: { connector: p.source.connectorName, table: seedTableName(t) },
        };
    });
}

/** Errors per minute (the seed's unit) by kind, per connector. */
function errorRateRules(spec: StackSpec): RecordingRule[] {
    const ns = `namespace="${spec.namespace}"`;
    const perMinute = (counter: string) => `sum by (namespace, connector) (rate(${counter}{${ns}}[${RATE_WINDOW}])) * 60`;
    const rules: RecordingRule[] = [
        {
            // Records that failed in conversion, a transformation or the sink's put after retries (tolerated or not).
            record: "cdc_error_rate",
            expr: perMinute("kafka_connect_task_error_total_record_errors"),
            labels: { type: "record" },
        },
        {
            record: "cdc_error_rate",
            expr: perMinute("kafka_connect_task_error_deadletterqueue_produce_requests"),
            labels: { type: "dead_letter" },
        },
    ];
    // Debezium counts events it could not process (NumberOfErroneousEvents) per source, named by its topic prefix.
    for (const p of spec.pipelines) {
        rules.push({
            record: "cdc_error_rate",
            expr: `sum by (namespace) (rate(debezium_metrics_numberoferroneousevents{${ns},name="${p.source.topicPrefix}"}[${RATE_WINDOW}])) * 60`,
            labels: { connector: p.source.connectorName, type: "source_event" },
        });
    }
    return rules;
}

/** Records per second through each connector: into Kafka for a source, into the target for a sink. */
function throughputRules(spec: StackSpec): RecordingRule[] {
    const ns = `namespace="${spec.namespace}"`;
    return [
        {
            // Records the source task wrote to Kafka (after its transformations, so filtered records do not count).
            record: "cdc_throughput_records_per_second",
            expr: `sum by (namespace, connector) (rate(kafka_connect_source_task_source_record_write_total{${ns}}[${RATE_WINDOW}]))`,
            labels: { direction: "source" },
        },
        {
            // Records the sink task handed to the sink connector to write (after its transformations).
            record: "cdc_throughput_records_per_second",
            expr: `sum by (namespace, connector) (rate(kafka_connect_sink_task_sink_record_send_total{${ns}}[${RATE_WINDOW}]))`,
            labels: { direction: "sink" },
        },
    ];
}

export function recordingRules(spec: StackSpec): RecordingRule[] {
    return [...spec.pipelines.flatMap((p) => replicationLagRules(spec, p)), ...throughputRules(spec), ...errorRateRules(spec)];
}

export function recordingRuleGroup(spec: StackSpec) {
    return { name: RECORDING_GROUP_NAME, rules: recordingRules(spec) };
}

/** Where each seed metric comes from; the README's table says the same for people. */
export interface SeedMetricSource {
    seed: "000 §8" | "004 §4.3";
    name: string;
    labels: string[];
    source: "recording rule" | "JMX exporter" | "lakehouse writer" | "Kafka Exporter (not deployed by this stack)";
}

export const SEED_METRICS: readonly SeedMetricSource[] = [
    { seed: "000 §8", name: "cdc_replication_lag_seconds", labels: ["connector", "table"], source: "recording rule" },
    { seed: "000 §8", name: "cdc_throughput_records_per_second", labels: ["connector", "direction"], source: "recording rule" },
    { seed: "000 §8", name: "cdc_error_rate", labels: ["connector", "type"], source: "recording rule" },
    {
        seed: "000 §8",
        name: "kafka_topic_partition_current_offset",
        labels: ["topic", "partition"],
        source: "Kafka Exporter (not deployed by this stack)",
    },
    { seed: "000 §8", name: "kafka_connect_connector_task_status", labels: ["connector", "task", "status"], source: "JMX exporter" },
    { seed: "000 §8", name: "process_cpu_usage", labels: ["connector"], source: "JMX exporter" },
    { seed: "000 §8", name: "jvm_memory_used_bytes", labels: ["connector", "area"], source: "JMX exporter" },
    { seed: "004 §4.3", name: "cdc_lag_seconds", labels: ["pipeline_id", "source_table", "destination_table"], source: "lakehouse writer" },
    { seed: "004 §4.3", name: "cdc_events_processed_total", labels: ["pipeline_id", "operation"], source: "lakehouse writer" },
    { seed: "004 §4.3", name: "cdc_events_failed_total", labels: ["pipeline_id", "error_type"], source: "lakehouse writer" },
    { seed: "004 §4.3", name: "cdc_pipeline_health", labels: ["pipeline_id"], source: "lakehouse writer" },
    { seed: "004 §4.3", name: "cdc_throughput_events_per_second", labels: ["pipeline_id"], source: "lakehouse writer" },
];
