/**
 * The JMX exporter rules (plan/metrics.ts) on MBean attributes read from a real sandbox worker
 * (test/fixtures/jmx/connect-worker-mbeans.txt), matched the way the exporter 1.0.1 matches them (each pattern
 * wrapped in `^.*(?:` … `).*$` against `domain<keys><>attribute: value`), and the seed metrics' recording rules
 * (plan/recording-rules.ts) evaluated by the real promtool on series named as those rules produce them. The SQL Server
 * shape, which the sandbox cannot run, comes from Debezium's own metrics classes registered in a JVM running the agent.
 */
import axios from "axios";
import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { jmxExporterConfig } from "../plan/metrics";
import { dataTopicName } from "../model/naming";
import { isAlert, prometheusRuleBody } from "../plan/monitoring";
import { recordingRuleGroup, recordingRules, seedTableName } from "../plan/recording-rules";
import { parseStackSpec } from "../plan/stack-spec";
import { waitUntil } from "../model/wait";
import { freePort } from "../sandbox/databases";
import { javaAgentOption, JMX_EXPORTER } from "../sandbox/jmx-exporter";
import { CACHE_DIR } from "../sandbox/paths";
import { PLUGIN_PATH } from "../sandbox/plugins";
import { promtool } from "./helpers/promtool";
import { rawProjectConfig, REPO_ROOT } from "./helpers/stack-files";

interface ExporterRule {
    pattern: string;
    name: string;
    type?: "GAUGE" | "COUNTER";
    labels?: Record<string, string>;
    value?: string;
    valueFactor?: number;
}

interface Exported {
    name: string;
    labels: Record<string, string>;
    value: number;
}

const config = parse(jmxExporterConfig()) as { lowercaseOutputName: boolean; lowercaseOutputLabelNames: boolean; rules: ExporterRule[] };
const compiled = config.rules.map((rule) => ({ rule, regex: new RegExp(`^.*(?:${rule.pattern}).*$`) }));

const sanitize = (s: string) => s.replace(/[^a-zA-Z0-9_:]/g, "_");

/** What the exporter makes of one attribute, or undefined when no rule matches or its value is not a number. */
function exportOf(line: string): Exported | undefined {
    const found = compiled.map((c) => ({ ...c, match: c.regex.exec(line) })).find((c) => c.match);
    if (!found) return undefined;
    const { rule, match } = found;
    const sub = (s: string) => s.replace(/\$(\d)/g, (_, i: string) => match![Number(i)] ?? "");
    const raw = line.slice(line.lastIndexOf(": ") + 2);
    const value = rule.value !== undefined ? Number(rule.value) : raw === "true" ? 1 : raw === "false" ? 0 : Number(raw);
    if (Number.isNaN(value)) return undefined;
    let name = sanitize(sub(rule.name)).toLowerCase();
    // Exporter 1.x: a counter is exposed as `<name>_total`; an untyped name loses a `_total` suffix.
    name = rule.type === "COUNTER" ? `${name.replace(/_total$/, "")}_total` : name.replace(/_total$/, "");
    const labels = Object.fromEntries(
        Object.entries(rule.labels ?? {})
            .map(([k, v]) => [sanitize(sub(k)).toLowerCase(), sub(v)])
            .filter(([, v]) => v !== ""),
    );
    return { name, labels, value: value * (rule.valueFactor ?? 1) };
}

/**
 * Runs test/helpers/SqlServerMBeans.java (Debezium's SqlServerMetricsFactory registering a task's streaming and
 * snapshot metrics for two databases, with custom.metric.tags) under the JMX exporter agent with the rendered rules,
 * and returns the exporter's sample lines. Needs the SQL Server plugin and the agent in .cache (scripts/setup.sh).
 */
