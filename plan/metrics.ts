/**
 * Prometheus JMX exporter rules for the Connect pods. Strimzi's example rules cover the worker,
 * connectors and tasks only; the Debezium rules add the source-side signals teams page on
 * (connected, lag behind the source, queue capacity, snapshot progress).
 */
import { stringify } from "yaml";

interface Rule {
    pattern: string;
    name: string;
    type?: "GAUGE" | "COUNTER";
    labels?: Record<string, string>;
    value?: string;
}

const rules: Rule[] = [
    {
        // Connector and task state as one series per state, value 1 for the current one.
        pattern: "kafka.connect<type=connector-metrics, connector=(.+)><>status: ([a-z-]+)",
        name: "kafka_connect_connector_status",
        type: "GAUGE",
        labels: { connector: "$1", status: "$2" },
        value: "1",
    },
    {
        pattern: "kafka.connect<type=connector-task-metrics, connector=(.+), task=(.+)><>status: ([a-z-]+)",
        name: "kafka_connect_connector_task_status",
        type: "GAUGE",
        labels: { connector: "$1", task: "$2", status: "$3" },
        value: "1",
    },
    {
        pattern: "kafka.connect<type=(sink|source)-task-metrics, connector=(.+), task=(.+)><>([a-z-]+)",
        name: "kafka_connect_$1_task_$4",
        labels: { connector: "$2", task: "$3" },
    },
    {
        pattern: "kafka.connect<type=task-error-metrics, connector=(.+), task=(.+)><>([a-z-]+)",
        name: "kafka_connect_task_error_$3",
        labels: { connector: "$1", task: "$2" },
    },
    {
        pattern: "kafka.connect<type=connect-worker-metrics><>([a-z-]+)",
        name: "kafka_connect_worker_$1",
    },
    {
        pattern: "kafka.connect<type=connect-worker-rebalance-metrics><>([a-z-]+)",
        name: "kafka_connect_worker_rebalance_$1",
    },
    {
        // Debezium streaming/snapshot/schema-history MBeans, with or without a task key (SQL Server has one per database).
        pattern:
            "debezium.([^:]+)<type=connector-metrics, context=([^,]+), server=([^,>]+)(?:, task=([^,>]+))?(?:, database=([^>]+))?><>([A-Za-z]+)",
        name: "debezium_metrics_$6",
        labels: { plugin: "$1", context: "$2", name: "$3", task: "$4", database: "$5" },
    },
];

export function jmxExporterConfig(): string {
    return stringify({ lowercaseOutputName: true, lowercaseOutputLabelNames: true, rules });
}
