/**
 * Reads one data-topic record as the detector needs it: the table's columns from the value schema that Kafka
 * Connect's JsonConverter embeds (`value.converter.schemas.enable=true`, plan/connect-cluster.ts), and the change's
 * position in the source's log. On an Avro stack ops/record-decoder.ts hands over the same document, its schema
 * rebuilt from the registry's writer schema. Pure; anything else comes back as a problem to log and skip, never a throw.
 *
 * Value schemas rather than a schema-change topic, because they exist for every source kind: the Debezium
 * PostgreSQL connector has no schema-change topic, and they are what the sink itself reads.
 */
import type { ColumnSchema } from "./schema-events-model";

/** Where a change sits in its source's log, comparable within one source: LSN, binlog file/position/row, or commit LSN. */
export type SourcePosition = readonly (string | number)[];

export type ParsedRecord =
    | { kind: "change"; columns: ColumnSchema[]; position: SourcePosition }
    /** A delete's tombstone (null value): no schema to read, nothing wrong. */
    | { kind: "tombstone" }
    | { kind: "problem"; problem: string };

interface ConnectSchema {
    type?: string;
    optional?: boolean;
    field?: string;
    name?: string;
    default?: unknown;
    parameters?: Record<string, string>;
    fields?: ConnectSchema[];
}

const SOURCE_TYPE = "__debezium.source.column.type";
const SOURCE_LENGTH = "__debezium.source.column.length";
const SOURCE_SCALE = "__debezium.source.column.scale";

/**
 * Debezium's PostgreSQL snapshot names a serial column's type from the catalog (SERIAL) and its stream from the
 * replication protocol (INT4): the same column, so the stream's names are kept (seen on shop.public.orders).
 */
const POSTGRES_SERIAL_TYPES: Record<string, string> = { SERIAL: "INT4", BIGSERIAL: "INT8", SMALLSERIAL: "INT2" };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function column(f: ConnectSchema, connector: unknown): ColumnSchema | string {
    if (typeof f.field !== "string" || typeof f.type !== "string")
        return `a column schema without "field" or "type": ${JSON.stringify(f).slice(0, 200)}`;
    const p = f.parameters ?? {};
    const int = (v: string | undefined) => (v === undefined || !/^-?\d+$/.test(v) ? undefined : Number(v));
    const c: ColumnSchema = { name: f.field, connectType: f.type, optional: f.optional === true };
    if (f.name) c.logicalType = f.name;
    if (f.default !== undefined && f.default !== null) c.defaultValue = JSON.stringify(f.default);
    const sourceType = p[SOURCE_TYPE];
    if (sourceType) c.sourceType = (connector === "postgresql" && POSTGRES_SERIAL_TYPES[sourceType.toUpperCase()]) || sourceType;
    const length = int(p[SOURCE_LENGTH]);
    if (length !== undefined) c.length = length;
    const scale = int(p[SOURCE_SCALE]);
    if (scale !== undefined) c.scale = scale;
    return c;
}

/**
 * The position fields each Debezium connector writes into `source`, most significant first; the required one
 * first, the ones a snapshot leaves out (MySQL's row, SQL Server's change LSN and serial number) filled so that a
 * snapshot event sorts before the stream at the same place. Anything else, or a missing required field: ts_ms.
 */
function position(source: Record<string, unknown>): SourcePosition | undefined {
    const has = (k: string) => source[k] !== undefined && source[k] !== null;
    const at = (k: string, missing: string | number) => (has(k) ? (source[k] as string | number) : missing);
    switch (source.connector) {
        case "postgresql":
            if (has("lsn")) return [at("lsn", 0)];
            break;
        case "mysql":
        case "mariadb":
            if (has("file") && has("pos")) return [at("file", ""), at("pos", 0), at("row", 0)];
            break;
        case "sqlserver":
            if (has("commit_lsn")) return [at("commit_lsn", ""), at("change_lsn", ""), at("event_serial_no", 0)];
            break;
    }
    return has("ts_ms") ? [at("ts_ms", 0)] : undefined;
}

export function parseRecord(value: Buffer | null): ParsedRecord {
    if (value === null) return { kind: "tombstone" };
    let doc: unknown;
    try {
        doc = JSON.parse(value.toString("utf8"));
    } catch (e) {
        return { kind: "problem", problem: `the value is not JSON (${(e as Error).message})` };
    }
    if (!isObject(doc) || !isObject(doc.schema) || !("payload" in doc))
        return {
            kind: "problem",
            problem: "the value has no embedded schema: the data topics must be written by JsonConverter with schemas.enable=true",
        };
    const schema = doc.schema as ConnectSchema;
    const row = (schema.fields ?? []).find((f) => (f.field === "after" || f.field === "before") && f.type === "struct");
    if (schema.type !== "struct" || !row?.fields)
        return {
            kind: "problem",
            problem: `the value is not a Debezium change event (schema ${schema.name ?? schema.type ?? "without a name"} has no before/after row)`,
        };
    const payload = doc.payload;
    const source = isObject(payload) && isObject(payload.source) ? payload.source : undefined;
    const pos = source && position(source);
    if (!pos)
        return {
            kind: "problem",
            problem: "the change event has no source position (payload.source without its LSN, binlog position or ts_ms)",
        };
    const columns: ColumnSchema[] = [];
    for (const f of row.fields) {
        const c = column(f, source.connector);
        if (typeof c === "string") return { kind: "problem", problem: c };
        columns.push(c);
    }
    return { kind: "change", columns, position: pos };
}

/** Negative when `a` is earlier in the source's log than `b`, 0 when the same, positive when later. */
export function comparePositions(a: SourcePosition, b: SourcePosition): number {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
        if (a[i] === b[i]) continue;
        if (typeof a[i] === "number" && typeof b[i] === "number") return (a[i] as number) - (b[i] as number);
        return String(a[i]) < String(b[i]) ? -1 : 1;
    }
    return a.length - b.length;
}
