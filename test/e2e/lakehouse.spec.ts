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
import { copyToTarget, readLakehouseRows, reconcilePair } from "./lakehouse-copy";

type Row = Record<string, unknown>;

/** Keys of this spec run from 940_000 to 949_999; later ranges belong to other specs (fixture.ts). */
const KEY_RANGE = 10_000;

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

    async function jsonColumns(table: string): Promise<Set<string>> {
        const [schema, name] = table.split(".");
        const { rows } = await env.writers.pg.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND data_type IN ('json', 'jsonb')",
            [schema, name],
        );
        return new Set(rows.map((r: Row) => String(r.column_name)));
    }

    /** Seed §3.2 on the source: full_name, location (empty parts left out) and the number of orders per customer. */
    async function analyticsOnSource(): Promise<{ columns: { name: string; type: string }[]; rows: Row[] }> {
        const { rows } = await env.writers.pg.query(
            "SELECT c.customer_id::text, c.email, NULLIF(concat_ws(' ', NULLIF(c.first_name, ''), NULLIF(c.last_name, '')), '') AS full_name, " +
                "NULLIF(concat_ws(', ', NULLIF(c.city, ''), NULLIF(c.state, ''), NULLIF(c.country, '')), '') AS location, " +
                "c.customer_tier, c.lifetime_value::text, to_char(c.registration_date, 'YYYY-MM-DD HH24:MI:SS.US') AS registration_date, " +
                "c.is_active::text, (SELECT count(*) FROM orders o WHERE o.customer_id = c.customer_id)::text AS total_orders FROM customers c",
        );
        const columns = [
            { name: "customer_id", type: "bigint" },
            { name: "email", type: "text" },
            { name: "full_name", type: "text" },
            { name: "location", type: "text" },
            { name: "customer_tier", type: "text" },
            { name: "lifetime_value", type: "numeric(12,2)" },
            { name: "registration_date", type: "timestamp" },
            { name: "is_active", type: "boolean" },
            { name: "total_orders", type: "bigint" },
        ];
        return { columns, rows };
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

    it("each change log (customers_cdc, orders_cdc, products_cdc) holds exactly one row per source change, in source order", async () => {
        // Changes on keys no other test touches, interleaved so that order across keys matters too.
        const script: [op: "insert" | "update" | "delete", key: number][] = [
            ["insert", 1],
            ["insert", 2],
            ["update", 1],
            ["insert", 3],
            ["update", 2],
            ["delete", 1],
            ["update", 3],
            ["update", 3],
            ["delete", 2],
            ["insert", 1],
            ["update", 1],
        ];
        const base = 940_000; // its own key range (see fixture.ts): other specs' rows live above it
        const written: { pg: string[]; maria: string[] } = { pg: [], maria: [] };
        const OPS = { insert: "INSERT", update: "UPDATE", delete: "DELETE" } as const;
        for (const [i, [op, k]] of script.entries()) {
            const key = base + k;
            const pgValue = `${i + 1}.25`;
            const mariaValue = `${i + 1}.50`;
            if (op === "insert") {
                await env.writers.pg.query(
                    "INSERT INTO customers (customer_id, email, first_name, last_name, country, registration_date, last_updated, is_active, customer_tier, lifetime_value) " +
                        "VALUES ($1, $2, 'Order', 'Check', 'USA', now(), now(), true, 'Bronze', $3)",
                    [key, `order-check-${key}-${i}@example.test`, pgValue],
                );
                await env.writers.maria.query(
                    "INSERT INTO products (product_id, sku, product_name, category, price, quantity_in_stock, created_at, updated_at, is_discontinued) " +
                        "VALUES (?, ?, 'Order check', 'Test', ?, 1, UTC_TIMESTAMP(), UTC_TIMESTAMP(), 0)",
                    [key, `ORDER-CHECK-${key}-${i}`, mariaValue],
                );
            } else if (op === "update") {
                await env.writers.pg.query("UPDATE customers SET lifetime_value = $2, last_updated = now() WHERE customer_id = $1", [
                    key,
                    pgValue,
                ]);
                await env.writers.maria.query("UPDATE products SET price = ?, updated_at = UTC_TIMESTAMP() WHERE product_id = ?", [
                    mariaValue,
                    key,
                ]);
            } else {
                await env.writers.pg.query("DELETE FROM customers WHERE customer_id = $1", [key]);
                await env.writers.maria.query("DELETE FROM products WHERE product_id = ?", [key]);
            }
            // A delete's row carries the before image, which is only the key for PostgreSQL (lakehouse/README.md).
            written.pg.push(`${key} ${OPS[op]} ${op === "delete" ? "-" : pgValue}`);
            written.maria.push(`${key} ${OPS[op]} ${op === "delete" ? "-" : mariaValue}`);
        }
        // Orders of the one new customer the script leaves (base + 3): Delta orders_cdc, and customers_analytics'
        // total_orders for it, which the full-column test below compares with SQL.
        const orders: string[] = [];
        for (const [i, [op, k]] of script.entries()) {
            const key = base + k;
            const amount = `${i + 1}.75`;
            if (op === "insert")
                await env.writers.pg.query(
                    "INSERT INTO orders (order_id, customer_id, order_date, order_status, total_amount, last_updated) VALUES ($1, $2, now(), 'pending', $3, now())",
                    [key, base + 3, amount],
                );
            else if (op === "update")
                await env.writers.pg.query("UPDATE orders SET total_amount = $2, last_updated = now() WHERE order_id = $1", [key, amount]);
            else await env.writers.pg.query("DELETE FROM orders WHERE order_id = $1", [key]);
            orders.push(`${key} ${OPS[op]} ${op === "delete" ? "-" : amount}`);
        }
        const logs = [
            { table: "customers_cdc", key: "customer_id", value: "lifetime_value", expected: written.pg },
            { table: "orders_cdc", key: "order_id", value: "total_amount", expected: orders },
            { table: "products_cdc", key: "product_id", value: "price", expected: written.maria },
        ];
        const changeLog = async (l: (typeof logs)[number]): Promise<string[]> => {
            const d = destinations.find((x) => x.d.name === l.table)!.d;
            const [rows] = await env.sb.lakehouse.query<Row>(
                `SELECT ${l.key} AS k, _cdc_operation AS op, ${l.value} AS v FROM ${l.table} WHERE ${l.key} > ${base} AND ${l.key} < ${base + KEY_RANGE} ` +
                    `ORDER BY ${positionColumns(d).join(", ")}`,
            );
            return rows.map((r) => `${String(r.k)} ${String(r.op)} ${r.op === "DELETE" ? "-" : String(r.v)}`);
        };
        for (const l of logs) {
            let actual: string[] = [];
            await waitFor(`${l.table}: the ${l.expected.length} changes`, 120_000, async () => {
                actual = await changeLog(l).catch(() => []);
                return actual.length >= l.expected.length;
            }).catch(() => undefined);
            expect(actual, `${l.table}: change-log rows for keys ${base}–${base + KEY_RANGE - 1}, in source position order`).to.deep.equal(
                l.expected,
            );
        }
    });

    it("current-state tables equal the source in every column, compared with the reconciler's normalization", async () => {
        await expectInSync(env);
        await lakehouseCatchesUp();
        for (const { pipeline, d } of destinations) {
            const current = d.writeMode === "append" ? currentStateSql(d) : `SELECT * FROM ${d.name}`;
            const { columns, rows } = await readLakehouseRows(env, current);
            // A JSON source column arrives as a JSON string; typed jsonb here, the reconciler compares it as JSON.
            const json = pipeline.source.kind === "postgres" ? await jsonColumns(d.table) : new Set<string>();
            const typed = columns.map((c) => (json.has(c.name) && c.type === "text" ? { ...c, type: "jsonb" } : c));
            await copyToTarget(env, `lakehouse_copy.${d.name}`, typed, d.primaryKey, rows);
            if (d.derive) {
                // customers_analytics: the seed's derived columns (§3.2) computed by SQL on the source.
                const expected = await analyticsOnSource();
                await copyToTarget(env, "lakehouse_expected.customers_analytics", expected.columns, d.primaryKey, expected.rows);
            }
            const sourceUrl = d.derive
                ? env.sb.target.url
                : pipeline.source.kind === "postgres"
                  ? env.sb.postgresSource.url
                  : env.sb.mariaDbSource.url;
            const { exitCode, table, errors } = await reconcilePair(
                env,
                sourceUrl,
                d.derive ? "lakehouse_expected.customers_analytics" : d.table,
                `lakehouse_copy.${d.name}`,
            );
            const what = `${d.name}: ${JSON.stringify(table.discrepancies.slice(0, 3))} ${errors.join("; ")}`;
            expect(errors, what).to.deep.equal([]);
            expect(
                table.normalization_warnings.filter((w) => /missing in the target/.test(w)),
                `${d.name}: source columns not compared`,
            ).to.deep.equal([]);
            expect(table.source_row_count, what).to.be.greaterThan(0);
            expect(table.target_row_count, what).to.equal(table.source_row_count);
            expect(table.discrepancy_totals.total, what).to.equal(0);
            expect(table.status, what).to.equal("ok");
            expect(exitCode, what).to.equal(0);
        }
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
