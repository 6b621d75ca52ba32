/**
 * The one poll-until-true loop of the repository (servers starting, connectors running, tables catching up),
 * so every wait reports a timeout the same way: what was awaited, for how long, and the last thing seen.
 */

interface WaitOptions {
    /** Pause between probes. */
    intervalMs?: number;
    /** Checked before each probe: a message ends the wait at once with that message (the process being waited on died). */
    abortIf?: () => Promise<string | undefined> | string | undefined;
    /** A probe error for which waiting on is pointless (e.g. a FAILED connector): rethrown at once. */
    isFatal?: (err: unknown) => boolean;
    /** Appended to the timeout message, e.g. the last status or a log tail. */
    describe?: () => string;
}

export class WaitTimeoutError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "WaitTimeoutError";
    }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe` until it returns something other than `undefined` or `false`, and returns that. A probe that
 * throws counts as "not yet" (its message is kept for the timeout error) unless `isFatal` says otherwise.
 */
export async function waitUntil<T>(
    what: string,
    timeoutMs: number,
    probe: () => Promise<T | undefined | false>,
    opts: WaitOptions = {},
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError = "";
    for (;;) {
        const aborted = await opts.abortIf?.();
        if (aborted !== undefined) throw new Error(aborted);
        try {
            const result = await probe();
            if (result !== undefined && result !== false) return result;
        } catch (err) {
            if (opts.isFatal?.(err)) throw err;
            lastError = (err as Error).message;
        }
        if (Date.now() >= deadline) break;
        await sleep(Math.min(opts.intervalMs ?? 1000, Math.max(0, deadline - Date.now())));
    }
    const detail = [lastError ? `last error: ${lastError}` : "", opts.describe?.() ?? ""].filter(Boolean).join("; ");
    throw new WaitTimeoutError(`timed out after ${timeoutMs / 1000}s waiting for ${what}${detail ? ` (${detail})` : ""}`);
}
