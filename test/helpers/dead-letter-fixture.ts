/** One dead-lettered orders change as the ops CLI stores it; each spec overrides only the fields its case is about. */
import type { DeadLetterRecord } from "../../ops/dlq-record";

export function deadLetter(overrides: Partial<DeadLetterRecord> = {}): DeadLetterRecord {
    return {
        original_topic: "shop.public.orders",
        original_partition: 0,
        original_offset: 10,
        original_key: Buffer.from("k"),
        original_value: Buffer.from([0xff, 0xfe]),
        error_timestamp: Date.UTC(2026, 11, 1, 12, 0, 0),
        error_class: "org.apache.kafka.connect.errors.DataException",
        error_message: "bad",
        error_stack_trace: "trace line",
        retry_count: 0,
        resolution_status: "PENDING",
        connector_name: "shop-postgres-sink",
        task_id: 0,
        error_stage: "VALUE_CONVERTER",
        error_executing_class: null,
        original_headers: [],
        dlq_topic: "dlq-shop-postgres-sink",
        dlq_partition: 0,
        dlq_offset: 3,
        last_replay: null,
        status_changed_at: null,
        status_note: null,
        ...overrides,
    };
}
