/**
 * Every query of the Grafana dashboard (plan/dashboards.ts) against the sandbox's real Prometheus, once per
 * pipeline row with the row's variable substituted as Grafana substitutes it: each must return series, and only
 * series of that row's pipeline. The dashboard is rendered from the sandbox's stack plus a reconciler pushing to the
 * sandbox's Pushgateway (the shipped dev stack has one), so the reconciliation panels are in it too.
 *
 * Why each panel has data in a healthy sandbox, with nothing induced:
 * - Connect worker CPU and memory: the JMX exporter's process and JVM memory series, there from the worker's start.
 * - Replication lag: the recording rule over Debezium's streaming lag and the sink consumer's records-lag, there once
 *   the source streams (after the fixture's initial snapshot).
 * - Throughput, errors: rates of Connect's task counters, which exist (at 0 while idle or healthy) from each task's
 *   start; the error rule also covers Debezium's erroneous-event count.
 * - Dead letter queue: every sink has a dead letter topic, so Connect registers its dead-letter produce count at 0.
 * - Task states: one series per task, value 1 for its current state.
 * - Reconciliation status and hours since in sync: this spec reconciles every planned run first, pushing as the
 *   CronJob does (a clean run pushes status ok and a last-success time).
 * - Lakehouse lag and throughput: the writers set their lag when they write the initial snapshot, and count its events.
 * - Lakehouse health and failures: health is set at the writer's start; the failure counter appears only at a first
 *   failure, and the panel's query falls back to 0 × health for a writer without one.
 */
import { expect } from "chai";
import type { StackSpec } from "../../model/spec";
import { PIPELINE_MATCH, pipelineIdentities, pipelineMatcher, pipelineOverviewDashboard, RATE_INTERVAL } from "../../plan/dashboards";
import type { RunningPrometheus, Sample } from "../../sandbox/prometheus";
import { E2E, e2e, START_TIMEOUT_MS, waitFor } from "./fixture";
import { pushgatewayStack, reconcileAndPush } from "./reconcile-push";

/** What Grafana puts for $__rate_interval at its default 1 m panel interval and the sandbox's 3 s scrapes. */
const GRAFANA_RATE_INTERVAL = "1m";
/** Labels a row's series may carry that name a pipeline; each must be one of the row's pipeline's names. */
const PIPELINE_LABELS = ["connector", "pipeline", "pipeline_id", "name", "topic"];

describe("sandbox e2e: every dashboard query returns data for every pipeline row", function () {
    this.timeout(15 * 60_000);
    let env: E2E;
    let prom: RunningPrometheus;
    let spec: StackSpec;

    before(async function () {
        this.timeout(START_TIMEOUT_MS);
        env = await e2e();
        prom = env.sb.prometheus;
        spec = pushgatewayStack(env);
        await reconcileAndPush(env, spec);
        await prom.waitForScrapes();
    });

    it("renders the dashboard of the sandbox's stack with every panel, reconciliation and lakehouse included", () => {
        const titles = pipelineOverviewDashboard(spec).panels.map((p) => p.title);
        expect(titles).to.include.members([
            "Replication lag",
            "Dead letter queue",
            "Reconciliation status",
            "Lakehouse writer health and failures",
        ]);
    });

    it("answers every query of every pipeline's row with series of that pipeline only", async () => {
        const dashboard = pipelineOverviewDashboard(spec);
        const queries = dashboard.panels.flatMap((panel) =>
            "targets" in panel ? panel.targets.map((t) => ({ panel: panel.title, expr: t.expr })) : [],
        );
        expect(queries.length).to.be.greaterThan(10);
        const empty: string[] = [];
        for (const pipeline of spec.pipelines) {
            const names = pipelineIdentities(pipeline);
            // The workers' panels are the stack's, not a row's: asked once, with the first row.
            for (const q of queries.filter((q) => q.expr.includes(PIPELINE_MATCH) || pipeline === spec.pipelines[0])) {
                const expr = q.expr.split(PIPELINE_MATCH).join(pipelineMatcher(pipeline)).split(RATE_INTERVAL).join(GRAFANA_RATE_INTERVAL);
                let samples: Sample[] = [];
                try {
                    await waitFor(
                        `${q.panel} for ${pipeline.name}: ${expr}`,
                        90_000,
                        async () => (samples = await prom.query(expr)).length > 0,
                    );
                } catch {
                    empty.push(`${pipeline.name} / ${q.panel}: ${expr}`);
                    continue;
                }
                if (!q.expr.includes(PIPELINE_MATCH)) continue;
                for (const s of samples)
                    for (const label of PIPELINE_LABELS.filter((l) => s.labels[l] !== undefined))
                        expect(names, `${pipeline.name} / ${q.panel}: ${label}="${s.labels[label]}"`).to.include(s.labels[label]);
            }
        }
        expect(empty, "queries without data").to.deep.equal([]);
    });
});
