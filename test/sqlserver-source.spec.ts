/**
 * SQL Server source: the reader login's permissions and the CDC scripts' T-SQL (idempotent updates,
 * read scripts whose single row matches the desired state), and what the program registers.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { parseStackSpec } from "../plan/stack-spec";
import type { StackSpec, TableSpec } from "../model/spec";
import { SqlServerSource } from "../components/sqlserver-source";
import { bracket, enableTableScript, nstring, planSqlServerSources, SqlScriptPlan } from "../plan/sqlserver-source";
import { RecordingMocks } from "./helpers/mocks";
import { runProgram } from "./helpers/program";
import { rawProjectConfig } from "./helpers/stack-files";

type Raw = Record<string, any>;
const raw = (stack: "dev" | "prod"): Raw => structuredClone(rawProjectConfig(stack));
const specOf = (r: Raw): StackSpec => parseStackSpec(r).spec;
const scriptsOf = (spec: StackSpec): SqlScriptPlan[] => planSqlServerSources(spec)[0].databases[0].scripts;
const script = (spec: StackSpec, key: string): SqlScriptPlan => scriptsOf(spec).find((s) => s.key === key)!;

/** The column aliases of the read script's final SELECT, which the provider compares with `state`. */
function selectedColumns(sql: string): string[] {
    const last = sql.slice(sql.lastIndexOf("\nSELECT") + 1);
    return [...last.matchAll(/\bAS (\w+)\s*(?=,|;|$|FROM\b)/gm)].map((m) => m[1]);
}

const customers: TableSpec = { database: "SalesDB", schema: "dbo", table: "customers", primaryKey: ["id"] };

