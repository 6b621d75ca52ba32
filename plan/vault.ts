/**
 * Vault side of the credentials: which KV v2 secrets exist, who reads which, the policies rendered
 * from a typed description, the Kubernetes auth roles, and the Vault Secrets Operator objects that
 * copy each secret into the Kubernetes Secret a workload reads. Plain objects; components/ creates them.
 *
 * Layout: one KV v2 secret per pipeline and purpose (`db/<pipeline>/source`, `db/<pipeline>/target`,
 * `db/<pipeline>/target-readonly`), each holding the keys a consumer needs (host, port, username,
 * password). Connect's Kafka password is not here: Strimzi's User Operator owns it in the Kafka cluster's
 * namespace, and a KafkaAccess (plan/connect-cluster.ts) brings it to Connect. The seed's one-value-per-path
 * layout (`secret/db/sqlserver_password`) cannot be synced: the operator maps one Vault secret to one
 * Kubernetes Secret, and the connectors read one Secret per credential with `username` and `password`.
 * The lakehouse writers add `db/<lakehouse.name>/iceberg-catalog` (the catalog role the stack creates) and read
 * the object-storage keys at `lakehouse.storage.credentialsPath`, which the bucket's owner writes, not the stack.
 */
import type { StackSpec } from "../model/spec";
import { MANAGED_BY_LABELS } from "./connect-cluster";
import {
    connectServiceAccountName,
    icebergCatalogSecretPath,
    lakehouseCatalogSecretName,
    lakehouseObjectStorageSecretName,
    lakehouseServiceAccountName,
    sinkCredentialsSecretName,
    sourceCredentialsSecretName,
} from "../model/naming";
import {
    CredentialPurpose,
    dbSecretPath,
    reconcilerServiceAccountName,
    reconcilerSourceSecretName,
    reconcilerTargetSecretName,
    VAULT_CONSUMERS,
    VaultConsumer,
    vaultAuthName,
    vaultAuthRoleName,
    vaultConnectionName,
    vaultPolicyName,
} from "../model/naming";
import { sourceUrlTemplates, targetUrlTemplates } from "./reconciler-job";
import { registryCredentialSyncs } from "./schema-registry";

const VSO_API_VERSION = "secrets.hashicorp.com/v1beta1";
/** Audience of the service account tokens the operator presents; the auth roles accept only this one. */
const VAULT_TOKEN_AUDIENCE = "vault";

// ---------------------------------------------------------------------------------------------
// Secrets

/** Where a secret's password comes from. Generated passwords belong to the login the stack creates. */
type PasswordSource =
    | { kind: "sqlserver-login"; login: string }
    | { kind: "postgres-role"; role: string }
    /** A source whose login the stack does not create: `cdc-pipeline:sourcePasswords.<pipeline>` (secret config). */
    | { kind: "config"; pipeline: string };

export interface VaultSecretPlan {
    /** Path inside the mount, without the KV v2 `data/` segment. */
    path: string;
    /** None for the lakehouse writers' shared Iceberg catalog credentials. */
    pipeline?: string;
    purpose: CredentialPurpose;
    /** Non-secret fields written next to the password. */
    fields: Record<string, string>;
    password: PasswordSource;
}

