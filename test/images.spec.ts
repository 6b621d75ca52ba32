/**
 * The image recipes agree with what runs them: the CronJob's and the lakehouse writer's uid, the CLI the package
 * ships, the writer's lock and entrypoint, a base image pinned by digest. No Docker engine exists where these
 * tests run, so this reads the Dockerfile as text.
 */
import { expect } from "chai";
import { existsSync, readdirSync, readFileSync } from "fs";
import * as path from "path";
import { parseStackSpec } from "../plan/stack-spec";
import { lakehouseDeploymentBody, lakehouseMaintenanceCronJobBody, lakehousePipelines, WRITER_ENTRYPOINT } from "../plan/lakehouse";
import { WORKLOAD_UID } from "../plan/workload-security";
import { CONFIG_DIR, CONFIG_FILE } from "../plan/reconciler-job";
import { rawProjectConfig, REPO_ROOT, SHIPPED_STACKS } from "./helpers/stack-files";

const IMAGES_DIR = path.join(REPO_ROOT, "images");
const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { bin: Record<string, string>; files: string[] };

function instructions(dockerfile: string): { op: string; rest: string }[] {
    return dockerfile
        .replace(/\\\n/g, " ")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#"))
        .map((l) => {
            const [op, ...rest] = l.split(/\s+/);
            return { op: op.toUpperCase(), rest: rest.join(" ") };
        });
}

