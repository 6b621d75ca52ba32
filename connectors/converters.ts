/**
 * The key and value converters each connector runs with. JSON stacks keep the worker's JsonConverter with
 * embedded schemas (plan/connect-cluster.ts workerConfig). Avro stacks set Apicurio Registry's AvroConverter on
 * every connector, so each connector logs in to the registry as itself: sources with the login that may register
 * schemas, sinks with the read-only one.
 */
import type { SchemaRegistrySpec, StackSpec } from "../model/spec";
import { CREDENTIAL_KEYS } from "../model/naming";
import { REGISTRY_TRUSTSTORE_KEYS, registryCredentialsSecretName } from "../model/schema-registry";
import type { ConnectorContext } from "./context";
import type { ConnectorConfig } from "./sources";

/**
 * `io.apicurio:apicurio-registry-utils-converter` 2.6.13.Final: the newest converter Maven Central serves as a jar
 * (3.x publishes only its POM there). It speaks the registry's v2 API, which Apicurio Registry 3.x still serves.
 */
export const AVRO_CONVERTER = {
    /** The KafkaConnect build plugin's name, and the sandbox's plugin folder name. */
    id: "apicurio-avro-converter",
    converterClass: "io.apicurio.registry.utils.converter.AvroConverter",
    license: "Apache-2.0",
    artifact: { groupId: "io.apicurio", artifactId: "apicurio-registry-utils-converter", version: "2.6.13.Final" },
    /** Of the converter jar: the `.sha512` Maven Central publishes beside it; the catalog derivation refuses another. */
    sha512: "bd47f3a62a3786322cbe8e1b4fd7441051a64e84ada8da29d87ec1a5a0a95a995184709b4a47d5b7dcb79f3419a3021ae14baa19bc9fe8cf25cb6f9bc0fce720",
    /**
     * The jar has no `META-INF/services/org.apache.kafka.connect.storage.Converter`: a worker with
     * `plugin.discovery=service_load` does not see it (test/contracts checks the pinned jar still lacks it).
     */
    serviceManifest: false,
} as const;

/** A day: the sink's converter refreshes a schema it already holds once a day instead of every 30 s. */
const SINK_SCHEMA_CACHE_MS = 24 * 60 * 60 * 1000;

/** The registry's API the converter calls (its RegistryClient appends nothing). */
export const converterRegistryUrl = (registry: SchemaRegistrySpec): string => `${registry.url}/apis/registry/v2`;

export type ConnectorRole = "source" | "sink";

/** `key.converter`, `value.converter` and their settings; nothing for JSON, which the worker's defaults cover. */
export function converterConfig(spec: StackSpec, role: ConnectorRole, ctx: ConnectorContext): ConnectorConfig {
    if (spec.serialization === "json") return {};
    const registry = spec.schemaRegistry;
    if (!registry) throw new Error("serialization avro without schemaRegistry (config/schema-registry.ts refuses this)");
    const settings = avroConverterSettings(spec, registry, role, ctx);
    const config: ConnectorConfig = {};
    for (const side of ["key", "value"] as const) {
        config[`${side}.converter`] = AVRO_CONVERTER.converterClass;
        for (const [key, value] of Object.entries(settings)) config[`${side}.converter.${key}`] = value;
    }
    return config;
}

function avroConverterSettings(spec: StackSpec, registry: SchemaRegistrySpec, role: ConnectorRole, ctx: ConnectorContext): ConnectorConfig {
    const owner = spec.connect.name;
    const login = role === "source" ? "writer" : "reader";
    const credentials = registryCredentialsSecretName(owner, login);
    return {
        "apicurio.registry.url": converterRegistryUrl(registry),
        // The Confluent wire format (magic byte, 4-byte id) in the record itself rather than Apicurio headers, so any
        // Confluent-compatible reader (the lakehouse writers, kcat, confluent-kafka) decodes it through /apis/ccompat;
        // the id is the content id, which is what the Confluent-compatible API calls a schema id.
        "apicurio.registry.as-confluent": "true",
        "apicurio.registry.use-id": "contentId",
        "apicurio.registry.headers.enabled": "false",
        // Only a source registers, and only when the stack's choice is that sources do; a sink only reads by id.
        "apicurio.registry.auto-register": String(role === "source" && registry.registration === "source"),
        // A sink looks schemas up by content id, and an id's content never changes, so its cache need not expire. When
        // an entry expires (every 30 s by default) the converter parses the schema again, and from then on each record's
        // lookup in its Avro-to-Connect schema cache compares the new instance with the old one field by field: a
        // quarter of a sink task's CPU samples in the benchmark's drain (bench/RESULTS.md).
        ...(role === "sink" ? { "apicurio.registry.check-period-ms": String(SINK_SCHEMA_CACHE_MS) } : {}),
        ...(registry.authentication === "basic"
            ? {
                  "apicurio.auth.username": ctx.secretRef(credentials, CREDENTIAL_KEYS.username),
                  "apicurio.auth.password": ctx.secretRef(credentials, CREDENTIAL_KEYS.password),
              }
            : {}),
        ...(registry.truststoreSecret && ctx.registryTruststoreFile
            ? {
                  "apicurio.registry.request.ssl.truststore.location": ctx.registryTruststoreFile,
                  "apicurio.registry.request.ssl.truststore.type": "PKCS12",
                  "apicurio.registry.request.ssl.truststore.password": ctx.secretRef(
                      registry.truststoreSecret,
                      REGISTRY_TRUSTSTORE_KEYS.password,
                  ),
              }
            : {}),
    };
}
