/**
 * Avro on every data topic (issue 15 items 3 and 4): a sandbox of its own ("e2e-avro") runs the dev stack with
 * serialization avro against Apicurio Registry 3.3.3, the sources registering schemas through the Apicurio
 * converter. What is checked is read from the registry's Confluent-compatible API and from the topics' bytes, not
 * from the code that configured them.
 */
import { expect } from "chai";
import * as fs from "fs";
import { KafkaClient } from "../../ops/kafka-client";
import { dataTopicName, dlqStateTopicName } from "../../model/naming";
import { DEAD_LETTER_SCHEMA_FILE } from "../../plan/schema-registry";
import { cdc } from "./ops-run";
import { keySubject, valueSubject } from "../../model/schema-registry";
import { prometheusRuleBody } from "../../plan/monitoring";
import { lakehousePipelines } from "../../plan/lakehouse";
import { currentStateSql, describeProgress, lakehouseCaughtUp, lakehouseProgress } from "../../sandbox/lakehouse-compare";
import { streamChanges } from "../../sandbox/stream";
import { confluentApiUrl } from "../../sandbox/schema-registry";
import { runEvolutionPlan } from "./evolution-plan";
import { E2E, expectInSync, START_TIMEOUT_MS, startE2E, targetQuery, waitFor } from "./fixture";

const DEAD_LETTER_SCHEMA = JSON.parse(fs.readFileSync(DEAD_LETTER_SCHEMA_FILE, "utf8")) as AvroRecordSchema;
interface AvroRecordSchema {
    name: string;
    fields: { name: string }[];
}

type AvroType = string | AvroType[] | { type: string | AvroType; name?: string; fields?: AvroField[] };
interface AvroField {
    name: string;
    type: AvroType;
}
interface AvroRecord {
    type: "record";
    name: string;
    fields: AvroField[];
}

const CONFLUENT_JSON = { "Content-Type": "application/vnd.schemaregistry.v1+json" };

const nullable = (t: AvroType): boolean => t === "null" || (Array.isArray(t) && t.includes("null"));

/** Every named record of a schema by its name, so a later field's reference (`["null", "Value"]`) resolves. */
function namedRecords(t: AvroType, into = new Map<string, AvroRecord>()): Map<string, AvroRecord> {
    if (Array.isArray(t)) t.forEach((x) => namedRecords(x, into));
    else if (typeof t === "object") {
        if (t.type === "record" && t.name) into.set(t.name, t as AvroRecord);
        if (typeof t.type === "object") namedRecords(t.type, into);
        t.fields?.forEach((f) => namedRecords(f.type, into));
    }
    return into;
}

/** The row record of an envelope's `after` field (a union of null and the record, or of null and its name). */
function afterRecord(envelope: AvroRecord): AvroRecord | undefined {
    const records = namedRecords(envelope);
    const type = envelope.fields.find((f) => f.name === "after")?.type;
    const branches = Array.isArray(type) ? type : [type];
    for (const b of branches) {
        if (typeof b === "string" && records.has(b)) return records.get(b);
        if (b && typeof b === "object" && !Array.isArray(b) && b.type === "record") return b as AvroRecord;
    }
    return undefined;
}

