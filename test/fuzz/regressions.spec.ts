/**
 * Inputs the fuzzers found: stack configurations (config.spec.ts) the parser accepted and the program then failed
 * on, or rendered into objects Kubernetes, Kafka or the reconciler would refuse; reconciler inputs (reconciler.spec.ts)
 * that crashed with another exception type, reached the wrong server or printed a password; `cdc` command lines
 * (ops-cli.spec.ts) that read past a bad flag value. Each is now refused with its path or flag, or handled.
 */
import { expect } from "chai";
import * as os from "os";
import * as path from "path";
import { main } from "../../ops/cli";
import { parseStackSpec } from "../../plan/stack-spec";
import type { StackSpec } from "../../model/spec";
import { planPostgresTargets } from "../../plan/postgres-target";
import { planReconcileRuns, sourceUrlTemplates } from "../../plan/reconciler-job";
import { planSqlServerSources } from "../../plan/sqlserver-source";
import { parseReconcilerConfig } from "../../reconciler/config";
import { parseDatabaseUrl, redact } from "../../reconciler/db";
import { rawProjectConfig } from "../helpers/stack-files";
import { issuesOf, Raw } from "../helpers/config-problems";

const stack = (name: "dev" | "prod", edit: (raw: Raw) => void): Raw => {
    const raw = structuredClone(rawProjectConfig(name)) as Raw;
    edit(raw);
    return raw;
};

const specOf = (raw: Raw): StackSpec => parseStackSpec(raw).spec;

