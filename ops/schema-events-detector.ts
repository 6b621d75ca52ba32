/**
 * The schema-evolution detector: reads each captured table's data topic from where it stopped, compares every
 * change event's value schema with the table's last one, and turns the differences into seed 000 §7 events.
 *
 * `observe` is the pure step; `detectPass` reads every partition up to its end offset at the start of the pass,
 * appends the events and then saves its place, chunk by chunk, so a crash or a kill costs at most one chunk's
 * re-reading and never a duplicate (see schema-events-store.ts). A record it cannot read is logged with its topic,
 * partition and offset and skipped; the pass goes on.
 */
import { diffColumns, type ColumnChange } from "./schema-events-diff";
import { handleChange, type SinkBehaviour, type TargetTable } from "./schema-events-handling";
import { schemaEventId, typeText, type SchemaEvolutionEvent } from "./schema-events-model";
import { comparePositions, parseRecord } from "./schema-events-record";
import { partitionKey, type DetectorState, type SchemaEventStore, type TableState } from "./schema-events-store";
import { RecordDecoder, UndecodableRecord } from "./record-decoder";

/** One captured table: its data topic, the names in its events, and the sink that writes it. */
export interface TopicBinding {
    topic: string;
    pipeline: string;
    /** `schema.table` (`database.table` for MySQL/MariaDB), as the source's include list names it. */
    sourceTable: string;
    sink: SinkBehaviour;
}

export interface RecordIn {
    partition: number;
    offset: bigint;
    value: Buffer | null;
}

export interface Observation {
    /** The table's schema after the record (unchanged when the record says nothing new). */
    table?: TableState;
    changes: ColumnChange[];
    /** The record's schema is the table's schema after it (false for problems, tombstones and stale records). */
    current: boolean;
    problem?: string;
}

/** Needs attention from a person: everything but a change the target already takes. */
export const needsAttention = (e: Pick<SchemaEvolutionEvent, "handling_status">) => e.handling_status !== "AUTO_APPLIED";