describe("sandbox e2e: Avro with a schema registry (PostgreSQL and MariaDB pipelines)", function () {
    this.timeout(10 * 60_000);
    let env: E2E;
    let api: string;

    const registry = async <T>(pathname: string, init?: RequestInit): Promise<T> => {
        const response = await fetch(`${api}${pathname}`, init);
        if (!response.ok)
            throw new Error(`registry ${init?.method ?? "GET"} ${pathname}: HTTP ${response.status} ${await response.text()}`);
        return (await response.json()) as T;
    };
    const latestSchema = async (subject: string) =>
        JSON.parse((await registry<{ schema: string }>(`/subjects/${subject}/versions/latest`)).schema) as AvroRecord;
    const dataTopics = () =>
        env.sb.spec.pipelines.flatMap((p) => p.source.tables.map((t) => ({ pipeline: p, table: t, topic: dataTopicName(p.source, t) })));

    before(async function () {
        this.timeout(START_TIMEOUT_MS);
        env = await startE2E({ name: "e2e-avro", serialization: "avro" });
        expect(env.sb.registry, "the Avro sandbox runs a registry").to.not.equal(undefined);
        api = confluentApiUrl(env.sb.registry!.url);
    });

    after(async function () {
        this.timeout(120_000);
        await env?.writers.close();
        await env?.sb.stop();
    });

    it("registers <topic>-key and <topic>-value for every data topic and writes Confluent-framed Avro", async () => {
        const subjects = await registry<string[]>("/subjects");
        const kafka = new KafkaClient({ bootstrapServers: [env.sb.kafka.bootstrapServers] }, "avro-e2e");
        try {
            for (const { topic } of dataTopics().filter((d) => env.pairs.some((p) => p.table === d.table.table))) {
                expect(subjects, topic).to.include.members([keySubject(topic), valueSubject(topic)]);
                const [first] = await kafka.read(topic, 0, 0n, { max: 1 });
                expect(first, `a record on ${topic}`).to.not.equal(undefined);
                for (const [part, bytes] of [
                    ["key", first.key],
                    ["value", first.value],
                ] as const) {
                    // Confluent's wire format: magic byte 0, then the 4-byte id the registry gives the schema.
                    expect(bytes![0], `${topic} ${part}: magic byte`).to.equal(0);
                    const id = bytes!.readInt32BE(1);
                    const subject = part === "key" ? keySubject(topic) : valueSubject(topic);
                    const held = await registry<{ subject: string; version: number }[]>(`/schemas/ids/${id}/versions`);
                    expect(
                        held.map((v) => v.subject),
                        `${topic} ${part}: the subjects holding schema id ${id}`,
                    ).to.include(subject);
                }
            }
        } finally {
            await kafka.close();
        }
    });

    it("the JDBC sink reads the Avro changes into PostgreSQL: every target table equals its source", async () => {
        await streamChanges(env.stream, env.writers, { count: 600, ratePerSecond: 0 });
        await expectInSync(env);
    });

    it("the lakehouse writers read the Avro changes: every destination holds the source's keys, customers_cdc its values", async () => {
        let last = "";
        await waitFor("the lakehouse tables", 180_000, async () => {
            const progress = await lakehouseProgress(env.sb);
            last = describeProgress(progress);
            return lakehouseCaughtUp(progress);
        }).catch(() => {
            throw new Error(`the lakehouse tables did not catch up in 180 s: ${last}`);
        });
        const customers = lakehousePipelines(env.sb.spec)
            .flatMap((p) => p.destinations)
            .find((d) => d.name === "customers_cdc")!;
        const [lake] = await env.sb.lakehouse.query<Record<string, unknown>>(
            `SELECT customer_id, email, customer_tier FROM (${currentStateSql(customers)}) ORDER BY customer_id`,
        );
        const { rows: source } = await env.writers.pg.query("SELECT customer_id, email, customer_tier FROM customers ORDER BY customer_id");
        const text = (rows: Record<string, unknown>[]) => rows.map((r) => [String(r.customer_id), r.email, r.customer_tier]);
        expect(lake.length).to.be.above(0);
        expect(text(lake)).to.deep.equal(text(source));
    });

    it("primary key fields are non-null in every key schema and in the row records of the value schemas (seed 000)", async () => {
        for (const { topic, table } of dataTopics().filter((d) => env.pairs.some((p) => p.table === d.table.table))) {
            const key = await latestSchema(keySubject(topic));
            expect(
                key.fields.map((f) => f.name),
                `${keySubject(topic)} fields`,
            ).to.deep.equal(table.primaryKey);
            for (const f of key.fields) expect(nullable(f.type), `${keySubject(topic)}.${f.name}`).to.equal(false);

            const row = afterRecord(await latestSchema(valueSubject(topic)));
            expect(row, `${valueSubject(topic)}: the after field's row record`).to.not.equal(undefined);
            for (const pk of table.primaryKey) {
                const field = row!.fields.find((f) => f.name === pk);
                expect(field, `${valueSubject(topic)} after.${pk}`).to.not.equal(undefined);
                expect(nullable(field!.type), `${valueSubject(topic)} after.${pk}`).to.equal(false);
            }
        }
    });

    describe("the dead letter state topics' DeadLetterRecord schema (issue 15 item 3)", () => {
        const sinkOf = () => env.sb.spec.pipelines.find((p) => p.source.kind === "postgres")!;
        const stateSubject = () => valueSubject(dlqStateTopicName(sinkOf().sink.connectorName));

        it("registers DeadLetterRecord under dlq-<sink>.state-value for every sink with a dead letter queue", async () => {
            const subjects = await registry<string[]>("/subjects");
            for (const p of env.sb.spec.pipelines.filter((x) => x.sink.deadLetterQueue)) {
                const subject = valueSubject(dlqStateTopicName(p.sink.connectorName));
                expect(subjects, "the registry's subjects").to.include(subject);
                const held = await latestSchema(subject);
                expect(held.name).to.equal(DEAD_LETTER_SCHEMA.name);
                expect(held.fields.map((f) => f.name)).to.deep.equal(DEAD_LETTER_SCHEMA.fields.map((f) => f.name));
            }
        });

        it("cdc dlq ignore writes the state record Confluent-framed with that subject's schema id; list reads it back", async () => {
            const sink = sinkOf();
            const ordersTopic = dataTopicName(
                sink.source,
                sink.source.tables.find((t) => t.table === "orders")!,
            );
            const kafka = new KafkaClient({ bootstrapServers: env.sb.kafka.bootstrapServers.split(",") }, "avro-e2e-dlq");
            try {
                // Bytes the sink's Avro converter cannot read (no magic byte): dead-lettered at VALUE_CONVERTER, no row touched.
                const [{ offset }] = await kafka.produce([{ topic: ordersTopic, key: null, value: Buffer.from("not avro") }]);
                const id = `${ordersTopic}/0/${offset}`;
                const cli = (argv: string[]) => cdc([...argv, "--sandbox", "e2e-avro", "--json"]);
                await waitFor("the unreadable record in the dead letter list", 120_000, async () => {
                    const list = await cli(["dlq", "list"]);
                    return list.stdout.trim() !== "" && (JSON.parse(list.stdout) as { id: string }[]).some((r) => r.id === id);
                });
                const ignored = await cli(["dlq", "ignore", id, "--note", "avro e2e"]);
                expect(ignored.code, ignored.stderr).to.equal(0);

                const registered = await registry<{ id: number }>(`/subjects/${stateSubject()}/versions/latest`);
                const state = (await kafka.readAll(dlqStateTopicName(sink.sink.connectorName))).filter((r) => r.key?.toString() === id);
                expect(state, `state records of ${id}`).to.have.length(1);
                const bytes = state[0].value!;
                expect(bytes[0], "magic byte").to.equal(0);
                expect(bytes.readUInt32BE(1), `the schema id of ${stateSubject()}`).to.equal(registered.id);

                const listed = JSON.parse((await cli(["dlq", "list", "--status", "IGNORED"])).stdout) as {
                    id: string;
                    resolution_status: string;
                }[];
                expect(listed.find((r) => r.id === id)?.resolution_status).to.equal("IGNORED");
            } finally {
                await kafka.close();
            }
        });
    });

    describe("schema evolution with the registry (seed 004 §6)", () => {
        let topic: string;
        const versions = () => registry<number[]>(`/subjects/${valueSubject(topic)}/versions`);
        const sourceTask = async () => {
            const name = env.sb.spec.pipelines.find((p) => p.source.kind === "postgres")!.source.connectorName;
            return { name, status: await env.sb.client.status(name) };
        };

        before(() => {
            topic = dataTopics().find((d) => d.table.table === "cdc_schema_evolution_test")!.topic;
        });

        it("each step of the plan registers one new value schema version; the key schema stays at version 1", async () => {
            const run = await runEvolutionPlan(env);
            expect(run.after.targetRows).to.have.length(7);
            // Version 1: the initial three columns; then add, drop, widen (the source type's length travels in the
            // schema: column.propagate.source.type) and rename each change the row record.
            expect(await versions()).to.deep.equal([1, 2, 3, 4, 5]);
            expect(await registry<number[]>(`/subjects/${keySubject(topic)}/versions`)).to.deep.equal([1]);
            const columnsOf = async (version: number) =>
                afterRecord(
                    JSON.parse(
                        (await registry<{ schema: string }>(`/subjects/${valueSubject(topic)}/versions/${version}`)).schema,
                    ) as AvroRecord,
                )!.fields.map((f) => f.name);
            expect(await columnsOf(1)).to.deep.equal(["id", "original_column", "created_at"]);
            expect(await columnsOf(2)).to.deep.equal(["id", "original_column", "created_at", "new_column_added"]);
            expect(await columnsOf(3)).to.deep.equal(["id", "created_at", "new_column_added"]);
            expect(await columnsOf(5)).to.deep.equal(["id", "created_at", "renamed_column"]);
            const compatibility = await registry<{ compatibilityLevel: string }>(`/config/${valueSubject(topic)}`);
            expect(compatibility.compatibilityLevel).to.equal("BACKWARD");
        });

        it("refuses a BACKWARD-incompatible change: the source task fails with the rule violation; relaxing the subject's rule and restarting recovers", async () => {
            const before = await versions();
            const { name } = await sourceTask();
            const kafka = new KafkaClient({ bootstrapServers: [env.sb.kafka.bootstrapServers] }, "avro-e2e");
            const endOfTopic = async () => (await kafka.latestOffsets([topic])).map((o) => o.offset);
            const topicBefore = await endOfTopic();
            // The shipped alert expressions with a `for` of seconds (as test/e2e/alerts.spec.ts does), so the sandbox's
            // Prometheus fires within the test.
            await env.sb.prometheus.setRuleGroups(prometheusRuleBody(env.sb.spec, { for: "20s" }).spec.groups);
            await env.writers.pg.query(
                "ALTER TABLE cdc_schema_evolution_test ALTER COLUMN renamed_column TYPE integer USING length(renamed_column)",
            );
            await env.writers.pg.query("INSERT INTO cdc_schema_evolution_test (id, renamed_column, created_at) VALUES (8, 8, now())");
            let trace = "";
            await waitFor("the source task to fail on the registry's rule", 120_000, async () => {
                const { status } = await sourceTask();
                const failed = status.tasks.find((t) => t.state === "FAILED");
                trace = failed?.trace ?? "";
                return failed !== undefined;
            });
            expect(trace).to.match(/RuleViolationException: Incompatible artifact: .*-value/);
            expect(await versions(), "nothing registered").to.deep.equal(before);
            expect(await endOfTopic(), "nothing written to the topic").to.deep.equal(topicBefore);
            await kafka.close();
            await waitFor("CdcConnectorTaskFailed firing for the source", 120_000, async () => {
                const firing = await env.sb.prometheus.query(`ALERTS{alertname="CdcConnectorTaskFailed",alertstate="firing"}`);
                return firing.some((a) => a.labels.connector === name);
            });

            // The runbook's path (docs/runbooks.md, "Avro schema refused by the registry"): relax the subject, let the
            // change through, put the rule back.
            await registry(`/config/${valueSubject(topic)}`, {
                method: "PUT",
                headers: CONFLUENT_JSON,
                body: JSON.stringify({ compatibility: "NONE" }),
            });
            await env.sb.client.restart(name);
            const table = `${env.sb.spec.pipelines.find((p) => p.source.kind === "postgres")!.sink.schema}.cdc_schema_evolution_test`;
            await waitFor("row 8 in the target", 120_000, async () => {
                const rows = await targetQuery<{ renamed_column: string }>(env, `SELECT renamed_column FROM ${table} WHERE id = 8`);
                return rows.length === 1 && rows[0].renamed_column === "8";
            });
            expect(await versions()).to.deep.equal([...before, before.length + 1]);
            await registry(`/config/${valueSubject(topic)}`, {
                method: "PUT",
                headers: CONFLUENT_JSON,
                body: JSON.stringify({ compatibility: "BACKWARD" }),
            });
            await env.sb.prometheus.setRuleGroups(prometheusRuleBody(env.sb.spec).spec.groups);
        });
    });
});
