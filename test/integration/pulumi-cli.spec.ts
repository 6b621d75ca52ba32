/**
 * The real Pulumi CLI against the shipped project: the `pulumi` commands of README "Deploying", as written,
 * for every shipped stack, in a copy of the project files with a local file backend, the passphrase secrets
 * provider and a throwaway PULUMI_HOME, so nothing in the repository or the user's Pulumi setup changes.
 * The CLI validates Pulumi.yaml and the stack's config (required keys, declared types, secret-ness) before it
 * starts the program; the program needs the Node.js language host, which only a full Pulumi installation
 * ships. So a preview that fails with exactly "no language plugin" got through every check of the CLI's own.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { Document, parseDocument } from "yaml";
import { PROJECT } from "../../config/load";
import { findPulumiCli, MIN_PULUMI_CLI_VERSION } from "../../scripts/pulumi-cli";
import { REPO_ROOT, SHIPPED_STACKS, ShippedStack } from "../helpers/stack-files";

const NO_LANGUAGE_HOST = "error: failed to load language plugin nodejs: no language plugin 'pulumi-language-nodejs' found in the workspace";
const SECRET_VALUE = "integration-test-secret";

interface DocumentedCommand {
    /** Split into words, placeholders such as `<password>` kept. */
    words: string[];
    comment: string;
}

