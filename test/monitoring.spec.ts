import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseStackSpec } from "../plan/stack-spec";
import { jmxExporterConfig } from "../plan/metrics";
import {
    alerts,
    isAlert,
    lagThresholdSeconds,
    podMonitorBody,
    prometheusRuleBody,
    runbookAnchor,
    SEED_LAG_THRESHOLD_SECONDS,
} from "../plan/monitoring";
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
    const config = parse(jmxExporterConfig()) as {
        lowercaseOutputName: boolean;
        rules: Array<{ pattern: string; name: string; type?: string }>;
    };
    for (const rule of config.rules) {
        const match = new RegExp(`^${rule.pattern}$`).exec(mbean);
        if (!match) continue;
        const name = rule.name.replace(/\$(\d)/g, (_, i) => match[Number(i)] ?? "").replace(/[^a-zA-Z0-9_:]/g, "_");
        const cased = config.lowercaseOutputName ? name.toLowerCase() : name;
        // The exporter exposes a counter as <name>_total.
        return rule.type === "COUNTER" && !cased.endsWith("_total") ? `${cased}_total` : cased;
    }
    return undefined;
}

/**
 * The MBean attributes Kafka Connect 4.x and Debezium 3.x expose that the alerts rely on, as the exporter matches them.
 * Debezium 3.6's SQL Server names its MBeans server, task, context[, database] (Connected and the queue per task, lag
 * and snapshot state per database: test/metrics-rules.spec.ts registers them with Debezium's own classes); PostgreSQL,
 * MySQL and MariaDB context, server (as a worker in the sandbox registers them).
 */
const MBEANS = [
    "kafka.connect<type=connector-metrics, connector=sqlserver-cdc-source><>status: failed",
    "kafka.connect<type=connector-task-metrics, connector=sqlserver-cdc-source, task=0><>status: failed",
    "kafka.connect<type=task-error-metrics, connector=postgresql-jdbc-sink, task=0><>deadletterqueue-produce-requests",
    "kafka.connect<type=sink-task-metrics, connector=postgresql-jdbc-sink, task=0><>sink-record-read-total",
    "kafka.connect<type=source-task-metrics, connector=shop-postgres-source, task=0><>source-record-poll-total",
    "kafka.consumer<type=consumer-fetch-manager-metrics, client-id=connector-consumer-postgresql-jdbc-sink-0, topic=sqlserver.SalesDB.dbo.orders, partition=0><>records-lag",
    "debezium.sql_server<type=connector-metrics, server=sqlserver, task=0, context=streaming><>Connected",
    "debezium.sql_server<type=connector-metrics, server=sqlserver, task=0, context=streaming, database=SalesDB><>MilliSecondsBehindSource",
    "debezium.sql_server<type=connector-metrics, server=sqlserver, task=0, context=streaming><>QueueRemainingCapacity",
    "debezium.sql_server<type=connector-metrics, server=sqlserver, task=0, context=streaming><>QueueTotalCapacity",
    "debezium.postgres<type=connector-metrics, context=streaming, server=shop><>MilliSecondsSinceLastEvent",
    "debezium.postgres<type=connector-metrics, context=streaming, server=shop><>TotalNumberOfEventsSeen",
];

function reconcilerMetricNames(): Set<string> {
    const report = tableReport(emptyOutcome("dbo.orders", "sales.orders"), { maxDiscrepancies: 10, criticalRatio: 0.1 });
    const text = renderTableMetrics(report, new Date());
    return new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
}

/**
 * The metric names the lakehouse writer exposes, read from its prometheus_client declarations
 * (lakehouse/src/cdc_lakehouse/metrics.py; a Counter is exposed with `_total` appended).
 */
