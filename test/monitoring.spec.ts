import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseStackSpec } from "../plan/stack-spec";
import { jmxExporterConfig } from "../plan/metrics";
import { alerts, podMonitorBody, prometheusRuleBody, runbookAnchor } from "../plan/monitoring";
import { renderTableMetrics } from "../reconciler/metrics";
import { emptyOutcome, tableReport } from "../reconciler/report";
import { validateManifest } from "./helpers/k8s-schemas";
import { runProgram } from "./helpers/program";
import { rawProjectConfig, REPO_ROOT } from "./helpers/stack-files";

const spec = (stack: "dev" | "prod", edit?: (raw: Record<string, any>) => void) => {
    const raw = structuredClone(rawProjectConfig(stack)) as Record<string, any>;
    edit?.(raw);
    return parseStackSpec(raw).spec;
};

/** What the JMX exporter would name an MBean attribute under our rules (its name sanitising included). */
function exportedName(mbean: string): string | undefined {
    const config = parse(jmxExporterConfig()) as { lowercaseOutputName: boolean; rules: Array<{ pattern: string; name: string }> };
    for (const rule of config.rules) {
        const match = new RegExp(`^${rule.pattern}$`).exec(mbean);
        if (!match) continue;
        const name = rule.name.replace(/\$(\d)/g, (_, i) => match[Number(i)] ?? "").replace(/[^a-zA-Z0-9_:]/g, "_");
        return config.lowercaseOutputName ? name.toLowerCase() : name;
    }
    return undefined;
}

/** The MBean attributes Kafka Connect 4.x and Debezium 3.x expose that the alerts rely on. */
const MBEANS = [
    "kafka.connect<type=connector-metrics, connector=sqlserver-cdc-source><>status: failed",
    "kafka.connect<type=connector-task-metrics, connector=sqlserver-cdc-source, task=0><>status: failed",
    "kafka.connect<type=task-error-metrics, connector=postgresql-jdbc-sink, task=0><>deadletterqueue-produce-requests",
    "debezium.sql_server<type=connector-metrics, context=streaming, server=sqlserver, task=0, database=SalesDB><>Connected",
    "debezium.sql_server<type=connector-metrics, context=streaming, server=sqlserver, task=0, database=SalesDB><>MilliSecondsBehindSource",
];

function reconcilerMetricNames(): Set<string> {
    const report = tableReport(emptyOutcome("dbo.orders", "sales.orders"), { maxDiscrepancies: 10, criticalRatio: 0.1 });
    const text = renderTableMetrics(report, new Date());
    return new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
}

