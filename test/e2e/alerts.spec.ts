/**
 * The stack's alerts in the sandbox's real Prometheus (sandbox/prometheus.ts), on the series the real exporters emit:
 * each induced fault fires the alert for it, with the labels that name what broke, and no other alert while the fault
 * lasts; the healthy sandbox fires none. The expressions are the shipped ones, rendered from the sandbox's stack with
 * a Pushgateway for the reconciler; only every alert's `for` is shortened (prometheusRuleBody's `for` override), so a
 * fault fires in seconds rather than after the production minutes. Each fault is undone before the next, and the
 * sandbox's own rule groups are loaded again at the end.
 */
import axios from "axios";
import { expect } from "chai";
import * as path from "path";
import { dataTopicName } from "../../model/naming";
import type { PipelineSpec, StackSpec } from "../../model/spec";
import { isAlert, prometheusRuleBody } from "../../plan/monitoring";
import { planReconcileRuns } from "../../plan/reconciler-job";
import { validateReconcilerConfig } from "../../reconciler/config";
import { groupPath, pushMetrics } from "../../reconciler/metrics";
import { runReconciliation } from "../../reconciler/run";
import { produce } from "../../sandbox/kafka-admin";
import { streamChanges } from "../../sandbox/stream";
import type { RunningPrometheus } from "../../sandbox/prometheus";
import { E2E, e2e, expectInSync, START_TIMEOUT_MS, targetQuery, waitFor } from "./fixture";
import { cdc } from "./ops-run";
import { pushgatewayStack, reconcileAndPush } from "./reconcile-push";

/**
 * Every alert's `for` in the sandbox. Long enough that what passes on its own in the sandbox does not fire (a lakehouse
 * batch slower than its 5 s lag threshold on a busy machine is over once the writer's 30 s throughput window is), short
 * enough that a fault fires within a minute or two.
 */
const SANDBOX_FOR = "60s";
/** Orders this spec writes (fixture.ts lists every spec's keys). */
const ORDER_IDS = [960_001, 960_002, 960_003];
/** One change per source before the healthy phase (an order in shop, an inventory transaction in inventory). */
const FIRST_CHANGE_ID = 960_100;
/** Records no converter can read, enough to stay above 0.1 % of what the sink read in 15 minutes. */
const POISON_RECORDS = 10;

interface ActiveAlert {
    alertname: string;
    state: string;
    /** The alert's own labels: what its expression kept (severity and the stack label left out). */
    labels: Record<string, string>;
}
interface Expected {
    alertname: string;
    labels: Record<string, string>;
}

const show = (a: { alertname: string; labels: Record<string, string> }) =>
    `${a.alertname}{${Object.entries(a.labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(",")}}`;
const matches = (a: ActiveAlert, e: Expected) =>
    a.alertname === e.alertname && Object.entries(e.labels).every(([k, v]) => a.labels[k] === v);

