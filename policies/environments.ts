/**
 * The `--policy-pack-config` file of each environment, derived from the stack's environment profile
 * (config/profiles.ts) so the stack and its guardrails share one set of numbers. `npm run policies:config`
 * writes policies/<env>.json from this; a test fails when a shipped file is stale.
 */
import type { EnforcementLevel, PolicyPackConfig } from "@pulumi/policy";
import { POLICIES, riskOf } from "./pack";

/** The fields of config/profiles.ts's EnvironmentProfile the pack uses (structural: the pack imports nothing outside policies/). */
interface ProfileThresholds {
    minimumReplicationFactor: number;
    minInsyncReplicas: number;
    protectStatefulResources: boolean;
    logErrorRecordContents: boolean;
    requireDatabaseEncryption: boolean;
    requireImageDigests: boolean;
    kafkaAuthentication: string;
    requireNetworkPolicies: boolean;
    minimumConnectReplicas: number;
    requireSchemaRegistry: boolean;
    requireSchemaRegistryTls: boolean;
}

/**
 * How strictly an environment is held. Not a profile number but a pack decision: dev reports data-loss and
 * availability rules as advisory (the stack is disposable) and still blocks leaks; prod blocks all of them.
 */
interface Posture {
    all: EnforcementLevel;
    requireHeartbeat: boolean;
}

export const POSTURES: Readonly<Record<string, Posture>> = {
    dev: { all: "advisory", requireHeartbeat: false },
    prod: { all: "mandatory", requireHeartbeat: true },
};

const STRICTEST: Posture = POSTURES.prod;

export function packConfigFor(environment: string, profile: ProfileThresholds): PolicyPackConfig {
    const posture = POSTURES[environment] ?? STRICTEST;
    const config: PolicyPackConfig = {
        all: posture.all,
        "policy-config-matches-stack": { environment },
        "kafka-topic-replication-factor": { minReplicationFactor: profile.minimumReplicationFactor },
        "kafka-topic-min-insync-replicas": { minInsyncReplicas: profile.minInsyncReplicas },
        "kafka-topic-protected": { requireProtect: profile.protectStatefulResources },
        "connector-error-log-redacted": { allowRecordContentsInLogs: profile.logErrorRecordContents },
        "source-database-encryption": { requireEncryption: profile.requireDatabaseEncryption },
        "sink-database-encryption": { requireEncryption: profile.requireDatabaseEncryption },
        "reconciler-database-encryption": { requireEncryption: profile.requireDatabaseEncryption },
        "source-heartbeat": { requireHeartbeat: posture.requireHeartbeat },
        "workload-image-digest": { requireDigest: profile.requireImageDigests },
        "kafka-user-stack-owned": { requireKafkaUser: profile.kafkaAuthentication !== "none" },
        "workload-network-policy": { requireNetworkPolicies: profile.requireNetworkPolicies },
        "connect-disruption-budget": { minReplicas: profile.minimumConnectReplicas },
        "connector-registry-serialization": { requireRegistry: profile.requireSchemaRegistry },
        "connector-registry-tls": { requireTls: profile.requireSchemaRegistryTls },
    };
    for (const policy of POLICIES) {
        // `all` overrides each policy's own level; keep advisory-by-design policies advisory, and leaks blocking.
        const level: EnforcementLevel | undefined =
            policy.enforcementLevel === "advisory" ? "advisory" : riskOf(policy) === "leak" ? "mandatory" : undefined;
        if (level === undefined || level === posture.all) continue;
        const entry = config[policy.name];
        config[policy.name] = entry === undefined ? level : { enforcementLevel: level, ...(typeof entry === "object" ? entry : {}) };
    }
    return config;
}

export function renderPackConfig(environment: string, profile: ProfileThresholds): string {
    return `${JSON.stringify(packConfigFor(environment, profile), null, 4)}\n`;
}
