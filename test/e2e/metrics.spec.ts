/**
 * The stack's metrics in the sandbox's real Prometheus (sandbox/prometheus.ts), scraping the Connect worker's JMX
 * exporter (with plan/metrics.ts's rules), the lakehouse writers and the Pushgateway, and evaluating the stack's
 * PrometheusRule groups: every series a recording rule or an alert selects exists (or the spec says why it cannot in a
 * healthy sandbox), the seed metrics count what the pipeline did, and the lag they report is the lag a change has.
 */
import axios from "axios";
import * as fs from "fs";
import { expect } from "chai";
import { Client } from "pg";
import { isAlert, prometheusRuleBody } from "../../plan/monitoring";
import { connectHeapBytes, connectJvmOptions, jvmArguments } from "../../plan/connect-jvm";
import { recordingRules, SEED_METRICS, seedTableName } from "../../plan/recording-rules";
import type { Sample } from "../../sandbox/prometheus";
import { E2E, e2e, expectInSync, START_TIMEOUT_MS, targetQuery, waitFor } from "./fixture";

/** Customers this spec inserts (fixture.ts lists every spec's keys). */
const FIRST_ID = 950_001;
const INSERTS = 40;

/** Names PromQL gives meaning to, never metric names. */
const KEYWORDS = new Set([
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
]);

interface Selector {
    metric: string;
    /** The matchers as written, `a="b", c!="d"`. */
    matchers: string;
}

/**
 * Every vector selector of an expression: a metric name, optionally with matchers. Function names (followed by a
 * parenthesis), keywords, label lists of by/on/without/ignoring/group_*, durations and strings are not selectors.
 */
function selectorsOf(expr: string): Selector[] {
    // Matchers aside first, so their regexes and strings survive what is stripped from the rest.
    const matchers: string[] = [];
    const stripped = expr
        .replace(/\{((?:[^{}"]|"(?:[^"\\]|\\.)*")*)\}/g, (_, inner: string) => `{${matchers.push(inner) - 1}}`)
        .replace(/"(?:[^"\\]|\\.)*"/g, '""')
        .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
        .replace(/\[[^\]]*\]/g, " ");
    const found = new Map<string, Selector>();
    for (const m of stripped.matchAll(/(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(\d+)\})?(\s*\()?/g)) {
        const [, name, index, call] = m;
        if (call || KEYWORDS.has(name.toLowerCase())) continue;
        const selector = { metric: name, matchers: index === undefined ? "" : matchers[Number(index)].trim() };
        found.set(`${selector.metric}{${selector.matchers}}`, selector);
    }
    return [...found.values()];
}

const text = (s: Selector) => `${s.metric}{${s.matchers}}`;

/**
 * Selectors that select nothing in a healthy sandbox, and why; each stays checked: the metric itself must exist with
 * the matchers that do not name the unhealthy state.
 */
const ABSENT_WHEN_HEALTHY: { metric: RegExp; matcher?: RegExp; why: string }[] = [
    {
        metric: /^kafka_connect_connector(_task)?_status$/,
        matcher: /status\s*=\s*"failed"/,
        why: "the exporter has one series per connector/task for its current state only (value 1); a failed one exists while it is failed",
    },
    {
        metric: /^kafka_connect_connector(_task)?_status$/,
        matcher: /status\s*=\s*"(paused|restarting|unassigned|stopped)"/,
        why: "the exporter has one series per connector/task for its current state only; the sandbox's connectors all run",
    },
    {
        metric: /^cdc_events_failed_total$/,
        why: "prometheus_client creates a labelled counter's series at its first increment: no failed event, no series; the writer declares it (# TYPE) on /metrics",
    },
];

/** The matchers without the one naming a state the healthy sandbox is not in. */
const withoutStateMatcher = (s: Selector, matcher: RegExp): Selector => ({
    metric: s.metric,
    matchers: s.matchers
        .split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)
        .map((m) => m.trim())
        .filter((m) => m && !matcher.test(m))
        .join(","),
});

