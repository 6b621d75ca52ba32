/**
 * `cdc snapshot`'s decisions, pure: which captured table a name means, the `execute-snapshot` signal Debezium's Kafka
 * signal channel takes, what each incremental-snapshot notification says, and which target rows an explicit
 * `--delete-extra` may remove. The command (ops/snapshot.ts) does the I/O around them.
 */
import { isMySqlFamily } from "../model/options";
import type { PipelineSpec, SourceSpec, StackSpec, TableSpec } from "../model/spec";
import { targetTableName } from "../plan/postgres-target";
import type { Discrepancy } from "../reconciler/report";

export interface SnapshotTable {
    pipeline: PipelineSpec;
    table: TableSpec;
    /** Debezium's data collection id: `schema.table` (PostgreSQL), `database.table` (MySQL, MariaDB), `database.schema.table` (SQL Server). */
    dataCollection: string;
    /** The reconciler's names of the pair: `schema.table` (MySQL: `database.table`) in the source, `schema.table` in the target. */
    source: string;
    target: string;
}

export function dataCollectionId(source: SourceSpec, table: TableSpec): string {
    if (source.kind === "sqlserver") return `${table.database}.${table.schema}.${table.table}`;
    return isMySqlFamily(source.kind) ? `${table.database}.${table.table}` : `${table.schema}.${table.table}`;
}

/** The names an operator may use for a captured table: as the stack config writes it, or Debezium's id. */
function namesOf(source: SourceSpec, table: TableSpec): string[] {
    const configName = `${isMySqlFamily(source.kind) ? table.database : table.schema}.${table.table}`;
    return [...new Set([configName, dataCollectionId(source, table)])].map((n) => n.toLowerCase());
}

/** Thrown for a table or pipeline the stack does not capture; the CLI turns it into a usage error (nothing was contacted). */
export class UnknownTableError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UnknownTableError";
    }
}

/**
 * The captured table `name` means, in `--pipeline` if given. Unknown names, and names that two pipelines capture
 * without `--pipeline`, are refused with the list to choose from.
 */
export function findSnapshotTable(spec: StackSpec, name: string, pipelineName?: string): SnapshotTable {
    const pipelines = pipelineName === undefined ? spec.pipelines : spec.pipelines.filter((p) => p.name === pipelineName);
    if (pipelines.length === 0) {
        throw new UnknownTableError(
            `no pipeline "${pipelineName}" in this stack; its pipelines: ${spec.pipelines.map((p) => p.name).join(", ")}`,
        );
    }
    const wanted = name.toLowerCase();
    const matches = pipelines.flatMap((pipeline) =>
        pipeline.source.tables.filter((t) => namesOf(pipeline.source, t).includes(wanted)).map((table) => ({ pipeline, table })),
    );
    if (matches.length === 0) {
        const known = pipelines.flatMap((p) => p.source.tables.map((t) => `${namesOf(p.source, t)[0]} (${p.name})`));
        throw new UnknownTableError(
            `table "${name}" is not captured by ${pipelineName === undefined ? "any pipeline of this stack" : `pipeline ${pipelineName}`}; ` +
                `captured tables: ${known.join(", ")}. An incremental snapshot re-reads a table the connector already captures; ` +
                "add a new table to source.tables and deploy first",
        );
    }
    if (matches.length > 1) {
        throw new UnknownTableError(
            `table "${name}" is captured by pipelines ${matches.map((m) => m.pipeline.name).join(" and ")}; pick one with --pipeline <name>`,
        );
    }
    const [{ pipeline, table }] = matches;
    return {
        pipeline,
        table,
        dataCollection: dataCollectionId(pipeline.source, table),
        source: `${table.schema}.${table.table}`,
        target: `${pipeline.sink.schema.toLowerCase()}.${targetTableName(pipeline, table)}`,
    };
}

const regexLiteral = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The Kafka record of an `execute-snapshot` signal: keyed by topic.prefix (KafkaSignalChannel ignores any other key),
 * value `{id, type, data}`. `additional-conditions` applies the filter to this table only; Debezium compiles its
 * `data-collection` as a case-insensitive regex, so the name's dots are escaped to match this table alone.
 */
export function executeSnapshotSignal(t: SnapshotTable, id: string, filter?: string): { key: string; value: string } {
    const data: Record<string, unknown> = { type: "INCREMENTAL", "data-collections": [t.dataCollection] };
    if (filter !== undefined) data["additional-conditions"] = [{ "data-collection": regexLiteral(t.dataCollection), filter }];
    return { key: t.pipeline.source.topicPrefix, value: JSON.stringify({ id, type: "execute-snapshot", data }) };
}

export type SnapshotEventType = "STARTED" | "PAUSED" | "RESUMED" | "IN_PROGRESS" | "TABLE_SCAN_COMPLETED" | "COMPLETED" | "ABORTED";

/** One incremental-snapshot notification as the sink channel writes it (JsonConverter with schemas). */
export interface SnapshotNotification {
    id: string;
    type: SnapshotEventType;
    timestamp: number;
    connectorName: string;
    dataCollections: string[];
    data: Record<string, string>;
}

