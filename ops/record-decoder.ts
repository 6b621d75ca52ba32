/**
 * The one place the ops CLI turns the bytes of a data, notification or dead-lettered record into what its commands
 * read: the JsonConverter document `{"schema": <Connect schema>, "payload": <value>}`. The stack's `serialization`
 * decides the wire format (model/schema-registry.ts):
 * - `json`: the bytes already are that document and pass through untouched;
 * - `avro`: Confluent framing as Apicurio's AvroConverter writes it with `as-confluent=true` (byte 0, the 4-byte
 *   big-endian schema id, the Avro binary datum). The writer schema comes from the registry's Confluent-compatible
 *   API (`GET <url>/apis/ccompat/v7/schemas/ids/<id>`), once per id, and the converter's Avro properties
 *   (`connect.name`, `connect.parameters`, `connect.type`, `connect.default`) give back the Connect schema, so the
 *   document is the one JsonConverter would have written for the same change (bytes and decimals as base64).
 *
 * The registry is reached with the stack's `schemaRegistry.url` (or CDC_REGISTRY_URL), its CA from
 * CDC_REGISTRY_CA_FILE and basic credentials from CDC_REGISTRY_USERNAME and CDC_REGISTRY_PASSWORD_FILE: files and
 * names only, never a secret on a command line.
 */
import * as avro from "avsc";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import type { Serialization } from "../model/schema-registry";
import type { StackSpec } from "../model/spec";
import { UnreachableError } from "./command";

export const REGISTRY_ENV = {
    url: "CDC_REGISTRY_URL",
    caFile: "CDC_REGISTRY_CA_FILE",
    username: "CDC_REGISTRY_USERNAME",
    passwordFile: "CDC_REGISTRY_PASSWORD_FILE",
} as const;

/** Kafka Connect's schema in JsonConverter's JSON form. */
export interface ConnectSchema {
    type: string;
    optional: boolean;
    name?: string;
    version?: number;
    parameters?: Record<string, string>;
    default?: unknown;
    field?: string;
    fields?: ConnectSchema[];
    items?: ConnectSchema;
    keys?: ConnectSchema;
    values?: ConnectSchema;
}

export interface RegistryConnection {
    /** The Confluent-compatible API's base, e.g. http://registry:8080/apis/ccompat/v7. */
    ccompatUrl: string;
    ca?: string;
    auth?: { username: string; password: string };
}

/** Bytes the decoder cannot read: the message names the record and what was expected. */
export class UndecodableRecord extends Error {}

/** Fetches a writer schema (Avro JSON) by id; the decoder caches what it returns. */
export type SchemaSource = (id: number) => Promise<avro.Schema>;

const AVRO_TO_CONNECT: Record<string, string> = {
    int: "int32",
    long: "int64",
    float: "float32",
    double: "float64",
    boolean: "boolean",
    string: "string",
    bytes: "bytes",
    fixed: "bytes",
    enum: "string",
};

type AvroNode = string | AvroNode[] | ({ type: AvroNode; name?: string; namespace?: string } & Record<string, unknown>);

/** The Connect schema an Avro schema written by the Connect Avro converter (Confluent's AvroData) stands for. Pure. */
export function connectSchemaOf(node: AvroNode, named = new Map<string, ConnectSchema>(), namespace = ""): ConnectSchema {
    if (Array.isArray(node)) {
        const branches = node.filter((b) => b !== "null");
        if (branches.length !== 1) throw new Error(`a union other than [null, T]: ${JSON.stringify(node).slice(0, 80)}`);
        return { ...connectSchemaOf(branches[0], named, namespace), optional: true };
    }
    if (typeof node === "string") {
        if (AVRO_TO_CONNECT[node]) return { type: AVRO_TO_CONNECT[node], optional: false };
        const found = named.get(node.includes(".") || !namespace ? node : `${namespace}.${node}`) ?? named.get(node);
        if (!found) throw new Error(`reference to the unknown named type ${node}`);
        return { ...found, optional: false };
    }
    if (typeof node.type !== "string") return connectSchemaOf(node.type, named, namespace);
    const kind = node.type;
    const out: ConnectSchema = { type: (node["connect.type"] as string | undefined) ?? AVRO_TO_CONNECT[kind] ?? kind, optional: false };
    if (typeof node["connect.name"] === "string") out.name = node["connect.name"];
    if (typeof node["connect.version"] === "number") out.version = node["connect.version"];
    if (node["connect.parameters"]) out.parameters = { ...(node["connect.parameters"] as Record<string, string>) };
    // Avro spells a bytes default as ISO-8859-1 text, JsonConverter as base64.
    const byDefault = node["connect.default"];
    if (byDefault !== undefined)
        out.default =
            out.type === "bytes" && typeof byDefault === "string" ? Buffer.from(byDefault, "latin1").toString("base64") : byDefault;
    const fullName = (ns: string) => (node.name!.includes(".") || !ns ? node.name! : `${ns}.${node.name}`);
    if (kind === "record") {
        const ns = node.namespace ?? namespace;
        out.type = "struct";
        out.fields = [];
        named.set(fullName(ns), out);
        for (const f of node.fields as { name: string; type: AvroNode }[])
            out.fields.push({ ...connectSchemaOf(f.type, named, ns), field: f.name });
    } else if (kind === "array") {
        out.items = connectSchemaOf(node.items as AvroNode, named, namespace);
    } else if (kind === "map") {
        out.keys = { type: "string", optional: false };
        out.values = connectSchemaOf(node.values as AvroNode, named, namespace);
    } else if (kind === "enum" || kind === "fixed") {
        named.set(fullName(node.namespace ?? namespace), out);
    }
    return out;
}

