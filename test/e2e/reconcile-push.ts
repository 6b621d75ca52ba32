/**
 * The reconciliation a deployed stack's CronJobs run, run here against the sandbox: one run per planned run config
 * (the rendered one), pushing its per-table results to the sandbox's Pushgateway as the CronJob pushes to a cluster's.
 */
import { expect } from "chai";
import * as path from "path";
import type { StackSpec } from "../../model/spec";
import { planReconcileRuns } from "../../plan/reconciler-job";
import { validateReconcilerConfig } from "../../reconciler/config";
import type { Logger } from "../../reconciler/progress";
import { runReconciliation } from "../../reconciler/run";
import type { E2E } from "./fixture";

/** Every planned run ends in sync with exit code 0 and no error logged. */
export async function reconcileAndPush(env: E2E, spec: StackSpec): Promise<void> {
    for (const run of planReconcileRuns(spec)) {
        const engine = spec.pipelines.find((p) => p.name === run.pipeline)!.source.kind;
        const errors: string[] = [];
        const quiet: Logger = { progress: () => undefined, info: () => undefined, error: (m) => errors.push(m), flush: () => undefined };
        const result = await runReconciliation(
            validateReconcilerConfig({
                source: engine === "postgres" ? env.sb.postgresSource.url : env.sb.mariaDbSource.url,
                target: env.sb.target.url,
                // The schema evolution spec's table has no target table until that spec runs (the fixture's pairs leave it out).
                tables: run.config.tables
                    .filter((t) => !t.source.endsWith(".cdc_schema_evolution_test"))
                    .map((t) => `${t.source}=${t.target}`),
                reportDir: path.join(env.sb.runDir, "reports"),
                pushgateway: run.config.pushgateway,
            }),
            quiet,
        );
        expect({ run: run.key, exitCode: result.exitCode, errors }).to.deep.equal({ run: run.key, exitCode: 0, errors: [] });
    }
}