describe("configurations the fuzzer found", () => {
    it('monitoring.labels { release: " " }: refused, Kubernetes would refuse the PodMonitor and PrometheusRule', () => {
        expect(issuesOf(stack("dev", (r) => (r.monitoring.labels = { release: " " })))).to.deep.equal([
            "monitoring.labels.release: must be a Kubernetes label value: up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (or empty)",
        ]);
        expect(issuesOf(stack("dev", (r) => (r.monitoring.labels = { "": "dev" }))), "empty key").to.have.length(1);
        expect(issuesOf(stack("dev", (r) => (r.monitoring.labels = { "example.com/team": "cdc", release: "" })))).to.deep.equal([]);
    });

    it('SQL Server databases ["SalesDB", "salesdb"] (or Sales_DB and Sales-DB): one reconciler run, CronJob and URL each', () => {
        const spec = specOf(
            stack("dev", (r) => {
                r.pipelines[0].source.databases = ["SalesDB", "salesdb"];
                r.pipelines[0].source.tables = [
                    { name: "dbo.customers", database: "SalesDB", primaryKey: ["id"] },
                    { name: "dbo.orders", database: "salesdb", primaryKey: ["order_id"] },
                ];
            }),
        );
        const runs = planReconcileRuns(spec).filter((r) => r.pipeline === "sales");
        expect(new Set(runs.map((r) => r.cronJobName)).size).to.equal(2);
        expect(new Set(runs.map((r) => r.sourceSecret.key)).size).to.equal(2);
        const templates = sourceUrlTemplates(spec, spec.pipelines[0]);
        for (const run of runs) expect(templates[run.sourceSecret.key]).to.include(`/${run.sourceDatabase}?`);
        // A database whose name folds to a label of its own keeps the name it had.
        const shipped = planReconcileRuns(specOf(stack("dev", () => undefined))).filter((r) => r.pipeline === "sales");
        expect(shipped.map((r) => r.sourceSecret.key)).to.deep.equal(["url-salesdb"]);
    });

    it('source.host " ": refused, the reconciler (and Debezium) could not connect to it', () => {
        expect(issuesOf(stack("dev", (r) => (r.pipelines[0].source.host = " ")))).to.deep.equal([
            "pipelines.0.source.host: must be a host name or IPv4 address, e.g. sqlserver.sales.svc",
        ]);
        expect(issuesOf(stack("dev", (r) => (r.pipelines[0].sink.host = "warehouse/dev")))).to.have.length(1);
    });

    it("two autoCreate pipelines into one target schema: one default-privileges grant, not two resources with one name", () => {
        const spec = specOf(
            stack("dev", (r) => {
                const second = structuredClone(r.pipelines[0]);
                second.name = "archive";
                second.source.connectorName = "archive-source";
                second.source.topicPrefix = "archive";
                second.source.tables = [{ name: "dbo.archived_orders", primaryKey: ["id"] }];
                second.sink.connectorName = "archive-sink";
                r.pipelines.push(second);
            }),
        );
        const target = planPostgresTargets(spec).find((t) => t.pipelines.includes("archive"))!;
        const sales = target.defaultPrivileges.filter((d) => d.schema === "sales");
        expect(sales.map((d) => `${d.role} ${d.database}.${d.schema} from ${d.owner}`)).to.deep.equal([
            "cdc_reconciler warehouse.sales from cdc_writer",
        ]);
    });

    it('source.host "toString": an own-key lookup of sqlserver.adminHosts, not Object.prototype.toString', () => {
        const spec = specOf(
            stack("dev", (r) => {
                r.pipelines[0].source.host = "toString";
                r.sqlserver.adminHosts = {};
            }),
        );
        expect(planSqlServerSources(spec)[0].admin).to.deep.equal({ host: "toString", port: 1433 });
    });

    it('snapshotMode "toString": the error names the valid modes, not a function\'s source text', () => {
        const [problem] = issuesOf(stack("dev", (r) => (r.pipelines[0].source.snapshotMode = "toString")));
        expect(problem).to.match(
            /^pipelines\.0\.source\.snapshotMode: "toString" is not a Debezium 3\.6 sqlserver snapshot mode; use one of initial,/,
        );
    });

    it('topicPrefix "cdc-connect-configs" or "dlq-postgresql-jdbc-sink": refused, two roles would share one topic', () => {
        expect(issuesOf(stack("dev", (r) => (r.pipelines[0].source.topicPrefix = "cdc-connect-configs")))).to.deep.equal([
            'pipelines.0.source.topicPrefix: gives the schema-changes topic of pipeline sales the name "cdc-connect-configs", which is also Kafka Connect\'s configs topic; the two would write into one topic, so change this or connect.name',
        ]);
        expect(issuesOf(stack("dev", (r) => (r.pipelines[0].source.topicPrefix = "dlq-postgresql-jdbc-sink")))).to.deep.equal([
            'pipelines.0.sink.connectorName: gives the dead letter queue of pipeline sales the name "dlq-postgresql-jdbc-sink", which is also the schema-changes topic of pipeline sales; the two would write into one topic, so change this or pipelines[0].source.topicPrefix',
        ]);
    });

    it("two pipelines pre-creating one target table: one CREATE TABLE, and refused when their definitions differ", () => {
        const twice = (columns: (c: Raw[]) => Raw[]) =>
            stack("prod", (r) => {
                const second = structuredClone(r.pipelines[0]);
                second.name = "sales-eu";
                second.source.connectorName = "sales-eu-source";
                second.source.topicPrefix = "sales-eu";
                second.sink.connectorName = "sales-eu-sink";
                second.source.tables = [{ ...second.source.tables[0], columns: columns(second.source.tables[0].columns) }];
                r.pipelines.push(second);
            });
        const target = planPostgresTargets(specOf(twice((c) => c))).find((t) => t.pipelines.includes("sales-eu"))!;
        expect(target.tables.filter((t) => t.schema === "sales").map((t) => t.table)).to.deep.equal(["customers", "orders", "order_items"]);
        expect(issuesOf(twice((c) => c.slice(0, 2)))).to.deep.equal([
            "pipelines.1.source.tables.0.columns: pre-creates target table warehouse.postgres.svc:5432/warehouse.sales.customers differently from pipelines[0].source.tables[0], which creates it too; give both the same columns and primary key, or remove the columns of one",
        ]);
    });

    it('reconciler.name "cdc-connect-connect": refused, it is the Connect pods\' ServiceAccount and both Vault roles would trust them', () => {
        expect(issuesOf(stack("prod", (r) => (r.reconciler.name = "cdc-connect-connect")))).to.deep.equal([
            'reconciler.name: "cdc-connect-connect" is the ServiceAccount Strimzi creates for the Connect pods of connect.name cdc-connect; the reconciler needs its own, so use another name',
        ]);
    });
});

describe("configurations the fuzzer found (2)", () => {
    it('sink.database "\\ud800" (half a surrogate pair): refused by path, not a URIError from the reconciler URL template', () => {
        expect(issuesOf(stack("dev", (r) => (r.pipelines[0].sink.database = "\ud800")))).to.deep.equal([
            "pipelines.0.sink.database: holds an unpaired UTF-16 surrogate (such as \\ud800), which no UTF-8 text can; remove it",
        ]);
        expect(issuesOf(stack("dev", (r) => (r.monitoring.labels = { "\udc00x": "y" }))), "in a key").to.have.length(1);
        expect(issuesOf(stack("dev", (r) => (r.pipelines[0].sink.database = "ware😀house"))), "a whole pair").to.deep.equal([]);
    });
});