export function planVaultSecrets(spec: StackSpec): VaultSecretPlan[] {
    const secrets: VaultSecretPlan[] = [];
    for (const pipeline of spec.pipelines) {
        const { source, sink } = pipeline;
        secrets.push({
            path: dbSecretPath(pipeline, "source"),
            pipeline: pipeline.name,
            purpose: "source",
            fields: { host: source.host, port: String(source.port), username: source.username },
            password:
                source.kind === "sqlserver"
                    ? { kind: "sqlserver-login", login: source.username }
                    : { kind: "config", pipeline: pipeline.name },
        });
        secrets.push({
            path: dbSecretPath(pipeline, "target"),
            pipeline: pipeline.name,
            purpose: "target",
            fields: { host: sink.host, port: String(sink.port), username: sink.username },
            password: { kind: "postgres-role", role: sink.username },
        });
        if (spec.reconciler) {
            secrets.push({
                path: dbSecretPath(pipeline, "target-readonly"),
                pipeline: pipeline.name,
                purpose: "target-readonly",
                fields: { host: sink.host, port: String(sink.port), username: sink.readOnlyUsername },
                password: { kind: "postgres-role", role: sink.readOnlyUsername },
            });
        }
    }
    const catalog = spec.lakehouse?.catalog;
    if (catalog) {
        secrets.push({
            path: icebergCatalogSecretPath(spec.lakehouse!),
            purpose: "iceberg-catalog",
            fields: { host: catalog.host, port: String(catalog.port), username: catalog.username },
            password: { kind: "postgres-role", role: catalog.username },
        });
    }
    return secrets;
}

/** Which Kubernetes Secret each consumer gets from which Vault secret. Policies are derived from this. */
interface SecretSyncPlan {
    consumer: VaultConsumer;
    /** Destination Kubernetes Secret. */
    secretName: string;
    /** Vault path inside the mount. */
    path: string;
    /** None for Secrets every lakehouse writer shares. */
    pipeline?: string;
    /** Keys rendered from the secret's fields (Go templates); when set, only these keys reach the Secret. */
    templates?: Record<string, string>;
}

export function planSecretSyncs(spec: StackSpec): SecretSyncPlan[] {
    const syncs: SecretSyncPlan[] = [];
    for (const pipeline of spec.pipelines) {
        syncs.push(
            {
                consumer: "connect",
                secretName: sourceCredentialsSecretName(pipeline),
                path: dbSecretPath(pipeline, "source"),
                pipeline: pipeline.name,
            },
            {
                consumer: "connect",
                secretName: sinkCredentialsSecretName(pipeline),
                path: dbSecretPath(pipeline, "target"),
                pipeline: pipeline.name,
            },
        );
    }
    // The schema registry's logins belong to whoever runs the registry: the stack reads them, never writes them.
    for (const sync of registryCredentialSyncs(spec)) syncs.push({ consumer: "connect", ...sync });
    if (spec.reconciler) {
        const reconciler = spec.reconciler;
        for (const pipeline of spec.pipelines) {
            syncs.push(
                {
                    consumer: "reconciler",
                    secretName: reconcilerSourceSecretName(reconciler, pipeline),
                    path: dbSecretPath(pipeline, "source"),
                    pipeline: pipeline.name,
                    templates: sourceUrlTemplates(spec, pipeline),
                },
                {
                    consumer: "reconciler",
                    secretName: reconcilerTargetSecretName(reconciler, pipeline),
                    path: dbSecretPath(pipeline, "target-readonly"),
                    pipeline: pipeline.name,
                    templates: targetUrlTemplates(spec, pipeline),
                },
            );
        }
    }
    const lakehouse = spec.lakehouse;
    if (lakehouse) {
        // The object-storage keys belong to whoever owns the bucket: the stack reads them from Vault, never writes them.
        syncs.push({
            consumer: "lakehouse",
            secretName: lakehouseObjectStorageSecretName(lakehouse),
            path: lakehouse.storage.credentialsPath,
        });
        if (lakehouse.catalog)
            syncs.push({
                consumer: "lakehouse",
                secretName: lakehouseCatalogSecretName(lakehouse),
                path: icebergCatalogSecretPath(lakehouse),
            });
    }
    return syncs;
}

export function consumersOf(spec: StackSpec): VaultConsumer[] {
    return VAULT_CONSUMERS.filter(
        (consumer) => consumer === "connect" || (consumer === "reconciler" ? spec.reconciler : spec.lakehouse) !== undefined,
    );
}

// ---------------------------------------------------------------------------------------------
// Policies