/** An Avro value (avsc, unions unwrapped, no logical types) as JsonConverter writes the same Connect value. Pure. */
export function connectJsonOf(value: unknown, schema: ConnectSchema): unknown {
    if (value === null || value === undefined) return null;
    if (Buffer.isBuffer(value)) return value.toString("base64");
    if (schema.type === "struct") {
        const row = value as Record<string, unknown>;
        return Object.fromEntries(schema.fields!.map((f) => [f.field!, connectJsonOf(row[f.field!], f)]));
    }
    if (schema.type === "array") return (value as unknown[]).map((v) => connectJsonOf(v, schema.items!));
    if (schema.type === "map")
        return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, connectJsonOf(v, schema.values!)]));
    return value;
}

/** Confluent framing: byte 0, then the schema id as a big-endian 32-bit integer. */
export const FRAME_HEADER_BYTES = 5;

export function frameSchemaId(bytes: Buffer, where: string): number {
    if (bytes.length < FRAME_HEADER_BYTES || bytes[0] !== 0)
        throw new UndecodableRecord(
            `${where} is not Confluent-framed Avro (magic byte 0 and a 4-byte schema id); it starts ${bytes.subarray(0, 8).toString("hex") || "empty"}: check the stack's serialization (avro) matches the connectors' converter`,
        );
    return bytes.readUInt32BE(1);
}

/**
 * Avro longs as JavaScript numbers, as JSON.parse reads JsonConverter's: Debezium's ts_ns exceeds 2^53, where avsc's
 * own long type refuses to decode ("potential precision loss"); those digits are lost the same way in JSON.
 */
const LONG_AS_NUMBER = avro.types.LongType.__with({
    fromBuffer: (buf: Buffer) => Number(buf.readBigInt64LE()),
    toBuffer: (n: number) => {
        const buf = Buffer.alloc(8);
        buf.writeBigInt64LE(BigInt(Math.trunc(n)));
        return buf;
    },
    fromJSON: Number,
    toJSON: Number,
    isValid: (n: unknown) => typeof n === "number" && Number.isFinite(n),
    compare: (a: number, b: number) => a - b,
});

/** The first `length` bytes, not a copy. */
const view = (bytes: Buffer, length: number) => new Uint8Array(bytes.buffer, bytes.byteOffset, length);

interface PreparedSchema {
    type: avro.Type;
    connect: ConnectSchema;
}

export class RecordDecoder {
    private readonly schemas = new Map<number, Promise<PreparedSchema>>();

    constructor(
        readonly serialization: Serialization,
        private readonly fetchSchema?: SchemaSource,
    ) {
        if (serialization === "avro" && !fetchSchema) throw new Error("an Avro decoder needs the schema registry");
    }

    /**
     * The record as a JsonConverter document's bytes; null for a null (tombstone). JSON passes through as it is, so
     * a reader's own checks on it (not JSON, no schema) still say what is wrong with the record.
     */
    async toJsonDocument(bytes: Buffer | null, where: string): Promise<Buffer | null> {
        if (bytes === null || this.serialization === "json") return bytes;
        return Buffer.from(JSON.stringify(await this.decodeAvro(bytes, where)));
    }

    /**
     * Bytes that are equal for records of the same schema and differ otherwise, without decoding: JsonConverter's
     * text before `,"payload":`, or the framed schema id. Undefined when the record has neither.
     */
    schemaKey(bytes: Buffer | null): Uint8Array | undefined {
        if (bytes === null) return undefined;
        if (this.serialization === "avro")
            return bytes.length >= FRAME_HEADER_BYTES && bytes[0] === 0 ? view(bytes, FRAME_HEADER_BYTES) : undefined;
        const i = bytes.indexOf(',"payload":');
        return i < 0 ? undefined : view(bytes, i);
    }

    private async decodeAvro(bytes: Buffer, where: string): Promise<{ schema: ConnectSchema; payload: unknown }> {
        const id = frameSchemaId(bytes, where);
        const schema = await this.prepared(id);
        let datum: unknown;
        try {
            datum = schema.type.fromBuffer(bytes.subarray(FRAME_HEADER_BYTES));
        } catch (e) {
            throw new UndecodableRecord(`${where}: its Avro datum does not decode with schema ${id}: ${(e as Error).message}`);
        }
        return { schema: schema.connect, payload: connectJsonOf(datum, schema.connect) };
    }

