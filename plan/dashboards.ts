/**
 * The Grafana dashboard of the stack's pipelines, shipped as a ConfigMap in the Grafana sidecar convention
 * (kube-prometheus-stack's `grafana.sidecar.dashboards`: Grafana loads every ConfigMap carrying the sidecar's label,
 * each data key one dashboard JSON). One row per pipeline, repeated over the `pipeline` variable; the panels query
 * the seed metric names where a recording rule gives one and the exporters' raw series otherwise.
 */
import { ConfigIssue, formatPath } from "../config/errors";
import type { PipelineSpec, StackSpec } from "../model/spec";
import { dlqTopicName } from "../model/naming";
import { MANAGED_BY_LABELS } from "./connect-cluster";
import { lakehousePipelines } from "./lakehouse";

export const DASHBOARD_KEY = "cdc-pipelines.json";
export const PIPELINE_VARIABLE = "pipeline";
/**
 * How a query reads the repeated row's pipeline. `:raw` because Grafana's Prometheus data source escapes a multi-value
 * variable's regex characters, and the value is itself a regex (pipelineMatcher).
 */
export const PIPELINE_MATCH = `\${${PIPELINE_VARIABLE}:raw}`;
/** Grafana's rate window: four scrape intervals at least, whatever the time range. */
export const RATE_INTERVAL = "$__rate_interval";
const DATASOURCE = { type: "prometheus", uid: "${datasource}" };
/** Grafana 10/11's dashboard schema; Grafana migrates older ones on load, never newer ones. */
const SCHEMA_VERSION = 39;
const GRID_WIDTH = 24;

export interface Query {
    expr: string;
    legend: string;
}

interface Panel {
    title: string;
    description: string;
    unit: string;
    queries: Query[];
}

interface Identity {
    name: string;
    path: (string | number)[];
    what: string;
    /** Names of one kind are unique already (config/rules.ts checkUniqueness); a clash across kinds is this module's. */
    kind: "pipeline" | "connector" | "topic prefix" | "dead letter topic";
}

/**
 * One pipeline's names as its series carry them: the pipeline (writer, reconciliation), its connectors (Connect's
 * and the seed's `connector`), its topic prefix (Debezium's `name`) and its dead letter queue (`topic`).
 */
function identities(p: PipelineSpec, i: number): Identity[] {
    const at = (...path: (string | number)[]) => ["pipelines", i, ...path];
    return [
        { name: p.name, path: at("name"), what: "the name", kind: "pipeline" },
        { name: p.source.connectorName, path: at("source", "connectorName"), what: "the source connector's name", kind: "connector" },
        { name: p.sink.connectorName, path: at("sink", "connectorName"), what: "the sink connector's name", kind: "connector" },
        { name: p.source.topicPrefix, path: at("source", "topicPrefix"), what: "the topic prefix", kind: "topic prefix" },
        {
            name: dlqTopicName(p.sink.connectorName),
            path: at("sink", "connectorName"),
            what: "the dead letter topic",
            kind: "dead letter topic",
        },
    ];
}

export const pipelineIdentities = (p: PipelineSpec): string[] => [...new Set(identities(p, 0).map((id) => id.name))];

/**
 * The `pipeline` variable's value for one pipeline: a regex matching exactly its names. They have no regex
 * characters to escape: config/schema.ts allows only letters, digits, '_' and '-' in each of them.
 */
export function pipelineMatcher(p: PipelineSpec): string {
    return pipelineIdentities(p).join("|");
}

/**
 * A row filters every label by its pipeline's names, so no name of one pipeline may be a name of another: that row
 * would show both pipelines' series. Checked on the plan (plan/stack-spec.ts) when the stack renders dashboards.
 */
export function checkDashboardRows(spec: StackSpec, issues: ConfigIssue[]): void {
    if (!spec.monitoring.enabled) return;
    const owners = new Map<string, { pipeline: string; id: Identity }>();
    spec.pipelines.forEach((p, i) => {
        for (const id of identities(p, i)) {
            const other = owners.get(id.name);
            if (other && other.pipeline !== p.name && other.id.kind !== id.kind)
                issues.push({
                    path: id.path,
                    message: `gives ${id.what} of pipeline ${p.name} the name "${id.name}", which is also ${other.id.what} of pipeline ${other.pipeline}; the dashboard's row of either would show both, so change this or ${formatPath(other.id.path)}`,
                });
            else if (!other) owners.set(id.name, { pipeline: p.name, id });
        }
    });
}

