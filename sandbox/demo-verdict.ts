/**
 * The demo's last line and exit code. A demo that prints "done" after the target fell behind or the
 * reconciler found differences would teach a newcomer that a broken pipeline looks healthy.
 */

export interface PipelineReconciliation {
    pipeline: string;
    /** The reconciler's own exit code: 0 in sync, 1 discrepancies confirmed, 2 error. */
    exitCode: number;
    differingRows: number;
    failedTables: number;
    reportFile?: string;
}

interface DemoOutcome {
    caughtUp: boolean;
    catchUpSeconds: number;
    /** Every lakehouse table holds the sources' current keys (sandbox/lakehouse-compare.ts). */
    lakehouseCaughtUp: boolean;
    /** Rows and keys per lakehouse table, named in the failure. */
    lakehouseSummary?: string;
    reconciliations: readonly PipelineReconciliation[];
}

export function demoVerdict(outcome: DemoOutcome): { exitCode: number; line: string } {
    const problems: string[] = [];
    if (!outcome.caughtUp) problems.push(`the target did not catch up with the sources within ${outcome.catchUpSeconds} s`);
    if (!outcome.lakehouseCaughtUp) {
        problems.push(
            `the lakehouse tables did not catch up with the sources within ${outcome.catchUpSeconds} s${outcome.lakehouseSummary ? ` (${outcome.lakehouseSummary})` : ""}`,
        );
    }
    for (const r of outcome.reconciliations) {
        if (r.exitCode === 0) continue;
        const where = r.reportFile ? ` (report ${r.reportFile})` : "";
        problems.push(
            r.exitCode === 1
                ? `reconciliation of ${r.pipeline} found ${r.differingRows} differing rows${where}`
                : `reconciliation of ${r.pipeline} failed on ${r.failedTables} table(s)${where}`,
        );
    }
    if (outcome.reconciliations.length === 0) problems.push("no pipeline was reconciled");
    if (problems.length > 0) return { exitCode: 1, line: `FAILED: ${problems.join("; ")}; logs are listed above` };
    return {
        exitCode: 0,
        line: `done: the target and the lakehouse tables caught up and every table of ${outcome.reconciliations.length} pipeline(s) reconciled in sync`,
    };
}
