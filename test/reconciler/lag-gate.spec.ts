/**
 * The confirm step's wait for replication lag (reconciler/confirm.ts waitForLag) and the gate the ops code gives it
 * (ops/checkpoint-gate.ts): re-check as soon as the sink has caught up, never later than the window, and the whole
 * window whenever the gate cannot tell, with the reason kept for the report.
 */
import { expect } from "chai";
import { LagGate, waitForLag } from "../../reconciler/confirm";
import { caughtUp } from "../../ops/checkpoint-gate";

/** A virtual clock: `sleep` advances it, so waits are measured without waiting. */
function clock() {
    let t = 0;
    return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

function gateAfter(ms: number, c: { now: () => number }, fail?: Error): LagGate {
    return {
        describe: "test gate",
        mark: async () => c.now(),
        passed: async (mark) => {
            if (fail) throw fail;
            return c.now() - (mark as number) >= ms;
        },
    };
}

describe("waiting for replication lag before re-reading suspects", () => {
    it("stops as soon as the gate passes", async () => {
        const c = clock();
        const gate = gateAfter(1_200, c);
        const wait = await waitForLag(30_000, gate, await gate.mark(), c.sleep, c.now);
        expect(wait).to.deep.equal({ by: "gate", waitedMs: 1_250, windowMs: 30_000 });
    });

    it("never waits past the window when the sink does not catch up", async () => {
        const c = clock();
        const gate = gateAfter(60_000, c);
        const wait = await waitForLag(30_000, gate, await gate.mark(), c.sleep, c.now);
        expect(wait.by).to.equal("window");
        expect(wait.waitedMs).to.equal(30_000);
        expect(wait.reason).to.include("did not pass the mark within the window (test gate)");
    });

    it("sleeps the rest of the window when the gate fails, and says why", async () => {
        const c = clock();
        const gate = gateAfter(0, c, new Error("Kafka at k:9092 is unreachable"));
        const wait = await waitForLag(30_000, gate, 0, c.sleep, c.now);
        expect(wait).to.deep.equal({
            by: "window",
            waitedMs: 30_000,
            windowMs: 30_000,
            reason: "checkpoint check failed: Kafka at k:9092 is unreachable",
        });
    });

    it("sleeps the whole window without a gate (the CronJob has no Kafka access)", async () => {
        const c = clock();
        const wait = await waitForLag(30_000, undefined, undefined, c.sleep, c.now);
        expect(wait).to.deep.equal({ by: "window", waitedMs: 30_000, windowMs: 30_000, reason: "no checkpoint source (Kafka) configured" });
        expect(c.now()).to.equal(30_000);
    });

    it("counts the sink caught up only when its committed offsets reach the marked end on every partition", () => {
        const ends = [
            { topic: "shop.public.orders", partition: 0, offset: 120n },
            { topic: "shop.public.orders", partition: 1, offset: 0n },
        ];
        expect(caughtUp([{ topic: "shop.public.orders", partition: 0, offset: 120n }], ends)).to.equal(true);
        expect(caughtUp([{ topic: "shop.public.orders", partition: 0, offset: 119n }], ends)).to.equal(false);
        expect(caughtUp([], ends)).to.equal(false);
        expect(caughtUp([{ topic: "shop.public.customers", partition: 0, offset: 500n }], ends)).to.equal(false);
    });
});
