/**
 * How change events are serialized on the wire and the schema registry that holds their Avro schemas
 * (Apicurio Registry; its Kafka Connect converter speaks the registry's v2 API, readers may use its
 * Confluent-compatible API). Names and option values shared by config/, plan/, the ops CLI and the lakehouse writer.
 */

/** `json`: Kafka's JsonConverter with the schema embedded in every record; `avro`: schemas held by the registry. */
export const SERIALIZATIONS = ["json", "avro"] as const;
export type Serialization = (typeof SERIALIZATIONS)[number];

/** The registry's COMPATIBILITY rule values (Apicurio's, the same words as Confluent's). */
export const COMPATIBILITY_LEVELS = [
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

/**
 * Who registers a subject's schemas. `source`: the source connector registers each new schema as it first writes it,
 * and the registry refuses one that breaks the subject's compatibility rule (the source task fails). `preregistered`:
 * someone registers them ahead (e.g. promoted from a staging registry); the source only looks them up and fails on a
 * schema the registry does not hold. Sinks and other readers never register.
 */
export const SCHEMA_REGISTRATIONS = ["source", "preregistered"] as const;
export type SchemaRegistration = (typeof SCHEMA_REGISTRATIONS)[number];

export const SCHEMA_REGISTRY_AUTHENTICATIONS = ["none", "basic"] as const;
export type SchemaRegistryAuthentication = (typeof SCHEMA_REGISTRY_AUTHENTICATIONS)[number];

/** Keys of the Secret named by `schemaRegistry.truststoreSecret` (cert-manager's PKCS#12 keystore output uses these names). */
export const REGISTRY_TRUSTSTORE_KEYS = { truststore: "truststore.p12", password: "truststore.password" } as const;

/** Where subjects live: the converter's TopicIdStrategy names them `<topic>-key` / `<topic>-value` in Apicurio's default group. */
export const REGISTRY_GROUP = "default";

export const keySubject = (topic: string): string => `${topic}-key`;
export const valueSubject = (topic: string): string => `${topic}-value`;

/** The Kubernetes Secret a workload (`owner`: the Connect cluster, a lakehouse writer) reads a registry login from. */
export const registryCredentialsSecretName = (owner: string, login: "writer" | "reader"): string => `${owner}-registry-${login}`;
