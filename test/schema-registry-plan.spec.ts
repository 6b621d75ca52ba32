/**
 * What an Avro stack renders: the converters on every connector (sources register with the writer login, sinks only
 * read with the reader login, both as config-provider references), the converter in the Connect image and the
 * discovery mode that finds it, the truststore in the pods, the Vault syncs of the logins, and the subjects' rules as
 * the requests `pulumi up` and the sandbox send.
 */
import { expect } from "chai";
import { parseStackSpec } from "../plan/stack-spec";
import type { StackSpec } from "../model/spec";
import { CONFIG_PROVIDER_REFERENCE } from "../connectors/context";
import { renderConnectors } from "../connectors/render";
import { clusterConnectorContext, connectorSecretNames, kafkaConnectBody } from "../plan/connect-cluster";
import { planSecretSyncs, planVaultPolicies } from "../plan/vault";
import { getCompatibilityRequest, plannedSubjectRules, putCompatibilityRequest, withBasicAuth } from "../plan/schema-registry";
import { shippedRaw } from "./helpers/config-problems";

const spec = (stack: "dev" | "prod", edit?: (raw: Record<string, any>) => void): StackSpec => {
    const raw = shippedRaw(stack);
    edit?.(raw);
    return parseStackSpec(raw).spec;
};

const connector = (s: StackSpec, name: string) => renderConnectors(s, clusterConnectorContext(s)).find((c) => c.name === name)!;

const converterKeys = (config: Record<string, string>) =>
    Object.fromEntries(Object.entries(config).filter(([key]) => /^(key|value)\.converter/.test(key)));

