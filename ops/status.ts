/**
 * `cdc status`: the replication checkpoint (seed 000 §4) of every captured table, with its connectors' states
 * and the sink's lag. docs/ops.md ("cdc status") lists where each field comes from.
 */
import { parseFlags } from "../model/args";
import { connectInternalTopics, dataTopicName, sinkConsumerGroup } from "../model/naming";
import type { PipelineSpec, TableSpec } from "../model/spec";
import {
    connectorOffset,
    eventSourceTime,
    isStreamedEvent,
    formatPosition,
    Offset,
    ReplicationState,
    sourcePosition,
    SourcePosition,
    tableState,
} from "./checkpoint";
import { Command, EXIT } from "./command";
import type { ConnectClient, ConnectorOffset, ConnectorStatus } from "./connect-client";
import { InRecord, KafkaClient, PartitionLag, PartitionOffset } from "./kafka-client";
import { emit, OUTPUT_FLAGS, table } from "./output";
import { RecordDecoder, recordDecoderFor, UndecodableRecord } from "./record-decoder";
import { connectClient, describeTarget, resolveTarget, Target, TARGET_FLAGS, TARGET_USAGE } from "./target";

export interface TableCheckpoint {
    pipeline: string;
    source_table: string;
    connector_name: string;
    topic: string;
    state: ReplicationState;
    last_lsn: string | null;
    last_event_timestamp: string | null;
    last_offset_commit: string | null;
    total_events_processed: number;
    connector_state: string;
    task_states: string[];
    sink_connector: string;
    sink_state: string;
    sink_task_states: string[];
    /** Events on the table's topic the sink has not committed yet (all of them on partitions it never committed); null when the topic does not exist. */
    sink_lag: number | null;
}

export interface StatusReport {
    target: string;
    generated_at: string;
    tables: TableCheckpoint[];
    /** One line per connector or task not RUNNING, with its first trace line. */
    problems: string[];
}

/** What Connect and Kafka said about one pipeline, fetched once for all of its tables. */
export interface PipelineObservation {
    source: { status: ConnectorStatus | null; offsets: ConnectorOffset[] };
    sink: { status: ConnectorStatus | null };
    /** Timestamp of the newest record for the source's key in Connect's offsets topic: when its offset was last committed. */
    lastOffsetCommit: Date | null;
    /** Per table topic: end offsets, the newest change event's source time, the sink group's lag. */
    topics: Map<string, { ends: PartitionOffset[]; lastEvent: Date | null; lastEventStreamed?: boolean; lag: PartitionLag[] }>;
}

/** The seed's `schema.table` (for MySQL and MariaDB the schema is the database). */
export const tableName = (t: TableSpec): string => `${t.schema}.${t.table}`;

function stateOf(status: ConnectorStatus | null): { state: string; tasks: string[] } {
    return status ? { state: status.connector.state, tasks: status.tasks.map((t) => t.state) } : { state: "ABSENT", tasks: [] };
}

/** The checkpoint rows of one pipeline from what was observed. Pure. */
export function pipelineCheckpoints(p: PipelineSpec, seen: PipelineObservation): TableCheckpoint[] {
    const source = stateOf(seen.source.status);
    const sink = stateOf(seen.sink.status);
    return p.source.tables.map((t) => {
        // SQL Server keeps one source partition per database; the others one per connector.
        const offset: Offset | null = connectorOffset(seen.source.offsets, p.source.kind === "sqlserver" ? t.database : undefined);
        const position: SourcePosition | undefined = sourcePosition(p.source.kind, offset);
        const topic = dataTopicName(p.source, t);
        const observed = seen.topics.get(topic);
        const events = (observed?.ends ?? []).reduce((n, e) => n + e.offset, 0n);
        const lags = observed?.lag ?? [];
        return {
            pipeline: p.name,
            source_table: tableName(t),
            connector_name: p.source.connectorName,
            topic,
            state: tableState(
                p.source.kind,
                offset,
                tableName(t),
                events,
                source.state === "RUNNING",
                observed?.lastEventStreamed ?? false,
            ),
            last_lsn: formatPosition(position),
            last_event_timestamp: observed?.lastEvent?.toISOString() ?? null,
            last_offset_commit: seen.lastOffsetCommit?.toISOString() ?? null,
            total_events_processed: Number(events),
            connector_state: source.state,
            task_states: source.tasks,
            sink_connector: p.sink.connectorName,
            sink_state: sink.state,
            sink_task_states: sink.tasks,
            sink_lag: observed ? Number(lags.reduce((n, l) => n + l.lag, 0n)) : null,
        };
    });
}

