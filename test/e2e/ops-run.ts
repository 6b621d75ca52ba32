/** Runs the `cdc` CLI in-process for the ops e2e specs, as `npm run cdc --` would, capturing what it prints. */
import { main } from "../../ops/cli";

export async function cdc(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const sink = (write: (s: string) => void) =>
        ({ write: (chunk: string) => (write(String(chunk)), true) }) as unknown as NodeJS.WritableStream;
    const code = await main(argv, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), env });
    return { code, stdout, stderr };
}