    private prepared(id: number): Promise<PreparedSchema> {
        let p = this.schemas.get(id);
        if (!p) {
            p = this.fetchSchema!(id).then((writer) => ({
                type: avro.Type.forSchema(writer, { wrapUnions: false, registry: { long: LONG_AS_NUMBER } }),
                connect: connectSchemaOf(writer as AvroNode),
            }));
            // A failed fetch is not remembered: the next record asks again.
            p.catch(() => this.schemas.delete(id));
            this.schemas.set(id, p);
        }
        return p;
    }
}

/** One request to the registry with the connection's CA and login; `body` is sent as Confluent-compatible JSON. */
export function registryHttp(url: string, conn: RegistryConnection, body?: unknown): Promise<{ status: number; body: string }> {
    const u = new URL(url);
    const client = u.protocol === "https:" ? https : http;
    const headers: Record<string, string> = { Accept: "application/vnd.schemaregistry.v1+json, application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/vnd.schemaregistry.v1+json";
    if (conn.auth) headers.Authorization = `Basic ${Buffer.from(`${conn.auth.username}:${conn.auth.password}`).toString("base64")}`;
    return new Promise((resolve, reject) => {
        const req = client.request(u, { method: body === undefined ? "GET" : "POST", headers, ca: conn.ca, timeout: 15_000 }, (res) => {
            const chunks: Uint8Array[] = [];
            res.on("data", (c: Uint8Array) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
            res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error("no answer within 15 s")));
        req.on("error", reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
    });
}

/** The registry's writer schema of an id, through its Confluent-compatible API. */
export function registrySchemaSource(conn: RegistryConnection): SchemaSource {
    return async (id) => {
        const url = `${conn.ccompatUrl}/schemas/ids/${id}`;
        let answer: { status: number; body: string };
        try {
            answer = await registryHttp(url, conn);
        } catch (e) {
            throw new UnreachableError(
                "schema registry",
                url,
                (e as Error).message,
                `check the registry runs and the stack's schemaRegistry.url (or ${REGISTRY_ENV.url}), and ${REGISTRY_ENV.caFile} for https`,
            );
        }
        if (answer.status === 404)
            throw new UndecodableRecord(`schema registry ${url}: no schema with id ${id} (${answer.body.slice(0, 200)})`);
        if (answer.status !== 200)
            throw new Error(
                `schema registry ${url}: HTTP ${answer.status} ${answer.body.slice(0, 200)}${answer.status === 401 ? ` (set ${REGISTRY_ENV.username} and ${REGISTRY_ENV.passwordFile})` : ""}`,
            );
        const doc = JSON.parse(answer.body) as { schema?: string; schemaType?: string };
        if ((doc.schemaType ?? "AVRO") !== "AVRO" || typeof doc.schema !== "string")
            throw new Error(`schema registry ${url}: not an Avro schema answer: ${answer.body.slice(0, 200)}`);
        return JSON.parse(doc.schema) as avro.Schema;
    };
}

/** How to reach the stack's registry: its url (or CDC_REGISTRY_URL) and the CA and login files the environment names. */
export function registryConnection(spec: StackSpec, env: NodeJS.ProcessEnv): RegistryConnection {
    const base = env[REGISTRY_ENV.url] ?? spec.schemaRegistry?.url;
    if (!base) throw new Error(`the stack's serialization is avro but it declares no schemaRegistry.url; set one or ${REGISTRY_ENV.url}`);
    const file = (name: string) => {
        const p = env[name];
        if (!p) return undefined;
        try {
            return fs.readFileSync(p, "utf8");
        } catch (e) {
            throw new UnreachableError(
                `${name}`,
                p,
                (e as NodeJS.ErrnoException).code ?? (e as Error).message,
                `point ${name} at a readable file`,
            );
        }
    };
    const username = env[REGISTRY_ENV.username];
    const password = file(REGISTRY_ENV.passwordFile)?.trim();
    if (username && password === undefined) throw new Error(`${REGISTRY_ENV.username} is set without ${REGISTRY_ENV.passwordFile}`);
    return {
        ccompatUrl: `${base.replace(/\/+$/, "").replace(/\/apis\/.*$/, "")}/apis/ccompat/v7`,
        ca: file(REGISTRY_ENV.caFile),
        auth: username ? { username, password: password! } : undefined,
    };
}

/** The decoder of the stack's wire format; JSON needs no registry and never reaches one. */
export function recordDecoderFor(spec: StackSpec, env: NodeJS.ProcessEnv): RecordDecoder {
    if (spec.serialization !== "avro") return new RecordDecoder("json");
    return new RecordDecoder("avro", registrySchemaSource(registryConnection(spec, env)));
}
