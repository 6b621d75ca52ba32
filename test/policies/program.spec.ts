/**
 * The whole pack, in-process, against what the real program registers for the shipped dev and prod
 * stacks (preview on and off), with the shipped per-environment configuration: nothing may fire.
 */
import "./helpers/capture";
import { expect } from "chai";
import { OPERATOR_OWNED_PATHS } from "../../plan/kafka-connector";
import { POLICIES } from "../../policies/pack";
import { runProgram } from "../helpers/program";
import { SHIPPED_STACKS } from "../helpers/stack-files";
import { analyze, AnalysisResult } from "./helpers/analyzer";
import { resourcesOf, shippedPackConfig } from "./helpers/stack";

const describeDiagnostics = (result: AnalysisResult): string =>
    result.diagnostics.map((d) => `  [${d.level}] ${d.policy}: ${d.message}`).join("\n");

for (const stack of SHIPPED_STACKS) {
    for (const preview of [false, true]) {
        describe(`policy pack on the shipped ${stack} stack (preview: ${preview})`, function () {
            this.timeout(60000);

            it(`reports no violation with policies/${stack}.json`, async () => {
                const resources = await resourcesOf(await runProgram(stack, preview), stack);
                const result = await analyze(POLICIES, resources, { config: shippedPackConfig(stack), stackTags: { environment: stack } });
                expect(result.diagnostics, describeDiagnostics(result)).to.deep.equal([]);
            });

            it("applies every policy to what the program registers, except those the environment switches off", async () => {
                const resources = await resourcesOf(await runProgram(stack, preview), stack);
                const result = await analyze(POLICIES, resources, { config: shippedPackConfig(stack), stackTags: { environment: stack } });
                const idle = POLICIES.map((p) => p.name).filter((name) => !result.applied.has(name));
                // prod's one pipeline has one source, so uniqueness across sources has nothing to compare; dev has three.
                // dev's Kafka has no authentication, so the stack creates no KafkaUser there.
                const expected =
                    stack === "dev"
                        ? [
                              "kafka-topic-protected",
                              "connector-error-log-redacted",
                              "source-database-encryption",
                              "sink-database-encryption",
                              "reconciler-database-encryption",
                              "kafka-user-stack-owned",
                              "kafka-acl-no-wildcard",
                              "connector-registry-serialization",
                              "connector-registry-tls",
                          ]
                        : ["source-identity-unique"];
                expect(idle.sort()).to.deep.equal(expected.sort());
            });
        });
    }
}

describe("KafkaConnector resource options the program registers", function () {
    this.timeout(60000);

    it("leave the fields connector actions set in a cluster to the operator (ignoreChanges)", async () => {
        for (const stack of SHIPPED_STACKS) {
            const resources = await resourcesOf(await runProgram(stack, false), stack);
            const connectors = resources.filter((r) => r.props.kind === "KafkaConnector");
            expect(connectors, stack).to.not.be.empty;
            for (const c of connectors) expect(c.opts.ignoreChanges, `${stack} ${c.name}`).to.deep.equal([...OPERATOR_OWNED_PATHS]);
        }
    });
});
