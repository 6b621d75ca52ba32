/**
 * The shipped stacks' PrometheusRule, loaded and evaluated by the real promtool: `check rules` proves Prometheus
 * loads the group (one invalid rule drops the whole group, and then nothing pages), `test rules` evaluates every
 * alert on input series built from the selectors of its rendered expression.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import type { StackSpec } from "../model/spec";
import { lakehousePipelines } from "../plan/lakehouse";
import { alerts, isAlert, lagThresholdSeconds, prometheusRuleBody, RETENTION_ALERT_SHARE } from "../plan/monitoring";
import { planReconcileRuns } from "../plan/reconciler-job";
import { parseStackSpec } from "../plan/stack-spec";
import { promtool } from "./helpers/promtool";
import { rawProjectConfig, SHIPPED_STACKS, ShippedStack } from "./helpers/stack-files";

type Rule = ReturnType<typeof alerts>[number];
type Labels = Record<string, string>;

interface Series {
    metric: string;
    labels: Labels;
    values: string;
}
/** An alert a scenario must raise: the labels its expression keeps, and its value where an annotation prints it. */
interface Firing {
    labels: Labels;
    value?: number;
}
interface Scenario {
    name: string;
    series: Series[];
    /** Empty: the alert must not fire. */
    fires: Firing[];
    /** Minutes from the first sample to the evaluation; two more than the alert's `for` unless given. */
    at?: number;
}

/** What the shipped profiles page with: dev only warns, prod pages. */
const SEVERITY: Record<ShippedStack, string> = { dev: "warning", prod: "critical" };
/** Prometheus 2.x's label names; Prometheus 3 accepts these too (and UTF-8 names only with quoting). */
const LEGACY_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const specOf = (stack: ShippedStack) => parseStackSpec(structuredClone(rawProjectConfig(stack))).spec;
/** The alerts; the recording rules (plan/recording-rules.ts) are loaded with them by `check rules`. */
const rulesOf = (spec: StackSpec): Rule[] =>
    prometheusRuleBody(spec)
        .spec.groups.flatMap((g) => g.rules)
        .filter(isAlert);

/** Samples per input series, one a minute: longer than any alert's `for` (CdcReconciliationStale's hour) plus the evaluation margin. */
const SAMPLES = 90;
const steady = (value: number) => `${value}x${SAMPLES}`;
const rising = `0+1x${SAMPLES}`;
const series = (metric: string, labels: Labels, values: string): Series => ({ metric, labels, values });

/** The labels an input series needs to match each distinct selector of `metric` in `expr` (its `=` matchers). */
function selectorsOf(expr: string, metric: string): Labels[] {
    const found = new Map<string, Labels>();
    for (const m of expr.matchAll(new RegExp(`(?<![\\w:])${metric}(?![\\w:])(?:\\{([^}]*)\\})?`, "g"))) {
        const labels: Labels = {};
        for (const [, name, op, value] of (m[1] ?? "").matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)) if (op === "=") labels[name] = value;
        found.set(JSON.stringify(labels), labels);
    }
    if (found.size === 0) throw new Error(`the expression selects no ${metric}: ${expr}`);
    return [...found.values()];
}

function selectorOf(expr: string, metric: string): Labels {
    const all = selectorsOf(expr, metric);
    if (all.length !== 1) throw new Error(`expected one selector of ${metric}, found ${all.length}: ${expr}`);
    return all[0];
}

const ELSEWHERE = "some-other-namespace";
const SOURCE = { plugin: "sql_server", name: "sqlserver" };

/** The tables the stack's reconciliation runs check: the labels their pushed series carry and the ones an alert keeps. */
function plannedTables(spec: StackSpec): { labels: Labels; alertLabels: Labels }[] {
    return planReconcileRuns(spec).flatMap((run) =>
        run.config.tables.map((t) => ({
            labels: { pipeline: run.pipeline, run: run.key, source_table: t.source, target_table: t.target },
            alertLabels: { pipeline: run.pipeline, source_table: t.source, target_table: t.target },
        })),
    );
}

