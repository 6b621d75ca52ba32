/**
 * The DeadLetterRecord's Avro schema (ops/schemas/dead-letter-record.avsc) and its binary encoding, which is what
 * the resolution-state topic stores. Encoding validates: a record that does not conform is an error naming the
 * field, never a silently different message.
 */
import * as avro from "avsc";
import * as fs from "fs";
import { DEAD_LETTER_SCHEMA_FILE } from "../plan/schema-registry";
import type { DeadLetterRecord } from "./dlq-record";

export { DEAD_LETTER_SCHEMA_FILE };

let cached: avro.Type | undefined;

export function deadLetterType(): avro.Type {
    cached ??= avro.Type.forSchema(JSON.parse(fs.readFileSync(DEAD_LETTER_SCHEMA_FILE, "utf8")) as avro.Schema);
    return cached;
}

/** The paths of the fields that do not conform, e.g. ["original_offset"]; empty when the record conforms. */
export function nonConformingFields(record: unknown): string[] {
    const paths: string[] = [];
    deadLetterType().isValid(record, { errorHook: (p) => paths.push(p.join(".")) });
    return paths;
}

export function encodeDeadLetter(record: DeadLetterRecord): Buffer {
    const bad = nonConformingFields(record);
    if (bad.length > 0)
        throw new Error(
            `dead letter record ${record.original_topic}/${record.original_partition}/${record.original_offset} does not conform to ${DEAD_LETTER_SCHEMA_FILE} at ${bad.join(", ")}`,
        );
    return deadLetterType().toBuffer(record);
}

export function decodeDeadLetter(bytes: Buffer, where: string): DeadLetterRecord {
    try {
        return deadLetterType().fromBuffer(bytes) as DeadLetterRecord;
    } catch (e) {
        throw new Error(`${where} is not a DeadLetterRecord of ${DEAD_LETTER_SCHEMA_FILE}: ${(e as Error).message}`);
    }
}
