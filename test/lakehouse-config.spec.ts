/**
 * The lakehouse keys of the stack config (config/schema.ts, config/lakehouse.ts): every mistake reported at once by
 * path, with the message a user sees; the writer's cross-field rules repeated, so a stack that passes renders a
 * file the writer accepts; per-environment defaults from the profile.
 */
import { expect } from "chai";
import { parseStackSpec } from "../plan/stack-spec";
import { problemsOf, Raw, shippedRaw } from "./helpers/config-problems";

const dev = (): Raw => shippedRaw("dev");
const prod = (): Raw => shippedRaw("prod");

/** dev's shop pipeline (pipelines[1]) and its destinations: customers_cdc, orders_cdc, customers_analytics. */
const SHOP = "pipelines[1].destinations";
const shop = (raw: Raw): Raw[] => raw.pipelines[1].destinations;

describe("lakehouse configuration", () => {
    it("reports every problem at once, by path, with did-you-mean for misspelt keys and tables", () => {
        const raw = dev();
        shop(raw)[0].writeMod = "append";
        shop(raw)[1].table = "public.order";
        shop(raw)[2].format = "parquet";
        raw.lakehouse.warehous = "s3://x/y";
        expect(problemsOf(raw)).to.deep.equal([
            `${SHOP}[0]: unknown key "writeMod" (did you mean "writeMode"?); remove it or fix its spelling`,
            `${SHOP}[2].format: must be "deltalake" or "iceberg"`,
            'lakehouse: unknown key "warehous" (did you mean "warehouse"?); remove it or fix its spelling',
        ]);
        // Structural problems first (as for every key); the table is checked once the shapes are right.
        delete shop(raw)[0].writeMod;
        shop(raw)[2].format = "iceberg";
        delete raw.lakehouse.warehous;
        expect(problemsOf(raw)).to.deep.equal([
            `${SHOP}[1].table: "public.order" is not a table this pipeline captures (did you mean "public.orders"?); use one of public.customers, public.orders (source.tables)`,
        ]);
    });

    it("requires the lakehouse section once a pipeline declares destinations, and the catalog once one is Iceberg", () => {
        const raw = dev();
        delete raw.lakehouse;
        expect(problemsOf(raw)).to.deep.equal([
            "lakehouse: is required: pipelines[1] (shop), pipelines[2] (inventory) declare destinations; set at least lakehouse.image and lakehouse.warehouse",
        ]);
        // The destinations are still checked, in the same run.
        shop(raw)[0].sortBy = ["customer_id"];
        expect(problemsOf(raw)).to.include(`${SHOP}[0].sortBy: Delta tables have no sort order (Iceberg only); remove it`);
        const noCatalog = dev();
        delete noCatalog.lakehouse.catalog;
        expect(problemsOf(noCatalog)).to.deep.equal([
            "lakehouse.catalog: is required: pipelines[1] (shop) writes Iceberg tables, whose SQL catalog lives in PostgreSQL; set at least lakehouse.catalog.host",
        ]);
    });

    it("deploys no writer, with a warning, when lakehouse is set but nothing uses it", () => {
        const raw = dev();
        for (const p of raw.pipelines) delete p.destinations;
        const { spec, warnings } = parseStackSpec(raw);
        expect(spec.lakehouse).to.equal(undefined);
        expect(warnings).to.include("lakehouse is set but no pipeline declares destinations, so no writer is deployed");
    });

    it("takes retention, schedule and the catalog's TLS mode from the environment profile", () => {
        const withCatalog = prod();
        withCatalog.pipelines[0].destinations.push({ name: "orders_state", format: "iceberg", table: "dbo.orders", writeMode: "upsert" });
        withCatalog.lakehouse.catalog = { host: "warehouse.postgres.svc" };
        const devSpec = parseStackSpec(dev()).spec.lakehouse!;
        const prodSpec = parseStackSpec(withCatalog).spec.lakehouse!;
        expect([devSpec.maintenance, devSpec.catalog!.sslMode]).to.deep.equal([{ schedule: "20 * * * *", retentionHours: 1 }, "prefer"]);
        expect([prodSpec.maintenance, prodSpec.catalog!.sslMode]).to.deep.equal([
            { schedule: "20 3 * * *", retentionHours: 168 },
            "verify-full",
        ]);
        const overridden = dev();
        overridden.lakehouse.maintenance = { schedule: "0 4 * * *", retentionHours: 24 };
        expect(parseStackSpec(overridden).spec.lakehouse!.maintenance).to.deep.equal({ schedule: "0 4 * * *", retentionHours: 24 });
    });

    it("defaults the Delta location under the warehouse, the Iceberg namespace to the pipeline, the key to the captured table's", () => {
        const raw = dev();
        raw.lakehouse.warehouse = "s3://cdc-lakehouse-dev/warehouse/";
        const [customers, , analytics] = parseStackSpec(raw).spec.pipelines[1].destinations;
        expect(customers).to.deep.include({
            location: "s3://cdc-lakehouse-dev/warehouse/delta/shop/customers_cdc",
            primaryKey: ["customer_id"],
            topic: "shop.public.customers",
        });
        expect(analytics).to.deep.include({ namespace: "shop", writeMode: "upsert" });
        expect(analytics).to.not.have.property("location");
    });

    describe("the writer's own rules, by stack path", () => {
        const cases: [string, (raw: Raw) => void, string[]][] = [
            [
                "a Delta sort order",
                (raw) => (shop(raw)[0].sortBy = ["customer_id"]),
                [`${SHOP}[0].sortBy: Delta tables have no sort order (Iceberg only); remove it`],
            ],
            [
                "Delta column mapping",
                (raw) => (shop(raw)[0].tableProperties["delta.columnMapping.mode"] = "name"),
                [
                    `${SHOP}[0].tableProperties.delta.columnMapping.mode: delta-rs 1.6 refuses schema evolution on column-mapped tables and cannot read their change data feed; remove it (lakehouse/README.md "Tables and seed properties a library cannot produce")`,
                ],
            ],
            [
                "an upsert table without _cdc_source_lsn",
                (raw) => (shop(raw)[2].metadataColumns = ["_ingestion_timestamp", "_source_system"]),
                [
                    `${SHOP}[2].metadataColumns: upsert tables need _cdc_source_lsn (the per-row source position that keeps late and duplicate events from regressing a row); add it`,
                ],
            ],
            [
                "binlog columns on a PostgreSQL source",
                (raw) => (shop(raw)[0].metadataColumns = ["_cdc_operation", "_cdc_binlog_file"]),
                [`${SHOP}[0].metadataColumns: _cdc_binlog_file and _cdc_binlog_position need a mysql or mariadb source, not postgres`],
            ],
            [
                "_source_system without its label",
                (raw) => delete shop(raw)[2].sourceSystemLabel,
                [`${SHOP}[2].sourceSystemLabel: is required when metadataColumns has _source_system (seed: "postgres_cdc")`],
            ],
            [
                "a metadata column declared as a column",
                (raw) => shop(raw)[0].columns.push({ name: "_cdc_timestamp", type: "timestamp" }),
                [`${SHOP}[0].columns[15].name: "_cdc_timestamp" is a metadata column the writer fills; list it in metadataColumns only`],
            ],
            [
                "a key that is not a declared column",
                (raw) => (shop(raw)[1].primaryKey = ["orderid"]),
                [`${SHOP}[1].primaryKey[0]: "orderid" is not among the declared columns (did you mean "order_id"?)`],
            ],
            [
                "a transform Delta cannot partition by",
                (raw) => (shop(raw)[1].partitionBy = "month(order_date)"),
                [`${SHOP}[1].partitionBy: deltalake partitions by identity(column) or day(column), not month()`],
            ],
            [
                "a date transform of a non-date column",
                (raw) => (shop(raw)[1].partitionBy = "day(order_status)"),
                [`${SHOP}[1].partitionBy: day() needs a timestamp or date column; "order_status" is string`],
            ],
            [
                "customers_analytics appended",
                (raw) => (shop(raw)[2].writeMode = "append"),
                [`${SHOP}[2].writeMode: a customers_analytics table is current state; must be "upsert"`],
            ],
            [
                "customers_analytics counting an Iceberg table",
                (raw) => (shop(raw)[2].derive.ordersTable = "customers_analytics"),
                [
                    `${SHOP}[2].derive.ordersTable: "customers_analytics" must name a deltalake append destination of this pipeline (total_orders is counted in its change log)`,
                ],
            ],
            [
                "customers_analytics counting orders without a change feed",
                (raw) => (shop(raw)[1].tableProperties = {}),
                [
                    `${SHOP}[2].derive.ordersTable: "orders_cdc" needs tableProperties delta.enableChangeDataFeed: "true" (its change feed tells which customers to recount)`,
                ],
            ],
            [
                "a checksum over nothing",
                (raw) => delete shop(raw)[1].qualityChecks[1].columns,
                [`${SHOP}[1].qualityChecks[1].columns: is required for a checksum check: name the key columns it hashes`],
            ],
            [
                "a lag check without threshold",
                (raw) => delete shop(raw)[1].qualityChecks[2].thresholdSeconds,
                [`${SHOP}[1].qualityChecks[2].thresholdSeconds: is required for a lag_monitoring check (seed: 5)`],
            ],
            [
                "a checksum over an unknown column",
                (raw) => (shop(raw)[0].qualityChecks[1].columns = ["customer_id", "e_mail"]),
                [`${SHOP}[0].qualityChecks[1].columns[1]: "e_mail" is not among the declared columns (did you mean "email"?)`],
            ],
            [
                "two destinations with one name",
                (raw) => (shop(raw)[1].name = "customers_cdc"),
                [
                    `${SHOP}[1].name: "customers_cdc" is also destinations[0]'s name; each destination is its own table`,
                    `${SHOP}[2].derive.ordersTable: "orders_cdc" must name a deltalake append destination of this pipeline (total_orders is counted in its change log)`,
                    `${SHOP}[1].location: Delta table s3://cdc-lakehouse-dev/warehouse/delta/shop/customers_cdc is also written by ${SHOP}[0]; give one of them another location`,
                ],
            ],
            [
                "two pipelines writing one Iceberg table",
                (raw) =>
                    (raw.pipelines[2].destinations[0] = {
                        ...raw.pipelines[2].destinations[0],
                        name: "customers_analytics",
                        namespace: "shop",
                    }),
                [
                    "pipelines[2].destinations[0].namespace: Iceberg table shop.customers_analytics is also written by pipelines[1].destinations[2]; give one of them another namespace or name",
                ],
            ],
            [
                "a Delta table named like the quality checks' results",
                (raw) => (shop(raw)[0].name = "validation_results"),
                [
                    `${SHOP}[0].location: Delta table s3://cdc-lakehouse-dev/warehouse/delta/shop/validation_results is also written by the quality checks of pipelines[1] (their validation_results table); give one of them another location`,
                ],
            ],
            [
                "a location on an Iceberg table and a namespace on a Delta one",
                (raw) => {
                    shop(raw)[2].location = "s3://bucket/x";
                    shop(raw)[0].namespace = "shop";
                },
                [
                    `${SHOP}[0].namespace: a Delta table has no catalog namespace; remove it, or set location`,
                    `${SHOP}[2].location: an Iceberg table's location is decided by its catalog (lakehouse.warehouse); remove it, or set namespace`,
                ],
            ],
            [
                "a health port a non-root process cannot bind",
                (raw) => (raw.pipelines[1].lakehouse = { observability: { healthCheckPort: 80 } }),
                [
                    "pipelines[1].lakehouse.observability.healthCheckPort: must be 1024 or higher: the writer runs as a non-root user without capabilities, which cannot bind lower ports",
                ],
            ],
            [
                "a catalog role that is a sink's",
                (raw) => (raw.lakehouse.catalog.username = "cdc_writer"),
                [
                    'lakehouse.catalog.username: "cdc_writer" is pipelines[0].sink.username, pipelines[1].sink.username, pipelines[2].sink.username on the same server; the catalog needs a role of its own, which can create tables in its database only',
                ],
            ],
            [
                "a catalog in a target database",
                (raw) => (raw.lakehouse.catalog.database = "warehouse"),
                [
                    'lakehouse.catalog.database: "warehouse" is the target database of pipelines[0], pipelines[1], pipelines[2] on the same server; the catalog creates its tables in a database of its own, so name another',
                ],
            ],
            [
                "a maintenance CronJob name Kubernetes refuses",
                (raw) => (raw.lakehouse.name = "a-very-long-lakehouse-name-for-writers"),
                [
                    "lakehouse.name: makes the maintenance CronJob name a-very-long-lakehouse-name-for-writers-shop-maintenance 55 characters long; Kubernetes allows 52 (it appends 11 to each Job's name), so shorten lakehouse.name or pipelines[1].name",
                    "lakehouse.name: makes the maintenance CronJob name a-very-long-lakehouse-name-for-writers-inventory-maintenance 60 characters long; Kubernetes allows 52 (it appends 11 to each Job's name), so shorten lakehouse.name or pipelines[2].name",
                ],
            ],
        ];
        for (const [title, edit, expected] of cases) {
            it(`refuses ${title}`, () => {
                const raw = dev();
                edit(raw);
                expect(problemsOf(raw)).to.deep.equal(expected);
            });
        }
    });

    describe("where the profile decides (prod)", () => {
        it("refuses a writer whose KafkaUser and KafkaAccess would be Connect's", () => {
            const raw = prod();
            raw.connect.name = "cdc-lakehouse-sales";
            expect(problemsOf(raw)).to.deep.equal([
                `lakehouse.name: gives a writer KafkaAccess the name "cdc-lakehouse-sales-kafka-access", which is also Connect's KafkaAccess's; use another lakehouse.name`,
                `lakehouse.name: gives a writer Secret the name "cdc-lakehouse-sales-kafka-access", which is also the binding Secret of Connect's KafkaAccess's; use another lakehouse.name`,
                `lakehouse.name: gives a writer KafkaUser the name "cdc-lakehouse-sales", which is also Connect's KafkaUser's; use another lakehouse.name`,
            ]);
        });

        it("refuses plaintext object storage and an unverified catalog connection", () => {
            const raw = prod();
            raw.lakehouse.storage.endpoint = "http://minio.storage.svc:9000";
            raw.pipelines[0].destinations.push({ name: "orders_state", format: "iceberg", table: "dbo.orders", writeMode: "upsert" });
            raw.lakehouse.catalog = { host: "warehouse.postgres.svc", sslMode: "require" };
            expect(problemsOf(raw)).to.deep.equal([
                "lakehouse.storage.endpoint: prod requires TLS to object storage (table data and signed requests); use an https:// endpoint",
                "lakehouse.catalog.sslMode: prod requires a verified TLS connection to the Iceberg catalog database; use one of verify-ca, verify-full",
            ]);
        });

        it("needs the database CA wherever the catalog connection verifies (dev included)", () => {
            const raw = dev();
            raw.lakehouse.catalog.sslMode = "verify-full";
            expect(problemsOf(raw)).to.deep.equal([
                "connect.databaseCaSecret: lakehouse.catalog.sslMode verify-full verifies the catalog database's certificate; name the Secret holding its CA (ca.crt), which the writers mount",
            ]);
        });
    });
});
