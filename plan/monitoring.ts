/**
 * Prometheus wiring for the pipeline: a PodMonitor scraping the Connect pods' JMX exporter, and the
 * alerts a platform team pages on. Each alert carries `runbook_url` (the conventional key: the
 * kube-prometheus rules use it and Grafana shows it as the alert's runbook link), an absolute link to
 * its section of docs/runbooks.md wherever the on-call reads that file.
 */
import { MONITORING_API_VERSION } from "../model/prometheus-operator";
import type { DestinationSpec, StackSpec } from "../model/spec";
import { MANAGED_BY_LABELS, ObjectMeta } from "./connect-cluster";
import { lakehousePipelines } from "./lakehouse";
import { RecordingRule, recordingRuleGroup } from "./recording-rules";
import { planReconcileRuns } from "./reconciler-job";

/** Strimzi names the JMX exporter's container port `tcp-prometheus`. */
const STRIMZI_METRICS_PORT = "tcp-prometheus";

export interface Alert {
    alert: string;
    expr: string;
    for: string;
    labels: Record<string, string>;
    annotations: { summary: string; description: string; runbook_url: string };
}

function meta(spec: StackSpec, name: string): ObjectMeta {
    return { name, namespace: spec.namespace, labels: { ...MANAGED_BY_LABELS, ...spec.monitoring.labels } };
}

/** How often Prometheus scrapes the Connect pods: the cost of a scrape lands on the worker the tasks run in. */
export const SCRAPE_INTERVAL_SECONDS = 30;

export function podMonitorBody(spec: StackSpec) {
    return {
        apiVersion: MONITORING_API_VERSION,
        kind: "PodMonitor" as const,
        metadata: meta(spec, `${spec.connect.name}-metrics`),
        spec: {
            selector: { matchLabels: { "strimzi.io/cluster": spec.connect.name, "strimzi.io/kind": "KafkaConnect" } },
            podMetricsEndpoints: [
                {
                    port: STRIMZI_METRICS_PORT,
                    path: "/metrics",
                    interval: `${SCRAPE_INTERVAL_SECONDS}s`,
                    // Seed 000 §8 names the worker of its process_cpu_usage and jvm_memory_used_bytes in a connector label.
                    metricRelabelings: [
                        {
                            sourceLabels: ["__name__", "pod"],
                            regex: "(process_cpu_usage|jvm_memory_used_bytes);(.+)",
                            targetLabel: "connector",
                            replacement: "$2",
                            action: "replace",
                        },
                    ],
                },
            ],
        },
    };
}

/** Seed 004 §4.1's lag threshold, for a destination without an enabled lag_monitoring check of its own. */
export const SEED_LAG_THRESHOLD_SECONDS = 5;

/** The lag a destination's writer alerts on: its lag_monitoring check's threshold, else the seed's. */
export function lagThresholdSeconds(d: Pick<DestinationSpec, "qualityChecks">): number {
    const check = d.qualityChecks.find((q) => q.type === "lag_monitoring" && q.enabled && q.thresholdSeconds !== undefined);
    return check?.thresholdSeconds ?? SEED_LAG_THRESHOLD_SECONDS;
}

/** The anchor GitHub, GitLab and MkDocs give a `### CdcConnectorFailed` heading. */
export const runbookAnchor = (alertName: string): string => alertName.toLowerCase();

/** Seed 000 §8's error-rate threshold: dead-lettered records above 0.1 % of the records a sink read page. */
export const SEED_ERROR_RATE_THRESHOLD = 0.001;
/** Share of the CDC cleanup retention at which SQL Server lag alerts: half leaves the other half to catch up or re-snapshot. */
export const RETENTION_ALERT_SHARE = 0.5;
/** Debezium's change event queue (max.queue.size) below this share free means Kafka does not take events as fast as they come. */
export const QUEUE_FREE_ALERT_SHARE = 0.1;
/** The window dead-lettered and read records are counted over. */
const DLQ_RATE_WINDOW = "15m";