/**
 * A record of the notification topic as a notification of an incremental snapshot, or undefined for anything else
 * (another aggregate type such as the initial snapshot's, or a record this version cannot read).
 */
export function parseNotification(value: Buffer | null): SnapshotNotification | undefined {
    if (value === null) return undefined;
    let doc: unknown;
    try {
        doc = JSON.parse(value.toString("utf8"));
    } catch {
        return undefined;
    }
    const envelope = doc as { payload?: unknown };
    const payload = (envelope && typeof envelope === "object" && "payload" in envelope ? envelope.payload : doc) as Record<
        string,
        unknown
    > | null;
    if (!payload || payload.aggregate_type !== "Incremental Snapshot" || typeof payload.type !== "string") return undefined;
    const data = (payload.additional_data ?? {}) as Record<string, string>;
    return {
        id: String(payload.id),
        type: payload.type as SnapshotEventType,
        timestamp: Number(payload.timestamp),
        connectorName: data.connector_name ?? "",
        dataCollections: (data.data_collections ?? "").split(",").filter((c) => c.length > 0),
        data,
    };
}

/**
 * Whether a notification belongs to the snapshot this command asked for: from this connector, and carrying the
 * signal's id (Debezium's correlation id) or naming the table (a snapshot already running took the table on under
 * its own id; DBZ-8817). COMPLETED and ABORTED of a snapshot that named the table carry no collections: they follow it.
 */
export function concernsSnapshot(n: SnapshotNotification, t: SnapshotTable, signalId: string, followedIds: ReadonlySet<string>): boolean {
    if (n.connectorName !== t.pipeline.source.topicPrefix) return false;
    if (n.id === signalId || followedIds.has(n.id)) return true;
    const wanted = t.dataCollection.toLowerCase();
    return [...n.dataCollections, n.data.scanned_collection ?? "", n.data.current_collection_in_progress ?? ""].some(
        (c) => c.toLowerCase() === wanted,
    );
}

/** TABLE_SCAN_COMPLETED statuses (Debezium's TableScanCompletionStatus) and what each means for the operator. */
const SCAN_STATUS: Record<string, { ok: boolean; meaning: string }> = {
    SUCCEEDED: { ok: true, meaning: "every row the filter matched was re-read" },
    EMPTY: { ok: true, meaning: "no row matched (the table or the filter is empty)" },
    NO_PRIMARY_KEY: { ok: false, meaning: "the table has no primary key, which incremental snapshots need to read it in chunks" },
    SKIPPED: { ok: false, meaning: "Debezium skipped the table (it is not in table.include.list or was removed by stop-snapshot)" },
    SQL_EXCEPTION: { ok: false, meaning: "reading a chunk failed in the database: check the --where filter's SQL and the connector's log" },
    UNKNOWN_SCHEMA: { ok: false, meaning: "Debezium does not know the table's schema: is it captured and has the connector seen it?" },
};

export function scanStatus(status: string): { ok: boolean; meaning: string } {
    return SCAN_STATUS[status] ?? { ok: false, meaning: `unknown status ${status} (a newer Debezium?)` };
}

/** One progress line per notification, for the operator. */
export function progressLine(n: SnapshotNotification): string {
    const at = new Date(n.timestamp).toISOString();
    switch (n.type) {
        case "STARTED":
            return `${at} STARTED    ${n.dataCollections.join(", ")}`;
        case "IN_PROGRESS":
            return `${at} IN_PROGRESS ${n.data.current_collection_in_progress ?? ""}: chunk up to key ${n.data.last_processed_key ?? "?"} of ${n.data.maximum_key ?? "?"}`;
        case "TABLE_SCAN_COMPLETED": {
            const s = scanStatus(n.data.status ?? "");
            return `${at} TABLE_SCAN_COMPLETED ${n.data.scanned_collection ?? ""}: ${n.data.status} (${n.data.total_rows_scanned ?? "?"} rows; ${s.meaning})`;
        }
        default:
            return `${at} ${n.type}${n.dataCollections.length > 0 ? ` ${n.dataCollections.join(", ")}` : ""}`;
    }
}

/**
 * The target rows an explicit `--delete-extra` removes: exactly the keys the reconciler confirmed as present in the
 * target and absent from the source (`missing_in_source`) after its lag-window re-check. An incremental snapshot
 * only upserts what the source has, so these are the rows it can never repair.
 */
export function extraTargetKeys(discrepancies: readonly Discrepancy[]): Record<string, string>[] {
    return discrepancies.filter((d) => d.mismatch_type === "missing_in_source").map((d) => d.primary_key);
}

const pgIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** `DELETE FROM "schema"."table" WHERE "k1" = $1 AND ...` for one key; values bound, never spliced. */
export function deleteRowSql(target: string, key: Record<string, string>): { sql: string; params: string[] } {
    const [schema, table] = target.split(".");
    const columns = Object.keys(key);
    const where = columns.map((c, i) => `${pgIdent(c)} = $${i + 1}`).join(" AND ");
    return { sql: `DELETE FROM ${pgIdent(schema)}.${pgIdent(table)} WHERE ${where}`, params: columns.map((c) => key[c]) };
}
