/**
 * How every `cdc` command prints: a fixed-width table (or a few lines) for people, one JSON document for
 * scripts with `--json`. A command builds its result as plain data once and hands both views to `emit`, so
 * the JSON and the table cannot say different things.
 */
import type { CommandContext } from "./command";

/** Spread into a command's flag spec: `parseFlags(argv, { ...OUTPUT_FLAGS, ...TARGET_FLAGS, mine }, usage)`. */
export const OUTPUT_FLAGS = { json: { type: "boolean" } } as const;

export interface Column<Row> {
    header: string;
    /** The cell's text; null and undefined print as "-". */
    value: (row: Row) => unknown;
    align?: "left" | "right";
}

/** Plain text of a cell: bigints and numbers as digits, dates as ISO, objects as compact JSON. */
export function cellText(value: unknown): string {
    if (value === null || value === undefined) return "-";
    if (value instanceof Date) return value.toISOString();
    if (typeof value === "object") return JSON.stringify(value, jsonReplacer);
    return String(value);
}

/** Rows under a header, columns padded to their widest cell, two spaces apart; no trailing blanks. */
export function table<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
    const cells = rows.map((r) => columns.map((c) => cellText(c.value(r))));
    const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
    const line = (texts: string[]) =>
        texts
            .map((t, i) => (columns[i].align === "right" ? t.padStart(widths[i]) : t.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n") + "\n";
}

/** JSON cannot hold a bigint; Kafka offsets are bigints, printed as decimal strings so no digit is lost. */
export function jsonReplacer(_key: string, value: unknown): unknown {
    return typeof value === "bigint" ? value.toString() : value;
}

export function toJson(data: unknown): string {
    return JSON.stringify(data, jsonReplacer, 2) + "\n";
}

/**
 * Prints a command's result: `data` as JSON with `--json`, otherwise what `human` renders from it. Human
 * output is the same on a terminal and in a pipe (no colours, no cursor tricks), so `| grep` works.
 */
export function emit<T>(ctx: CommandContext, opts: { json: boolean }, data: T, human: (data: T) => string): void {
    ctx.stdout.write(opts.json ? toJson(data) : human(data));
}

/** The JSON document a failed command prints with `--json`, so a script always reads one object from stdout. */
export function errorDocument(exitCode: number, err: Error): { error: { exitCode: number; kind: string; message: string } } {
    return { error: { exitCode, kind: err.name, message: err.message } };
}
