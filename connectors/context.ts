/**
 * What a connector config needs from where it runs. The cluster and the local sandbox differ only
 * here: how a credential reference is spelled and which Kafka the connector's own clients reach.
 */

export interface ConnectorContext {
    /** Bootstrap servers for Debezium's schema history clients (they are not the worker's clients). */
    bootstrapServers: string;
    /** A config-provider reference to one key of one secret; never the value itself. */
    secretRef(secretName: string, key: string): string;
    /** Security settings for Debezium's own Kafka clients, without the prefix. */
    kafkaClientSecurity: Record<string, string>;
    /** PEM file of the CA that signed the databases' certificates, where the worker can read it. */
    databaseCaFile?: string;
    /** PKCS#12 truststore of the schema registry's CA (schemaRegistry.truststoreSecret), where the worker can read it. */
    registryTruststoreFile?: string;
}

/** Strimzi's KubernetesSecretConfigProvider, registered on the worker as `secrets`. */
export const STRIMZI_SECRETS_PROVIDER = "secrets";

export function strimziSecretRef(namespace: string): ConnectorContext["secretRef"] {
    return (secretName, key) => `\${${STRIMZI_SECRETS_PROVIDER}:${namespace}/${secretName}:${key}}`;
}

/** A value is a reference when it is exactly one `${provider:path:key}` placeholder. */
export const CONFIG_PROVIDER_REFERENCE = /^\$\{[a-z][a-z0-9_-]*:[^}]*:[^}]+\}$/;