describe("SQL Server source plan", () => {
    it("quotes identifiers and strings for T-SQL", () => {
        expect(bracket("odd]name")).to.equal("[odd]]name]");
        expect(nstring("it's")).to.equal("N'it''s'");
    });

    it("plans one reader login and its user in each captured database, gated by the CDC role", () => {
        const [server] = planSqlServerSources(specOf(raw("prod")));
        expect(server).to.deep.include({
            host: "sqlserver.sales.svc",
            port: 1433,
            admin: { host: "sqlserver.example.com", port: 1433 },
            key: "sqlserver.sales.svc",
        });
        expect(server.logins).to.deep.equal([{ name: "cdc_reader", pipelines: ["sales"] }]);
        expect(server.databases.map((d) => [d.database, d.users, d.gatingRole])).to.deep.equal([["SalesDB", ["cdc_reader"], "cdc_gate"]]);
    });

    it("orders the scripts: database CDC, snapshot isolation, tables, retention, then the reader's grants", () => {
        expect(scriptsOf(specOf(raw("prod"))).map((s) => s.key)).to.deep.equal([
            "cdc-database",
            "snapshot-isolation",
            "cdc-table-dbo.customers",
            "cdc-table-dbo.orders",
            "cdc-table-dbo.order_items",
            "signal-table-dbo.debezium_signal",
            "cdc-table-dbo.debezium_signal",
            "cdc-retention",
            "grant-cdc-schema-cdc_reader",
            "grant-select-cdc_reader-dbo.customers",
            "grant-select-cdc_reader-dbo.orders",
            "grant-select-cdc_reader-dbo.order_items",
            "grant-select-cdc_reader-dbo.debezium_signal",
            "grant-insert-cdc_reader-dbo.debezium_signal",
        ]);
        expect(script(specOf(raw("prod")), "cdc-retention").after).to.deep.equal([
            "cdc-database",
            "cdc-table-dbo.customers",
            "cdc-table-dbo.orders",
            "cdc-table-dbo.order_items",
            "cdc-table-dbo.debezium_signal",
        ]);
        // The signal table is created before CDC is enabled on it and before the reader is granted on it.
        expect(script(specOf(raw("prod")), "cdc-table-dbo.debezium_signal").after).to.deep.equal([
            "cdc-database",
            "signal-table-dbo.debezium_signal",
        ]);
        for (const key of ["grant-select-cdc_reader-dbo.debezium_signal", "grant-insert-cdc_reader-dbo.debezium_signal"])
            expect(script(specOf(raw("prod")), key).after, key).to.deep.equal(["signal-table-dbo.debezium_signal"]);
    });

    it("every read script returns exactly the columns its desired state names", () => {
        for (const s of scriptsOf(specOf(raw("prod")))) {
            expect(selectedColumns(s.readScript).sort(), s.key).to.deep.equal(Object.keys(s.state).sort());
        }
    });

    it("enables CDC on the database only when it is off, and never disables it on delete", () => {
        const s = script(specOf(raw("prod")), "cdc-database");
        expect(s.state).to.deep.equal({ is_cdc_enabled: "1" });
        expect(s.readScript).to.equal(
            "SELECT CAST(is_cdc_enabled AS varchar(1)) AS is_cdc_enabled FROM sys.databases WHERE database_id = DB_ID();",
        );
        expect(s.updateScript).to.equal(
            "IF (SELECT is_cdc_enabled FROM sys.databases WHERE database_id = DB_ID()) = 0\n    EXEC sys.sp_cdc_enable_db;",
        );
        expect(s.deleteScript).to.equal(undefined);
        expect(script(specOf(raw("prod")), "snapshot-isolation").updateScript).to.equal(
            "ALTER DATABASE [SalesDB] SET ALLOW_SNAPSHOT_ISOLATION ON;",
        );
    });

    it("skips ALLOW_SNAPSHOT_ISOLATION when no capture uses snapshot isolation", () => {
        const r = raw("prod");
        r.pipelines[0].source.snapshotIsolationMode = "read_committed";
        expect(scriptsOf(specOf(r)).map((s) => s.key)).to.not.include("snapshot-isolation");
    });

    it("captures each table with an explicit capture instance, the gating role and no net changes", () => {
        const s = enableTableScript(customers, "cdc_gate");
        expect(s.state).to.deep.equal({
            primary_key: "id",
            capture_instance: "dbo_customers",
            role_name: "cdc_gate",
            supports_net_changes: "0",
        });
        expect(s.updateScript).to.contain(
            [
                "IF NOT EXISTS (SELECT 1 FROM cdc.change_tables WHERE capture_instance = N'dbo_customers')",
                "    EXEC sys.sp_cdc_enable_table",
                "        @source_schema = N'dbo',",
                "        @source_name = N'customers',",
                "        @capture_instance = N'dbo_customers',",
                "        @role_name = N'cdc_gate',",
                "        @supports_net_changes = 0;",
            ].join("\n"),
        );
        expect(s.deleteScript).to.equal(undefined);
        expect(enableTableScript(customers, "cdc_gate", "CDC_FG").updateScript).to.contain("@filegroup_name = N'CDC_FG',");
    });

    it("checks the real primary key against the declared one before enabling capture (seed pre-replication rule 1)", () => {
        const s = enableTableScript({ ...customers, table: "order_items", primaryKey: ["Order_Id", "line_number"] }, "cdc_gate");
        expect(s.state.primary_key).to.equal("order_id,line_number");
        expect(s.readScript).to.contain("WHERE i.object_id = @object_id AND i.is_primary_key = 1");
        expect(s.readScript).to.contain("ORDER BY ic.key_ordinal FOR XML PATH(N'')");
        expect(s.updateScript).to.contain("IF @primary_key <> N'order_id,line_number'");
        expect(s.updateScript).to.contain("THROW 50002, @message, 1;");
        // A table that is missing stops the update with its name.
        expect(s.updateScript).to.contain("THROW 50001, N'CDC: source table dbo.order_items does not exist in this database', 1;");
    });

    it("refuses to replace a capture instance that exists with other settings, naming the manual step", () => {
        const s = enableTableScript(customers, "cdc_gate");
        expect(s.updateScript).to.contain("AND role_name = N'cdc_gate' AND supports_net_changes = 0)");
        expect(s.updateScript).to.match(
            /THROW 50003, N'CDC: capture instance dbo_customers exists .*sys\.sp_cdc_disable_table @source_schema = N''dbo''/,
        );
    });

    it("reads cdc.change_tables only once the cdc schema exists, so preview works before CDC is enabled", () => {
        const read = enableTableScript(customers, "cdc_gate").readScript;
        const guard = read.indexOf("IF OBJECT_ID(N'cdc.change_tables') IS NOT NULL");
        expect(guard).to.be.greaterThan(-1);
        expect(read.indexOf("FROM cdc.change_tables")).to.be.greaterThan(guard);
    });

    it("sets the cleanup retention and fails clearly when SQL Server Agent never created the cleanup job", () => {
        const s = script(specOf(raw("prod")), "cdc-retention");
        expect(s.state).to.deep.equal({ retention_minutes: "10080" });
        expect(s.updateScript).to.contain("EXEC sys.sp_cdc_change_job @job_type = N'cleanup', @retention = 10080;");
        expect(s.updateScript).to.contain("is SQL Server Agent running?");
        expect(script(specOf(raw("dev")), "cdc-retention").state).to.deep.equal({ retention_minutes: "4320" });
    });

    it("grants the reader SELECT on the cdc schema and on each captured table, INSERT on the signal table only, revoking on delete", () => {
        const spec = specOf(raw("prod"));
        const grants = scriptsOf(spec).filter((s) => s.key.startsWith("grant-"));
        expect(grants.map((g) => g.updateScript)).to.deep.equal([
            "GRANT SELECT ON SCHEMA::[cdc] TO [cdc_reader];",
            "GRANT SELECT ON OBJECT::[dbo].[customers] TO [cdc_reader];",
            "GRANT SELECT ON OBJECT::[dbo].[orders] TO [cdc_reader];",
            "GRANT SELECT ON OBJECT::[dbo].[order_items] TO [cdc_reader];",
            "GRANT SELECT ON OBJECT::[dbo].[debezium_signal] TO [cdc_reader];",
            "GRANT INSERT ON OBJECT::[dbo].[debezium_signal] TO [cdc_reader];",
        ]);
        for (const g of grants) {
            const permission = g.key.startsWith("grant-insert-") ? "INSERT" : "SELECT";
            expect(g.needsUser).to.equal("cdc_reader");
            expect(g.state).to.deep.equal({ granted: "1" });
            expect(g.readScript).to.contain("grantee_principal_id = DATABASE_PRINCIPAL_ID(N'cdc_reader')");
            expect(g.readScript).to.contain(`permission_name = N'${permission}'`);
            expect(g.deleteScript).to.match(new RegExp(`REVOKE ${permission} ON (SCHEMA|OBJECT)::`));
        }
        for (const s of scriptsOf(spec)) {
            const writes = s.updateScript.match(/GRANT (INSERT|UPDATE|DELETE|CONTROL|ALTER)[^;]*/gi) ?? [];
            expect(writes, s.key).to.deep.equal(
                s.key === "grant-insert-cdc_reader-dbo.debezium_signal"
                    ? ["GRANT INSERT ON OBJECT::[dbo].[debezium_signal] TO [cdc_reader]"]
                    : [],
            );
            expect(s.updateScript, s.key).to.not.match(/db_owner|sysadmin/i);
        }
    });
});

