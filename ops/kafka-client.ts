/**
 * The ops CLI's Kafka access, on @platformatic/kafka (pure JavaScript, speaks the protocol versions Kafka 4
 * kept; test/integration/ops-kafka-client.spec.ts runs every method here against the sandbox's Kafka 4.3.1).
 *
 * Reads go through the Fetch API directly, not a consumer group: an operator's `dlq list` or `status` must
 * not join, rebalance or commit in any group, least of all the sink's `connect-<name>` group. Keys, values
 * and header values stay Buffers; callers decode what they know the format of.
 */
import {
    Admin,
    Consumer,
    GenericError,
    MultipleErrors,
    NetworkError,
    Producer,
    TimeoutError,
    type BaseOptions,
    type ClusterMetadata,
    type KafkaRecord,
    type RecordsBatch,
} from "@platformatic/kafka";
import { errorText, UnreachableError } from "./command";
import type { KafkaConnection } from "./target";

/** A record to write. A null value is a tombstone (deletes the key from a compacted topic). */
export interface OutRecord {
    topic: string;
    key: Buffer | string | null;
    value: Buffer | string | null;
    /** In record order; a name may repeat and a value may be null, as Kafka allows (a replay keeps a record's headers as they were). */
    headers?: readonly (readonly [string, Buffer | string | null])[];
    /** Unset: the default partitioner picks by key. */
    partition?: number;
    /** Milliseconds since the epoch; unset: the producer's clock. A LogAppendTime topic replaces it with the append time. */
    timestamp?: bigint;
}

/** A record read back, with its position. */
export interface InRecord {
    topic: string;
    partition: number;
    offset: bigint;
    /** Milliseconds since the epoch, as Kafka's Java client reports it (see recordTimestamp). */
    timestamp: bigint;
    key: Buffer | null;
    value: Buffer | null;
    /** In record order; a name may repeat, as Kafka allows. */
    headers: [string, Buffer | null][];
}

export interface PartitionOffset {
    topic: string;
    partition: number;
    offset: bigint;
}

/** A consumer group's position on one partition against its end; `committed` is null when the group never committed there. */
export interface PartitionLag {
    topic: string;
    partition: number;
    committed: bigint | null;
    end: bigint;
    /** end − committed; the whole partition (end − earliest) when nothing is committed. */
    lag: bigint;
}

const EARLIEST = -2n;
const LATEST = -1n;
/** RecordBatch attributes: bit 3 is the timestamp type (1: LogAppendTime), bit 5 marks a control batch. */
const LOG_APPEND_TIME = 0x08;
const CONTROL_BATCH = 0x20;

/**
 * A record's timestamp as Kafka's Java client reads it. On a LogAppendTime topic (the planned dead letter topics
 * are) the broker rewrites only the batch's maxTimestamp to its append time and every record of the batch has that
 * time; the record's own delta still holds the producer's time (for a dead letter: the failed record's timestamp,
 * which Connect copies).
 */
export function recordTimestamp(
    batch: Pick<RecordsBatch, "attributes" | "firstTimestamp" | "maxTimestamp">,
    record: Pick<KafkaRecord, "timestampDelta">,
): bigint {
    return (batch.attributes & LOG_APPEND_TIME) !== 0 ? batch.maxTimestamp : batch.firstTimestamp + record.timestampDelta;
}

/** Client options for a connection: bootstrap list, TLS (CA and client certificate as PEM) and SASL. */
export function clientOptions(conn: KafkaConnection, clientId: string): BaseOptions {
    const opts: BaseOptions = { clientId, bootstrapBrokers: conn.bootstrapServers, retries: 1, timeout: 15_000, connectTimeout: 10_000 };
    if (conn.tls) opts.tls = { ca: conn.tls.ca, cert: conn.tls.cert, key: conn.tls.key };
    if (conn.sasl) opts.sasl = { mechanism: conn.sasl.mechanism, username: conn.sasl.username, password: conn.sasl.password };
    return opts;
}

