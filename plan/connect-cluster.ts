/**
 * Strimzi Kafka Connect cluster bodies: the KafkaConnect custom resource, its worker config, the
 * KafkaAccess that brings the Kafka cluster's CA and the credential of Connect's KafkaUser into the stack's
 * namespace, the Role that lets Strimzi's config provider read exactly the connector Secrets, and the
 * JMX exporter rules. Plain objects; components/ turns them into resources.
 */
import type { StackSpec } from "../model/spec";
import { CONNECTOR_PLUGINS, ConnectorPlugin } from "../connectors/catalog";
import { ConnectorContext, STRIMZI_SECRETS_PROVIDER, strimziSecretRef } from "../connectors/context";
import { pluginsInUse } from "../connectors/render";
import { converterBuildPlugins, pluginDiscovery, registrySecretNames, registryTruststoreMount } from "./schema-registry";
import { withConnectTracing } from "./tracing";
import { connectJvmOptions } from "./connect-jvm";
import {
    connectInternalTopics,
    connectKafkaUserName,
    connectMetricsConfigMapName,
    connectServiceAccountName,
    kafkaAccessName,
    sinkCredentialsSecretName,
    sourceCredentialsSecretName,
} from "../model/naming";

export const STRIMZI_API_VERSION = "kafka.strimzi.io/v1";
const ACCESS_API_VERSION = "access.strimzi.io/v1alpha1";
export const METRICS_CONFIG_KEY = "metrics-config.yml";
/** The key of the CA certificate in connect.databaseCaSecret. */
export const CA_CERT_KEY = "ca.crt";
/**
 * Keys of the binding Secret the Strimzi Access Operator (0.3.0) writes for a KafkaAccess: the cluster
 * CA (`ca.crt` of `<cluster>-cluster-ca-cert`, present for a TLS listener) and the KafkaUser's credential
 * (a SCRAM user's `password`; a TLS user's `user.crt` and `user.key` as PEM), all copied from the Kafka
 * cluster's namespace and kept current when Strimzi renews them (KafkaUserData in the operator).
 */
export const KAFKA_ACCESS_KEYS = {
    caCert: "ssl.truststore.crt",
    password: "password",
    userCert: "ssl.keystore.crt",
    userKey: "ssl.keystore.key",
} as const;
const DATABASE_CA_VOLUME = "database-ca";
const DATABASE_CA_DIR = "/opt/kafka/database-ca";

export interface ObjectMeta {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
}

export interface KafkaConnectBody {
    apiVersion: typeof STRIMZI_API_VERSION;
    kind: "KafkaConnect";
    metadata: ObjectMeta;
    spec: Record<string, unknown>;
}