/**
 * Per alert: input series on which it must fire (after its `for`; it is also checked not to fire a minute before)
 * and near misses on which it must not. Every alert a shipped stack renders needs an entry.
 */
const CASES: Record<string, (rule: Rule, spec: StackSpec) => Scenario[]> = {
    CdcConnectContainersDown: ({ expr }, spec) => {
        const up = selectorOf(expr, "up");
        const workers = spec.connect.replicas;
        const pod = (name: string, value: number) => series("up", { ...up, pod: name, container: "connect" }, steady(value));
        const workerPods = (lastValue: number) =>
            Array.from({ length: workers }, (_, i) => pod(`${spec.connect.name}-connect-${i}`, i === workers - 1 ? lastValue : 1));
        const writer = pod("cdc-lakehouse-shop-5d8f7c9b6-x2x4q", 1);
        return [
            { name: "one worker down", series: workerPods(0), fires: [{ labels: {}, value: workers - 1 }] },
            { name: "no worker scraped, another pod up", series: [writer], fires: [{ labels: {}, value: 0 }] },
            { name: "every worker up", series: workerPods(1), fires: [] },
        ];
    },
    CdcConnectorFailed: ({ expr }) => {
        const metric = "kafka_connect_connector_status";
        const failed = selectorOf(expr, metric);
        const state = (status: string, connector: string, namespace = failed.namespace) =>
            series(metric, { ...failed, namespace, status, connector }, steady(1));
        return [
            {
                name: "one connector failed, another running",
                series: [state("failed", "sqlserver-cdc-source"), state("running", "postgresql-jdbc-sink")],
                fires: [{ labels: { connector: "sqlserver-cdc-source" } }],
            },
            { name: "connector running", series: [state("running", "sqlserver-cdc-source")], fires: [] },
            { name: "a failed connector in another namespace", series: [state("failed", "sqlserver-cdc-source", ELSEWHERE)], fires: [] },
        ];
    },
    CdcConnectorTaskFailed: ({ expr }) => {
        const metric = "kafka_connect_connector_task_status";
        const failed = selectorOf(expr, metric);
        const state = (status: string, task: string) =>
            series(metric, { ...failed, status, connector: "postgresql-jdbc-sink", task }, steady(1));
        return [
            {
                name: "task 1 failed, task 0 running",
                series: [state("running", "0"), state("failed", "1")],
                fires: [{ labels: { connector: "postgresql-jdbc-sink", task: "1" } }],
            },
            { name: "tasks running", series: [state("running", "0"), state("running", "1")], fires: [] },
        ];
    },
    CdcSourceDisconnected: ({ expr }, spec) => {
        const metric = "debezium_metrics_connected";
        const [streaming, ...perSource] = selectorsOf(expr, metric);
        const taskRunning = selectorsOf(expr, "kafka_connect_connector_task_status");
        const running = spec.pipelines.filter((p) => p.source.state === "running");
        expect(perSource.map((l) => l.name)).to.deep.equal(running.map((p) => p.source.topicPrefix));
        expect(taskRunning.map((l) => l.connector)).to.deep.equal(running.map((p) => p.source.connectorName));
        // Debezium keeps Connected on the task's MBean (no database key), one per task.
        const task = (id: string, value: number, name = SOURCE.name) =>
            series(metric, { ...streaming, ...SOURCE, name, task: id }, steady(value));
        const source = { labels: { name: SOURCE.name, context: streaming.context } };
        // Every planned source connected, so only the case's own series decides.
        const others = perSource.filter((l) => l.name !== SOURCE.name).map((l) => task("0", 1, l.name));
        const tasks = (state: string) =>
            taskRunning.map((l) => series("kafka_connect_connector_task_status", { ...l, task: "0", status: state }, steady(1)));
        const first = perSource[0];
        const allConnected = perSource.map((l) => task("0", 1, l.name));
        return [
            { name: "disconnected", series: [task("0", 0), ...others, ...tasks("running")], fires: [source] },
            { name: "task 1 of 2 disconnected", series: [task("0", 1), task("1", 0), ...others, ...tasks("running")], fires: [source] },
            { name: "every task connected", series: [...allConnected, task("1", 1), ...tasks("running")], fires: [] },
            {
                name: "a running task's Debezium side restarting (no streaming metrics)",
                series: [...allConnected.slice(1), ...tasks("running")],
                // absent() keeps the `=` matchers of its selector as the alert's labels.
                fires: [{ labels: first }],
            },
            {
                name: "a stopped connector (no task running, no metrics)",
                series: [...allConnected.slice(1), ...tasks("paused")],
                fires: [],
            },
        ];
    },
    CdcSourceLagHigh: ({ expr }, spec) => {
        const metric = "debezium_metrics_millisecondsbehindsource";
        const streaming = selectorOf(expr, metric);
        const limit = spec.monitoring.sourceLagSeconds;
        // MilliSecondsBehindSource is per captured database (SQL Server's MBean has task and database keys).
        const behind = (seconds: number, namespace = streaming.namespace) =>
            series(metric, { ...streaming, namespace, ...SOURCE, task: "0", database: "SalesDB" }, steady(seconds * 1000));
        return [
            {
                name: "a minute over the limit",
                series: [behind(limit + 60)],
                fires: [{ labels: { name: SOURCE.name }, value: limit + 60 }],
            },
            { name: "at the limit", series: [behind(limit)], fires: [] },
            { name: "over the limit in another namespace", series: [behind(limit + 60, ELSEWHERE)], fires: [] },
        ];
    },
    CdcSourceQueueNearlyFull: ({ expr }) => {
        const remaining = "debezium_metrics_queueremainingcapacity";
        const total = "debezium_metrics_queuetotalcapacity";
        // Both attributes are on the task's streaming MBean (no database key).
        const queue = (free: number) => [
            series(remaining, { ...selectorOf(expr, remaining), ...SOURCE, task: "0" }, steady(free)),
            series(total, { ...selectorOf(expr, total), ...SOURCE, task: "0" }, steady(8192)),
        ];
        return [
            { name: "5 % free", series: queue(410), fires: [{ labels: { name: SOURCE.name } }] },
            { name: "half free", series: queue(4096), fires: [] },
            { name: "just over 10 % free", series: queue(820), fires: [] },
        ];
    },
    CdcSourceNoEvents: ({ expr }, spec) => {
        const events = selectorsOf(expr, "debezium_metrics_totalnumberofeventsseen");
        const polled = selectorsOf(expr, "kafka_connect_source_task_source_record_poll_total");
        const beating = spec.pipelines.filter((p) => p.source.heartbeatIntervalMs > 0);
        expect(events.map((l) => l.name)).to.deep.equal(beating.map((p) => p.source.topicPrefix));
        expect(polled.map((l) => l.connector)).to.deep.equal(beating.map((p) => p.source.connectorName));
        const input = (eventValues: string, pollValues: string) =>
            events.flatMap((e, i) => [
                series("debezium_metrics_totalnumberofeventsseen", { ...e, context: "streaming", task: "0" }, eventValues),
                series("kafka_connect_source_task_source_record_poll_total", { ...polled[i], task: "0" }, pollValues),
            ]);
        return [
            {
                name: "heartbeats polled, no change event",
                series: input(steady(42), rising),
                fires: events.map((e) => ({ labels: { name: e.name } })),
            },
            { name: "change events and heartbeats", series: input(rising, rising), fires: [] },
            { name: "nothing polled (the task is not running)", series: input(steady(42), steady(7)), fires: [] },
        ];
    },
    CdcSqlServerLagNearRetention: ({ expr }, spec) => {
        const metric = "debezium_metrics_millisecondsbehindsource";
        const streaming = selectorOf(expr, metric);
        const limitMinutes = Math.floor(spec.sqlserver.cdcRetentionMinutes * RETENTION_ALERT_SHARE);
        const behind = (minutes: number, plugin = streaming.plugin) =>
            series(metric, { ...streaming, ...SOURCE, plugin, task: "0", database: "SalesDB" }, steady(minutes * 60_000));
        return [
            {
                name: "an hour past half the retention",
                series: [behind(limitMinutes + 60)],
                fires: [{ labels: { name: SOURCE.name }, value: limitMinutes + 60 }],
            },
            { name: "at half the retention", series: [behind(limitMinutes)], fires: [] },
            { name: "a PostgreSQL source as far behind", series: [behind(limitMinutes + 60, "postgres")], fires: [] },
        ];
    },
    CdcSinkConsumerLagHigh: ({ expr }, spec) => {
        const metric = "kafka_consumer_fetch_manager_records_lag";
        const consumer = selectorOf(expr, metric);
        const sink = spec.pipelines[0].sink.connectorName;
        const limit = spec.monitoring.sinkLagRecords;
        // records-lag is per partition of the task's consumer, connector-consumer-<sink>-<task>.
        const lag = (client_id: string, total: number) =>
            [0, 1].map((partition) =>
                series(
                    metric,
                    { ...consumer, client_id, topic: "sqlserver.SalesDB.dbo.orders", partition: String(partition) },
                    steady(total / 2),
                ),
            );
        return [
            {
                name: "two partitions 2 records over the limit together",
                series: lag(`connector-consumer-${sink}-0`, limit + 2),
                fires: [{ labels: { connector: sink }, value: limit + 2 }],
            },
            { name: "at the limit", series: lag(`connector-consumer-${sink}-0`, limit), fires: [] },
            { name: "another consumer over the limit", series: lag("consumer-cdc-lakehouse-sales-1", limit + 2), fires: [] },
        ];
    },
    CdcDeadLetterRateHigh: ({ expr }) => {
        const dead = "kafka_connect_task_error_deadletterqueue_produce_requests";
        const read = "kafka_connect_sink_task_sink_record_read_total";
        const task = { connector: "postgresql-jdbc-sink", task: "0" };
        // Per minute: records dead-lettered and records read, both counters.
        const input = (deadValues: string, readPerMinute: number) => [
            series(dead, { ...selectorOf(expr, dead), ...task }, deadValues),
            series(read, { ...selectorOf(expr, read), ...task }, `0+${readPerMinute}x${SAMPLES}`),
        ];
        return [
            {
                name: "2 of every 1,000 records dead-lettered (0.2 %)",
                series: input(`0+2x${SAMPLES}`, 1000),
                fires: [{ labels: { connector: task.connector }, value: 0.002 }],
            },
            { name: "1 of every 2,000 records dead-lettered (0.05 %)", series: input(`0+1x${SAMPLES}`, 2000), fires: [] },
            { name: "old dead letters, no new ones", series: input(steady(5), 1000), fires: [] },
        ];
    },
    CdcReconciliationMismatch: ({ expr }, spec) => {
        const metric = "cdc_reconciliation_status";
        const pushed = selectorOf(expr, metric);
        const table = plannedTables(spec)[0];
        // The reconciler pushes one series per status, 1 for the table's current one (reconciler/metrics.ts).
        const current = (status: string, namespace = pushed.namespace) =>
            ["ok", "row_count_mismatch", "checksum_mismatch", "critical"].map((s) =>
                series(metric, { ...pushed, ...table.labels, namespace, status: s }, steady(s === status ? 1 : 0)),
            );
        return [
            {
                name: "row counts differ",
                series: current("row_count_mismatch"),
                fires: [{ labels: { namespace: pushed.namespace, ...table.alertLabels } }],
            },
            { name: "in sync", series: current("ok"), fires: [] },
            { name: "row counts differ in another stack's namespace", series: current("row_count_mismatch", ELSEWHERE), fires: [] },
        ];
    },
    CdcReconciliationStale: ({ expr }, spec) => {
        const metric = "cdc_reconciliation_last_success_timestamp_seconds";
        const pushed = selectorsOf(expr, metric).find((l) => l.source_table === undefined)!;
        const tables = plannedTables(spec);
        const absentGuards = selectorsOf(expr, metric).filter((l) => l.source_table !== undefined);
        expect(absentGuards.map((l) => `${l.pipeline} ${l.source_table} ${l.target_table}`)).to.deep.equal(
            tables.map((t) => `${t.labels.pipeline} ${t.labels.source_table} ${t.labels.target_table}`),
        );
        const hours = spec.monitoring.reconciliationMaxAgeHours;
        // promtool's clock starts at the Unix epoch, so a success N hours before it is the timestamp -N h.
        const lastSuccess = (hoursAgo: number, of = tables) =>
            of.map((t) => series(metric, { ...pushed, ...t.labels }, steady(-hoursAgo * 3600)));
        return [
            {
                name: "every planned table's last success an hour over the limit",
                series: lastSuccess(hours + 1),
                fires: tables.map((t) => ({ labels: { namespace: pushed.namespace, ...t.alertLabels } })),
            },
            // Two hours within: the evaluation is an hour and two minutes after the first sample (the alert's `for`).
            { name: "every planned table's last success two hours within the limit", series: lastSuccess(hours - 2), fires: [] },
            {
                name: "the first planned table never succeeded",
                series: lastSuccess(hours - 2, tables.slice(1)),
                // absent() keeps the `=` matchers of its selector as the alert's labels.
                fires: [{ labels: absentGuards[0] }],
            },
        ];
    },
    CdcLakehouseLagHigh: ({ expr }, spec) => {
        const tables = selectorsOf(expr, "cdc_lag_seconds");
        const writing = selectorOf(expr, "cdc_throughput_events_per_second");
        const threshold = (t: Labels) => {
            const pipeline = spec.pipelines.find((p) => p.name === t.pipeline_id);
            const destination = pipeline?.destinations.find((d) => d.name === t.destination_table);
            if (!destination) throw new Error(`the lag alert selects ${JSON.stringify(t)}, which is no destination of the stack`);
            return lagThresholdSeconds(destination);
        };
        const input = (over: number, eventsPerSecond: number) => [
            ...tables.map((t) => series("cdc_lag_seconds", { ...t, source_table: "source" }, steady(threshold(t) + over))),
            ...[...new Set(tables.map((t) => t.pipeline_id))].map((p) =>
                series("cdc_throughput_events_per_second", { ...writing, pipeline_id: p }, steady(eventsPerSecond)),
            ),
        ];
        return [
            {
                name: "every table a second over its threshold while writing",
                series: input(1, 50),
                fires: tables.map((t) => ({
                    labels: { pipeline_id: t.pipeline_id, destination_table: t.destination_table },
                    value: threshold(t) + 1,
                })),
            },
            { name: "every table at its threshold", series: input(0, 50), fires: [] },
            { name: "the last batch's lag while the writer is idle", series: input(1, 0), fires: [] },
        ];
    },
    CdcLakehouseEventsFailed: ({ expr }, spec) => {
        const metric = "cdc_events_failed_total";
        const writer = { ...selectorOf(expr, metric), pipeline_id: lakehousePipelines(spec)[0].name, error_type: "schema_mismatch" };
        const fires = [{ labels: { pipeline_id: writer.pipeline_id, error_type: writer.error_type } }];
        return [
            { name: "events dead-lettered", series: [series(metric, writer, rising)], fires },
            // prometheus_client creates the labelled counter at its first increment: the series starts at 1.
            { name: "the first failure of its kind", series: [series(metric, writer, steady(1))], fires },
            { name: "old failures, no new ones", series: [series(metric, writer, steady(3))], fires: [], at: 20 },
        ];
    },
    CdcLakehouseWriterDown: ({ expr }) => {
        const metric = "cdc_pipeline_health";
        const writers = selectorsOf(expr, metric).filter((l) => l.pipeline_id !== undefined);
        const health = (value: number, namespace?: string) =>
            writers.map((w) => series(metric, { ...w, namespace: namespace ?? w.namespace }, steady(value)));
        return [
            { name: "every writer unhealthy", series: health(0), fires: writers.map((w) => ({ labels: { pipeline_id: w.pipeline_id } })) },
            // absent() keeps the `=` matchers of its selector as the alert's labels.
            {
                name: "no writer scraped in the stack's namespace",
                series: health(1, ELSEWHERE),
                fires: writers.map((w) => ({ labels: w })),
            },
            { name: "every writer healthy", series: health(1), fires: [] },
        ];
    },
};