function writerMetricNames(): Set<string> {
    const source = fs.readFileSync(path.join(REPO_ROOT, "lakehouse", "src", "cdc_lakehouse", "metrics.py"), "utf8");
    const declared = [...source.matchAll(/\b(Gauge|Counter)\("(\w+)"/g)].map((m) => (m[1] === "Counter" ? `${m[2]}_total` : m[2]));
    return new Set(declared);
}

describe("monitoring", () => {
    it("alerts only on metrics the stack's exporters actually produce", () => {
        const produced = new Set([
            ...MBEANS.map(exportedName).filter((n): n is string => !!n),
            ...reconcilerMetricNames(),
            ...writerMetricNames(),
        ]);
        const used = [...alerts(spec("prod")), ...alerts(spec("dev"))].flatMap((a) =>
            [...a.expr.matchAll(/\b(kafka_connect_\w+|kafka_consumer_\w+|debezium_metrics_\w+|cdc_\w+)\b/g)].map((m) => m[1]),
        );
        expect(used).to.have.length.greaterThan(6);
        expect(used).to.include.members([
            "cdc_lag_seconds",
            "cdc_events_failed_total",
            "cdc_pipeline_health",
            "cdc_throughput_events_per_second",
        ]);
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

    describe("pipeline alerts", () => {
        const named = (all: ReturnType<typeof alerts>, name: string) => all.find((a) => a.alert === name);

        it("gives every alert a `for`, and renders another only when asked, with the same expressions", () => {
            const shipped = alerts(spec("prod"));
            for (const a of shipped) expect(a.for, a.alert).to.match(/^[1-9]\d*[mh]$/);
            const fast = prometheusRuleBody(spec("prod"), { for: "15s" })
                .spec.groups.flatMap((g) => g.rules)
                .filter(isAlert);
            expect(fast.map((a) => a.for)).to.deep.equal(shipped.map(() => "15s"));
            expect(fast.map((a) => a.expr)).to.deep.equal(shipped.map((a) => a.expr));
        });

        it("counts the Connect workers up against connect.replicas", () => {
            expect(named(alerts(spec("prod")), "CdcConnectContainersDown")!.expr).to.equal(
                '(count(up{namespace="cdc",pod=~"cdc-connect-connect-[0-9]+"} == 1) or vector(0)) < 2',
            );
        });

        it("watches for missing change events only on sources with heartbeats, over monitoring.sourceIdleMinutes", () => {
            const dev = spec("dev", (raw) => {
                raw.monitoring.sourceIdleMinutes = 90;
                raw.pipelines.find((p: { name: string }) => p.name === "inventory").source.heartbeatIntervalMs = 0;
            });
            const expr = named(alerts(dev), "CdcSourceNoEvents")!.expr;
            expect(expr).to.include(
                '(sum by (name) (increase(debezium_metrics_totalnumberofeventsseen{namespace="cdc-dev",name="shop"}[90m])) == 0) and on () ' +
                    '(sum(increase(kafka_connect_source_task_source_record_poll_total{namespace="cdc-dev",connector="shop-postgres-source"}[90m])) > 0)',
            );
            expect(expr).not.to.include("inventory");
            const quiet = spec("dev", (raw) =>
                raw.pipelines.forEach((p: { source: { heartbeatIntervalMs: number } }) => (p.source.heartbeatIntervalMs = 0)),
            );
            expect(named(alerts(quiet), "CdcSourceNoEvents")).to.equal(undefined);
        });

        it("alerts on SQL Server lag past half the CDC cleanup retention the stack configures, only where a source is SQL Server", () => {
            const prod = spec("prod", (raw) => (raw.sqlserver = { ...(raw.sqlserver ?? {}), cdcRetentionMinutes: 1441 }));
            expect(named(alerts(prod), "CdcSqlServerLagNearRetention")!.expr).to.equal(
                'max by (name) (debezium_metrics_millisecondsbehindsource{namespace="cdc",context="streaming",plugin="sql_server"}) / 60000 > 720',
            );
            expect(named(alerts(prod), "CdcSqlServerLagNearRetention")!.annotations.description).to.include("1441 minutes");
            const noSqlServer = spec(
                "dev",
                (raw) => (raw.pipelines = raw.pipelines.filter((p: { source: { kind: string } }) => p.source.kind !== "sqlserver")),
            );
            expect(named(alerts(noSqlServer), "CdcSqlServerLagNearRetention")).to.equal(undefined);
        });

        it("alerts on the share of dead letters above seed 000's 0.1 %, and on sink consumer lag above monitoring.sinkLagRecords", () => {
            const dev = spec("dev", (raw) => (raw.monitoring.sinkLagRecords = 5000));
            const sinks = "postgresql-jdbc-sink|shop-postgres-sink|inventory-postgres-sink";
            expect(named(alerts(dev), "CdcDeadLetterRateHigh")!.expr).to.equal(
                `sum by (connector) (increase(kafka_connect_task_error_deadletterqueue_produce_requests{namespace="cdc-dev",connector=~"${sinks}"}[15m])) / ` +
                    `sum by (connector) (increase(kafka_connect_sink_task_sink_record_read_total{namespace="cdc-dev",connector=~"${sinks}"}[15m])) > 0.001`,
            );
            expect(named(alerts(dev), "CdcSinkConsumerLagHigh")!.expr).to.equal(
                `sum by (connector) (label_replace(kafka_consumer_fetch_manager_records_lag{namespace="cdc-dev",client_id=~"connector-consumer-(${sinks})-[0-9]+"}, ` +
                    '"connector", "$1", "client_id", "connector-consumer-(.+)-[0-9]+")) > 5000',
            );
        });

        it("scopes the reconciliation alerts to the stack's namespace and reconciler, with one absent() per planned table", () => {
            const all = alerts(spec("prod"));
            expect(named(all, "CdcReconciliationMismatch")!.expr).to.equal(
                'max by (namespace, pipeline, source_table, target_table) (cdc_reconciliation_status{namespace="cdc",job="cdc-reconciler",status!="ok"}) > 0',
            );
            const stale = named(all, "CdcReconciliationStale")!.expr;
            const guards = [...stale.matchAll(/absent\(([^)]*)\)/g)].map((m) => m[1]);
            expect(guards).to.deep.equal(
                ["customers", "orders", "order_items"].map(
                    (t) =>
                        `cdc_reconciliation_last_success_timestamp_seconds{namespace="cdc",job="cdc-reconciler",pipeline="sales",source_table="dbo.${t}",target_table="sales.${t}"}`,
                ),
            );
            expect(stale).to.match(
                /^\(time\(\) - max by \(namespace, pipeline, source_table, target_table\) \(cdc_reconciliation_last_success_timestamp_seconds\{namespace="cdc",job="cdc-reconciler"\}\) > 93600\) or absent/,
            );
        });

        it("renders no reconciliation alert without a Pushgateway, and the config check warns", () => {
            const raw = structuredClone(rawProjectConfig("prod")) as Record<string, any>;
            delete raw.reconciler.pushgatewayUrl;
            const parsed = parseStackSpec(raw);
            expect(alerts(parsed.spec).filter((a) => a.alert.startsWith("CdcReconciliation"))).to.deep.equal([]);
            expect(parsed.warnings).to.deep.equal([
                "reconciler: no pushgatewayUrl; the reconciliation results reach no Prometheus, so CdcReconciliationMismatch and CdcReconciliationStale are not rendered and a copy that drifts pages nobody; set reconciler.pushgatewayUrl to the Pushgateway your Prometheus scrapes (e.g. http://pushgateway.monitoring.svc:9091)",
            ]);
            raw.monitoring.enabled = false;
            expect(parseStackSpec(raw).warnings).to.deep.equal([]);
        });
    });

    describe("lakehouse writer alerts", () => {
        const named = (all: ReturnType<typeof alerts>, name: string) => all.find((a) => a.alert === name);

        it("alerts on every monitored destination's lag above its lag_monitoring threshold, the seed's 5 s otherwise", () => {
            const dev = spec("dev", (raw) => {
                const shop = raw.pipelines.find((p: { name: string }) => p.name === "shop");
                const customers = shop.destinations.find((d: { name: string }) => d.name === "customers_cdc");
                customers.qualityChecks.find((q: { type: string }) => q.type === "lag_monitoring").thresholdSeconds = 30;
            });
            const lag = named(alerts(dev), "CdcLakehouseLagHigh")!;
            const destinations = dev.pipelines.flatMap((p) => p.destinations.map((d) => ({ p, d })));
            expect(destinations.map(({ d }) => d.name).sort()).to.deep.equal([
                "customers_analytics",
                "customers_cdc",
                "orders_cdc",
                "products_cdc",
            ]);
            for (const { p, d } of destinations) {
                const threshold = d.name === "customers_cdc" ? 30 : SEED_LAG_THRESHOLD_SECONDS;
                expect(lagThresholdSeconds(d), d.name).to.equal(threshold);
                expect(lag.expr, d.name).to.include(
                    `(max by (pipeline_id, destination_table) (cdc_lag_seconds{namespace="cdc-dev",pipeline_id="${p.name}",destination_table="${d.name}"}) > ${threshold})`,
                );
            }
            // a stale gauge (nothing written lately) does not page
            expect(lag.expr).to.match(
                /\) and on \(pipeline_id\) \(max by \(pipeline_id\) \(cdc_throughput_events_per_second\{namespace="cdc-dev"\}\) > 0\)$/,
            );
            expect(lag.annotations.description).to.include("5 / 30 s");
        });

        it("alerts on dead-lettered events and on a writer that is unhealthy or absent, per pipeline", () => {
            const all = alerts(spec("dev"));
            expect(named(all, "CdcLakehouseEventsFailed")!.expr).to.equal(
                'sum by (pipeline_id, error_type) (increase(cdc_events_failed_total{namespace="cdc-dev"}[15m])) > 0 or ' +
                    'sum by (pipeline_id, error_type) ((cdc_events_failed_total{namespace="cdc-dev"} unless cdc_events_failed_total{namespace="cdc-dev"} offset 15m) > 0)',
            );
            expect(named(all, "CdcLakehouseWriterDown")!.expr).to.equal(
                '(max by (pipeline_id) (cdc_pipeline_health{namespace="cdc-dev"}) == 0) or absent(cdc_pipeline_health{namespace="cdc-dev",pipeline_id="shop"}) or absent(cdc_pipeline_health{namespace="cdc-dev",pipeline_id="inventory"})',
            );
        });

        it("watches only writers that serve metrics, and none without destinations", () => {
            const quiet = spec("dev", (raw) => {
                const shop = raw.pipelines.find((p: { name: string }) => p.name === "shop");
                shop.lakehouse = { ...(shop.lakehouse ?? {}), observability: { metricsEnabled: false } };
            });
            const down = named(alerts(quiet), "CdcLakehouseWriterDown")!.expr;
            expect(down).to.include('pipeline_id="inventory"').and.not.include('pipeline_id="shop"');
            expect(named(alerts(quiet), "CdcLakehouseLagHigh")!.expr).not.to.include('pipeline_id="shop"');
            const none = spec("dev", (raw) => {
                for (const p of raw.pipelines) delete p.destinations;
                delete raw.lakehouse;
            });
            expect(alerts(none).filter((a) => a.alert.startsWith("CdcLakehouse"))).to.deep.equal([]);
        });
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
