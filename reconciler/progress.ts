/** Progress for people (one redrawn line on a TTY) and for log collectors (one JSON object per line). */
import { ProgressEvent } from "./reconcile";

export interface Logger {
    progress(e: ProgressEvent): void;
    info(message: string, fields?: Record<string, unknown>): void;
    error(message: string, fields?: Record<string, unknown>): void;
    /** Ends a redrawn progress line before ordinary output. */
    flush(): void;
}

const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(Math.round(n)));

/** The TTY progress line for an event. Pure. */
export function progressLine(e: ProgressEvent): string {
    const secs = e.elapsedMs / 1000;
    const parts = [`${e.table}`, e.phase.padEnd(7)];
    if (e.sourceRows !== undefined && e.targetRows !== undefined) {
        const of = e.estimatedRows ? ` of ~${fmt(e.estimatedRows)}` : "";
        parts.push(`source ${fmt(e.sourceRows)} / target ${fmt(e.targetRows)} rows${of}`);
        if (secs > 0) parts.push(`${fmt(Math.max(e.sourceRows, e.targetRows) / secs)} rows/s`);
    }
    if (e.suspects !== undefined) parts.push(`${e.suspects} suspect rows`);
    parts.push(`${secs.toFixed(1)}s`);
    return parts.join("  ");
}

export function ttyLogger(out: NodeJS.WriteStream): Logger {
    let open = false;
    const flush = () => {
        if (open) out.write("\n");
        open = false;
    };
    return {
        progress(e) {
            out.write(`\r\x1b[K${progressLine(e)}`);
            open = e.phase !== "done";
            if (!open) out.write("\n");
        },
        info(m) {
            flush();
            out.write(`${m}\n`);
        },
        error(m, f) {
            flush();
            out.write(`error: ${m}\n`);
            if (f?.stack) out.write(`${String(f.stack)}\n`);
        },
        flush,
    };
}

export function jsonLogger(out: NodeJS.WritableStream, now: () => Date = () => new Date()): Logger {
    const line = (level: string, msg: string, fields: Record<string, unknown> = {}) =>
        out.write(JSON.stringify({ time: now().toISOString(), level, msg, ...fields }) + "\n");
    return {
        progress(e) {
            const rowsPerSecond =
                e.sourceRows !== undefined && e.elapsedMs > 0
                    ? Math.round((Math.max(e.sourceRows, e.targetRows ?? 0) / e.elapsedMs) * 1000)
                    : undefined;
            line("info", "progress", { ...e, rowsPerSecond });
        },
        info: (m, f) => line("info", m, f),
        error: (m, f) => line("error", m, f),
        flush: () => undefined,
    };
}
