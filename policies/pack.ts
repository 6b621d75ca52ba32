/**
 * The pack's policies in one list, and the pack-wide enforcement switch (pulumi-policy-aws's AwsGuard
 * pattern): `{ all: "advisory" }` sets every policy's level, a per-policy entry overrides it and may carry
 * that policy's settings. The same shape is what `--policy-pack-config` files use, so a team can keep
 * the switch in code or in the per-environment JSON files shipped next to this file.
 */
import type { EnforcementLevel, PolicyPackConfig, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { connectPluginsPinned, k8sRoleSecretsLeastPrivilege } from "./rules/connect";
import {
    connectorCredentialsByReference,
    connectorErrorLogRedacted,
    connectorTasksMax,
    kafkaConnectorClusterExists,
    kafkaConnectorClusterLabel,
} from "./rules/connectors";
import { capturedTableCoverage } from "./rules/coverage";
import { connectDisruptionBudget, deploymentDisruptionBudget } from "./rules/disruption";
import {
    cronJobConcurrencyForbid,
    cronJobResourceLimits,
    cronJobRunAsNonRoot,
    workloadCredentialsFromSecrets,
    workloadImageDigest,
} from "./rules/cronjob";
import { policyConfigMatchesStack } from "./rules/environment";
import { kafkaAclNoWildcard, kafkaUserStackOwned } from "./rules/kafka-identity";
import { workloadNetworkPolicy } from "./rules/network";
import { postgresqlGrantTargetSchema, postgresqlRoleLeastPrivilege } from "./rules/postgresql";
import { reconcilerDatabaseEncryption } from "./rules/reconciler";
import { connectorRegistrySerialization, connectorRegistryTls } from "./rules/registry";
import {
    sinkDatabaseEncryption,
    sinkDeadLetterQueue,
    sinkDeadLetterTopicExists,
    sinkDeleteRequiresRecordKey,
    sinkTopicsExcludeInternal,
    sinkUpsertPrimaryKey,
} from "./rules/sinks";
import {
    sourceDatabaseEncryption,
    sourceHeartbeat,
    sourceIdentityUnique,
    sourceNoSkippedEvents,
    sourceTombstonesForCompactedTopics,
} from "./rules/sources";
import { sqlServerLeastPrivilege } from "./rules/sqlserver";
import {
    connectInternalTopicsCompacted,
    kafkaTopicMinInsyncReplicas,
    kafkaTopicProtected,
    kafkaTopicReplicationFactor,
    schemaHistoryTopic,
} from "./rules/topics";
import { vaultPolicyCdcReadOnly, vaultPolicyNoWildcardPath } from "./rules/vault";
import { vaultAuthRoleScoped } from "./rules/vault-auth";

export const PACK_NAME = "cdc-pipeline-guardrails";
export const PACK_DESCRIPTION =
    "Production guardrails for the cdc-pipeline stack: no data loss (replication, DLQs, keys, history topics, coverage) and no credential leaks (config-provider references, least-privilege Vault, PostgreSQL and RBAC).";

export type CdcPolicy = ResourceValidationPolicy | StackValidationPolicy;

/** What a violation costs: lost or unverified data, leaked credentials, or stopped replication. Drives the dev posture. */
export type Risk = "data-loss" | "leak" | "availability";

const tagged = <P extends CdcPolicy>(policy: P, risk: Risk): P => ({ ...policy, tags: [risk] });

export const POLICIES: readonly CdcPolicy[] = [
    // Kafka topics
    tagged(kafkaTopicReplicationFactor, "data-loss"),
    tagged(kafkaTopicMinInsyncReplicas, "data-loss"),
    tagged(kafkaTopicProtected, "data-loss"),
    tagged(schemaHistoryTopic, "data-loss"),
    tagged(connectInternalTopicsCompacted, "data-loss"),
    // Connectors
    tagged(kafkaConnectorClusterLabel, "data-loss"),
    tagged(kafkaConnectorClusterExists, "data-loss"),
    tagged(connectorCredentialsByReference, "leak"),
    tagged(connectorTasksMax, "data-loss"),
    tagged(connectorErrorLogRedacted, "leak"),
    tagged(connectorRegistrySerialization, "data-loss"),
    tagged(connectorRegistryTls, "leak"),
    // Sinks
    tagged(sinkDeadLetterQueue, "data-loss"),
    tagged(sinkDeadLetterTopicExists, "data-loss"),
    tagged(sinkUpsertPrimaryKey, "data-loss"),
    tagged(sinkDeleteRequiresRecordKey, "data-loss"),
    tagged(sinkTopicsExcludeInternal, "data-loss"),
    tagged(sinkDatabaseEncryption, "leak"),
    // Sources
    tagged(sourceDatabaseEncryption, "leak"),
    tagged(sourceNoSkippedEvents, "data-loss"),
    tagged(sourceHeartbeat, "data-loss"),
    tagged(sourceTombstonesForCompactedTopics, "data-loss"),
    tagged(sourceIdentityUnique, "data-loss"),
    // Kafka Connect cluster
    tagged(connectPluginsPinned, "leak"),
    tagged(k8sRoleSecretsLeastPrivilege, "leak"),
    tagged(connectDisruptionBudget, "availability"),
    // Kafka identities
    tagged(kafkaUserStackOwned, "leak"),
    tagged(kafkaAclNoWildcard, "leak"),
    // Vault
    tagged(vaultPolicyCdcReadOnly, "leak"),
    tagged(vaultPolicyNoWildcardPath, "leak"),
    tagged(vaultAuthRoleScoped, "leak"),
    // PostgreSQL target
    tagged(postgresqlRoleLeastPrivilege, "leak"),
    tagged(postgresqlGrantTargetSchema, "leak"),
    // SQL Server source
    tagged(sqlServerLeastPrivilege, "leak"),
    // Reconciliation CronJob and workloads
    tagged(cronJobConcurrencyForbid, "data-loss"),
    tagged(cronJobResourceLimits, "data-loss"),
    tagged(cronJobRunAsNonRoot, "leak"),
    tagged(workloadCredentialsFromSecrets, "leak"),
    tagged(workloadImageDigest, "leak"),
    tagged(reconcilerDatabaseEncryption, "leak"),
    tagged(workloadNetworkPolicy, "leak"),
    tagged(deploymentDisruptionBudget, "availability"),
    // Stack
    tagged(capturedTableCoverage, "data-loss"),
    tagged(policyConfigMatchesStack, "data-loss"),
];

export const riskOf = (policy: CdcPolicy): Risk => (policy.tags?.[0] as Risk | undefined) ?? "data-loss";

export function policyNamed(name: string): CdcPolicy {
    const found = POLICIES.find((p) => p.name === name);
    if (!found) throw new Error(`no policy named ${name} in ${PACK_NAME}`);
    return found;
}

export interface ConfiguredPack {
    policies: CdcPolicy[];
    /** Per-policy settings, passed to `new PolicyPack(..., initialConfig)`. */
    initialConfig: PolicyPackConfig;
}

/**
 * Applies `all` and per-policy levels to the policies and collects per-policy settings. Unknown policy
 * names are an error, so a typo cannot silently leave a policy at its default.
 */
export function configurePack(settings: PolicyPackConfig = {}): ConfiguredPack {
    const known = new Set(POLICIES.map((p) => p.name));
    const unknown = Object.keys(settings).filter((k) => k !== "all" && !known.has(k));
    if (unknown.length > 0) throw new Error(`unknown policy name(s) in pack settings: ${unknown.join(", ")}`);
    const all = settings.all as EnforcementLevel | undefined;
    const initialConfig: PolicyPackConfig = {};
    const policies = POLICIES.map((policy) => {
        const entry = settings[policy.name];
        const own = typeof entry === "string" ? entry : entry?.enforcementLevel;
        if (entry !== undefined && typeof entry === "object") {
            const { enforcementLevel: _level, ...rest } = entry;
            if (Object.keys(rest).length > 0) initialConfig[policy.name] = rest;
        }
        return { ...policy, enforcementLevel: own ?? all ?? policy.enforcementLevel };
    });
    return { policies, initialConfig };
}
