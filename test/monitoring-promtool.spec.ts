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
import { lagThresholdSeconds, prometheusRuleBody } from "../plan/monitoring";
import { parseStackSpec } from "../plan/stack-spec";
import { promtool } from "./helpers/promtool";
import { rawProjectConfig, SHIPPED_STACKS, ShippedStack } from "./helpers/stack-files";

type Rule = ReturnType<typeof prometheusRuleBody>["spec"]["groups"][number]["rules"][number];
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
const rulesOf = (spec: StackSpec): Rule[] => prometheusRuleBody(spec).spec.groups.flatMap((g) => g.rules);

/** Samples per input series, one a minute: longer than any alert's `for` plus the evaluation margin. */
const SAMPLES = 30;
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
const TABLE = { job: "cdc-reconciler", source_table: "dbo.orders", target_table: "sales.orders" };

/**
 * Per alert: input series on which it must fire (after its `for`; it is also checked not to fire a minute before)
 * and near misses on which it must not. Every alert a shipped stack renders needs an entry.
 */
const CASES: Record<string, (rule: Rule, spec: StackSpec) => Scenario[]> = {
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
    CdcSourceDisconnected: ({ expr }) => {
        const metric = "debezium_metrics_connected";
        const streaming = selectorOf(expr, metric);
        // Debezium keeps Connected on the task's MBean (no database key), one per task.
        const task = (id: string, value: number) => series(metric, { ...streaming, ...SOURCE, task: id }, steady(value));
        const source = { labels: { name: SOURCE.name, context: streaming.context } };
        return [
            { name: "disconnected", series: [task("0", 0)], fires: [source] },
            { name: "task 1 of 2 disconnected", series: [task("0", 1), task("1", 0)], fires: [source] },
            { name: "every task connected", series: [task("0", 1), task("1", 1)], fires: [] },
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
    CdcDeadLetterQueueReceiving: ({ expr }) => {
        const metric = "kafka_connect_task_error_deadletterqueue_produce_requests";
        const sink = { ...selectorOf(expr, metric), connector: "postgresql-jdbc-sink", task: "0" };
        return [
            {
                name: "records arriving in the DLQ",
                series: [series(metric, sink, rising)],
                fires: [{ labels: { connector: sink.connector } }],
            },
            { name: "old DLQ records, no new ones", series: [series(metric, sink, steady(5))], fires: [] },
        ];
    },
    CdcReconciliationMismatch: ({ expr }) => {
        const metric = "cdc_reconciliation_status";
        const table = { ...selectorOf(expr, metric), ...TABLE };
        // The reconciler pushes one series per status, 1 for the table's current one (reconciler/metrics.ts).
        const current = (status: string) =>
            ["ok", "row_count_mismatch", "checksum_mismatch", "critical"].map((s) =>
                series(metric, { ...table, status: s }, steady(s === status ? 1 : 0)),
            );
        return [
            {
                name: "row counts differ",
                series: current("row_count_mismatch"),
                fires: [{ labels: { source_table: TABLE.source_table, target_table: TABLE.target_table } }],
            },
            { name: "in sync", series: current("ok"), fires: [] },
        ];
    },
    CdcReconciliationStale: ({ expr }, spec) => {
        const metric = "cdc_reconciliation_last_success_timestamp_seconds";
        const table = { ...selectorOf(expr, metric), ...TABLE };
        const hours = spec.monitoring.reconciliationMaxAgeHours;
        // promtool's clock starts at the Unix epoch, so a success N hours before it is the timestamp -N h.
        const lastSuccess = (hoursAgo: number) => series(metric, table, steady(-hoursAgo * 3600));
        return [
            {
                name: "last success an hour over the limit",
                series: [lastSuccess(hours + 1)],
                fires: [{ labels: { source_table: TABLE.source_table, target_table: TABLE.target_table } }],
            },
            { name: "last success an hour within the limit", series: [lastSuccess(hours - 1)], fires: [] },
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

/** The annotation Prometheus should produce from a template, for the templates the rules use. */
function expand(template: string, firing: Firing, where: string): string {
    return template.replace(/\{\{ ([^{}]*) \}\}/g, (_, inner: string) => {
        const label = /^\$labels\.(\w+)$/.exec(inner);
        if (label) {
            if (firing.labels[label[1]] === undefined) throw new Error(`${where}: the alert has no label ${label[1]}`);
            return firing.labels[label[1]];
        }
        if (inner === "$value | humanizeDuration") {
            if (firing.value === undefined) throw new Error(`${where}: the case gives no value for {{ ${inner} }}`);
            return humanizeDuration(firing.value);
        }
        throw new Error(`${where}: no expectation for template {{ ${inner} }}; teach expand() what Prometheus prints`);
    });
}

const minutesOf = (duration: string): number => {
    const m = /^(\d+)m$/.exec(duration);
    if (!m) throw new Error(`unexpected "for" ${duration}`);
    return Number(m[1]);
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
                expect(run.output).to.include(`SUCCESS: ${rulesOf(spec).length} rules found`);
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
