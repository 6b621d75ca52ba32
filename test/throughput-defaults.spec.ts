/**
 * The throughput defaults the stack ships, as they reach the rendered connector configs (measured against the
 * connectors' own defaults in bench/e2e, results in bench/RESULTS.md).
 */
import { expect } from "chai";
import { parseStackSpec } from "../plan/stack-spec";
import type { StackSpec } from "../model/spec";
import { renderConnectors } from "../connectors/render";
import { clusterConnectorContext } from "../plan/connect-cluster";
import { rawProjectConfig } from "./helpers/stack-files";

const spec = (edit?: (raw: Record<string, any>) => void): StackSpec => {
    const raw = structuredClone(rawProjectConfig("dev")) as Record<string, any>;
    edit?.(raw);
    return parseStackSpec(raw).spec;
};

const rendered = (s: StackSpec) => renderConnectors(s, clusterConnectorContext(s));
const byPipeline = (s: StackSpec, role: "source" | "sink") =>
    Object.fromEntries(
        rendered(s)
            .filter((c) => c.role === role)
            .map((c) => [c.pipeline, c.config]),
    );

describe("shipped throughput defaults", () => {
    it("has the Debezium JDBC sink reduce each poll to one change per key when it upserts", () => {
        for (const config of Object.values(byPipeline(spec(), "sink"))) expect(config).to.include({ "use.reduction.buffer": "true" });
    });

    it("leaves every event its own statement when the sink inserts or updates", () => {
        for (const mode of ["insert", "update"]) {
            const s = spec((raw) => {
                for (const p of raw.pipelines) p.sink.insertMode = mode;
            });
            for (const config of Object.values(byPipeline(s, "sink"))) expect(config).to.not.have.property("use.reduction.buffer");
        }
    });

    it("polls PostgreSQL's replication stream every 100 ms and keeps Debezium's 500 ms for the other kinds", () => {
        const sources = byPipeline(spec(), "source");
        expect(sources.shop["poll.interval.ms"]).to.equal("100");
        expect(sources.sales["poll.interval.ms"]).to.equal("500");
        expect(sources.inventory["poll.interval.ms"]).to.equal("500");
    });

    it("takes a configured pollIntervalMs over the per-kind default", () => {
        const s = spec((raw) => {
            for (const p of raw.pipelines) p.source.pollIntervalMs = 250;
        });
        for (const config of Object.values(byPipeline(s, "source"))) expect(config["poll.interval.ms"]).to.equal("250");
    });
});
