import { expect } from "chai";
import { mergeConfig, parseArgs, parseReconcilerConfig, resolveEndpoint, tablePair } from "../../reconciler/config";
import { parseDatabaseUrl, redact } from "../../reconciler/db";
import { parseTableName } from "../../reconciler/introspect";

describe("reconciler configuration", () => {
    it("reads the CronJob's YAML file with defaults filled in", () => {
        const c = parseReconcilerConfig(`
source: { urlEnv: SOURCE_URL }
target: { urlFile: /var/run/secrets/target-url }
tables:
  - dbo.orders=public.orders
  - source: dbo.customers
    excludeColumns: [row_version]
reportDir: /var/reports
lagWindowSeconds: 120
pushgateway: { url: "http://pushgateway:9091", labels: { pipeline: sales } }
`);
        expect(c.lagWindowSeconds).to.equal(120);
        expect(c.recheckAttempts).to.equal(3);
        expect(c.maxDiscrepanciesPerTable).to.equal(1000);
        expect(c.pushgateway).to.deep.equal({ url: "http://pushgateway:9091", job: "cdc-reconciler", labels: { pipeline: "sales" } });
        expect(c.tables.map(tablePair)).to.deep.equal([
            { source: "dbo.orders", target: "public.orders" },
            { source: "dbo.customers", target: "dbo.customers", excludeColumns: ["row_version"], deletedColumn: undefined },
        ]);
    });

    it("accepts the same content as JSON and lists every problem with its path", () => {
        expect(parseReconcilerConfig('{"source":"postgres://a/b","target":"postgres://c/d","tables":["t"]}').reportDir).to.equal(
            "/var/reports",
        );
        let message = "";
        try {
            parseReconcilerConfig("source: { url: x, urlEnv: Y }\ntables: []\nlagWindow: 3");
        } catch (e) {
            message = (e as Error).message;
        }
        expect(message)
            .to.contain("source: give exactly one of url, urlEnv, urlFile")
            .and.contain("target")
            .and.contain("tables")
            .and.contain("lagWindow");
    });

    it("resolves database URLs from the environment or a mounted file, with a clear error when unset", () => {
        expect(resolveEndpoint({ urlEnv: "X" }, { X: "postgres://h/db" })).to.equal("postgres://h/db");
        expect(resolveEndpoint({ urlFile: "/f" }, {}, () => "mysql://h/db\n")).to.equal("mysql://h/db");
        expect(() => resolveEndpoint({ urlEnv: "MISSING" }, {})).to.throw(/MISSING.*not set/);
    });

    it("parses the command line and lets it override the file", () => {
        const cli = parseArgs([
            "--source",
            "postgres://s/db",
            "--table",
            "a.b=c.d",
            "--table=e.f",
            "--report-dir=/tmp/r",
            "--lag-window",
            "5",
            "--verbose",
        ]);
        expect(cli).to.deep.include({
            source: "postgres://s/db",
            tables: ["a.b=c.d", "e.f"],
            reportDir: "/tmp/r",
            lagWindowSeconds: 5,
            verbose: true,
        });
        const merged = mergeConfig(cli, { source: "mysql://x/y", target: "postgres://t/db", tables: ["z"], lagWindowSeconds: 60 });
        expect(merged).to.deep.include({
            source: "postgres://s/db",
            target: "postgres://t/db",
            tables: ["a.b=c.d", "e.f"],
            lagWindowSeconds: 5,
        });
        expect(() => parseArgs(["--bogus"])).to.throw(/^unknown option --bogus; usage: npm run reconcile -- \[--config <file>\]/);
        expect(() => parseArgs(["--source"])).to.throw(/--source needs a value/);
        expect(() => mergeConfig(parseArgs(["--source", "postgres://a/b"]), null)).to.throw(/target.*tables|tables.*target/);
    });

    it("understands the three URL schemes and never prints a password", () => {
        expect(parseDatabaseUrl("mysql://u:p%40ss@db:3307/app")).to.deep.include({
            engine: "mysql",
            port: 3307,
            password: "p@ss",
            database: "app",
            label: "mysql://db:3307/app",
        });
        expect(parseDatabaseUrl("mssql://sa:x@sql/sales?encrypt=false")).to.deep.include({
            engine: "mssql",
            port: 1433,
            label: "mssql://sql:1433/sales",
        });
        expect(parseDatabaseUrl("postgresql://h/db").engine).to.equal("postgres");
        expect(() => parseDatabaseUrl("oracle://h/db")).to.throw(/unsupported database URL scheme oracle:/);
        expect(redact("postgres://user:secret@h/db")).to.equal("postgres://user:***@h/db");
    });

    it("qualifies bare table names with each engine's default schema", () => {
        expect(parseTableName("orders", "postgres", "app")).to.deep.equal({ schema: "public", table: "orders" });
        expect(parseTableName("orders", "mssql", "app")).to.deep.equal({ schema: "dbo", table: "orders" });
        expect(parseTableName("orders", "mysql", "app")).to.deep.equal({ schema: "app", table: "orders" });
        expect(() => parseTableName("a.b.c", "postgres", "")).to.throw(/schema\.table/);
    });
});