/** How many lakehouse writers declare the metric on their /metrics (a `# TYPE` line, with or without samples). */
async function writersDeclare(metric: string): Promise<number> {
    const env = await e2e();
    let n = 0;
    for (const w of env.sb.lakehouse.writers) {
        const body = (await axios.get<string>(`http://127.0.0.1:${w.healthPort}/metrics`, { responseType: "text" })).data;
        if (body.includes(`# TYPE ${metric} `)) n++;
    }
    return n;
}

const value = (samples: Sample[]) => samples.reduce((sum, s) => sum + s.value, 0);

describe("sandbox e2e: seed metrics and rule selectors on the real Prometheus", function () {
    this.timeout(15 * 60_000);
    let env: E2E;

    before(async function () {
        this.timeout(START_TIMEOUT_MS);
        env = await e2e();
        await env.sb.prometheus.waitForScrapes();
    });

    const query = (expr: string) => env.sb.prometheus.query(expr);
    const shop = () => env.sb.spec.pipelines.find((p) => p.source.kind === "postgres")!;
    const heapBytes = () => connectHeapBytes(env.sb.spec.connect);

    it("runs the exporter with the stack's rules and labels targets as the PodMonitors do", async () => {
        const up = await query('up{namespace="cdc-sandbox"}');
        expect(up.map((s) => s.labels.job).sort()).to.deep.equal(
            env.sb.prometheus.targets
                .filter((t) => t.labels.namespace)
                .map((t) => t.job)
                .sort(),
        );
        expect(up.every((s) => s.value === 1)).to.equal(true);
        const running = await query(`kafka_connect_connector_status{namespace="cdc-sandbox",status="running"}`);
        expect(running.map((s) => s.labels.connector).sort()).to.deep.equal(
            env.sb.spec.pipelines.flatMap((p) => [p.source.connectorName, p.sink.connectorName]).sort(),
        );
    });

    it("every series a recording rule or an alert selects exists, or is absent for a stated reason", async () => {
        const rules = prometheusRuleBody(env.sb.spec).spec.groups.flatMap((g) => g.rules);
        expect(rules.filter(isAlert).length).to.be.greaterThan(5);
        const missing: string[] = [];
        const explained: string[] = [];
        for (const rule of rules) {
            const name = isAlert(rule) ? rule.alert : rule.record;
            for (const s of selectorsOf(rule.expr)) {
                if ((await env.sb.prometheus.series(text(s))).length > 0) continue;
                const reason = ABSENT_WHEN_HEALTHY.find((r) => r.metric.test(s.metric) && (!r.matcher || r.matcher.test(s.matchers)));
                if (!reason) {
                    missing.push(`${name}: ${text(s)}`);
                    continue;
                }
                const exists = reason.matcher
                    ? (await env.sb.prometheus.series(text(withoutStateMatcher(s, reason.matcher)))).length > 0
                    : (await writersDeclare(s.metric)) === env.sb.lakehouse.writers.length;
                if (exists) explained.push(`${name}: ${text(s)}: ${reason.why}`);
                else missing.push(`${name}: ${text(s)} (and not there even without the state: ${reason.why})`);
            }
        }
        expect(missing, `selected but never scraped:\n${missing.join("\n")}`).to.deep.equal([]);
        expect(explained.length).to.be.greaterThan(0);
        for (const r of recordingRules(env.sb.spec)) {
            const labels = Object.entries(r.labels ?? {}).map(([k, v]) => `${k}="${v}"`);
            await waitFor(
                `${r.record}{${labels.join(",")}} to be recorded`,
                60_000,
                async () => (await query(`${r.record}{${labels.join(",")}}`)).length > 0,
            );
        }
    });

    it("runs the worker on the JVM options the stack's KafkaConnect renders", async () => {
        const cmdline = fs.readFileSync(`/proc/${env.sb.connect.jvm.pid}/cmdline`, "utf8").split("\0");
        const expected = jvmArguments(connectJvmOptions(env.sb.spec.connect));
        const at = cmdline.indexOf(expected[0]);
        expect(cmdline.slice(at, at + expected.length)).to.deep.equal(expected);
        const pod = env.sb.prometheus.targets[0].labels.pod;
        const max = await query(`jvm_memory_max_bytes{pod="${pod}",area="heap"}`);
        expect(max.map((s) => s.value)).to.deep.equal([heapBytes()]);
    });

    it("names every seed 000 metric from Connect, and says which one needs the Kafka Exporter", async () => {
        const pod = env.sb.prometheus.targets[0].labels.pod;
        const cpu = await query(`process_cpu_usage{connector="${pod}"}`);
        expect(cpu).to.have.length(1);
        expect(cpu[0].value).to.be.within(0, 1);
        const heap = await query(`jvm_memory_used_bytes{connector="${pod}",area="heap"}`);
        expect(heap).to.have.length(1);
        expect(heap[0].value).to.be.greaterThan(0).and.at.most(heapBytes());
        const tasks = await query(`kafka_connect_connector_task_status{namespace="cdc-sandbox",status="running"}`);
        expect(tasks.length).to.be.at.least(env.sb.spec.pipelines.length * 2);
        for (const m of SEED_METRICS.filter((m) => m.seed === "000 §8" && m.source !== "Kafka Exporter (not deployed by this stack)")) {
            const found = await query(m.name);
            expect(found, m.name).to.not.deep.equal([]);
            for (const label of m.labels)
                expect(
                    found.some((s) => s.labels[label] !== undefined),
                    `${m.name} has ${label}`,
                ).to.equal(true);
        }
        // The DLQ size is the Kafka Exporter's topic offsets; it runs with Strimzi's Kafka (spec.kafkaExporter), not here.
        expect(await query("kafka_topic_partition_current_offset")).to.deep.equal([]);
    });

    it("counts exactly the changes written: source topic, sink, lakehouse writer", async () => {
        const p = shop();
        const sink = p.sink.connectorName;
        const producer = `connector-producer-${p.source.connectorName}-0`;
        const topic = "shop.public.customers";
        const destinations = p.destinations.filter((d) => d.table === "public.customers").length;
        expect(destinations).to.be.greaterThan(0);
        const counters = {
            produced: `sum(kafka_producer_topic_record_send_total{namespace="cdc-sandbox",client_id="${producer}",topic="${topic}"})`,
            sunk: `sum(kafka_connect_sink_task_sink_record_send_total{namespace="cdc-sandbox",connector="${sink}"})`,
            lakehouse: `sum(cdc_events_processed_total{namespace="cdc-sandbox",pipeline_id="${p.name}",operation="INSERT"})`,
        };
        const read = async () => ({
            produced: value(await query(counters.produced)),
            sunk: value(await query(counters.sunk)),
            lakehouse: value(await query(counters.lakehouse)),
        });
        await expectInSync(env);
        // Stable: two reads a scrape apart agree, so nothing earlier is still arriving.
        let before = await read();
        await waitFor("the counters to settle", 60_000, async () => {
            await new Promise((r) => setTimeout(r, 4_000));
            const again = await read();
            const settled = JSON.stringify(again) === JSON.stringify(before);
            before = again;
            return settled;
        });

        const pg = new Client({ connectionString: env.sb.postgresSource.url });
        await pg.connect();
        try {
            for (let i = 0; i < INSERTS; i++) {
                const id = FIRST_ID + i;
                await pg.query(
                    `INSERT INTO customers (customer_id, email, first_name, last_name, registration_date, last_updated) VALUES ($1, $2, 'Metric', 'Spec', now(), now())`,
                    [id, `metrics-${id}@example.com`],
                );
            }
        } finally {
            await pg.end();
        }
        await expectInSync(env);
        const rows = await targetQuery<{ n: string }>(
            env,
            `SELECT count(*) AS n FROM ${p.sink.schema}.customers WHERE customer_id BETWEEN $1 AND $2`,
            [FIRST_ID, FIRST_ID + INSERTS - 1],
        );
        expect(Number(rows[0].n)).to.equal(INSERTS);

        const expected = {
            produced: before.produced + INSERTS,
            sunk: before.sunk + INSERTS,
            lakehouse: before.lakehouse + INSERTS * destinations,
        };
        let now = before;
        await waitFor("Prometheus to have scraped every change", 90_000, async () => {
            now = await read();
            return now.produced >= expected.produced && now.sunk >= expected.sunk && now.lakehouse >= expected.lakehouse;
        }).catch((err: Error) => {
            throw new Error(`${err.message}\nexpected ${JSON.stringify(expected)}, last ${JSON.stringify(now)}`);
        });
        await new Promise((r) => setTimeout(r, 6_000));
        expect(await read()).to.deep.equal(expected);
        process.stderr.write(`      [metrics] ${INSERTS} inserts: before ${JSON.stringify(before)}, after ${JSON.stringify(expected)}\n`);

        // The seed's throughput is a rate over 2 minutes, which hold the whole burst (and whatever the sink wrote before it).
        const throughput = value(await query(`cdc_throughput_records_per_second{connector="${sink}",direction="sink"}`));
        // No upper bound from the counter: a task restarted by an earlier spec restarts its counter, and the window also
        // holds what earlier specs streamed, so the counter's value bounds nothing in a whole-tier run.
        expect(throughput * 120).to.be.at.least(INSERTS * 0.8);
        process.stderr.write(`      [metrics] cdc_throughput_records_per_second{direction="sink"} ${throughput.toFixed(3)} /s over 2 m\n`);
    });

    it("reports a replication lag near the lag a change really has", async () => {
        const p = shop();
        const id = FIRST_ID + INSERTS;
        const pg = new Client({ connectionString: env.sb.postgresSource.url });
        await pg.connect();
        const committed = Date.now();
        try {
            await pg.query(
                `INSERT INTO customers (customer_id, email, first_name, last_name, registration_date, last_updated) VALUES ($1, $2, 'Metric', 'Lag', now(), now())`,
                [id, `metrics-${id}@example.com`],
            );
        } finally {
            await pg.end();
        }
        await waitFor(
            `customer ${id} in the target`,
            60_000,
            async () => (await targetQuery(env, `SELECT 1 FROM ${p.sink.schema}.customers WHERE customer_id = $1`, [id])).length === 1,
        );
        const measured = (Date.now() - committed) / 1000;
        // Two scrapes and an evaluation later the recorded lag includes this change.
        await new Promise((r) => setTimeout(r, 8_000));
        const table = seedTableName({ schema: "public", table: "customers" });
        const lag = await query(`cdc_replication_lag_seconds{connector="${p.source.connectorName}",table="${table}"}`);
        expect(lag).to.have.length(1);
        process.stderr.write(
            `      [metrics] commit to target row ${measured.toFixed(2)} s; cdc_replication_lag_seconds ${lag[0].value.toFixed(2)} s\n`,
        );
        expect(lag[0].value, `measured ${measured} s`)
            .to.be.at.least(0)
            .and.at.most(measured + 1);
        expect(Math.abs(lag[0].value - measured), `recorded ${lag[0].value} s, measured ${measured} s`).to.be.at.most(2);
        const lakehouse = await query(`cdc_lag_seconds{pipeline_id="${p.name}",source_table="${table}"}`);
        expect(lakehouse.length).to.be.greaterThan(0);
        for (const s of lakehouse) expect(s.value, s.labels.destination_table).to.be.at.least(0).and.below(60);
    });
});
