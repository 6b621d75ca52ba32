/**
 * Lakehouse writer benchmark: starts the sandbox's KRaft Kafka (sandbox/kafka.ts, same jars and broker
 * settings) and Apicurio Registry (sandbox/schema-registry.ts) and runs bench/lakehouse/bench.py with the
 * writer's venv against them; every other argument is passed to bench.py (--changes, --repeat, --rate,
 * --lag-seconds, --formats, --serializations, --out).
 *
 *   flock /tmp/cdc-heavy.lock npx ts-node --transpile-only bench/lakehouse/run.ts --out /tmp/lakehouse.jsonl
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { startKafka } from "../../sandbox/kafka";
import { resolveKafkaClasspath } from "../../sandbox/kafka-jars";
import { VENV_PYTHON } from "../../sandbox/lakehouse";
import { REPO_ROOT, RUN_DIR } from "../../sandbox/paths";
import { confluentApiUrl, startRegistry } from "../../sandbox/schema-registry";

const log = (line: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function main(): Promise<number> {
    if (!fs.existsSync(VENV_PYTHON)) throw new Error("the lakehouse writer's venv is missing: run lakehouse/scripts/setup-venv.sh");
    const runDir = path.join(RUN_DIR, "bench-lakehouse");
    fs.rmSync(runDir, { recursive: true, force: true });
    const kafka = await startKafka({ runDir, classpath: await resolveKafkaClasspath(log) });
    log(`kafka: ${kafka.bootstrapServers} (log ${kafka.jvm.logFile})`);
    const registry = await startRegistry({ runDir, log }).catch(async (e: Error) => {
        await kafka.stop();
        throw e;
    });
    log(`schema registry: ${registry.url} (log ${registry.jvm.logFile})`);
    try {
        const script = path.join(REPO_ROOT, "bench", "lakehouse", "bench.py");
        const args = [script, "--bootstrap", kafka.bootstrapServers, "--registry", confluentApiUrl(registry.url), ...process.argv.slice(2)];
        const child = spawn(VENV_PYTHON, args, { stdio: "inherit" });
        return await new Promise<number>((resolve, reject) => {
            child.on("error", reject);
            child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
        });
    } finally {
        await registry.stop();
        await kafka.stop();
        fs.rmSync(path.join(runDir, "kafka-data"), { recursive: true, force: true });
    }
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (err: Error) => {
            process.stderr.write(`${err.stack ?? err.message}\n`);
            process.exit(1);
        },
    );
}
