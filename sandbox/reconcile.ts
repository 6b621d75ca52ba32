/** The reconciler (reconciler/run.ts) pointed at the sandbox: one run per pipeline, its source against the target. */
import * as path from "path";
import { ReconcilerConfig, validateReconcilerConfig } from "../reconciler/config";
import type { Sandbox } from "./sandbox";
import type { TablePair } from "./table-pairs";

export function pipelineReconcilerConfig(sb: Sandbox, pipeline: string, pairs: readonly TablePair[]): ReconcilerConfig {
    const spec = sb.spec.pipelines.find((p) => p.name === pipeline);
    if (!spec) throw new Error(`no pipeline ${pipeline} in the sandbox stack`);
    return validateReconcilerConfig({
        source: spec.source.kind === "postgres" ? sb.postgresSource.url : sb.mariaDbSource.url,
        target: sb.target.url,
        tables: pairs.filter((p) => p.pipeline === pipeline).map((p) => `${p.source}=${p.target}`),
        reportDir: path.join(sb.runDir, "reports"),
    });
}
