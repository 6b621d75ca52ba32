/**
 * How a DeadLetterRecord is stored on a sink's state topic. On an Avro stack it is Confluent-framed (byte 0, the
 * 4-byte big-endian schema id, the Avro datum) with the id the registry gave `<state topic>-value`, which `pulumi up`
 * and the sandbox register (plan/schema-registry.ts); on a JSON stack it is the bare Avro datum, as every state
 * record was before. Both read back: a bare datum never starts with byte 0, because its first field, original_topic,
 * is a non-empty string whose zigzag-encoded length is at least 2.
 */
import type { StackSpec } from "../model/spec";
import { DEAD_LETTER_SCHEMA_FILE, deadLetterSchemaText, lookupSchemaRequest } from "../plan/schema-registry";
import { valueSubject } from "../model/schema-registry";
import { UnreachableError } from "./command";
import { decodeDeadLetter, encodeDeadLetter } from "./dlq-avro";
import type { DeadLetterRecord } from "./dlq-record";
import { FRAME_HEADER_BYTES, RegistryConnection, registryConnection, registryHttp, REGISTRY_ENV } from "./record-decoder";

export type StateEncoder = (record: DeadLetterRecord) => Promise<Buffer>;

/** The registry's id of the DeadLetterRecord schema under a subject. */
export type SchemaIdLookup = (subject: string) => Promise<number>;

export function framed(schemaId: number, datum: Buffer): Buffer {
    const out = Buffer.alloc(FRAME_HEADER_BYTES + datum.length);
    out.writeUInt32BE(schemaId, 1);
    out.set(datum, FRAME_HEADER_BYTES);
    return out;
}

/** A state record's value, framed or bare; the datum is read with the local DeadLetterRecord schema. */
export function decodeStateValue(bytes: Buffer, where: string): DeadLetterRecord {
    const isFramed = bytes.length >= FRAME_HEADER_BYTES && bytes[0] === 0;
    return decodeDeadLetter(isFramed ? bytes.subarray(FRAME_HEADER_BYTES) : bytes, where);
}

/** Bare Avro (JSON stacks), or framed with the id `lookup` finds for the state topic's value subject. */
export function stateEncoder(stateTopic: string, lookup: SchemaIdLookup | undefined): StateEncoder {
    if (!lookup) return async (record) => encodeDeadLetter(record);
    return async (record) => {
        const datum = encodeDeadLetter(record);
        return framed(await lookup(valueSubject(stateTopic)), datum);
    };
}

/** Looks the schema's id up per subject (`POST /subjects/<subject>`), once per subject for this process. */
export function registrySchemaIds(conn: RegistryConnection, schema: string): SchemaIdLookup {
    const ids = new Map<string, Promise<number>>();
    const baseUrl = conn.ccompatUrl.replace(/\/apis\/ccompat\/v7$/, "");
    const find = async (subject: string): Promise<number> => {
        const request = lookupSchemaRequest(baseUrl, subject, schema);
        let answer: { status: number; body: string };
        try {
            answer = await registryHttp(request.url, conn, JSON.parse(request.body!));
        } catch (e) {
            throw new UnreachableError(
                "schema registry",
                request.url,
                (e as Error).message,
                `check the registry runs and the stack's schemaRegistry.url (or ${REGISTRY_ENV.url}), and ${REGISTRY_ENV.caFile} for https`,
            );
        }
        if (answer.status === 404)
            throw new Error(
                `schema registry ${request.url}: subject ${subject} does not hold the DeadLetterRecord schema of ${DEAD_LETTER_SCHEMA_FILE} (${answer.body.slice(0, 200)}); \`pulumi up\` registers it (a sandbox does at start), nothing was written to the state topic`,
            );
        if (answer.status !== 200)
            throw new Error(
                `schema registry ${request.url}: HTTP ${answer.status} ${answer.body.slice(0, 200)}${answer.status === 401 ? ` (set ${REGISTRY_ENV.username} and ${REGISTRY_ENV.passwordFile})` : ""}`,
            );
        const id = (JSON.parse(answer.body) as { id?: unknown }).id;
        if (typeof id !== "number") throw new Error(`schema registry ${request.url}: no schema id in ${answer.body.slice(0, 200)}`);
        return id;
    };
    return (subject) => {
        let p = ids.get(subject);
        if (!p) {
            p = find(subject);
            // A failed lookup is not remembered: after the registration, the next write finds it.
            p.catch(() => ids.delete(subject));
            ids.set(subject, p);
        }
        return p;
    };
}

/** The lookup of the stack's registry on an Avro stack (connection made at the first write); none on a JSON stack. */
export function schemaIdLookupFor(spec: StackSpec, env: NodeJS.ProcessEnv): SchemaIdLookup | undefined {
    if (spec.serialization !== "avro") return undefined;
    let lookup: SchemaIdLookup | undefined;
    return (subject) => {
        lookup ??= registrySchemaIds(registryConnection(spec, env), deadLetterSchemaText());
        return lookup(subject);
    };
}
