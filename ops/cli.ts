#!/usr/bin/env node
/**
 * `cdc`, the operations CLI: `npm run cdc -- <command> [flags]`, or `node dist/ops/cli.js` from the built
 * package. Finds the command in ops/commands.ts, runs it, and turns its outcome into the exit codes of
 * ops/command.ts (listed by `cdc --help` and in docs/ops.md).
 */
import { Command, CommandContext, EXIT, exitCodeFor, wantsHelp } from "./command";
import { COMMANDS } from "./commands";
import { errorDocument, toJson } from "./output";

const EXIT_HELP = [
    "exit codes:",
    `  ${EXIT.OK}  ok, nothing wrong found`,
    `  ${EXIT.PROBLEMS}  problems found, or the action was refused`,
    `  ${EXIT.USAGE}  usage error (nothing was contacted)`,
    `  ${EXIT.UNREACHABLE}  Kafka Connect, Kafka, a database or the target's file unreachable`,
    `  ${EXIT.UNEXPECTED}  unexpected error`,
].join("\n");

export function help(commands: readonly Command[]): string {
    const width = Math.max(0, ...commands.map((c) => c.name.length));
    const list = commands.length > 0 ? commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n") : "  (none yet)";
    return [
        "usage: cdc <command> [flags]        (npm run cdc -- <command> [flags])",
        "",
        "commands:",
        list,
        "",
        "Every command takes --json and a target (--sandbox <name> | --stack <name>); `cdc <command> --help` shows its flags.",
        "Docs: docs/ops.md.",
        "",
        EXIT_HELP,
        "",
    ].join("\n");
}

/** The command `argv` names: the longest registered name matching its first words (`dlq list` before `dlq`). */
export function findCommand(commands: readonly Command[], argv: readonly string[]): { command: Command; rest: string[] } | undefined {
    const byLength = [...commands].sort((a, b) => b.name.split(" ").length - a.name.split(" ").length);
    for (const command of byLength) {
        const words = command.name.split(" ");
        if (words.every((w, i) => argv[i] === w)) return { command, rest: argv.slice(words.length) };
    }
    return undefined;
}

export async function main(argv: string[], ctx: CommandContext, commands: readonly Command[] = COMMANDS): Promise<number> {
    if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
        (argv.length === 0 ? ctx.stderr : ctx.stdout).write(help(commands));
        return argv.length === 0 ? EXIT.USAGE : EXIT.OK;
    }
    const found = findCommand(commands, argv);
    if (!found) {
        const group = commands.filter((c) => c.name.startsWith(`${argv[0]} `));
        if (group.length > 0) {
            const out = wantsHelp(argv) ? ctx.stdout : ctx.stderr;
            if (!wantsHelp(argv)) ctx.stderr.write(`cdc ${argv[0]}: which one?\n`);
            out.write(help(group));
            return wantsHelp(argv) ? EXIT.OK : EXIT.USAGE;
        }
        ctx.stderr.write(`cdc: unknown command ${JSON.stringify(argv[0])}\n\n${help(commands)}`);
        return EXIT.USAGE;
    }
    const { command, rest } = found;
    if (wantsHelp(rest)) {
        ctx.stdout.write(`${command.summary}\n\nusage: ${command.usage}\n`);
        return EXIT.OK;
    }
    try {
        return await command.run(rest, ctx);
    } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        const code = exitCodeFor(err);
        if (rest.includes("--json")) ctx.stdout.write(toJson(errorDocument(code, err)));
        ctx.stderr.write(`cdc ${command.name}: ${err.message}\n`);
        if (code === EXIT.UNEXPECTED && ctx.env.CDC_DEBUG) ctx.stderr.write(`${err.stack}\n`);
        return code;
    }
}

if (require.main === module) {
    main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then((code) => {
        process.exitCode = code;
    });
}
