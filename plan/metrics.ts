/**
 * Prometheus JMX exporter rules for the Connect pods (the text of the KafkaConnect's metrics ConfigMap; the sandbox's
 * worker runs the exporter agent with the very same text). They cover what Strimzi's Connect example covers (worker,
 * rebalance, coordinator, connector, task, source/sink task and task-error metrics, the Kafka clients Connect runs for
 * its connectors) and Debezium's connector MBeans in both of their shapes.
 *
 * The exporter matches each attribute as `domain<key=value, key=value, ...><>attribute` with the keys in the order
 * the MBean was registered under, and the first matching rule wins: the specific rules come before the general ones.
 * Attributes named `*-total` are Kafka's cumulative counts and are typed COUNTER, so the exporter names them
 * `..._total` as Prometheus expects; the exporter would otherwise drop the suffix of an untyped `_total` name.
 */
import { stringify } from "yaml";

interface Rule {
    pattern: string;
    name: string;
    type?: "GAUGE" | "COUNTER";
    labels?: Record<string, string>;
    value?: string;
    valueFactor?: number;
    cache?: boolean;
}

/** A key value, without the quotes Kafka puts around values with `:` (a worker's client id is its host:port). */
const VALUE = `"?([^,">]+)"?`;
/** A Kafka metric attribute name. */
const ATTRIBUTE = "([a-z-]+)";

/** Two rules for one MBean shape: its `*-total` attributes as counters, the others untyped. */
function withCounters(pattern: (attribute: string) => string, name: string, labels?: Record<string, string>): Rule[] {
    return [
        { pattern: pattern("([a-z-]+)-total"), name, type: "COUNTER", ...(labels ? { labels } : {}) },
        { pattern: pattern(ATTRIBUTE), name, ...(labels ? { labels } : {}) },
    ];
}

const connectRules: Rule[] = [
    {
        // Connector and task state as one series per state, value 1 for the current one.
        pattern: `kafka.connect<type=connector-metrics, connector=${VALUE}><>status: ([a-z-]+)`,
        name: "kafka_connect_connector_status",
        type: "GAUGE",
        labels: { connector: "$1", status: "$2" },
        value: "1",
    },
    {
        pattern: `kafka.connect<type=connector-task-metrics, connector=${VALUE}, task=${VALUE}><>status: ([a-z-]+)`,
        name: "kafka_connect_connector_task_status",
        type: "GAUGE",
        labels: { connector: "$1", task: "$2", status: "$3" },
        value: "1",
    },
    {
        // Batch sizes, offset commit times and success percentages, running/pause ratios.
        pattern: `kafka.connect<type=connector-task-metrics, connector=${VALUE}, task=${VALUE}><>${ATTRIBUTE}`,
        name: "kafka_connect_connector_task_$3",
        labels: { connector: "$1", task: "$2" },
    },
    ...withCounters(
        (attribute) => `kafka.connect<type=(sink|source)-task-metrics, connector=${VALUE}, task=${VALUE}><>${attribute}`,
        "kafka_connect_$1_task_$4",
        { connector: "$2", task: "$3" },
    ),
    ...withCounters(
        (attribute) => `kafka.connect<type=task-error-metrics, connector=${VALUE}, task=${VALUE}><>${attribute}`,
        "kafka_connect_task_error_$3",
        { connector: "$1", task: "$2" },
    ),
    {
        // Per connector on this worker: its tasks by state.
        pattern: `kafka.connect<type=connect-worker-metrics, connector=${VALUE}><>${ATTRIBUTE}`,
        name: "kafka_connect_worker_$2",
        labels: { connector: "$1" },
    },
    ...withCounters((attribute) => `kafka.connect<type=connect-worker-metrics><>${attribute}`, "kafka_connect_worker_$1"),
    ...withCounters(
        (attribute) => `kafka.connect<type=connect-worker-rebalance-metrics><>${attribute}`,
        "kafka_connect_worker_rebalance_$1",
    ),
    ...withCounters(
        (attribute) => `kafka.connect<type=connect-coordinator-metrics, client-id=${VALUE}><>${attribute}`,
        "kafka_connect_coordinator_$2",
        { client_id: "$1" },
    ),
];