/** Whether an error means no broker answered (as opposed to a broker refusing the request). */
function isUnreachable(err: unknown): boolean {
    if (err instanceof NetworkError || err instanceof TimeoutError) return true;
    if (err instanceof MultipleErrors) return err.errors.some(isUnreachable);
    const cause = (err as { cause?: unknown }).cause;
    return cause !== undefined && cause !== err && isUnreachable(cause);
}

function bufferOf(v: Buffer | string | null): Buffer | undefined {
    if (v === null) return undefined;
    return typeof v === "string" ? Buffer.from(v) : v;
}

/** One connection to the cluster for one command; `close()` it when done. */
export class KafkaClient {
    private readonly admin: Admin;
    private producer?: Producer;
    private reader?: Consumer;

    constructor(
        private readonly conn: KafkaConnection,
        private readonly clientId = "cdc-ops",
    ) {
        this.admin = new Admin(clientOptions(conn, clientId));
    }

    /** Runs a client call, turning "no broker answered" into UnreachableError naming the bootstrap list. */
    private async call<T>(what: string, op: () => Promise<T>): Promise<T> {
        try {
            return await op();
        } catch (err) {
            if (isUnreachable(err)) {
                throw new UnreachableError(
                    "Kafka",
                    this.conn.bootstrapServers.join(","),
                    `${what}: ${(err as Error).message}`,
                    "check the brokers run and the bootstrap list (--bootstrap-servers / CDC_BOOTSTRAP_SERVERS), and the CDC_KAFKA_* security settings",
                );
            }
            if (err instanceof GenericError || err instanceof MultipleErrors) throw new Error(`Kafka ${what}: ${errorText(err)}`);
            throw err;
        }
    }

    listTopics(): Promise<string[]> {
        return this.call("list topics", () => this.admin.listTopics({ includeInternals: false }));
    }

    /** Cluster metadata for these topics (partitions, leaders, topic ids); unknown topics are an error naming them. */
    metadata(topics: string[]): Promise<ClusterMetadata> {
        return this.call(`metadata of ${topics.join(", ")}`, () => this.admin.metadata({ topics, forceUpdate: true }));
    }

    async partitions(topic: string): Promise<number[]> {
        const md = await this.metadata([topic]);
        return md.topics.get(topic)!.partitions.map((_, i) => i);
    }

    /** The first offset still in each partition (after retention or compaction cleanup). */
    earliestOffsets(topics: string[]): Promise<PartitionOffset[]> {
        return this.listOffsets(topics, EARLIEST);
    }

    /** The next offset to be written in each partition (the high watermark). */
    latestOffsets(topics: string[]): Promise<PartitionOffset[]> {
        return this.listOffsets(topics, LATEST);
    }