export interface AlertRenderOptions {
    /**
     * Every alert's `for` in place of its production duration. Only for evaluating the shipped expressions in a
     * sandbox within seconds (test/e2e/alerts.spec.ts); a deployed stack always renders the production durations.
     */
    for?: string;
}

type AlertFactory = (name: string, expr: string, forDuration: string, summary: string, description: string) => Alert;

/** A regex matching `s` literally, written for a double-quoted PromQL string (which unescapes `\\` to `\`). */
const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\\\$&");
/** A PromQL regex alternative matching exactly these names. */
const anyOf = (names: string[]): string => names.map(escapeRegex).join("|");

export function alerts(spec: StackSpec, options: AlertRenderOptions = {}): Alert[] {
    const base = spec.monitoring.runbookBaseUrl;
    // config/schema.ts requires the key whenever monitoring is enabled, the only case that renders alerts.
    if (!base) throw new Error("monitoring.runbookBaseUrl is not set");
    const severity = spec.profile.alertSeverity;
    const ns = `namespace="${spec.namespace}"`;
    const alert: AlertFactory = (name, expr, forDuration, summary, description) => ({
        alert: name,
        expr,
        for: options.for ?? forDuration,
        // Alert labels are Prometheus label names ([a-zA-Z_][a-zA-Z0-9_]*): Prometheus 2.x refuses to load a rule
        // group with a Kubernetes-style "cdc.pipeline/stack", so that whole group would never page.
        labels: { severity, cdc_pipeline_stack: spec.environment },
        annotations: { summary, description, runbook_url: `${base}#${runbookAnchor(name)}` },
    });
    return [
        ...connectAlerts(spec, ns, alert),
        ...sourceAlerts(spec, ns, alert),
        ...sinkAlerts(spec, ns, alert),
        ...reconciliationAlerts(spec, alert),
        ...lakehouseAlerts(spec, ns, alert),
    ];
}

/** Strimzi's Connect alerts, on the worker pods' scrape and Kafka Connect's own connector and task state. */
function connectAlerts(spec: StackSpec, ns: string, alert: AlertFactory): Alert[] {
    const workers = spec.connect.replicas;
    return [
        alert(
            "CdcConnectContainersDown",
            // `up` is Prometheus's own series per scraped pod (the PodMonitor's); no series at all (pods gone, or not
            // scraped) counts as none up.
            `(count(up{${ns},pod=~"${escapeRegex(spec.connect.name)}-connect-[0-9]+"} == 1) or vector(0)) < ${workers}`,
            "5m",
            `Fewer than ${workers} Kafka Connect worker${workers === 1 ? "" : "s"} of ${spec.connect.name} are up`,
            `Prometheus scrapes {{ $value }} of the ${workers} Connect workers (pods ${spec.connect.name}-connect-N). Connectors of a missing worker move to the others after the rebalance delay; with none up, no change flows.`,
        ),
        alert(
            "CdcConnectorFailed",
            `max by (connector) (kafka_connect_connector_status{${ns},status="failed"}) > 0`,
            "5m",
            "Connector {{ $labels.connector }} has failed",
            "Strimzi restarts failed connectors with back-off; a connector failed for 5 minutes is not recovering on its own. No change events flow while it is down.",
        ),
        alert(
            "CdcConnectorTaskFailed",
            `max by (connector, task) (kafka_connect_connector_task_status{${ns},status="failed"}) > 0`,
            "5m",
            "Task {{ $labels.task }} of connector {{ $labels.connector }} has failed",
            "A failed task stops its share of the tables; the connector may still report RUNNING.",
        ),
    ];
}

