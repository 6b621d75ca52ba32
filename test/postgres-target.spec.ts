/**
 * PostgreSQL target: role attributes, grants limited to the target schema (CREATE only when the sink
 * creates tables), pre-created tables with primary keys, and what the program registers for the
 * shipped stacks; generated passwords stay Pulumi secrets.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { parseStackSpec } from "../plan/stack-spec";
import type { StackSpec } from "../model/spec";
import { PostgresTarget } from "../components/postgres-target";
import { createTableSql, planPostgresTargets, PgGrantPlan, targetTableName } from "../plan/postgres-target";
import { RecordingMocks, promiseOf } from "./helpers/mocks";
import { runProgram } from "./helpers/program";
import { rawProjectConfig } from "./helpers/stack-files";

type Raw = Record<string, any>;
const raw = (stack: "dev" | "prod"): Raw => structuredClone(rawProjectConfig(stack));
const specOf = (r: Raw): StackSpec => parseStackSpec(r).spec;
const grantsOf = (spec: StackSpec): PgGrantPlan[] => planPostgresTargets(spec).flatMap((t) => t.grants);
const grant = (grants: PgGrantPlan[], role: string, objectType: string) =>
    grants.filter((g) => g.role === role && g.objectType === objectType);
/** The dev stack's target schemas, one per pipeline (sales, and seed 004's shop and inventory). */
const DEV_SCHEMAS = ["sales", "shop", "inventory"];

const PLAIN_LOGIN = {
    login: true,
    superuser: false,
    createDatabase: false,
    createRole: false,
    replication: false,
    bypassRowLevelSecurity: false,
    inherit: true,
};

