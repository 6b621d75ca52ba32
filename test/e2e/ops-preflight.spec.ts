import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Admin, ConfigResourceTypes } from "@platformatic/kafka";
import * as mysql from "mysql2/promise";
import { Client } from "pg";
import type { PreflightReport } from "../../ops/preflight";
import { sandboxTargetPath, SandboxTargetFile } from "../../ops/target";
import { dlqTopicName } from "../../model/naming";
import { E2E, e2e, START_TIMEOUT_MS } from "./fixture";
import { cdc } from "./ops-run";

const subjects = (r: PreflightReport) => r.findings.map((f) => `${f.check} ${f.subject}: ${f.problem}`);

describe("sandbox e2e: cdc preflight", function () {
    this.timeout(5 * 60_000);
    let env: E2E;

    before(async function () {
        this.timeout(START_TIMEOUT_MS);
        env = await e2e();
    });

    it("finds nothing wrong with the running sandbox, and says what it checked", async () => {
        const { code, stdout, stderr } = await cdc(["preflight", "--sandbox", "e2e", "--json"]);
        const report = JSON.parse(stdout) as PreflightReport;
        expect(report.findings, stderr).to.deep.equal([]);
        expect(report.unchecked).to.deep.equal([]);
        expect(code).to.equal(0);
        const checked = report.checked.map((c) => `${c.check} ${c.subject.split(" ")[0]}`).sort();
        expect(checked).to.deep.equal(
            [
                "change-capture inventory",
                "change-capture shop",
                "secret " + env.sb.secretsDir,
                "source-table inventory",
                "source-table shop",
                "target-table inventory",
                "target-table shop",
                "topic Kafka",
            ].sort(),
        );
        const human = await cdc(["preflight", "--sandbox", "e2e"]);
        expect(human.stdout.trim().split("\n").pop()).to.match(
            /^0 problem\(s\), 0 check\(s\) not run; checked: secret, source-table, change-capture, target-table, topic/,
        );
    });

    it("catches a captured source table without a primary key (one line with the fix), through a copy of the sandbox's target", async () => {
        const pg = new Client({ connectionString: env.sb.postgresSource.url });
        await pg.connect();
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-preflight-"));
        try {
            await pg.query("CREATE TABLE IF NOT EXISTS public.preflight_nopk (id integer NOT NULL, note text)");
            // The same sandbox, its stack config capturing one more table, as an operator's edited stack would.
            const file = JSON.parse(fs.readFileSync(sandboxTargetPath(env.sb.runDir), "utf8")) as SandboxTargetFile;
            const pipelines = file.stackConfig.pipelines as { name: string; source: { tables: unknown[] } }[];
            pipelines.find((p) => p.name === "shop")!.source.tables.push({ name: "public.preflight_nopk", primaryKey: ["id"] });
            fs.mkdirSync(path.join(root, "e2e-nopk"));
            fs.writeFileSync(path.join(root, "e2e-nopk", "ops-target.json"), JSON.stringify({ ...file, name: "e2e-nopk" }), {
                mode: 0o600,
            });

            const { code, stdout } = await cdc(["preflight", "--sandbox", "e2e-nopk", "--json"], { ...process.env, CDC_SANDBOX_DIR: root });
            const report = JSON.parse(stdout) as PreflightReport;
            expect(subjects(report)).to.deep.equal([
                "source-table shop source public.preflight_nopk: table has no primary key; its changes cannot be keyed, upserted or reconciled",
                // The planned topic of the new table is not there either: the stack has not been applied with it.
                "topic topic shop.public.preflight_nopk: does not exist",
            ]);
            expect(report.findings[0].fix).to.equal(
                "ALTER TABLE public.preflight_nopk ADD PRIMARY KEY (id) (the key pipelines[0].source.tables[3].primaryKey declares)",
            );
            expect(code).to.equal(1);

            const human = await cdc(["preflight", "--sandbox", "e2e-nopk"], { ...process.env, CDC_SANDBOX_DIR: root });
            expect(human.stdout).to.include(
                "PROBLEM  shop source public.preflight_nopk: table has no primary key; its changes cannot be keyed, upserted or reconciled — fix: ALTER TABLE public.preflight_nopk ADD PRIMARY KEY (id)",
            );
            expect(human.code).to.equal(1);

            // Fixed as the line says, the table passes.
            await pg.query("ALTER TABLE public.preflight_nopk ADD PRIMARY KEY (id)");
            const fixed = JSON.parse(
                (await cdc(["preflight", "--sandbox", "e2e-nopk", "--json"], { ...process.env, CDC_SANDBOX_DIR: root })).stdout,
            ) as PreflightReport;
            expect(subjects(fixed)).to.deep.equal(["topic topic shop.public.preflight_nopk: does not exist"]);
        } finally {
            await pg.query("DROP TABLE IF EXISTS public.preflight_nopk");
            await pg.end();
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("catches a signal table left out of the publication (PostgreSQL) or missing (MariaDB), and passes once fixed as it says", async () => {
        const shop = env.sb.spec.pipelines.find((p) => p.name === "shop")!.source as { publicationName: string; signalTable: string };
        const inventory = env.sb.spec.pipelines.find((p) => p.name === "inventory")!.source;
        const [invDb, invTable] = inventory.signalTable.split(".");
        const pg = new Client({ connectionString: env.sb.postgresSource.url });
        await pg.connect();
        const maria = await mysql.createConnection({ uri: env.sb.mariaDbSource.url });
        try {
            await pg.query(`ALTER PUBLICATION ${shop.publicationName} DROP TABLE ${shop.signalTable}`);
            await maria.query(`RENAME TABLE ${invDb}.${invTable} TO ${invDb}.${invTable}_aside`);
            const { code, stdout } = await cdc(["preflight", "--sandbox", "e2e", "--json"]);
            const report = JSON.parse(stdout) as PreflightReport;
            expect(subjects(report).sort()).to.deep.equal([
                `change-capture inventory source: the signal table ${inventory.signalTable} does not exist; incremental snapshots (cdc snapshot) need it for their watermarks`,
                `change-capture shop source: the signal table ${shop.signalTable} is not in the publication ${shop.publicationName}; incremental snapshots (cdc snapshot) need it for their watermarks`,
            ]);
            expect(code).to.equal(1);
            // The fix the line gives for PostgreSQL, run as it is (idempotent: the table exists, the publication gets it back),
            // but for its GRANT: it names the stack's login, and the sandbox's connectors log in as the database's owner.
            const pgFix = report.findings.find((f) => f.subject === "shop source")!.fix;
            expect(pgFix).to.include(`GRANT SELECT, INSERT ON`);
            await pg.query(pgFix.slice(pgFix.indexOf("CREATE TABLE"), pgFix.indexOf("GRANT ")));
            await maria.query(`RENAME TABLE ${invDb}.${invTable}_aside TO ${invDb}.${invTable}`);
            const fixed = JSON.parse((await cdc(["preflight", "--sandbox", "e2e", "--json"])).stdout) as PreflightReport;
            expect(fixed.findings).to.deep.equal([]);
        } finally {
            await pg.query(`ALTER PUBLICATION ${shop.publicationName} ADD TABLE ${shop.signalTable}`).catch(() => undefined);
            await maria.query(`RENAME TABLE ${invDb}.${invTable}_aside TO ${invDb}.${invTable}`).catch(() => undefined);
            await pg.end();
            await maria.end();
        }
    });

    it("catches a Secret key the connectors reference that is missing, and skips the logins that need it", async () => {
        const file = path.join(env.sb.secretsDir, "inventory-source-db", "password");
        const aside = path.join(env.sb.runDir, "password.preflight-aside");
        fs.renameSync(file, aside);
        try {
            const { code, stdout } = await cdc(["preflight", "--sandbox", "e2e", "--json"]);
            const report = JSON.parse(stdout) as PreflightReport;
            expect(report.findings).to.deep.equal([
                {
                    check: "secret",
                    subject: "Secret inventory-source-db key password",
                    problem: `missing in ${env.sb.secretsDir}; inventory-mariadb-source cannot resolve it and will fail at start`,
                    fix: `write the value to ${file} (in a cluster the Vault Secrets Operator writes it from Vault)`,
                },
            ]);
            expect(report.unchecked.map((u) => `${u.check} ${u.subject.split(" ").slice(0, 2).join(" ")}: ${u.reason}`)).to.deep.equal([
                "source-table inventory source: cannot log in as the connector: Secret inventory-source-db key password is missing (see above)",
                "change-capture inventory source: cannot log in as the connector: Secret inventory-source-db key password is missing (see above)",
            ]);
            expect(code).to.equal(1);
        } finally {
            fs.renameSync(aside, file);
        }
    });

    it("catches a topic whose config drifted from the plan", async () => {
        const topic = dlqTopicName(env.sb.spec.pipelines.find((p) => p.name === "shop")!.sink.connectorName);
        const admin = new Admin({ clientId: "preflight-e2e", bootstrapBrokers: [env.sb.kafka.bootstrapServers] });
        const set = (value: string) =>
            admin.incrementalAlterConfigs({
                resources: [
                    {
                        resourceType: ConfigResourceTypes.TOPIC,
                        resourceName: topic,
                        configs: [{ name: "compression.type", configOperation: 0, value }],
                    },
                ],
            });
        try {
            await set("gzip");
            const { code, stdout } = await cdc(["preflight", "--sandbox", "e2e", "--json"]);
            const report = JSON.parse(stdout) as PreflightReport;
            expect(report.findings.map((f) => [f.subject, f.problem, f.fix])).to.deep.equal([
                [
                    `topic ${topic}`,
                    "compression.type is gzip, planned lz4",
                    `pulumi up (the stack owns topic configs), or kafka-configs.sh --alter --entity-type topics --entity-name ${topic} --add-config compression.type=lz4`,
                ],
            ]);
            expect(code).to.equal(1);
        } finally {
            await set("lz4");
            await admin.close();
        }
    });
});
