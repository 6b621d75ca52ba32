/**
 * The replication checkpoint (seed 000 §4) computed from what Kafka Connect and Kafka say, as pure functions
 * over their answers; ops/status.ts fetches the answers. Where each field comes from is listed in docs/ops.md
 * ("cdc status").
 *
 * Debezium's source offsets, as Connect's KIP-875 endpoint returns them (test/fixtures/ops/offsets.json holds
 * real ones captured from the sandbox):
 * - PostgreSQL (3.6.1): while the snapshot runs `{lsn, txId, ts_usec, snapshot: "INITIAL", snapshot_completed:
 *   false, last_snapshot_record: false}`; when it ends `{lsn, txId, ts_usec}`, no marker; once a change has
 *   streamed `lsn_proc` and `messageType` join;
 * - MariaDB (3.5.0): first an empty `{}`; while the snapshot runs `{file, pos, gtids, ts_sec, snapshot: "INITIAL"}`;
 *   when it ends `{file, pos, gtids, ts_sec, server_id}`; once a row event has streamed `row` and `event` join;
 * - SQL Server (not run here): partition `{server, database}`; `commit_lsn`, `change_lsn` (hex
 *   `xxxxxxxx:xxxxxxxx:xxxx`), `event_serial_no`, and the same snapshot markers.
 * Incremental snapshots (signals) add `incremental_snapshot_collections` and the chunk's key window.
 */
import type { SourceSpec } from "../model/spec";

type SourceKind = SourceSpec["kind"];

export const REPLICATION_STATES = ["NULL", "SNAPSHOT_START", "SNAPSHOT_COMPLETE", "STREAMING"] as const;
export type ReplicationState = (typeof REPLICATION_STATES)[number];

export type Offset = Record<string, unknown>;

/** A source position that can be ordered: PostgreSQL and SQL Server LSNs, binlog file and position. */
export type SourcePosition =
    { kind: "postgres"; lsn: bigint } | { kind: "binlog"; file: string; pos: bigint; row: bigint } | { kind: "sqlserver"; lsn: string };

