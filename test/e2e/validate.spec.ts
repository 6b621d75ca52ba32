import { expect } from "chai";
import * as path from "path";
import { parseStackSpec } from "../../plan/stack-spec";
import type { StackSpec } from "../../model/spec";
import { restConfig } from "../../connectors/render";
import { validationErrors } from "../../ops/connect-client";
import type { ConnectorContext } from "../../connectors/context";
import { renderConnectors } from "../../connectors/render";
import { sandboxConnectorContext, writePipelineSecrets } from "../../sandbox/stack";
import { rawProjectConfig, SHIPPED_STACKS } from "../helpers/stack-files";
import { E2E, e2e, START_TIMEOUT_MS } from "./fixture";

/** Connection failures Debezium reports for a source database it cannot reach; any other error is a config error. */
const UNREACHABLE = /connect|unknown ?host|resolve|timed? ?out|unreachable/i;

describe("sandbox e2e: every rendered connector config passes Kafka Connect validation", function () {
    this.timeout(10 * 60_000);
    let env: E2E;

    before(async function () {
        this.timeout(START_TIMEOUT_MS);
        env = await e2e();
    });

    const stacks: { name: string; spec: () => StackSpec; ctx: () => ConnectorContext }[] = [
        ...SHIPPED_STACKS.map((s) => ({
            name: `shipped ${s} stack`,
            spec: () => parseStackSpec(rawProjectConfig(s)).spec,
            // Their Secrets exist only in their clusters: stand-ins in a folder of their own let the
            // provider resolve without touching the sandbox pipelines' real credentials.
            ctx: () => {
                const dir = path.join(env.sb.secretsDir, `shipped-${s}`);
                writePipelineSecrets(dir, parseStackSpec(rawProjectConfig(s)).spec.pipelines, () => ({
                    username: "validate",
                    password: "validate",
                }));
                return sandboxConnectorContext(env.sb.kafka.bootstrapServers, dir);
            },
        })),
        { name: "sandbox stack", spec: () => env.sb.spec, ctx: () => env.sb.ctx },
    ];

    for (const stack of stacks) {
        it(`${stack.name}: no validation error except an unreachable source database`, async () => {
            // The shipped stacks' source databases exist only in their clusters.
            const shipped = stack.name.startsWith("shipped");
            const connectors = renderConnectors(stack.spec(), stack.ctx());
            expect(connectors).to.not.be.empty;
            const loaded = new Set((await env.sb.client.plugins()).map((p) => p.class));
            let sqlServerSources = 0;
            for (const c of connectors) {
                expect(loaded.has(c.connectorClass), `${c.name}: plugin ${c.connectorClass} is not installed in the sandbox`).to.equal(
                    true,
                );
                const errors = validationErrors(await env.sb.client.validate(c.name, restConfig(c)));
                if (shipped && c.role === "source") {
                    if (c.plugin === "debezium-sqlserver") sqlServerSources++;
                    const notConnection = Object.entries(errors).filter(([, msgs]) => !msgs.every((m) => UNREACHABLE.test(m)));
                    expect(notConnection, `${c.name}: ${JSON.stringify(errors)}`).to.deep.equal([]);
                } else {
                    expect(errors, c.name).to.deep.equal({});
                }
            }
            if (shipped) expect(sqlServerSources, "the shipped stacks capture SQL Server").to.be.above(0);
        });
    }
});