/** Prometheus's humanizeDuration for values of a second and more (template/template.go). */
function humanizeDuration(seconds: number): string {
    const whole = Math.trunc(seconds);
    const [d, h, m, s] = [Math.trunc(whole / 86400), Math.trunc(whole / 3600) % 24, Math.trunc(whole / 60) % 60, whole % 60];
    if (seconds < 1) throw new Error(`no test value below a second: ${seconds}`);
    if (d) return `${d}d ${h}h ${m}m ${s}s`;
    if (h) return `${h}h ${m}m ${s}s`;
    if (m) return `${m}m ${s}s`;
    return `${Number(seconds.toPrecision(4))}s`;
}

/** Go's %.4g for the values the cases use (no exponent form). */
const fourDigits = (v: number): string => String(Number(v.toPrecision(4)));

/** Prometheus's humanize: SI prefixes from k up, %.4g (template/template.go). */
function humanize(v: number): string {
    const prefixes = ["", "k", "M", "G", "T", "P", "E", "Z", "Y"];
    let i = 0;
    while (Math.abs(v) >= 1000 && i < prefixes.length - 1) {
        v /= 1000;
        i++;
    }
    if (Math.abs(v) < 1 && v !== 0) throw new Error(`no test value below 1: ${v}`);
    return `${fourDigits(v)}${prefixes[i]}`;
}

