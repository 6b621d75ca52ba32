/**
 * Seed 000 §7's Schema Evolution Event, and the column model the detector compares. Pure types and one pure id
 * function; nothing here reads Kafka or a file.
 */
import { createHash } from "crypto";

export const CHANGE_TYPES = ["ADD_COLUMN", "DROP_COLUMN", "MODIFY_COLUMN", "RENAME_COLUMN"] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

export const HANDLING_STATUSES = ["AUTO_APPLIED", "PENDING_REVIEW", "FAILED", "MANUAL_REQUIRED"] as const;
export type HandlingStatus = (typeof HANDLING_STATUSES)[number];

/** What the sink connector does on the change. PAUSED is in the seed's enum, but nothing pauses by itself on a schema change. */
export type ConnectorAction = "CONTINUED" | "PAUSED" | "ERRORED";

/**
 * One column as the change events' value schema describes it (Kafka Connect JsonConverter with schemas, and
 * Debezium's `column.propagate.source.type` parameters, which the stack's source connectors set for every column).
 */
export interface ColumnSchema {
    name: string;
    /** Kafka Connect schema type: int32, string, bytes, ... */
    connectType: string;
    /** Connect logical type name (org.apache.kafka.connect.data.Decimal, io.debezium.time.MicroTimestamp, ...). */
    logicalType?: string;
    optional: boolean;
    /** The column default as JSON text, when the schema carries one. */
    defaultValue?: string;
    /** The source database's type name (`__debezium.source.column.type`), e.g. VARCHAR, TEXT, INT4. */
    sourceType?: string;
    /** `__debezium.source.column.length`: characters for strings, precision for numerics. */
    length?: number;
    /** `__debezium.source.column.scale`. */
    scale?: number;
}

/** A table's columns in the order the source lists them (the order is what tells a rename from a drop and an add). */
export type TableColumns = readonly ColumnSchema[];

export interface ChangeDetails {
    column_name: string;
    /** For a rename, the column's name before it. */
    old_column_name?: string;
    old_type: string | null;
    new_type: string | null;
    nullable: boolean;
    default_value: string | null;
}

/** Seed 000 §7, plus `reason` (why this handling status) and `source_position` (where in the topic it was seen). */
export interface SchemaEvolutionEvent {
    event_id: string;
    detected_at: string;
    source_table: string;
    change_type: ChangeType;
    change_details: ChangeDetails;
    handling_status: HandlingStatus;
    connector_action: ConnectorAction;
    alert_sent: boolean;
    pipeline: string;
    /** What the sink does with the change and what, if anything, the operator must do. */
    reason: string;
    /** The first change event carrying the new schema. */
    source_position: { topic: string; partition: number; offset: string };
}

/**
 * A name-based UUID (version 5 layout over SHA-1) of where the change was first seen and what it is: the same
 * change re-read after a restart gets the same id, so the log never holds it twice (a random v4 id could not
 * deduplicate; see the seeds' ERRATA on event ids).
 */
export function schemaEventId(topic: string, partition: number, offset: string, changeType: ChangeType, column: string): string {
    const hash = createHash("sha1")
        .update(`cdc-schema-event\u0000${topic}\u0000${partition}\u0000${offset}\u0000${changeType}\u0000${column}`)
        .digest();
    hash[6] = (hash[6] & 0x0f) | 0x50;
    hash[8] = (hash[8] & 0x3f) | 0x80;
    const hex = hash.subarray(0, 16).toString("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The type as an operator reads it: the source's own (VARCHAR(100), DECIMAL(10,2), TIMESTAMP), else the Connect type. */
export function typeText(c: ColumnSchema): string {
    if (!c.sourceType) return c.logicalType ? `${c.connectType} (${c.logicalType})` : c.connectType;
    if (c.logicalType === DECIMAL && c.length !== undefined) return `${c.sourceType}(${c.length},${c.scale ?? 0})`;
    const sized = c.connectType === "string" && c.logicalType === undefined && c.length !== undefined && c.length < UNBOUNDED_LENGTH;
    return sized ? `${c.sourceType}(${c.length})` : c.sourceType;
}

export const DECIMAL = "org.apache.kafka.connect.data.Decimal";

/** PostgreSQL reports TEXT and unbounded VARCHAR with length 2147483647; anything this long is "no limit". */
export const UNBOUNDED_LENGTH = 2_147_483_647;
