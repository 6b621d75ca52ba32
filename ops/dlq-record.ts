/**
 * Seed 000 §6's DeadLetterRecord, built from what Kafka Connect writes to a sink's dead letter topic: the failed
 * record's own key, value and headers, plus the error-context headers `errors.deadletterqueue.context.headers.enable`
 * adds (`__connect.errors.*`, Kafka's DeadLetterQueueReporter). The Avro schema is ops/schemas/dead-letter-record.avsc;
 * the field names here are its names, so a record is its own Avro datum.
 */

export type ResolutionStatus = "PENDING" | "RESOLVED" | "IGNORED";
export const RESOLUTION_STATUSES: readonly ResolutionStatus[] = ["PENDING", "RESOLVED", "IGNORED"];

export type ReplayOutcome = "IN_FLIGHT" | "APPLIED" | "DEAD_LETTERED";

export interface Header {
    key: string;
    value: Buffer | null;
}

export interface Replay {
    sent_at: number;
    retry_topic: string;
    retry_partition: number;
    retry_offset: number;
    outcome: ReplayOutcome;
}

export interface DeadLetterRecord {
    original_topic: string;
    original_partition: number;
    original_offset: number;
    original_key: Buffer | null;
    original_value: Buffer | null;
    /** Milliseconds since the epoch (Avro timestamp-millis). */
    error_timestamp: number;
    error_class: string;
    error_message: string;
    error_stack_trace: string;
    retry_count: number;
    resolution_status: ResolutionStatus;
    connector_name: string | null;
    task_id: number | null;
    error_stage: string | null;
    error_executing_class: string | null;
    original_headers: Header[];
    dlq_topic: string | null;
    dlq_partition: number | null;
    dlq_offset: number | null;
    last_replay: Replay | null;
    status_changed_at: number | null;
    status_note: string | null;
}

/** A record as read from a dead letter topic, whatever Kafka client read it. */
export interface RawRecord {
    topic: string;
    partition: number;
    offset: number;
    /** The record's timestamp: the append time on a LogAppendTime topic such as the planned dead letter topics. */
    timestamp: number;
    key: Buffer | null;
    value: Buffer | null;
    headers: Header[];
}

/** Kafka Connect's error-context header names (org.apache.kafka.connect.runtime.errors.DeadLetterQueueReporter). */
export const CONNECT_ERROR_HEADERS = {
    topic: "__connect.errors.topic",
    partition: "__connect.errors.partition",
    offset: "__connect.errors.offset",
    connectorName: "__connect.errors.connector.name",
    taskId: "__connect.errors.task.id",
    stage: "__connect.errors.stage",
    executingClass: "__connect.errors.class.name",
    exceptionClass: "__connect.errors.exception.class.name",
    exceptionMessage: "__connect.errors.exception.message",
    exceptionStacktrace: "__connect.errors.exception.stacktrace",
} as const;
const CONNECT_ERROR_PREFIX = "__connect.errors.";

/**
 * Headers `cdc dlq replay` puts on the copy it sends to the sink's retry topic. Connect copies a failed record's
 * headers into its dead letter, so a replay that fails again comes back naming the record it is a retry of.
 */
export const REPLAY_HEADERS = {
    topic: "cdc.replay.original.topic",
    partition: "cdc.replay.original.partition",
    offset: "cdc.replay.original.offset",
    attempt: "cdc.replay.attempt",
} as const;
const REPLAY_PREFIX = "cdc.replay.";

/** Where a dead letter came from, `<topic>/<partition>/<offset>`: the key of its resolution state, and what operators type. */
export interface RecordId {
    topic: string;
    partition: number;
    offset: number;
}

export const formatId = (id: RecordId): string => `${id.topic}/${id.partition}/${id.offset}`;
export const idOf = (r: Pick<DeadLetterRecord, "original_topic" | "original_partition" | "original_offset">): string =>
    formatId({ topic: r.original_topic, partition: r.original_partition, offset: r.original_offset });

/** Kafka topic names are [a-zA-Z0-9._-]: a slash cannot be part of one, so the id splits unambiguously. */
export function parseId(text: string): RecordId | undefined {
    const m = /^([a-zA-Z0-9._-]+)\/(\d+)\/(\d+)$/.exec(text);
    if (!m) return undefined;
    const partition = Number(m[2]);
    const offset = Number(m[3]);
    if (!Number.isSafeInteger(partition) || !Number.isSafeInteger(offset) || partition > 2 ** 31 - 1) return undefined;
    return { topic: m[1], partition, offset };
}

/** The dead letter's header as text (Connect writes every error header as UTF-8); the last one wins, as Connect adds them last. */
function headerText(headers: readonly Header[], key: string): string | undefined {
    for (let i = headers.length - 1; i >= 0; i--) {
        if (headers[i].key === key) return headers[i].value === null ? undefined : headers[i].value!.toString("utf8");
    }
    return undefined;
}

