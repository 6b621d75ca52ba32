/**
 * `cdc snapshot` against the real sandbox: rows deleted from the TARGET behind the pipeline's back (no change event
 * will ever bring them back) are repaired by an incremental snapshot of exactly the filtered range, through the real
 * Kafka signal channel and notification topic of the PostgreSQL (shop) and MariaDB (inventory) connectors, and the
 * reconciler then finds source and target equal. Also: a filter matching nothing, a filter the database refuses, an
 * unknown table, and a target row the source does not have (reported, deleted only with --delete-extra).
 */
import { expect } from "chai";
import { Client } from "pg";
import * as mysql from "mysql2/promise";
import { KafkaClient } from "../../ops/kafka-client";
import type { SnapshotResult } from "../../ops/snapshot";
import { signalTopicName } from "../../model/naming";
import { E2E, e2e, START_TIMEOUT_MS } from "./fixture";
import { cdc } from "./ops-run";

async function targetQuery<T = Record<string, unknown>>(env: E2E, sql: string, params: unknown[] = []): Promise<T[]> {
    const pg = new Client({ connectionString: env.sb.target.url });
    await pg.connect();
    try {
        return (await pg.query(sql, params)).rows as T[];
    } finally {
        await pg.end();
    }
}

async function sourceIds(env: E2E, sql: string): Promise<number[]> {
    const pg = new Client({ connectionString: env.sb.postgresSource.url });
    await pg.connect();
    try {
        return (await pg.query(sql)).rows.map((r) => Number(Object.values(r)[0]));
    } finally {
        await pg.end();
    }
}

const types = (r: SnapshotResult) => r.notifications.map((n) => n.type);

async function signalEnd(env: E2E, topic: string): Promise<bigint> {
    const kafka = new KafkaClient({ bootstrapServers: [env.sb.kafka.bootstrapServers] });
    try {
        return (await kafka.latestOffsets([topic]))[0].offset;
    } finally {
        await kafka.close();
    }
}

