/**
 * The lakehouse writer's vocabulary, as lakehouse/schema/writer-config.schema.json (the contract) spells it: the
 * config layer accepts exactly these values and the plan renders them into the writer's file unchanged.
 */

export const DESTINATION_FORMATS = ["deltalake", "iceberg"] as const;
export type DestinationFormat = (typeof DESTINATION_FORMATS)[number];

export const WRITE_MODES = ["append", "upsert"] as const;
export type WriteMode = (typeof WRITE_MODES)[number];

/** Columns the writer fills from each change event rather than from the row. */
export const METADATA_COLUMNS = [
    "_cdc_operation",
    "_cdc_timestamp",
    "_cdc_source_lsn",
    "_cdc_binlog_file",
    "_cdc_binlog_position",
    "_cdc_event_id",
    "_ingestion_timestamp",
    "_source_system",
] as const;
export type MetadataColumn = (typeof METADATA_COLUMNS)[number];
/** What the writer uses when a destination lists none. */
export const DEFAULT_METADATA_COLUMNS: readonly MetadataColumn[] = ["_cdc_operation", "_cdc_timestamp", "_cdc_source_lsn"];

export const QUALITY_CHECK_TYPES = ["row_count", "checksum", "lag_monitoring"] as const;
export type QualityCheckType = (typeof QUALITY_CHECK_TYPES)[number];

export const LOGGING_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"] as const;
export type LoggingLevel = (typeof LOGGING_LEVELS)[number];

export const BEFORE_IMAGES = ["full", "key"] as const;

/** A table or column name the writer accepts (its `identifier`). */
export const LAKEHOUSE_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The writer's column types: Arrow-like names and decimal(p,s). */
export const COLUMN_TYPE = /^(string|int|long|boolean|float|double|date|timestamp|binary|decimal\((\d+),\s*(\d+)\))$/;
/** A column, or transform(column); which transforms a format takes is a cross-field rule. */
export const PARTITION_BY = /^([A-Za-z_][A-Za-z0-9_]*|(identity|year|month|day|hour)\([A-Za-z_][A-Za-z0-9_]*\))$/;
export const SORT_BY = /^[A-Za-z_][A-Za-z0-9_]*( (ASC|DESC))?$/;

/** Partition transforms each format supports (Delta: a generated date column for day()). */
export const PARTITION_TRANSFORMS: Readonly<Record<DestinationFormat, readonly string[]>> = {
    deltalake: ["identity", "day"],
    iceberg: ["identity", "year", "month", "day", "hour"],
};

export function parsePartition(text: string): { transform: string; column: string } {
    const m = /^(identity|year|month|day|hour)\((\w+)\)$/.exec(text);
    return m ? { transform: m[1], column: m[2] } : { transform: "identity", column: text };
}