export const MANAGED_BY_LABELS = { "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "cdc-pipeline" };

interface KafkaAccessBody {
    apiVersion: typeof ACCESS_API_VERSION;
    kind: "KafkaAccess";
    metadata: ObjectMeta;
    spec: Record<string, unknown>;
}

/** Whether a client needs a binding Secret: the cluster CA for a TLS listener, or its KafkaUser's credential. */
export const needsKafkaAccess = (spec: StackSpec): boolean => spec.kafka.tls || spec.kafka.authentication !== "none";

/** The binding Secret Connect reads the CA and its credential from, when Connect needs either. */
function kafkaAccessSecret(spec: StackSpec): string | undefined {
    return needsKafkaAccess(spec) ? kafkaAccessName(spec.connect.name) : undefined;
}

/**
 * Strimzi writes the cluster CA Secret and each KafkaUser's Secret in the Kafka cluster's namespace,
 * and a Pod or KafkaConnect can only name Secrets in its own. The Access Operator, shipped with Strimzi,
 * copies both into a binding Secret here and rewrites it when Strimzi renews the CA or the credential,
 * so no credential passes through the stack. `user` is the stack's own KafkaUser for this client.
 */
export function kafkaAccessFor(spec: StackSpec, secretName: string, user: string, labels: Record<string, string>): KafkaAccessBody {
    const { kafka } = spec;
    return {
        apiVersion: ACCESS_API_VERSION,
        kind: "KafkaAccess",
        metadata: {
            name: secretName,
            namespace: spec.namespace,
            labels,
            // Ready once the binding Secret is written; False with the reason (no such listener or user,
            // incompatible authentication) otherwise, which is then where `pulumi up` stops.
            annotations: { "pulumi.com/waitFor": "condition=Ready" },
        },
        spec: {
            kafka: { name: kafka.clusterName, namespace: kafka.namespace, listener: kafka.listener },
            ...(kafka.authentication !== "none"
                ? { user: { kind: "KafkaUser", apiGroup: "kafka.strimzi.io", name: user, namespace: kafka.namespace } }
                : {}),
            secretName,
        },
    };
}

/** None when Connect uses neither TLS nor authentication. */
export function kafkaAccessBody(spec: StackSpec): KafkaAccessBody | undefined {
    const name = kafkaAccessSecret(spec);
    return name ? kafkaAccessFor(spec, name, connectKafkaUserName(spec.connect.name), { ...MANAGED_BY_LABELS }) : undefined;
}

/** Debezium's plugin archive, checksum-verified by Strimzi, where there is one; otherwise a Maven dependency build. */
export function buildArtifacts(plugin: ConnectorPlugin): Record<string, string>[] {
    if (plugin.archive) return [{ type: "tgz", url: plugin.archive.url, sha512sum: plugin.archive.sha512 }];
    return plugin.artifacts.map((a) => ({
        type: "maven",
        group: a.groupId,
        artifact: a.artifactId,
        version: a.version,
        ...(a.repository ? { repository: a.repository } : {}),
    }));
}

export function clusterConnectorContext(spec: StackSpec): ConnectorContext {
    const truststore = registryTruststoreMount(spec);
    return {
        bootstrapServers: spec.kafka.bootstrapServers,
        secretRef: strimziSecretRef(spec.namespace),
        kafkaClientSecurity: kafkaClientSecurity(spec),
        ...(spec.connect.databaseCaSecret ? { databaseCaFile: `${DATABASE_CA_DIR}/${CA_CERT_KEY}` } : {}),
        ...(truststore ? { registryTruststoreFile: truststore.file } : {}),
    };
}

/**
 * What Strimzi configures for the workers' own clients, for Debezium's schema history clients. Strimzi
 * 1.x mounts neither the CA nor the password into the pods (since 0.47 its workers read PEM certificates
 * through its `strimzisecrets` provider), so these read the binding Secret through the connectors' provider.
 */
function kafkaClientSecurity(spec: StackSpec): Record<string, string> {
    const { tls, authentication } = spec.kafka;
    const access = kafkaAccessSecret(spec);
    if (!access) return {};
    const ref = strimziSecretRef(spec.namespace);
    const trust: Record<string, string> = tls
        ? { "ssl.truststore.type": "PEM", "ssl.truststore.certificates": ref(access, KAFKA_ACCESS_KEYS.caCert) }
        : {};
    switch (authentication) {
        case "none":
            return { "security.protocol": "SSL", ...trust };
        case "tls":
            // The PEM key store Strimzi 1.x configures for the workers' own clients from the same certificate and key.
            return {
                "security.protocol": "SSL",
                ...trust,
                "ssl.keystore.type": "PEM",
                "ssl.keystore.certificate.chain": ref(access, KAFKA_ACCESS_KEYS.userCert),
                "ssl.keystore.key": ref(access, KAFKA_ACCESS_KEYS.userKey),
            };
        case "scram-sha-512":
            return {
                "security.protocol": tls ? "SASL_SSL" : "SASL_PLAINTEXT",
                "sasl.mechanism": "SCRAM-SHA-512",
                "sasl.jaas.config": `org.apache.kafka.common.security.scram.ScramLoginModule required username="${connectKafkaUserName(spec.connect.name)}" password="${ref(access, KAFKA_ACCESS_KEYS.password)}";`,
                ...trust,
            };
    }
}

/** The KafkaConnect's `authentication`: the stack's KafkaUser, its credential from the binding Secret. */
function connectAuthentication(spec: StackSpec, access: string | undefined): Record<string, unknown> | undefined {
    switch (spec.kafka.authentication) {
        case "none":
            return undefined;
        case "tls":
            return {
                type: "tls",
                certificateAndKey: { secretName: access, certificate: KAFKA_ACCESS_KEYS.userCert, key: KAFKA_ACCESS_KEYS.userKey },
            };
        case "scram-sha-512":
            return {
                type: "scram-sha-512",
                username: connectKafkaUserName(spec.connect.name),
                passwordSecret: { secretName: access, password: KAFKA_ACCESS_KEYS.password },
            };
    }
}

/**
 * Strimzi's PodDisruptionBudget for the workers (its default maxUnavailable is 1 too; stated so the budget is the
 * stack's decision and the policy pack can read it): a drain evicts one worker at a time and the others take over
 * its connectors. With the profile's minimum of two workers (prod) a drain never stops them all; 0 would block every
 * drain until someone deletes a pod by hand.
 */
const CONNECT_MAX_UNAVAILABLE = 1;

/**
 * Worker settings shared by the cluster and the local sandbox. Converters carry schemas because the
 * JDBC sink needs them; connectors may not override client settings, and sink batches are not capped
 * below their batch.size by the consumer's poll size.
 */
export function workerConfig(spec: StackSpec): Record<string, string> {
    const maxSinkBatch = Math.max(...spec.pipelines.map((p) => p.sink.batchSize));
    return {
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "key.converter.schemas.enable": "true",
        "value.converter.schemas.enable": "true",
        "connector.client.config.override.policy": "None",
        "consumer.max.poll.records": String(maxSinkBatch),
        "topic.creation.enable": "false",
        // Source offsets are committed this often; a worker lost before its first commit re-snapshots,
        // and a snapshot cannot carry rows deleted meanwhile (found by the sandbox's SIGKILL test).
        "offset.flush.interval.ms": "10000",
    };
}

export function kafkaConnectBody(spec: StackSpec): KafkaConnectBody {
    const { connect, kafka, profile } = spec;
    const access = kafkaAccessSecret(spec);
    const authentication = connectAuthentication(spec, access);
    const rf = String(profile.replicationFactor);
    return withConnectTracing(spec, {
        apiVersion: STRIMZI_API_VERSION,
        kind: "KafkaConnect",
        metadata: {
            name: connect.name,
            namespace: spec.namespace,
            labels: { ...MANAGED_BY_LABELS },
            annotations: {
                // Without it Strimzi ignores every KafkaConnector of this cluster.
                "strimzi.io/use-connector-resources": "true",
                "pulumi.com/waitFor": "condition=Ready",
            },
        },
        spec: {
            ...(connect.kafkaVersion ? { version: connect.kafkaVersion } : {}),
            replicas: connect.replicas,
            bootstrapServers: kafka.bootstrapServers,
            ...connectInternalTopics(connect.name),
            ...(kafka.tls ? { tls: { trustedCertificates: [{ secretName: access, certificate: KAFKA_ACCESS_KEYS.caCert }] } } : {}),
            ...(authentication ? { authentication } : {}),
            config: {
                ...workerConfig(spec),
                ...pluginDiscovery(spec),
                "config.storage.replication.factor": rf,
                "offset.storage.replication.factor": rf,
                "status.storage.replication.factor": rf,
                "config.providers": STRIMZI_SECRETS_PROVIDER,
                [`config.providers.${STRIMZI_SECRETS_PROVIDER}.class`]: "io.strimzi.kafka.KubernetesSecretConfigProvider",
            },
            resources: connect.resources,
            jvmOptions: connectJvmOptions(connect),
            template: {
                podDisruptionBudget: { maxUnavailable: CONNECT_MAX_UNAVAILABLE },
                ...connectPodVolumes(spec),
            },
            metricsConfig: {
                type: "jmxPrometheusExporter",
                valueFrom: { configMapKeyRef: { name: connectMetricsConfigMapName(connect.name), key: METRICS_CONFIG_KEY } },
            },
            build: {
                output: {
                    type: "docker",
                    image: connect.outputImage,
                    ...(connect.pushSecret ? { pushSecret: connect.pushSecret } : {}),
                },
                plugins: [
                    ...pluginsInUse(spec).map((id) => ({ name: id, artifacts: buildArtifacts(CONNECTOR_PLUGINS[id]) })),
                    ...converterBuildPlugins(spec),
                ],
            },
        },
    });
}

/** The database CA and the schema registry truststore, each mounted read-only into the Connect pods when configured. */
function connectPodVolumes(spec: StackSpec): Record<string, unknown> {
    const mounts: { volume: Record<string, unknown>; volumeMount: Record<string, unknown> }[] = [
        ...(spec.connect.databaseCaSecret
            ? [
                  {
                      volume: { name: DATABASE_CA_VOLUME, secret: { secretName: spec.connect.databaseCaSecret } },
                      volumeMount: { name: DATABASE_CA_VOLUME, mountPath: DATABASE_CA_DIR, readOnly: true },
                  },
              ]
            : []),
    ];
    const truststore = registryTruststoreMount(spec);
    if (truststore) mounts.push(truststore);
    if (mounts.length === 0) return {};
    return {
        pod: { volumes: mounts.map((m) => m.volume) },
        connectContainer: { volumeMounts: mounts.map((m) => m.volumeMount) },
    };
}

/** Secrets the config provider may read: the connectors' credentials, the registry's and the Kafka binding Secret. */
export function connectorSecretNames(spec: StackSpec): string[] {
    const names = [
        ...spec.pipelines.flatMap((p) => [sourceCredentialsSecretName(p), sinkCredentialsSecretName(p)]),
        ...registrySecretNames(spec),
    ];
    const access = kafkaAccessSecret(spec);
    if (access) names.push(access);
    return [...new Set(names)].sort();
}

export function secretReaderRole(spec: StackSpec) {
    const name = `${spec.connect.name}-connector-secrets`;
    return {
        role: {
            metadata: { name, namespace: spec.namespace, labels: { ...MANAGED_BY_LABELS } },
            // resourceNames pins the Role to these Secrets; a namespace-wide `get` was CVE-2025-66623.
            rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: connectorSecretNames(spec) }],
        },
        binding: {
            metadata: { name, namespace: spec.namespace, labels: { ...MANAGED_BY_LABELS } },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
            subjects: [{ kind: "ServiceAccount", name: connectServiceAccountName(spec.connect.name), namespace: spec.namespace }],
        },
    };
}
