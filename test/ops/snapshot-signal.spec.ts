/**
 * `cdc snapshot`'s pure decisions: which table a name means, the signal record Debezium's KafkaSignalChannel takes,
 * how notifications are read and matched, and which target keys `--delete-extra` may touch. The notification
 * records here follow SinkNotificationChannel's schema through the workers' JsonConverter; test/e2e/ops-snapshot.spec.ts
 * reads the real ones the Debezium connectors write.
 */
import { expect } from "chai";
import { parseStackSpec } from "../../plan/stack-spec";
import type { StackSpec } from "../../model/spec";
import {
    concernsSnapshot,
    deleteRowSql,
    executeSnapshotSignal,
    extraTargetKeys,
    findSnapshotTable,
    parseNotification,
    progressLine,
    scanStatus,
    UnknownTableError,
} from "../../ops/snapshot-signal";
import { Raw, shippedRaw } from "../helpers/config-problems";

function stack(edit?: (raw: Raw) => void): StackSpec {
    const raw = shippedRaw("dev");
    edit?.(raw);
    return parseStackSpec(raw).spec;
}

/** A notification record as the sink channel writes it through the workers' JsonConverter (schemas on). */
function record(payload: Record<string, unknown>): Buffer {
    const schema = {
        type: "struct",
        fields: [
            { type: "string", optional: false, field: "id" },
            { type: "string", optional: false, field: "aggregate_type" },
            { type: "string", optional: false, field: "type" },
            {
                type: "map",
                keys: { type: "string", optional: false },
                values: { type: "string", optional: false },
                optional: true,
                field: "additional_data",
            },
            { type: "int64", optional: false, field: "timestamp" },
        ],
        optional: false,
        name: "io.debezium.connector.common.Notification",
    };
    return Buffer.from(JSON.stringify({ schema, payload }));
}

describe("cdc snapshot: which table", () => {
    const spec = stack();

    it("takes a table as the stack config names it, and Debezium's id, in any case", () => {
        for (const name of ["public.customers", "PUBLIC.Customers"]) {
            const t = findSnapshotTable(spec, name);
            expect([t.pipeline.name, t.dataCollection, t.source, t.target], name).to.deep.equal([
                "shop",
                "public.customers",
                "public.customers",
                "shop.customers",
            ]);
        }
        const inventory = findSnapshotTable(spec, "inventory.products");
        expect([inventory.pipeline.name, inventory.dataCollection, inventory.source, inventory.target]).to.deep.equal([
            "inventory",
            "inventory.products",
            "inventory.products",
            "inventory.products",
        ]);
        const sales = findSnapshotTable(spec, "SalesDB.dbo.orders");
        expect([sales.pipeline.name, sales.dataCollection, sales.source]).to.deep.equal(["sales", "SalesDB.dbo.orders", "dbo.orders"]);
        expect(findSnapshotTable(spec, "dbo.orders").dataCollection).to.equal("SalesDB.dbo.orders");
    });

    it("refuses an unknown table with the captured ones to choose from, and an unknown pipeline with the pipelines", () => {
        expect(() => findSnapshotTable(spec, "public.nope"))
            .to.throw(UnknownTableError, 'table "public.nope" is not captured by any pipeline of this stack')
            .with.property("message")
            .that.contains("public.customers (shop)")
            .and.contains("dbo.customers (sales)");
        expect(() => findSnapshotTable(spec, "public.customers", "inventory")).to.throw(
            UnknownTableError,
            "is not captured by pipeline inventory",
        );
        expect(() => findSnapshotTable(spec, "public.customers", "crm")).to.throw(
            UnknownTableError,
            'no pipeline "crm" in this stack; its pipelines: sales, shop, inventory',
        );
    });

    it("asks for --pipeline when two pipelines capture a table of that name", () => {
        const twice = stack((raw) =>
            raw.pipelines.push({
                name: "shop2",
                source: {
                    kind: "postgres",
                    host: "shop2-db",
                    database: "shop",
                    tables: [{ name: "public.customers", primaryKey: ["customer_id"] }],
                },
                sink: { host: "warehouse", database: "warehouse", schema: "shop2" },
            }),
        );
        expect(() => findSnapshotTable(twice, "public.customers")).to.throw(
            UnknownTableError,
            "captured by pipelines shop and shop2; pick one with --pipeline <name>",
        );
        expect(findSnapshotTable(twice, "public.customers", "shop2").target).to.equal("shop2.customers");
    });
});

