/**
 * Fuzzing every `cdc` command's command line (ops/commands.ts), through the CLI's own entry point (ops/cli.ts `main`)
 * as an operator's shell reaches it. The flags are read from each command's usage text, so a flag the usage shows
 * and the parser refuses (or the reverse) fails here too. The target is a sandbox name with no ops-target.json in an
 * empty sandbox folder, so a command line that parses ends at "unreachable" (exit 3) without contacting anything.
 *
 * - any argv: exit 2 (usage) or 3 (unreachable), never an unexpected error (4), never a stack trace;
 * - argv built from the usage: gets past parsing (no unknown option, missing value or stray argument);
 * - that argv with one flag broken: exit 2, and the message names the broken flag.
 */
import { expect } from "chai";
import fc from "fast-check";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../../ops/cli";
import type { Command, CommandContext } from "../../ops/command";
import { COMMANDS } from "../../ops/commands";
import { edgeString, fuzzAsync, PROTOTYPE_KEYS } from "./mutations";

interface UsageFlag {
    name: string;
    /** undefined: a boolean flag; otherwise the values the usage offers (a choice) or placeholder-shaped samples. */
    values?: readonly string[];
}

interface UsageShape {
    command: Command;
    flags: UsageFlag[];
    /** The positional arguments before the flags (`<connector>`, `<id>...`), by placeholder. */
    positionals: string[];
}

/** Values for a `<placeholder>`: counts and seconds for the numeric ones, names and paths that lead nowhere for the rest. */
const NUMBERS = ["1", "30"];
const NAMES = ["fuzz-name", "/nonexistent/cdc-fuzz", "1"];
const samples = (placeholder: string) => (["<n>", "<s>", "<seconds>"].includes(placeholder) ? NUMBERS : NAMES);

/** The flags and positionals a command's usage text shows: its synopsis line and its one-line-per-flag list. */
function usageShape(command: Command): UsageShape {
    const [synopsis, ...lines] = command.usage.split("\n");
    const flags = new Map<string, UsageFlag>();
    const add = (name: string, value: string | undefined) => {
        const choice = value && !value.startsWith("<") ? value.split("|") : undefined;
        const known = flags.get(name);
        if (known?.values && !choice) return;
        flags.set(name, { name, values: choice ?? (value ? samples(value) : undefined) });
    };
    const VALUE = String.raw`(?: (<[^>]+>|[A-Za-z]+(?:\|[A-Za-z]+)+))?`;
    for (const m of synopsis.matchAll(new RegExp(String.raw`\[--([a-z][a-z-]*)${VALUE}[\]| ]`, "g"))) add(m[1], m[2]);
    for (const m of synopsis.matchAll(new RegExp(String.raw` --([a-z][a-z-]*)${VALUE}(?= |$)`, "g"))) add(m[1], m[2]);
    for (const line of lines) {
        const m = new RegExp(String.raw`^\s+--([a-z][a-z-]*)${VALUE}\s`).exec(line);
        if (m) add(m[1], m[2]);
    }
    const afterName = synopsis.slice(`cdc ${command.name}`.length);
    const positionals = [...afterName.matchAll(/(?:^|\s)(<[a-z]+>)(\.\.\.)?(?=\s|$)/g)].map((m) => m[1]);
    return { command, flags: [...flags.values()], positionals };
}

const SHAPES = COMMANDS.map(usageShape);
/** Commands by name: arbitraries pick a name, so a counterexample prints as one. */
const SHAPE = new Map(SHAPES.map((s) => [s.command.name, s]));
const commandName = fc.constantFrom(...SHAPE.keys());

/** A sandbox folder with no sandbox in it: every target resolves to "ops-target.json is missing" (exit 3). */
const EMPTY_SANDBOXES = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-fuzz-sandboxes-"));
const ENV: NodeJS.ProcessEnv = { CDC_SANDBOX_DIR: EMPTY_SANDBOXES, CDC_SANDBOX: "fuzz-missing", PATH: process.env.PATH };

