/**
 * Where the dead letter lifecycle lives in Kafka, and how it is read back: a sink's dead letters from its dead letter
 * topic, their resolution state from its compacted state topic (the latest DeadLetterRecord per original
 * `<topic>/<partition>/<offset>`, Avro-encoded, Confluent-framed on an Avro stack: ops/dlq-state-framing.ts), replays written to its retry topic, and a replay's outcome from the
 * sink's committed offsets (Connect REST, KIP-875) and from its dead letters.
 */
import { dlqStateTopicName, dlqTopicName } from "../model/naming";
import type { PipelineSpec, StackSpec } from "../model/spec";
import { replayRoute, ReplayRoute } from "../connectors/dlq-replay";
import { UsageError } from "./command";
import type { ConnectClient } from "./connect-client";
import { decodeStateValue, schemaIdLookupFor, StateEncoder, stateEncoder } from "./dlq-state-framing";
import { DeadLetterRecord, deadLetterFromRaw, idOf, isDeadLetterOf, RawRecord, replayHeaders } from "./dlq-record";
import { merged, ReplayEvidence, settled } from "./dlq-state";
import type { InRecord, KafkaClient } from "./kafka-client";

/** One sink's dead letter queue and the topics around it. */
export interface SinkDlq {
    pipeline: string;
    sink: string;
    dlqTopic: string;
    stateTopic: string;
    route: ReplayRoute;
    /** How its state records are written (framed with the registered schema's id on an Avro stack). */
    encodeState: StateEncoder;
}

/** The sinks with a dead letter queue, or the one `--sink` names (a usage error naming the choices otherwise). */
export function sinkDlqs(spec: StackSpec, only: string | undefined, usage: string, env: NodeJS.ProcessEnv = {}): SinkDlq[] {
    const lookup = schemaIdLookupFor(spec, env);
    const all = spec.pipelines
        .filter((p) => p.sink.deadLetterQueue)
        .map((p: PipelineSpec): SinkDlq => ({
            pipeline: p.name,
            sink: p.sink.connectorName,
            dlqTopic: dlqTopicName(p.sink.connectorName),
            stateTopic: dlqStateTopicName(p.sink.connectorName),
            route: replayRoute(p),
            encodeState: stateEncoder(dlqStateTopicName(p.sink.connectorName), lookup),
        }));
    if (only === undefined) return all;
    const found = all.filter((s) => s.sink === only);
    if (found.length === 0) {
        throw new UsageError(
            `no sink named ${JSON.stringify(only)} has a dead letter queue; sinks with one: ${all.map((s) => s.sink).join(", ") || "none"}`,
            usage,
        );
    }
    return found;
}

/** The planned topics `cdc dlq` needs that Kafka does not have (a stack deployed before they were planned). */
export function missingTopics(existing: readonly string[], sinks: readonly SinkDlq[]): string[] {
    const have = new Set(existing);
    const needed = sinks.flatMap((s) => [s.dlqTopic, s.stateTopic, ...("retryTopic" in s.route ? [s.route.retryTopic] : [])]);
    return needed.filter((t) => !have.has(t));
}

/** A dead letter that is not one Connect wrote with context headers: shown, never acted on. */
export interface Unreadable {
    where: string;
    problem: string;
}

export interface DlqView {
    sink: SinkDlq;
    /** Every record of the sink, newest failure first. */
    records: DeadLetterRecord[];
    unreadable: Unreadable[];
    /** The dead letter topic's raw records, for settling replays. */
    raws: RawRecord[];
}

/** The latest stored state per record id (compaction may not have run yet: later records win, tombstones remove). */
export function latestStates(records: readonly InRecord[]): Map<string, DeadLetterRecord> {
    const out = new Map<string, DeadLetterRecord>();
    for (const r of records) {
        const key = r.key?.toString("utf8");
        if (key === undefined) continue;
        if (r.value === null) out.delete(key);
        else out.set(key, decodeStateValue(r.value, `state record ${r.topic}/${r.partition}/${r.offset} (key ${key})`));
    }
    return out;
}