/** Connectors or tasks that are not RUNNING (PAUSED and STOPPED included: the pipeline is not moving). */
export function statusProblems(statuses: (ConnectorStatus | null)[], expected: string[]): string[] {
    const out: string[] = [];
    expected.forEach((name, i) => {
        const s = statuses[i];
        if (!s) return void out.push(`${name}: not deployed in Connect`);
        if (s.connector.state !== "RUNNING") out.push(`${name}: connector ${s.connector.state}${firstLine(s.connector.trace)}`);
        for (const t of s.tasks) if (t.state !== "RUNNING") out.push(`${name}: task ${t.id} ${t.state}${firstLine(t.trace)}`);
        if (s.tasks.length === 0 && s.connector.state === "RUNNING") out.push(`${name}: no tasks`);
    });
    return out;
}

function firstLine(trace: string | undefined): string {
    return trace ? `: ${trace.split("\n")[0]}` : "";
}

async function statusOrNull(client: ConnectClient, name: string): Promise<ConnectorStatus | null> {
    try {
        return await client.status(name);
    } catch (e) {
        if (/\b404\b/.test((e as Error).message)) return null;
        throw e;
    }
}

async function offsetsOrEmpty(client: ConnectClient, name: string): Promise<ConnectorOffset[]> {
    try {
        return await client.offsets(name);
    } catch (e) {
        if (/\b404\b/.test((e as Error).message)) return [];
        throw e;
    }
}

/**
 * The newest change event on a topic (the last few records of each partition, tombstones skipped): its source time,
 * and whether it was streamed rather than snapshotted. A record the decoder cannot read counts by its Kafka timestamp.
 */
async function lastEvent(
    kafka: KafkaClient,
    decoder: RecordDecoder,
    topic: string,
    ends: PartitionOffset[],
    earliest: PartitionOffset[],
): Promise<{ at: Date | null; streamed: boolean }> {
    let newest: { at: Date | null; streamed: boolean } = { at: null, streamed: false };
    for (const end of ends) {
        const start = earliest.find((e) => e.partition === end.partition)?.offset ?? 0n;
        if (end.offset <= start) continue;
        const from = end.offset - 4n > start ? end.offset - 4n : start;
        const records: InRecord[] = await kafka.read(topic, end.partition, from, { until: end.offset });
        for (const r of records.reverse()) {
            const value = await readable(decoder, r);
            const t = eventSourceTime(value) ?? (r.value ? new Date(Number(r.timestamp)) : null);
            if (t) {
                if (!newest.at || t > newest.at) newest = { at: t, streamed: isStreamedEvent(value) };
                break;
            }
        }
    }
    return newest;
}

async function readable(decoder: RecordDecoder, r: InRecord): Promise<Buffer | null> {
    try {
        return await decoder.toJsonDocument(r.value, `${r.topic}[${r.partition}]@${r.offset}`);
    } catch (e) {
        if (e instanceof UndecodableRecord) return null;
        throw e;
    }
}

/** When Connect last committed the source's offset: its record in the offsets topic, keyed `["<connector>", <partition>]`. */
async function lastOffsetCommit(
    kafka: KafkaClient,
    offsetsTopic: string,
    connector: string,
    offsets: ConnectorOffset[],
): Promise<Date | null> {
    let newest: Date | null = null;
    for (const o of offsets) {
        // The worker's internal JsonConverter writes the key as compact JSON, in the partition map's own order.
        const key = Buffer.from(JSON.stringify([connector, o.partition]));
        const record = await kafka.latestWithKey(offsetsTopic, key);
        const at = record ? new Date(Number(record.timestamp)) : null;
        if (at && (!newest || at > newest)) newest = at;
    }
    return newest;
}

