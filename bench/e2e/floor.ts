/**
 * The sink floor: the target PostgreSQL applying the backlog's change events from one client with the JDBC sink's
 * statement shape (java/SinkFloor.java). Each floor mode writes into its own copy of the target tables, taken when the
 * sinks were paused, so it starts from the state the sinks start from and must end in the state they end in.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { PLUGIN_PATH } from "../../sandbox/plugins";
import type { TablePair } from "../../sandbox/table-pairs";

export type FloorMode = "every" | "reduced";
export const FLOOR_MODES: readonly FloorMode[] = ["every", "reduced"];

export interface FloorResult {
    mode: FloorMode;
    records: number;
    statements: number;
    batches: number;
    transactions: number;
    seconds: number;
    /** The sink's converters' time to read the same records, before the clock (the sink tasks' deserialization). */
    convertSeconds: number;
}

/** A data topic's backlog: its records from `startOffset` (the end when the sinks paused) to `endOffset`. */
export interface TopicRange {
    topic: string;
    pair: TablePair;
    startOffset: number;
    endOffset: number;
}

/** A Connect converter as a task runs it: its class and its settings without the `key.converter.` prefix. */
export interface ConverterSpec {
    class: string;
    config: Record<string, string>;
}

/**
 * The key and value converters a sink task runs: the connector's own `key.converter`/`value.converter` (Avro stacks
 * set them), else the worker's (JSON stacks inherit JsonConverter with embedded schemas).
 */
export function sinkConverters(sink: Record<string, string>, worker: Record<string, string>): Record<"key" | "value", ConverterSpec> {
    const side = (which: "key" | "value"): ConverterSpec => {
        const from = sink[`${which}.converter`] ? sink : worker;
        const prefix = `${which}.converter.`;
        const cls = from[`${which}.converter`];
        if (!cls) throw new Error(`neither the sink nor the worker sets ${which}.converter`);
        return {
            class: cls,
            config: Object.fromEntries(
                Object.entries(from)
                    .filter(([k]) => k.startsWith(prefix))
                    .map(([k, v]) => [k.slice(prefix.length), v]),
            ),
        };
    };
    return { key: side("key"), value: side("value") };
}

const floorSchema = (mode: FloorMode) => `cdc_floor_${mode}`;
const floorTable = (mode: FloorMode, pair: TablePair) => `${floorSchema(mode)}.${pair.table}`;

/**
 * Copies each target table (columns, key, indexes) with its rows into one schema per floor mode. The copies get a
 * row trigger like the apply log's (sandbox/apply-log.ts), so the floor pays the same per-row measuring cost as the
 * sink.
 */
export async function copyTargetTables(targetUrl: string, pairs: readonly TablePair[]): Promise<void> {
    const c = new Client({ connectionString: targetUrl });
    await c.connect();
    try {
        await c.query(`CREATE UNLOGGED TABLE IF NOT EXISTS cdc_sandbox.floor_log (tbl text, op char(1), applied_at timestamp)`);
        await c.query(`CREATE OR REPLACE FUNCTION cdc_sandbox.log_floor() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO cdc_sandbox.floor_log VALUES (TG_TABLE_NAME, left(TG_OP, 1), clock_timestamp() AT TIME ZONE 'UTC');
                RETURN NULL;
            END $$`);
        for (const mode of FLOOR_MODES) {
            await c.query(`DROP SCHEMA IF EXISTS ${floorSchema(mode)} CASCADE`);
            await c.query(`CREATE SCHEMA ${floorSchema(mode)}`);
            for (const pair of pairs) {
                const copy = floorTable(mode, pair);
                await c.query(`CREATE TABLE ${copy} (LIKE ${pair.target} INCLUDING ALL)`);
                await c.query(`INSERT INTO ${copy} SELECT * FROM ${pair.target}`);
                await c.query(
                    `CREATE TRIGGER floor_log AFTER INSERT OR UPDATE OR DELETE ON ${copy} FOR EACH ROW EXECUTE FUNCTION cdc_sandbox.log_floor()`,
                );
                await c.query(`VACUUM ANALYZE ${copy}`);
            }
        }
    } finally {
        await c.end();
    }
}

function pgJdbcJar(): string {
    const dir = path.join(PLUGIN_PATH, "debezium-jdbc-sink");
    const jar = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => /^postgresql-[\d.]+\.jar$/.test(f)) : undefined;
    if (!jar)
        throw new Error(
            `no pgjdbc jar in ${dir}: the sandbox installs the JDBC sink plugin there (npm run demo once, or scripts/setup.sh)`,
        );
    return path.join(dir, jar);
}

/** `postgres://user@host:port/db` as pgjdbc's URL. */
function jdbcUrl(targetUrl: string): string {
    const u = new URL(targetUrl);
    return `jdbc:postgresql://${u.hostname}:${u.port}${u.pathname}?user=${decodeURIComponent(u.username)}&sslmode=disable`;
}

export async function runFloor(opts: {
    classpath: string;
    bootstrap: string;
    targetUrl: string;
    ranges: readonly TopicRange[];
    batchSize: number;
    mode: FloorMode;
    converters: Record<"key" | "value", ConverterSpec>;
    /** Jars the converters need beyond Kafka's (the Avro converter's plugin folder). */
    extraClasspath: readonly string[];
}): Promise<FloorResult> {
    const request = {
        bootstrap: opts.bootstrap,
        keyConverter: opts.converters.key,
        valueConverter: opts.converters.value,
        jdbcUrl: jdbcUrl(opts.targetUrl),
        batchSize: opts.batchSize,
        mode: opts.mode,
        tables: opts.ranges.map((r) => ({
            topic: r.topic,
            startOffset: r.startOffset,
            endOffset: r.endOffset,
            table: floorTable(opts.mode, r.pair),
        })),
    };
    const tool = path.join(__dirname, "java", "SinkFloor.java");
    const out = await new Promise<string>((resolve, reject) => {
        const child = execFile(
            "java",
            ["-Xmx1g", "-cp", [opts.classpath, pgJdbcJar(), ...opts.extraClasspath].join(path.delimiter), tool],
            { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 },
            (err, stdout, stderr) =>
                err ? reject(new Error(`SinkFloor (${opts.mode}) failed: ${stderr.trim() || err.message}`)) : resolve(stdout),
        );
        child.stdin?.end(JSON.stringify(request));
    });
    const line = out.split("\n").find((l) => l.startsWith("{"));
    if (!line) throw new Error(`SinkFloor (${opts.mode}) printed no result: ${out.slice(0, 500)}`);
    return JSON.parse(line) as FloorResult;
}

/**
 * Rows that differ between each floor copy and the target the sinks wrote, per table: both started from the same
 * rows and applied the same changes, so anything but zero means one of them did not.
 */
export async function floorDifferences(targetUrl: string, pairs: readonly TablePair[], mode: FloorMode): Promise<Record<string, number>> {
    const c = new Client({ connectionString: targetUrl });
    await c.connect();
    try {
        const diffs: Record<string, number> = {};
        for (const pair of pairs) {
            const copy = floorTable(mode, pair);
            const { rows } = await c.query(
                // Row text, as json columns have no equality operator.
                `SELECT (SELECT count(*) FROM (SELECT t::text FROM ${pair.target} t EXCEPT ALL SELECT t::text FROM ${copy} t) a)
                      + (SELECT count(*) FROM (SELECT t::text FROM ${copy} t EXCEPT ALL SELECT t::text FROM ${pair.target} t) b) AS n`,
            );
            diffs[pair.table] = Number(rows[0].n);
        }
        return diffs;
    } finally {
        await c.end();
    }
}