describe("schema registry plan", () => {
    describe("converters (prod: TLS and logins)", () => {
        const prod = spec("prod");
        const source = connector(prod, "sqlserver-cdc-source").config;
        const sink = connector(prod, "postgresql-jdbc-sink").config;

        it("gives the source Apicurio's AvroConverter that registers, with the writer login and the truststore", () => {
            const common = {
                "apicurio.registry.url": "https://apicurio-registry.registry.svc:8443/apis/registry/v2",
                "apicurio.registry.as-confluent": "true",
                "apicurio.registry.use-id": "contentId",
                "apicurio.registry.headers.enabled": "false",
                "apicurio.registry.auto-register": "true",
                "apicurio.auth.username": "${secrets:cdc/cdc-connect-registry-writer:username}",
                "apicurio.auth.password": "${secrets:cdc/cdc-connect-registry-writer:password}",
                "apicurio.registry.request.ssl.truststore.location": "/opt/kafka/schema-registry-truststore/truststore.p12",
                "apicurio.registry.request.ssl.truststore.type": "PKCS12",
                "apicurio.registry.request.ssl.truststore.password": "${secrets:cdc/schema-registry-truststore:truststore.password}",
            };
            const expected: Record<string, string> = {};
            for (const side of ["key", "value"]) {
                expected[`${side}.converter`] = "io.apicurio.registry.utils.converter.AvroConverter";
                for (const [key, value] of Object.entries(common)) expected[`${side}.converter.${key}`] = value;
            }
            expect(converterKeys(source)).to.deep.equal(expected);
        });

        it("gives the sink the same converter, reading only, with the reader login", () => {
            expect(sink).to.include({
                "value.converter": "io.apicurio.registry.utils.converter.AvroConverter",
                "key.converter.apicurio.registry.auto-register": "false",
                "value.converter.apicurio.registry.auto-register": "false",
                "value.converter.apicurio.auth.username": "${secrets:cdc/cdc-connect-registry-reader:username}",
                "value.converter.apicurio.auth.password": "${secrets:cdc/cdc-connect-registry-reader:password}",
            });
        });

        it("keeps the sink's schemas by content id for a day, the sources' at the converter's default", () => {
            for (const side of ["key", "value"]) {
                expect(sink[`${side}.converter.apicurio.registry.check-period-ms`]).to.equal("86400000");
                expect(source).not.to.have.property(`${side}.converter.apicurio.registry.check-period-ms`);
            }
        });

        it("puts every registry credential in as a config-provider reference the Connect Role may read", () => {
            const readable = connectorSecretNames(prod);
            for (const config of [source, sink]) {
                for (const [key, value] of Object.entries(converterKeys(config))) {
                    if (!/(username|password)$/.test(key)) continue;
                    expect(value, key).to.match(CONFIG_PROVIDER_REFERENCE);
                    expect(readable, key).to.include(value.split(":")[1].split("/")[1]);
                }
            }
        });

        it("syncs the two logins from the Vault paths the config names, and Connect's policy reads exactly those", () => {
            const syncs = planSecretSyncs(prod).filter((s) => s.path.startsWith("schema-registry/"));
            expect(syncs.map((s) => [s.consumer, s.secretName, s.path])).to.deep.equal([
                ["connect", "cdc-connect-registry-writer", "schema-registry/cdc-writer"],
                ["connect", "cdc-connect-registry-reader", "schema-registry/cdc-reader"],
            ]);
            const connect = planVaultPolicies(prod).find((p) => p.consumer === "connect")!;
            expect(connect.rules.filter((r) => r.path.includes("schema-registry")).map((r) => [r.path, r.capabilities])).to.deep.equal([
                ["secret/data/schema-registry/cdc-reader", ["read"]],
                ["secret/data/schema-registry/cdc-writer", ["read"]],
            ]);
        });

        it("builds the converter into the image from Maven Central and lets the workers find it without a manifest", () => {
            const body = kafkaConnectBody(prod).spec as any;
            expect(body.build.plugins.at(-1)).to.deep.equal({
                name: "apicurio-avro-converter",
                artifacts: [
                    { type: "maven", group: "io.apicurio", artifact: "apicurio-registry-utils-converter", version: "2.6.13.Final" },
                ],
            });
            expect(body.config["plugin.discovery"]).to.equal("hybrid_warn");
            // The worker's own converters stay JSON: only the connectors, which override them, carry Avro.
            expect(body.config["value.converter"]).to.equal("org.apache.kafka.connect.json.JsonConverter");
        });

        it("mounts only the truststore file of the truststore Secret, read-only, where the converters look", () => {
            const template = kafkaConnectBody(prod).spec.template as any;
            expect(template.pod.volumes).to.deep.include({
                name: "schema-registry-truststore",
                secret: { secretName: "schema-registry-truststore", items: [{ key: "truststore.p12", path: "truststore.p12" }] },
            });
            expect(template.connectContainer.volumeMounts).to.deep.include({
                name: "schema-registry-truststore",
                mountPath: "/opt/kafka/schema-registry-truststore",
                readOnly: true,
            });
        });
    });

    describe("other choices", () => {
        it("dev: a plain-http registry without logins gets neither auth nor TLS settings, nor Secrets to read", () => {
            const dev = spec("dev");
            const keys = Object.keys(converterKeys(connector(dev, "shop-postgres-source").config));
            expect(keys).to.include("value.converter.apicurio.registry.url");
            expect(keys.filter((k) => /auth|ssl/.test(k))).to.deep.equal([]);
            expect(connectorSecretNames(dev).filter((n) => n.includes("registry"))).to.deep.equal([]);
            expect((kafkaConnectBody(dev).spec.template as any).pod).to.equal(undefined);
        });

        it("preregistered: the sources only look schemas up", () => {
            const s = spec("prod", (raw) => (raw.schemaRegistry.registration = "preregistered"));
            expect(connector(s, "sqlserver-cdc-source").config).to.include({
                "key.converter.apicurio.registry.auto-register": "false",
                "value.converter.apicurio.registry.auto-register": "false",
            });
        });

        it("JSON: no converter on any connector, no converter plugin, no discovery override, no rules", () => {
            const s = spec("dev", (raw) => {
                raw.serialization = "json";
                delete raw.schemaRegistry;
            });
            for (const c of renderConnectors(s, clusterConnectorContext(s))) expect(converterKeys(c.config), c.name).to.deep.equal({});
            const body = kafkaConnectBody(s).spec as any;
            expect(body.build.plugins.map((p: any) => p.name)).to.not.include("apicurio-avro-converter");
            expect(body.config).to.not.have.property("plugin.discovery");
            expect(plannedSubjectRules(s)).to.deep.equal([]);
        });
    });

    describe("compatibility rules", () => {
        it("names a key and a value subject per captured table, each with the table's rule or the registry's default", () => {
            const s = spec("dev", (raw) => (raw.pipelines[1].source.tables[1].compatibility = "FULL_TRANSITIVE"));
            const rules = plannedSubjectRules(s).filter((r) => r.pipeline === "shop");
            expect(rules.map((r) => [r.subject, r.compatibility, r.table])).to.deep.equal([
                ["shop.public.customers-key", "BACKWARD", "public.customers"],
                ["shop.public.customers-value", "BACKWARD", "public.customers"],
                ["shop.public.orders-key", "FULL_TRANSITIVE", "public.orders"],
                ["shop.public.orders-value", "FULL_TRANSITIVE", "public.orders"],
            ]);
            expect(plannedSubjectRules(s)).to.have.length(14);
        });

        it("sets a rule with the Confluent-compatible API's PUT /config/<subject>, the subject escaped", () => {
            expect(putCompatibilityRequest("https://registry.example.com", "a b/c-value", "BACKWARD")).to.deep.equal({
                method: "PUT",
                url: "https://registry.example.com/apis/ccompat/v7/config/a%20b%2Fc-value",
                headers: { "Content-Type": "application/vnd.schemaregistry.v1+json", Accept: "application/json" },
                body: '{"compatibility":"BACKWARD"}',
            });
            expect(getCompatibilityRequest("http://r:8080", "t-key")).to.deep.include({
                method: "GET",
                url: "http://r:8080/apis/ccompat/v7/config/t-key",
            });
        });

        it("adds basic authentication only when there is a login", () => {
            const request = putCompatibilityRequest("https://r", "t-value", "FULL");
            expect(withBasicAuth(request)).to.equal(request);
            expect(withBasicAuth(request, { username: "cdc-writer", password: "pa:ss" }).headers.Authorization).to.equal(
                `Basic ${Buffer.from("cdc-writer:pa:ss").toString("base64")}`,
            );
        });
    });
});