async function scrapeSqlServerMBeans(): Promise<string[]> {
    const plugin = path.join(PLUGIN_PATH, "debezium-sqlserver");
    const agent = path.join(CACHE_DIR, `jmx-exporter-${JMX_EXPORTER.version}`, `jmx_prometheus_javaagent-${JMX_EXPORTER.version}.jar`);
    for (const needed of [plugin, agent]) if (!fs.existsSync(needed)) throw new Error(`${needed} is missing: run scripts/setup.sh`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-sqlserver-mbeans-"));
    const rules = path.join(dir, "rules.yaml");
    fs.writeFileSync(rules, jmxExporterConfig());
    const port = await freePort();
    const classpath = fs
        .readdirSync(plugin)
        .filter((f) => f.endsWith(".jar"))
        .map((f) => path.join(plugin, f))
        .join(path.delimiter);
    const java = spawn(
        "java",
        [javaAgentOption(agent, port, rules), "-cp", classpath, path.join(REPO_ROOT, "test", "helpers", "SqlServerMBeans.java")],
        {
            stdio: ["ignore", "pipe", "pipe"],
        },
    );
    let output = "";
    java.stdout.on("data", (d: Buffer) => (output += d.toString()));
    java.stderr.on("data", (d: Buffer) => (output += d.toString()));
    try {
        await waitUntil("SqlServerMBeans to register its MBeans", 45_000, async () => output.includes("registered"), {
            abortIf: () => (java.exitCode !== null ? `java exited ${java.exitCode}:\n${output}` : undefined),
        });
        const body = (await axios.get<string>(`http://127.0.0.1:${port}/metrics`, { responseType: "text" })).data;
        return body.split("\n").filter((l) => l && !l.startsWith("#"));
    } finally {
        java.kill("SIGKILL");
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const FIXTURE = path.join(REPO_ROOT, "test", "fixtures", "jmx", "connect-worker-mbeans.txt");
const mbeans = fs
    .readFileSync(FIXTURE, "utf8")
    .split("\n")
    .filter((l) => l && !l.startsWith("#"));
const exported = mbeans.map((line) => ({ line, out: exportOf(line) }));

function sample(name: string, labels: Record<string, string>): Exported {
    const hit = exported.find((e) => e.out?.name === name && Object.entries(labels).every(([k, v]) => e.out!.labels[k] === v));
    if (!hit) throw new Error(`no ${name}${JSON.stringify(labels)} among ${exported.filter((e) => e.out).length} exported samples`);
    return hit.out!;
}

/** A value the exporter can export: a number or a boolean (strings only through a rule's `value`). */
const isNumeric = (line: string) => {
    const value = line.slice(line.lastIndexOf(": ") + 2);
    return value === "true" || value === "false" || Number.isFinite(Number(value));
};

/** MBean types the rules leave out on purpose: network-level client metrics with no CDC meaning, and metric counts. */
const NOT_EXPORTED =
    /<type=(connect-metrics|connect-node-metrics|kafka-metrics-count|app-info|connector-transform-metrics|connector-predicate-metrics)[,>]/;

describe("JMX exporter rules on a real worker's MBeans", () => {
    it("exports every numeric Connect and Debezium attribute the worker has, except the types left out on purpose", () => {
        const missed = exported.filter(
            (e) => !e.out && /^(kafka\.connect|debezium\.)/.test(e.line) && isNumeric(e.line) && !NOT_EXPORTED.test(e.line),
        );
        expect(missed.map((e) => e.line)).to.deep.equal([]);
        expect(exported.filter((e) => e.out).length).to.be.greaterThan(500);
    });

    it("names connector and task states as Strimzi's rules do, one series per state", () => {
        expect(sample("kafka_connect_connector_status", { connector: "shop-postgres-source", status: "running" }).value).to.equal(1);
        expect(
            sample("kafka_connect_connector_task_status", { connector: "shop-postgres-sink", task: "0", status: "running" }).value,
        ).to.equal(1);
    });

    it("keeps the task error metrics the DLQ alert reads, and types Kafka's *-total attributes as counters", () => {
        sample("kafka_connect_task_error_deadletterqueue_produce_requests", { connector: "shop-postgres-sink", task: "0" });
        sample("kafka_connect_task_error_total_record_errors", { connector: "shop-postgres-sink", task: "0" });
        const sent = sample("kafka_connect_sink_task_sink_record_send_total", { connector: "shop-postgres-sink", task: "0" });
        expect(sent.value).to.be.greaterThan(0);
        sample("kafka_connect_source_task_source_record_write_total", { connector: "shop-postgres-source", task: "0" });
        sample("kafka_connect_worker_connector_failed_task_count", { connector: "shop-postgres-sink" });
        sample("kafka_connect_worker_rebalance_completed_rebalances_total", {});
    });

    it("exports the sink consumer's lag per topic partition and the source producer's sends per topic", () => {
        const client = "connector-consumer-shop-postgres-sink-0";
        sample("kafka_consumer_fetch_manager_records_lag", { client_id: client, topic: "shop.public.customers", partition: "0" });
        sample("kafka_consumer_fetch_manager_records_consumed_total", { client_id: client, topic: "shop.public.customers" });
        sample("kafka_producer_topic_record_send_total", {
            client_id: "connector-producer-shop-postgres-source-0",
            topic: "shop.public.customers",
        });
    });

    it("exports Debezium's PostgreSQL/MariaDB MBeans (context, server) with plugin, context and name", () => {
        expect(sample("debezium_metrics_connected", { plugin: "postgres", context: "streaming", name: "shop" }).value).to.equal(1);
        expect(sample("debezium_metrics_connected", { plugin: "mariadb", context: "streaming", name: "inventory" }).value).to.equal(1);
        sample("debezium_metrics_millisecondsbehindsource", { plugin: "postgres", context: "streaming", name: "shop" });
        sample("debezium_metrics_snapshotcompleted", { plugin: "postgres", context: "snapshot", name: "shop" });
        const connected = exported.find((e) => e.out?.name === "debezium_metrics_connected")!.out!;
        expect(Object.keys(connected.labels).sort()).to.deep.equal(["context", "name", "plugin"]);
    });

    it("exports Debezium's SQL Server MBeans (server, task, context[, database]), with custom metric tags after them", () => {
        // Debezium 3.6.1 registers these keys in this order (AbstractSqlServerTaskMetrics and SqlServerStreamingTaskMetrics
        // build linkMapOf("server", …, "task", …, "context", …[, "database", …]) after type=connector-metrics).
        const partition = "debezium.sql_server<type=connector-metrics, server=sales, task=0, context=streaming, database=SalesDB>";
        const task = "debezium.sql_server<type=connector-metrics, server=sales, task=1, context=streaming>";
        expect(exportOf(`${partition}<>Connected: false`)).to.deep.equal({
            name: "debezium_metrics_connected",
            labels: { plugin: "sql_server", name: "sales", task: "0", context: "streaming", database: "SalesDB" },
            value: 0,
        });
        expect(exportOf(`${task}<>QueueRemainingCapacity: 8000`)).to.deep.equal({
            name: "debezium_metrics_queueremainingcapacity",
            labels: { plugin: "sql_server", name: "sales", task: "1", context: "streaming" },
            value: 8000,
        });
        expect(exportOf(`${partition.slice(0, -1)}, team=payments><>MilliSecondsBehindSource: 1200`)?.labels).to.include({
            database: "SalesDB",
        });
        expect(
            exportOf("debezium.postgres<type=connector-metrics, context=streaming, server=shop, team=payments><>Connected: true")?.labels,
        ).to.deep.equal({
            plugin: "postgres",
            context: "streaming",
            name: "shop",
        });
    });

    it("exports the SQL Server MBeans Debezium 3.6.1's own metrics classes register in a JVM running the exporter agent", async function () {
        this.timeout(60_000);
        const scraped = await scrapeSqlServerMBeans();
        const series = (name: string) => scraped.filter((l) => l.startsWith(`${name}{`)).map((l) => l.slice(0, l.lastIndexOf(" ")));
        // Connected and the queue are per task; lag and snapshot state per database (custom.metric.tags are not exported).
        expect(series("debezium_metrics_connected")).to.deep.equal([
            'debezium_metrics_connected{context="streaming",name="sales",plugin="sql_server",task="0"}',
        ]);
        expect(series("debezium_metrics_millisecondsbehindsource")).to.have.members([
            'debezium_metrics_millisecondsbehindsource{context="streaming",database="HrDB",name="sales",plugin="sql_server",task="0"}',
            'debezium_metrics_millisecondsbehindsource{context="streaming",database="SalesDB",name="sales",plugin="sql_server",task="0"}',
        ]);
        expect(series("debezium_metrics_queueremainingcapacity")).to.include(
            'debezium_metrics_queueremainingcapacity{context="streaming",name="sales",plugin="sql_server",task="0"}',
        );
        expect(series("debezium_metrics_snapshotcompleted")).to.have.length(2);
    });

    it("exports the JVM's process CPU share under Micrometer's process_cpu_usage", () => {
        const cpu = sample("process_cpu_usage", {});
        expect(cpu.value).to.be.within(0, 1);
    });

    it("produces every Connect and Debezium metric the recording rules and alerts select", () => {
        const produced = new Set(exported.flatMap((e) => (e.out ? [e.out.name] : [])));
        const spec = parseStackSpec(structuredClone(rawProjectConfig("prod"))).spec;
        const exprs = prometheusRuleBody(spec).spec.groups.flatMap((g) => g.rules.map((r) => r.expr));
        const used = new Set(
            exprs.flatMap((e) =>
                [...e.matchAll(/\b((?:kafka_connect|kafka_consumer|kafka_producer|debezium_metrics)_\w+)\b/g)].map((m) => m[1]),
            ),
        );
        expect([...used].filter((n) => !produced.has(n))).to.deep.equal([]);
        expect(used.size).to.be.greaterThan(8);
    });
});

describe("seed metric recording rules", function () {
    this.timeout(60_000);
    const spec = parseStackSpec(structuredClone(rawProjectConfig("dev"))).spec;
    const ns = spec.namespace;
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-recording-"))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("records one replication lag per source table of every pipeline, named as the seed names them", () => {
        const lag = recordingRules(spec).filter((r) => r.record === "cdc_replication_lag_seconds");
        const expected = spec.pipelines.flatMap((p) =>
            p.source.tables.map((t) => ({ connector: p.source.connectorName, table: seedTableName(t) })),
        );
        expect(lag.map((r) => r.labels)).to.deep.equal(expected);
        const sales = spec.pipelines[0];
        const first = lag[0];
        expect(first.expr).to.include(`topic="${dataTopicName(sales.source, sales.source.tables[0])}"`);
        expect(first.expr).to.include(`name="${sales.source.topicPrefix}"`);
        expect(first.expr).to.include(`connector-consumer-${sales.sink.connectorName}-[0-9]+`);
    });

    it("sits in the stack's PrometheusRule next to the alerts, and promtool loads the group", () => {
        const groups = prometheusRuleBody(spec).spec.groups;
        expect(groups.map((g) => g.name)).to.deep.equal([recordingRuleGroup(spec).name, "cdc-pipeline"]);
        expect(groups[0].rules.filter(isAlert)).to.deep.equal([]);
        fs.writeFileSync(path.join(dir, "rules.yaml"), stringify({ groups: [recordingRuleGroup(spec)] }));
        const run = promtool(["check", "rules", "rules.yaml"], dir);
        expect(run.status, run.output).to.equal(0);
    });

    it("evaluates to the seed's units in promtool: seconds of lag, records per second, errors per minute", () => {
        const sales = spec.pipelines[0];
        const table = sales.source.tables[0];
        const topic = dataTopicName(sales.source, table);
        const consumer = `connector-consumer-${sales.sink.connectorName}-0`;
        const at = (labels: Record<string, string>) =>
            `{${Object.entries({ namespace: ns, ...labels })
                .map(([k, v]) => `${k}="${v}"`)
                .join(",")}}`;
        // 15 s samples: the consumer has read 10 records a second and is 300 records behind; Debezium is 2.5 s behind;
        // the source task wrote 20 records a second; the sink routed 1 record a minute to its DLQ.
        const series = [
            {
                series: `debezium_metrics_millisecondsbehindsource${at({ context: "streaming", name: sales.source.topicPrefix, plugin: "sql_server", task: "0", database: table.database })}`,
                values: "2500x20",
            },
            { series: `kafka_consumer_fetch_manager_records_lag${at({ client_id: consumer, topic, partition: "0" })}`, values: "300x20" },
            { series: `kafka_consumer_fetch_manager_records_consumed_total${at({ client_id: consumer, topic })}`, values: "0+150x20" },
            {
                series: `kafka_connect_source_task_source_record_write_total${at({ connector: sales.source.connectorName, task: "0" })}`,
                values: "0+300x20",
            },
            {
                series: `kafka_connect_task_error_deadletterqueue_produce_requests${at({ connector: sales.sink.connectorName, task: "0" })}`,
                values: "0+0.25x20",
            },
        ];
        const expect1 = (metric: string, labels: Record<string, string>, value: number) => ({
            expr: `${metric}${at(labels)}`,
            eval_time: "4m",
            exp_samples: [{ labels: `${metric}${at(labels)}`, value }],
        });
        fs.writeFileSync(path.join(dir, "rules.yaml"), stringify({ groups: [recordingRuleGroup(spec)] }));
        fs.writeFileSync(
            path.join(dir, "tests.yaml"),
            stringify({
                rule_files: ["rules.yaml"],
                evaluation_interval: "15s",
                tests: [
                    {
                        interval: "15s",
                        input_series: series,
                        promql_expr_test: [
                            expect1(
                                "cdc_replication_lag_seconds",
                                { connector: sales.source.connectorName, table: seedTableName(table) },
                                2.5 + 300 / 10,
                            ),
                            expect1(
                                "cdc_throughput_records_per_second",
                                { connector: sales.source.connectorName, direction: "source" },
                                20,
                            ),
                            expect1("cdc_error_rate", { connector: sales.sink.connectorName, type: "dead_letter" }, 1),
                        ],
                    },
                ],
            }),
        );
        const run = promtool(["test", "rules", "tests.yaml"], dir);
        expect(run.status, run.output).to.equal(0);
    });
});