/** PostgreSQL's own LSN notation: high and low 32 bits in hex, `16/B374D848`. */
export function formatPgLsn(lsn: bigint): string {
    return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

export function parsePgLsn(text: string): bigint {
    const m = /^([0-9a-f]{1,8})\/([0-9a-f]{1,8})$/i.exec(text.trim());
    if (!m) throw new Error(`not a PostgreSQL LSN: ${JSON.stringify(text)} (expected e.g. 16/B374D848)`);
    return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

function bigintOf(v: unknown): bigint | undefined {
    if (typeof v === "number" && Number.isFinite(v)) return BigInt(Math.trunc(v));
    if (typeof v === "string" && /^\d+$/.test(v)) return BigInt(v);
    return undefined;
}

/** The position an offset records; undefined when the offset has none (no commit yet, or an unknown shape). */
export function sourcePosition(kind: SourceKind, offset: Offset | null): SourcePosition | undefined {
    if (!offset) return undefined;
    if (kind === "postgres") {
        // lsn_proc: everything up to it is processed; lsn: the last event's, which is what a snapshot records.
        const lsn = bigintOf(offset.lsn_proc) ?? bigintOf(offset.lsn);
        return lsn === undefined ? undefined : { kind: "postgres", lsn };
    }
    if (kind === "sqlserver") {
        const lsn = offset.commit_lsn ?? offset.change_lsn;
        return typeof lsn === "string" ? { kind: "sqlserver", lsn } : undefined;
    }
    const pos = bigintOf(offset.pos);
    if (typeof offset.file !== "string" || pos === undefined) return undefined;
    return { kind: "binlog", file: offset.file, pos, row: bigintOf(offset.row) ?? 0n };
}

/** The `last_lsn` text: PostgreSQL `X/Y`, SQL Server's hex LSN as Debezium writes it, binlog `file:pos`. */
export function formatPosition(p: SourcePosition | undefined): string | null {
    if (!p) return null;
    if (p.kind === "postgres") return formatPgLsn(p.lsn);
    if (p.kind === "sqlserver") return p.lsn;
    return `${p.file}:${p.pos}`;
}

/** Binlog files are `<base>.<sequence>`; the sequence orders them. */
function binlogSequence(file: string): bigint {
    const m = /\.(\d+)$/.exec(file);
    if (!m) throw new Error(`binlog file name without a sequence number: ${file}`);
    return BigInt(m[1]);
}

/** Negative, zero or positive as `a` is before, at or after `b`; both must come from the same kind of source. */
export function comparePositions(a: SourcePosition, b: SourcePosition): number {
    const sign = (d: bigint) => (d < 0n ? -1 : d > 0n ? 1 : 0);
    if (a.kind === "postgres" && b.kind === "postgres") return sign(a.lsn - b.lsn);
    if (a.kind === "sqlserver" && b.kind === "sqlserver") return a.lsn < b.lsn ? -1 : a.lsn > b.lsn ? 1 : 0;
    if (a.kind === "binlog" && b.kind === "binlog") {
        const file = binlogSequence(a.file) - binlogSequence(b.file);
        return file !== 0n ? sign(file) : sign(a.pos - b.pos) || sign(a.row - b.row);
    }
    throw new Error(`cannot compare a ${a.kind} position with a ${b.kind} one`);
}

/** The snapshot markers Debezium writes: `snapshot` (true or the snapshot type) until the snapshot's last record. */
export function snapshotPhase(offset: Offset | null): "none" | "running" | "completed" {
    if (!offset) return "none";
    const marker = offset.snapshot;
    const inSnapshot = marker !== undefined && marker !== null && marker !== false && marker !== "false" && marker !== "FALSE";
    if (offset.snapshot_completed === true || offset.last_snapshot_record === true) return "completed";
    return inSnapshot ? "running" : "none";
}

/**
 * Tables an incremental snapshot is working through, from `incremental_snapshot_collections`: a JSON text of
 * `[{ incremental_snapshot_collections_id, incremental_snapshot_collections_additional_condition, ... }]`
 * (ids are `schema.table`, or `database.schema.table` for SQL Server).
 */
export function incrementalSnapshotTables(offset: Offset | null): string[] {
    const text = offset?.incremental_snapshot_collections;
    if (typeof text !== "string" || text === "") return [];
    const parsed = JSON.parse(text) as unknown;
    if (!Array.isArray(parsed)) return [];
    return parsed.map((c) => (typeof c === "string" ? c : String((c as Record<string, unknown>).incremental_snapshot_collections_id)));
}

/** Whether an incremental-snapshot collection id names the table (`db.schema.table` matches `schema.table`). */
function sameTable(collectionId: string, table: string): boolean {
    return collectionId === table || collectionId.endsWith(`.${table}`);
}

/**
 * Whether a change has streamed since the snapshot: PostgreSQL records `lsn_proc` for the first streamed message,
 * MySQL and MariaDB `row`/`event` for the first row event, SQL Server a `change_lsn` (its snapshot offset has none).
 */
export function hasStreamed(kind: SourceKind, offset: Offset): boolean {
    if (kind === "postgres") return offset.lsn_proc !== undefined && offset.lsn_proc !== null;
    if (kind === "sqlserver") return typeof offset.change_lsn === "string" && offset.change_lsn !== "NULL";
    return offset.row !== undefined || offset.event !== undefined;
}

/**
 * The seed's state of one captured table:
 * - NULL: no committed offset, and either nothing on the table's topic yet or the source connector not running
 *   (a stopped connector without offsets snapshots from scratch when it starts);
 * - SNAPSHOT_START: the committed offset is mid-snapshot, or the running connector has not committed yet while its
 *   snapshot already wrote events, or an incremental snapshot lists the table;
 * - SNAPSHOT_COMPLETE: the snapshot has ended (its markers are gone, or say completed) and no change has streamed yet;
 * - STREAMING: a change has streamed since the snapshot: the offset says so, or the table's newest change event is a
 *   streamed one. The offset alone is not enough: MySQL/MariaDB drop `row`/`event` again once a transaction has
 *   committed, so an offset flushed later (a heartbeat's) looks like one that never streamed.
 */
export function tableState(
    kind: SourceKind,
    offset: Offset | null,
    table: string,
    topicEvents: bigint,
    sourceRunning: boolean,
    newestEventStreamed = false,
): ReplicationState {
    if (incrementalSnapshotTables(offset).some((id) => sameTable(id, table))) return "SNAPSHOT_START";
    const phase = snapshotPhase(offset);
    if (phase === "running") return "SNAPSHOT_START";
    if (offset) return phase === "none" && (hasStreamed(kind, offset) || newestEventStreamed) ? "STREAMING" : "SNAPSHOT_COMPLETE";
    return sourceRunning && topicEvents > 0n ? "SNAPSHOT_START" : "NULL";
}

/** The connector's source offset: Debezium keeps one source partition per task (one per database for SQL Server). */
export function connectorOffset(offsets: readonly { partition: Offset; offset: Offset | null }[], database?: string): Offset | null {
    const candidates = database ? offsets.filter((o) => o.partition.database === undefined || o.partition.database === database) : offsets;
    // MariaDB's connector commits an empty offset (`{}`) early in its snapshot: no position yet, so no offset.
    return candidates.find((o) => o.offset !== null && Object.keys(o.offset).length > 0)?.offset ?? null;
}

/** A sink connector's committed Kafka offsets (KIP-875 for sinks: `{kafka_topic, kafka_partition}` → `{kafka_offset}`). */
export function sinkOffsets(
    offsets: readonly { partition: Offset; offset: Offset | null }[],
): { topic: string; partition: number; offset: bigint }[] {
    return offsets.flatMap((o) => {
        const offset = bigintOf(o.offset?.kafka_offset);
        const partition = o.partition.kafka_partition;
        return typeof o.partition.kafka_topic === "string" && typeof partition === "number" && offset !== undefined
            ? [{ topic: o.partition.kafka_topic, partition, offset }]
            : [];
    });
}

/**
 * Whether a Debezium change event was streamed from the log rather than read by a snapshot: its `source.snapshot`
 * is "false" (snapshots say "true", "first", "last", "incremental" and the like).
 */
export function isStreamedEvent(value: Buffer | null): boolean {
    if (!value) return false;
    try {
        const doc = JSON.parse(value.toString("utf8")) as {
            payload?: { source?: { snapshot?: unknown } };
            source?: { snapshot?: unknown };
        };
        return (doc.payload ?? doc).source?.snapshot === "false";
    } catch {
        return false;
    }
}

/**
 * The source commit time of a Debezium change event (JsonConverter, schemas on or off, or an Avro record as
 * ops/record-decoder.ts documents it); null for a tombstone or another shape.
 */
export function eventSourceTime(value: Buffer | null): Date | null {
    if (!value) return null;
    try {
        const doc = JSON.parse(value.toString("utf8")) as { payload?: { source?: { ts_ms?: unknown } }; source?: { ts_ms?: unknown } };
        const ts = (doc.payload ?? doc).source?.ts_ms;
        return typeof ts === "number" ? new Date(ts) : null;
    } catch {
        return null;
    }
}
