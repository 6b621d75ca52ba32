import { expect } from "chai";
import { waitUntil, WaitTimeoutError } from "../model/wait";

describe("waitUntil (model/wait.ts)", () => {
    it("returns the probe's first value that is not undefined or false", async () => {
        let calls = 0;
        const value = await waitUntil("the third call", 5000, async () => (++calls === 3 ? { calls } : calls === 1 ? false : undefined), {
            intervalMs: 1,
        });
        expect(value).to.deep.equal({ calls: 3 });
    });

    it("times out naming what it waited for, the last probe error and the caller's description", async () => {
        const err = await waitUntil(
            "a server",
            50,
            async () => {
                throw new Error("connection refused");
            },
            { intervalMs: 5, describe: () => "log /tmp/x.log" },
        ).catch((e: Error) => e);
        expect(err).to.be.instanceOf(WaitTimeoutError);
        expect((err as Error).message).to.equal(
            "timed out after 0.05s waiting for a server (last error: connection refused; log /tmp/x.log)",
        );
    });

    it("rethrows a fatal probe error at once instead of waiting out the timeout", async () => {
        const started = Date.now();
        const err = await waitUntil(
            "a connector",
            10_000,
            async () => {
                throw new RangeError("FAILED");
            },
            { intervalMs: 5, isFatal: (e) => e instanceof RangeError },
        ).catch((e: Error) => e);
        expect(err).to.be.instanceOf(RangeError);
        expect(Date.now() - started).to.be.below(1000);
    });

    it("ends at once with the abort message when the awaited process is gone", async () => {
        let probes = 0;
        const err = await waitUntil("ready", 10_000, async () => (probes++, false), {
            abortIf: () => "kafka exited (1) before ready",
        }).catch((e: Error) => e);
        expect((err as Error).message).to.equal("kafka exited (1) before ready");
        expect(probes).to.equal(0);
    });
});
