/** Drives the change stream into the source databases at a chosen rate. */
import type { Change, ChangeStream } from "./mock-data/change-stream";
import type { SourceWriters } from "./source-writers";

interface StreamOptions {
    count: number;
    /** Changes per second; 0 writes as fast as the databases take them. */
    ratePerSecond: number;
    /** Called after each change is committed, with how many were; return false to stop early. */
    onProgress?: (written: number, change: Change) => boolean | void;
}

export async function streamChanges(stream: ChangeStream, writers: SourceWriters, opts: StreamOptions): Promise<number> {
    const started = Date.now();
    let written = 0;
    while (written < opts.count) {
        const change = stream.next(new Date());
        await writers.apply(change);
        written++;
        if (opts.onProgress?.(written, change) === false) break;
        if (opts.ratePerSecond > 0) {
            const due = started + (written * 1000) / opts.ratePerSecond;
            const wait = due - Date.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
    }
    return written;
}
