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

/** Strimzi names the JMX exporter's container port `tcp-prometheus`. */
const STRIMZI_METRICS_PORT = "tcp-prometheus";

interface Alert {
    alert: string;
    expr: string;
    for: string;
    labels: Record<string, string>;
    annotations: { summary: string; description: string; runbook_url: string };
}

function meta(spec: StackSpec, name: string): ObjectMeta {
    return { name, namespace: spec.namespace, labels: { ...MANAGED_BY_LABELS, ...spec.monitoring.labels } };
}

export function podMonitorBody(spec: StackSpec) {
    return {
        apiVersion: MONITORING_API_VERSION,
        kind: "PodMonitor" as const,
        metadata: meta(spec, `${spec.connect.name}-metrics`),
        spec: {
            selector: { matchLabels: { "strimzi.io/cluster": spec.connect.name, "strimzi.io/kind": "KafkaConnect" } },
            podMetricsEndpoints: [{ port: STRIMZI_METRICS_PORT, path: "/metrics", interval: "30s" }],
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

export function alerts(spec: StackSpec): Alert[] {
    const base = spec.monitoring.runbookBaseUrl;
    // config/schema.ts requires the key whenever monitoring is enabled, the only case that renders alerts.
    if (!base) throw new Error("monitoring.runbookBaseUrl is not set");
    const severity = spec.profile.alertSeverity;
    const ns = `namespace="${spec.namespace}"`;
    const alert = (name: string, expr: string, forDuration: string, summary: string, description: string): Alert => ({
        alert: name,
        expr,
        for: forDuration,
        // Alert labels are Prometheus label names ([a-zA-Z_][a-zA-Z0-9_]*): Prometheus 2.x refuses to load a rule
        // group with a Kubernetes-style "cdc.pipeline/stack", so that whole group would never page.
        labels: { severity, cdc_pipeline_stack: spec.environment },
        annotations: { summary, description, runbook_url: `${base}#${runbookAnchor(name)}` },
    });
    return [
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
        alert(
            "CdcSourceDisconnected",
            // Connected is per task (SQL Server with tasksMax > 1 has one per task): one disconnected task is enough.
            `min by (name, context) (debezium_metrics_connected{${ns},context="streaming"}) == 0`,
            "5m",
            "Debezium source {{ $labels.name }} lost its database connection",
            "The source connector (at least one of its tasks) is not reading the database log; changes accumulate on the source until it reconnects.",
        ),
        alert(
            "CdcSourceLagHigh",
            `max by (name) (debezium_metrics_millisecondsbehindsource{${ns},context="streaming"}) / 1000 > ${spec.monitoring.sourceLagSeconds}`,
            "10m",
            "Debezium source {{ $labels.name }} is {{ $value | humanizeDuration }} behind its database",
            `Change events reach Kafka more than ${spec.monitoring.sourceLagSeconds} s after commit. Sustained lag risks the source's log retention (SQL Server CDC cleanup, PostgreSQL WAL, MySQL binlog) overtaking the connector.`,
        ),
        alert(
            "CdcDeadLetterQueueReceiving",
            `sum by (connector) (increase(kafka_connect_task_error_deadletterqueue_produce_requests{${ns}}[15m])) > 0`,
            "0m",
            "Sink {{ $labels.connector }} routed records to its dead letter queue",
            "Rows in the DLQ are missing or stale in the target until they are replayed.",
        ),
        alert(
            "CdcReconciliationMismatch",
            `max by (source_table, target_table) (cdc_reconciliation_status{status!="ok"}) > 0`,
            "0m",
            "Reconciliation found {{ $labels.target_table }} different from {{ $labels.source_table }}",
            "The last reconciliation run confirmed discrepancies after its lag re-check; the report in /var/reports lists the primary keys.",
        ),
        alert(
            "CdcReconciliationStale",
            `time() - max by (source_table, target_table) (cdc_reconciliation_last_success_timestamp_seconds) > ${spec.monitoring.reconciliationMaxAgeHours * 3600}`,
            "0m",
            `{{ $labels.target_table }} has not been confirmed in sync for over ${spec.monitoring.reconciliationMaxAgeHours} hours`,
            "Either the reconciliation CronJob is not running, it fails, or the table keeps differing.",
        ),
        ...lakehouseAlerts(spec, ns, alert),
    ];
}

/**
 * The lakehouse writers' seed §4.3 metrics, scraped by each writer's PodMonitor (only writers with metrics enabled
 * have one, so only those are watched).
 */
function lakehouseAlerts(
    spec: StackSpec,
    ns: string,
    alert: (name: string, expr: string, forDuration: string, summary: string, description: string) => Alert,
): Alert[] {
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
            "0m",
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

export function prometheusRuleBody(spec: StackSpec) {
    return {
        apiVersion: MONITORING_API_VERSION,
        kind: "PrometheusRule" as const,
        metadata: meta(spec, `${spec.connect.name}-cdc-alerts`),
        spec: { groups: [{ name: "cdc-pipeline", rules: alerts(spec) }] },
    };
}