/** Debezium's streaming metrics: `name` is the MBean's `server` key, the source's topic prefix. */
function sourceAlerts(spec: StackSpec, ns: string, alert: AlertFactory): Alert[] {
    const { sourceLagSeconds, sourceIdleMinutes } = spec.monitoring;
    const streaming = `${ns},context="streaming"`;
    const running = spec.pipelines.filter((p) => p.source.state === "running");
    const beating = spec.pipelines.filter((p) => p.source.heartbeatIntervalMs > 0);
    // Heartbeats are records the task polls (Connect counts them) but no change event (Debezium's event counters
    // skip them); any context counts as events, so a long snapshot is not "no events".
    const noEvents = beating.map(
        (p) =>
            `(sum by (name) (increase(debezium_metrics_totalnumberofeventsseen{${ns},name="${p.source.topicPrefix}"}[${sourceIdleMinutes}m])) == 0)` +
            ` and on () (sum(increase(kafka_connect_source_task_source_record_poll_total{${ns},connector="${p.source.connectorName}"}[${sourceIdleMinutes}m])) > 0)`,
    );
    const sqlServer = spec.pipelines.some((p) => p.source.kind === "sqlserver");
    const retentionMinutes = spec.sqlserver.cdcRetentionMinutes;
    const retentionLimitMinutes = Math.floor(retentionMinutes * RETENTION_ALERT_SHARE);
    return [
        alert(
            "CdcSourceDisconnected",
            [
                // Connected is per task (SQL Server with tasksMax > 1 has one per task): one disconnected task is enough.
                `min by (name, context) (debezium_metrics_connected{${streaming}}) == 0`,
                // A task that lost its database restarts its Debezium side inside the running Connect task until the
                // database answers, and Debezium registers the streaming MBean only once connected: no series at all.
                ...running.map(
                    (p) =>
                        `absent(debezium_metrics_connected{${streaming},name="${p.source.topicPrefix}"}) and on () (max(kafka_connect_connector_task_status{${ns},connector="${p.source.connectorName}",status="running"}) == 1)`,
                ),
            ].join(" or "),
            "5m",
            "Debezium source {{ $labels.name }} lost its database connection",
            "The source connector (at least one of its tasks) is not reading the database log; changes accumulate on the source until it reconnects.",
        ),
        alert(
            "CdcSourceLagHigh",
            `max by (name) (debezium_metrics_millisecondsbehindsource{${streaming}}) / 1000 > ${sourceLagSeconds}`,
            "10m",
            "Debezium source {{ $labels.name }} is {{ $value | humanizeDuration }} behind its database",
            `Change events reach Kafka more than ${sourceLagSeconds} s after commit. Sustained lag risks the source's log retention (SQL Server CDC cleanup, PostgreSQL WAL, MySQL binlog) overtaking the connector.`,
        ),
        alert(
            "CdcSourceQueueNearlyFull",
            `min by (name) (debezium_metrics_queueremainingcapacity{${streaming}} / debezium_metrics_queuetotalcapacity{${streaming}}) < ${QUEUE_FREE_ALERT_SHARE}`,
            "10m",
            "Debezium source {{ $labels.name }} has less than 10 % of its change event queue free",
            "The connector reads the database log faster than Connect hands its events to Kafka (max.queue.size); it now waits for the queue, and lag grows.",
        ),
        ...(noEvents.length > 0
            ? [
                  alert(
                      "CdcSourceNoEvents",
                      noEvents.join(" or "),
                      "5m",
                      `Debezium source {{ $labels.name }} saw no change event for ${sourceIdleMinutes} minutes while its heartbeats flow`,
                      `The connector is alive (its heartbeat records reach Kafka) but captured no change for ${sourceIdleMinutes} minutes (monitoring.sourceIdleMinutes): the database is quiet, or changes stopped reaching the log the connector reads (SQL Server capture job, publication, binlog filter).`,
                  ),
              ]
            : []),
        ...(sqlServer
            ? [
                  alert(
                      "CdcSqlServerLagNearRetention",
                      `max by (name) (debezium_metrics_millisecondsbehindsource{${streaming},plugin="sql_server"}) / 60000 > ${retentionLimitMinutes}`,
                      "10m",
                      "SQL Server source {{ $labels.name }} is {{ $value | humanize }} minutes behind, past half the CDC cleanup retention",
                      `The CDC cleanup job deletes change rows older than ${retentionMinutes} minutes (sqlserver.cdcRetentionMinutes, set by the stack); a connector further behind than that loses changes and must re-snapshot.`,
                  ),
              ]
            : []),
    ];
}