function integerHeader(headers: readonly Header[], key: string, where: string): number | undefined {
    const text = headerText(headers, key);
    if (text === undefined) return undefined;
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text)))
        throw new Error(`${where}: header ${key} is ${JSON.stringify(text)}, not an integer`);
    return Number(text);
}

/**
 * The DeadLetterRecord a dead letter stands for, PENDING with no retry (the resolution state, kept apart, overrides
 * those). Throws, naming the dead letter, when it lacks Connect's context headers: the sink was configured without
 * `errors.deadletterqueue.context.headers.enable`, or something else wrote to the topic.
 */
export function deadLetterFromRaw(raw: RawRecord): DeadLetterRecord {
    const where = `dead letter ${raw.topic}/${raw.partition}/${raw.offset}`;
    const h = raw.headers;
    const required = (key: string): string => {
        const text = headerText(h, key);
        if (text === undefined) {
            throw new Error(
                `${where} has no ${key} header: set errors.deadletterqueue.context.headers.enable=true on the sink (connectors/sinks.ts does)`,
            );
        }
        return text;
    };
    const requiredInteger = (key: string): number => {
        required(key);
        return integerHeader(h, key, where)!;
    };
    // A replay that failed again is a dead letter of the retry topic; its replay headers name the record it retried.
    const original: RecordId =
        headerText(h, REPLAY_HEADERS.topic) !== undefined
            ? {
                  topic: required(REPLAY_HEADERS.topic),
                  partition: requiredInteger(REPLAY_HEADERS.partition),
                  offset: requiredInteger(REPLAY_HEADERS.offset),
              }
            : {
                  topic: required(CONNECT_ERROR_HEADERS.topic),
                  partition: requiredInteger(CONNECT_ERROR_HEADERS.partition),
                  offset: requiredInteger(CONNECT_ERROR_HEADERS.offset),
              };
    const errorClass = required(CONNECT_ERROR_HEADERS.exceptionClass);
    const stage = headerText(h, CONNECT_ERROR_HEADERS.stage) ?? null;
    const connector = headerText(h, CONNECT_ERROR_HEADERS.connectorName) ?? null;
    const taskId = integerHeader(h, CONNECT_ERROR_HEADERS.taskId, where) ?? null;
    const message =
        headerText(h, CONNECT_ERROR_HEADERS.exceptionMessage) ??
        `${errorClass} without a message in ${stage ?? "an unknown stage"} of ${connector ?? "the sink"}${taskId === null ? "" : ` task ${taskId}`}`;
    return {
        original_topic: original.topic,
        original_partition: original.partition,
        original_offset: original.offset,
        original_key: raw.key,
        original_value: raw.value,
        error_timestamp: raw.timestamp,
        error_class: errorClass,
        error_message: message,
        error_stack_trace: headerText(h, CONNECT_ERROR_HEADERS.exceptionStacktrace) ?? "",
        retry_count: 0,
        resolution_status: "PENDING",
        connector_name: connector,
        task_id: taskId,
        error_stage: stage,
        error_executing_class: headerText(h, CONNECT_ERROR_HEADERS.executingClass) ?? null,
        original_headers: h.filter((x) => !x.key.startsWith(CONNECT_ERROR_PREFIX) && !x.key.startsWith(REPLAY_PREFIX)),
        dlq_topic: raw.topic,
        dlq_partition: raw.partition,
        dlq_offset: raw.offset,
        last_replay: null,
        status_changed_at: null,
        status_note: null,
    };
}

/** Whether a dead letter is the failure of one particular replay (Connect names the retry topic's record it failed on). */
export function isDeadLetterOf(raw: RawRecord, replay: Pick<Replay, "retry_topic" | "retry_partition" | "retry_offset">): boolean {
    return (
        headerText(raw.headers, CONNECT_ERROR_HEADERS.topic) === replay.retry_topic &&
        headerText(raw.headers, CONNECT_ERROR_HEADERS.partition) === String(replay.retry_partition) &&
        headerText(raw.headers, CONNECT_ERROR_HEADERS.offset) === String(replay.retry_offset)
    );
}

/** The headers a replay carries: the record's own, then where it came from and which attempt this is. */
export function replayHeaders(record: DeadLetterRecord, attempt: number): Header[] {
    const text = (s: string | number) => Buffer.from(String(s), "utf8");
    return [
        ...record.original_headers,
        { key: REPLAY_HEADERS.topic, value: text(record.original_topic) },
        { key: REPLAY_HEADERS.partition, value: text(record.original_partition) },
        { key: REPLAY_HEADERS.offset, value: text(record.original_offset) },
        { key: REPLAY_HEADERS.attempt, value: text(attempt) },
    ];
}
