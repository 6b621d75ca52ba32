/**
 * The two Kafka operations `cdc dlq` needs beyond ops/kafka-client.ts:
 * - reading a dead letter topic with each record's real timestamp: on a LogAppendTime topic (the planned dead letter
 *   topics are) a record's timestamp is its batch's maxTimestamp, the broker's append time, as the Java client reads
 *   it; the record's own timestamp delta still holds the producer's time (here: the failed record's own timestamp,
 *   which Connect copies into its dead letter);
 * - producing a replay with the record's headers as they were (header names as bytes).
 */
import { Consumer, Producer, type KafkaRecord, type RecordsBatch } from "@platformatic/kafka";
import type { Header, RawRecord } from "./dlq-record";
import { clientOptions, KafkaClient } from "./kafka-client";
import type { KafkaConnection } from "./target";

/** RecordBatch attributes: bit 3 is the timestamp type (1: LogAppendTime), bit 5 marks a control batch. */
const LOG_APPEND_TIME = 0x08;
const CONTROL_BATCH = 0x20;

/** A record's timestamp as Kafka's Java client reads it: the batch's maxTimestamp when the broker set LogAppendTime. */
export function recordTimestamp(
    batch: Pick<RecordsBatch, "attributes" | "firstTimestamp" | "maxTimestamp">,
    record: Pick<KafkaRecord, "timestampDelta">,
): bigint {
    return (batch.attributes & LOG_APPEND_TIME) !== 0 ? batch.maxTimestamp : batch.firstTimestamp + record.timestampDelta;
}

/** Every record of the topic from its earliest to its current end, each with the timestamp the Java client would report. */
export async function readWithTimestamps(kafka: KafkaClient, conn: KafkaConnection, topic: string): Promise<RawRecord[]> {
    const [earliest, latest, md] = await Promise.all([
        kafka.earliestOffsets([topic]),
        kafka.latestOffsets([topic]),
        kafka.metadata([topic]),
    ]);
    const t = md.topics.get(topic)!;
    const reader = new Consumer({ ...clientOptions(conn, "cdc-ops-dlq"), groupId: "cdc-ops-dlq-reader" });
    const out: RawRecord[] = [];
    try {
        for (const start of earliest) {
            const until = latest.find((l) => l.partition === start.partition)!.offset;
            let next = start.offset;
            while (next < until) {
                // The Consumer only carries the Fetch request here: its group is never joined.
                const response = await reader.fetch({
                    node: t.partitions[start.partition].leader,
                    maxWaitTime: 100,
                    topics: [
                        {
                            topicId: t.id,
                            partitions: [
                                {
                                    partition: start.partition,
                                    fetchOffset: next,
                                    partitionMaxBytes: 4 * 1024 * 1024,
                                    currentLeaderEpoch: -1,
                                    lastFetchedEpoch: -1,
                                },
                            ],
                        },
                    ],
                });
                const answer = response.responses[0]?.partitions[0];
                if (!answer) break;
                if (answer.errorCode !== 0)
                    throw new Error(`Kafka fetch ${topic}[${start.partition}] from ${next}: error code ${answer.errorCode}`);
                const batches = answer.records ?? [];
                if (batches.length === 0) {
                    if (next >= answer.logStartOffset) break;
                    next = answer.logStartOffset;
                    continue;
                }
                for (const batch of batches) {
                    if ((batch.attributes & CONTROL_BATCH) === 0) {
                        for (const r of batch.records) {
                            const offset = batch.firstOffset + BigInt(r.offsetDelta);
                            if (offset < next || offset >= until) continue;
                            const timestamp = recordTimestamp(batch, r);
                            out.push({
                                topic,
                                partition: start.partition,
                                offset: Number(offset),
                                timestamp: Number(timestamp),
                                key: r.key ?? null,
                                value: r.value ?? null,
                                headers: r.headers.map(([k, v]): Header => ({ key: k?.toString("utf8") ?? "", value: v ?? null })),
                            });
                        }
                    }
                    const afterBatch = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
                    if (afterBatch > next) next = afterBatch;
                }
            }
        }
    } finally {
        await reader.close();
    }
    return out;
}

/**
 * Writes one record with its headers in order (a null header value cannot be sent and is left out), with the given
 * timestamp or the producer's clock; returns where it landed.
 */
export async function produceRecord(
    conn: KafkaConnection,
    record: { topic: string; key: Buffer | null; value: Buffer | null; headers: Header[]; timestamp?: number },
): Promise<{ partition: number; offset: number }> {
    const producer = new Producer({ ...clientOptions(conn, "cdc-ops-dlq"), acks: -1 });
    try {
        const headers = new Map<Buffer, Buffer>(
            record.headers.flatMap((h) => (h.value === null ? [] : [[Buffer.from(h.key, "utf8"), h.value]])),
        );
        const result = await producer.send({
            messages: [
                {
                    topic: record.topic,
                    key: record.key ?? undefined,
                    value: record.value ?? undefined,
                    headers,
                    ...(record.timestamp === undefined ? {} : { timestamp: BigInt(record.timestamp) }),
                },
            ],
        });
        const landed = result.offsets?.[0];
        if (!landed) throw new Error(`Kafka did not say where the record landed in ${record.topic}`);
        return { partition: landed.partition, offset: Number(landed.offset) };
    } catch (e) {
        throw new Error(`Kafka produce to ${record.topic} at ${conn.bootstrapServers.join(",")}: ${(e as Error).message}`);
    } finally {
        await producer.close();
    }
}