describe("SQL Server source resources", function () {
    this.timeout(60000);

    it("registers the login, user, gating membership, VIEW DATABASE STATE and the scripts of the plan (prod)", async () => {
        const { mocks } = await runProgram("prod", false);
        const [login] = mocks.ofType("mssql:index/sqlLogin:SqlLogin");
        expect(login.inputs).to.include({
            name: "cdc_reader",
            checkPasswordPolicy: true,
            checkPasswordExpiration: false,
            mustChangePassword: false,
        });
        expect(login.inputs.password[pulumi.runtime.specialSigKey]).to.equal(pulumi.runtime.specialSecretSig);

        const [user] = mocks.ofType("mssql:index/sqlUser:SqlUser");
        expect(user.inputs).to.deep.equal({ name: "cdc_reader", databaseId: "12", loginId: `${login.name}-id` });
        const [role] = mocks.ofType("mssql:index/databaseRole:DatabaseRole");
        expect(role.inputs).to.deep.equal({ name: "cdc_gate", databaseId: "12" });
        const [member] = mocks.ofType("mssql:index/databaseRoleMember:DatabaseRoleMember");
        expect(member.inputs).to.deep.equal({ roleId: `${role.name}-id`, memberId: `${user.name}-id` });
        const permissions = mocks.ofType("mssql:index/databasePermission:DatabasePermission");
        expect(permissions.map((p) => p.inputs)).to.deep.equal([
            { principalId: `${user.name}-id`, permission: "VIEW DATABASE STATE", withGrantOption: false },
        ]);

        const planned = scriptsOf(specOf(raw("prod")));
        expect(mocks.ofType("mssql:index/script:Script")).to.have.length(planned.length);
        for (const p of planned) {
            expect(mocks.one("mssql:index/script:Script", `sqlserver-sqlserver.sales.svc-SalesDB-${p.key}`).inputs).to.deep.equal({
                databaseId: "12",
                readScript: p.readScript,
                state: p.state,
                updateScript: p.updateScript,
                ...(p.deleteScript ? { deleteScript: p.deleteScript } : {}),
            });
        }
        const [provider] = mocks.ofType("pulumi:providers:mssql");
        expect(provider.inputs).to.include({ hostname: "sqlserver.example.com", port: "1433" });
    });

    it("keeps the generated login password a Pulumi secret, and the admin login too", async () => {
        const mocks = new RecordingMocks();
        await pulumi.runtime.setMocks(mocks, "cdc-pipeline", "unit", false);
        const [plan] = planSqlServerSources(specOf(raw("dev")));
        const source = new SqlServerSource("unit-sqlserver", {
            plan,
            admin: pulumi.output({ username: "sa", password: "admin-password" }),
        });
        expect(await pulumi.isSecret(source.passwords.cdc_reader)).to.equal(true);
        await mocks.settled();
        const [provider] = mocks.ofType("pulumi:providers:mssql");
        expect(JSON.stringify(provider.inputs)).to.not.contain('admin-password"}');
        expect(
            provider.inputs.sqlAuth[pulumi.runtime.specialSigKey] ?? JSON.parse(provider.inputs.sqlAuth)[pulumi.runtime.specialSigKey],
        ).to.equal(pulumi.runtime.specialSecretSig);
    });
});