describe("configurations the fuzzer found (3)", () => {
    it('a pipeline named "sales-salesdb" beside pipeline sales capturing SalesDB and Archive: refused, both runs would be one CronJob', () => {
        const raw = stack("dev", (r) => {
            r.pipelines[0].source.databases = ["SalesDB", "Archive"];
            r.pipelines[0].source.tables = [
                { name: "dbo.customers", database: "SalesDB", primaryKey: ["id"] },
                { name: "dbo.orders_2019", database: "Archive", primaryKey: ["order_id"] },
            ];
            const other = structuredClone(r.pipelines[0]);
            other.name = "sales-salesdb";
            other.source = {
                ...other.source,
                connectorName: "other-source",
                topicPrefix: "other",
                databases: ["Other"],
                tables: [{ name: "dbo.t", database: "Other", primaryKey: ["id"] }],
            };
            other.sink = { ...other.sink, connectorName: "other-sink", schema: "other" };
            r.pipelines.push(other);
        });
        const i = raw.pipelines.length - 1;
        expect(issuesOf(raw)).to.deep.equal([
            `pipelines.${i}.name: its reconciliation CronJob would be "cdc-reconciler-sales-salesdb", the one of pipeline sales's database SalesDB; rename this pipeline`,
        ]);
    });
});

describe("reconciler inputs the fuzzer found", () => {
    const refusal = (url: string): Error => {
        try {
            parseDatabaseUrl(url);
        } catch (e) {
            return e as Error;
        }
        throw new Error(`accepted ${url}`);
    };

    it('"postgres://u:p%zz@h/db": a plain Error naming the malformed percent-encoding, not URIError "URI malformed"', () => {
        const e = refusal("postgres://u:p%zz@h/db");
        expect(e.constructor).to.equal(Error);
        expect(e.message).to.equal("the database URL postgres://u:***@h/db has a malformed percent-encoding (%XX) in its password");
    });

    it('"postgres://u:123/abc@h/db" (a password with an unencoded "/"): refused without printing it, not read as host u, port 123', () => {
        const e = refusal("postgres://u:123/abc@h/db");
        expect(e.message).to.equal(
            'the database URL postgres://u:***@h/db has "/" or "@" after the host; percent-encode them in the password (%2F, %40)',
        );
    });

    it('"postgres://@:s3cr3t@h/db": the password is hidden even when the user name holds "@"', () => {
        expect(redact("postgres://@:s3cr3t@h/db")).to.equal("postgres://@:***@h/db");
        expect(redact("postgres://u:pa@ss@h/db")).to.equal("postgres://u:***@h/db");
    });

    it('"postgres:x" and "postgres://h:0/db": refused, not a connection to the local default server or port 0', () => {
        expect(refusal("postgres:x").message).to.equal(
            "the database URL postgres:x names no host; the reconciler connects only where the URL says",
        );
        expect(refusal("postgres://h:0/db").message).to.equal("the database URL postgres://h:0/db has port 0");
        expect(parseDatabaseUrl("mysql://[::1]:3306/app")).to.deep.include({ host: "::1", label: "mysql://[::1]:3306/app" });
    });

    it('configuration text "!j x": refused, not read as the string x with a Node warning on stderr', () => {
        expect(() => parseReconcilerConfig("!j x")).to.throw(
            Error,
            /^reconciler configuration is not valid YAML\/JSON: Unresolved tag: !j/,
        );
        expect(() => parseReconcilerConfig("*a")).to.throw(Error, /^reconciler configuration is not valid YAML\/JSON: /);
    });
});

describe("cdc command lines the fuzzer found (ops-cli.spec.ts)", () => {
    const run = async (argv: string[]) => {
        let stderr = "";
        const ctx = {
            stdout: { write: () => true } as unknown as NodeJS.WritableStream,
            stderr: { write: (c: string) => ((stderr += c), true) } as unknown as NodeJS.WritableStream,
            env: { CDC_SANDBOX_DIR: path.join(os.tmpdir(), "cdc-regressions-no-sandboxes") },
        };
        return { code: await main(argv, ctx), stderr };
    };

    it('--stack "" or with a NUL: a usage error naming --stack, not an unreachable Pulumi..yaml', async () => {
        for (const value of ["", " ", "a\u0000b"]) {
            const r = await run(["status", `--stack=${value}`]);
            expect(r.code, value).to.equal(2);
            expect(r.stderr).to.include(
                `--stack needs a stack name (for Pulumi.<name>.yaml) or a YAML file path, got ${JSON.stringify(value)}`,
            );
        }
    });

    it('--sandbox "..": a usage error, not a read of the sandbox folder\'s parent', async () => {
        const r = await run(["status", "--sandbox", ".."]);
        expect(r.code).to.equal(2);
        expect(r.stderr).to.include('--sandbox needs a sandbox name like "demo" or "e2e", got ".."');
    });

    it('a blank <connector> or <table> ("" or " "): a usage error before any target is read', async () => {
        for (const argv of [
            ["restart", " "],
            ["offsets", "reset", ""],
            ["snapshot", " "],
        ]) {
            const r = await run(argv);
            expect(r.code, JSON.stringify(argv)).to.equal(2);
            expect(r.stderr).to.match(/: name the (connector|table to snapshot)/);
        }
    });
});
