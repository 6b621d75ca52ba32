import { expect } from "chai";
import { demoVerdict, PipelineReconciliation } from "../../sandbox/demo-verdict";

const inSync = (pipeline: string): PipelineReconciliation => ({
    pipeline,
    exitCode: 0,
    differingRows: 0,
    failedTables: 0,
    reportFile: `/r/${pipeline}.json`,
});

describe("demo verdict (last line and exit code of npm run demo)", () => {
    it("succeeds only when the target caught up and every pipeline reconciled in sync", () => {
        const v = demoVerdict({
            caughtUp: true,
            lakehouseCaughtUp: true,
            catchUpSeconds: 180,
            reconciliations: [inSync("orders"), inSync("inventory")],
        });
        expect(v.exitCode).to.equal(0);
        expect(v.line).to.match(/^done: .*2 pipeline/);
    });

    it("fails when the target did not catch up, saying so", () => {
        const v = demoVerdict({ caughtUp: false, lakehouseCaughtUp: true, catchUpSeconds: 180, reconciliations: [inSync("orders")] });
        expect(v.exitCode).to.equal(1);
        expect(v.line).to.equal("FAILED: the target did not catch up with the sources within 180 s; logs are listed above");
    });

    it("fails when the lakehouse tables did not catch up, naming their counts", () => {
        const v = demoVerdict({
            caughtUp: true,
            lakehouseCaughtUp: false,
            lakehouseSummary: "orders_cdc 10 rows (4/5 keys)",
            catchUpSeconds: 180,
            reconciliations: [inSync("orders")],
        });
        expect(v.exitCode).to.equal(1);
        expect(v.line).to.equal(
            "FAILED: the lakehouse tables did not catch up with the sources within 180 s (orders_cdc 10 rows (4/5 keys)); logs are listed above",
        );
    });

    it("fails on confirmed discrepancies and on reconciler errors, naming the pipeline and the report", () => {
        const v = demoVerdict({
            caughtUp: true,
            lakehouseCaughtUp: true,
            catchUpSeconds: 180,
            reconciliations: [
                inSync("orders"),
                { pipeline: "inventory", exitCode: 1, differingRows: 3, failedTables: 0, reportFile: "/r/i.json" },
                { pipeline: "billing", exitCode: 2, differingRows: 0, failedTables: 1 },
            ],
        });
        expect(v.exitCode).to.equal(1);
        expect(v.line).to.include("reconciliation of inventory found 3 differing rows (report /r/i.json)");
        expect(v.line).to.include("reconciliation of billing failed on 1 table(s)");
        expect(v.line).to.not.include("orders");
    });

    it("fails when nothing was reconciled", () => {
        expect(demoVerdict({ caughtUp: true, lakehouseCaughtUp: true, catchUpSeconds: 180, reconciliations: [] }).exitCode).to.equal(1);
    });
});
