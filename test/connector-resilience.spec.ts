/**
 * The connector settings that ride through outages (issue 13), as rendered. test/e2e/faults.spec.ts
 * shows them working against real servers; this pins the numbers and the reasons they fit together.
 */
import { expect } from "chai";
import { parseStackSpec } from "../plan/stack-spec";
import { renderConnectors } from "../connectors/render";
import { clusterConnectorContext, workerConfig } from "../plan/connect-cluster";
import { rawProjectConfig } from "./helpers/stack-files";

/** Kafka's default for every consumer the worker creates; the stack does not change it. */
const MAX_POLL_INTERVAL_MS = 300_000;

function everySourceKind() {
    const raw = structuredClone(rawProjectConfig("prod")) as Record<string, any>;
    const sink = (schema: string) => ({ host: "warehouse", database: "warehouse", schema });
    raw.pipelines.push(
        {
            name: "crm",
            source: { kind: "postgres", host: "crm-db", database: "crm", tables: [{ name: "public.customers", primaryKey: ["id"] }] },
            sink: sink("crm"),
        },
        {
            name: "shop",
            source: { kind: "mysql", host: "shop-db", database: "shop", tables: [{ name: "shop.products", primaryKey: ["id"] }] },
            sink: sink("shop"),
        },
        {
            name: "billing",
            source: {
                kind: "mariadb",
                host: "billing-db",
                database: "billing",
                tables: [{ name: "billing.invoices", primaryKey: ["id"] }],
            },
            sink: sink("billing"),
        },
    );
    const spec = parseStackSpec(raw).spec;
    return { spec, connectors: renderConnectors(spec, clusterConnectorContext(spec)) };
}

describe("connector settings for outages", () => {
    const { spec, connectors } = everySourceKind();
    const sinks = connectors.filter((c) => c.role === "sink");
    const sources = connectors.filter((c) => c.role === "source");

    it("Debezium sinks wait up to 4 minutes for the target database in their pool, testing each connection handed out", () => {
        expect(sinks).to.have.length(4);
        for (const sink of sinks) {
            expect(sink.config, sink.name).to.include({
                "hibernate.c3p0.testConnectionOnCheckout": "true",
                "hibernate.c3p0.acquireRetryAttempts": "-1",
                "hibernate.c3p0.acquireRetryDelay": "5000",
                "hibernate.c3p0.checkoutTimeout": "240000",
                "connection.restart.on.errors": "true",
                "flush.max.retries": "1",
                "flush.retry.delay.ms": "5000",
            });
        }
    });

    it("keeps a sink's wait inside put() below its consumer's max.poll.interval.ms", () => {
        expect(workerConfig(spec)).to.not.have.property("consumer.max.poll.interval.ms");
        for (const sink of sinks)
            expect(Number(sink.config["hibernate.c3p0.checkoutTimeout"]), sink.name).to.be.below(MAX_POLL_INTERVAL_MS);
    });

    it("restarts a source that lost its database every 10 s, and fails it after 10 failures with no change in between", () => {
        expect(sources.map((s) => s.plugin).sort()).to.deep.equal([
            "debezium-mariadb",
            "debezium-mysql",
            "debezium-postgres",
            "debezium-sqlserver",
        ]);
        for (const source of sources)
            expect(source.config, source.name).to.include({ "errors.max.retries": "10", "retriable.restart.connector.wait.ms": "10000" });
    });

    it("has MySQL and MariaDB binlog clients check their connection every 10 s instead of every minute", () => {
        for (const source of sources) {
            const binlog = source.plugin === "debezium-mysql" || source.plugin === "debezium-mariadb";
            expect(source.config["connect.keep.alive.interval.ms"], source.name).to.equal(binlog ? "10000" : undefined);
        }
    });

    it("leaves broker restarts to the worker's own producer: no client overrides, which the worker refuses anyway", () => {
        expect(workerConfig(spec)["connector.client.config.override.policy"]).to.equal("None");
        for (const c of connectors)
            expect(
                Object.keys(c.config).filter((k) => /^(producer|consumer)\.override\./.test(k)),
                c.name,
            ).to.deep.equal([]);
    });
});
