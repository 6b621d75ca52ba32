/**
 * Change events with schemas a registry holds: where the environment requires it (prod), no connector writes or reads
 * its data topics with a converter that embeds the schema in each record (JsonConverter) or carries none, and every
 * registry converter reaches its registry over verified TLS.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { boolean, settings } from "../lib/config";
import { connectorView } from "../lib/connectors";
import { forTypes, readIfKnown } from "../lib/match";
import { asRecord, isKafkaConnect, isKafkaConnector, KAFKA_CONNECTOR_TYPES, metadata } from "../lib/resources";

/** Strimzi's default for a KafkaConnect that sets no converter. */
const STRIMZI_DEFAULT_CONVERTER = "org.apache.kafka.connect.json.JsonConverter";

/** Converters whose records name a schema held by a registry, and the keys that point each at it. */
const REGISTRY_CONVERTERS: Readonly<Record<string, { url: string; truststore: string }>> = {
    "io.apicurio.registry.utils.converter.AvroConverter": {
        url: "apicurio.registry.url",
        truststore: "apicurio.registry.request.ssl.truststore.location",
    },
    "io.confluent.connect.avro.AvroConverter": { url: "schema.registry.url", truststore: "schema.registry.ssl.truststore.location" },
    "io.confluent.connect.protobuf.ProtobufConverter": {
        url: "schema.registry.url",
        truststore: "schema.registry.ssl.truststore.location",
    },
    "io.confluent.connect.json.JsonSchemaConverter": {
        url: "schema.registry.url",
        truststore: "schema.registry.ssl.truststore.location",
    },
};

const SIDES = ["key", "value"] as const;

const serializationSettings = settings<{ requireRegistry: boolean }>({
    requireRegistry: boolean(true, "Connectors must serialize keys and values with a schema-registry converter (no JsonConverter)."),
});

export const connectorRegistrySerialization: StackValidationPolicy = {
    name: "connector-registry-serialization",
    description:
        "Where the environment requires it (prod), every connector's key and value converter is a schema-registry converter: no JsonConverter (set on the connector, or inherited from its KafkaConnect or Strimzi's default) on data topics.",
    enforcementLevel: "mandatory",
    configSchema: serializationSettings.schema,
    validateStack: (args, report) => {
        const { requireRegistry } = serializationSettings.read(args);
        if (!requireRegistry) args.notApplicable("this environment does not require schema-registry serialization");
        const connectors = args.resources.filter((r) => isKafkaConnector(r.type));
        if (connectors.length === 0) args.notApplicable("no KafkaConnector in this stack");
        const clusters = args.resources.filter((r) => isKafkaConnect(r.type));
        for (const connector of connectors) {
            const view = connectorView(connector.props, connector.name);
            const { known, value: clusterName } = readIfKnown(metadata(connector.props).labels, "strimzi.io/cluster");
            const cluster = known
                ? clusters.find((c) => metadata(c.props).name === clusterName)
                : clusters.length === 1
                  ? clusters[0]
                  : undefined;
            const workerConfig = asRecord(asRecord(cluster?.props.spec).config);
            for (const side of SIDES) {
                const key = `${side}.converter`;
                const own = view.config[key];
                const inherited = typeof workerConfig[key] === "string" ? (workerConfig[key] as string) : STRIMZI_DEFAULT_CONVERTER;
                const converter = own ?? inherited;
                if (converter in REGISTRY_CONVERTERS) continue;
                const from = own !== undefined ? "its own config" : cluster ? "its KafkaConnect's config" : "Strimzi's default";
                report(
                    `${view.label} ${view.role === "source" ? "writes" : "reads"} its topics' ${side}s with ${converter} (from ${from}), so no registry holds their schema and an incompatible change reaches every reader unchecked. ` +
                        "Fix: set serialization: avro with a schemaRegistry section in the stack config (the connectors then use io.apicurio.registry.utils.converter.AvroConverter).",
                    connector.urn,
                );
            }
        }
    },
};

const tlsSettings = settings<{ requireTls: boolean }>({
    requireTls: boolean(true, "Registry converters must reach their registry over https and verify it with a truststore."),
});

export const connectorRegistryTls: ResourceValidationPolicy = {
    name: "connector-registry-tls",
    description:
        "Where the environment requires it (prod), every schema-registry converter reaches its registry at an https URL and verifies its certificate with a truststore.",
    enforcementLevel: "mandatory",
    configSchema: tlsSettings.schema,
    validateResource: forTypes(KAFKA_CONNECTOR_TYPES, (props, args, report) => {
        const { requireTls } = tlsSettings.read(args);
        if (!requireTls) args.notApplicable("this environment does not require TLS to the schema registry");
        const view = connectorView(props, args.name);
        const why = "schemas and the registry login cross this connection, and a forged registry can hand the connector any schema";
        for (const side of SIDES) {
            const keys = REGISTRY_CONVERTERS[view.config[`${side}.converter`] ?? ""];
            if (!keys) continue;
            const prefix = `${side}.converter.`;
            const url = view.config[`${prefix}${keys.url}`];
            if (!url?.trim().toLowerCase().startsWith("https://")) {
                report(
                    `${view.label} reaches its schema registry at ${prefix}${keys.url}=${url ?? "(unset)"}, not https; ${why}. Fix: set schemaRegistry.url to the registry's https URL.`,
                );
            }
            if (!view.config[`${prefix}${keys.truststore}`]) {
                report(
                    `${view.label} sets no ${prefix}${keys.truststore}, so the converter trusts whatever certificate the JVM's default CAs accept; ${why}. Fix: set schemaRegistry.truststoreSecret to the Secret holding the registry's CA (truststore.p12, truststore.password).`,
                );
            }
        }
    }),
};