/** The sinks' consumers and their dead letter queues. */
function sinkAlerts(spec: StackSpec, ns: string, alert: AlertFactory): Alert[] {
    const sinks = anyOf(spec.pipelines.map((p) => p.sink.connectorName));
    const window = DLQ_RATE_WINDOW;
    // Connect names a sink task's consumer connector-consumer-<connector>-<task>; records-lag is per partition.
    const lag = `label_replace(kafka_consumer_fetch_manager_records_lag{${ns},client_id=~"connector-consumer-(${sinks})-[0-9]+"}, "connector", "$1", "client_id", "connector-consumer-(.+)-[0-9]+")`;
    return [
        alert(
            "CdcSinkConsumerLagHigh",
            `sum by (connector) (${lag}) > ${spec.monitoring.sinkLagRecords}`,
            "15m",
            "Sink {{ $labels.connector }} is {{ $value }} records behind its topics",
            `The sink's consumer has more than ${spec.monitoring.sinkLagRecords} records (monitoring.sinkLagRecords) left to read on its topics for 15 minutes: the target writes slower than the sources change.`,
        ),
        alert(
            "CdcDeadLetterRateHigh",
            `sum by (connector) (increase(kafka_connect_task_error_deadletterqueue_produce_requests{${ns},connector=~"${sinks}"}[${window}]))` +
                ` / sum by (connector) (increase(kafka_connect_sink_task_sink_record_read_total{${ns},connector=~"${sinks}"}[${window}])) > ${SEED_ERROR_RATE_THRESHOLD}`,
            "5m",
            "Sink {{ $labels.connector }} dead-letters {{ $value | humanizePercentage }} of the records it reads",
            `More than ${SEED_ERROR_RATE_THRESHOLD * 100} % (seed 000's error-rate threshold) of the records the sink read in ${window} went to its dead letter queue. Those rows are missing or stale in the target until they are replayed.`,
        ),
    ];
}

/**
 * The reconciler's results, pushed to the Pushgateway with the stack's namespace and the reconciler's name as job
 * (plan/reconciler-job.ts), so another stack's runs do not count. Without a Pushgateway there is nothing to alert on
 * (plan/access-rules.ts warns).
 */
function reconciliationAlerts(spec: StackSpec, alert: AlertFactory): Alert[] {
    const reconciler = spec.reconciler;
    if (!reconciler?.pushgatewayUrl) return [];
    const pushed = `namespace="${spec.namespace}",job="${reconciler.name}"`;
    const maxAgeHours = spec.monitoring.reconciliationMaxAgeHours;
    const lastSuccess = "cdc_reconciliation_last_success_timestamp_seconds";
    const byTable = "namespace, pipeline, source_table, target_table";
    // A table that never succeeded has no last-success series at all: absent() per planned table.
    const neverSucceeded = planReconcileRuns(spec).flatMap((run) =>
        run.config.tables.map(
            (t) => `absent(${lastSuccess}{${pushed},pipeline="${run.pipeline}",source_table="${t.source}",target_table="${t.target}"})`,
        ),
    );
    return [
        alert(
            "CdcReconciliationMismatch",
            `max by (${byTable}) (cdc_reconciliation_status{${pushed},status!="ok"}) > 0`,
            "5m",
            "Reconciliation found {{ $labels.target_table }} different from {{ $labels.source_table }}",
            "The last reconciliation run confirmed discrepancies after its lag re-check; the report in /var/reports lists the primary keys.",
        ),
        alert(
            "CdcReconciliationStale",
            [`(time() - max by (${byTable}) (${lastSuccess}{${pushed}}) > ${maxAgeHours * 3600})`, ...neverSucceeded].join(" or "),
            "1h",
            `{{ $labels.target_table }} has not been confirmed in sync for over ${maxAgeHours} hours`,
            "Either the reconciliation CronJob is not running, it fails, the table keeps differing, or it has never found the table in sync (no success pushed at all).",
        ),
    ];
}

