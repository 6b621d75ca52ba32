/**
 * Prometheus wiring for the pipeline: a PodMonitor scraping the Connect pods' JMX exporter, and the
 * alerts a platform team pages on. Each alert carries `runbook_url` (the conventional key: the
 * kube-prometheus rules use it and Grafana shows it as the alert's runbook link), an absolute link to
 * its section of docs/runbooks.md wherever the on-call reads that file.
 */
import type { StackSpec } from "../model/spec";
import { MANAGED_BY_LABELS, ObjectMeta } from "./connect-cluster";

export const MONITORING_API_VERSION = "monitoring.coreos.com/v1";
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
        labels: { severity, "cdc.pipeline/stack": spec.environment },
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
            `max by (name, context) (debezium_metrics_connected{${ns},context="streaming"}) == 0`,
            "5m",
            "Debezium source {{ $labels.name }} lost its database connection",
            "The source connector is not reading the database log; changes accumulate on the source until it reconnects.",
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