/** What `{{ $value }}` and its pipelines print, for the values the cases use. */
const VALUE_FORMATS: Record<string, (v: number) => string> = {
    $value: (v) => {
        if (!Number.isInteger(v)) throw new Error(`no expectation for a fractional {{ $value }}: ${v}`);
        return String(v);
    },
    "$value | humanize": humanize,
    "$value | humanizeDuration": humanizeDuration,
    "$value | humanizePercentage": (v) => `${fourDigits(v * 100)}%`,
};

/** The annotation Prometheus should produce from a template, for the templates the rules use. */
function expand(template: string, firing: Firing, where: string): string {
    return template.replace(/\{\{ ([^{}]*) \}\}/g, (_, inner: string) => {
        const label = /^\$labels\.(\w+)$/.exec(inner);
        if (label) {
            if (firing.labels[label[1]] === undefined) throw new Error(`${where}: the alert has no label ${label[1]}`);
            return firing.labels[label[1]];
        }
        const format = VALUE_FORMATS[inner];
        if (format) {
            if (firing.value === undefined) throw new Error(`${where}: the case gives no value for {{ ${inner} }}`);
            return format(firing.value);
        }
        throw new Error(`${where}: no expectation for template {{ ${inner} }}; teach expand() what Prometheus prints`);
    });
}