/** The `pulumi` commands of README "Deploying" before `pulumi up`. */
function documentedCommands(): DocumentedCommand[] {
    const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
    const section = /^## Deploying\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? "";
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    return block
        .split("\n")
        .map((line) => /^(.*?)(?:\s+#\s*(.*))?$/.exec(line.trim()) as RegExpExecArray)
        .filter(([, command]) => command.startsWith("pulumi ") && !command.startsWith("pulumi up"))
        .map(([, command, comment]) => ({
            words: command.split(/\s+/).map((word) => word.replace(/^'(.*)'$/, "$1")),
            comment: comment ?? "",
        }));
}

interface Pipeline {
    name: string;
    source: { kind: string };
}

interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
}

describe("the real Pulumi CLI: `pulumi preview` gets past its project and stack config validation", function () {
    this.timeout(300_000);
    let root: string;
    let cli: string;

    before(() => {
        const found = findPulumiCli();
        if (!found)
            throw new Error(
                `no Pulumi CLI >= ${MIN_PULUMI_CLI_VERSION} on PATH and none built into .cache/pulumi-cli/: run scripts/setup.sh`,
            );
        root = mkdtempSync(path.join(os.tmpdir(), "cdc-pulumi-cli-"));
        // A full installation keeps the language hosts beside the pulumi binary, where the CLI looks for them;
        // a copy has nothing beside it, so every CLI stops at the same step after validation.
        cli = path.join(root, "bin", "pulumi");
        mkdirSync(path.dirname(cli));
        copyFileSync(found.path, cli);
        chmodSync(cli, 0o755);
    });

    after(() => {
        if (root) rmSync(root, { recursive: true, force: true });
    });

    /**
     * A copy of Pulumi.yaml and the stack file (edited by `edit`): all the CLI reads before it needs the language
     * host (the policy pack the preview names is loaded after that). And an environment pointing the CLI at them only.
     */
    function workspace(
        stack: ShippedStack,
        edit?: (doc: Document) => void,
    ): { project: string; env: NodeJS.ProcessEnv; pipelines: Pipeline[] } {
        const dir = mkdtempSync(path.join(root, `${stack}-`));
        const project = path.join(dir, "project");
        mkdirSync(project);
        mkdirSync(path.join(dir, "state"));
        copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
        const doc = parseDocument(readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8"));
        edit?.(doc);
        writeFileSync(path.join(project, `Pulumi.${stack}.yaml`), doc.toString());
        const pipelines = (doc.toJS() as { config: Record<string, unknown> }).config[`${PROJECT}:pipelines`] as Pipeline[];
        // The user's own Pulumi settings (access token, backend, passphrase) must not reach the CLI.
        const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PULUMI_")));
        Object.assign(env, {
            PULUMI_HOME: path.join(dir, "home"),
            PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "integration-test-passphrase",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            // A language host on PATH would be used too (see the copy of the CLI in before()).
            PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
        });
        return { project, env, pipelines };
    }

    /**
     * README's commands as a user of `stack` runs them: `dev` becomes the stack's name, a line commented
     * `prod: ...` runs for prod only, a `<pipeline>` line once per pipeline whose source login the stack does
     * not create (not SQL Server), and other placeholders get a dummy secret.
     */
    function commandsFor(stack: ShippedStack, pipelines: Pipeline[]): string[][] {
        return documentedCommands().flatMap(({ words, comment }) => {
            if (comment.startsWith("prod:") && stack !== "prod") return [];
            const args = words.slice(1).map((word) => word.replace(/\bdev\b/, stack));
            const fill = (parts: string[]): string[] => parts.map((word) => word.replace(/<[^>]+>/, SECRET_VALUE));
            if (!args.some((word) => word.includes("<pipeline>"))) return [fill(args)];
            return pipelines
                .filter((pipeline) => pipeline.source.kind !== "sqlserver")
                .map((pipeline) => fill(args.map((word) => word.replace("<pipeline>", pipeline.name))));
        });
    }

    /** Runs README's commands for `stack`; every one before the preview must succeed. */
    function deploySteps(stack: ShippedStack, edit?: (doc: Document) => void): { preview: Run; stackFile: string } {
        const ws = workspace(stack, edit);
        let preview: Run | undefined;
        for (const args of commandsFor(stack, ws.pipelines)) {
            const run = spawnSync(cli, args, {
                cwd: ws.project,
                env: ws.env,
                encoding: "utf8",
                stdio: ["ignore", "pipe", "pipe"],
                timeout: 120_000,
            });
            const result: Run = { status: run.status, stdout: run.stdout, stderr: run.stderr };
            if (args[0] === "preview") {
                preview = result;
                continue;
            }
            expect(result.status, `pulumi ${args.join(" ")}:\n${result.stdout}${result.stderr}`).to.equal(0);
        }
        if (!preview) throw new Error('README "Deploying" has no pulumi preview command');
        return { preview, stackFile: path.join(ws.project, `Pulumi.${stack}.yaml`) };
    }

    it('README "Deploying" sets, with --secret, every secret the stack reads, and in plaintext only what is public', () => {
        const sets = documentedCommands().filter(({ words }) => words[1] === "config" && words[2] === "set");
        const keyOf = (words: string[]) => words.filter((word) => !word.startsWith("-"))[3];
        const secrets = sets.filter(({ words }) => words.includes("--secret")).map(({ words }) => keyOf(words));
        const plain = sets.filter(({ words }) => !words.includes("--secret")).map(({ words }) => keyOf(words));
        expect(secrets).to.have.members([
            "vault:token",
            "mssql:sqlAuth.password",
            "postgresql:password",
            "kafka:saslPassword",
            "sourcePasswords.<pipeline>",
        ]);
        // The Kafka cluster's CA certificate, which the kafka provider verifies the external listener with.
        expect(plain).to.have.members(["kafka:caCert"]);
    });

    for (const stack of SHIPPED_STACKS) {
        it(`${stack}: the documented commands reach the program (stopping only at the missing Node.js language host)`, () => {
            const { preview } = deploySteps(stack);
            expect(preview.stderr.trim()).to.equal(NO_LANGUAGE_HOST);
            expect(preview.stdout).to.include(`Previewing update (${stack})`);
            expect(preview.status).to.not.equal(0);
        });
    }

    it("a PostgreSQL source's password, set as documented, passes the declared type of sourcePasswords", () => {
        const { preview, stackFile } = deploySteps("dev", (doc) => {
            doc.addIn(["config", `${PROJECT}:pipelines`], {
                name: "crm",
                source: {
                    kind: "postgres",
                    host: "crm-db.crm.svc",
                    database: "crm",
                    tables: [{ name: "public.customers", primaryKey: ["id"] }],
                },
                sink: { host: "warehouse-dev.postgres.svc", database: "warehouse", schema: "crm" },
            });
        });
        expect(preview.stderr.trim()).to.equal(NO_LANGUAGE_HOST);
        const written = parseDocument(readFileSync(stackFile, "utf8"));
        expect(written.getIn(["config", `${PROJECT}:sourcePasswords`, "crm", "secure"])).to.be.a("string");
    });

    it("a stack file without any of the optional top-level keys passes validation as well", () => {
        const optional = ["namespace", "monitoring", "vault", "sqlserver", "postgres", "reconciler"];
        const { preview } = deploySteps("prod", (doc) => {
            for (const key of optional) expect(doc.deleteIn(["config", `${PROJECT}:${key}`]), key).to.equal(true);
        });
        expect(preview.stderr.trim()).to.equal(NO_LANGUAGE_HOST);
    });

    it("a stack file without environment fails at the CLI's validation, naming the key", () => {
        const { preview } = deploySteps("dev", (doc) => {
            expect(doc.deleteIn(["config", `${PROJECT}:environment`])).to.equal(true);
        });
        expect(preview.stderr.trim()).to.equal("error: validating stack config: Stack 'dev' is missing configuration value 'environment'");
        expect(preview.status).to.not.equal(0);
    });
});