describe("sandbox e2e: cdc snapshot (incremental snapshot of one table, then the reconciler)", function () {
    this.timeout(5 * 60_000);
    let env: E2E;

    before(async function () {
        this.timeout(START_TIMEOUT_MS);
        env = await e2e();
    });

    it("PostgreSQL: repairs exactly the target rows deleted behind the pipeline's back, with the progress notifications", async () => {
        const ids = await sourceIds(env, "SELECT customer_id FROM customers ORDER BY customer_id OFFSET 20 LIMIT 12");
        const [lo, hi] = [ids[0], ids.at(-1)!];
        const deleted = ids.filter((_, i) => i % 3 === 0);
        await targetQuery(env, "DELETE FROM shop.customers WHERE customer_id = ANY($1)", [deleted]);
        expect(await targetQuery(env, "SELECT customer_id FROM shop.customers WHERE customer_id = ANY($1)", [deleted])).to.deep.equal([]);

        const started = Date.now();
        const { code, stdout, stderr } = await cdc([
            "snapshot",
            "public.customers",
            "--where",
            `customer_id BETWEEN ${lo} AND ${hi}`,
            "--sandbox",
            "e2e",
            "--lag-window",
            "5",
            "--json",
        ]);
        const result = JSON.parse(stdout) as SnapshotResult;
        const t = result.timings;
        process.stderr.write(
            `      [cdc snapshot public.customers: ${((Date.now() - started) / 1000).toFixed(1)} s; signal → STARTED ${t.toStartedMs} ms, ` +
                `→ COMPLETED ${t.toCompletedMs} ms, sink ${result.sink.waitedMs} ms, reconciler ${t.reconcileMs} ms]\n`,
        );
        expect(code, stderr).to.equal(0);
        expect(result.dataCollection).to.equal("public.customers");
        expect(types(result)[0]).to.equal("STARTED");
        expect(types(result)).to.include.members(["IN_PROGRESS", "TABLE_SCAN_COMPLETED"]);
        expect(types(result).at(-1)).to.equal("COMPLETED");
        // Exactly the filtered range was re-read: its rows, not the table's.
        expect(result.scan).to.deep.include({ status: "SUCCEEDED", rowsScanned: ids.length });
        expect(result.sink.caughtUp).to.equal(true);
        expect(result.reconciliation.status).to.equal("ok");
        expect(result.reconciliation.discrepancies.total).to.equal(0);
        expect(result.extraInTarget).to.deep.equal([]);
        const back = await targetQuery<{ customer_id: number }>(
            env,
            "SELECT customer_id FROM shop.customers WHERE customer_id = ANY($1) ORDER BY 1",
            [deleted],
        );
        expect(back.map((r) => Number(r.customer_id))).to.deep.equal(deleted);
        // Progress went to stderr as it happened, one line per notification.
        for (const t of ["STARTED", "IN_PROGRESS", "TABLE_SCAN_COMPLETED", "COMPLETED"]) expect(stderr).to.contain(` ${t}`);
        expect(stderr).to.match(/TABLE_SCAN_COMPLETED public\.customers: SUCCEEDED \(\d+ rows/);
    });

    it("MariaDB: repairs deleted target rows of inventory.products", async () => {
        const maria = await mysql.createConnection({ uri: env.sb.mariaDbSource.url });
        const [rows] = await maria.query("SELECT product_id FROM products WHERE product_id <= 30 ORDER BY product_id");
        await maria.end();
        const inRange = (rows as { product_id: number }[]).map((r) => r.product_id);
        const deleted = inRange.filter((id) => id % 4 === 1);
        expect(deleted.length).to.be.greaterThan(2);
        await targetQuery(env, "DELETE FROM inventory.products WHERE product_id = ANY($1)", [deleted]);

        const { code, stdout, stderr } = await cdc([
            "snapshot",
            "inventory.products",
            "--where",
            "product_id <= 30",
            "--sandbox",
            "e2e",
            "--lag-window",
            "5",
            "--json",
        ]);
        expect(code, stderr).to.equal(0);
        const result = JSON.parse(stdout) as SnapshotResult;
        process.stderr.write(
            `      [cdc snapshot inventory.products: signal → STARTED ${result.timings.toStartedMs} ms, → COMPLETED ${result.timings.toCompletedMs} ms, ` +
                `sink ${result.sink.waitedMs} ms, reconciler ${result.timings.reconcileMs} ms]\n`,
        );
        expect(result.pipeline).to.equal("inventory");
        expect(result.dataCollection).to.equal("inventory.products");
        expect(types(result)[0]).to.equal("STARTED");
        expect(types(result).at(-1)).to.equal("COMPLETED");
        expect(result.scan).to.deep.include({ status: "SUCCEEDED", rowsScanned: inRange.length });
        expect(result.reconciliation.status).to.equal("ok");
        const back = await targetQuery<{ product_id: number }>(
            env,
            "SELECT product_id FROM inventory.products WHERE product_id = ANY($1) ORDER BY 1",
            [deleted],
        );
        expect(back.map((r) => Number(r.product_id))).to.deep.equal(deleted);
    });

    it("a filter matching nothing: the table scan is EMPTY, nothing changes, and the table still reconciles", async () => {
        const before = await targetQuery<{ n: string }>(env, "SELECT count(*) AS n FROM shop.orders");
        const { code, stdout, stderr } = await cdc([
            "snapshot",
            "public.orders",
            "--where",
            "order_id < 0",
            "--sandbox",
            "e2e",
            "--lag-window",
            "5",
            "--json",
        ]);
        expect(code, stderr).to.equal(0);
        const result = JSON.parse(stdout) as SnapshotResult;
        expect(result.scan).to.deep.include({ status: "EMPTY", rowsScanned: 0 });
        expect(types(result)).to.deep.equal(["STARTED", "TABLE_SCAN_COMPLETED", "COMPLETED"]);
        expect(result.reconciliation.status).to.equal("ok");
        expect(await targetQuery<{ n: string }>(env, "SELECT count(*) AS n FROM shop.orders")).to.deep.equal(before);
    });

    it("a filter the source database refuses ends with SQL_EXCEPTION and exit 1, naming the filter as the suspect", async () => {
        const { code, stderr } = await cdc(["snapshot", "public.orders", "--where", "no_such_column = 1", "--sandbox", "e2e"]);
        expect(code).to.equal(1);
        expect(stderr).to.contain("ended with SQL_EXCEPTION").and.contain("--where filter's SQL");
    });

    it("an unknown table is refused before anything is sent, with the captured tables to choose from", async () => {
        const topic = signalTopicName(env.sb.spec.pipelines.find((p) => p.name === "shop")!.source);
        const end = await signalEnd(env, topic);
        const { code, stderr } = await cdc(["snapshot", "public.no_such_table", "--sandbox", "e2e"]);
        expect(code).to.equal(2);
        expect(stderr).to.contain('table "public.no_such_table" is not captured by any pipeline of this stack');
        expect(stderr).to.contain("public.customers (shop)").and.contain("inventory.products (inventory)");
        expect(await signalEnd(env, topic)).to.equal(end);
    });

    it("a target row the source does not have is reported, not deleted; --delete-extra deletes exactly it", async () => {
        const [keep] = await sourceIds(env, "SELECT customer_id FROM customers ORDER BY customer_id LIMIT 1");
        const extra = 970_000 + keep;
        // A copy of a real row under a key the source never had, as a stray manual insert would leave it.
        await targetQuery(
            env,
            `CREATE TEMP TABLE extra AS SELECT * FROM shop.customers WHERE customer_id = ${keep}; ` +
                `UPDATE extra SET customer_id = ${extra}; INSERT INTO shop.customers SELECT * FROM extra`,
        );
        const args = [
            "snapshot",
            "public.customers",
            "--where",
            `customer_id = ${keep}`,
            "--sandbox",
            "e2e",
            "--lag-window",
            "5",
            "--json",
        ];

        const first = await cdc(args);
        expect(first.code, first.stderr).to.equal(1);
        const reported = JSON.parse(first.stdout) as SnapshotResult;
        expect(reported.extraInTarget).to.deep.equal([{ customer_id: String(extra) }]);
        expect(reported.reconciliation.discrepancies).to.deep.include({ missing_in_source: 1, missing_in_target: 0, value_mismatch: 0 });
        expect(reported.deleted).to.equal(undefined);
        expect(await targetQuery(env, "SELECT customer_id FROM shop.customers WHERE customer_id = $1", [extra])).to.have.length(1);
        const human = await cdc(args.filter((a) => a !== "--json"));
        expect(human.stdout).to.contain("1 target row(s) the source does not have; an incremental snapshot never deletes them");
        expect(human.stdout).to.contain(`{"customer_id":"${extra}"}`);

        const second = await cdc([...args, "--delete-extra"]);
        expect(second.code, second.stderr).to.equal(0);
        const repaired = JSON.parse(second.stdout) as SnapshotResult;
        expect(repaired.deleted).to.equal(1);
        expect(repaired.afterDelete?.status).to.equal("ok");
        expect(await targetQuery(env, "SELECT customer_id FROM shop.customers WHERE customer_id = $1", [extra])).to.deep.equal([]);
        expect(await targetQuery(env, "SELECT customer_id FROM shop.customers WHERE customer_id = $1", [keep])).to.have.length(1);
    });
});