export async function observePipeline(
    p: PipelineSpec,
    connect: ConnectClient,
    kafka: KafkaClient,
    offsetsTopic: string,
    decoder: RecordDecoder,
): Promise<PipelineObservation> {
    const [sourceStatus, sourceOffsets, sinkStatus] = await Promise.all([
        statusOrNull(connect, p.source.connectorName),
        offsetsOrEmpty(connect, p.source.connectorName),
        statusOrNull(connect, p.sink.connectorName),
    ]);
    const topicNames = p.source.tables.map((t) => dataTopicName(p.source, t));
    const existing = new Set(await kafka.listTopics());
    const present = topicNames.filter((t) => existing.has(t));
    const [ends, earliest, lag] = await Promise.all([
        kafka.latestOffsets(present),
        kafka.earliestOffsets(present),
        kafka.groupLag(sinkConsumerGroup(p.sink.connectorName), present),
    ]);
    const topics: PipelineObservation["topics"] = new Map();
    for (const topic of present) {
        const mine = (o: { topic: string }) => o.topic === topic;
        const newest = await lastEvent(kafka, decoder, topic, ends.filter(mine), earliest.filter(mine));
        topics.set(topic, { ends: ends.filter(mine), lastEvent: newest.at, lastEventStreamed: newest.streamed, lag: lag.filter(mine) });
    }
    return {
        source: { status: sourceStatus, offsets: sourceOffsets },
        sink: { status: sinkStatus },
        lastOffsetCommit: existing.has(offsetsTopic)
            ? await lastOffsetCommit(kafka, offsetsTopic, p.source.connectorName, sourceOffsets)
            : null,
        topics,
    };
}

export async function collectStatus(
    target: Target,
    connect: ConnectClient,
    kafka: KafkaClient,
    decoder: RecordDecoder,
    pipelines?: string[],
): Promise<StatusReport> {
    const chosen = target.spec.pipelines.filter((p) => !pipelines?.length || pipelines.includes(p.name));
    const offsetsTopic = connectInternalTopics(target.spec.connect.name).offsetStorageTopic;
    const tables: TableCheckpoint[] = [];
    const statuses: (ConnectorStatus | null)[] = [];
    const names: string[] = [];
    for (const p of chosen) {
        const seen = await observePipeline(p, connect, kafka, offsetsTopic, decoder);
        tables.push(...pipelineCheckpoints(p, seen));
        statuses.push(seen.source.status, seen.sink.status);
        names.push(p.source.connectorName, p.sink.connectorName);
    }
    return { target: describeTarget(target), generated_at: new Date().toISOString(), tables, problems: statusProblems(statuses, names) };
}

export function renderStatus(r: StatusReport): string {
    const rows = table(r.tables, [
        { header: "TABLE", value: (t) => t.source_table },
        { header: "CONNECTOR", value: (t) => `${t.connector_name} ${t.connector_state}/${t.task_states.join(",") || "-"}` },
        { header: "STATE", value: (t) => t.state },
        { header: "LAST LSN", value: (t) => t.last_lsn },
        { header: "LAST EVENT", value: (t) => t.last_event_timestamp },
        { header: "OFFSET COMMIT", value: (t) => t.last_offset_commit },
        { header: "EVENTS", value: (t) => t.total_events_processed, align: "right" },
        { header: "SINK", value: (t) => `${t.sink_connector} ${t.sink_state}/${t.sink_task_states.join(",") || "-"}` },
        { header: "LAG", value: (t) => t.sink_lag, align: "right" },
    ]);
    const problems = r.problems.length ? `\nproblems:\n${r.problems.map((p) => `  ${p}`).join("\n")}\n` : "";
    return `${r.target}\n\n${rows}${problems}`;
}

const USAGE = [
    "cdc status [--pipeline <name>]... [target flags]",
    "  --pipeline <name>            only this pipeline (repeatable)",
    TARGET_USAGE,
].join("\n");

export const status: Command = {
    name: "status",
    summary:
        "per captured table: replication state, last LSN/binlog position, last event, offset commit, events, connector states, sink lag",
    usage: USAGE,
    async run(argv, ctx) {
        const flags = parseFlags(argv, { ...OUTPUT_FLAGS, ...TARGET_FLAGS, pipeline: { type: "string", multiple: true } }, USAGE);
        const target = resolveTarget(flags, ctx.env, USAGE);
        const kafka = new KafkaClient(target.kafka, "cdc-status");
        try {
            const report = await collectStatus(
                target,
                connectClient(target),
                kafka,
                recordDecoderFor(target.spec, ctx.env),
                flags.pipeline,
            );
            emit(ctx, flags, report, renderStatus);
            return report.problems.length > 0 ? EXIT.PROBLEMS : EXIT.OK;
        } finally {
            await kafka.close();
        }
    },
};
