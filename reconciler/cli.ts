#!/usr/bin/env node
/**
 * Entry point for people and for the CronJob:
 *   npm run reconcile -- --source <url> --target <url> --table <schema.table>[=<schema.table>] ... --report-dir <dir>
 *   npm run reconcile -- --config /etc/reconciler/config.yaml
 * Exit codes: 0 every table in sync, 1 discrepancies confirmed, 2 error.
 */
import { readFileSync } from "fs";
import { HELP, mergeConfig, parseArgs, parseConfigText, ReconcilerConfigInput } from "./config";
import { jsonLogger, Logger, ttyLogger } from "./progress";
import { EXIT_ERROR, runReconciliation } from "./run";

export async function main(
    argv: string[],
    stdout: NodeJS.WriteStream = process.stdout,
    stderr: NodeJS.WriteStream = process.stderr,
): Promise<number> {
    const log: Logger = stderr.isTTY ? ttyLogger(stderr) : jsonLogger(stdout);
    let verbose = argv.includes("--verbose") || argv.includes("-v");
    try {
        const cli = parseArgs(argv);
        verbose = cli.verbose;
        if (cli.help) {
            stdout.write(HELP + "\n");
            return 0;
        }
        let file: ReconcilerConfigInput | null = null;
        if (cli.config) {
            try {
                file = parseConfigText(readFileSync(cli.config, "utf8")) as ReconcilerConfigInput;
            } catch (e) {
                throw new Error(`reading config file ${cli.config}: ${(e as Error).message}`);
            }
        }
        const config = mergeConfig(cli, file);
        const result = await runReconciliation(config, log, verbose);
        const s = result.report.summary;
        log.info(
            `${s.total_tables} tables: ${s.tables_ok} ok, ${s.tables_with_discrepancies} with discrepancies, ${s.tables_failed} failed; ` +
                `${s.total_discrepancies} differing rows${result.reportFile ? `; report ${result.reportFile}` : ""}`,
            { summary: s, reportFile: result.reportFile, exitCode: result.exitCode },
        );
        return result.exitCode;
    } catch (e) {
        log.error((e as Error).message, verbose ? { stack: (e as Error).stack } : {});
        return EXIT_ERROR;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    });
}
