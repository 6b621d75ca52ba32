/**
 * The CI entry points run what the README promises: `.ci/run` the README's test command, and the users'
 * GitHub workflow the unit tier before any `pulumi preview` or `pulumi up`.
 */
import { expect } from "chai";
import { readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { REPO_ROOT } from "./helpers/stack-files";

interface Job {
    needs?: string | string[];
    steps: { run?: string; uses?: string; if?: string; with?: { command?: string } }[];
}

const workflow = parse(readFileSync(path.join(REPO_ROOT, ".github", "workflows", "pulumi.yml"), "utf8")) as { jobs: Record<string, Job> };
const runs = (job: Job) => job.steps.map((s) => s.run).filter((r): r is string => typeof r === "string");
const needs = (job: Job) => (job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs]);
const pulumiCommands = (job: Job) => job.steps.filter((s) => s.uses?.startsWith("pulumi/actions")).length;

describe("CI entry points", () => {
    it("the README's test command is exactly what .ci/run runs", () => {
        const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
        const row = readme.split("\n").find((l) => l.startsWith("| Run the tests |"));
        const command = /`([^`]+)`/.exec(row ?? "")?.[1];
        expect(command, "README row '| Run the tests | `...` |'").to.be.a("string");
        const ci = readFileSync(path.join(REPO_ROOT, ".ci", "run"), "utf8")
            .split("\n")
            .filter((l) => l && !l.startsWith("#"));
        expect(ci).to.include(command!);
    });

    it("the workflow's test job sets up and runs the unit tier and type-checks", () => {
        const test = workflow.jobs.test;
        expect(runs(test)).to.include.members(["scripts/setup.sh --unit", "npm run typecheck", "npm run test:unit"]);
    });

    it("the prod jobs give the kafka provider the cluster CA, read fresh from the cluster, before pulumi runs", () => {
        for (const name of ["preview", "up-prod"]) {
            const steps = workflow.jobs[name].steps;
            const setCa = steps.findIndex(
                (step) => step.run?.startsWith("pulumi config set --stack") && step.run.includes('kafka:caCert -- "$(kubectl'),
            );
            const run = steps.findIndex((step) => step.uses?.startsWith("pulumi/actions") && step.with?.command !== undefined);
            expect(setCa, `${name}: a step setting kafka:caCert from the cluster`).to.be.greaterThan(-1);
            expect(setCa, `${name}: before the pulumi command`).to.be.lessThan(run);
            if (name === "preview") expect(steps[setCa].if).to.equal("matrix.stack == 'prod'");
        }
    });

    it("every job that runs pulumi waits for the unit tier, directly or through another job", () => {
        const reaches = (name: string, seen = new Set<string>()): boolean =>
            name === "test" || (!seen.has(name) && needs(workflow.jobs[name]).some((n) => reaches(n, new Set([...seen, name]))));
        const pulumiJobs = Object.keys(workflow.jobs).filter((name) => pulumiCommands(workflow.jobs[name]) > 0);
        expect(pulumiJobs).to.include.members(["preview", "up-dev", "up-prod"]);
        for (const name of pulumiJobs) expect(reaches(name), `${name} must need the test job`).to.equal(true);
    });
});