type Capability = "create" | "read" | "update" | "patch" | "delete" | "list" | "sudo" | "deny" | "subscribe";
const WRITE_CAPABILITIES: readonly Capability[] = ["create", "update", "patch", "delete"];

interface PolicyRule {
    /** Full API path including the mount and, for KV v2, the `data/` or `metadata/` segment. */
    path: string;
    capabilities: Capability[];
    /** Rendered as the rule's `comment`, a key Vault's policy parser accepts and ignores, so `vault policy read` shows it. */
    description?: string;
}

export interface VaultPolicyPlan {
    name: string;
    consumer: VaultConsumer;
    rules: PolicyRule[];
}

/**
 * Read on exactly the secrets the consumer's Kubernetes Secrets are synced from, on the KV v2 API paths
 * (`<mount>/data/<path>`; the seed's `secret/db/*` grants nothing on a v2 mount). No `metadata/` list:
 * no consumer lists secrets.
 */
export function planVaultPolicies(spec: StackSpec): VaultPolicyPlan[] {
    const syncs = planSecretSyncs(spec);
    return consumersOf(spec).map((consumer) => {
        const byPath = new Map<string, string[]>();
        for (const s of syncs.filter((x) => x.consumer === consumer)) {
            byPath.set(s.path, [...(byPath.get(s.path) ?? []), s.secretName]);
        }
        const rules = [...byPath.entries()]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([path, secrets]): PolicyRule => ({
                path: `${spec.vault.kvMount}/data/${path}`,
                capabilities: ["read"],
                description: `synced to Secret ${secrets.join(", ")}`,
            }));
        return { name: vaultPolicyName(spec, consumer), consumer, rules };
    });
}

/**
 * The policy as a JSON document, which Vault's policy parser reads like HCL (text starting with `{` is JSON to it):
 * `{"path": {"<path>": {"capabilities": [...], "comment": "..."}}}`. JSON needs no renderer of its own and every
 * reader (the policy pack, the tests) parses it with JSON.parse.
 */
export function renderPolicyJson(policy: VaultPolicyPlan): string {
    const path = Object.fromEntries(
        policy.rules.map((rule) => [
            rule.path,
            { capabilities: rule.capabilities, ...(rule.description ? { comment: rule.description } : {}) },
        ]),
    );
    return `${JSON.stringify({ path }, null, 2)}\n`;
}

/**
 * Least-privilege guard applied before a policy is created: no `sudo`, no write capability on a glob
 * path, nothing outside the KV mount's data paths, and (for these consumers) nothing but read.
 */