describe("cdc snapshot: the signal", () => {
    const spec = stack();

    it("is keyed by topic.prefix (KafkaSignalChannel drops other keys) and asks for an INCREMENTAL snapshot of the table", () => {
        const t = findSnapshotTable(spec, "public.customers");
        const signal = executeSnapshotSignal(t, "id-1");
        expect(signal.key).to.equal("shop");
        expect(JSON.parse(signal.value)).to.deep.equal({
            id: "id-1",
            type: "execute-snapshot",
            data: { type: "INCREMENTAL", "data-collections": ["public.customers"] },
        });
    });

    it("carries the filter as an additional condition whose data-collection regex matches this table only", () => {
        const t = findSnapshotTable(spec, "SalesDB.dbo.orders");
        const value = JSON.parse(executeSnapshotSignal(t, "id-2", "order_id > 10 AND note <> 'x'").value);
        expect(value.data).to.deep.equal({
            type: "INCREMENTAL",
            "data-collections": ["SalesDB.dbo.orders"],
            "additional-conditions": [{ "data-collection": "SalesDB\\.dbo\\.orders", filter: "order_id > 10 AND note <> 'x'" }],
        });
        // Debezium compiles it case-insensitively and matches whole ids.
        const pattern = new RegExp(`^${value.data["additional-conditions"][0]["data-collection"]}$`, "i");
        expect(["SalesDB.dbo.orders", "salesdb.dbo.orders"].map((id) => pattern.test(id))).to.deep.equal([true, true]);
        expect(pattern.test("SalesDBxdbo.orders")).to.equal(false);
    });
});

describe("cdc snapshot: notifications", () => {
    const spec = stack();
    const t = findSnapshotTable(spec, "public.customers");
    const base = { aggregate_type: "Incremental Snapshot", timestamp: 1_764_600_000_000 };

    it("reads a sink-channel record, and ignores other aggregates and what is not JSON", () => {
        const n = parseNotification(
            record({
                ...base,
                id: "id-1",
                type: "TABLE_SCAN_COMPLETED",
                additional_data: {
                    connector_name: "shop",
                    data_collections: "public.customers",
                    scanned_collection: "public.customers",
                    total_rows_scanned: "12",
                    status: "SUCCEEDED",
                },
            }),
        );
        expect(n).to.deep.include({
            id: "id-1",
            type: "TABLE_SCAN_COMPLETED",
            connectorName: "shop",
            dataCollections: ["public.customers"],
        });
        expect(progressLine(n!)).to.equal(
            "2025-12-01T14:40:00.000Z TABLE_SCAN_COMPLETED public.customers: SUCCEEDED (12 rows; every row the filter matched was re-read)",
        );
        expect(
            parseNotification(record({ ...base, aggregate_type: "Initial Snapshot", id: "x", type: "COMPLETED", additional_data: {} })),
        ).to.equal(undefined);
        expect(parseNotification(Buffer.from("not json"))).to.equal(undefined);
        expect(parseNotification(null)).to.equal(undefined);
    });

    it("follows this connector's notifications by the signal's id, or by naming the table under another snapshot's id", () => {
        const n = (id: string, connector: string, collections: string, type = "IN_PROGRESS") =>
            parseNotification(
                record({
                    ...base,
                    id,
                    type,
                    additional_data: {
                        connector_name: connector,
                        data_collections: collections,
                        current_collection_in_progress: collections,
                    },
                }),
            )!;
        const followed = new Set<string>();
        expect(concernsSnapshot(n("mine", "shop", "public.orders"), t, "mine", followed)).to.equal(true);
        expect(concernsSnapshot(n("other", "shop", "public.orders,public.customers"), t, "mine", followed)).to.equal(true);
        expect(concernsSnapshot(n("other", "shop", "public.orders"), t, "mine", followed)).to.equal(false);
        expect(concernsSnapshot(n("other", "shop", "", "COMPLETED"), t, "mine", new Set(["other"]))).to.equal(true);
        expect(concernsSnapshot(n("mine", "inventory", "public.customers"), t, "mine", followed)).to.equal(false);
    });

    it("tells a successful or empty scan from one that re-read nothing it should have", () => {
        expect(
            ["SUCCEEDED", "EMPTY", "NO_PRIMARY_KEY", "SKIPPED", "SQL_EXCEPTION", "UNKNOWN_SCHEMA", "NEW"].map((s) => scanStatus(s).ok),
        ).to.deep.equal([true, true, false, false, false, false, false]);
        expect(scanStatus("SQL_EXCEPTION").meaning).to.contain("--where filter's SQL");
    });
});

describe("cdc snapshot: extra target rows", () => {
    it("deletes exactly the keys the reconciler confirmed missing in the source, values bound", () => {
        const keys = extraTargetKeys([
            { primary_key: { id: "7" }, mismatch_type: "missing_in_source", source_values: null, target_values: { id: "7" } },
            { primary_key: { id: "8" }, mismatch_type: "missing_in_target", source_values: { id: "8" }, target_values: null },
            { primary_key: { id: "9" }, mismatch_type: "value_mismatch", source_values: { id: "9" }, target_values: { id: "9" } },
        ]);
        expect(keys).to.deep.equal([{ id: "7" }]);
        expect(deleteRowSql('shop.cust"omers', { order_id: "1", line: "2" })).to.deep.equal({
            sql: 'DELETE FROM "shop"."cust""omers" WHERE "order_id" = $1 AND "line" = $2',
            params: ["1", "2"],
        });
    });
});