describe("PostgreSQL target plan", () => {
    it("creates a plain login for the sink and one for the reconciler: no superuser, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS", () => {
        const [target] = planPostgresTargets(specOf(raw("prod")));
        expect(target.roles.map((r) => r.name)).to.deep.equal(["cdc_writer", "cdc_reconciler"]);
        for (const role of target.roles) expect(role).to.include(PLAIN_LOGIN);
        // Twice the sink's pool (10 connections × 1 task): a runaway sink cannot exhaust the server.
        expect(target.roles[0].connectionLimit).to.equal(20);
        expect(target.roles[1].connectionLimit).to.equal(-1);
    });

    it("prepares the target through its admin endpoint when one is configured", () => {
        const [prod] = planPostgresTargets(specOf(raw("prod")));
        expect(prod).to.deep.include({ host: "warehouse.postgres.svc", port: 5432, admin: { host: "warehouse.example.com", port: 5432 } });
        const r = raw("prod");
        delete r.postgres.adminHosts;
        expect(planPostgresTargets(specOf(r))[0].admin).to.deep.equal({ host: "warehouse.postgres.svc", port: 5432 });
    });

    it("grants CREATE on the target schema only when the sink creates tables (dev), never on any other schema", () => {
        const dev = grantsOf(specOf(raw("dev")));
        expect(grant(dev, "cdc_writer", "schema")).to.deep.equal(
            DEV_SCHEMAS.map((schema) => ({
                role: "cdc_writer",
                database: "warehouse",
                schema,
                objectType: "schema",
                objects: [],
                privileges: ["USAGE", "CREATE"],
            })),
        );
        const prod = grantsOf(specOf(raw("prod")));
        expect(grant(prod, "cdc_writer", "schema")).to.deep.equal([
            { role: "cdc_writer", database: "warehouse", schema: "sales", objectType: "schema", objects: [], privileges: ["USAGE"] },
        ]);
        for (const g of [...dev, ...prod]) {
            // The Iceberg catalog's role creates its tables in a database of its own (test/lakehouse.spec.ts).
            if (g.role === "iceberg_catalog") continue;
            if (g.objectType !== "database") expect(DEV_SCHEMAS, JSON.stringify(g)).to.include(g.schema);
            else expect(g.privileges).to.deep.equal(["CONNECT"]);
        }
    });

    it("gives the writer DML on its pre-created tables (prod) and the reader SELECT only", () => {
        const prod = grantsOf(specOf(raw("prod")));
        expect(grant(prod, "cdc_writer", "table")).to.deep.equal([
            {
                role: "cdc_writer",
                database: "warehouse",
                schema: "sales",
                objectType: "table",
                objects: ["customers", "order_items", "orders"],
                privileges: ["SELECT", "INSERT", "UPDATE", "DELETE"],
            },
        ]);
        expect(grant(prod, "cdc_reconciler", "table")).to.deep.equal([
            {
                role: "cdc_reconciler",
                database: "warehouse",
                schema: "sales",
                objectType: "table",
                objects: ["customers", "order_items", "orders"],
                privileges: ["SELECT"],
            },
        ]);
        expect(planPostgresTargets(specOf(raw("prod")))[0].defaultPrivileges).to.deep.equal([]);
    });

    it("lets the reader SELECT the tables the sink creates later (dev) through default privileges of the writer", () => {
        const [dev] = planPostgresTargets(specOf(raw("dev")));
        expect(grant(dev.grants, "cdc_reconciler", "table")).to.deep.equal(
            DEV_SCHEMAS.map((schema) => ({
                role: "cdc_reconciler",
                database: "warehouse",
                schema,
                objectType: "table",
                objects: [],
                privileges: ["SELECT"],
            })),
        );
        expect(grant(dev.grants, "cdc_writer", "table")).to.deep.equal([]);
        expect(dev.defaultPrivileges).to.deep.equal(
            DEV_SCHEMAS.map((schema) => ({
                role: "cdc_reconciler",
                owner: "cdc_writer",
                database: "warehouse",
                schema,
                objectType: "table",
                privileges: ["SELECT"],
            })),
        );
    });

    it("adds TRUNCATE only when the sink applies truncates", () => {
        const r = raw("prod");
        r.pipelines[0].sink.truncateEnabled = true;
        expect(grant(grantsOf(specOf(r)), "cdc_writer", "table")[0].privileges).to.deep.equal([
            "SELECT",
            "INSERT",
            "UPDATE",
            "DELETE",
            "TRUNCATE",
        ]);
    });

    it("pre-creates prod's tables from their columns with the declared primary key, and none in dev", () => {
        const [prod] = planPostgresTargets(specOf(raw("prod")));
        expect(prod.tables.map((t) => `${t.schema}.${t.table} (${t.primaryKey.join(",")})`)).to.deep.equal([
            "sales.customers (id)",
            "sales.orders (order_id)",
            "sales.order_items (order_id,line_number)",
        ]);
        expect(prod.tables.find((t) => t.table === "order_items")!.sql).to.equal(
            [
                'CREATE TABLE IF NOT EXISTS "sales"."order_items" (',
                '    "order_id" bigint NOT NULL,',
                '    "line_number" integer NOT NULL,',
                '    "sku" varchar(100) NOT NULL,',
                '    "quantity" integer NOT NULL,',
                '    "unit_price" numeric(10,2) NOT NULL,',
                '    PRIMARY KEY ("order_id", "line_number")',
                ");",
            ].join("\n"),
        );
        expect(planPostgresTargets(specOf(raw("dev")))[0].tables).to.deep.equal([]);
        // The database is the DBA's in prod; dev creates it, and the Iceberg catalog's.
        expect(prod.databases).to.deep.equal([]);
        expect(planPostgresTargets(specOf(raw("dev")))[0].databases).to.deep.equal(["iceberg_catalog", "warehouse"]);
    });

    it("folds identifiers the way the sink writes them and forces primary key columns NOT NULL", () => {
        expect(
            createTableSql(
                "Sales",
                "customers",
                [
                    { name: "Id", type: "bigint", nullable: true },
                    { name: "Name", type: "text", nullable: true },
                ],
                ["ID"],
            ),
        ).to.equal(
            'CREATE TABLE IF NOT EXISTS "sales"."customers" (\n    "id" bigint NOT NULL,\n    "name" text,\n    PRIMARY KEY ("id")\n);',
        );
    });

    it("names target tables as the sink's collection.name.format resolves them", () => {
        const r = raw("prod");
        const spec = specOf(r);
        const pipeline = spec.pipelines[0];
        const table = pipeline.source.tables[0];
        expect(targetTableName(pipeline, table)).to.equal("customers");
        expect(
            targetTableName({ ...pipeline, sink: { ...pipeline.sink, tableNameFormat: "${source.schema}_${source.table}" } }, table),
        ).to.equal("dbo_customers");
        expect(targetTableName({ ...pipeline, sink: { ...pipeline.sink, tableNameFormat: "${topic}" } }, table)).to.equal(
            "sqlserver_salesdb_dbo_customers",
        );
    });

    it("keeps one grant per role, database, schema and object type when pipelines share a schema", () => {
        const r = raw("prod");
        r.pipelines.push({
            ...structuredClone(r.pipelines[0]),
            name: "billing",
            source: {
                ...structuredClone(r.pipelines[0].source),
                connectorName: "billing-source",
                topicPrefix: "billing",
                tables: [{ name: "dbo.invoices", primaryKey: ["id"] }],
            },
            sink: { ...structuredClone(r.pipelines[0].sink), connectorName: "billing-sink" },
            destinations: [],
        });
        const grants = grantsOf(specOf(r));
        const keys = grants.map((g) => [g.role, g.database, g.schema, g.objectType].join("/"));
        expect(new Set(keys).size).to.equal(keys.length);
        expect(grant(grants, "cdc_writer", "table")[0].objects).to.deep.equal(["customers", "invoices", "order_items", "orders"]);
        // One writer role for both pipelines, its connection cap covering both pools.
        expect(planPostgresTargets(specOf(r))[0].roles.find((x) => x.name === "cdc_writer")!.connectionLimit).to.equal(40);
    });
});