export function policyProblems(policy: VaultPolicyPlan, kvMount: string): string[] {
    const problems: string[] = [];
    for (const rule of policy.rules) {
        const glob = /[*+]/.test(rule.path);
        if (rule.capabilities.includes("sudo")) problems.push(`${policy.name}: ${rule.path} grants sudo`);
        const writes = rule.capabilities.filter((c) => WRITE_CAPABILITIES.includes(c));
        if (glob && writes.length > 0) problems.push(`${policy.name}: ${rule.path} grants ${writes.join(", ")} on a wildcard path`);
        if (writes.length > 0) problems.push(`${policy.name}: ${rule.path} grants ${writes.join(", ")}; consumers only read`);
        if (!rule.path.startsWith(`${kvMount}/data/`))
            problems.push(`${policy.name}: ${rule.path} is not a KV v2 data path under ${kvMount}/`);
        if (rule.path === `${kvMount}/data/*` || rule.path === `${kvMount}/*`)
            problems.push(`${policy.name}: ${rule.path} opens the whole mount`);
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------
// Kubernetes auth roles

interface KubernetesAuthRolePlan {
    consumer: VaultConsumer;
    roleName: string;
    serviceAccount: string;
    namespace: string;
    policies: string[];
    audience: string;
    tokenTtlSeconds: number;
}

export function serviceAccountOf(spec: StackSpec, consumer: VaultConsumer): string {
    if (consumer === "connect") return connectServiceAccountName(spec.connect.name);
    if (consumer === "lakehouse") {
        if (!spec.lakehouse) throw new Error("no lakehouse configured");
        return lakehouseServiceAccountName(spec.lakehouse);
    }
    if (!spec.reconciler) throw new Error("no reconciler configured");
    return reconcilerServiceAccountName(spec.reconciler);
}

export function planKubernetesAuthRoles(spec: StackSpec): KubernetesAuthRolePlan[] {
    return consumersOf(spec).map((consumer) => ({
        consumer,
        roleName: vaultAuthRoleName(spec, consumer),
        serviceAccount: serviceAccountOf(spec, consumer),
        namespace: spec.namespace,
        policies: [vaultPolicyName(spec, consumer)],
        audience: VAULT_TOKEN_AUDIENCE,
        tokenTtlSeconds: spec.vault.tokenTtlSeconds,
    }));
}

// ---------------------------------------------------------------------------------------------
// Vault Secrets Operator objects

interface Meta {
    name: string;
    namespace: string;
    labels: Record<string, string>;
}

export interface VsoObject<K extends string> {
    apiVersion: typeof VSO_API_VERSION;
    kind: K;
    metadata: Meta;
    spec: Record<string, unknown>;
}

const meta = (spec: StackSpec, name: string, extra: Record<string, string> = {}): Meta => ({
    name,
    namespace: spec.namespace,
    labels: { ...MANAGED_BY_LABELS, ...extra },
});

export function vaultConnectionBody(spec: StackSpec): VsoObject<"VaultConnection"> {
    return {
        apiVersion: VSO_API_VERSION,
        kind: "VaultConnection",
        metadata: meta(spec, vaultConnectionName(spec)),
        spec: {
            address: spec.vault.address,
            skipTLSVerify: false,
            ...(spec.vault.caCertSecret ? { caCertSecretRef: spec.vault.caCertSecret } : {}),
        },
    };
}

export function vaultAuthBody(spec: StackSpec, consumer: VaultConsumer): VsoObject<"VaultAuth"> {
    return {
        apiVersion: VSO_API_VERSION,
        kind: "VaultAuth",
        metadata: meta(spec, vaultAuthName(spec, consumer), { "cdc.pipeline/consumer": consumer }),
        spec: {
            vaultConnectionRef: vaultConnectionName(spec),
            method: "kubernetes",
            mount: spec.vault.kubernetesAuthMount,
            kubernetes: {
                role: vaultAuthRoleName(spec, consumer),
                serviceAccount: serviceAccountOf(spec, consumer),
                audiences: [VAULT_TOKEN_AUDIENCE],
                tokenExpirationSeconds: 600,
            },
        },
    };
}

export function vaultStaticSecretBody(spec: StackSpec, sync: SecretSyncPlan): VsoObject<"VaultStaticSecret"> {
    const labels = { "cdc.pipeline/consumer": sync.consumer, ...(sync.pipeline ? { "cdc.pipeline/name": sync.pipeline } : {}) };
    return {
        apiVersion: VSO_API_VERSION,
        kind: "VaultStaticSecret",
        metadata: meta(spec, sync.secretName, labels),
        spec: {
            vaultAuthRef: vaultAuthName(spec, sync.consumer),
            mount: spec.vault.kvMount,
            type: "kv-v2",
            path: sync.path,
            refreshAfter: spec.vault.refreshAfter,
            hmacSecretData: true,
            destination: {
                name: sync.secretName,
                create: true,
                // Never take over a Secret someone else created under this name.
                overwrite: false,
                labels: { ...MANAGED_BY_LABELS, ...labels },
                ...(sync.templates
                    ? {
                          transformation: {
                              excludeRaw: true,
                              templates: Object.fromEntries(Object.entries(sync.templates).map(([key, text]) => [key, { text }])),
                          },
                      }
                    : {}),
            },
        },
    };
}
