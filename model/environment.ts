/** The environments a stack may name and the per-environment switches each profile (config/profiles.ts) sets. */

import type { KafkaAuthentication } from "./strimzi";

export const ENVIRONMENTS = ["dev", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export interface EnvironmentProfile {
    /** Replication factor of every topic this stack creates, Connect's internal topics included. */
    replicationFactor: number;
    /** Must stay below the replication factor, or a single broker loss stops every acks=all write. */
    minInsyncReplicas: number;
    /** The smallest replication factor a pipeline override may ask for. */
    minimumReplicationFactor: number;
    /** Kafka Connect worker pods; more than one gives failover without waiting for a reschedule. */
    connectReplicas: number;
    /**
     * The fewest Connect workers a stack may run. With two or more, Connect's PodDisruptionBudget lets a node drain
     * evict one worker at a time and the connectors move to the others; with one, a drain stops replication.
     */
    minimumConnectReplicas: number;
    /** Prod topics and connectors survive `pulumi destroy` and accidental deletes. */
    protectStatefulResources: boolean;
    /** Logging record contents to Connect's log leaks row data (PII) into log pipelines. */
    logErrorRecordContents: boolean;
    /**
     * How the stack's workloads authenticate to Kafka, each as a KafkaUser the stack creates with ACLs for exactly its
     * topics and groups. `none` only where the cluster's listener has no authentication (a dev cluster); where the
     * profile authenticates, a stack may choose SCRAM or mutual TLS but not turn authentication off.
     */
    kafkaAuthentication: KafkaAuthentication;
    /**
     * NetworkPolicies limit the pods the stack runs (reconciler, lakehouse writers and their maintenance) to the
     * databases, Kafka and endpoints they use. Where required, a stack may not turn them off.
     */
    requireNetworkPolicies: boolean;
    /** Change events carry row data: TLS to Kafka (`kafka.tls`). */
    requireKafkaTls: boolean;
    /** The Vault Secrets Operator fetches database passwords over this connection: an https `vault.address`. */
    requireVaultTls: boolean;
    /**
     * Warn when nothing proves the copy right: no reconciliation job, no heartbeats on quiet sources (their stored
     * offsets age out of the log), reconciliation reports that vanish with the job's pod.
     */
    expectVerifiedCopies: boolean;
    /** TLS to the source database; dev servers commonly run with self-signed certificates. */
    requireDatabaseEncryption: boolean;
    /** Images of the workloads the stack runs are named by digest: a tag can be moved under a running CronJob. */
    requireImageDigests: boolean;
    /** `severity` label of the stack's alerts: prod pages, dev only notifies. */
    alertSeverity: "warning" | "critical";
    /**
     * How long the lakehouse maintenance keeps superseded data files and snapshots (seed 004 §9.3: 7 days, 1 hour
     * for a demo). It bounds time travel and the change data feed, and must outlast the slowest reader of a snapshot.
     */
    lakehouseRetentionHours: number;
    /** When the lakehouse maintenance CronJob runs: hourly matches dev's one-hour retention, prod's runs nightly. */
    lakehouseMaintenanceSchedule: string;
    /** An object-storage endpoint other than https (a dev MinIO) would carry table data and signed requests in clear. */
    requireObjectStorageTls: boolean;
    /**
     * Change events carry a schema the registry holds and enforces (`serialization: avro`): a JSON record embeds its
     * own schema, which nothing checks against the previous one, so an incompatible change reaches every reader.
     */
    requireSchemaRegistry: boolean;
    /** The converters send schemas and registry credentials: an https `schemaRegistry.url` with a truststore. */
    requireSchemaRegistryTls: boolean;
    /** A registry anyone can write to lets anyone change what the readers accept: `schemaRegistry.authentication` basic. */
    requireSchemaRegistryAuthentication: boolean;
}
