/**
 * The Grafana dashboard ConfigMap: valid against the Kubernetes schema, in the sidecar's convention, a dashboard
 * Grafana can load (ids, grid, variables), and every panel query accepted by the real promtool once Grafana's
 * variables are substituted the way Grafana substitutes them.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import type { StackSpec } from "../model/spec";
import {
    dashboardConfigMapBody,
    DASHBOARD_KEY,
    PIPELINE_MATCH,
    PIPELINE_VARIABLE,
    pipelineIdentities,
    pipelineMatcher,
    RATE_INTERVAL,
} from "../plan/dashboards";
import { parseStackSpec } from "../plan/stack-spec";
import { validateManifest } from "./helpers/k8s-schemas";
import { runProgram } from "./helpers/program";
import { promtool } from "./helpers/promtool";
import { rawProjectConfig, SHIPPED_STACKS, ShippedStack } from "./helpers/stack-files";

const specOf = (stack: ShippedStack, edit?: (raw: Record<string, any>) => void): StackSpec => {
    const raw = structuredClone(rawProjectConfig(stack)) as Record<string, any>;
    edit?.(raw);
    return parseStackSpec(raw).spec;
};

interface Target {
    refId: string;
    expr: string;
    legendFormat: string;
}
interface GrafanaPanel {
    id: number;
    type: string;
    title: string;
    repeat?: string;
    gridPos: { x: number; y: number; w: number; h: number };
    datasource?: { type: string; uid: string };
    targets?: Target[];
}
interface Dashboard {
    uid: string;
    title: string;
    templating: { list: Array<{ name: string; type: string; query: string; options?: Array<{ text: string; value: string }> }> };
    panels: GrafanaPanel[];
}

const dashboardOf = (spec: StackSpec): Dashboard => JSON.parse(dashboardConfigMapBody(spec).data[DASHBOARD_KEY]) as Dashboard;
const queriesOf = (d: Dashboard) => d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** A query as Grafana sends it for one repeated row: the row's pipeline value raw, the rate window a duration. */
const substituted = (expr: string, pipelineValue: string) => expr.split(PIPELINE_MATCH).join(pipelineValue).split(RATE_INTERVAL).join("2m");

