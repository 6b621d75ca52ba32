import { expect } from "chai";
import { execFileSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../config/load";
import { RecordingMocks } from "./helpers/mocks";
import { configForRuntime, REPO_ROOT } from "./helpers/stack-files";

describe("program start-up", () => {
    /** Runs index.ts under mocks with the shipped dev stack edited by `edit`; returns what it threw. */
    async function startWith(edit: (config: Record<string, string>) => void): Promise<{ thrown: unknown; mocks: RecordingMocks }> {
        const mocks = new RecordingMocks();
        await pulumi.runtime.setMocks(mocks, PROJECT, "dev", false);
        const config = configForRuntime("dev");
        edit(config);
        pulumi.runtime.setAllConfig(config);
        const entry = require.resolve("../index");
        delete require.cache[entry];
        let thrown: unknown;
        try {
            require(entry);
        } catch (e) {
            thrown = e;
        }
        await new Promise((r) => setTimeout(r, 200));
        return { thrown, mocks };
    }

    it("fails on invalid config before registering any resource, as one clean Pulumi error", async () => {
        const { thrown, mocks } = await startWith((config) => {
            const pipelines = JSON.parse(config[`${PROJECT}:pipelines`]);
            pipelines[0].source.tables[0].name = "customers";
            config[`${PROJECT}:pipelines`] = JSON.stringify(pipelines);
        });
        // The language host prints a RunError's message alone, without the program's stack trace.
        expect(pulumi.RunError.isInstance(thrown as Error), `threw ${String(thrown)}`).to.equal(true);
        expect((thrown as Error).message).to.include('pipelines[0].source.tables[0].name: "customers" must be schema.table');
        expect(mocks.registrations).to.deep.equal([]);
    });

    it("reports a misspelt top-level key with a suggestion instead of ignoring it", async () => {
        const { thrown, mocks } = await startWith((config) => {
            config[`${PROJECT}:reconcilr`] = config[`${PROJECT}:reconciler`] ?? "{}";
            delete config[`${PROJECT}:reconciler`];
            config[`${PROJECT}:sourcePassword`] = "hunter2-not-a-real-secret";
        });
        expect(pulumi.RunError.isInstance(thrown as Error), `threw ${String(thrown)}`).to.equal(true);
        const message = (thrown as Error).message;
        expect(message).to.include('unknown key "reconcilr" (did you mean "reconciler"?)');
        expect(message).to.include('"sourcePassword" (did you mean "sourcePasswords"?)');
        expect(message, "the value of an unknown key never reaches the message").to.not.include("hunter2");
        expect(mocks.registrations).to.deep.equal([]);
    });

    it("accepts every key the shipped stacks set, sourcePasswords included", async () => {
        const { thrown } = await startWith((config) => {
            config[`${PROJECT}:sourcePasswords`] = JSON.stringify({ inventory: "x" });
        });
        expect(String((thrown as Error | undefined)?.message ?? "")).to.not.match(/unknown key/);
    });

    it("resolves a single copy of @pulumi/pulumi, or mocks would silently miss resources", function () {
        this.timeout(60000);
        const tree = JSON.parse(execFileSync("npm", ["ls", "@pulumi/pulumi", "--all", "--json"], { cwd: REPO_ROOT, encoding: "utf8" }));
        const versions = new Set<string>();
        const walk = (deps: Record<string, any> | undefined): void => {
            for (const [name, dep] of Object.entries(deps ?? {})) {
                if (name === "@pulumi/pulumi") versions.add(dep.version);
                walk(dep.dependencies);
            }
        };
        walk(tree.dependencies);
        expect([...versions]).to.have.length(1);
    });
});