const minutesOf = (duration: string): number => {
    const m = /^(\d+)([mh])$/.exec(duration);
    if (!m) throw new Error(`unexpected "for" ${duration}`);
    return Number(m[1]) * (m[2] === "h" ? 60 : 1);
};

const seriesText = (s: Series) =>
    `${s.metric}{${Object.entries(s.labels)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",")}}`;

/** One promtool test file with every alert's scenarios, so promtool starts once per stack. */
function ruleTests(stack: ShippedStack, spec: StackSpec, rules: Rule[]) {
    const tests = rules.flatMap((rule) => {
        const build = CASES[rule.alert];
        if (!build) throw new Error(`alert ${rule.alert} has no promtool case: add one to CASES in ${path.basename(__filename)}`);
        const forMinutes = minutesOf(rule.for);
        return build(rule, spec).map((scenario) => {
            const where = `${stack} ${rule.alert} (${scenario.name})`;
            const expected = scenario.fires.map((firing) => ({
                exp_labels: { ...firing.labels, severity: SEVERITY[stack], cdc_pipeline_stack: stack },
                exp_annotations: {
                    summary: expand(rule.annotations.summary, firing, where),
                    description: expand(rule.annotations.description, firing, where),
                    runbook_url: `${spec.monitoring.runbookBaseUrl}#${rule.alert.toLowerCase()}`,
                },
            }));
            const checks = [{ eval_time: `${scenario.at ?? forMinutes + 2}m`, alertname: rule.alert, exp_alerts: expected }];
            if (expected.length > 0 && forMinutes > 0)
                checks.unshift({ eval_time: `${forMinutes - 1}m`, alertname: rule.alert, exp_alerts: [] });
            return {
                name: `${rule.alert}: ${scenario.name}`,
                interval: "1m",
                input_series: scenario.series.map((s) => ({ series: seriesText(s), values: s.values })),
                alert_rule_test: checks,
            };
        });
    });
    return { rule_files: ["rules.yaml"], evaluation_interval: "1m", tests };
}