describe("monitoring", () => {
    it("alerts only on metrics the stack's exporters actually produce", () => {
        const produced = new Set([...MBEANS.map(exportedName).filter((n): n is string => !!n), ...reconcilerMetricNames()]);
        const used = alerts(spec("prod")).flatMap((a) =>
            [...a.expr.matchAll(/\b(kafka_connect_\w+|debezium_metrics_\w+|cdc_reconciliation_\w+)\b/g)].map((m) => m[1]),
        );
        expect(used).to.have.length.greaterThan(6);
        for (const name of used) expect([...produced], name).to.include(name);
    });

    it("pages in prod and only warns in dev, with the configured lag threshold", () => {
        const prodAlerts = alerts(spec("prod", (raw) => (raw.monitoring.sourceLagSeconds = 120)));
        expect(new Set(prodAlerts.map((a) => a.labels.severity))).to.deep.equal(new Set(["critical"]));
        expect(prodAlerts.find((a) => a.alert === "CdcSourceLagHigh")!.expr).to.match(/ > 120$/);
        expect(new Set(alerts(spec("dev")).map((a) => a.labels.severity))).to.deep.equal(new Set(["warning"]));
    });

    it("links every alert to its runbook section under monitoring.runbookBaseUrl", () => {
        const runbooks = fs.readFileSync(path.join(REPO_ROOT, "docs", "runbooks.md"), "utf8");
        const anchors = new Set(
            [...runbooks.matchAll(/^#+ (.+)$/gm)].map((m) =>
                m[1]
                    .trim()
                    .toLowerCase()
                    .replace(/[^a-z0-9 -]/g, "")
                    .replace(/ /g, "-"),
            ),
        );
        const base = "https://runbooks.example.org/cdc/runbooks.md";
        for (const a of alerts(spec("prod", (raw) => (raw.monitoring.runbookBaseUrl = base)))) {
            expect(Object.keys(a.annotations).sort(), a.alert).to.deep.equal(["description", "runbook_url", "summary"]);
            expect(a.annotations.runbook_url).to.equal(`${base}#${runbookAnchor(a.alert)}`);
            expect([...anchors], a.alert).to.include(runbookAnchor(a.alert));
        }
    });

    it("renders every annotation with the configured values filled in and Prometheus templates intact", () => {
        const custom = spec("prod", (raw) => Object.assign(raw.monitoring, { sourceLagSeconds: 120, reconciliationMaxAgeHours: 48 }));
        for (const a of [...alerts(spec("dev")), ...alerts(spec("prod")), ...alerts(custom)]) {
            // The labels an alert keeps are the ones its expression aggregates by; a template may only read those.
            const kept = new Set((/\bby \(([^)]*)\)/.exec(a.expr)?.[1] ?? "").split(",").map((l) => l.trim()));
            for (const [key, text] of Object.entries(a.annotations)) {
                const where = `${a.alert} ${key}: ${text}`;
                expect(text, where).not.to.include("${");
                const outside = text.replace(/\{\{ ([^{}]*) \}\}/g, (_, inner: string) => {
                    const m = /^(?:\$labels\.([a-z_]+)|\$value)(?: \| [a-zA-Z]+)?$/.exec(inner);
                    expect(m, `template {{ ${inner} }} in ${where}`).to.not.equal(null);
                    if (m![1]) expect([...kept], `$labels.${m![1]} in ${where}`).to.include(m![1]);
                    return "";
                });
                expect(outside, where).not.to.match(/[{}]/);
            }
        }
        const stale = alerts(custom).find((a) => a.alert === "CdcReconciliationStale")!;
        expect(stale.annotations.summary).to.equal("{{ $labels.target_table }} has not been confirmed in sync for over 48 hours");
        expect(alerts(custom).find((a) => a.alert === "CdcSourceLagHigh")!.annotations.description).to.match(
            /^Change events reach Kafka more than 120 s after commit/,
        );
    });

    it("renders a PodMonitor and PrometheusRule the prometheus-operator schemas accept", () => {
        expect(validateManifest(podMonitorBody(spec("prod")) as any)).to.deep.equal([]);
        expect(validateManifest(prometheusRuleBody(spec("prod")) as any)).to.deep.equal([]);
    });

    it("selects the Connect pods Strimzi creates and carries the labels Prometheus selects by", () => {
        const monitor = podMonitorBody(spec("dev"));
        expect(monitor.spec.selector.matchLabels).to.deep.equal({ "strimzi.io/cluster": "cdc-connect", "strimzi.io/kind": "KafkaConnect" });
        expect(monitor.metadata.labels).to.include({ release: "kube-prometheus-stack" });
    });

    it("registers the pod monitor and the alert rule in the shipped stack", async function () {
        this.timeout(60000);
        const { mocks } = await runProgram("prod", false);
        expect(mocks.ofType("kubernetes:monitoring.coreos.com/v1:PrometheusRule").map((r) => r.name)).to.deep.equal(["monitoring-alerts"]);
        // The lakehouse writer's own PodMonitor is test/lakehouse-program.spec.ts's.
        expect(mocks.ofType("kubernetes:monitoring.coreos.com/v1:PodMonitor").map((r) => r.name)).to.deep.equal([
            "monitoring-pod-monitor",
            "lakehouse-sales-pod-monitor",
        ]);
    });
});
