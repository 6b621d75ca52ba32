/**
 * How a DeadLetterRecord is shown: JSON with its bytes as base64 (and as text when they are UTF-8, as Debezium's
 * JSON records are), timestamps as ISO 8601; and the lines of `cdc dlq list` and `cdc dlq show`.
 */
import type { DeadLetterRecord } from "./dlq-record";
import { idOf } from "./dlq-record";
import { Column } from "./output";
import { RecordDecoder, UndecodableRecord } from "./record-decoder";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The bytes as UTF-8 text, or undefined when they are not valid UTF-8. */
export function utf8(bytes: Buffer | null): string | undefined {
    if (bytes === null) return undefined;
    try {
        return new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
    } catch {
        return undefined;
    }
}

export type PresentedRecord = ReturnType<typeof present>;

export function present(r: DeadLetterRecord) {
    return {
        id: idOf(r),
        ...r,
        original_key: r.original_key?.toString("base64") ?? null,
        original_key_text: utf8(r.original_key) ?? null,
        original_value: r.original_value?.toString("base64") ?? null,
        original_value_text: utf8(r.original_value) ?? null,
        original_headers: r.original_headers.map((h) => ({
            key: h.key,
            value: h.value?.toString("base64") ?? null,
            text: utf8(h.value) ?? null,
        })),
        error_timestamp: iso(r.error_timestamp),
        status_changed_at: iso(r.status_changed_at),
        last_replay: r.last_replay ? { ...r.last_replay, sent_at: iso(r.last_replay.sent_at) } : null,
    };
}

/**
 * present(), with the original key and value as the JsonConverter document the decoder makes of them: on an Avro
 * stack the bytes are framed Avro, whose UTF-8 reading means nothing. Bytes the decoder cannot read (often the very
 * reason the record was dead-lettered) keep only their base64, and the text says why.
 */
export async function presentDecoded(r: DeadLetterRecord, decoder: RecordDecoder): Promise<PresentedRecord> {
    const shown = present(r);
    if (decoder.serialization === "json") return shown;
    const text = async (bytes: Buffer | null, what: string): Promise<string | null> => {
        try {
            return (await decoder.toJsonDocument(bytes, `${shown.id} ${what}`))?.toString("utf8") ?? null;
        } catch (e) {
            if (e instanceof UndecodableRecord) return `(not decodable: ${e.message})`;
            throw e;
        }
    };
    return { ...shown, original_key_text: await text(r.original_key, "key"), original_value_text: await text(r.original_value, "value") };
}

const shortClass = (name: string): string => name.slice(name.lastIndexOf(".") + 1);
const oneLine = (text: string, max: number): string => {
    const flat = text.replace(/\s+/g, " ").trim();
    return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

export const LIST_COLUMNS: Column<PresentedRecord>[] = [
    { header: "ID", value: (r) => r.id },
    { header: "STATUS", value: (r) => r.resolution_status },
    { header: "RETRIES", value: (r) => r.retry_count, align: "right" },
    { header: "FAILED AT", value: (r) => r.error_timestamp },
    { header: "STAGE", value: (r) => r.error_stage },
    { header: "ERROR", value: (r) => `${shortClass(r.error_class)}: ${oneLine(r.error_message, 80)}` },
];

/** `cdc dlq show`: every field, one per line, the stack trace last. */
export function showText(r: PresentedRecord): string {
    const lines: [string, unknown][] = [
        ["id", r.id],
        ["resolution_status", r.resolution_status],
        ["retry_count", r.retry_count],
        ["status_changed_at", r.status_changed_at],
        ["status_note", r.status_note],
        ["original_topic", r.original_topic],
        ["original_partition", r.original_partition],
        ["original_offset", r.original_offset],
        ["original_key", r.original_key_text ?? (r.original_key === null ? null : `base64:${r.original_key}`)],
        ["original_value", r.original_value_text ?? (r.original_value === null ? null : `base64:${r.original_value}`)],
        ["original_headers", r.original_headers.map((h) => `${h.key}=${h.text ?? `base64:${h.value}`}`).join(", ") || null],
        ["error_timestamp", r.error_timestamp],
        ["connector_name", r.connector_name],
        ["task_id", r.task_id],
        ["error_stage", r.error_stage],
        ["error_executing_class", r.error_executing_class],
        ["error_class", r.error_class],
        ["error_message", r.error_message],
        ["dead letter", r.dlq_topic === null ? null : `${r.dlq_topic}/${r.dlq_partition}/${r.dlq_offset}`],
        [
            "last_replay",
            r.last_replay
                ? `${r.last_replay.outcome}, sent ${r.last_replay.sent_at} to ${r.last_replay.retry_topic}/${r.last_replay.retry_partition}/${r.last_replay.retry_offset}`
                : null,
        ],
    ];
    const width = Math.max(...lines.map(([k]) => k.length));
    const body = lines.map(([k, v]) => `${k.padEnd(width)}  ${v === null || v === undefined ? "-" : String(v)}`).join("\n");
    return `${body}\nerror_stack_trace:\n${r.error_stack_trace || "-"}\n`;
}
