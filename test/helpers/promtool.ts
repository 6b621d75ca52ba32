/**
 * Runs the real `promtool` (Debian's `prometheus` package, installed by scripts/setup.sh) on rule and rule-test
 * files, so the alert rules are checked by the Prometheus code that loads them, not by our reading of its docs.
 */
import { spawnSync } from "child_process";

export interface PromtoolResult {
    status: number | null;
    output: string;
}

export function promtool(args: string[], cwd: string): PromtoolResult {
    const run = spawnSync("promtool", args, { cwd, encoding: "utf8", timeout: 60_000 });
    if (run.error) {
        const missing = (run.error as NodeJS.ErrnoException).code === "ENOENT";
        throw new Error(
            missing
                ? "promtool is not on PATH: run scripts/setup.sh --unit (it installs Debian's prometheus package, which provides /usr/bin/promtool)"
                : `promtool ${args.join(" ")} did not run: ${run.error.message}`,
        );
    }
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
}
