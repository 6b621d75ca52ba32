/**
 * What the reconciler image runs, minus the image: the project packed with `npm pack`, installed from the
 * tarball and the lock file with `npm ci --omit=dev` in an empty directory, and its CLI started with plain
 * `node` against a real PostgreSQL. The Dockerfile's runtime stage performs exactly these steps; there is no
 * Docker engine here to build the image itself.
 */
import { expect } from "chai";
import { execFileSync, spawnSync } from "child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import { RunningDatabase, startPostgres } from "../../sandbox/databases";
import { REPO_ROOT } from "../helpers/stack-files";

const NPM_QUIET = ["--no-audit", "--no-fund", "--loglevel=error"];

describe("production install of the reconciler (npm pack → npm ci --omit=dev → node)", function () {
    this.timeout(600_000);
    let work: string;
    let app: string;
    let pg: RunningDatabase;
    let base: string;

    before(async () => {
        work = mkdtempSync(path.join(os.tmpdir(), "cdc-install-"));
        execFileSync("npm", ["pack", "--pack-destination", work, ...NPM_QUIET], { cwd: REPO_ROOT, stdio: "pipe" });
        const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"));
        if (!tarball) throw new Error(`npm pack left no tarball in ${work}`);
        execFileSync("tar", ["-xzf", path.join(work, tarball), "-C", work]);
        app = path.join(work, "package");
        copyFileSync(path.join(REPO_ROOT, "package-lock.json"), path.join(app, "package-lock.json"));
        execFileSync("npm", ["ci", "--omit=dev", "--ignore-scripts", ...NPM_QUIET], { cwd: app, stdio: "pipe" });

        pg = await startPostgres();
        base = pg.url.replace(/\/postgres$/, "");
        const admin = new Client(pg.url);
        await admin.connect();
        for (const db of ["src", "tgt"]) await admin.query(`CREATE DATABASE ${db}`);
        await admin.end();
        for (const db of ["src", "tgt"]) {
            const c = new Client(`${base}/${db}`);
            await c.connect();
            await c.query("CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL, balance numeric(12,2))");
            await c.query("INSERT INTO customers SELECT g, 'c' || g || '@example.com', g * 1.5 FROM generate_series(1, 500) g");
            await c.end();
        }
    });

    after(async () => {
        await pg?.stop();
        if (work) rmSync(work, { recursive: true, force: true });
    });

    const reconcile = () =>
        spawnSync(
            process.execPath,
            [
                path.join(app, "dist", "reconciler", "cli.js"),
                "--source",
                `${base}/src`,
                "--target",
                `${base}/tgt`,
                "--table",
                "public.customers",
                "--report-dir",
                path.join(work, "reports"),
                "--lag-window",
                "0.2",
            ],
            { cwd: app, encoding: "utf8", env: { PATH: process.env.PATH ?? "" } },
        );

    it("ships compiled JavaScript and no development tooling", () => {
        expect(existsSync(path.join(app, "dist", "reconciler", "cli.js"))).to.equal(true);
        expect(existsSync(path.join(app, "dist", "reconciler", "report.schema.json"))).to.equal(true);
        // typescript and ts-node stay: @pulumi/pulumi, a runtime dependency of the stack, depends on them.
        for (const dev of ["mocha", "chai", "@pulumi/policy"]) {
            expect(existsSync(path.join(app, "node_modules", dev)), `${dev} must not be installed`).to.equal(false);
        }
        for (const runtime of ["ajv", "pg", "mysql2", "mssql", "yaml"]) {
            expect(existsSync(path.join(app, "node_modules", runtime)), `${runtime} is a runtime dependency`).to.equal(true);
        }
    });

    it("ships the ops CLI with the DeadLetterRecord schema it stores records with", () => {
        const load = spawnSync(
            process.execPath,
            ["-e", "const a = require('./dist/ops/dlq-avro.js'); process.stdout.write(a.deadLetterType().name)"],
            { cwd: app, encoding: "utf8" },
        );
        expect(load.status, load.stderr).to.equal(0);
        expect(load.stdout).to.match(/DeadLetterRecord$/);
        const help = spawnSync(process.execPath, [path.join(app, "dist", "ops", "cli.js"), "--help"], { cwd: app, encoding: "utf8" });
        expect(help.status, help.stderr).to.equal(0);
        expect(help.stdout).to.match(/dlq/);
    });

    it("exits 0 when the tables are equal", () => {
        const run = reconcile();
        expect(run.status, run.stdout + run.stderr).to.equal(0);
    });

    it("exits 1 when a row differs", async () => {
        const c = new Client(`${base}/tgt`);
        await c.connect();
        await c.query("UPDATE customers SET balance = balance + 1 WHERE id = 42");
        await c.end();
        const run = reconcile();
        expect(run.status, run.stdout + run.stderr).to.equal(1);
        expect(run.stdout).to.match(/"total_discrepancies":1\b|1 differing rows/);
    });
});
