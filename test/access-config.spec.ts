/**
 * Config for Vault, database preparation and the reconciliation job: defaults per environment, the
 * cross-field rules of config/access-rules.ts with their exact messages, and secret config kept secret.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { loadStackSecrets } from "../config/load";
import { parseStackSpec } from "../plan/stack-spec";
import { promiseOf } from "./helpers/mocks";
import { issuesOf, Raw, shippedRaw } from "./helpers/config-problems";

const dev = (): Raw => shippedRaw("dev");
const prod = (): Raw => shippedRaw("prod");

describe("access config", () => {
    it("fills Vault, SQL Server, PostgreSQL and login defaults", () => {
        const r = dev();
        delete r.vault;
        delete r.sqlserver;
        delete r.postgres;
        const spec = parseStackSpec(r).spec;
        expect(spec.vault).to.deep.equal({
            address: "http://vault.vault.svc:8200",
            kvMount: "secret",
            createMount: true,
            kubernetesAuthMount: "kubernetes",
            namePrefix: "cdc-dev",
            refreshAfter: "1h",
            tokenTtlSeconds: 3600,
        });
        expect(spec.sqlserver).to.deep.equal({ gatingRole: "cdc_gate", cdcRetentionMinutes: 4320, adminHosts: {} });
        expect(spec.postgres).to.deep.equal({ createDatabases: true, adminHosts: {} });
        expect(spec.pipelines[0].source.username).to.equal("cdc_reader");
        expect(spec.pipelines[0].sink).to.include({ username: "cdc_writer", readOnlyUsername: "cdc_reconciler" });
    });

    it("reads the shipped stacks' settings", () => {
        const spec = parseStackSpec(prod()).spec;
        expect(spec.vault).to.include({
            address: "https://vault.vault.svc:8200",
            namePrefix: "cdc-prod",
            caCertSecret: "vault-ca",
            refreshAfter: "15m",
        });
        expect(spec.reconciler).to.include({
            name: "cdc-reconciler",
            schedule: "30 2 * * *",
            reportClaimName: "cdc-reconciler-reports",
            backoffLimit: 1,
        });
        expect(parseStackSpec(dev()).spec.vault).to.include({ createMount: false, namePrefix: "cdc-dev" });
        expect(parseStackSpec(prod()).warnings).to.deep.equal([]);
    });

    it("requires TLS to Vault in prod, and a CA only with TLS", () => {
        const r = prod();
        r.vault.address = "http://vault.vault.svc:8200";
        expect(issuesOf(r)).to.deep.equal([
            "vault.address: prod requires TLS to Vault (the operator fetches database passwords over it); use an https:// address",
            "vault.caCertSecret: a CA certificate only applies to an https:// vault.address",
        ]);
    });

    it("names the Vault key a typo meant", () => {
        const r = dev();
        r.vault.kvMout = "secret";
        expect(issuesOf(r)).to.deep.equal(['vault: unknown key "kvMout" (did you mean "kvMount"?); remove it or fix its spelling']);
    });

    it("validates Vault paths, durations and cron schedules", () => {
        const r = dev();
        r.vault.kvMount = "secret/v2";
        r.vault.refreshAfter = "1 hour";
        r.reconciler.schedule = "daily";
        expect(issuesOf(r)).to.deep.equal([
            "vault.kvMount: must be a mount path of letters, digits, '_' or '-' (no slashes), e.g. secret",
            "vault.refreshAfter: must be a duration such as 30s, 15m or 1h",
            'reconciler.schedule: must be a five-field cron expression, e.g. "30 2 * * *"',
        ]);
    });

    it("keeps the reconciler's role read-only and distinct from the writer", () => {
        const r = dev();
        r.pipelines[0].sink.readOnlyUsername = "cdc_writer";
        expect(issuesOf(r)).to.deep.equal([
            "pipelines.0.sink.readOnlyUsername: must differ from sink.username (cdc_writer); the reconciler reads with its own read-only role",
            // dev's other pipelines write as cdc_writer too.
            'pipelines.1.sink.username: "cdc_writer" is the read-only role of pipelines[0]; use a different writing role',
            'pipelines.2.sink.username: "cdc_writer" is the read-only role of pipelines[0]; use a different writing role',
        ]);
    });

    it("rejects a pre-created table without its primary key column, or with a type it cannot write into DDL", () => {
        const r = prod();
        r.pipelines[0].source.tables[0].columns = r.pipelines[0].source.tables[0].columns.filter((c: Raw) => c.name !== "id");
        r.pipelines[0].source.tables[1].columns[0].type = "bigint; DROP TABLE x";
        r.pipelines[0].source.tables[2].columns.push({ name: "SKU", type: "text" });
        expect(issuesOf(r)).to.deep.equal([
            "pipelines.0.source.tables.0.columns: primary key column id missing from columns; the pre-created target table needs its primary key",
            'pipelines.0.source.tables.1.columns.0.type: "bigint; DROP TABLE x" is not a PostgreSQL column type the stack can write into DDL (e.g. bigint, varchar(255), numeric(12,2), timestamp with time zone)',
            'pipelines.0.source.tables.2.columns.5.name: duplicates column "SKU" (PostgreSQL folds unquoted names to lower case)',
        ]);
    });

    it("accepts the column types PostgreSQL DDL commonly uses", () => {
        const r = prod();
        r.pipelines[0].source.tables[0].columns.push(
            { name: "a", type: "timestamp with time zone" },
            { name: "b", type: "double precision" },
            { name: "c", type: "text[]" },
            { name: "d", type: "numeric(38, 10)" },
        );
        expect(issuesOf(r)).to.deep.equal([]);
    });

    it("rejects a reconciler name that makes CronJob names too long", () => {
        const r = dev();
        r.reconciler.name = "a-very-long-reconciler-name-for-the-sales-team-xx";
        expect(issuesOf(r)).to.deep.equal(
            ["sales", "shop", "inventory"].map(
                (pipeline) =>
                    `reconciler.name: CronJob name "a-very-long-reconciler-name-for-the-sales-team-xx-${pipeline}" is longer than 52 characters (Kubernetes appends a suffix to Job names); use a shorter name`,
            ),
        );
    });

    it("warns about what the stack cannot check or create", () => {
        const r = prod();
        delete r.pipelines[0].source.tables[0].columns;
        delete r.reconciler.reportClaimName;
        r.postgres.adminHosts["warehouse.old.svc"] = "old.example.com";
        expect(parseStackSpec(r).warnings).to.deep.equal([
            "sales: target table warehouse.postgres.svc:5432/warehouse.sales.customers is not created by the stack (sink.autoCreate is false and tables[0] has no columns); it must already exist with primary key (id)",
            'postgres.adminHosts: no pipeline sink uses host "warehouse.old.svc", so it is ignored; keys are sink.host values (warehouse.postgres.svc)',
            "reconciler: no reportClaimName; reports in /var/reports are lost when the job's pod is removed",
        ]);
        const without = prod();
        delete without.reconciler;
        expect(parseStackSpec(without).warnings).to.deep.equal([
            "no reconciler section: nothing checks that the targets match their sources",
        ]);
    });

    it("warns when two pipelines write one target table", () => {
        const r = dev();
        r.pipelines.push({
            ...structuredClone(r.pipelines[0]),
            name: "sales2",
            source: { ...structuredClone(r.pipelines[0].source), connectorName: "s2-source", topicPrefix: "s2" },
            sink: { ...structuredClone(r.pipelines[0].sink), connectorName: "s2-sink" },
        });
        expect(parseStackSpec(r).warnings).to.include(
            "sales2: tables[0] lands in target table warehouse-dev.postgres.svc:5432/warehouse.sales.customers, which pipelines[0].source.tables[0] already writes; deletes and snapshots of one pipeline will fight the other",
        );
    });
});

describe("secret config", () => {
    const crm = (): Raw => {
        const r = dev();
        r.pipelines[0].source = {
            kind: "postgres",
            host: "crm-db",
            database: "crm",
            tables: [{ name: "public.customers", primaryKey: ["id"] }],
        };
        delete r.sqlserver;
        return r;
    };

    it("asks for the password of a source login the stack does not create, with the command to set it", () => {
        pulumi.runtime.setAllConfig({}, []);
        const spec = parseStackSpec(crm()).spec;
        // A RunError: Pulumi prints its message alone, without a stack trace.
        expect(() => loadStackSecrets(spec)).to.throw(
            pulumi.RunError,
            "sourcePasswords.sales: the stack does not create this source's login; set its password: pulumi config set --secret --path 'sourcePasswords.sales' <password>",
        );
    });

    it("keeps configured passwords and admin logins Pulumi secrets", async () => {
        pulumi.runtime.setAllConfig(
            {
                "cdc-pipeline:sourcePasswords": JSON.stringify({
                    sales: "crm-password",
                    shop: "shop-password",
                    inventory: "inventory-password",
                }),
                "postgresql:username": "admin",
                "postgresql:password": "pg-admin-password",
                "mssql:sqlAuth": JSON.stringify({ username: "sa", password: "mssql-admin-password" }),
            },
            ["cdc-pipeline:sourcePasswords", "postgresql:password", "mssql:sqlAuth"],
        );
        try {
            const secrets = loadStackSecrets(parseStackSpec(crm()).spec);
            expect(await pulumi.isSecret(secrets.sourcePasswords.sales)).to.equal(true);
            expect(await promiseOf(secrets.sourcePasswords.sales)).to.equal("crm-password");
            expect(await pulumi.isSecret(secrets.postgresAdmin.password!)).to.equal(true);
            expect(await pulumi.isSecret(secrets.sqlServerAdmin!)).to.equal(true);
            expect(secrets.postgresAdmin.username).to.equal("admin");
        } finally {
            pulumi.runtime.setAllConfig({}, []);
        }
    });
});
