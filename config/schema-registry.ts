/**
 * The schema registry section resolved against the environment profile, and the rules that span it and the
 * serialization choice. Every problem names its config path and what to write.
 */
import type { ConfigIssue } from "./errors";
import type { SchemaRegistrySpec, StackSpec } from "../model/spec";
import type { ParsedStackConfig } from "./schema";

export function resolveSchemaRegistry(config: ParsedStackConfig): { schemaRegistry?: SchemaRegistrySpec } {
    const registry = config.schemaRegistry;
    if (!registry) return {};
    const url = registry.url.replace(/\/+$/, "");
    return {
        schemaRegistry: {
            url,
            adminUrl: (registry.adminUrl ?? url).replace(/\/+$/, ""),
            authentication: registry.authentication,
            ...(registry.authentication === "basic" ? { credentials: registry.credentials } : {}),
            ...(registry.truststoreSecret ? { truststoreSecret: registry.truststoreSecret } : {}),
            registration: registry.registration,
            compatibility: registry.compatibility,
        },
    };
}

const PATH = ["schemaRegistry"] as const;

export function checkSchemaRegistryRules(spec: StackSpec, issues: ConfigIssue[], warnings: string[]): void {
    const { profile, environment, schemaRegistry: registry } = spec;
    if (profile.requireSchemaRegistry && spec.serialization !== "avro") {
        issues.push({
            path: ["serialization"],
            message: `${environment} requires schemas the registry holds and enforces; set serialization: avro and declare schemaRegistry`,
        });
    }
    if (spec.serialization === "json") {
        spec.pipelines.forEach((p) =>
            p.source.tables
                .filter((t) => t.compatibility)
                .forEach((t) =>
                    warnings.push(`${p.name}: ${t.schema}.${t.table} sets compatibility, which applies to avro serialization only`),
                ),
        );
    }
    if (!registry) {
        if (spec.serialization === "avro")
            issues.push({
                path: [...PATH],
                message:
                    "serialization avro needs the registry the converters register and read schemas at; declare schemaRegistry.url (e.g. https://apicurio-registry.registry.svc:8443)",
            });
        return;
    }
    if (spec.serialization === "json")
        warnings.push("schemaRegistry is declared but serialization is json: no connector uses it and no compatibility rule is set");
    checkTls(spec, registry, issues);
    if (profile.requireSchemaRegistryAuthentication && registry.authentication === "none") {
        issues.push({
            path: [...PATH, "authentication"],
            message: `${environment} requires the converters to log in to the registry; set authentication: basic and write the logins to Vault at credentials.writerPath and credentials.readerPath`,
        });
    }
    if (registry.credentials && registry.credentials.writerPath === registry.credentials.readerPath) {
        issues.push({
            path: [...PATH, "credentials", "readerPath"],
            message: `must differ from credentials.writerPath (${registry.credentials.writerPath}): sinks and writers read with a login that cannot register schemas`,
        });
    }
}

function checkTls(spec: StackSpec, registry: SchemaRegistrySpec, issues: ConfigIssue[]): void {
    const https = registry.url.startsWith("https://");
    if (spec.profile.requireSchemaRegistryTls) {
        if (!https)
            issues.push({
                path: [...PATH, "url"],
                message: `${spec.environment} requires TLS to the registry (schemas and registry credentials cross it); use an https URL`,
            });
        if (!registry.adminUrl.startsWith("https://"))
            issues.push({ path: [...PATH, "adminUrl"], message: `${spec.environment} requires TLS to the registry; use an https URL` });
        if (https && !registry.truststoreSecret)
            issues.push({
                path: [...PATH, "truststoreSecret"],
                message: `${spec.environment} verifies the registry's certificate: name the Secret holding its CA as truststore.p12 with truststore.password (e.g. from cert-manager's PKCS#12 keystore)`,
            });
    }
    if (!https && registry.truststoreSecret)
        issues.push({
            path: [...PATH, "truststoreSecret"],
            message: `applies to an https registry only; ${registry.url} is http: use https or remove truststoreSecret`,
        });
}
