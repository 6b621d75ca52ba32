/**
 * The lakehouse writers against the sandbox's real Kafka: after inserts, updates and deletes (and a writer
 * killed mid-stream) every destination table, read by DuckDB rather than the writer's own code, holds
 * exactly the source's rows — each key once in the current state, each source change once in a change log.
 */
import { expect } from "chai";
import * as mysql from "mysql2/promise";
import { Client } from "pg";
import type { DestinationSpec, PipelineSpec } from "../../model/spec";
import { lakehousePipelines } from "../../plan/lakehouse";
import { currentStateSql, describeProgress, lakehouseCaughtUp, lakehouseProgress, positionColumns } from "../../sandbox/lakehouse-compare";
import { streamChanges } from "../../sandbox/stream";
import { E2E, e2e, expectInSync, START_TIMEOUT_MS, waitFor } from "./fixture";

type Row = Record<string, unknown>;

describe("sandbox e2e: lakehouse tables", function () {
    this.timeout(10 * 60_000);
    let env: E2E;
    let destinations: { pipeline: PipelineSpec; d: DestinationSpec }[];

    before(async function () {
        this.timeout(START_TIMEOUT_MS);
        env = await e2e();
        destinations = (lakehousePipelines(env.sb.spec) as PipelineSpec[]).flatMap((pipeline) =>
            pipeline.destinations.map((d) => ({ pipeline, d })),
        );
    });

    async function lakehouseCatchesUp(): Promise<void> {
        let last = "";
        await waitFor("the lakehouse tables", 180_000, async () => {
            const progress = await lakehouseProgress(env.sb);
            last = describeProgress(progress);
            return lakehouseCaughtUp(progress);
        }).catch(() => {
            throw new Error(`the lakehouse tables did not catch up in 180 s: ${last}`);
        });
    }

    async function sourceKeys(pipeline: PipelineSpec, d: DestinationSpec): Promise<string[]> {
        const sql = `SELECT ${d.primaryKey.join(", ")} FROM ${d.table}`;
        let rows: Row[];
        if (pipeline.source.kind === "postgres") {
            const c = new Client({ connectionString: env.sb.postgresSource.url });
            await c.connect();
            rows = (await c.query(sql)).rows;
            await c.end();
        } else {
            const c = await mysql.createConnection({ uri: env.sb.mariaDbSource.url });
            rows = (await c.query(sql))[0] as Row[];
            await c.end();
        }
        return rows.map((r) => d.primaryKey.map((k) => String(r[k])).join("/")).sort();
    }

    /** Keys in the table's current state, and (change logs) change rows that share one source position. */
    async function lakehouseState(d: DestinationSpec): Promise<{ keys: string[]; duplicatePositions: number }> {
        const key = d.primaryKey.join(", ");
        const current = d.writeMode === "append" ? currentStateSql(d) : `SELECT * FROM ${d.name}`;
        const position = [...d.primaryKey, ...positionColumns(d), "_cdc_operation"].join(", ");
        const [keys, dup] = await env.sb.lakehouse.query<Row>(
            `SELECT ${key} FROM (${current})`,
            d.writeMode === "append"
                ? `SELECT count(*) - count(DISTINCT (${position})) AS n FROM ${d.name}`
                : `SELECT count(*) - count(DISTINCT (${key})) AS n FROM ${d.name}`,
        );
        return { keys: keys.map((r) => d.primaryKey.map((k) => String(r[k])).join("/")).sort(), duplicatePositions: Number(dup[0].n) };
    }

    async function expectEveryTableEqualsItsSource(): Promise<void> {
        for (const { pipeline, d } of destinations) {
            const [expected, actual] = await Promise.all([sourceKeys(pipeline, d), lakehouseState(d)]);
            expect(actual.duplicatePositions, `${d.name}: rows written twice`).to.equal(0);
            expect(actual.keys.length, `${d.name}: keys`).to.equal(expected.length);
            expect(actual.keys, `${d.name}: keys`).to.deep.equal(expected);
        }
    }

    it("declares the seed's destinations in both formats", () => {
        expect(destinations.map(({ d }) => d.format)).to.include.members(["deltalake", "iceberg"]);
        expect(destinations.map(({ d }) => d.writeMode)).to.include.members(["append", "upsert"]);
    });

    it("after inserts, updates and deletes every table holds exactly the source's keys, each change once", async () => {
        await streamChanges(env.stream, env.writers, { count: 600, ratePerSecond: 0 });
        await expectInSync(env);
        await lakehouseCatchesUp();
        await expectEveryTableEqualsItsSource();
    });

    it("current state carries the source's values, and customers_analytics the order counts SQL computes on the source", async () => {
        const customers = destinations.find(({ d }) => d.name === "customers_cdc")!.d;
        const textColumns = ["email", "first_name", "last_name", "city", "customer_tier"];
        const c = new Client({ connectionString: env.sb.postgresSource.url });
        await c.connect();
        const source = (await c.query(`SELECT customer_id, ${textColumns.join(", ")} FROM customers ORDER BY customer_id`)).rows as Row[];
        const orders = (
            await c.query(
                "SELECT c.customer_id, count(o.order_id)::int AS n FROM customers c LEFT JOIN orders o USING (customer_id) GROUP BY c.customer_id ORDER BY c.customer_id",
            )
        ).rows as Row[];
        await c.end();
        const [lake, analytics] = await env.sb.lakehouse.query<Row>(
            `SELECT customer_id, ${textColumns.join(", ")} FROM (${currentStateSql(customers)}) ORDER BY customer_id`,
            "SELECT customer_id, total_orders FROM customers_analytics ORDER BY customer_id",
        );
        const text = (rows: Row[], cols: string[]) => rows.map((r) => cols.map((k) => (r[k] === null ? null : String(r[k]))));
        expect(text(lake, ["customer_id", ...textColumns])).to.deep.equal(text(source, ["customer_id", ...textColumns]));
        expect(text(analytics, ["customer_id", "total_orders"])).to.deep.equal(text(orders, ["customer_id", "n"]));
    });

    it("a writer killed with SIGKILL mid-stream resumes from its tables: no duplicate and no missing row", async () => {
        const writer = env.sb.lakehouse.writers[0];
        const restartsBefore = writer.restarts;
        const stream = streamChanges(env.stream, env.writers, { count: 600, ratePerSecond: 200 });
        await new Promise((r) => setTimeout(r, 1500));
        await writer.kill();
        await stream;
        await waitFor(
            `writer ${writer.pipeline} restarted and healthy`,
            120_000,
            async () => writer.restarts > restartsBefore && (await writer.healthy()),
        );
        await expectInSync(env);
        await lakehouseCatchesUp();
        await expectEveryTableEqualsItsSource();
    });
});