/**
 * The lakehouse writers' seed §4.3 metrics, scraped by each writer's PodMonitor (only writers with metrics enabled
 * have one, so only those are watched).
 */
function lakehouseAlerts(spec: StackSpec, ns: string, alert: AlertFactory): Alert[] {
    const watched = lakehousePipelines(spec).filter((p) => p.lakehouse?.observability.metricsEnabled);
    if (watched.length === 0) return [];
    // cdc_lag_seconds is the lag of the last batch written, so it keeps its value while nothing arrives: only a
    // writer that is writing (its 30 s throughput above zero) can be late.
    const writing = `on (pipeline_id) (max by (pipeline_id) (cdc_throughput_events_per_second{${ns}}) > 0)`;
    const lag = watched.flatMap((p) =>
        p.destinations.map(
            (d) =>
                `(max by (pipeline_id, destination_table) (cdc_lag_seconds{${ns},pipeline_id="${p.name}",destination_table="${d.name}"}) > ${lagThresholdSeconds(d)})`,
        ),
    );
    const thresholds = [...new Set(watched.flatMap((p) => p.destinations.map(lagThresholdSeconds)))].sort((a, b) => a - b);
    const absent = watched.map((p) => `absent(cdc_pipeline_health{${ns},pipeline_id="${p.name}"})`);
    // prometheus_client creates a labelled counter at its first increment, so the first failure of a kind arrives as
    // a new series already at 1: increase() needs two samples and never sees it; a series new in the window counts too.
    const failed = `cdc_events_failed_total{${ns}}`;
    return [
        alert(
            "CdcLakehouseLagHigh",
            `(${lag.join(" or ")}) and ${writing}`,
            "5m",
            "Lakehouse table {{ $labels.destination_table }} of pipeline {{ $labels.pipeline_id }} is {{ $value | humanizeDuration }} behind its source",
            `Changes reach the table more than its lag threshold (${thresholds.join(" / ")} s; a destination's lag_monitoring thresholdSeconds, else seed 004's ${SEED_LAG_THRESHOLD_SECONDS} s) after they were committed at the source, for 5 minutes while the writer is writing.`,
        ),
        alert(
            "CdcLakehouseEventsFailed",
            `sum by (pipeline_id, error_type) (increase(${failed}[15m])) > 0 or sum by (pipeline_id, error_type) ((${failed} unless ${failed} offset 15m) > 0)`,
            "5m",
            "Lakehouse writer {{ $labels.pipeline_id }} dead-lettered events ({{ $labels.error_type }})",
            "Events that broke a seed §8.2 rule or did not fit their column went to the writer's dead-letter topic; they are missing from the lakehouse tables until fixed and replayed.",
        ),
        alert(
            "CdcLakehouseWriterDown",
            [`(max by (pipeline_id) (cdc_pipeline_health{${ns}}) == 0)`, ...absent].join(" or "),
            "5m",
            "Lakehouse writer {{ $labels.pipeline_id }} is down or unhealthy",
            "The writer reports unhealthy (its last batch failed, or it cannot open its tables) or Prometheus has no health metric from it (the pod is not running or not scraped). No change reaches its lakehouse tables.",
        ),
    ];
}

/** The seed metrics' recording rules (plan/recording-rules.ts) share the PrometheusRule with the alerts. */
export const isAlert = (rule: Alert | RecordingRule): rule is Alert => "alert" in rule;

export function prometheusRuleBody(spec: StackSpec, options: AlertRenderOptions = {}) {
    const groups: { name: string; rules: readonly (Alert | RecordingRule)[] }[] = [
        recordingRuleGroup(spec),
        { name: "cdc-pipeline", rules: alerts(spec, options) },
    ];
    return {
        apiVersion: MONITORING_API_VERSION,
        kind: "PrometheusRule" as const,
        metadata: meta(spec, `${spec.connect.name}-cdc-alerts`),
        spec: { groups },
    };
}