describe("image recipes (images/*/Dockerfile)", () => {
    const images = readdirSync(IMAGES_DIR).filter((d) => existsSync(path.join(IMAGES_DIR, d, "Dockerfile")));

    it("include the reconciler and the lakehouse writer", () => {
        expect(images).to.include.members(["reconciler", "lakehouse"]);
    });

    for (const image of images) {
        describe(image, () => {
            const steps = instructions(readFileSync(path.join(IMAGES_DIR, image, "Dockerfile"), "utf8"));
            const args = new Map(steps.filter((s) => s.op === "ARG").map((s) => s.rest.split("=", 2) as [string, string]));
            const bases = steps
                .filter((s) => s.op === "FROM")
                .map((s) => s.rest.split(/\s+/)[0].replace(/^\$\{(\w+)\}$/, (_, name) => args.get(name) ?? name));

            it("pins every base image by digest", () => {
                expect(bases).to.not.be.empty;
                for (const base of bases.filter((b) => !steps.some((s) => s.op === "FROM" && s.rest.endsWith(`AS ${b}`)))) {
                    expect(base, "FROM must name image@sha256:<digest>").to.match(/@sha256:[0-9a-f]{64}$/);
                }
            });

            it("runs as a numeric non-root user", () => {
                const users = steps.filter((s) => s.op === "USER");
                expect(users.length, "a USER instruction in the final stage").to.be.greaterThan(0);
                const last = users[users.length - 1].rest;
                expect(last).to.match(/^\d+(:\d+)?$/);
                expect(Number(last.split(":")[0])).to.not.equal(0);
            });
        });
    }

    it("reconciler: runs as the CronJob's uid and starts the CLI the package ships", () => {
        const steps = instructions(readFileSync(path.join(IMAGES_DIR, "reconciler", "Dockerfile"), "utf8"));
        const user = steps.filter((s) => s.op === "USER").pop()!.rest;
        expect(user).to.equal(`${WORKLOAD_UID}:${WORKLOAD_UID}`);
        const entrypoint = JSON.parse(steps.find((s) => s.op === "ENTRYPOINT")!.rest) as string[];
        expect(entrypoint).to.deep.equal(["node", `/app/${pkg.bin["cdc-reconcile"]}`]);
        expect(pkg.files).to.include("dist/");
    });

    describe("lakehouse: agrees with the pods that run it", () => {
        const text = readFileSync(path.join(IMAGES_DIR, "lakehouse", "Dockerfile"), "utf8");
        const steps = instructions(text);
        const runtime = steps.slice(steps.map((s) => s.op).lastIndexOf("FROM"));

        it("runs as the uid the writer's Deployment and maintenance CronJob set, with the entrypoint their arguments follow", () => {
            expect(runtime.filter((s) => s.op === "USER").pop()!.rest).to.equal(`${WORKLOAD_UID}:${WORKLOAD_UID}`);
            expect(JSON.parse(runtime.find((s) => s.op === "ENTRYPOINT")!.rest)).to.deep.equal([...WRITER_ENTRYPOINT]);
            for (const stack of SHIPPED_STACKS) {
                const spec = parseStackSpec(rawProjectConfig(stack)).spec;
                for (const p of lakehousePipelines(spec)) {
                    const writer = lakehouseDeploymentBody(spec, p).spec.template.spec;
                    const maintenance = lakehouseMaintenanceCronJobBody(spec, p).spec.jobTemplate.spec.template.spec;
                    for (const [pod, subcommand] of [
                        [writer, "run"],
                        [maintenance, "maintain"],
                    ] as const) {
                        expect(pod.securityContext.runAsUser).to.equal(WORKLOAD_UID);
                        // The image's entrypoint is python -m cdc_lakehouse; the pods name only the subcommand.
                        expect(pod.containers[0]).to.not.have.property("command");
                        expect(pod.containers[0].args[0]).to.equal(subcommand);
                    }
                }
            }
        });

        it("installs exactly the runtime lock, hash-checked, with the interpreter the lock was compiled for", () => {
            const run = steps.find((s) => s.op === "RUN" && s.rest.includes("setup-venv.sh"))!.rest;
            expect(run).to.include("lakehouse/scripts/setup-venv.sh --runtime");
            // setup-venv.sh --runtime installs requirements.lock with pip --require-hashes --only-binary :all:.
            expect(readFileSync(path.join(REPO_ROOT, "lakehouse", "scripts", "setup-venv.sh"), "utf8")).to.match(
                /--runtime\) lock="\$here\/requirements\.lock"/,
            );
            const compiledWith = /pip-compile with Python (\d+\.\d+)/.exec(
                readFileSync(path.join(REPO_ROOT, "lakehouse", "requirements.lock"), "utf8"),
            )![1];
            expect(text).to.match(new RegExp(`ARG PYTHON_IMAGE=python:${compiledWith.replace(".", "\\.")}-slim-bookworm@sha256:`));
            expect(run).to.include(`PYTHON=python${compiledWith}`);
        });

        it("carries the writer's sources and its configuration schema, which check-config and every start read", () => {
            for (const dir of ["lakehouse/src", "lakehouse/schema"])
                expect(
                    steps.some((s) => s.op === "COPY" && s.rest === `${dir} ${dir}`),
                    dir,
                ).to.equal(true);
            expect(runtime.some((s) => s.op === "COPY" && s.rest.includes("/app/lakehouse /app/lakehouse"))).to.equal(true);
        });
    });

    it("reconciler/README.md names the command the CronJob really runs and the build output the image starts", () => {
        const readme = readFileSync(path.join(REPO_ROOT, "reconciler", "README.md"), "utf8");
        const tsconfig = JSON.parse(readFileSync(path.join(REPO_ROOT, "tsconfig.build.json"), "utf8")) as {
            compilerOptions: { outDir: string };
        };
        const entry = pkg.bin["cdc-reconcile"];
        expect(entry.startsWith(`${tsconfig.compilerOptions.outDir}/`)).to.equal(true);
        expect(readme).to.include(`\`node /app/${entry} --config ${CONFIG_DIR}/${CONFIG_FILE}\``);
        expect(readme).to.include(`\`npm run build\`, then \`node ${entry}\``);
        for (const [stale, why] of [
            [/\/etc\/reconciler\b/, "a config path no CronJob mounts"],
            [/node reconciler\/cli\.js/, "a build output that does not exist"],
        ] as const) {
            expect(readme, why).to.not.match(stale);
        }
    });

    it("the build context leaves out dependencies, caches and local state", () => {
        const ignored = readFileSync(path.join(REPO_ROOT, ".dockerignore"), "utf8")
            .split("\n")
            .map((l) => l.trim());
        for (const entry of ["node_modules", ".cache", ".sandbox", ".git", "dist"]) expect(ignored).to.include(entry);
    });
});
