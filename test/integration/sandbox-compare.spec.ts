/**
 * The sandbox's "is the copy in sync" check (sandbox/compare.ts) is the reconciler's comparison: against real
 * MariaDB and PostgreSQL sources and a PostgreSQL target, values that only look alike differ (the sandbox's former
 * text canonicalizer called each pair below equal), and values typed differently on each side stay equal.
 */
import { expect } from "chai";
import { Client } from "pg";
import * as mysql from "mysql2/promise";
import { RunningDatabase, startMariaDb, startPostgres } from "../../sandbox/databases";
import { describeDiff, diffPair, Endpoints, inSync, TableDiff } from "../../sandbox/compare";
import type { TablePair } from "../../sandbox/table-pairs";

/** Each row: the column the target changes and the value it writes, which a text canonicalizer equated with the source's. */
const LOOKALIKES = [
    { id: 2, column: "zip", target: "'1234'", why: "leading zero of a text value (both read as the number 1234)" },
    { id: 3, column: "big", target: "9007199254740992", why: "bigint past 2^53 (both the same double)" },
    { id: 4, column: "amount", target: "0.1", why: "decimal digits past a double's precision" },
    { id: 5, column: "ts", target: "'2024-01-01 10:00:00.123457'", why: "microseconds (a JavaScript Date keeps milliseconds)" },
    { id: 6, column: "doc", target: `'{"a": 1}'`, why: "text that happens to be JSON, spelled differently" },
];

const PG_TARGET = `CREATE TABLE public.lookalikes (
    id integer PRIMARY KEY, zip varchar(10), big bigint, amount numeric(30, 20), ts timestamp(6), doc text, flag boolean)`;
const ROWS = [1, ...LOOKALIKES.map((l) => l.id)];

describe("sandbox/compare: the copy check is the reconciler's typed comparison", function () {
    this.timeout(180_000);
    let pg: RunningDatabase;
    let maria: RunningDatabase;
    let endpoints: Endpoints;
    const pgAt = async (db: string): Promise<Client> => {
        const c = new Client(pg.url.replace(/\/postgres$/, `/${db}`));
        await c.connect();
        return c;
    };

    before(async () => {
        [pg, maria] = await Promise.all([startPostgres(), startMariaDb()]);
        const admin = await pgAt("postgres");
        for (const db of ["src", "tgt"]) await admin.query(`CREATE DATABASE ${db}`);
        await admin.end();
        const base = pg.url.replace(/\/postgres$/, "");
        endpoints = { postgresSourceUrl: `${base}/src`, mariaDbSourceUrl: maria.url, targetUrl: `${base}/tgt` };

        const m = await mysql.createConnection({ uri: maria.url });
        await m.query(`CREATE TABLE ${maria.database}.lookalikes (
            id INT PRIMARY KEY, zip VARCHAR(10), big BIGINT, amount DECIMAL(30, 20), ts DATETIME(6), doc TEXT, flag TINYINT(1))`);
        const s = await pgAt("src");
        await s.query(PG_TARGET);
        for (const id of ROWS) {
            const values = `${id}, '01234', 9007199254740993, 0.10000000000000000001, '2024-01-01 10:00:00.123456', '{"a":1}'`;
            await m.query(`INSERT INTO ${maria.database}.lookalikes VALUES (${values}, 1)`);
            await s.query(`INSERT INTO public.lookalikes VALUES (${values}, true)`);
        }
        await m.end();
        await s.end();
        const t = await pgAt("tgt");
        await t.query(PG_TARGET.replace("public.lookalikes", "public.from_mariadb"));
        await t.query(PG_TARGET.replace("public.lookalikes", "public.from_postgres"));
        for (const table of ["from_mariadb", "from_postgres"]) {
            await t.query(
                `INSERT INTO public.${table} SELECT * FROM (VALUES ${ROWS.map(
                    (id) =>
                        `(${id}, '01234', 9007199254740993::bigint, 0.10000000000000000001::numeric, '2024-01-01 10:00:00.123456'::timestamp, '{"a":1}', true)`,
                ).join(", ")}) AS v`,
            );
        }
        await t.end();
    });

    after(async () => {
        await Promise.all([pg?.stop(), maria?.stop()]);
    });

    const pairs = (): TablePair[] => [
        {
            pipeline: "m",
            engine: "mariadb",
            source: `${maria.database}.lookalikes`,
            target: "public.from_mariadb",
            table: "lookalikes",
            primaryKey: ["id"],
        },
        {
            pipeline: "p",
            engine: "postgres",
            source: "public.lookalikes",
            target: "public.from_postgres",
            table: "lookalikes",
            primaryKey: ["id"],
        },
    ];

    it("finds equal copies equal: TINYINT(1) 1 against boolean true, DECIMAL and DATETIME(6) as their PostgreSQL types", async () => {
        for (const pair of pairs()) {
            const diff = await diffPair(endpoints, pair);
            expect(diff.error, describeDiff(diff)).to.equal(undefined);
            expect(inSync(diff), describeDiff(diff)).to.equal(true);
            expect([diff.sourceRows, diff.targetRows]).to.deep.equal([ROWS.length, ROWS.length]);
        }
    });

    it("finds each look-alike value different, naming its key and column", async () => {
        const t = await pgAt("tgt");
        for (const table of ["from_mariadb", "from_postgres"])
            for (const l of LOOKALIKES) await t.query(`UPDATE public.${table} SET ${l.column} = ${l.target} WHERE id = ${l.id}`);
        await t.end();
        for (const pair of pairs()) {
            const diff: TableDiff = await diffPair(endpoints, pair);
            expect(inSync(diff)).to.equal(false);
            expect(diff.different, pair.target).to.deep.equal(LOOKALIKES.map((l) => ({ key: String(l.id), columns: [l.column] })));
            expect([diff.missing, diff.extra, diff.unsettled]).to.deep.equal([[], [], 0]);
            expect(describeDiff(diff)).to.include("key 2: zip differ");
        }
    });

    it("reports a target table that does not exist as not compared, with the reconciler's reason", async () => {
        const diff = await diffPair(endpoints, { ...pairs()[1], target: "public.not_there" });
        expect(inSync(diff)).to.equal(false);
        expect(describeDiff(diff)).to.match(/^public\.not_there: not compared \(reading the table definitions: /);
    });
});
