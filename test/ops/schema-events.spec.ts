/**
 * The schema-evolution detector's pure parts over real Debezium change events: the records in
 * test/fixtures/schema-events/ were captured from the sandbox (capture.ts there) while seed 004 §6's steps ran on
 * PostgreSQL and the same kinds of change on MariaDB.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { sinkConnectorConfig } from "../../connectors/sinks";
import { parseStackSpec } from "../../plan/stack-spec";
import { diffColumns } from "../../ops/schema-events-diff";
import { detectPass, observe, type RecordIn, type TopicBinding, type TopicReader } from "../../ops/schema-events-detector";
import { RecordDecoder } from "../../ops/record-decoder";
import {
    handleChange,
    holds,
    sinkBehaviour,
    sinkCreatedColumn,
    targetColumnOf,
    type SinkBehaviour,
    type TargetColumn,
} from "../../ops/schema-events-handling";
import { main } from "../../ops/cli";
import { schemaEventId, typeText, type ColumnSchema, type SchemaEvolutionEvent } from "../../ops/schema-events-model";
import { comparePositions, parseRecord } from "../../ops/schema-events-record";
import { SchemaEventStore } from "../../ops/schema-events-store";
import { BASIC, captured, PG_TOPIC } from "../helpers/schema-events-fixtures";
import { rawProjectConfig, SHIPPED_STACKS } from "../helpers/stack-files";

const MARIA_TOPIC = "inventory.inventory.products";

const columnsOf = (rec: RecordIn): ColumnSchema[] => {
    const p = parseRecord(rec.value);
    if (p.kind !== "change") throw new Error(`not a change: ${JSON.stringify(p)}`);
    return p.columns;
};

const NONE: SinkBehaviour = { ...BASIC, addsColumns: false, evolutionSetting: "schema.evolution=none" };

/** Every change the records reveal in order, as the detector sees them one after the other. */
function changesAlong(records: RecordIn[]) {
    let table;
    const out = [];
    for (const rec of records) {
        const seen = observe(table, rec);
        table = seen.table;
        out.push(...seen.changes.map((c) => ({ offset: Number(rec.offset), ...c })));
    }
    return out;
}

