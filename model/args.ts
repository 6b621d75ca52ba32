/**
 * The command-line parser of every CLI here: Node's `util.parseArgs`, with its tokens checked so that each mistake
 * reads the same way ("unknown option --x; usage: ..."). Lenient tokenizing plus these checks, rather than
 * parseArgs' strict mode, because strict mode words its errors for Node's own CLI and cannot say which flag failed.
 */
import { parseArgs } from "node:util";

export type FlagSpec =
    | { type: "boolean"; short?: string }
    | { type: "string"; short?: string; multiple?: boolean }
    | { type: "number"; integer?: boolean; min?: number };

type FlagValue<F extends FlagSpec> = F extends { type: "boolean" }
    ? boolean
    : F extends { type: "string"; multiple: true }
      ? string[]
      : F extends { type: "string" }
        ? string | undefined
        : number | undefined;

export type Flags<S extends Record<string, FlagSpec>> = { -readonly [K in keyof S]: FlagValue<S[K]> };

/** A command line the CLI cannot run with; CLIs print its message and exit with their usage-error code. */
export class UsageError extends Error {
    constructor(problem: string, usage: string) {
        super(`${problem}; usage: ${usage}`);
        this.name = "UsageError";
    }
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function toNumber(flag: string, text: string, spec: { integer?: boolean; min?: number }): number | string {
    const value = NUMBER.test(text) ? Number(text) : NaN;
    const integer = spec.integer ?? false;
    const fits = Number.isFinite(value) && (!integer || Number.isSafeInteger(value)) && (spec.min === undefined || value >= spec.min);
    if (fits) return value;
    const bound = spec.min === undefined ? "" : ` of at least ${spec.min}`;
    return `${flag} needs a ${integer ? "whole number" : "number"}${bound}, got ${JSON.stringify(text)}`;
}

/** Parses `argv` (without node and the script) against `spec`; throws UsageError, naming the flag, on anything else. */
export function parseFlags<S extends Record<string, FlagSpec>>(argv: readonly string[], spec: S, usage: string): Flags<S> {
    const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
    for (const [name, flag] of Object.entries(spec)) {
        // util.parseArgs refuses a `short: undefined` that the FlagSpec type allows.
        options[name] = {
            type: flag.type === "number" ? "string" : flag.type,
            ...(flag.type !== "number" && flag.short !== undefined ? { short: flag.short } : {}),
            ...(flag.type === "string" && flag.multiple ? { multiple: true } : {}),
        };
    }
    const fail = (problem: string): never => {
        throw new UsageError(problem, usage);
    };
    const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
    const values: Record<string, unknown> = {};
    for (const [name, flag] of Object.entries(spec)) {
        if (flag.type === "boolean") values[name] = false;
        else if (flag.type === "string" && flag.multiple) values[name] = [];
    }
    for (const token of tokens) {
        if (token.kind === "positional") fail(`unexpected argument ${JSON.stringify(token.value)}`);
        if (token.kind !== "option") continue;
        const flag = Object.hasOwn(spec, token.name) ? spec[token.name] : undefined;
        if (!flag) return fail(`unknown option ${token.rawName}`);
        if (flag.type === "boolean") {
            if (token.inlineValue) fail(`${token.rawName} takes no value`);
            values[token.name] = true;
            continue;
        }
        // Without an `=`, a value that looks like a flag is far more likely a forgotten value than a real one.
        if (token.value === undefined || (!token.inlineValue && token.value.startsWith("-") && token.value !== "-")) {
            fail(`${token.rawName} needs a value (write ${token.rawName}=<value> for one starting with "-")`);
        }
        const text = token.value!;
        if (flag.type === "number") {
            const value = toNumber(token.rawName, text, flag);
            if (typeof value === "string") fail(value);
            values[token.name] = value;
        } else if (flag.multiple) {
            (values[token.name] as string[]).push(text);
        } else {
            values[token.name] = text;
        }
    }
    return values as Flags<S>;
}
