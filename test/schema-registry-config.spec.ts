/**
 * The schema registry section and the serialization choice: defaults, the profile's requirements (prod: Avro, TLS
 * with a truststore, logins) and every message naming its config path and the fix, all reported at once.
 */
import { expect } from "chai";
import { parseStackSpec } from "../plan/stack-spec";
import { problemsOf, shippedRaw } from "./helpers/config-problems";

describe("schema registry config", () => {
    it("resolves the shipped stacks: prod Avro over TLS with logins, dev Avro over plain http", () => {
        const prod = parseStackSpec(shippedRaw("prod")).spec;
        expect(prod.serialization).to.equal("avro");
        expect(prod.schemaRegistry).to.deep.equal({
            url: "https://apicurio-registry.registry.svc:8443",
            adminUrl: "https://schema-registry.example.com",
            authentication: "basic",
            credentials: { writerPath: "schema-registry/cdc-writer", readerPath: "schema-registry/cdc-reader" },
            truststoreSecret: "schema-registry-truststore",
            registration: "source",
            compatibility: "BACKWARD",
        });
        const dev = parseStackSpec(shippedRaw("dev")).spec;
        expect(dev.serialization).to.equal("avro");
        expect(dev.schemaRegistry).to.include({ url: "http://apicurio-registry.registry-dev.svc:8080", authentication: "none" });
        expect(dev.schemaRegistry).not.to.have.property("credentials");
    });

    it("defaults to JSON without a registry, and adminUrl to url without its trailing slash", () => {
        const raw = shippedRaw("dev");
        delete raw.serialization;
        delete raw.schemaRegistry;
        expect(parseStackSpec(raw).spec.serialization).to.equal("json");
        raw.schemaRegistry = { url: "http://registry.dev.svc:8080/" };
        const { spec, warnings } = parseStackSpec(raw);
        expect(spec.schemaRegistry).to.include({ url: "http://registry.dev.svc:8080", adminUrl: "http://registry.dev.svc:8080" });
        expect(warnings).to.include(
            "schemaRegistry is declared but serialization is json: no connector uses it and no compatibility rule is set",
        );
    });

    it("keeps a table's own compatibility rule and leaves the others to the registry default", () => {
        const raw = shippedRaw("dev");
        raw.pipelines[1].source.tables[0].compatibility = "FULL";
        const tables = parseStackSpec(raw).spec.pipelines[1].source.tables;
        expect(tables[0].compatibility).to.equal("FULL");
        expect(tables[1]).not.to.have.property("compatibility");
    });

    it("refuses in prod, all at once: JSON, a plain-http registry, no truststore, no logins", () => {
        const raw = shippedRaw("prod");
        raw.serialization = "json";
        raw.schemaRegistry = { url: "http://apicurio-registry.registry.svc:8080", authentication: "none" };
        expect(problemsOf(raw)).to.deep.equal([
            "serialization: prod requires schemas the registry holds and enforces; set serialization: avro and declare schemaRegistry",
            "schemaRegistry.url: prod requires TLS to the registry (schemas and registry credentials cross it); use an https URL",
            "schemaRegistry.adminUrl: prod requires TLS to the registry; use an https URL",
            "schemaRegistry.authentication: prod requires the converters to log in to the registry; set authentication: basic and write the logins to Vault at credentials.writerPath and credentials.readerPath",
        ]);
        raw.serialization = "avro";
        raw.schemaRegistry = { url: "https://apicurio-registry.registry.svc:8443", authentication: "basic" };
        expect(problemsOf(raw)).to.deep.equal([
            "schemaRegistry.truststoreSecret: prod verifies the registry's certificate: name the Secret holding its CA as truststore.p12 with truststore.password (e.g. from cert-manager's PKCS#12 keystore)",
        ]);
    });

    it("accepts in dev what prod refuses", () => {
        const raw = shippedRaw("dev");
        raw.schemaRegistry = { url: "http://apicurio-registry.registry-dev.svc:8080" };
        expect(problemsOf(raw)).to.deep.equal([]);
        raw.serialization = "json";
        delete raw.schemaRegistry;
        expect(problemsOf(raw)).to.deep.equal([]);
    });

    it("needs the registry for Avro, a base URL without /apis, and distinct logins", () => {
        const raw = shippedRaw("dev");
        delete raw.schemaRegistry;
        expect(problemsOf(raw)).to.deep.equal([
            "schemaRegistry: serialization avro needs the registry the converters register and read schemas at; declare schemaRegistry.url (e.g. https://apicurio-registry.registry.svc:8443)",
        ]);
        raw.schemaRegistry = {
            url: "http://registry.dev.svc:8080/apis/registry/v2",
            authentication: "basic",
            credentials: { writerPath: "registry/cdc", readerPath: "registry/cdc" },
            truststoreSecret: "registry-ca",
            compatibility: "SOMETIMES",
        };
        expect(problemsOf(raw)).to.deep.equal([
            "schemaRegistry.url: must be the base URL only: the stack appends /apis/registry/v2 (converter) and /apis/registry/v3 (rules); remove the /apis/... part",
            'schemaRegistry.compatibility: must be one of "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE"',
        ]);
        raw.schemaRegistry.url = "http://registry.dev.svc:8080";
        raw.schemaRegistry.compatibility = "FULL";
        expect(problemsOf(raw)).to.deep.equal([
            "schemaRegistry.truststoreSecret: applies to an https registry only; http://registry.dev.svc:8080 is http: use https or remove truststoreSecret",
            "schemaRegistry.credentials.readerPath: must differ from credentials.writerPath (registry/cdc): sinks and writers read with a login that cannot register schemas",
        ]);
    });

    it("warns that a table's compatibility does nothing under JSON", () => {
        const raw = shippedRaw("dev");
        raw.serialization = "json";
        delete raw.schemaRegistry;
        raw.pipelines[1].source.tables[0].compatibility = "FULL";
        expect(parseStackSpec(raw).warnings).to.include(
            "shop: public.customers sets compatibility, which applies to avro serialization only",
        );
    });
});