    private async listOffsets(topics: string[], timestamp: bigint): Promise<PartitionOffset[]> {
        if (topics.length === 0) return [];
        const md = await this.metadata(topics);
        const request = topics.map((name) => ({
            name,
            partitions: md.topics.get(name)!.partitions.map((_, partitionIndex) => ({ partitionIndex, timestamp })),
        }));
        const answer = await this.call(`list offsets of ${topics.join(", ")}`, () => this.admin.listOffsets({ topics: request }));
        return answer.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: p.offset })));
    }

    /** Writes the records and waits for the brokers' acknowledgement (acks=all); returns where each batch landed. */
    async produce(records: OutRecord[]): Promise<PartitionOffset[]> {
        this.producer ??= new Producer({ ...clientOptions(this.conn, this.clientId), acks: -1 });
        const producer = this.producer;
        const messages = records.map((r) => ({
            topic: r.topic,
            key: bufferOf(r.key),
            value: bufferOf(r.value),
            partition: r.partition,
            timestamp: r.timestamp,
            // Without serializers the client writes header names as they are, so they are Buffers; each its own
            // object, so a repeated name stays a separate entry of the Map. The typings say a value is a Buffer, but
            // the record writer encodes null as length -1, Kafka's null header value (the integration spec reads it
            // back with the Java client).
            headers: new Map((r.headers ?? []).map(([k, v]) => [Buffer.from(k, "utf8"), (bufferOf(v) ?? null) as Buffer])),
        }));
        const result = await this.call(`produce to ${[...new Set(records.map((r) => r.topic))].join(", ")}`, () =>
            producer.send({ messages }),
        );
        return (result.offsets ?? []).map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }));
    }

    /**
     * Records of one partition from `from` (inclusive) up to `until` (exclusive; default: the end when the call
     * starts), at most `max`. Ends early when the partition has nothing more, so it never waits for new records.
     */
    async read(topic: string, partition: number, from: bigint, opts: { until?: bigint; max?: number } = {}): Promise<InRecord[]> {
        const md = await this.metadata([topic]);
        const t = md.topics.get(topic)!;
        const p = t.partitions[partition];
        if (!p) throw new Error(`Kafka topic ${topic} has no partition ${partition} (it has ${t.partitions.length})`);
        const until = opts.until ?? (await this.latestOffsets([topic])).find((o) => o.partition === partition)!.offset;
        const max = opts.max ?? Number.MAX_SAFE_INTEGER;
        // The Consumer class is only the carrier of the Fetch API here: its group is never joined.
        this.reader ??= new Consumer({ ...clientOptions(this.conn, this.clientId), groupId: `${this.clientId}-reader` });
        const reader = this.reader;
        const out: InRecord[] = [];
        let next = from;
        while (next < until && out.length < max) {
            const response = await this.call(`fetch ${topic}[${partition}] from ${next}`, () =>
                reader.fetch({
                    node: p.leader,
                    maxWaitTime: 100,
                    topics: [
                        {
                            topicId: t.id,
                            partitions: [
                                {
                                    partition,
                                    fetchOffset: next,
                                    partitionMaxBytes: 4 * 1024 * 1024,
                                    currentLeaderEpoch: -1,
                                    lastFetchedEpoch: -1,
                                },
                            ],
                        },
                    ],
                }),
            );
            const answer = response.responses[0]?.partitions[0];
            if (!answer) break;
            if (answer.errorCode !== 0) throw new Error(`Kafka fetch ${topic}[${partition}] from ${next}: error code ${answer.errorCode}`);
            const batches = answer.records ?? [];
            if (batches.length === 0) {
                // Below the log start (deleted by retention): continue from there rather than loop.
                if (next < answer.logStartOffset) next = answer.logStartOffset;
                else break;
                continue;
            }
            for (const batch of batches) {
                const afterBatch = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
                // Control batches (transaction markers) hold no data records.
                if ((batch.attributes & CONTROL_BATCH) === 0) {
                    for (const r of batch.records) {
                        const offset = batch.firstOffset + BigInt(r.offsetDelta);
                        if (offset < next || offset >= until || out.length >= max) continue;
                        out.push({
                            topic,
                            partition,
                            offset,
                            timestamp: recordTimestamp(batch, r),
                            key: r.key ?? null,
                            value: r.value ?? null,
                            headers: r.headers.map(([k, v]) => [k?.toString("utf8") ?? "", v ?? null]),
                        });
                    }
                }
                if (afterBatch > next) next = afterBatch;
            }
        }
        return out;
    }

    /** Every partition of the topic from its earliest to its current end (for compacted state topics: the latest value per key wins). */
    async readAll(topic: string): Promise<InRecord[]> {
        const [earliest, latest] = await Promise.all([this.earliestOffsets([topic]), this.latestOffsets([topic])]);
        const out: InRecord[] = [];
        for (const start of earliest) {
            const end = latest.find((l) => l.partition === start.partition)!.offset;
            out.push(...(await this.read(topic, start.partition, start.offset, { until: end })));
        }
        return out;
    }

    /**
     * The newest record with exactly this key, found where Kafka's default partitioner put it (murmur2 of the key)
     * and read backwards in chunks; undefined when the partition holds none. For compacted state such as
     * Connect's offsets topic, where a key's history is short after cleaning and only the newest record counts.
     */
    async latestWithKey(topic: string, key: Buffer, chunk = 500n): Promise<InRecord | undefined> {
        const partitionCount = (await this.partitions(topic)).length;
        const partition = defaultPartition(key, partitionCount);
        const [earliest, latest] = await Promise.all([this.earliestOffsets([topic]), this.latestOffsets([topic])]);
        const start = earliest.find((o) => o.partition === partition)!.offset;
        const wanted = key.toString("hex");
        for (let end = latest.find((o) => o.partition === partition)!.offset; end > start; end -= chunk) {
            const from = end - chunk > start ? end - chunk : start;
            const found = (await this.read(topic, partition, from, { until: end })).filter((r) => r.key?.toString("hex") === wanted);
            if (found.length > 0) return found[found.length - 1];
        }
        return undefined;
    }

    /** The group's committed offsets (the next record it will read), per partition it ever committed. */
    async committedOffsets(groupId: string): Promise<PartitionOffset[]> {
        const groups = await this.call(`committed offsets of group ${groupId}`, () =>
            this.admin.listConsumerGroupOffsets({ groups: [groupId] }),
        );
        return groups.flatMap((g) =>
            g.topics.flatMap((t) =>
                t.partitions
                    .filter((p) => p.committedOffset >= 0n)
                    .map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset })),
            ),
        );
    }

    /**
     * The group's lag on every partition of `topics`: how many records it has not consumed yet. A partition
     * it never committed counts whole (from the earliest offset), as a sink that has not started would see it.
     */
    async groupLag(groupId: string, topics: string[]): Promise<PartitionLag[]> {
        const [committed, earliest, latest] = await Promise.all([
            this.committedOffsets(groupId),
            this.earliestOffsets(topics),
            this.latestOffsets(topics),
        ]);
        return latest.map((end) => {
            const key = (o: PartitionOffset) => o.topic === end.topic && o.partition === end.partition;
            const c = committed.find(key)?.offset ?? null;
            const from = c ?? earliest.find(key)!.offset;
            return {
                topic: end.topic,
                partition: end.partition,
                committed: c,
                end: end.offset,
                lag: end.offset > from ? end.offset - from : 0n,
            };
        });
    }

    async close(): Promise<void> {
        await Promise.all([this.admin.close(), this.producer?.close(), this.reader?.close()]);
    }
}

/**
 * Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), the hash its default partitioner applies to a
 * record key: seed 0x9747b28c, 4-byte little-endian blocks, the tail mixed in, then the final avalanche.
 */
export function murmur2(data: Buffer): number {
    const m = 0x5bd1e995;
    let h = (0x9747b28c ^ data.length) | 0;
    const blocks = data.length >> 2;
    for (let i = 0; i < blocks; i++) {
        let k = data.readInt32LE(i * 4);
        k = Math.imul(k, m);
        k ^= k >>> 24;
        k = Math.imul(k, m);
        h = Math.imul(h, m) ^ k;
    }
    const tail = blocks * 4;
    const rest = data.length & 3;
    if (rest >= 3) h ^= data[tail + 2] << 16;
    if (rest >= 2) h ^= data[tail + 1] << 8;
    if (rest >= 1) h = Math.imul(h ^ data[tail], m);
    h ^= h >>> 13;
    h = Math.imul(h, m);
    h ^= h >>> 15;
    return h | 0;
}

/** The partition Kafka's default partitioner (and so Connect's offset store) gives a keyed record. */
export function defaultPartition(key: Buffer, partitions: number): number {
    return (murmur2(key) & 0x7fffffff) % partitions;
}
