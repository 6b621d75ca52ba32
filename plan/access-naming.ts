/**
 * Names of the credential plumbing: Vault paths, policies and auth roles, the Vault Secrets Operator
 * objects, the reconciliation job's objects and SQL Server capture instances. Kept next to naming.ts
 * (connectors, topics, connector Secrets) and decided only here; like those, these names are identity:
 * renaming a Vault path orphans the secret, renaming a capture instance re-creates the change table.
 */
import type { PipelineSpec, ReconcilerSpec, StackSpec, TableSpec } from "../config/spec";

/** The workloads that read credentials from Vault, each with its own policy and auth role. */
export const VAULT_CONSUMERS = ["connect", "reconciler"] as const;
export type VaultConsumer = (typeof VAULT_CONSUMERS)[number];

/** What a credential is for; one KV v2 secret per pipeline and purpose. */
export type CredentialPurpose = "source" | "target" | "target-readonly";

/** Path inside the KV v2 mount (no `data/` prefix): `db/<pipeline>/<purpose>`. */
export const dbSecretPath = (pipeline: PipelineSpec, purpose: CredentialPurpose): string => `db/${pipeline.name}/${purpose}`;
/** The Kafka Connect cluster's SCRAM credential: `kafka/<connect name>`. */
export const kafkaSecretPath = (connectName: string): string => `kafka/${connectName}`;

export const vaultPolicyName = (spec: StackSpec, consumer: VaultConsumer): string => `${spec.vault.namePrefix}-${consumer}`;
/** One Kubernetes auth role per consumer, named like its policy. */
export const vaultAuthRoleName = vaultPolicyName;

export const vaultConnectionName = (spec: StackSpec): string => `${spec.vault.namePrefix}-vault`;
export const vaultAuthName = (spec: StackSpec, consumer: VaultConsumer): string => `${spec.vault.namePrefix}-${consumer}`;

/** The reconciler's own copies of the credentials, synced under its own Vault identity. */
export const reconcilerSourceSecretName = (reconciler: ReconcilerSpec, pipeline: PipelineSpec): string =>
    `${reconciler.name}-${pipeline.name}-source`;
export const reconcilerTargetSecretName = (reconciler: ReconcilerSpec, pipeline: PipelineSpec): string =>
    `${reconciler.name}-${pipeline.name}-target`;
/** The SCRAM password a KafkaUser can take with `spec.authentication.password.valueFrom.secretKeyRef`. */
export const kafkaUserPasswordSecretName = (scramUser: string): string => `${scramUser}-scram-password`;

export const reconcilerServiceAccountName = (reconciler: ReconcilerSpec): string => reconciler.name;
export const reconcilerConfigMapName = (reconciler: ReconcilerSpec): string => `${reconciler.name}-config`;

/** SQL Server's own default capture instance name, spelled out so it never depends on a server default. */
export const captureInstanceName = (table: TableSpec): string => `${table.schema}_${table.table}`;

/** A database server in resource names: its host, and the port when it is not the engine's default. */
export const serverKey = (host: string, port: number, defaultPort: number): string =>
    (port === defaultPort ? host : `${host}-${port}`).toLowerCase().replace(/[^a-z0-9.-]+/g, "-");

/** Where Pulumi connects to prepare a server: its admin endpoint from config, or the address the pipeline uses. */
export function adminEndpoint(adminHosts: Record<string, string>, host: string, port: number): { host: string; port: number } {
    const override = adminHosts[host];
    if (!override) return { host, port };
    const [h, p] = override.split(":");
    return { host: h, port: p ? Number(p) : port };
}