function sink(): NodeJS.WritableStream & { text: () => string } {
    const chunks: string[] = [];
    return Object.assign(Object.create(null) as object, {
        write: (chunk: string | Uint8Array) => {
            chunks.push(String(chunk));
            return true;
        },
        text: () => chunks.join(""),
    }) as NodeJS.WritableStream & { text: () => string };
}

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout = sink();
    const stderr = sink();
    const ctx: CommandContext = { stdout, stderr, env: { ...ENV } };
    const code = await main(argv, ctx);
    return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** What every outcome must be: exit 2 or 3 with a message and no stack trace, whatever the argv. */
function expectOrderly(argv: string[], r: { code: number; stdout: string; stderr: string }): void {
    const what = `cdc ${JSON.stringify(argv)} → ${r.code}: ${r.stderr}`;
    expect([2, 3], what).to.include(r.code);
    expect(r.stderr + r.stdout, what).to.not.match(/\n\s+at .+:\d+:\d+/);
    if (r.code === 2) expect(r.stderr, what).to.match(/; usage: cdc |which one\?|unknown command|^usage: cdc /m);
    if (r.code === 3) expect(r.stderr, what).to.match(/unreachable/);
}

/** Well-formed positionals by placeholder (whether the target has them is past parsing). */
const POSITIONALS: Record<string, readonly string[]> = {
    "<connector>": ["shop-postgres-source", "x"],
    "<id>": ["shop.public.orders/0/5", "t/2/0"],
    "<table>": ["public.orders", "inventory.customers"],
};

const PARSE_ERRORS =
    /: (unknown option |unexpected argument |--[a-z-]+ needs a value|--[a-z-]+ takes no value|--[a-z-]+ needs a (whole )?number)/;

/** An argv the usage allows: the positionals, then some of the flags each with a value the usage offers. */
const validArgv = (shape: UsageShape): fc.Arbitrary<string[]> =>
    fc
        .tuple(
            fc.tuple(...shape.positionals.map((p) => fc.constantFrom(...POSITIONALS[p]))),
            fc.subarray(shape.flags),
            fc.infiniteStream(fc.nat(99)),
            fc.boolean(),
        )
        .map(([positionals, flags, picks, inline]) => {
            const picked = picks[Symbol.iterator]();
            const flagArgs = flags.flatMap((f) => {
                if (!f.values) return [`--${f.name}`];
                const value = f.values[picked.next().value % f.values.length];
                return inline ? [`--${f.name}=${value}`] : [`--${f.name}`, value];
            });
            return [...shape.command.name.split(" "), ...positionals, ...flagArgs];
        });

type Break = (argv: string[], shape: UsageShape) => { argv: string[]; names: string } | undefined;

/** One way to break a valid argv, and the flag the usage error must then name. */
const BREAKS: Break[] = [
    (argv) => ({ argv: [...argv, "--no-such-flag"], names: "--no-such-flag" }),
    (argv, shape) => {
        const f = shape.flags.find((x) => x.values);
        return f && { argv: [...argv, `--${f.name}`], names: `--${f.name}` };
    },
    (argv, shape) => {
        const f = shape.flags.find((x) => x.values);
        return f && { argv: [...argv, `--${f.name}`, "--json"], names: `--${f.name}` };
    },
    (argv, shape) => {
        const f = shape.flags.find((x) => !x.values && x.name !== "help");
        return f && { argv: [...argv, `--${f.name}=yes`], names: `--${f.name}` };
    },
    (argv) => ({ argv: [...argv, "--__proto__"], names: "--__proto__" }),
    (argv) => ({ argv: [...argv, "--stack="], names: "--stack" }),
    (argv) => ({ argv: [...argv, "--stack=a\u0000b"], names: "--stack" }),
    (argv) => ({ argv: [...argv, "--sandbox=.."], names: "--sandbox" }),
    (argv, shape) => {
        if (shape.positionals.length === 0) return undefined;
        const at = shape.command.name.split(" ").length;
        return { argv: [...argv.slice(0, at), " ", ...argv.slice(at + 1)], names: `usage: cdc ${shape.command.name} ` };
    },
];