/** The sink's committed offset on each retry topic partition, from Connect's offsets endpoint. */
export async function retryPositions(connect: ConnectClient, sink: SinkDlq): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (!("retryTopic" in sink.route)) return out;
    for (const o of await connect.offsets(sink.sink)) {
        if (o.partition.kafka_topic !== sink.route.retryTopic || !o.offset) continue;
        out.set(Number(o.partition.kafka_partition), Number(o.offset.kafka_offset));
    }
    return out;
}

export function evidenceFor(record: DeadLetterRecord, raws: readonly RawRecord[], positions: ReadonlyMap<number, number>): ReplayEvidence {
    const replay = record.last_replay;
    if (!replay) return { committedOffset: undefined, deadLettered: false };
    return { committedOffset: positions.get(replay.retry_partition), deadLettered: raws.some((r) => isDeadLetterOf(r, replay)) };
}

/** A dead letter as read from Kafka, its offset and timestamp as numbers and its headers as the record model has them. */
export function rawOf(r: InRecord): RawRecord {
    return {
        topic: r.topic,
        partition: r.partition,
        offset: Number(r.offset),
        timestamp: Number(r.timestamp),
        key: r.key,
        value: r.value,
        headers: r.headers.map(([key, value]) => ({ key, value })),
    };
}

/** Everything known about a sink's dead letters, replays in flight settled as far as the sink's progress tells. */
export async function loadView(kafka: KafkaClient, connect: ConnectClient, sink: SinkDlq, now: number): Promise<DlqView> {
    const [dead, state] = await Promise.all([kafka.readAll(sink.dlqTopic), kafka.readAll(sink.stateTopic)]);
    const raws = dead.map(rawOf);
    const unreadable: Unreadable[] = [];
    const byId = new Map<string, DeadLetterRecord[]>();
    for (const raw of raws) {
        try {
            const record = deadLetterFromRaw(raw);
            const id = idOf(record);
            byId.set(id, [...(byId.get(id) ?? []), record]);
        } catch (e) {
            unreadable.push({ where: `${raw.topic}/${raw.partition}/${raw.offset}`, problem: (e as Error).message });
        }
    }
    const stored = latestStates(state);
    const ids = new Set([...byId.keys(), ...stored.keys()]);
    const inFlight = [...stored.values()].some((r) => r.last_replay?.outcome === "IN_FLIGHT");
    const positions = inFlight ? await retryPositions(connect, sink) : new Map<number, number>();
    const records = [...ids].map((id) => {
        const record = merged(byId.get(id) ?? [], stored.get(id));
        return settled(record, evidenceFor(record, raws, positions), now);
    });
    records.sort((a, b) => b.error_timestamp - a.error_timestamp || (b.dlq_offset ?? 0) - (a.dlq_offset ?? 0));
    return { sink, records, unreadable, raws };
}

export async function storeState(kafka: KafkaClient, sink: SinkDlq, record: DeadLetterRecord): Promise<void> {
    await kafka.produce([{ topic: sink.stateTopic, key: idOf(record), value: await sink.encodeState(record) }]);
}

/** Writes the record's original key, value and headers to the sink's retry topic; returns where it landed. */
export async function sendReplay(
    kafka: KafkaClient,
    retryTopic: string,
    record: DeadLetterRecord,
): Promise<{ partition: number; offset: number }> {
    const [landed] = await kafka.produce([
        {
            topic: retryTopic,
            key: record.original_key,
            value: record.original_value,
            headers: replayHeaders(record, record.retry_count + 1).map((h) => [h.key, h.value] as const),
        },
    ]);
    if (!landed) throw new Error(`Kafka did not say where the replay of ${idOf(record)} landed in ${retryTopic}`);
    return { partition: landed.partition, offset: Number(landed.offset) };
}