describe("Grafana dashboard", () => {
    for (const stack of SHIPPED_STACKS) {
        describe(`${stack} stack`, () => {
            const spec = specOf(stack);
            const dashboard = dashboardOf(spec);

            it("ships as a ConfigMap the Kubernetes schema accepts, labelled for Grafana's dashboard sidecar", () => {
                const body = dashboardConfigMapBody(spec);
                expect(validateManifest(body as any)).to.deep.equal([]);
                expect(body.metadata.labels).to.include({ grafana_dashboard: "1", "app.kubernetes.io/part-of": "cdc-pipeline" });
                expect(Object.keys(body.data)).to.deep.equal([DASHBOARD_KEY]);
                expect(dashboard.uid.length).to.be.at.most(40);
            });

            it("is a dashboard Grafana can lay out: unique ids, panels inside the 24-column grid and not overlapping", () => {
                const ids = dashboard.panels.map((p) => p.id);
                expect(new Set(ids).size).to.equal(ids.length);
                const cells = new Set<string>();
                for (const p of dashboard.panels) {
                    const { x, y, w, h } = p.gridPos;
                    expect(x + w, p.title).to.be.at.most(24);
                    for (let i = x; i < x + w; i++)
                        for (let j = y; j < y + h; j++) {
                            expect(cells.has(`${i},${j}`), `${p.title} overlaps at ${i},${j}`).to.equal(false);
                            cells.add(`${i},${j}`);
                        }
                }
            });

            it("has a query on every panel, each naming the Prometheus data source variable and only defined variables", () => {
                const variables = new Set(dashboard.templating.list.map((v) => v.name));
                for (const p of dashboard.panels.filter((p) => p.type !== "row")) {
                    expect(p.targets, p.title).to.have.length.greaterThan(0);
                    expect(p.datasource).to.deep.equal({ type: "prometheus", uid: "${datasource}" });
                    for (const t of p.targets!) {
                        expect(t.expr.trim(), p.title).to.not.equal("");
                        for (const [, name] of t.expr.matchAll(/\$\{?(\w+)/g))
                            expect(name === "__rate_interval" || variables.has(name), `${p.title}: $${name}`).to.equal(true);
                    }
                }
            });

            it("repeats one row per pipeline, each row's variable value matching that pipeline's series only", () => {
                const repeated = dashboard.panels.filter((p) => p.repeat);
                expect(repeated.map((p) => [p.type, p.repeat])).to.deep.equal([["row", PIPELINE_VARIABLE]]);
                expect(
                    dashboard.panels.at(-1)!.type,
                    "the repeated row must be the last, or Grafana repeats the rows after it",
                ).to.not.equal("row");
                const variable = dashboard.templating.list.find((v) => v.name === PIPELINE_VARIABLE)!;
                expect(variable.options!.map((o) => o.text)).to.deep.equal(spec.pipelines.map((p) => p.name));
                for (const p of spec.pipelines) {
                    // Prometheus anchors a =~ regex at both ends; so does this.
                    const matches = new RegExp(`^(?:${pipelineMatcher(p)})$`);
                    for (const other of spec.pipelines)
                        for (const id of pipelineIdentities(other))
                            expect(matches.test(id), `${p.name} row vs ${id}`).to.equal(other === p);
                    expect(matches.test(`${p.name}x`)).to.equal(false);
                    expect(variable.query).to.include(`${p.name} : ${pipelineMatcher(p)}`);
                }
            });

            it("has every query accepted by promtool, for every pipeline's row", function () {
                this.timeout(30_000);
                const rules = spec.pipelines.flatMap((p) =>
                    queriesOf(dashboard).map((q, i) => ({
                        record: `dashboard:query_${p.name.replace(/\W/g, "_")}:${i}`,
                        expr: substituted(q.expr, pipelineMatcher(p)),
                    })),
                );
                expect(rules.every((r) => !r.expr.includes("$"))).to.equal(true);
                const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-dashboard-"));
                try {
                    fs.writeFileSync(path.join(dir, "queries.yml"), stringify({ groups: [{ name: "dashboard", rules }] }));
                    const run = promtool(["check", "rules", "queries.yml"], dir);
                    expect(run.status, run.output).to.equal(0);
                    expect(run.output).to.include(`SUCCESS: ${rules.length} rules found`);
                } finally {
                    fs.rmSync(dir, { recursive: true, force: true });
                }
            });
        });
    }

    it("draws what the on-call looks at: lag, throughput, errors, dead letters, task states, reconciliation, lakehouse writers", () => {
        const titles = dashboardOf(specOf("prod")).panels.map((p) => p.title);
        expect(titles).to.include.members([
            "Replication lag",
            "Throughput in / out",
            "Errors per minute",
            "Dead letter queue",
            "Task states",
            "Reconciliation status",
            "Hours since last in sync",
            "Lakehouse lag",
            "Lakehouse writer throughput",
            "Lakehouse writer health and failures",
        ]);
    });

    it("leaves out the reconciliation panels without a Pushgateway and the lakehouse panels without writers that serve metrics", () => {
        const titles = (spec: StackSpec) => dashboardOf(spec).panels.map((p) => p.title);
        expect(titles(specOf("prod", (raw) => delete raw.reconciler.pushgatewayUrl))).to.not.include("Reconciliation status");
        const quiet = specOf("dev", (raw) => {
            for (const p of raw.pipelines) if (p.destinations) p.lakehouse = { observability: { metricsEnabled: false } };
        });
        expect(titles(quiet).filter((t) => t.startsWith("Lakehouse"))).to.deep.equal([]);
        expect(titles(specOf("dev")).filter((t) => t.startsWith("Lakehouse"))).to.have.length(3);
    });

    it("selects each stack's own series by namespace, reconciliation's also by the reconciler's job", () => {
        const spec = specOf("prod");
        const exprs = queriesOf(dashboardOf(spec)).map((q) => q.expr);
        for (const expr of exprs) expect(expr).to.include(`namespace="${spec.namespace}"`);
        const reconciliation = exprs.filter((e) => e.includes("cdc_reconciliation_"));
        expect(reconciliation).to.have.length(2);
        for (const expr of reconciliation) expect(expr).to.include(`job="${spec.reconciler!.name}",pipeline=~"${PIPELINE_MATCH}"`);
    });

    it("takes the sidecar's label from monitoring.dashboardLabels, and refuses none", () => {
        const custom = specOf("dev", (raw) => (raw.monitoring.dashboardLabels = { "grafana.example.com/dashboard": "cdc" }));
        expect(dashboardConfigMapBody(custom).metadata.labels)
            .to.include({ "grafana.example.com/dashboard": "cdc" })
            .and.not.have.property("grafana_dashboard");
        expect(() => specOf("dev", (raw) => (raw.monitoring.dashboardLabels = {}))).to.throw(
            /monitoring\.dashboardLabels: must name the label Grafana's dashboard sidecar watches/,
        );
    });

    it("refuses a stack where a name of one pipeline is a name of another, naming both settings, unless monitoring is off", () => {
        const clash = (raw: Record<string, any>) => {
            const [first, second] = raw.pipelines;
            second.name = first.source.connectorName;
        };
        expect(() => specOf("dev", clash)).to.throw(
            "pipelines[1].name: gives the name of pipeline sqlserver-cdc-source the name \"sqlserver-cdc-source\", which is also the source connector's name of pipeline sales; the dashboard's row of either would show both, so change this or pipelines[0].source.connectorName",
        );
        expect(() =>
            specOf("dev", (raw) => {
                clash(raw);
                raw.monitoring.enabled = false;
            }),
        ).to.not.throw();
    });

    it("registers the dashboard ConfigMap in the shipped stack", async function () {
        this.timeout(60000);
        const { mocks } = await runProgram("prod", false);
        expect(mocks.ofType("kubernetes:core/v1:ConfigMap").map((r) => r.name)).to.include("monitoring-dashboards");
    });
});
