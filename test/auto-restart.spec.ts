import { expect } from "chai";
import { AUTO_RESTART, autoRestartBackoffMinutes, autoRestartDecision, AutoRestartStatus } from "../plan/auto-restart";
import { kafkaConnectorBody } from "../plan/kafka-connector";
import { parseStackSpec } from "../plan/stack-spec";
import { renderConnectors } from "../connectors/render";
import { clusterConnectorContext } from "../plan/connect-cluster";
import { rawProjectConfig } from "./helpers/stack-files";

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);

/** Drives the decision for a connector that never recovers, one reconciliation every `stepMs`; returns restart times in minutes. */
function restartsOfAConnectorThatStaysFailed(minutes: number, stepMs: number): number[] {
    let status: AutoRestartStatus | undefined;
    const at: number[] = [];
    for (let now = T0; now <= T0 + minutes * MIN; now += stepMs) {
        const d = autoRestartDecision(status, true, now);
        if (d.restart) at.push((now - T0) / MIN);
        status = d.status;
    }
    return at;
}

describe("auto-restart schedule (Strimzi 1.2.0 KafkaConnector spec.autoRestart)", () => {
    it("backs off n² + n minutes after the n-th restart, capped at 60", () => {
        expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 20].map(autoRestartBackoffMinutes)).to.deep.equal([0, 2, 6, 12, 20, 30, 42, 56, 60, 60, 60]);
    });

    it("restarts a connector that stays failed at once, then 2, 6, 12, 20, 30, 42, 56 and every 60 minutes later", () => {
        const at = restartsOfAConnectorThatStaysFailed(400, 10_000);
        const gaps = at.slice(1).map((t, i) => t - at[i]);
        expect(at[0]).to.equal(0);
        expect(gaps).to.deep.equal([2, 6, 12, 20, 30, 42, 56, 60, 60, 60]);
    });

    it("counts whole minutes as Strimzi does: the second restart waits until 2 full minutes have passed", () => {
        const first = autoRestartDecision(undefined, true, T0);
        expect(first).to.deep.equal({ restart: true, status: { count: 1, lastRestartAt: T0 } });
        expect(autoRestartDecision(first.status, true, T0 + 2 * MIN - 1).restart).to.equal(false);
        expect(autoRestartDecision(first.status, true, T0 + 2 * MIN)).to.deep.equal({
            restart: true,
            status: { count: 2, lastRestartAt: T0 + 2 * MIN },
        });
    });

    it("forgets the restarts once the connector has run longer than the last back-off, not sooner", () => {
        const status = { count: 4, lastRestartAt: T0 };
        expect(autoRestartDecision(status, false, T0 + 20 * MIN + 59_999)).to.deep.equal({ restart: false, status });
        expect(autoRestartDecision(status, false, T0 + 21 * MIN)).to.deep.equal({ restart: false, status: undefined });
        expect(autoRestartDecision(undefined, false, T0)).to.deep.equal({ restart: false, status: undefined });
    });

    it("keeps counting when a connector fails again before it was considered stable", () => {
        const afterTwo = { count: 2, lastRestartAt: T0 };
        expect(autoRestartDecision(afterTwo, false, T0 + 3 * MIN).status).to.equal(afterTwo);
        expect(autoRestartDecision(afterTwo, true, T0 + 5 * MIN).restart).to.equal(false);
        expect(autoRestartDecision(afterTwo, true, T0 + 6 * MIN)).to.deep.equal({
            restart: true,
            status: { count: 3, lastRestartAt: T0 + 6 * MIN },
        });
    });

    it("is what every rendered KafkaConnector asks Strimzi for: enabled, no restart limit", () => {
        const spec = parseStackSpec(rawProjectConfig("prod")).spec;
        for (const c of renderConnectors(spec, clusterConnectorContext(spec))) {
            expect(kafkaConnectorBody(c, spec.namespace, "cdc-connect").spec.autoRestart, c.name).to.deep.equal({ enabled: true });
        }
        expect(AUTO_RESTART).to.not.have.property("maxRestarts");
    });
});
