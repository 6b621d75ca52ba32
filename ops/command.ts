/**
 * The contract every `cdc` command implements. A command is a plain object in ops/commands.ts; the CLI
 * (ops/cli.ts) finds it by name, hands it the arguments after its name, and turns what it returns or throws
 * into the process exit code below. Commands never call `process.exit` and never write to `process.stdout`
 * directly: they write through `ctx`, so tests run them in-process and read what they printed.
 */
import { UsageError } from "../model/args";

/**
 * Exit codes, the same for every command (docs/ops.md lists them for operators and scripts):
 * - OK: the command did what was asked and found nothing wrong.
 * - PROBLEMS: the command ran, and found problems (a failed task, a lagging sink, a preflight finding) or
 *   refused an action (an illegal state transition, a write the mode does not allow).
 * - USAGE: the command line is wrong (unknown flag, missing argument); nothing was contacted.
 * - UNREACHABLE: something the command needs (Connect REST, Kafka, a database, the sandbox's target file)
 *   could not be reached or read; the message names it and how to fix it.
 * - UNEXPECTED: anything else, a bug or an answer the command did not expect; the message says what.
 */
export const EXIT = { OK: 0, PROBLEMS: 1, USAGE: 2, UNREACHABLE: 3, UNEXPECTED: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Where a command writes and what it reads from its environment; the CLI passes the process's, tests their own. */
export interface CommandContext {
    stdout: NodeJS.WritableStream & { isTTY?: boolean };
    stderr: NodeJS.WritableStream & { isTTY?: boolean };
    /** Environment variables (target settings such as CDC_CONNECT_URL are read from here, never from process.env directly). */
    env: NodeJS.ProcessEnv;
}

export interface Command {
    /** What the operator types after `cdc`; one word, or two for a group (`dlq list`). */
    name: string;
    /** One line for `cdc --help`. */
    summary: string;
    /** Shown for `cdc <name> --help` and after every usage error: the synopsis, then one line per flag. */
    usage: string;
    /** Runs with the arguments after the name; resolves to an EXIT code or throws (see `exitCodeFor`). */
    run(argv: string[], ctx: CommandContext): Promise<number>;
}

/**
 * Something the command needs is down or missing. `what` names it ("Kafka Connect REST"), `where` the
 * endpoint or file, `fix` what the operator can do about it.
 */
export class UnreachableError extends Error {
    constructor(
        readonly what: string,
        readonly where: string,
        readonly reason: string,
        readonly fix?: string,
    ) {
        super(`${what} at ${where} is unreachable: ${reason}${fix ? `; ${fix}` : ""}`);
        this.name = "UnreachableError";
    }
}

/** The command refused to act (illegal transition, action the target's mode does not allow); exits with PROBLEMS. */
export class RefusedError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "RefusedError";
    }
}

export { UsageError };

/**
 * An error's first line, followed by the causes it nests (an AggregateError, such as the Kafka client's "… failed N
 * times" over each broker's error), each once: the innermost messages say what was refused or unreachable.
 */
export function errorText(e: unknown): string {
    const inner = ((e as { errors?: unknown[] } | null)?.errors ?? []).map(errorText);
    const own = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    return inner.length > 0 ? `${own} (${[...new Set(inner)].join("; ")})` : own;
}

/** The exit code for an error a command threw. */
export function exitCodeFor(err: unknown): ExitCode {
    if (err instanceof UsageError) return EXIT.USAGE;
    if (err instanceof UnreachableError) return EXIT.UNREACHABLE;
    if (err instanceof RefusedError) return EXIT.PROBLEMS;
    return EXIT.UNEXPECTED;
}

/** True when `argv` asks for the command's help (`--help` or `-h` anywhere before a `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
    const end = argv.indexOf("--");
    return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}