describe("sandbox e2e: induced faults fire the right alert and nothing else", function () {
    this.timeout(20 * 60_000);
    let env: E2E;
    let prom: RunningPrometheus;
    let pushgatewayUrl: string;
    /** The sandbox's stack with a reconciler pushing to the sandbox's Pushgateway. */
    let spec: StackSpec;
    let shop: PipelineSpec;
    let inventory: PipelineSpec;

    async function activeAlerts(): Promise<ActiveAlert[]> {
        return (await prom.query("ALERTS")).map(({ labels }) => {
            const { __name__: _name, alertname, alertstate, severity: _severity, cdc_pipeline_stack: _stack, ...own } = labels;
            return { alertname, state: alertstate, labels: own };
        });
    }

    /**
     * Waits until every expected alert fires, noting every alert that fired meanwhile, then watches two more
     * evaluations; fails if any alert other than the expected ones fired at any point.
     */
    async function expectOnly(fault: string, expected: Expected[], timeoutMs = 180_000): Promise<void> {
        const seen = new Map<string, ActiveAlert>();
        const look = async () => {
            const now = await activeAlerts();
            // Firing ones: a pending alert whose condition passes before its `for` pages nobody.
            for (const a of now) if (a.state === "firing") seen.set(show(a), a);
            return now;
        };
        await waitFor(`${fault}: ${expected.map(show).join(", ")} firing`, timeoutMs, async () => {
            const now = await look();
            return expected.every((e) => now.some((a) => a.state === "firing" && matches(a, e)));
        });
        for (let i = 0; i < 2; i++) {
            await new Promise((r) => setTimeout(r, 3_000));
            await look();
        }
        const others = [...seen.values()].filter((a) => !expected.some((e) => matches(a, e)));
        expect(others.map(show), `${fault}: alerts other than ${expected.map(show).join(", ")}`).to.deep.equal([]);
    }

    /** Waits until no alert is active; names the ones still active on timeout. */
    async function expectQuiet(when: string, timeoutMs = 180_000): Promise<void> {
        let last: ActiveAlert[] = [];
        try {
            await waitFor(`no alert active ${when}`, timeoutMs, async () => (last = await activeAlerts()).length === 0);
        } catch (e) {
            throw new Error(`${(e as Error).message}; still active: ${last.map((a) => `${show(a)} (${a.state})`).join(", ")}`);
        }
    }

    before(async function () {
        this.timeout(START_TIMEOUT_MS);
        env = await e2e();
        prom = env.sb.prometheus;
        spec = pushgatewayStack(env);
        pushgatewayUrl = prom.pushgatewayUrl!;
        shop = spec.pipelines.find((p) => p.source.kind === "postgres")!;
        inventory = spec.pipelines.find((p) => p.source.kind === "mariadb")!;
        // Changes flowing from both sources (CdcSourceNoEvents watches for their absence), then every planned table
        // confirmed in sync once, as after a first deploy's first reconciliation.
        await streamChanges(env.stream, env.writers, { count: 40, ratePerSecond: 0 });
        // The random stream may leave a source without a change after Prometheus first saw its streaming counter, and
        // increase() needs a rise between two scrapes: one change per source once the counters are scraped.
        await prom.waitForScrapes();
        await insertOrder(FIRST_CHANGE_ID, 10);
        await env.writers.maria.query(
            `INSERT INTO inventory_transactions (transaction_id, product_id, transaction_type, quantity_change, transaction_date, created_at)
             SELECT ?, min(product_id), 'adjustment', 0, now(), now() FROM products`,
            [FIRST_CHANGE_ID],
        );
        await expectInSync(env);
        await reconcileAndPush(env, spec);
        await prom.setRuleGroups(prometheusRuleBody(spec, { for: SANDBOX_FOR }).spec.groups);
        await prom.waitForScrapes();
    });

    after(async function () {
        this.timeout(60_000);
        if (prom) await prom.setRuleGroups(prometheusRuleBody(env.sb.spec).spec.groups);
    });

    it("loads every alert the stack renders, and fires none while the pipelines are healthy", async () => {
        const rendered = prometheusRuleBody(spec, { for: SANDBOX_FOR })
            .spec.groups.flatMap((g) => g.rules)
            .filter(isAlert);
        const loaded = (
            await axios.get<{ data: { groups: { rules: { type: string; name: string; query: string; duration: number }[] }[] } }>(
                `${prom.url}/api/v1/rules`,
            )
        ).data.data.groups.flatMap((g) => g.rules.filter((r) => r.type === "alerting"));
        expect(loaded.map((r) => [r.name, r.duration])).to.deep.equal(rendered.map((r) => [r.alert, 60]));
        expect(loaded.map((r) => r.name)).to.include.members([
            "CdcSourceDisconnected",
            "CdcConnectorTaskFailed",
            "CdcDeadLetterRateHigh",
            "CdcReconciliationStale",
        ]);
        // What the start left (the initial snapshot's lakehouse batches) passes within minutes.
        await expectQuiet("in the healthy sandbox", 300_000);
    });

    it("source database stopped: CdcSourceDisconnected for that source", async () => {
        await expectQuiet("before the fault");
        await env.sb.postgresSource.stopServer();
        try {
            await expectOnly("PostgreSQL source stopped", [
                { alertname: "CdcSourceDisconnected", labels: { name: shop.source.topicPrefix } },
            ]);
        } finally {
            await env.sb.postgresSource.startServer();
            await env.writers.reconnect("postgres");
        }
        await expectQuiet("after the source database is back");
        await expectInSync(env);
    });

    it("a row the target refuses fails the sink task: CdcConnectorTaskFailed for that task", async () => {
        await expectQuiet("before the fault");
        const orders = `${shop.sink.schema}.orders`;
        const sink = shop.sink.connectorName;
        await targetQuery(env, `ALTER TABLE ${orders} ADD CONSTRAINT alerts_spec_total_cap CHECK (total_amount <= 2000)`);
        try {
            const [bad, ...later] = ORDER_IDS;
            await insertOrder(bad, 2500);
            for (const id of later) await insertOrder(id, 10);
            await expectOnly("sink task failed", [{ alertname: "CdcConnectorTaskFailed", labels: { connector: sink, task: "0" } }]);
            await targetQuery(env, `ALTER TABLE ${orders} DROP CONSTRAINT alerts_spec_total_cap`);
            // The supervisor's back-off (Strimzi's) holds the next automatic restart for minutes: restart it as the runbook does.
            await waitFor("the held-up orders in the target", 120_000, async () => {
                if ((await env.sb.client.status(sink)).tasks[0]?.state === "FAILED") await env.sb.client.restart(sink);
                return (
                    (await targetQuery(env, `SELECT 1 FROM ${orders} WHERE order_id = ANY($1)`, [ORDER_IDS])).length === ORDER_IDS.length
                );
            });
        } finally {
            await targetQuery(env, `ALTER TABLE ${orders} DROP CONSTRAINT IF EXISTS alerts_spec_total_cap`);
            await env.writers.pg.query(`DELETE FROM orders WHERE order_id = ANY($1)`, [ORDER_IDS]);
        }
        await expectQuiet("after the task runs again");
        await expectInSync(env);
    });

    it("a stalled reconciliation: CdcReconciliationStale for the table, whether its last success is old or never pushed", async () => {
        await expectQuiet("before the fault");
        const [run] = planReconcileRuns(spec).filter((r) => r.pipeline === shop.name);
        const table = run.config.tables[0];
        const pushed = run.config.pushgateway!;
        const labels = { namespace: spec.namespace, pipeline: run.pipeline, source_table: table.source, target_table: table.target };
        // The table's last success an hour past monitoring.reconciliationMaxAgeHours: what the Pushgateway holds when
        // every run since then failed or found differences (a failed run pushes no success, so the old one stays).
        const report = await reportOf(run.pipeline, table);
        const hours = spec.monitoring.reconciliationMaxAgeHours + 1;
        await pushMetrics(pushgatewayUrl, pushed.job, pushed.labels, report, new Date(Date.now() - hours * 3600_000));
        try {
            await expectOnly(`last success ${hours} h ago`, [{ alertname: "CdcReconciliationStale", labels }]);
        } finally {
            await reconcileAndPush(env, spec);
        }
        await expectQuiet("after a reconciliation confirmed the table");

        // No success at all for a planned table (never reconciled, or the Pushgateway lost it): the absent() guard.
        const group = pushgatewayUrl + groupPath(pushed.job, report.tables[0], pushed.labels);
        const deleted = await axios.delete(group, { validateStatus: () => true });
        expect(deleted.status, `DELETE ${group}`).to.equal(202);
        try {
            await expectOnly("no success ever pushed", [{ alertname: "CdcReconciliationStale", labels: { ...labels, job: pushed.job } }]);
        } finally {
            await reconcileAndPush(env, spec);
        }
        await expectQuiet("after a reconciliation confirmed the table");
    });

    // Last: the rate is over 15 minutes, so this alert stays until those records leave the window.
    it("records no converter can read: CdcDeadLetterRateHigh for that sink", async () => {
        await expectQuiet("before the fault");
        const table = inventory.source.tables.find((t) => t.table === "inventory_transactions")!;
        const topic = dataTopicName(inventory.source, table);
        const sink = inventory.sink.connectorName;
        const records = Array.from({ length: POISON_RECORDS }, () => ({ key: null, value: "{not json" }));
        const offsets = await produce(env.sb.classpath, env.sb.kafka.bootstrapServers, topic, records);
        try {
            await expectOnly("poison records", [{ alertname: "CdcDeadLetterRateHigh", labels: { connector: sink } }]);
        } finally {
            // Settled as the runbook says for bytes that are no change event, so later specs see no pending dead letter of ours.
            for (const offset of offsets) {
                const ignored = await cdc([
                    "dlq",
                    "ignore",
                    `${topic}/0/${offset}`,
                    "--note",
                    "alerts spec poison record",
                    "--sandbox",
                    "e2e",
                    "--json",
                ]);
                expect(ignored.code, ignored.stderr).to.equal(0);
            }
        }
        await expectInSync(env);
    });

    const insertOrder = (id: number, total: number) =>
        env.writers.pg.query(
            `INSERT INTO orders (order_id, customer_id, order_date, order_status, total_amount, last_updated)
             SELECT $1, min(customer_id), now(), 'pending', $2, now() FROM customers`,
            [id, total],
        );

    /** A real reconciliation report of one table (in sync), to push with another timestamp. */
    async function reportOf(pipeline: string, table: { source: string; target: string }) {
        const engine = spec.pipelines.find((p) => p.name === pipeline)!.source.kind;
        const result = await runReconciliation(
            validateReconcilerConfig({
                source: engine === "postgres" ? env.sb.postgresSource.url : env.sb.mariaDbSource.url,
                target: env.sb.target.url,
                tables: [`${table.source}=${table.target}`],
                reportDir: path.join(env.sb.runDir, "reports"),
            }),
            { progress: () => undefined, info: () => undefined, error: () => undefined, flush: () => undefined },
        );
        expect(result.report.tables.map((t) => t.status)).to.deep.equal(["ok"]);
        return result.report;
    }
});
