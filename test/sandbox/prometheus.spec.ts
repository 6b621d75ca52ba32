/**
 * The sandbox Prometheus's configuration (sandbox/prometheus.ts), checked by the real promtool: the scrape jobs carry
 * the labels the prometheus-operator gives the stack's PodMonitor targets, the Connect job applies the PodMonitor's
 * metricRelabelings, and the rule file is the stack's rendered PrometheusRule groups.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { podMonitorBody, prometheusRuleBody } from "../../plan/monitoring";
import { parseStackSpec } from "../../plan/stack-spec";
import { prometheusConfig, rulesFile, sandboxScrapeTargets } from "../../sandbox/prometheus";
import { sandboxStackConfig } from "../../sandbox/stack";
import type { RunningDatabase } from "../../sandbox/databases";
import { promtool } from "../helpers/promtool";

const db = (database: string): RunningDatabase =>
    ({
        engine: "postgres",
        host: "127.0.0.1",
        port: 5432,
        database,
        user: "u",
        password: "p",
        url: "",
        dataDir: "",
        stop: async () => undefined,
    }) as unknown as RunningDatabase;

describe("sandbox Prometheus configuration", () => {
    const spec = parseStackSpec(
        sandboxStackConfig({
            bootstrapServers: "127.0.0.1:9092",
            postgresSource: db("shop"),
            mariaDbSource: db("inventory"),
            target: db("warehouse"),
        }),
    ).spec;
    const targets = sandboxScrapeTargets(spec, {
        connect: "http://127.0.0.1:40001/metrics",
        writers: spec.pipelines.map((p, i) => ({ pipeline: p.name, port: 40010 + i })),
        pushgateway: "127.0.0.1:40020",
    });
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-sandbox-prometheus-"))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("labels the targets as the PodMonitors' targets are labelled in the cluster", () => {
        const connect = targets[0];
        expect(connect.job).to.equal(`${spec.namespace}/${podMonitorBody(spec).metadata.name}`);
        expect(connect.labels).to.deep.equal({
            namespace: spec.namespace,
            pod: `${spec.connect.name}-connect-0`,
            container: `${spec.connect.name}-connect`,
            endpoint: "tcp-prometheus",
        });
        expect(connect.metricRelabelings).to.deep.equal(podMonitorBody(spec).spec.podMetricsEndpoints[0].metricRelabelings);
        const writers = targets.filter((t) => t.labels.container === "writer");
        expect(writers.map((w) => w.address)).to.have.length(spec.pipelines.filter((p) => p.destinations.length > 0).length);
        expect(targets.at(-1)).to.include({ job: "pushgateway", honorLabels: true });
    });

    it("is a configuration promtool accepts, with the stack's rule groups", () => {
        const rules = path.join(dir, "rules.yml");
        fs.writeFileSync(rules, rulesFile(prometheusRuleBody(spec).spec.groups));
        const config = prometheusConfig(targets, rules, 3);
        fs.writeFileSync(path.join(dir, "prometheus.yml"), config);
        const run = promtool(["check", "config", "prometheus.yml"], dir);
        expect(run.status, run.output).to.equal(0);
        expect(run.output).to.match(/SUCCESS: \d+ rules found/);
        const parsed = parse(config) as { scrape_configs: { job_name: string; metric_relabel_configs?: { target_label: string }[] }[] };
        expect(parsed.scrape_configs[0].metric_relabel_configs?.map((r) => r.target_label)).to.deep.equal(["connector"]);
    });
});
