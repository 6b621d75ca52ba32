/**
 * The enumerated option values this stack accepts for Debezium settings, per source kind, as the
 * Debezium 3.6 connectors define them. Kept in code because the program must not need the plugin jars;
 * the contract tests check each list against the catalogs derived from those jars at setup.
 */

import type { MySqlSourceSpec, SourceSpec } from "./spec";

export const SOURCE_KINDS = ["sqlserver", "postgres", "mysql", "mariadb"] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** MySQL and MariaDB: the same binlog capture, database.table naming and server ids; separate Debezium connectors. */
export type MySqlFamilyKind = "mysql" | "mariadb";
export const isMySqlFamily = (kind: SourceKind): kind is MySqlFamilyKind => kind === "mysql" || kind === "mariadb";
export const isMySqlFamilySource = (source: SourceSpec): source is MySqlSourceSpec => isMySqlFamily(source.kind);

export const SNAPSHOT_MODES: Readonly<Record<SourceKind, readonly string[]>> = {
    sqlserver: [
        "initial",
        "initial_only",
        "no_data",
        "recovery",
        "when_needed",
        "configuration_based",
        "custom",
        "always",
        "when_needed_no_data",
    ],
    postgres: ["initial", "initial_only", "no_data", "when_needed", "configuration_based", "custom", "always"],
    mysql: ["initial", "initial_only", "no_data", "recovery", "when_needed", "configuration_based", "custom", "always"],
    mariadb: ["initial", "initial_only", "no_data", "recovery", "when_needed", "configuration_based", "custom", "always"],
};

/** Values the seeds or older Debezium releases used, with what to write instead. */
export const RENAMED_SNAPSHOT_MODES: Readonly<Record<string, string>> = {
    schema_only: 'renamed to "no_data" in Debezium 2.6 and removed in 3.3',
    schema_only_recovery: 'renamed to "recovery" in Debezium 2.6 and removed in 3.3',
    no_snapshot: 'never existed in Debezium; use "no_data" to skip copying existing rows',
    never: 'removed in Debezium 3.x; use "no_data"',
};

export const SQLSERVER_SNAPSHOT_ISOLATION_MODES = [
    "snapshot",
    "exclusive",
    "repeatable_read",
    "read_committed",
    "read_uncommitted",
] as const;
export const DECIMAL_HANDLING_MODES = ["precise", "string", "double"] as const;
export const TIME_PRECISION_MODES = [
    "adaptive",
    "adaptive_time_microseconds",
    "isostring",
    "connect",
    "microseconds",
    "nanoseconds",
] as const;

export const SINK_IMPLEMENTATIONS = ["debezium", "confluent"] as const;
export type SinkImplementation = (typeof SINK_IMPLEMENTATIONS)[number];
export const INSERT_MODES = ["insert", "upsert", "update"] as const;
export const PRIMARY_KEY_MODES = ["none", "kafka", "record_key", "record_value"] as const;
export const ERRORS_TOLERANCE = ["none", "all"] as const;
export const CONNECTOR_STATES = ["running", "paused", "stopped"] as const;
export type ConnectorState = (typeof CONNECTOR_STATES)[number];
