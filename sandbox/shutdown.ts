/**
 * One place that knows what the sandbox started, so Ctrl-C, SIGTERM, an uncaught error or a plain
 * `process.exit` never leaves a JVM or database behind.
 */

interface Resource {
    name: string;
    /** Identifies a process across restarts: started again, it keeps the place it had in the stop order. */
    key?: string;
    /** Orderly stop (async, may take seconds). */
    stop: () => Promise<void>;
    /** Last resort when the process is exiting and cannot wait: must be synchronous. */
    killNow: () => void;
}

/** In start order, by rank; a Kafka broker restarted under a running Connect worker must still stop after it. */
const resources: { rank: number; resource: Resource }[] = [];
const ranks = new Map<string, number>();
let nextRank = 0;
let handlersInstalled = false;
let shuttingDown: Promise<void> | undefined;

/** Registers a started resource; the returned function forgets it once it was stopped another way. */
export function track(resource: Resource): () => void {
    installHandlers();
    let rank = resource.key === undefined ? undefined : ranks.get(resource.key);
    if (rank === undefined) {
        rank = nextRank++;
        if (resource.key !== undefined) ranks.set(resource.key, rank);
    }
    const entry = { rank, resource };
    const at = resources.findIndex((r) => r.rank > entry.rank);
    resources.splice(at < 0 ? resources.length : at, 0, entry);
    return () => {
        const i = resources.indexOf(entry);
        if (i >= 0) resources.splice(i, 1);
    };
}

/** The rank the next tracked resource gets: a sandbox notes it at its start, so it can stop only what it started. */
export const nextResourceRank = (): number => nextRank;

/**
 * Stops what was tracked from `rank` on, newest first: one sandbox's processes, while another sandbox of the same
 * Node process (the e2e fixture's shared one) keeps running.
 */
export async function stopFrom(rank: number, log: (line: string) => void = () => undefined): Promise<void> {
    for (;;) {
        let at = resources.length - 1;
        while (at >= 0 && resources[at].rank < rank) at--;
        if (at < 0) return;
        const [{ resource: r }] = resources.splice(at, 1);
        if (r.key !== undefined) ranks.delete(r.key);
        log(`stopping ${r.name}`);
        await r.stop().catch((err: Error) => log(`stopping ${r.name} failed: ${err.message}`));
    }
}

/** Stops everything still tracked, newest first (Connect before Kafka before the databases). */
export function stopAll(log: (line: string) => void = () => undefined): Promise<void> {
    shuttingDown ??= (async () => {
        while (resources.length > 0) {
            const r = resources.pop()!.resource;
            // Stopped for good: a later sandbox of the same name starts in a new order.
            if (r.key !== undefined) ranks.delete(r.key);
            log(`stopping ${r.name}`);
            await r.stop().catch((err: Error) => log(`stopping ${r.name} failed: ${err.message}`));
        }
    })().finally(() => {
        shuttingDown = undefined;
    });
    return shuttingDown;
}

function installHandlers(): void {
    if (handlersInstalled) return;
    handlersInstalled = true;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.once(signal, () => {
            process.stderr.write(`\n[sandbox] ${signal}: shutting down (again to force)\n`);
            process.once(signal, () => process.exit(130));
            void stopAll((line) => process.stderr.write(`[sandbox] ${line}\n`)).finally(() =>
                process.exit(signal === "SIGINT" ? 130 : 143),
            );
        });
    }
    process.on("exit", () => {
        for (const r of resources.splice(0)) r.resource.killNow();
    });
}
