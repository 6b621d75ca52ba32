/**
 * Contract tests: what the stack renders must be accepted by the real Strimzi 1.2 CRDs (and the
 * KafkaAccess by the Strimzi Access Operator 0.3.0 CRD Strimzi 1.2 ships). The connector
 * configs inside are checked against the real connectors' properties in contracts/connector-catalogs.spec.ts.
 */
import { expect } from "chai";
import { parseStackSpec } from "../plan/stack-spec";
import type { StackSpec } from "../model/spec";
import { renderConnectors } from "../connectors/render";
import { clusterConnectorContext, kafkaAccessBody, kafkaConnectBody } from "../plan/connect-cluster";
import { kafkaConnectorBody } from "../plan/kafka-connector";
import { validateManifest } from "./helpers/k8s-schemas";
import { rawProjectConfig, SHIPPED_STACKS } from "./helpers/stack-files";

/** The shipped stacks plus one with every source kind and the Confluent sink, so every builder is covered. */
function specsUnderTest(): Array<[string, StackSpec]> {
    const specs: Array<[string, StackSpec]> = SHIPPED_STACKS.map((s) => [s, parseStackSpec(rawProjectConfig(s)).spec]);
    const raw = structuredClone(rawProjectConfig("prod")) as Record<string, any>;
    raw.pipelines.push(
        {
            name: "crm",
            source: {
                kind: "postgres",
                host: "crm-db",
                database: "crm",
                signalTable: "public.debezium_signal",
                tables: [{ name: "public.customers", primaryKey: ["customer_id"] }],
            },
            sink: { host: "warehouse", database: "warehouse", schema: "crm" },
        },
        {
            name: "inventory",
            source: {
                kind: "mysql",
                host: "inventory-db",
                database: "inventory",
                tables: [{ name: "inventory.products", primaryKey: ["product_id"] }],
            },
            sink: { implementation: "confluent", host: "warehouse", database: "warehouse", schema: "inventory", autoCreate: true },
        },
    );
    specs.push(["prod with every source kind", parseStackSpec(raw).spec]);
    return specs;
}

describe("contract with the real schemas", function () {
    for (const [label, spec] of specsUnderTest()) {
        describe(label, () => {
            it("renders a KafkaConnect the Strimzi 1.2 CRD accepts, with no undeclared keys", () => {
                expect(validateManifest(kafkaConnectBody(spec) as any)).to.deep.equal([]);
            });

            const access = kafkaAccessBody(spec);
            if (access) {
                it("renders a KafkaAccess the Access Operator's CRD accepts, with no undeclared keys", () => {
                    expect(validateManifest(access as any)).to.deep.equal([]);
                });
            }

            for (const connector of renderConnectors(spec, clusterConnectorContext(spec))) {
                it(`renders KafkaConnector ${connector.name} the Strimzi 1.2 CRD accepts`, () => {
                    expect(validateManifest(kafkaConnectorBody(connector, spec.namespace, spec.connect.name) as any)).to.deep.equal([]);
                });
            }
        });
    }

    it("catches an undeclared CR key (the validator can fail)", () => {
        const spec = parseStackSpec(rawProjectConfig("dev")).spec;
        const [source] = renderConnectors(spec, clusterConnectorContext(spec));
        const body = kafkaConnectorBody(source, spec.namespace, spec.connect.name) as any;
        body.spec.taskMax = 1;
        expect(validateManifest(body)).to.deep.equal(["KafkaConnector.spec.taskMax is not declared by the schema"]);
    });
});
