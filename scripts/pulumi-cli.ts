/**
 * The Pulumi CLI the integration tests run `pulumi preview` with. Its installer downloads a prebuilt binary,
 * which machines without internet access cannot fetch, so setup builds it from pulumi/pulumi's Go module
 * (scripts/pulumi-cli/go.mod pins the version and go.sum the checksums) into .cache/pulumi-cli/<version>/.
 * A `pulumi` of at least MIN_PULUMI_CLI_VERSION on PATH is used instead and nothing is built.
 * Run by scripts/setup.sh; `npx ts-node scripts/pulumi-cli.ts` by hand.
 */
import { spawn, spawnSync } from "child_process";
import { existsSync, mkdirSync, readFileSync, renameSync } from "fs";
import * as path from "path";

const REPO_ROOT = path.resolve(__dirname, "..");
const GO_MODULE = path.join(REPO_ROOT, "scripts", "pulumi-cli");
const CLI_PACKAGE = "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi";

/** The oldest CLI test/integration/pulumi-cli.spec.ts passed with (README "Deploying" states the same). */
export const MIN_PULUMI_CLI_VERSION = "3.187.0";

/** The version setup builds: the one scripts/pulumi-cli/go.mod requires, so the two cannot disagree. */
function builtCliVersion(): string {
    const goMod = readFileSync(path.join(GO_MODULE, "go.mod"), "utf8");
    const match = /^\s*github\.com\/pulumi\/pulumi\/pkg\/v3 v(\d+\.\d+\.\d+)\b/m.exec(goMod);
    if (!match) throw new Error(`${path.join(GO_MODULE, "go.mod")} does not require github.com/pulumi/pulumi/pkg/v3`);
    return match[1];
}

function builtCliPath(): string {
    return path.join(REPO_ROOT, ".cache", "pulumi-cli", builtCliVersion(), "pulumi");
}

function atLeast(version: string, minimum: string): boolean {
    const a = version.split(".").map(Number);
    const b = minimum.split(".").map(Number);
    for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
    return true;
}

/** `pulumi version` prints e.g. `v3.274.1` (a development build `v3.275.0-dev.0`, which counts as 3.275.0). */
function cliVersion(command: string): string | undefined {
    const run = spawnSync(command, ["version"], { encoding: "utf8", env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } });
    return /^v?(\d+\.\d+\.\d+)/.exec(run.stdout?.trim() ?? "")?.[1];
}

interface PulumiCli {
    path: string;
    version: string;
}

/** The CLI on PATH when it is recent enough, else the one setup built, else none. */
export function findPulumiCli(): PulumiCli | undefined {
    const onPath = cliVersion("pulumi");
    if (onPath && atLeast(onPath, MIN_PULUMI_CLI_VERSION)) {
        const which = spawnSync("sh", ["-c", "command -v pulumi"], { encoding: "utf8" }).stdout.trim();
        return { path: which, version: onPath };
    }
    const built = builtCliPath();
    const version = existsSync(built) ? cliVersion(built) : undefined;
    return version ? { path: built, version } : undefined;
}

/** Runs a long command, printing a line every 20 s so a quiet download or compile does not look hung. */
function runWithProgress(log: (line: string) => void, what: string, command: string, args: string[], countLines = false): Promise<number> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { cwd: GO_MODULE, stdio: ["ignore", "pipe", "pipe"] });
        let lines = 0;
        const tail: string[] = [];
        const collect = (chunk: Buffer): void => {
            for (const line of chunk.toString().split("\n")) {
                if (!line) continue;
                lines++;
                tail.push(line);
                if (tail.length > 40) tail.shift();
            }
        };
        child.stdout.on("data", collect);
        child.stderr.on("data", collect);
        const seconds = (): number => Math.round((Date.now() - started) / 1000);
        const timer = setInterval(() => log(`${what}: ${seconds()} s${countLines ? `, ${lines} packages` : ""}`), 20_000);
        child.on("error", (err) => {
            clearInterval(timer);
            reject(err);
        });
        child.on("close", (code) => {
            clearInterval(timer);
            if (code !== 0) reject(new Error(`${what} failed (exit ${code}):\n${tail.join("\n")}`));
            else resolve(seconds());
        });
    });
}

async function ensurePulumiCli(log: (line: string) => void): Promise<void> {
    if (process.env.UNIT_ONLY === "1") {
        log("skipped (--unit: only the integration tests run the Pulumi CLI)");
        return;
    }
    const found = findPulumiCli();
    if (found) {
        log(`using Pulumi CLI ${found.version} at ${found.path}`);
        return;
    }
    const version = builtCliVersion();
    const target = builtCliPath();
    if (spawnSync("go", ["version"]).status !== 0) {
        throw new Error(
            `neither a Pulumi CLI >= ${MIN_PULUMI_CLI_VERSION} on PATH nor a Go toolchain to build ${version} with; install one of them`,
        );
    }
    log(`building Pulumi CLI ${version} from source into ${path.relative(REPO_ROOT, target)} (first time only)`);
    log("downloading its Go modules (about 1.6 GB unless already in the Go module cache)");
    const downloaded = await runWithProgress(log, "downloading", "go", ["mod", "download"]);
    log(`modules ready in ${downloaded} s; compiling (several minutes on 2 cores)`);
    mkdirSync(path.dirname(target), { recursive: true });
    const partial = `${target}.partial`;
    const ldflags = `-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${version}`;
    const compiled = await runWithProgress(
        log,
        "compiling",
        "nice",
        ["-n", "10", "go", "build", "-v", "-trimpath", "-ldflags", ldflags, "-o", partial, CLI_PACKAGE],
        true,
    );
    // Renamed only once complete, so an interrupted build is redone instead of leaving a broken binary behind.
    renameSync(partial, target);
    log(`built in ${compiled} s: ${cliVersion(target) ?? "unknown version"}`);
}

if (require.main === module) {
    ensurePulumiCli((line) => console.log(`[pulumi-cli] ${line}`)).catch((err: Error) => {
        console.error(`[pulumi-cli] ${err.message}`);
        process.exit(1);
    });
}
