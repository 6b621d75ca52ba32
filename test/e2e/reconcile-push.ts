/**
 * The reconciliation a deployed stack's CronJobs run, run here against the sandbox: one run per planned run config
 * (the rendered one), pushing its per-table results to the sandbox's Pushgateway as the CronJob pushes to a cluster's.
 */
import { expect } from "chai";
import * as path from "path";
import type { StackSpec } from "../../model/spec";
import { planReconcileRuns } from "../../plan/reconciler-job";
import { parseStackSpec } from "../../plan/stack-spec";
import { sandboxStackConfig } from "../../sandbox/stack";
import { validateReconcilerConfig } from "../../reconciler/config";
import type { Logger } from "../../reconciler/progress";
import { runReconciliation } from "../../reconciler/run";
import type { E2E } from "./fixture";

/**
 * The sandbox's stack with its reconciler pushing to the sandbox's Pushgateway. The schema evolution spec's table is
 * left out: it has no target table until that spec runs (the fixture's pairs leave it out too), so a reconciliation
 * of it, or an alert watching for its results, would fail for a reason no other spec is about.
 */
export function pushgatewayStack(env: E2E): StackSpec {
    const pushgatewayUrl = env.sb.prometheus.pushgatewayUrl;
    if (!pushgatewayUrl)
        throw new Error("the sandbox runs no Pushgateway: apt-get install prometheus-pushgateway (scripts/setup.sh installs it)");
    const raw = sandboxStackConfig({
        bootstrapServers: env.sb.kafka.bootstrapServers,
        postgresSource: env.sb.postgresSource,
        mariaDbSource: env.sb.mariaDbSource,
        target: env.sb.target,
        schemaRegistryUrl: env.sb.registry?.url,
    });
    const pipelines = (raw.pipelines as { source: { tables: { name: string }[] } }[]).map((p) => ({
        ...p,
        source: { ...p.source, tables: p.source.tables.filter((t) => t.name !== "public.cdc_schema_evolution_test") },
    }));
    return parseStackSpec({ ...raw, pipelines, reconciler: { image: "localhost/cdc-sandbox-reconciler:unused", pushgatewayUrl } }).spec;
}

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
                tables: run.config.tables.map((t) => `${t.source}=${t.target}`),
                reportDir: path.join(env.sb.runDir, "reports"),
                pushgateway: run.config.pushgateway,
            }),
            quiet,
        );
        expect({ run: run.key, exitCode: result.exitCode, errors }).to.deep.equal({ run: run.key, exitCode: 0, errors: [] });
    }
}
