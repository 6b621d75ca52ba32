/** Runs one method in a fresh process and prints {ms, differences, peakRssMb} as JSON (peak = VmHWM). */
import { readFileSync } from "fs";
import { floor, naive, ours } from "./methods";

const METHODS = { ours, floor, naive };

async function main(): Promise<void> {
    const [method, sourceUrl, targetUrl] = process.argv.slice(2);
    const run = METHODS[method as keyof typeof METHODS];
    if (!run) throw new Error(`unknown method ${method}`);
    const r = await run(sourceUrl, targetUrl);
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    process.stdout.write(JSON.stringify({ ...r, peakRssMb: hwm ? Math.round(Number(hwm[1]) / 1024) : null }) + "\n");
}

main().catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exitCode = 1;
});
