/**
 * What an Avro stack needs around its connectors: the converter plugin in the Connect image (and the plugin
 * discovery mode that finds it), the registry truststore in the Connect pods, the registry logins' Secrets, and the
 * compatibility rule of every subject, as HTTP requests both `pulumi up` (components/schema-registry-rules.ts) and the
 * sandbox send. Plain data; nothing here talks to a registry.
 */
import * as fs from "fs";
import * as path from "path";
import type { StackSpec } from "../model/spec";
import { dataTopicName, dlqStateTopicName } from "../model/naming";
import {
    CompatibilityLevel,
    keySubject,
    REGISTRY_TRUSTSTORE_KEYS,
    registryCredentialsSecretName,
    valueSubject,
} from "../model/schema-registry";
import { AVRO_CONVERTER } from "../connectors/converters";

const usesRegistry = (spec: StackSpec): boolean => spec.serialization === "avro" && spec.schemaRegistry !== undefined;

/** KafkaConnect `spec.build.plugins` entries for the converters in use: a Maven build, pinned to a release. */
export function converterBuildPlugins(spec: StackSpec): { name: string; artifacts: Record<string, string>[] }[] {
    if (!usesRegistry(spec)) return [];
    const { groupId, artifactId, version } = AVRO_CONVERTER.artifact;
    // Strimzi's Maven build copies the converter's runtime dependencies too, Kafka's own jars among them. Those stay
    // unused: Connect loads org.apache.kafka classes from the worker, except JsonConverter and a few others, whose
    // older copy in this folder would serve only this plugin's own classes.
    return [{ name: AVRO_CONVERTER.id, artifacts: [{ type: "maven", group: groupId, artifact: artifactId, version }] }];
}

/**
 * Kafka Connect's `plugin.discovery`, pinned where a plugin in the image has no ServiceLoader manifest: hybrid_warn
 * (Kafka 4.x's default, which a later release plans to replace with service_load) also scans the plugin folders for
 * classes, so the converter is found; the worker logs a warning naming it. Unset otherwise.
 */
export function pluginDiscovery(spec: StackSpec): Record<string, string> {
    return usesRegistry(spec) && !AVRO_CONVERTER.serviceManifest ? { "plugin.discovery": "hybrid_warn" } : {};
}

const TRUSTSTORE_VOLUME = "schema-registry-truststore";
const TRUSTSTORE_DIR = "/opt/kafka/schema-registry-truststore";

/** The registry truststore mounted into the Connect pods, and where the converters read it. */
export function registryTruststoreMount(
    spec: StackSpec,
): { volume: Record<string, unknown>; volumeMount: Record<string, unknown>; file: string } | undefined {
    const secretName = spec.schemaRegistry?.truststoreSecret;
    if (!usesRegistry(spec) || !secretName) return undefined;
    return {
        volume: {
            name: TRUSTSTORE_VOLUME,
            secret: { secretName, items: [{ key: REGISTRY_TRUSTSTORE_KEYS.truststore, path: REGISTRY_TRUSTSTORE_KEYS.truststore }] },
        },
        volumeMount: { name: TRUSTSTORE_VOLUME, mountPath: TRUSTSTORE_DIR, readOnly: true },
        file: `${TRUSTSTORE_DIR}/${REGISTRY_TRUSTSTORE_KEYS.truststore}`,
    };
}

/** Secrets Connect's config provider reads for the converters: both logins, and the truststore's password. */
export function registrySecretNames(spec: StackSpec): string[] {
    const registry = spec.schemaRegistry;
    if (!usesRegistry(spec) || !registry) return [];
    return [
        ...(registry.authentication === "basic"
            ? [registryCredentialsSecretName(spec.connect.name, "writer"), registryCredentialsSecretName(spec.connect.name, "reader")]
            : []),
        ...(registry.truststoreSecret ? [registry.truststoreSecret] : []),
    ];
}

/** Vault → Secret syncs of the logins Connect's converters use (plan/vault.ts adds them to Connect's). */
export function registryCredentialSyncs(spec: StackSpec): { secretName: string; path: string }[] {
    const credentials = spec.schemaRegistry?.credentials;
    if (!usesRegistry(spec) || !credentials) return [];
    return [
        { secretName: registryCredentialsSecretName(spec.connect.name, "writer"), path: credentials.writerPath },
        { secretName: registryCredentialsSecretName(spec.connect.name, "reader"), path: credentials.readerPath },
    ];
}

// ---------------------------------------------------------------------------------------------
// Compatibility rules

export interface SubjectRule {
    subject: string;
    compatibility: CompatibilityLevel;
    /** For messages: where the rule comes from. */
    pipeline: string;
    table: string;
}

