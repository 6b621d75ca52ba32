/**
 * What the JDBC sink really does with a column change, as seed 000 §7's handling_status and connector_action.
 * Pure.
 *
 * The Debezium JDBC sink (3.5, JdbcChangeEventSink.alterTableIfNeeded) only ever adds columns a record carries and
 * the table lacks, and only with `schema.evolution=basic`: with `none` a missing column throws ("Cannot alter table
 * ... because schema evolution is disabled") and the task fails; a missing column that is not optional and has no
 * default throws in either mode ("... is not optional but has no default value"). It never drops a column, never
 * changes a type, a nullability or a default; its upserts write only the record's columns, so a column the source
 * dropped keeps its old values and gets NULL (or its default) in new rows. The Confluent JDBC sink behaves the same
 * with `auto.evolve` in place of `schema.evolution`. test/e2e/ops-schema-events.spec.ts checks each prediction
 * against the real sink.
 *
 * So the status depends on the target table as it is when the change is seen: the detector reads its columns when
 * it can reach the target database, and otherwise takes each column to be what the sink created from the source's
 * previous schema (true for tables the sink created and nobody altered; the reason then says so).
 *
 * AUTO_APPLIED: the target takes the new rows as they are, nothing to do (the sink added the column, or the target
 * already had it). PENDING_REVIEW: rows flow, the target keeps something the source no longer has. MANUAL_REQUIRED:
 * rows flow for now, but some values will fail the task or land in another column until someone changes the target.
 * FAILED: the sink's task fails on the next row of the table. connector_action is the sink's: CONTINUED or ERRORED.
 */
import type { ColumnChange } from "./schema-events-diff";
import { DECIMAL, typeText, UNBOUNDED_LENGTH, type ColumnSchema, type ConnectorAction, type HandlingStatus } from "./schema-events-model";

export interface SinkBehaviour {
    connector: string;
    /** The schema the sink writes the table into (`<schema>.<table>` in messages). */
    targetTable: string;
    /** Adds the columns a record has and the table lacks: Debezium `schema.evolution=basic`, Confluent `auto.evolve=true`. */
    addsColumns: boolean;
    /** The key and value that decide `addsColumns`, for messages. */
    evolutionSetting: string;
}

const DEBEZIUM_SINK = "io.debezium.connector.jdbc.JdbcSinkConnector";
const CONFLUENT_SINK = "io.confluent.connect.jdbc.JdbcSinkConnector";

/** The sink's behaviour from its live config (Connect's GET /connectors/<name>/config), with each plugin's own default. */
export function sinkBehaviour(connector: string, targetTable: string, config: Readonly<Record<string, string>>): SinkBehaviour {
    const cls = config["connector.class"];
    if (cls === DEBEZIUM_SINK) {
        const mode = config["schema.evolution"] ?? "none";
        return { connector, targetTable, addsColumns: mode === "basic", evolutionSetting: `schema.evolution=${mode}` };
    }
    if (cls === CONFLUENT_SINK) {
        const evolve = config["auto.evolve"] ?? "false";
        return { connector, targetTable, addsColumns: evolve === "true", evolutionSetting: `auto.evolve=${evolve}` };
    }
    throw new Error(
        `sink connector ${connector} runs ${cls ?? "no connector.class"}; the schema-event detector knows ${DEBEZIUM_SINK} and ${CONFLUENT_SINK}`,
    );
}

export interface Handling {
    handling_status: HandlingStatus;
    connector_action: ConnectorAction;
    reason: string;
}

/** A target column as far as the detector needs it: can it take a value, and a NULL. */
export interface TargetColumn {
    nullable: boolean;
    hasDefault: boolean;
    kind: "text" | "int" | "float" | "numeric" | "other";
    /** text: characters (undefined: no limit); int and float: bytes; numeric: precision (undefined: no limit). */
    size?: number;
    scale?: number;
    /** The type as the database or the source names it, for messages. */
    type: string;
}

/** The target's columns of one table by name, or undefined when the target was not inspected. */
export type TargetTable = ReadonlyMap<string, TargetColumn> | undefined;

const BYTES: Record<string, number> = { int8: 2, int16: 2, int32: 4, int64: 8, float32: 4, float64: 8 };

const unbounded = (c: ColumnSchema) => c.length === undefined || c.length >= UNBOUNDED_LENGTH;