/**
 * The producers (source tasks, DLQ) and consumers (sink tasks) Connect runs per task, named
 * `connector-producer-<connector>-<task>`, `connector-consumer-<connector>-<task>` and
 * `connector-dlq-producer-<connector>-<task>`; the sink's consumer lag per partition comes from here.
 */
const clientRules: Rule[] = [
    {
        pattern: `kafka.(connect|consumer|producer|admin.client)<type=app-info, client-id=${VALUE}><>start-time-ms`,
        name: "kafka_$1_start_time_seconds",
        type: "GAUGE",
        labels: { client_id: "$2" },
        valueFactor: 0.001,
    },
    ...withCounters(
        (attribute) => `kafka.(consumer|producer)<type=(.+)-metrics, client-id=${VALUE}, topic=${VALUE}, partition=${VALUE}><>${attribute}`,
        "kafka_$2_$6",
        { client_id: "$3", topic: "$4", partition: "$5" },
    ),
    ...withCounters(
        (attribute) => `kafka.(consumer|producer)<type=(.+)-metrics, client-id=${VALUE}, topic=${VALUE}><>${attribute}`,
        "kafka_$2_$5",
        { client_id: "$3", topic: "$4" },
    ),
    ...withCounters((attribute) => `kafka.(consumer|producer)<type=(.+)-metrics, client-id=${VALUE}><>${attribute}`, "kafka_$2_$4", {
        client_id: "$3",
    }),
];

/**
 * Debezium registers `debezium.<connector type>:type=connector-metrics,...` in two shapes: `context, server` for a
 * connector with one task reading one database (PostgreSQL, MySQL, MariaDB), and `server, task, context[, database]`
 * for a multi-partition connector (SQL Server: queue metrics per task, streaming and snapshot metrics per database).
 * Debezium appends `custom.metric.tags` after these keys; they are matched and not exported.
 */
const debeziumRules: Rule[] = [
    {
        pattern: `debezium.([^:<]+)<type=connector-metrics, context=${VALUE}, server=${VALUE}(?:, .+)?><>([A-Za-z]+)`,
        name: "debezium_metrics_$4",
        labels: { plugin: "$1", context: "$2", name: "$3" },
    },
    {
        pattern: `debezium.([^:<]+)<type=connector-metrics, server=${VALUE}, task=${VALUE}, context=${VALUE}(?:, database=${VALUE})?(?:, .+)?><>([A-Za-z]+)`,
        name: "debezium_metrics_$6",
        labels: { plugin: "$1", name: "$2", task: "$3", context: "$4", database: "$5" },
    },
];

/**
 * Micrometer's `process_cpu_usage` (seed 000 §8) is the same MXBean attribute: the JVM process's share of all CPUs of
 * the machine, 0 to 1. The exporter's own JVM metrics add `jvm_memory_used_bytes{area}` and `process_cpu_seconds_total`.
 */
const jvmRules: Rule[] = [{ pattern: "java.lang<type=OperatingSystem><>ProcessCpuLoad", name: "process_cpu_usage", type: "GAUGE" }];

export const jmxExporterRules: readonly Rule[] = [...connectRules, ...clientRules, ...debeziumRules, ...jvmRules];

/**
 * The exporter runs every rule's regex on every attribute of every MBean at each scrape, in the worker the tasks run
 * in: in the benchmark's drain that was 30 % of the worker's CPU samples at a 3 s scrape interval (bench/RESULTS.md).
 * Two things make a scrape cheap without changing what it exports. Each pattern is anchored at the domain, so a
 * pattern that cannot match fails at the first character instead of being tried at every offset (the exporter wraps
 * it in `^.*(?:…).*$`). And each rule's match result is cached per MBean attribute: the exporter then matches a
 * name once and reads the value fresh at every scrape. A cached rule is matched against `<cache>` in place of the
 * value, so a rule that reads the value in its pattern (the state rules) is not cached.
 */
export function jmxExporterConfig(): string {
    const rules = jmxExporterRules.map((rule) => ({
        ...rule,
        pattern: `^${rule.pattern}`,
        ...(readsValue(rule) ? {} : { cache: true }),
    }));
    return stringify({ lowercaseOutputName: true, lowercaseOutputLabelNames: true, rules });
}

const readsValue = (rule: Rule) => /><>[^:]*: /.test(rule.pattern);
