/**
 * The `cdc` entry point (ops/cli.ts): which command runs, and how what it returns or throws becomes the documented
 * exit code and output (docs/ops.md, "Exit codes").
 */
import { expect } from "chai";
import { execFileSync } from "child_process";
import { PassThrough } from "stream";
import { parseFlags } from "../../model/args";
import { findCommand, help, main } from "../../ops/cli";
import { Command, CommandContext, errorText, EXIT, RefusedError, UnreachableError } from "../../ops/command";
import { COMMANDS } from "../../ops/commands";
import { REPO_ROOT } from "../helpers/stack-files";

function context(env: NodeJS.ProcessEnv = {}) {
    const out = { stdout: "", stderr: "" };
    const stream = (key: "stdout" | "stderr") => {
        const s = new PassThrough();
        s.on("data", (d: Buffer) => (out[key] += d.toString()));
        return s;
    };
    const ctx: CommandContext = { stdout: stream("stdout"), stderr: stream("stderr"), env };
    return { ctx, out };
}

const USAGE = "cdc probe [--fail how]";
const probe: Command = {
    name: "probe",
    summary: "a test command",
    usage: USAGE,
    async run(argv, ctx) {
        const flags = parseFlags(argv, { fail: { type: "string" }, json: { type: "boolean" } }, USAGE);
        if (flags.fail === "unreachable")
            throw new UnreachableError("Kafka Connect REST", "http://127.0.0.1:1", "ECONNREFUSED", "start it");
        if (flags.fail === "refused") throw new RefusedError("RESOLVED → PENDING is not allowed");
        if (flags.fail === "bug") throw new TypeError("x is undefined");
        ctx.stdout.write("probed\n");
        return flags.fail === "problems" ? EXIT.PROBLEMS : EXIT.OK;
    },
};
const dlqList: Command = { ...probe, name: "dlq list", summary: "list dead letters" };
const dlqShow: Command = { ...probe, name: "dlq show", summary: "show one dead letter" };
const commands = [probe, dlqList, dlqShow];

describe("cdc CLI (ops/cli.ts)", () => {
    it("runs the command named by the first words, longest name first", () => {
        expect(findCommand(commands, ["dlq", "show", "--x"])).to.deep.include({ command: dlqShow, rest: ["--x"] });
        expect(findCommand(commands, ["probe"])).to.deep.include({ command: probe, rest: [] });
        expect(findCommand(commands, ["dlq"])).to.equal(undefined);
    });

    it("maps results and errors to the documented exit codes, naming what failed", async () => {
        const run = async (...argv: string[]) => {
            const { ctx, out } = context();
            return { code: await main(argv, ctx, commands), ...out };
        };
        expect(await run("probe")).to.deep.equal({ code: 0, stdout: "probed\n", stderr: "" });
        expect((await run("probe", "--fail", "problems")).code).to.equal(1);
        const refused = await run("probe", "--fail", "refused");
        expect(refused.code).to.equal(1);
        expect(refused.stderr).to.equal("cdc probe: RESOLVED → PENDING is not allowed\n");
        const usage = await run("probe", "--nope");
        expect(usage.code).to.equal(2);
        expect(usage.stderr).to.equal(`cdc probe: unknown option --nope; usage: ${USAGE}\n`);
        const unreachable = await run("probe", "--fail", "unreachable");
        expect(unreachable.code).to.equal(3);
        expect(unreachable.stderr).to.equal("cdc probe: Kafka Connect REST at http://127.0.0.1:1 is unreachable: ECONNREFUSED; start it\n");
        const bug = await run("probe", "--fail", "bug");
        expect(bug.code).to.equal(4);
        expect(bug.stderr).to.equal("cdc probe: x is undefined\n");
    });

    it("with --json, a failure is also one JSON document on stdout", async () => {
        const { ctx, out } = context();
        expect(await main(["probe", "--json", "--fail", "unreachable"], ctx, commands)).to.equal(3);
        expect(JSON.parse(out.stdout)).to.deep.equal({
            error: {
                exitCode: 3,
                kind: "UnreachableError",
                message: "Kafka Connect REST at http://127.0.0.1:1 is unreachable: ECONNREFUSED; start it",
            },
        });
    });

    it("prints help: every command, a group's commands, one command's usage; unknown commands are usage errors", async () => {
        const { ctx, out } = context();
        expect(await main(["--help"], ctx, commands)).to.equal(0);
        expect(out.stdout).to.equal(help(commands));
        expect(out.stdout).to.match(/^ {2}dlq list {2}list dead letters$/m);
        expect(out.stdout).to.match(/^ {2}3 {2}Kafka Connect, Kafka, a database or the target's file unreachable$/m);

        const group = context();
        expect(await main(["dlq"], group.ctx, commands)).to.equal(2);
        expect(group.out.stderr).to.include("dlq show  show one dead letter").and.not.include("probe");

        const one = context();
        expect(await main(["probe", "--help"], one.ctx, commands)).to.equal(0);
        expect(one.out.stdout).to.equal(`a test command\n\nusage: ${USAGE}\n`);

        const unknown = context();
        expect(await main(["stauts"], unknown.ctx, commands)).to.equal(2);
        expect(unknown.out.stderr).to.match(/^cdc: unknown command "stauts"/);

        const none = context();
        expect(await main([], none.ctx, commands)).to.equal(2);
        expect(none.out.stderr).to.equal(help(commands));
    });

    it("registers commands with unique names, a summary and a usage", () => {
        const names = COMMANDS.map((c) => c.name);
        expect(new Set(names).size).to.equal(names.length);
        expect(names).to.include("status");
        for (const c of COMMANDS) {
            expect(c.summary, c.name).to.be.a("string").and.not.equal("");
            expect(c.usage, c.name).to.match(new RegExp(`^cdc ${c.name}\\b`));
        }
    });

    it("runs as `npm run cdc -- --help`", function () {
        this.timeout(60_000);
        const text = execFileSync("npm", ["run", "-s", "cdc", "--", "--help"], { cwd: REPO_ROOT, encoding: "utf8" });
        expect(text).to.equal(help(COMMANDS));
    });
});

describe("cdc: an error as one line", () => {
    it("is the first line, then each nested cause once (as the Kafka client nests them)", () => {
        const refused = new Error("connect ECONNREFUSED 127.0.0.1:1\n    at TCPConnectWrap");
        const nested = new AggregateError([refused, refused, new Error("timeout")], "Connection failed 2 times.\nmore");
        expect(errorText(nested)).to.equal("Connection failed 2 times. (connect ECONNREFUSED 127.0.0.1:1; timeout)");
        expect(errorText(new AggregateError([nested], "outer"))).to.equal(`outer (${errorText(nested)})`);
        expect(errorText("plain")).to.equal("plain");
    });
});