describe("fuzzing every cdc command's flags", function () {
    this.timeout(60_000);

    after(() => fs.rmSync(EMPTY_SANDBOXES, { recursive: true, force: true }));

    it("reads every command's flags from its usage (the fuzzing below depends on it)", () => {
        const status = SHAPES.find((s) => s.command.name === "status")!;
        expect(status.flags.map((f) => f.name)).to.include.members(["pipeline", "sandbox", "stack", "mode", "json"]);
        expect(status.flags.find((f) => f.name === "mode")!.values).to.deep.equal(["rest", "strimzi"]);
        expect(status.flags.find((f) => f.name === "json")!.values).to.equal(undefined);
        expect(SHAPES.find((s) => s.command.name === "dlq replay")!.positionals).to.deep.equal(["<id>"]);
        expect(SHAPES.find((s) => s.command.name === "schema-events")!.flags.map((f) => f.name)).to.include("interval");
        for (const s of SHAPES) expect(s.flags.length, s.command.name).to.be.greaterThan(5);
    });

    it("any argv ends in a usage error or an unreachable target, never an unexpected error or a stack trace", async () => {
        const anyFlag = [...new Set(SHAPES.flatMap((s) => s.flags.map((f) => f.name)))];
        const token = fc.oneof(
            fc.constantFrom(...anyFlag).map((n) => `--${n}`),
            fc.tuple(fc.constantFrom(...anyFlag), edgeString()).map(([n, v]) => `--${n}=${v}`),
            fc.constantFrom(...PROTOTYPE_KEYS).map((k) => `--${k}`),
            fc.constantFrom("-v", "-h", "-", "--", "---", "--=x", "-5", "1e3", "rest", "strimzi", "PENDING"),
            edgeString(),
        );
        const argv = fc.tuple(fc.constantFrom(...SHAPES.map((s) => s.command.name.split(" "))), fc.array(token, { maxLength: 8 }));
        await fuzzAsync(
            fc.asyncProperty(argv, async ([name, rest]) => {
                // --help anywhere is help (exit 0): the property is about everything else.
                const full = [...name, ...rest.filter((a) => a !== "--help" && a !== "-h")];
                expectOrderly(full, await run(full));
            }),
            2000,
        );
    });

    it("an argv the usage allows gets past parsing, to the unreachable target (or a usage rule between flags)", async () => {
        const codes = { runs: 0, unreachable: 0 };
        await fuzzAsync(
            fc.asyncProperty(
                commandName.chain((name) => validArgv(SHAPE.get(name)!)),
                async (argv) => {
                    const r = await run(argv);
                    expectOrderly(argv, r);
                    expect(r.stderr, `cdc ${JSON.stringify(argv)}`).to.not.match(PARSE_ERRORS);
                    codes.runs++;
                    if (r.code === 3) codes.unreachable++;
                },
            ),
            1500,
        );
        // Most reach the target (the rest break a rule between flags, e.g. --sandbox with --stack): the property is not
        // passing on usage errors alone.
        expect(codes.unreachable / codes.runs, JSON.stringify(codes)).to.be.greaterThan(0.5);
    });

    it("the same argv with one flag broken is a usage error naming that flag", async () => {
        await fuzzAsync(
            fc.asyncProperty(
                commandName.chain((name) => fc.tuple(fc.constant(name), validArgv(SHAPE.get(name)!), fc.nat(BREAKS.length - 1))),
                async ([name, argv, which]) => {
                    const broken = BREAKS[which](argv, SHAPE.get(name)!);
                    if (!broken) return;
                    const r = await run(broken.argv);
                    const what = `cdc ${JSON.stringify(broken.argv)} → ${r.code}: ${r.stderr}`;
                    expect(r.code, what).to.equal(2);
                    expect(r.stderr, what)
                        .to.include(broken.names)
                        .and.match(/; usage: cdc /);
                    expect(r.stderr, what).to.not.match(/\n\s+at .+:\d+:\d+/);
                },
            ),
            1500,
        );
    });
});