/** The column the sink creates for a source column (PostgreSQL dialect, with the propagated source type and length). */
export function sinkCreatedColumn(c: ColumnSchema): TargetColumn {
    const base = { nullable: c.optional, hasDefault: c.defaultValue !== undefined, type: typeText(c) };
    if (c.logicalType === DECIMAL) return { ...base, kind: "numeric", size: c.length, scale: c.scale };
    if (c.logicalType === undefined && c.connectType === "string")
        return { ...base, kind: "text", size: unbounded(c) ? undefined : c.length };
    if (c.logicalType === undefined && c.connectType.startsWith("int")) return { ...base, kind: "int", size: BYTES[c.connectType] };
    if (c.logicalType === undefined && c.connectType.startsWith("float")) return { ...base, kind: "float", size: BYTES[c.connectType] };
    return { ...base, kind: "other" };
}

/**
 * Whether the target column takes every value of the source column `after`: true, false (some values are too long
 * or too large), or "incompatible" (another kind of value, which the database refuses to bind).
 */
export function holds(target: TargetColumn, after: ColumnSchema): boolean | "incompatible" {
    const a = sinkCreatedColumn(after);
    if (a.kind !== target.kind) return "incompatible";
    switch (a.kind) {
        case "text":
            return target.size === undefined || (a.size !== undefined && a.size <= target.size);
        case "int":
        case "float":
            return a.size! <= target.size!;
        case "numeric": {
            if (target.size === undefined) return true;
            if (a.size === undefined) return false;
            const [ts, as] = [target.scale ?? 0, a.scale ?? 0];
            return as <= ts && a.size - as <= target.size - ts;
        }
        case "other":
            return target.type === a.type || "incompatible";
    }
}

/** information_schema.columns of a PostgreSQL target, as a TargetColumn. */
export function targetColumnOf(row: {
    is_nullable: string;
    data_type: string;
    character_maximum_length: number | null;
    numeric_precision: number | null;
    numeric_scale: number | null;
    has_default: boolean;
}): TargetColumn {
    const base = { nullable: row.is_nullable === "YES", hasDefault: row.has_default, type: row.data_type };
    switch (row.data_type) {
        case "text":
            return { ...base, kind: "text" };
        case "character varying":
        case "character":
            return {
                ...base,
                kind: "text",
                size: row.character_maximum_length ?? undefined,
                type: `${row.data_type}(${row.character_maximum_length ?? ""})`,
            };
        case "smallint":
            return { ...base, kind: "int", size: 2 };
        case "integer":
            return { ...base, kind: "int", size: 4 };
        case "bigint":
            return { ...base, kind: "int", size: 8 };
        case "real":
            return { ...base, kind: "float", size: 4 };
        case "double precision":
            return { ...base, kind: "float", size: 8 };
        case "numeric":
            return { ...base, kind: "numeric", size: row.numeric_precision ?? undefined, scale: row.numeric_scale ?? undefined };
        default:
            return { ...base, kind: "other" };
    }
}

const required = (t: TargetColumn) => !t.nullable && !t.hasDefault;

/**
 * The handling of one change. `target` is the target table as it is now; when it was not inspected, each column is
 * taken to be what the sink created from the source's previous schema.
 */
