/**
 * Tracing is off unless configured; configured, the KafkaConnect carries Strimzi's `tracing` and the OpenTelemetry
 * SDK's variables (checked against the KafkaConnect CRD Strimzi's generator derives), and every source connector
 * gets Debezium's ActivateTracingSpan with options its ConfigDef declares (the catalogs derived from the plugins).
 */
import { expect } from "chai";
import type { StackSpec } from "../model/spec";
import { clusterConnectorContext, kafkaConnectBody } from "../plan/connect-cluster";
import { parseStackSpec } from "../plan/stack-spec";
import { renderConnectors } from "../connectors/render";
import { ACTIVATE_TRACING_SPAN, TRACING_TRANSFORM } from "../connectors/tracing";
import { hasDerivedCatalog, validateConnectorConfig, validateTransforms } from "./helpers/catalogs";
import { validateManifest } from "./helpers/k8s-schemas";
import { rawProjectConfig, SHIPPED_STACKS, ShippedStack } from "./helpers/stack-files";

const ENDPOINT = "http://otel-collector.observability.svc:4317";

const specOf = (stack: ShippedStack, tracing?: Record<string, unknown>, edit?: (raw: Record<string, any>) => void): StackSpec => {
    const raw = structuredClone(rawProjectConfig(stack)) as Record<string, any>;
    if (tracing) raw.tracing = tracing;
    edit?.(raw);
    return parseStackSpec(raw).spec;
};

type ConnectSpec = {
    tracing?: unknown;
    template: { connectContainer?: { env?: Array<{ name: string; value: string }>; volumeMounts?: unknown[] } };
};
const connectSpec = (spec: StackSpec) => kafkaConnectBody(spec).spec as unknown as ConnectSpec;

describe("tracing", () => {
    for (const stack of SHIPPED_STACKS) {
        it(`is off in the shipped ${stack} stack: no tracing, no OTEL_ variables, no tracing transform`, () => {
            const spec = specOf(stack);
            const connect = connectSpec(spec);
            expect(connect).to.not.have.property("tracing");
            expect(connect.template.connectContainer?.env ?? []).to.deep.equal([]);
            for (const c of renderConnectors(spec, clusterConnectorContext(spec)))
                expect(JSON.stringify(c.config)).to.not.include("tracing");
        });

        it(`configured in ${stack}: Strimzi's opentelemetry tracing with the endpoint and service name, valid against the KafkaConnect CRD`, () => {
            const spec = specOf(stack, { otlpEndpoint: ENDPOINT, serviceName: "cdc-connect-traces" });
            const body = kafkaConnectBody(spec);
            expect(validateManifest(body as any)).to.deep.equal([]);
            const connect = body.spec as unknown as ConnectSpec;
            expect(connect.tracing).to.deep.equal({ type: "opentelemetry" });
            expect(connect.template.connectContainer!.env).to.deep.equal([
                { name: "OTEL_SERVICE_NAME", value: "cdc-connect-traces" },
                { name: "OTEL_EXPORTER_OTLP_ENDPOINT", value: ENDPOINT },
            ]);
        });
    }

    it("names the workers' service after the KafkaConnect unless serviceName is set", () => {
        const env = connectSpec(specOf("dev", { otlpEndpoint: ENDPOINT })).template.connectContainer!.env!;
        expect(env.find((e) => e.name === "OTEL_SERVICE_NAME")!.value).to.equal("cdc-connect");
    });

    it("keeps the connect container's database CA mount next to the tracing variables", () => {
        const spec = specOf("prod", { otlpEndpoint: ENDPOINT });
        expect(spec.connect.databaseCaSecret, "the prod stack mounts a database CA").to.be.a("string");
        const container = connectSpec(spec).template.connectContainer!;
        // The database CA's, and the schema registry truststore's (the prod stack verifies the registry too).
        expect((container.volumeMounts as { name: string }[]).map((m) => m.name)).to.deep.equal([
            "database-ca",
            "schema-registry-truststore",
        ]);
        expect(container.env!.map((e) => e.name)).to.deep.equal(["OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT"]);
        expect(validateManifest(kafkaConnectBody(spec) as any)).to.deep.equal([]);
    });

    for (const stack of SHIPPED_STACKS) {
        it(`adds ActivateTracingSpan last to every ${stack} source connector, with options its ConfigDef declares, and to no sink`, () => {
            const spec = specOf(stack, { otlpEndpoint: ENDPOINT });
            const connectors = renderConnectors(spec, clusterConnectorContext(spec));
            for (const c of connectors) {
                const transforms = (c.config.transforms ?? "").split(",");
                if (c.role === "sink") {
                    expect(transforms, c.name).to.not.include(TRACING_TRANSFORM);
                    continue;
                }
                expect(transforms.at(-1), c.name).to.equal(TRACING_TRANSFORM);
                expect(transforms.length, `${c.name} keeps its other transforms`).to.be.greaterThan(1);
                expect(c.config[`transforms.${TRACING_TRANSFORM}.type`]).to.equal(ACTIVATE_TRACING_SPAN);
                expect(validateTransforms(c.connectorClass, c.config), c.name).to.deep.equal([]);
                if (hasDerivedCatalog(c.connectorClass))
                    expect(validateConnectorConfig(c.connectorClass, c.role, c.config), c.name).to.deep.equal([]);
            }
        });
    }

    it("the catalog check fails on an option ActivateTracingSpan does not have", () => {
        const spec = specOf("dev", { otlpEndpoint: ENDPOINT });
        const source = renderConnectors(spec, clusterConnectorContext(spec)).find((c) => c.role === "source")!;
        expect(
            validateTransforms(source.connectorClass, { ...source.config, [`transforms.${TRACING_TRANSFORM}.tracing.enabled`]: "true" }),
        ).to.deep.equal([`transforms.${TRACING_TRANSFORM}.tracing.enabled: ${ACTIVATE_TRACING_SPAN} has no option tracing.enabled`]);
    });

    it("traces only the workers with changeEventSpans: false", () => {
        const spec = specOf("dev", { otlpEndpoint: ENDPOINT, changeEventSpans: false });
        expect(connectSpec(spec).tracing).to.deep.equal({ type: "opentelemetry" });
        for (const c of renderConnectors(spec, clusterConnectorContext(spec)))
            expect(c.config.transforms ?? "").to.not.include(TRACING_TRANSFORM);
    });

    it("refuses an endpoint that is not an http(s) URL without a path, with an example", () => {
        expect(() => specOf("dev", { otlpEndpoint: "otel-collector:4317" })).to.throw(
            /tracing\.otlpEndpoint: must be an http\(s\) URL without a path, e.g\. http:\/\/otel-collector\.observability\.svc:4317/,
        );
        expect(() => specOf("dev", {})).to.throw(/tracing\.otlpEndpoint/);
    });
});