describe("schema-evolution detector: reading Debezium change events", () => {
    it("reads the columns, source types and lengths, and the LSN of a PostgreSQL change event", () => {
        const p = parseRecord(captured(PG_TOPIC)[1].value);
        expect(p.kind).to.equal("change");
        if (p.kind !== "change") return;
        expect(p.columns.map((c) => [c.name, typeText(c), c.optional])).to.deep.equal([
            ["id", "INT4", false],
            ["original_column", "VARCHAR(255)", true],
            ["created_at", "TIMESTAMP", false],
            ["new_column_added", "VARCHAR(100)", true],
        ]);
        expect(p.columns[2].logicalType).to.equal("io.debezium.time.MicroTimestamp");
        expect(p.position).to.have.length(1);
        expect(p.position[0]).to.be.a("number");
    });

    it("reads MariaDB's decimals, unbounded TEXT and binlog position (file, pos, row)", () => {
        const p = parseRecord(captured(MARIA_TOPIC)[0].value);
        if (p.kind !== "change") throw new Error(p.kind);
        const byName = new Map(p.columns.map((c) => [c.name, c]));
        expect(typeText(byName.get("price")!)).to.equal("DECIMAL(10,2)");
        expect(typeText(byName.get("description")!)).to.equal("TEXT");
        expect(byName.get("description")!.length).to.equal(undefined);
        expect(p.position.map((v) => typeof v)).to.deep.equal(["string", "number", "number"]);
        const later = parseRecord(captured(MARIA_TOPIC)[1].value);
        if (later.kind !== "change") throw new Error(later.kind);
        expect(comparePositions(later.position, p.position)).to.be.greaterThan(0);
        expect(comparePositions(p.position, later.position)).to.be.lessThan(0);
        expect(comparePositions(p.position, p.position)).to.equal(0);
    });

    it("orders a record without its optional position fields before the stream at the same place, and falls back to ts_ms", () => {
        const doc = JSON.parse(captured(MARIA_TOPIC)[0].value!.toString());
        const { row: _row, ...withoutRow } = doc.payload.source;
        const bare = parseRecord(Buffer.from(JSON.stringify({ ...doc, payload: { ...doc.payload, source: withoutRow } })));
        const full = parseRecord(captured(MARIA_TOPIC)[0].value);
        if (bare.kind !== "change" || full.kind !== "change") throw new Error("not a change");
        expect(bare.position).to.deep.equal([doc.payload.source.file, doc.payload.source.pos, 0]);
        expect(comparePositions(bare.position, full.position)).to.be.at.most(0);
        const pg = JSON.parse(captured(PG_TOPIC)[0].value!.toString());
        const { lsn: _lsn, ...withoutLsn } = pg.payload.source;
        const byTime = parseRecord(Buffer.from(JSON.stringify({ ...pg, payload: { ...pg.payload, source: withoutLsn } })));
        expect(byTime).to.deep.include({ kind: "change", position: [pg.payload.source.ts_ms] });
    });

    it("takes a PostgreSQL serial column read by the snapshot (SERIAL) and by the stream (INT4) for the same column", () => {
        const [snapshotted, streamed] = captured("shop.public.orders");
        const order = (rec: RecordIn) => columnsOf(rec).find((c) => c.name === "order_id")!;
        expect(JSON.parse(snapshotted.value!.toString()).payload.source.snapshot).to.equal("last");
        expect(JSON.parse(snapshotted.value!.toString()).schema.fields[1].fields[0].parameters["__debezium.source.column.type"]).to.equal(
            "SERIAL",
        );
        expect(typeText(order(snapshotted))).to.equal("INT4");
        expect(observe(observe(undefined, snapshotted).table, streamed).changes).to.deep.equal([]);
    });

    it("turns what it cannot read into a problem naming why, and a delete's tombstone into nothing", () => {
        const real = JSON.parse(captured(PG_TOPIC)[0].value!.toString());
        expect(parseRecord(null)).to.deep.equal({ kind: "tombstone" });
        expect(parseRecord(Buffer.from("{not json")))
            .to.include({ kind: "problem" })
            .and.have.property("problem")
            .that.match(/not JSON/);
        // What the same event looks like written with schemas.enable=false: the payload alone.
        expect(parseRecord(Buffer.from(JSON.stringify(real.payload))))
            .to.have.property("problem")
            .that.match(/schemas\.enable=true/);
        // The key's schema (a struct without before/after), as a record with a swapped key and value would carry.
        const keyLike = {
            schema: { type: "struct", name: "shop.public.cdc_schema_evolution_test.Key", fields: [real.schema.fields[1].fields[0]] },
            payload: { id: 1 },
        };
        expect(parseRecord(Buffer.from(JSON.stringify(keyLike))))
            .to.have.property("problem")
            .that.match(/not a Debezium change event \(schema shop\.public\.cdc_schema_evolution_test\.Key/);
        const noSource = { ...real, payload: { ...real.payload, source: undefined } };
        expect(parseRecord(Buffer.from(JSON.stringify(noSource))))
            .to.have.property("problem")
            .that.match(/no source position/);
    });
});

describe("schema-evolution detector: changes and what the sink does with them", () => {
    it("finds each seed 004 §6 step on PostgreSQL with the change type the plan made", () => {
        const changes = changesAlong(captured(PG_TOPIC));
        expect(changes.map((c) => [c.offset, c.change_type, c.before?.name ?? null, c.after?.name ?? null])).to.deep.equal([
            [1, "ADD_COLUMN", null, "new_column_added"],
            [2, "DROP_COLUMN", "original_column", null],
            [3, "MODIFY_COLUMN", "new_column_added", "new_column_added"],
            // The rename; Debezium read NOT NULL from the catalog, where the capture's later SET NOT NULL already was.
            [4, "RENAME_COLUMN", "new_column_added", "renamed_column"],
            [4, "MODIFY_COLUMN", "renamed_column", "renamed_column"],
            [5, "ADD_COLUMN", null, "required_flag"],
        ]);
        expect(typeText(changes[2].before!)).to.equal("VARCHAR(100)");
        expect(typeText(changes[2].after!)).to.equal("TEXT");
    });

    it("finds MariaDB's add, widening, rename and drop the same way", () => {
        const changes = changesAlong(captured(MARIA_TOPIC));
        expect(
            changes.map((c) => [
                c.change_type,
                c.before && typeText(c.before),
                c.after?.name ?? c.before!.name,
                c.after && typeText(c.after),
            ]),
        ).to.deep.equal([
            ["ADD_COLUMN", undefined, "color", "VARCHAR(20)"],
            ["MODIFY_COLUMN", "VARCHAR(20)", "color", "VARCHAR(60)"],
            ["RENAME_COLUMN", "VARCHAR(60)", "colour", "VARCHAR(60)"],
            ["DROP_COLUMN", "INT", "supplier_id", undefined],
        ]);
    });

    it("does not take a dropped and an added column of different types, or in different places, for a rename", () => {
        const cols = columnsOf(captured(MARIA_TOPIC)[3]);
        const category = cols.find((c) => c.name === "category")!;
        const retyped = cols.map((c) => (c.name === "category" ? { ...category, name: "shade", length: 101 } : c));
        expect(diffColumns(cols, retyped).map((c) => c.change_type)).to.deep.equal(["DROP_COLUMN", "ADD_COLUMN"]);
        // Same type, but the new column went to the end, where ADD COLUMN puts it: a drop and an add.
        const moved = [...cols.filter((c) => c.name !== "category"), { ...category, name: "shade" }];
        expect(diffColumns(cols, moved).map((c) => c.change_type)).to.deep.equal(["DROP_COLUMN", "ADD_COLUMN"]);
        const renamed = cols.map((c) => (c.name === "category" ? { ...category, name: "shade" } : c));
        expect(diffColumns(cols, renamed).map((c) => c.change_type)).to.deep.equal(["RENAME_COLUMN"]);
    });

    it("ignores an older schema arriving after a newer one on another partition, never within the same one", () => {
        const [, add, drop] = captured(PG_TOPIC);
        const dropped = observe(observe(undefined, add).table, drop).table;
        const lagging = observe(dropped, { ...add, partition: 1 });
        expect(lagging.changes).to.deep.equal([]);
        expect(lagging.table!.columns.map((c) => c.name)).to.deep.equal(["id", "created_at", "new_column_added"]);
        // In one partition Kafka keeps the source's order, even when positions do not (binlogs renamed by a failover).
        expect(observe(dropped, add).changes.map((c) => c.change_type)).to.deep.equal(["ADD_COLUMN"]);
    });

    it("decides the seed steps' handling from the sink's schema.evolution and the target's columns", () => {
        const changes = changesAlong(captured(PG_TOPIC));
        const statuses = (sink: SinkBehaviour, target?: Map<string, TargetColumn>) =>
            changes.map((c) => {
                const h = handleChange(c, sink, target);
                return `${c.change_type} ${c.after?.name ?? c.before!.name}: ${h.handling_status}/${h.connector_action}`;
            });
        // Target not inspected: columns as the sink created them from the events' schemas.
        expect(statuses(BASIC)).to.deep.equal([
            "ADD_COLUMN new_column_added: AUTO_APPLIED/CONTINUED",
            "DROP_COLUMN original_column: PENDING_REVIEW/CONTINUED",
            "MODIFY_COLUMN new_column_added: MANUAL_REQUIRED/CONTINUED",
            "RENAME_COLUMN renamed_column: MANUAL_REQUIRED/CONTINUED",
            "MODIFY_COLUMN renamed_column: AUTO_APPLIED/CONTINUED",
            "ADD_COLUMN required_flag: AUTO_APPLIED/CONTINUED",
        ]);
        expect(statuses(NONE).filter((s) => s.startsWith("ADD_COLUMN") || s.startsWith("RENAME"))).to.deep.equal([
            "ADD_COLUMN new_column_added: FAILED/ERRORED",
            "RENAME_COLUMN renamed_column: FAILED/ERRORED",
            "ADD_COLUMN required_flag: FAILED/ERRORED",
        ]);
        // The target as the e2e run leaves it before the drop: original_column NOT NULL, new_column_added varchar(100).
        const target = new Map<string, TargetColumn>([
            [
                "original_column",
                targetColumnOf({
                    is_nullable: "NO",
                    data_type: "character varying",
                    character_maximum_length: 255,
                    numeric_precision: null,
                    numeric_scale: null,
                    has_default: false,
                }),
            ],
            [
                "new_column_added",
                targetColumnOf({
                    is_nullable: "YES",
                    data_type: "character varying",
                    character_maximum_length: 100,
                    numeric_precision: null,
                    numeric_scale: null,
                    has_default: false,
                }),
            ],
        ]);
        const drop = handleChange(changes[1], BASIC, target);
        expect(drop).to.include({ handling_status: "FAILED", connector_action: "ERRORED" });
        expect(drop.reason).to.contain("ALTER TABLE shop.cdc_schema_evolution_test ALTER COLUMN original_column DROP NOT NULL");
        // A target already widened takes the new type: nothing to do.
        const widened = new Map([
            [
                "new_column_added",
                targetColumnOf({
                    is_nullable: "YES",
                    data_type: "text",
                    character_maximum_length: null,
                    numeric_precision: null,
                    numeric_scale: null,
                    has_default: false,
                }),
            ],
        ]);
        expect(handleChange(changes[2], BASIC, widened).handling_status).to.equal("AUTO_APPLIED");
        expect(handleChange(changes[2], BASIC, target).reason).to.contain(
            "ALTER TABLE shop.cdc_schema_evolution_test ALTER COLUMN new_column_added TYPE TEXT",
        );
    });

    it("refuses, like the Debezium sink, a NOT NULL column without a default", () => {
        const added = columnsOf(captured(PG_TOPIC)[5]).find((c) => c.name === "required_flag")!;
        expect(added.defaultValue).to.equal("false");
        const noDefault: ColumnSchema = { ...added, defaultValue: undefined };
        const h = handleChange({ change_type: "ADD_COLUMN", after: noDefault }, BASIC, undefined);
        expect(h).to.include({ handling_status: "FAILED", connector_action: "ERRORED" });
        expect(h.reason).to.match(/NOT NULL without a default/);
    });

    it("tells widening from narrowing and from another kind of value", () => {
        const cols = new Map(columnsOf(captured(MARIA_TOPIC)[0]).map((c) => [c.name, c]));
        const price = cols.get("price")!;
        const sku = cols.get("sku")!;
        const qty = cols.get("quantity_in_stock")!;
        expect(holds(sinkCreatedColumn(price), { ...price, length: 12 })).to.equal(false);
        expect(holds(sinkCreatedColumn(price), { ...price, length: 9 })).to.equal(true);
        expect(holds(sinkCreatedColumn(price), { ...price, length: 11, scale: 3 })).to.equal(false);
        expect(holds(sinkCreatedColumn(sku), { ...sku, length: 50 })).to.equal(true);
        expect(holds(sinkCreatedColumn(sku), cols.get("description")!)).to.equal(false);
        expect(holds(sinkCreatedColumn(qty), { ...qty, connectType: "int64", sourceType: "BIGINT" })).to.equal(false);
        expect(holds(sinkCreatedColumn(qty), { ...qty, connectType: "int16", sourceType: "SMALLINT" })).to.equal(true);
        expect(holds(sinkCreatedColumn(qty), sku)).to.equal("incompatible");
        const retyped = handleChange({ change_type: "MODIFY_COLUMN", before: qty, after: { ...sku, name: qty.name } }, BASIC, undefined);
        expect(retyped).to.include({ handling_status: "FAILED", connector_action: "ERRORED" });
    });

    it("reads the sink's behaviour from the configs the shipped stacks render", () => {
        const ctx = {
            bootstrapServers: "kafka:9092",
            secretRef: (s: string, k: string) => `\${secrets:ns/${s}:${k}}`,
            kafkaClientSecurity: {},
        };
        for (const stack of SHIPPED_STACKS) {
            const spec = parseStackSpec(rawProjectConfig(stack)).spec;
            for (const p of spec.pipelines) {
                const b = sinkBehaviour(p.sink.connectorName, `${p.sink.schema}.t`, {
                    "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
                    ...sinkConnectorConfig(spec, p, ctx),
                });
                expect(b.addsColumns, `${stack} ${p.name}`).to.equal(p.sink.autoCreate);
                expect(b.evolutionSetting).to.equal(`schema.evolution=${p.sink.autoCreate ? "basic" : "none"}`);
            }
        }
        expect(
            sinkBehaviour("c", "s.t", { "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector" }).addsColumns,
            "Debezium's default is none",
        ).to.equal(false);
        expect(() => sinkBehaviour("c", "s.t", { "connector.class": "com.example.Other" })).to.throw(/knows io\.debezium/);
    });
});

describe("schema-evolution detector: passes, its log and its place", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "schema-events-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** The captured topic, with `extra` records appended, served the way KafkaClient serves a partition. */
    function reader(records: RecordIn[]): TopicReader & { reads: number } {
        const r = {
            reads: 0,
            earliestOffsets: async (topics: string[]) => topics.map((topic) => ({ topic, partition: 0, offset: 0n })),
            latestOffsets: async (topics: string[]) => topics.map((topic) => ({ topic, partition: 0, offset: BigInt(records.length) })),
            read: async (_t: string, _p: number, from: bigint, opts: { until?: bigint; max?: number }) => {
                r.reads++;
                return records.filter((x) => x.offset >= from && x.offset < (opts.until ?? BigInt(records.length))).slice(0, opts.max);
            },
        };
        return r;
    }
    const binding: TopicBinding = { topic: PG_TOPIC, pipeline: "shop", sourceTable: "public.cdc_schema_evolution_test", sink: BASIC };
    const at = new Date("2026-12-01T12:00:00Z");

    it("logs each change once, skips unreadable records with their place, and resumes where it stopped", async () => {
        const records = captured(PG_TOPIC);
        // A record no converter wrote, between the add and the drop, renumbered like a real topic.
        const withBad = [
            ...records.slice(0, 2),
            { partition: 0, offset: 2n, value: Buffer.from("not json") },
            ...records.slice(2).map((r) => ({ ...r, offset: r.offset + 1n })),
        ];
        const store = new SchemaEventStore(dir);
        const lines: string[] = [];
        const first = await detectPass(reader(withBad.slice(0, 4)), [binding], store, {
            now: () => at,
            log: (l) => lines.push(l),
            chunk: 2,
        });
        expect(first.events.map((e) => e.change_type)).to.deep.equal(["ADD_COLUMN", "DROP_COLUMN"]);
        expect(first.skipped).to.equal(1);
        expect(lines).to.deep.equal([`skipped ${PG_TOPIC}[0]@2: the value is not JSON (${jsonError("not json")})`]);
        expect(store.readState().next).to.deep.equal({ [`${PG_TOPIC}/0`]: "4" });

        const second = await detectPass(reader(withBad), [binding], store, { now: () => at, log: (l) => lines.push(l), chunk: 2 });
        expect(second.events.map((e) => e.change_type)).to.deep.equal(["MODIFY_COLUMN", "RENAME_COLUMN", "MODIFY_COLUMN", "ADD_COLUMN"]);
        expect(second.records).to.equal(5);
        const log = store.readEvents();
        expect(log.events).to.have.length(6);
        expect(new Set(log.events.map((e) => e.event_id)).size).to.equal(6);
        expect(store.readState().skipped).to.equal(1);
        const drop = log.events[1];
        expect(drop).to.deep.include({
            event_id: schemaEventId(PG_TOPIC, 0, "3", "DROP_COLUMN", "original_column"),
            detected_at: "2026-12-01T12:00:00.000Z",
            source_table: "public.cdc_schema_evolution_test",
            change_type: "DROP_COLUMN",
            handling_status: "PENDING_REVIEW",
            connector_action: "CONTINUED",
            alert_sent: false,
            pipeline: "shop",
            source_position: { topic: PG_TOPIC, partition: 0, offset: "3" },
        });
        expect(drop.change_details).to.deep.equal({
            column_name: "original_column",
            old_type: "VARCHAR(255)",
            new_type: null,
            nullable: true,
            default_value: null,
        });
    });

    it("parses only records whose schema bytes differ from the table's, and still finds a change after many that do not", async () => {
        const [first, added, , , , flag, update, last] = captured(PG_TOPIC);
        const schemaPrefix = (v: Buffer | null) => new RecordDecoder("json").schemaKey(v);
        expect(Buffer.compare(schemaPrefix(flag.value)!, schemaPrefix(last.value)!)).to.equal(0);
        expect(Buffer.compare(schemaPrefix(update.value)!, schemaPrefix(last.value)!), "an update's schema text is an insert's").to.equal(
            0,
        );
        expect(Buffer.compare(schemaPrefix(first.value)!, schemaPrefix(added.value)!)).to.not.equal(0);
        expect(schemaPrefix(Buffer.from("not json"))).to.equal(undefined);
        const many = [...Array.from({ length: 1200 }, (_, i) => ({ ...first, offset: BigInt(i) })), { ...added, offset: 1200n }];
        const store = new SchemaEventStore(dir);
        const r = await detectPass(reader(many), [binding], store, { now: () => at, log: () => undefined });
        expect(r.records).to.equal(1201);
        expect(r.events.map((e) => `${e.change_type} ${e.change_details.column_name} @${e.source_position.offset}`)).to.deep.equal([
            "ADD_COLUMN new_column_added @1200",
        ]);
    });

    it("after a crash between the log and its place, re-reads but never logs an event twice", async () => {
        const records = captured(PG_TOPIC);
        const store = new SchemaEventStore(dir);
        await detectPass(reader(records), [binding], store, { now: () => at, log: () => undefined });
        const lines = fs.readFileSync(store.eventsFile, "utf8");
        // The state as it was before the pass (none), and a line cut short at the end of the log.
        fs.rmSync(store.stateFile);
        fs.appendFileSync(store.eventsFile, '{"event_id": "cut sh');
        const logged: string[] = [];
        const again = await detectPass(reader(records), [binding], store, { now: () => new Date(), log: (l) => logged.push(l) });
        expect(again.events).to.deep.equal([]);
        expect(again.records).to.equal(records.length);
        expect(logged).to.deep.equal([`${store.eventsFile}:7 is not an event; left in place and ignored`]);
        expect(fs.readFileSync(store.eventsFile, "utf8")).to.equal(lines + '{"event_id": "cut sh');
    });

    it("starts a new line after a line cut short, and refuses a state file it cannot read, naming it", () => {
        const store = new SchemaEventStore(dir);
        fs.writeFileSync(store.eventsFile, '{"event_id": "cut');
        const e = { event_id: "x", change_type: "ADD_COLUMN" } as SchemaEvolutionEvent;
        expect(store.append([e], new Set())).to.have.length(1);
        expect(store.readEvents()).to.deep.equal({ events: [e], badLines: [1] });
        fs.writeFileSync(store.stateFile, "{");
        expect(() => store.readState()).to.throw(`${store.stateFile} is unreadable`);
    });

    it("marks alert_sent on the events that need a person when the alert got through, and not otherwise", async () => {
        const records = captured(PG_TOPIC);
        const store = new SchemaEventStore(dir);
        const pushed: number[] = [];
        const r = await detectPass(reader(records.slice(0, 4)), [binding], store, {
            now: () => at,
            log: () => undefined,
            deliver: async (all) => (pushed.push(all.length), true),
        });
        expect(r.events.map((e) => [e.change_type, e.handling_status, e.alert_sent])).to.deep.equal([
            ["ADD_COLUMN", "AUTO_APPLIED", false],
            ["DROP_COLUMN", "PENDING_REVIEW", true],
            ["MODIFY_COLUMN", "MANUAL_REQUIRED", true],
        ]);
        expect(pushed).to.deep.equal([3]);
        const logged: string[] = [];
        const failed = await detectPass(reader(records), [binding], store, {
            now: () => at,
            log: (l) => logged.push(l),
            deliver: async () => {
                throw new Error("connect ECONNREFUSED 127.0.0.1:9091");
            },
        });
        expect(failed.events.every((e) => !e.alert_sent)).to.equal(true);
        expect(logged).to.deep.equal(["alert delivery failed, events logged with alert_sent=false: connect ECONNREFUSED 127.0.0.1:9091"]);
    });
});