/** Reads one record against the table's last schema: its column changes, if any, and the schema to keep. */
export function observe(table: TableState | undefined, rec: RecordIn): Observation {
    const parsed = parseRecord(rec.value);
    if (parsed.kind === "tombstone") return { table, changes: [], current: false };
    if (parsed.kind === "problem") return { table, changes: [], current: false, problem: parsed.problem };
    const adopted = { table: { columns: parsed.columns, position: parsed.position, partition: rec.partition }, current: true };
    if (!table) return { ...adopted, changes: [] };
    const changes = diffColumns(table.columns, parsed.columns);
    if (changes.length === 0) return { table, changes, current: true };
    // Written before the schema we hold, on another partition still delivering older changes: not a change back.
    // Within one partition the order is the source's, whatever the positions say (a MySQL failover renames binlogs).
    if (rec.partition !== table.partition && comparePositions(parsed.position, table.position) < 0)
        return { table, changes: [], current: false };
    return { ...adopted, changes };
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

/** observe() on the record's JsonConverter document; a record the decoder cannot read is a problem to log. */
async function observeDecoded(decoder: RecordDecoder, table: TableState | undefined, topic: string, rec: RecordIn): Promise<Observation> {
    try {
        return observe(table, { ...rec, value: await decoder.toJsonDocument(rec.value, `${topic}[${rec.partition}]@${rec.offset}`) });
    } catch (e) {
        if (e instanceof UndecodableRecord) return { table, changes: [], current: false, problem: e.message };
        throw e;
    }
}

/** Seed 000 §7 events for the changes one record revealed. */
export function eventsFor(
    changes: readonly ColumnChange[],
    binding: TopicBinding,
    rec: RecordIn,
    target: TargetTable,
    now: Date,
): SchemaEvolutionEvent[] {
    const offset = rec.offset.toString();
    return changes.map((change): SchemaEvolutionEvent => {
        const column = change.after ?? change.before!;
        const handling = handleChange(change, binding.sink, target);
        return {
            event_id: schemaEventId(binding.topic, rec.partition, offset, change.change_type, column.name),
            detected_at: now.toISOString(),
            source_table: binding.sourceTable,
            change_type: change.change_type,
            change_details: {
                column_name: column.name,
                ...(change.change_type === "RENAME_COLUMN" ? { old_column_name: change.before!.name } : {}),
                old_type: change.before ? typeText(change.before) : null,
                new_type: change.after ? typeText(change.after) : null,
                nullable: column.optional,
                default_value: column.defaultValue ?? null,
            },
            handling_status: handling.handling_status,
            connector_action: handling.connector_action,
            alert_sent: false,
            pipeline: binding.pipeline,
            reason: handling.reason,
            source_position: { topic: binding.topic, partition: rec.partition, offset },
        };
    });
}

/** What the pass needs of Kafka (ops/kafka-client.ts's KafkaClient). */
export interface TopicReader {
    earliestOffsets(topics: string[]): Promise<{ topic: string; partition: number; offset: bigint }[]>;
    latestOffsets(topics: string[]): Promise<{ topic: string; partition: number; offset: bigint }[]>;
    read(topic: string, partition: number, from: bigint, opts: { until?: bigint; max?: number }): Promise<RecordIn[]>;
}

export interface PassOptions {
    now: () => Date;
    /** One line per skipped record or notable thing, for stderr. */
    log: (line: string) => void;
    /**
     * Delivers the alerting signal for the whole log including `fresh` (the metrics push); resolves to whether it
     * got through, which becomes `alert_sent` of the fresh events that need attention.
     */
    deliver?: (all: readonly SchemaEvolutionEvent[], state: DetectorState) => Promise<boolean>;
    /** The target table's columns now, or undefined when the target cannot be inspected. */
    targetTable?: (binding: TopicBinding) => Promise<TargetTable>;
    /** Records per read; the state is saved after each. */
    chunk?: number;
    /** The stack's wire format (ops/record-decoder.ts); JSON unless given. */
    decoder?: RecordDecoder;
}

export interface PassResult {
    /** Events appended by this pass. */
    events: SchemaEvolutionEvent[];
    records: number;
    skipped: number;
}

export async function detectPass(
    reader: TopicReader,
    bindings: readonly TopicBinding[],
    store: SchemaEventStore,
    opts: PassOptions,
): Promise<PassResult> {
    const state = store.readState();
    const log = store.readEvents();
    for (const line of log.badLines) opts.log(`${store.eventsFile}:${line} is not an event; left in place and ignored`);
    const all = [...log.events];
    const known = new Set(all.map((e) => e.event_id));
    const result: PassResult = { events: [], records: 0, skipped: 0 };
    const topics = bindings.map((b) => b.topic);
    const [earliest, latest] = await Promise.all([reader.earliestOffsets(topics), reader.latestOffsets(topics)]);
    const chunk = opts.chunk ?? 500;
    // Per topic, the schema bytes (JsonConverter's text before the payload, or Avro's framed schema id) of the
    // table's current schema: records with the same bytes have the same schema, so a pass decodes and parses only
    // the records whose schema differs, about one in many thousands.
    const currentSchema = new Map<string, Uint8Array>();
    const decoder = opts.decoder ?? new RecordDecoder("json");

    for (const end of latest) {
        const binding = bindings.find((b) => b.topic === end.topic)!;
        const key = partitionKey(end.topic, end.partition);
        const first = earliest.find((e) => e.topic === end.topic && e.partition === end.partition)?.offset ?? 0n;
        let next = state.next[key] === undefined ? first : BigInt(state.next[key]);
        if (next < first) {
            opts.log(
                `${key}: offsets ${next}..${first - 1n} were deleted by retention before the detector read them; changes in them are not reported`,
            );
            next = first;
        }
        while (next < end.offset) {
            const records = await reader.read(end.topic, end.partition, next, { until: end.offset, max: chunk });
            if (records.length === 0) break;
            const found: SchemaEvolutionEvent[] = [];
            for (const rec of records) {
                const prefix = decoder.schemaKey(rec.value);
                const current = currentSchema.get(end.topic);
                if (prefix && current && sameBytes(prefix, current)) continue;
                const seen = await observeDecoded(decoder, state.tables[end.topic], end.topic, rec);
                // A copy: the view would keep the whole fetch response it points into alive.
                if (seen.current && prefix) currentSchema.set(end.topic, prefix.slice());
                if (seen.problem) {
                    opts.log(`skipped ${end.topic}[${rec.partition}]@${rec.offset}: ${seen.problem}`);
                    state.skipped++;
                    result.skipped++;
                }
                if (seen.table) state.tables[end.topic] = seen.table;
                if (seen.changes.length > 0) {
                    const target = opts.targetTable ? await opts.targetTable(binding) : undefined;
                    found.push(...eventsFor(seen.changes, binding, rec, target, opts.now()));
                }
            }
            result.records += records.length;
            next = records[records.length - 1].offset + 1n;
            const fresh = found.filter((e) => !known.has(e.event_id));
            if (fresh.length > 0 && opts.deliver) {
                const delivered = await opts.deliver([...all, ...fresh], state).catch((e: Error) => {
                    opts.log(`alert delivery failed, events logged with alert_sent=false: ${e.message}`);
                    return false;
                });
                for (const e of fresh) e.alert_sent = delivered && needsAttention(e);
            }
            const appended = store.append(fresh, known);
            all.push(...appended);
            result.events.push(...appended);
            state.next[key] = next.toString();
            store.writeState(state);
        }
    }
    return result;
}