describe("PostgreSQL target resources", function () {
    this.timeout(60000);

    for (const stack of ["dev", "prod"] as const) {
        it(`registers the roles, grants and default privileges of the plan (${stack})`, async () => {
            const { mocks } = await runProgram(stack, false);
            const roles = mocks.ofType("postgresql:index/role:Role");
            expect(roles.map((r) => r.inputs.name)).to.deep.equal(
                stack === "dev" ? ["cdc_writer", "cdc_reconciler", "iceberg_catalog"] : ["cdc_writer", "cdc_reconciler"],
            );
            for (const role of roles) {
                expect(role.inputs).to.include(PLAIN_LOGIN);
                expect(role.inputs.password[pulumi.runtime.specialSigKey], role.name).to.equal(pulumi.runtime.specialSecretSig);
            }
            const [plan] = planPostgresTargets(specOf(raw(stack)));
            const grants = mocks.ofType("postgresql:index/grant:Grant").map((g) => g.inputs);
            expect(grants).to.have.length(plan.grants.length);
            for (const g of plan.grants) {
                expect(grants, JSON.stringify(g)).to.deep.include({
                    role: g.role,
                    database: g.database,
                    ...(g.schema ? { schema: g.schema } : {}),
                    objectType: g.objectType,
                    ...(g.objectType === "table" ? { objects: g.objects } : {}),
                    privileges: g.privileges,
                    withGrantOption: false,
                });
            }
            expect(mocks.ofType("postgresql:index/defaultPrivileges:DefaultPrivileges")).to.have.length(plan.defaultPrivileges.length);
            const [provider] = mocks.ofType("pulumi:providers:postgresql");
            expect(provider.inputs).to.include({ host: plan.admin.host, username: "pulumi_cdc_admin", superuser: "false" });
        });
    }

    it("creates prod's target tables through the dynamic table resource, without the admin password in clear", async () => {
        const { mocks } = await runProgram("prod", false);
        const tables = mocks.ofType("pulumi-nodejs:dynamic/cdc:PostgresTable");
        expect(tables.map((t) => `${t.inputs.schema}.${t.inputs.table}`)).to.deep.equal([
            "sales.customers",
            "sales.orders",
            "sales.order_items",
        ]);
        for (const t of tables) {
            expect(t.inputs.sql).to.match(/^CREATE TABLE IF NOT EXISTS "sales"\./);
            expect(t.inputs.connection).to.deep.include({
                host: "warehouse.example.com",
                port: 5432,
                database: "warehouse",
                user: "pulumi_cdc_admin",
                sslmode: "verify-full",
            });
        }
    });

    it("keeps the generated role passwords Pulumi secrets", async () => {
        const mocks = new RecordingMocks();
        await pulumi.runtime.setMocks(mocks, "cdc-pipeline", "unit", false);
        const [plan] = planPostgresTargets(specOf(raw("prod")));
        const target = new PostgresTarget("unit-target", {
            plan,
            admin: { username: "admin", password: pulumi.secret("admin-password") },
            protect: true,
        });
        for (const [role, password] of Object.entries(target.passwords)) {
            expect(await pulumi.isSecret(password), role).to.equal(true);
            expect(await promiseOf(password)).to.match(/^Mock-Generated-Pa55word-unit-target-password-/);
        }
        await mocks.settled();
        const [provider] = mocks.ofType("pulumi:providers:postgresql");
        expect(provider.inputs.password[pulumi.runtime.specialSigKey]).to.equal(pulumi.runtime.specialSecretSig);
    });
});