describe("cdc schema-events: command line", () => {
    async function cdc(argv: string[], env: NodeJS.ProcessEnv = {}) {
        let stdout = "";
        let stderr = "";
        const sink = (write: (s: string) => void) =>
            ({ write: (chunk: string) => (write(String(chunk)), true) }) as unknown as NodeJS.WritableStream;
        const code = await main(argv, { stdout: sink((t) => (stdout += t)), stderr: sink((t) => (stderr += t)), env });
        return { code, stdout, stderr };
    }

    it("refuses contradicting flags and a stack target without a state folder, contacting nothing (exit 2)", async () => {
        for (const [argv, message] of [
            [["--follow", "--no-detect"], "--follow detects; it cannot go with --no-detect"],
            [["--interval", "5"], "--interval only applies with --follow"],
            [["--stack", "dev"], "a stack target needs --state-dir (or CDC_SCHEMA_EVENTS_DIR)"],
        ] as const) {
            const r = await cdc(["schema-events", ...argv]);
            expect(r.code, argv.join(" ")).to.equal(2);
            expect(r.stderr).to.contain(message);
        }
    });

    it("--no-detect lists the log of a stack target without reaching its cluster", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "schema-events-"));
        try {
            const r = await cdc(["schema-events", "--stack", "dev", "--no-detect", "--json"], { CDC_SCHEMA_EVENTS_DIR: dir });
            expect(r.code, r.stderr).to.equal(0);
            expect(JSON.parse(r.stdout)).to.deep.equal({
                log: path.join(dir, "schema-evolution.jsonl"),
                detected: 0,
                skipped: 0,
                events: [],
            });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

function jsonError(text: string): string {
    try {
        JSON.parse(text);
    } catch (e) {
        return (e as Error).message;
    }
    return "";
}