/** The key and value subject of every captured table, with the table's rule or the registry's default. */
export function plannedSubjectRules(spec: StackSpec): SubjectRule[] {
    const registry = spec.schemaRegistry;
    if (!usesRegistry(spec) || !registry) return [];
    return spec.pipelines.flatMap((pipeline) =>
        pipeline.source.tables.flatMap((table) => {
            const topic = dataTopicName(pipeline.source, table);
            const compatibility = table.compatibility ?? registry.compatibility;
            const where = { pipeline: pipeline.name, table: `${table.schema}.${table.table}` };
            return [keySubject(topic), valueSubject(topic)].map((subject) => ({ subject, compatibility, ...where }));
        }),
    );
}

export interface RegistryRequest {
    method: "GET" | "PUT" | "POST";
    url: string;
    headers: Record<string, string>;
    body?: string;
}

const CCOMPAT_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

/**
 * Through the Confluent-compatible API (`/apis/ccompat/v7/config/<subject>`), because it takes a subject's rule
 * before the subject exists: Apicurio 3.3.3 keeps it and makes it the artifact's COMPATIBILITY rule when the source
 * first registers (tried here against the real server). Its core v3 API only sets rules on an existing artifact, and
 * an artifact created empty to carry one makes the 2.6 converter's first registration fail (404, no version).
 */
export function putCompatibilityRequest(adminUrl: string, subject: string, level: CompatibilityLevel): RegistryRequest {
    return {
        method: "PUT",
        url: `${adminUrl}/apis/ccompat/v7/config/${encodeURIComponent(subject)}`,
        headers: { "Content-Type": CCOMPAT_CONTENT_TYPE, Accept: "application/json" },
        body: JSON.stringify({ compatibility: level }),
    };
}

/** Answers `{"compatibilityLevel": "BACKWARD"}`, or 404 when neither the subject nor a rule exists. */
export function getCompatibilityRequest(adminUrl: string, subject: string): RegistryRequest {
    return {
        method: "GET",
        url: `${adminUrl}/apis/ccompat/v7/config/${encodeURIComponent(subject)}`,
        headers: { Accept: "application/json" },
    };
}

/** Basic authentication for the requests, when the registry asks for a login. */
export function withBasicAuth(request: RegistryRequest, login?: { username: string; password: string }): RegistryRequest {
    if (!login) return request;
    const token = Buffer.from(`${login.username}:${login.password}`, "utf8").toString("base64");
    return { ...request, headers: { ...request.headers, Authorization: `Basic ${token}` } };
}

// ---------------------------------------------------------------------------------------------
// The DeadLetterRecord schema of the sinks' state topics

/** The schema the ops CLI writes dead letters' resolution state with (ops/dlq-avro.ts reads the same file). */
export const DEAD_LETTER_SCHEMA_FILE = path.join(__dirname, "..", "ops", "schemas", "dead-letter-record.avsc");

export interface DeadLetterSubject {
    sink: string;
    stateTopic: string;
    subject: string;
}

/** `<state topic>-value` of every sink with a dead letter queue, on an Avro stack; none on a JSON one. */
export function plannedDeadLetterSubjects(spec: StackSpec): DeadLetterSubject[] {
    if (!usesRegistry(spec)) return [];
    return spec.pipelines
        .filter((p) => p.sink.deadLetterQueue)
        .map((p) => {
            const stateTopic = dlqStateTopicName(p.sink.connectorName);
            return { sink: p.sink.connectorName, stateTopic, subject: valueSubject(stateTopic) };
        });
}

/**
 * The schema text as it is registered and later looked up: compact JSON, so the file's formatting never makes the
 * registry see a new schema.
 */
export const registeredSchemaText = (avsc: string): string => JSON.stringify(JSON.parse(avsc));

/** The DeadLetterRecord schema as the registry holds it: what `pulumi up` and a sandbox register and the ops CLI looks up. */
export const deadLetterSchemaText = (): string => registeredSchemaText(fs.readFileSync(DEAD_LETTER_SCHEMA_FILE, "utf8"));

const ccompatSubject = (baseUrl: string, subject: string) => `${baseUrl}/apis/ccompat/v7/subjects/${encodeURIComponent(subject)}`;

/** Registers a schema under a subject (a new version only when it differs); answers `{"id": <schema id>}`. */
export function registerSchemaRequest(baseUrl: string, subject: string, schema: string): RegistryRequest {
    return {
        method: "POST",
        url: `${ccompatSubject(baseUrl, subject)}/versions`,
        headers: { "Content-Type": CCOMPAT_CONTENT_TYPE, Accept: "application/json" },
        body: JSON.stringify({ schemaType: "AVRO", schema }),
    };
}

/** Whether a subject holds a schema: `{"id", "version", ...}`, or 404 when the subject or the schema is missing. */
export function lookupSchemaRequest(baseUrl: string, subject: string, schema: string): RegistryRequest {
    return {
        method: "POST",
        url: ccompatSubject(baseUrl, subject),
        headers: { "Content-Type": CCOMPAT_CONTENT_TYPE, Accept: "application/json" },
        body: JSON.stringify({ schemaType: "AVRO", schema }),
    };
}
