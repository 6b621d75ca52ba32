import { expect } from "chai";
import { execFileSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../config/errors";
import { PROJECT } from "../config/load";
import { RecordingMocks } from "./helpers/mocks";
import { configForRuntime, REPO_ROOT } from "./helpers/stack-files";

describe("program start-up", () => {
    it("fails on invalid config before registering any resource", async () => {
        const mocks = new RecordingMocks();
        await pulumi.runtime.setMocks(mocks, PROJECT, "dev", false);
        const config = configForRuntime("dev");
        const pipelines = JSON.parse(config[`${PROJECT}:pipelines`]);
        pipelines[0].source.tables[0].name = "customers";
        pulumi.runtime.setAllConfig({ ...config, [`${PROJECT}:pipelines`]: JSON.stringify(pipelines) });
        const entry = require.resolve("../index");
        delete require.cache[entry];
        expect(() => require(entry)).to.throw(ConfigError, 'pipelines[0].source.tables[0].name: "customers" must be schema.table');
        await new Promise((r) => setTimeout(r, 200));
        expect(mocks.registrations).to.deep.equal([]);
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