function workerPanels(ns: string): Panel[] {
    return [
        {
            title: "Connect worker CPU",
            description: "Share of a CPU each Connect worker's JVM uses (seed §8 process_cpu_usage).",
            unit: "percentunit",
            queries: [{ expr: `process_cpu_usage{${ns}}`, legend: "{{pod}}" }],
        },
        {
            title: "Connect worker memory",
            description: "JVM memory in use per worker, heap and non-heap (seed §8 jvm_memory_used_bytes).",
            unit: "bytes",
            queries: [{ expr: `sum by (pod, area) (jvm_memory_used_bytes{${ns}})`, legend: "{{pod}} {{area}}" }],
        },
    ];
}

function connectorPanels(ns: string): Panel[] {
    const own = `${ns},connector=~"${PIPELINE_MATCH}"`;
    return [
        {
            title: "Replication lag",
            description: "How far the source connector's change events are behind their commit in the source database, per table.",
            unit: "s",
            queries: [{ expr: `max by (connector, table) (cdc_replication_lag_seconds{${own}})`, legend: "{{table}}" }],
        },
        {
            title: "Throughput in / out",
            description:
                "Records per second the source connector writes to Kafka (direction source, in) and the sink hands to the target (direction sink, out).",
            unit: "short",
            queries: [
                {
                    expr: `sum by (connector, direction) (cdc_throughput_records_per_second{${own}})`,
                    legend: "{{connector}} {{direction}}",
                },
            ],
        },
        {
            title: "Errors per minute",
            description:
                "Failed records per minute (seed 000's unit), by connector and kind: record (conversion, transformation or write), dead_letter, source_event (Debezium could not process it).",
            unit: "short",
            queries: [{ expr: `sum by (connector, type) (cdc_error_rate{${own}})`, legend: "{{connector}} {{type}}" }],
        },
        {
            title: "Dead letter queue",
            description:
                "Records the sink routed to its dead letter queue since its task started; they are missing in the target until replayed (cdc dlq).",
            unit: "short",
            queries: [
                { expr: `sum by (connector) (kafka_connect_task_error_deadletterqueue_produce_requests{${own}})`, legend: "{{connector}}" },
            ],
        },
        {
            title: "Task states",
            description:
                "Tasks per connector and state (running, paused, failed, unassigned); a failed task pages as CdcConnectorTaskFailed.",
            unit: "short",
            queries: [
                {
                    expr: `count by (connector, status) (kafka_connect_connector_task_status{${own}} == 1)`,
                    legend: "{{connector}} {{status}}",
                },
            ],
        },
    ];
}

/** Pushed through the Pushgateway: the runs push the stack's namespace and pipeline, the job is the reconciler's name. */
function reconciliationPanels(ns: string, reconcilerName: string): Panel[] {
    const own = `${ns},job="${reconcilerName}",pipeline=~"${PIPELINE_MATCH}"`;
    return [
        {
            title: "Reconciliation status",
            description: "The last reconciliation's verdict per target table (ok, row_count_mismatch, checksum_mismatch, critical).",
            unit: "short",
            queries: [
                { expr: `max by (target_table, status) (cdc_reconciliation_status{${own}}) == 1`, legend: "{{target_table}} {{status}}" },
            ],
        },
        {
            title: "Hours since last in sync",
            description: "Time since reconciliation last found each target table equal to its source.",
            unit: "h",
            queries: [
                {
                    expr: `(time() - max by (target_table) (cdc_reconciliation_last_success_timestamp_seconds{${own}})) / 3600`,
                    legend: "{{target_table}}",
                },
            ],
        },
    ];
}

function lakehousePanels(ns: string): Panel[] {
    const own = `${ns},pipeline_id=~"${PIPELINE_MATCH}"`;
    return [
        {
            title: "Lakehouse lag",
            description: "Seconds between a change's commit at the source and its write to each lakehouse table (last batch).",
            unit: "s",
            queries: [{ expr: `max by (destination_table) (cdc_lag_seconds{${own}})`, legend: "{{destination_table}}" }],
        },
        {
            title: "Lakehouse writer throughput",
            description: "Events per second the writer applies (its 30 s gauge) and its processed events by operation.",
            unit: "short",
            queries: [
                { expr: `sum by (pipeline_id) (cdc_throughput_events_per_second{${own}})`, legend: "writer" },
                {
                    expr: `sum by (operation) (rate(cdc_events_processed_total{${own}}[${RATE_INTERVAL}]))`,
                    legend: "{{operation}}",
                },
            ],
        },
        {
            title: "Lakehouse writer health and failures",
            description:
                "Health (1 healthy) and events dead-lettered by the writer. The writer creates a failure counter at its first failure, so 0 is drawn until then.",
            unit: "short",
            queries: [
                { expr: `max by (pipeline_id) (cdc_pipeline_health{${own}})`, legend: "healthy" },
                {
                    expr: `sum by (pipeline_id) (cdc_events_failed_total{${own}}) or on (pipeline_id) (0 * max by (pipeline_id) (cdc_pipeline_health{${own}}))`,
                    legend: "failed events",
                },
            ],
        },
    ];
}

