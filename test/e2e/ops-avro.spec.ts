/**
 * The ops CLI on an Avro sandbox (serialization avro, Apicurio Registry 3.3.3, its own sandbox "e2e-ops-avro"):
 * every command that reads change events, notifications or dead letters goes through ops/record-decoder.ts. A JSON
 * reader of these topics would see no source time, no streamed marker, no schema and no notification, so each case
 * below fails without the decoder: cdc status (a MariaDB table is STREAMING only by its newest event's
 * source.snapshot, and the event time is source.ts_ms), cdc schema-events (a column added on the source), cdc snapshot
 * (the incremental snapshot's notifications, which Debezium writes through the connector's Avro converter).
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { SchemaEventsReport } from "../../ops/schema-events";
import type { SnapshotResult } from "../../ops/snapshot";
import type { StatusReport } from "../../ops/status";
import { waitUntil } from "../../model/wait";
import { E2E, START_TIMEOUT_MS, startE2E } from "./fixture";
import { cdc } from "./ops-run";

const SANDBOX = "e2e-ops-avro";

describe("sandbox e2e: the ops CLI on Avro topics", function () {
    this.timeout(8 * 60_000);
    let env: E2E;
    let state: string;

    before(async function () {
        this.timeout(START_TIMEOUT_MS);
        env = await startE2E({ name: SANDBOX, serialization: "avro" });
        state = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-ops-avro-"));
    });

    after(async function () {
        this.timeout(120_000);
        await env?.writers.close();
        await env?.sb.stop();
        if (state) fs.rmSync(state, { recursive: true, force: true });
    });

    it("cdc status reads the newest Avro event's source time and snapshot marker", async () => {
        const before = Date.now();
        await env.writers.maria.query(
            "UPDATE products SET quantity_in_stock = quantity_in_stock + 1 WHERE product_id = (SELECT id FROM (SELECT min(product_id) AS id FROM products) m)",
        );
        await env.writers.pg.query(
            "UPDATE customers SET last_updated = now() WHERE customer_id = (SELECT min(customer_id) FROM customers)",
        );
        let last = "";
        const report = await waitUntil("the updates in cdc status", 90_000, async () => {
            const r = await cdc(["status", "--sandbox", SANDBOX, "--json"], {});
            if (r.code > 1) throw new Error(`cdc status exited ${r.code}: ${r.stderr}`);
            const parsed = JSON.parse(r.stdout) as StatusReport;
            last = JSON.stringify(parsed.tables.map((t) => [t.source_table, t.state, t.last_event_timestamp]));
            const fresh = (table: string) => {
                const t = parsed.tables.find((x) => x.source_table === table);
                return t?.state === "STREAMING" && t.last_event_timestamp !== null && Date.parse(t.last_event_timestamp) >= before - 2_000;
            };
            return fresh("inventory.products") && fresh("public.customers") ? parsed : undefined;
        }).catch((e: Error) => {
            throw new Error(`${e.message}; last status: ${last}`);
        });
        const products = report.tables.find((t) => t.source_table === "inventory.products")!;
        expect(Date.parse(products.last_event_timestamp!)).to.be.within(before - 2_000, Date.now());
    });

    it("cdc schema-events finds a column added on the source in the Avro value schemas", async () => {
        await env.writers.pg.query("ALTER TABLE customers ADD COLUMN ops_avro_probe varchar(40)");
        await env.writers.pg.query(
            "UPDATE customers SET ops_avro_probe = 'x' WHERE customer_id = (SELECT min(customer_id) FROM customers)",
        );
        let events: SchemaEventsReport["events"] = [];
        await waitUntil("the ADD_COLUMN event", 90_000, async () => {
            const r = await cdc(["schema-events", "--sandbox", SANDBOX, "--state-dir", state, "--json"], {});
            if (r.code > 1) throw new Error(`cdc schema-events exited ${r.code}: ${r.stderr}`);
            const report = JSON.parse(r.stdout) as SchemaEventsReport;
            expect(report.skipped, `records skipped as unreadable: ${r.stderr}`).to.equal(0);
            events = report.events;
            return events.some((e) => e.change_type === "ADD_COLUMN" && e.change_details.column_name === "ops_avro_probe");
        });
        const added = events.find((e) => e.change_details.column_name === "ops_avro_probe")!;
        expect(added).to.deep.include({ source_table: "public.customers", change_type: "ADD_COLUMN" });
        expect(added.change_details).to.deep.include({ new_type: "VARCHAR(40)", nullable: true });
    });

    it("cdc snapshot follows the Avro notifications from STARTED to COMPLETED and reconciles", async () => {
        const { rows } = await env.writers.pg.query<{ lo: number }>("SELECT min(order_id) AS lo FROM orders");
        const lo = Number(rows[0].lo);
        const where = `order_id BETWEEN ${lo} AND ${lo + 10}`;
        const { code, stdout, stderr } = await cdc(
            ["snapshot", "public.orders", "--where", where, "--sandbox", SANDBOX, "--lag-window", "5", "--json"],
            {},
        );
        expect(code, stderr).to.equal(0);
        const result = JSON.parse(stdout) as SnapshotResult;
        const types = result.notifications.map((n) => n.type);
        expect(types[0]).to.equal("STARTED");
        expect(types).to.include("COMPLETED");
    });
});