describe("alert rules in a real Prometheus (promtool)", function () {
    this.timeout(60000);
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-promtool-"))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const write = (name: string, content: object) => fs.writeFileSync(path.join(dir, name), stringify(content));
    const writeRules = (rules: Rule[]) => write("rules.yaml", { groups: [{ name: "cdc-pipeline", rules }] });

    for (const stack of SHIPPED_STACKS) {
        describe(`the ${stack} stack`, () => {
            const spec = specOf(stack);
            const body = prometheusRuleBody(spec);

            it("loads: promtool check rules accepts the rendered PrometheusRule's groups", () => {
                write("rules.yaml", { groups: body.spec.groups });
                const run = promtool(["check", "rules", "rules.yaml"], dir);
                expect(run.status, run.output).to.equal(0);
                expect(run.output).to.include(`SUCCESS: ${body.spec.groups.flatMap((g) => g.rules).length} rules found`);
            });

            it("fires every alert after its `for` with the profile's severity and its runbook, not before, not on a near miss", () => {
                write("rules.yaml", { groups: body.spec.groups });
                write("tests.yaml", ruleTests(stack, spec, rulesOf(spec)));
                const run = promtool(["test", "rules", "tests.yaml"], dir);
                expect(run.status, run.output).to.equal(0);
                expect(run.output).to.include("SUCCESS");
            });
        });
    }

    it("has a firing case and a near miss for every alert a shipped stack renders, and no case for an alert none renders", () => {
        const rendered = new Set(SHIPPED_STACKS.flatMap((stack) => rulesOf(specOf(stack)).map((r) => r.alert)));
        expect([...rendered].sort()).to.deep.equal(Object.keys(CASES).sort());
        for (const stack of SHIPPED_STACKS) {
            const spec = specOf(stack);
            for (const rule of rulesOf(spec)) {
                const scenarios = CASES[rule.alert](rule, spec);
                expect(
                    scenarios.some((s) => s.fires.length > 0),
                    `${stack} ${rule.alert} fires in some case`,
                ).to.equal(true);
                expect(
                    scenarios.some((s) => s.fires.length === 0),
                    `${stack} ${rule.alert} has a near miss`,
                ).to.equal(true);
            }
        }
    });

    it("fails the cases of every alert when the rules never fire or always fire", () => {
        const spec = specOf("dev");
        const rules = rulesOf(spec);
        write("tests.yaml", ruleTests("dev", spec, rules));
        for (const expr of ["vector(0) > 1", "vector(1)"]) {
            writeRules(rules.map((r) => ({ ...r, expr, for: "0m" })));
            const run = promtool(["test", "rules", "tests.yaml"], dir);
            expect(run.status, expr).to.equal(1);
            for (const rule of rules) expect(run.output, `${rule.alert} with expr ${expr}`).to.include(`alertname: ${rule.alert}`);
        }
    });

    it("names every alert label as Prometheus 2.x and 3.x both accept", () => {
        for (const stack of SHIPPED_STACKS) {
            for (const rule of rulesOf(specOf(stack))) {
                expect(Object.keys(rule.labels).sort(), rule.alert).to.deep.equal(["cdc_pipeline_stack", "severity"]);
                for (const name of Object.keys(rule.labels)) expect(name, rule.alert).to.match(LEGACY_LABEL_NAME).and.not.match(/^__/);
            }
        }
    });
});
