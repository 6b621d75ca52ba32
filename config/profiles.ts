import type { Environment, EnvironmentProfile } from "../model/environment";

/**
 * Environment profiles: the only place where per-environment numbers are decided. The config layer
 * fills pipeline defaults from here, the topic plan reads the resolved values, and the policy pack's
 * shipped thresholds are generated from the same table, so code and guardrails cannot drift apart.
 */

export const PROFILES: Readonly<Record<Environment, EnvironmentProfile>> = {
    dev: {
        replicationFactor: 1,
        minInsyncReplicas: 1,
        minimumReplicationFactor: 1,
        connectReplicas: 1,
        minimumConnectReplicas: 1,
        kafkaAuthentication: "none",
        requireNetworkPolicies: false,
        protectStatefulResources: false,
        logErrorRecordContents: true,
        requireKafkaTls: false,
        requireVaultTls: false,
        expectVerifiedCopies: false,
        requireDatabaseEncryption: false,
        requireImageDigests: false,
        alertSeverity: "warning",
        lakehouseRetentionHours: 1,
        lakehouseMaintenanceSchedule: "20 * * * *",
        requireObjectStorageTls: false,
        requireSchemaRegistry: false,
        requireSchemaRegistryTls: false,
        requireSchemaRegistryAuthentication: false,
    },
    prod: {
        replicationFactor: 3,
        minInsyncReplicas: 2,
        minimumReplicationFactor: 3,
        connectReplicas: 2,
        minimumConnectReplicas: 2,
        kafkaAuthentication: "scram-sha-512",
        requireNetworkPolicies: true,
        protectStatefulResources: true,
        logErrorRecordContents: false,
        requireKafkaTls: true,
        requireVaultTls: true,
        expectVerifiedCopies: true,
        requireDatabaseEncryption: true,
        requireImageDigests: true,
        alertSeverity: "critical",
        lakehouseRetentionHours: 168,
        lakehouseMaintenanceSchedule: "20 3 * * *",
        requireObjectStorageTls: true,
        requireSchemaRegistry: true,
        requireSchemaRegistryTls: true,
        requireSchemaRegistryAuthentication: true,
    },
};

export function profileFor(environment: Environment): EnvironmentProfile {
    return PROFILES[environment];
}