function grafanaPanel(panel: Panel, gridPos: { x: number; y: number; w: number; h: number }) {
    return {
        type: "timeseries",
        title: panel.title,
        description: panel.description,
        datasource: DATASOURCE,
        gridPos,
        fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
        options: { legend: { displayMode: "list", placement: "bottom", showLegend: true }, tooltip: { mode: "multi", sort: "desc" } },
        targets: panel.queries.map((q, i) => ({
            refId: String.fromCharCode(65 + i),
            datasource: DATASOURCE,
            expr: q.expr,
            legendFormat: q.legend,
        })),
    };
}

/** A row and its panels, three to a line; `repeat` makes Grafana draw the row once per selected pipeline. */
function row(title: string, panels: Panel[], y: number, repeat?: string) {
    const width = GRID_WIDTH / 3;
    const height = 8;
    const header = {
        type: "row",
        title,
        collapsed: false,
        panels: [],
        gridPos: { x: 0, y, w: GRID_WIDTH, h: 1 },
        ...(repeat ? { repeat } : {}),
    };
    const body = panels.map((p, i) => grafanaPanel(p, { x: (i % 3) * width, y: y + 1 + Math.floor(i / 3) * height, w: width, h: height }));
    return { panels: [header, ...body], height: 1 + Math.ceil(panels.length / 3) * height };
}

/** Grafana keeps a uid to 40 characters; one per stack namespace, so dev and prod dashboards live side by side. */
function dashboardUid(spec: StackSpec): string {
    return `cdc-pipelines-${spec.namespace}`.slice(0, 40);
}

export function pipelineOverviewDashboard(spec: StackSpec) {
    const ns = `namespace="${spec.namespace}"`;
    const perPipeline = [
        ...connectorPanels(ns),
        ...(spec.reconciler?.pushgatewayUrl ? reconciliationPanels(ns, spec.reconciler.name) : []),
        ...(lakehousePipelines(spec).some((p) => p.lakehouse?.observability.metricsEnabled) ? lakehousePanels(ns) : []),
    ];
    // Grafana repeats a row with every panel up to the next row, so the repeated row comes last.
    const workers = row("Connect workers", workerPanels(ns), 0);
    const pipelines = row(`Pipeline \${${PIPELINE_VARIABLE}:text}`, perPipeline, workers.height, PIPELINE_VARIABLE);
    const options = spec.pipelines.map((p) => ({ text: p.name, value: pipelineMatcher(p), selected: true }));
    return {
        uid: dashboardUid(spec),
        title: `CDC pipelines (${spec.environment}, ${spec.namespace})`,
        description: "Lag, throughput, errors, dead letters, task states, reconciliation and lakehouse writers of each pipeline.",
        tags: ["cdc-pipeline", spec.environment],
        editable: true,
        schemaVersion: SCHEMA_VERSION,
        version: 1,
        refresh: "30s",
        time: { from: "now-3h", to: "now" },
        timezone: "utc",
        annotations: { list: [] },
        templating: {
            list: [
                { name: "datasource", label: "Prometheus", type: "datasource", query: "prometheus", hide: 0, current: {} },
                {
                    name: PIPELINE_VARIABLE,
                    label: "Pipeline",
                    type: "custom",
                    // Grafana's custom variable syntax, `text : value` separated by commas (no pipeline name has either).
                    query: options.map((o) => `${o.text} : ${o.value}`).join(","),
                    options,
                    current: { text: ["All"], value: ["$__all"] },
                    multi: true,
                    includeAll: true,
                    hide: 0,
                },
            ],
        },
        panels: [...workers.panels, ...pipelines.panels].map((panel, i) => ({ id: i + 1, ...panel })),
    };
}

export function dashboardConfigMapBody(spec: StackSpec) {
    return {
        apiVersion: "v1" as const,
        kind: "ConfigMap" as const,
        metadata: {
            name: `${spec.connect.name}-dashboards`,
            namespace: spec.namespace,
            labels: { ...MANAGED_BY_LABELS, ...spec.monitoring.dashboardLabels },
        },
        data: { [DASHBOARD_KEY]: JSON.stringify(pipelineOverviewDashboard(spec), null, 2) },
    };
}