export function handleChange(change: ColumnChange, sink: SinkBehaviour, target: TargetTable): Handling {
    const t = sink.targetTable;
    const seen = target ? "" : " (target not inspected: taken as the sink created it)";
    const column = (name: string, before?: ColumnSchema) => (target ? target.get(name) : before && sinkCreatedColumn(before));
    const ok = (reason: string): Handling => ({ handling_status: "AUTO_APPLIED", connector_action: "CONTINUED", reason });
    const failed = (reason: string): Handling => ({ handling_status: "FAILED", connector_action: "ERRORED", reason: reason + seen });
    const restart = `then restart the sink's failed task (cdc restart ${sink.connector})`;
    switch (change.change_type) {
        case "ADD_COLUMN": {
            const a = change.after!;
            const add = `ALTER TABLE ${t} ADD COLUMN ${a.name} ${typeText(a)}`;
            if (target?.has(a.name)) return ok(`${t} already has ${a.name}`);
            if (!sink.addsColumns)
                return failed(
                    `${sink.connector} does not add columns (${sink.evolutionSetting}): rows with ${a.name} fail its task; ${add}, ${restart}`,
                );
            if (!a.optional && a.defaultValue === undefined)
                return failed(`${sink.connector} refuses to add ${a.name}, NOT NULL without a default; ${add} with a default, ${restart}`);
            return ok(`${sink.connector} adds ${a.name} to ${t} (${sink.evolutionSetting})`);
        }
        case "DROP_COLUMN": {
            const d = change.before!;
            const kept = column(d.name, d);
            if (!kept) return ok(`${t} no longer has ${d.name}`);
            if (required(kept))
                return failed(
                    `${sink.connector} never drops a column and ${t}.${d.name} is NOT NULL without a default: rows without it fail the task; ALTER TABLE ${t} ALTER COLUMN ${d.name} DROP NOT NULL, ${restart}`,
                );
            return {
                handling_status: "PENDING_REVIEW",
                connector_action: "CONTINUED",
                reason: `${sink.connector} never drops a column: ${t}.${d.name} keeps its values and new rows leave it ${kept.hasDefault ? "at its default" : "NULL"}; drop it from the target once no reader needs it${seen}`,
            };
        }
        case "MODIFY_COLUMN":
            return handleModify(change.after!, column(change.after!.name, change.before), sink, seen);
        case "RENAME_COLUMN": {
            const [b, a] = [change.before!, change.after!];
            const old = column(b.name, b);
            if (target?.has(a.name) && !old) return ok(`${t} already has ${a.name} and no longer ${b.name}`);
            if (!target?.has(a.name) && !sink.addsColumns)
                return failed(
                    `${sink.connector} does not add columns (${sink.evolutionSetting}): rows with ${a.name} fail the task; ALTER TABLE ${t} RENAME COLUMN ${b.name} TO ${a.name}, ${restart}`,
                );
            if (old && required(old))
                return failed(
                    `${sink.connector} keeps ${t}.${b.name}, NOT NULL without a default, and rows without it fail the task; ALTER TABLE ${t} RENAME COLUMN ${b.name} TO ${a.name}, ${restart}`,
                );
            return {
                handling_status: "MANUAL_REQUIRED",
                connector_action: "CONTINUED",
                reason: `${sink.connector} adds ${a.name} and keeps ${b.name}: rows written from now have the value in ${a.name}, earlier ones in ${b.name}; to keep one column, UPDATE ${t} SET ${a.name} = ${b.name} WHERE ${a.name} IS NULL, then drop ${b.name}${seen}`,
            };
        }
    }
}

function handleModify(a: ColumnSchema, current: TargetColumn | undefined, sink: SinkBehaviour, seen: string): Handling {
    const t = sink.targetTable;
    const retype = `ALTER TABLE ${t} ALTER COLUMN ${a.name} TYPE ${typeText(a)}`;
    const restart = `then restart the sink's failed task (cdc restart ${sink.connector})`;
    if (!current)
        return {
            handling_status: "FAILED",
            connector_action: "ERRORED",
            reason: `${t} has no column ${a.name} and ${sink.connector} adds none for a changed column: ALTER TABLE ${t} ADD COLUMN ${a.name} ${typeText(a)}, ${restart}`,
        };
    const fits = holds(current, a);
    if (fits === "incompatible")
        return {
            handling_status: "FAILED",
            connector_action: "ERRORED",
            reason: `${sink.connector} never changes a column type and ${t}.${a.name} (${current.type}) cannot take ${typeText(a)} values: the next row fails the task; ${retype}, ${restart}${seen}`,
        };
    const fixes: string[] = [];
    if (!fits) fixes.push(`values that do not fit ${current.type} fail the task: ${retype}`);
    if (!current.nullable && a.optional) fixes.push(`NULLs fail the task: ALTER TABLE ${t} ALTER COLUMN ${a.name} DROP NOT NULL`);
    if (fixes.length > 0)
        return {
            handling_status: "MANUAL_REQUIRED",
            connector_action: "CONTINUED",
            reason: `${sink.connector} never alters a column; ${fixes.join("; ")}${seen}`,
        };
    return {
        handling_status: "AUTO_APPLIED",
        connector_action: "CONTINUED",
        reason: `${t}.${a.name} is ${current.type}${current.nullable ? "" : " NOT NULL"}, which takes every ${typeText(a)} value${seen}`,
    };
}
