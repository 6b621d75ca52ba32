/**
 * The reconciler against real servers: PostgreSQL → PostgreSQL and MariaDB → PostgreSQL, started by the test on
 * free ports (sandbox/databases.ts). Every expected discrepancy is the set the test itself injected.
 */
import { expect } from "chai";
import { Client } from "pg";
import * as mysql from "mysql2/promise";
import { RunningDatabase, startMariaDb, startPostgres } from "../../sandbox/databases";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../../reconciler/cli";
import { chooseBucketHash, probeQuery } from "../../reconciler/bucket-hash";
import { batches, connect } from "../../reconciler/db";
import { introspect } from "../../reconciler/introspect";
import { planTable } from "../../reconciler/plan";
import { boundaryQuery, buildSide } from "../../reconciler/queries";
import { validateReport } from "../../reconciler/report";
import { DEFAULT_SETTINGS, reconcileTable, Settings } from "../../reconciler/reconcile";
import { tableReport, TableReport } from "../../reconciler/report";
import * as f from "../reconciler/fixtures";

const TH = { maxDiscrepancies: 100, criticalRatio: 0.5 };
/** Small first chunks so even these small tables are scanned in several chunks per side. */
const FAST: Settings = { ...DEFAULT_SETTINGS, lagWindowSeconds: 0.2, recheckAttempts: 2, initialChunkRows: 16, chunkSeconds: 0.05 };

const keysOf = (r: TableReport) => r.discrepancies.map((d) => `${d.mismatch_type}:${Object.values(d.primary_key).join("/")}`).sort();

describe("reconciler against real PostgreSQL and MariaDB", function () {
    this.timeout(240_000);
    let pg: RunningDatabase;
    let maria: RunningDatabase;
    let base: string;
    const pgDb = async (db: string) => {
        const c = new Client(`${base}/${db}`);
        await c.connect();
        return c;
    };
    const mariaDb = async () => {
        const c = await mysql.createConnection({ uri: maria.url, multipleStatements: true });
        await c.query("SET time_zone = '+00:00'");
        return c;
    };
    const reconcile = async (src: string, tgt: string, source: string, target: string, settings: Settings = FAST) => {
        const [a, b] = await Promise.all([connect(src), connect(tgt)]);
        try {
            const [ss, st] = source.split(".");
            const [ts, tt] = target.split(".");
            const o = await reconcileTable(a, b, { source: { schema: ss, table: st }, target: { schema: ts, table: tt } }, settings);
            if (o.error) throw new Error(`${o.error.step}: ${o.error.message}`);
            return tableReport(o, TH);
        } finally {
            await Promise.all([a.close(), b.close()]);
        }
    };

    before(async () => {
        [pg, maria] = await Promise.all([startPostgres(), startMariaDb()]);
        base = pg.url.replace(/\/postgres$/, "");
        const admin = await pgDb("postgres");
        for (const d of ["src", "tgt", "mtgt"]) await admin.query(`CREATE DATABASE ${d}`);
        await admin.end();
    });
    after(async () => {
        await Promise.all([pg?.stop(), maria?.stop()]);
    });

    describe("PostgreSQL → PostgreSQL, every type", () => {
        const rows = f.itemRows(400);
        before(async () => {
            const [s, t] = await Promise.all([pgDb("src"), pgDb("tgt")]);
            await s.query(f.PG_ITEMS_SOURCE);
            await t.query(f.PG_ITEMS_TARGET);
            await f.insertPgItems(s, rows);
            await f.insertPgItems(t, rows);
            // A row Debezium's rewrite marked deleted stays in the replica with __deleted = 'true'.
            await t.query("INSERT INTO items (id, name, __deleted) VALUES (100000, 'deleted upstream', 'true')");
            await Promise.all([s.end(), t.end()]);
        });

        it("finds equal data equal across scale, precision and hidden deleted rows", async () => {
            const r = await reconcile(`${base}/src`, `${base}/tgt`, "public.items", "public.items");
            expect(r.status).to.equal("ok");
            expect(r.checksum_match).to.equal(true);
            expect(r.source_row_count).to.equal(400);
            expect(r.target_row_count).to.equal(400);
            expect(r.normalization_artifacts).to.equal(0);
            expect(r.recommended_action_code).to.equal("none");
        });

        it("reports exactly the injected missing, extra and changed rows, NULL vs '' included", async () => {
            const t = await pgDb("tgt");
            await t.query("DELETE FROM items WHERE id IN (3, 250)");
            await t.query("INSERT INTO items (id, name) VALUES (5000, 'only in target')");
            await t.query("UPDATE items SET note = NULL WHERE id = 10"); // '' in the source
            await t.query("UPDATE items SET price = price + 0.01 WHERE id = 11");
            await t.query("UPDATE items SET created = created + interval '1 millisecond' WHERE id = 12");
            await t.query("UPDATE items SET payload = '{\"changed\": true}' WHERE id = 13");
            await t.query("UPDATE items SET uid = '00000000-0000-4000-8000-000000000000' WHERE id = 15");
            await t.end();
            const r = await reconcile(`${base}/src`, `${base}/tgt`, "public.items", "public.items");
            expect(keysOf(r)).to.deep.equal(
                [
                    "missing_in_target:3",
                    "missing_in_target:250",
                    "missing_in_source:5000",
                    "value_mismatch:10",
                    "value_mismatch:11",
                    "value_mismatch:12",
                    "value_mismatch:13",
                    "value_mismatch:15",
                ].sort(),
            );
            const byId = (id: string) => r.discrepancies.find((d) => d.primary_key.id === id)!;
            expect(byId("10").differing_columns).to.deep.equal(["note"]);
            expect(byId("10").source_values!.note).to.equal("");
            expect(byId("10").target_values!.note).to.equal(null);
            expect(byId("11").differing_columns).to.deep.equal(["price"]);
            expect(byId("12").differing_columns).to.deep.equal(["created"]);
            expect(byId("3").target_values).to.equal(null);
            expect(r.status).to.equal("row_count_mismatch");
            expect(r.discrepancy_totals).to.deep.equal({ missing_in_target: 2, missing_in_source: 1, value_mismatch: 5, total: 8 });
            expect(r.recommended_action_code).to.equal("resync_rows");
        });
    });

    describe("MariaDB → PostgreSQL, every type", () => {
        const rows = f.itemRows(400);
        before(async () => {
            const m = await mariaDb();
            await m.query(f.MARIA_ITEMS_SOURCE);
            await f.insertMariaItems(m, rows);
            await m.end();
            const t = await pgDb("mtgt");
            await t.query(f.PG_FROM_MARIA_TARGET);
            await f.insertPgItems(t, rows, { fromMaria: true });
            await t.end();
        });

        it("hashes equal values equally: decimals, floats, tinyint/bit vs smallint/boolean, Unicode, latin1, times, JSON spelling", async () => {
            const r = await reconcile(maria.url, `${base}/mtgt`, "app.items", "public.items");
            expect(r.status).to.equal("ok");
            expect(r.checksum_match).to.equal(true);
            expect(r.buckets.mismatched).to.equal(0);
            expect(r.normalization_warnings.join("\n")).to.match(/JSON column payload is not hashed/);
        });

        it("detects a microsecond, a last-digit float change, '' → NULL, a flipped bit and missing/extra rows", async () => {
            const t = await pgDb("mtgt");
            await t.query("UPDATE items SET created = created + interval '1 microsecond' WHERE id = 20");
            await t.query("UPDATE items SET ratio = ratio * (1 + 1e-12) WHERE id = 22");
            await t.query("UPDATE items SET code = NULL WHERE id = 21"); // '' in the source (every 7th row)
            await t.query("UPDATE items SET flag = NOT flag WHERE id = 23");
            await t.query("UPDATE items SET name = name || ' ' WHERE id = 24");
            await t.query("DELETE FROM items WHERE id = 30");
            await t.query("INSERT INTO items (id) VALUES (9999)");
            await t.end();
            const m = await mariaDb();
            // A JSON re-spelling on the source side alone is no difference.
            await m.query('UPDATE items SET payload = \'{"a":[1,2.5],"b":2}\' WHERE id = 4');
            await m.end();
            const r = await reconcile(maria.url, `${base}/mtgt`, "app.items", "public.items");
            expect(keysOf(r)).to.deep.equal(
                [
                    "value_mismatch:20",
                    "value_mismatch:21",
                    "value_mismatch:22",
                    "value_mismatch:23",
                    "value_mismatch:24",
                    "missing_in_target:30",
                    "missing_in_source:9999",
                ].sort(),
            );
            const cols = Object.fromEntries(r.discrepancies.map((d) => [d.primary_key.id, d.differing_columns]));
            expect(cols).to.deep.include({ "20": ["created"], "21": ["code"], "22": ["ratio"], "23": ["flag"], "24": ["name"] });
        });
    });

    describe("text, UUID and composite keys", () => {
        // Mixed case, accents and emoji sort differently under MariaDB's utf8mb4_general_ci and PostgreSQL's C.UTF-8.
        const keys = Array.from({ length: 300 }, (_, i) => [`Key-${i}`, `ä${i}`, `_${i}`, `z🙂${i}`, `b ${i}`][i % 5] + `#${i}`);
        before(async () => {
            const m = await mariaDb();
            await m.query(
                "CREATE TABLE tkeys (k VARCHAR(64) PRIMARY KEY, v INT, note VARCHAR(20)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
            );
            await m.query(
                "CREATE TABLE ckeys (region VARCHAR(8), n INT, v DECIMAL(10,3), PRIMARY KEY (region, n)) DEFAULT CHARSET=utf8mb4",
            );
            await m.query("INSERT INTO tkeys VALUES ?", [keys.map((k, i) => [k, i, i % 4 ? `n${i}` : ""])]);
            await m.query("INSERT INTO ckeys VALUES ?", [
                Array.from({ length: 200 }, (_, i) => [["eu", "US", "apac", "Ω"][i % 4], i, `${i}.125`]),
            ]);
            await m.end();
            const t = await pgDb("mtgt");
            await t.query("CREATE TABLE tkeys (k text PRIMARY KEY, v integer, note text)");
            await t.query("CREATE TABLE ckeys (region text, n integer, v numeric(10,3), PRIMARY KEY (region, n))");
            for (const [i, k] of keys.entries()) await t.query("INSERT INTO tkeys VALUES ($1, $2, $3)", [k, i, i % 4 ? `n${i}` : ""]);
            for (let i = 0; i < 200; i++)
                await t.query("INSERT INTO ckeys VALUES ($1, $2, $3)", [["eu", "US", "apac", "Ω"][i % 4], i, `${i}.125`]);
            await t.end();
            const [s, u] = await Promise.all([pgDb("src"), pgDb("tgt")]);
            // SQL Server's Debezium connector emits uniqueidentifier as upper-case text: the replica has text keys.
            await s.query("CREATE TABLE ukeys (id uuid PRIMARY KEY, v integer)");
            await u.query("CREATE TABLE ukeys (id text PRIMARY KEY, v integer)");
            for (let i = 0; i < 150; i++) {
                const id = `${(i * 2654435761).toString(16).padStart(12, "0").slice(-8)}-1111-4222-8333-${String(i).padStart(12, "0")}`;
                await s.query("INSERT INTO ukeys VALUES ($1, $2)", [id, i]);
                await u.query("INSERT INTO ukeys VALUES ($1, $2)", [id.toUpperCase(), i]);
            }
            await Promise.all([s.end(), u.end()]);
        });

        it("matches text keys across collations and finds the injected differences", async () => {
            const equal = await reconcile(maria.url, `${base}/mtgt`, "app.tkeys", "public.tkeys");
            expect(equal.status).to.equal("ok");
            // Both engines put every key in the same MD5 bucket: equal tables have no mismatching bucket at all.
            expect(equal.buckets).to.deep.include({ mismatched: 0 });
            expect(equal.buckets.total).to.be.greaterThan(1);
            const t = await pgDb("mtgt");
            await t.query("UPDATE tkeys SET v = -1 WHERE k = $1", [keys[7]]);
            await t.query("DELETE FROM tkeys WHERE k = $1", [keys[123]]);
            await t.query("UPDATE tkeys SET note = NULL WHERE k = $1", [keys[4]]);
            await t.query("INSERT INTO tkeys VALUES ('KEY-7#7', 7, 'case')");
            await t.end();
            const r = await reconcile(maria.url, `${base}/mtgt`, "app.tkeys", "public.tkeys");
            expect(r.key_partitioning).to.equal("hash");
            expect(r.bucket_hash).to.equal("md5");
            expect(r.buckets.mismatched).to.be.within(1, 4);
            expect(keysOf(r)).to.deep.equal(
                [
                    `missing_in_source:KEY-7#7`,
                    `missing_in_target:${keys[123]}`,
                    `value_mismatch:${keys[4]}`,
                    `value_mismatch:${keys[7]}`,
                ].sort(),
            );
        });

        it("matches composite keys and upper-case text UUIDs against uuid", async () => {
            expect((await reconcile(maria.url, `${base}/mtgt`, "app.ckeys", "public.ckeys")).status).to.equal("ok");
            const t = await pgDb("mtgt");
            await t.query("UPDATE ckeys SET v = v + 0.001 WHERE region = 'Ω' AND n = 3");
            await t.query("DELETE FROM ckeys WHERE region = 'US' AND n = 1");
            await t.end();
            const r = await reconcile(maria.url, `${base}/mtgt`, "app.ckeys", "public.ckeys");
            expect(keysOf(r)).to.deep.equal(["missing_in_target:US/1", "value_mismatch:Ω/3"]);

            expect((await reconcile(`${base}/src`, `${base}/tgt`, "public.ukeys", "public.ukeys")).status).to.equal("ok");
            const u = await pgDb("tgt");
            await u.query("UPDATE ukeys SET v = 999 WHERE v = 42");
            await u.end();
            const ru = await reconcile(`${base}/src`, `${base}/tgt`, "public.ukeys", "public.ukeys");
            expect(ru.discrepancies).to.have.length(1);
            expect(ru.discrepancies[0].primary_key.id).to.match(/^[0-9a-f-]+000000000042$/);
            expect(ru.discrepancies[0].target_values!.v).to.equal("999");
        });
    });

    it("pages PostgreSQL composite keys in native order when TID chunks are unavailable (PostgreSQL < 14)", async () => {
        const [s, t] = await Promise.all([pgDb("src"), pgDb("tgt")]);
        for (const c of [s, t]) {
            await c.query("CREATE TABLE paged (a integer, b text, v integer, PRIMARY KEY (a, b))");
            // Integer order and text order of `a` differ (2 < 10 but '10' < '2').
            await c.query("INSERT INTO paged SELECT i / 3, 'x' || (i % 3), i FROM generate_series(0, 899) i");
        }
        await t.query("UPDATE paged SET v = -1 WHERE a = 100 AND b = 'x1'");
        await t.query("DELETE FROM paged WHERE a = 7 AND b = 'x0'");
        await Promise.all([s.end(), t.end()]);
        const [a, b] = await Promise.all([connect(`${base}/src`), connect(`${base}/tgt`)]);
        try {
            // The 10th key in native order is (3, 'x0'); in text order of `a` it would be (10, ...).
            const info = await introspect(a, { schema: "public", table: "paged" });
            const side = buildSide(a.dialect, info.name, planTable(info, info).columns, "source", null);
            expect(await a.query(boundaryQuery(a.dialect, side, null, 9))).to.deep.equal([["3", "x0"]]);
            const o = await reconcileTable(
                { ...a, physicalChunks: false },
                { ...b, physicalChunks: false },
                { source: { schema: "public", table: "paged" }, target: { schema: "public", table: "paged" } },
                FAST,
            );
            const r = tableReport(o, TH);
            expect(r.source_row_count).to.equal(900);
            expect(keysOf(r)).to.deep.equal(["missing_in_target:7/x0", "value_mismatch:100/x1"]);
        } finally {
            await Promise.all([a.close(), b.close()]);
        }
    });

    it("splits oversized buckets of skewed integer keys before reading rows", async () => {
        const [s, t] = await Promise.all([pgDb("src"), pgDb("tgt")]);
        for (const c of [s, t]) {
            await c.query("CREATE TABLE skew (id bigint PRIMARY KEY, v text)");
            // 2,000 dense keys and a few far away: the planned buckets are very wide, so the dense ones share one.
            await c.query(
                "INSERT INTO skew SELECT i, 'v' || i FROM generate_series(1, 2000) i UNION ALL SELECT 1e12::bigint + i, 'far' FROM generate_series(1, 5) i",
            );
        }
        await t.query("UPDATE skew SET v = 'x' WHERE id = 1234");
        await Promise.all([s.end(), t.end()]);
        const r = await reconcile(`${base}/src`, `${base}/tgt`, "public.skew", "public.skew", { ...FAST, leafRows: 64 });
        expect(keysOf(r)).to.deep.equal(["value_mismatch:1234"]);
        expect(r.drill_rows_read).to.be.below(2 * 64);
    });

    describe("hash-bucket drill-down", () => {
        const key = (i: number) => `h-${(i * 2654435761) % 100003}-${i}`;
        before(async () => {
            const [s, t] = await Promise.all([pgDb("src"), pgDb("tgt")]);
            for (const c of [s, t]) {
                await c.query("CREATE TABLE hkeys (k text PRIMARY KEY, v integer)");
                await c.query(
                    "INSERT INTO hkeys SELECT 'h-' || ((i * 2654435761) % 100003) || '-' || i, i FROM generate_series(1, 5000) i",
                );
            }
            // 60 differences spread over the key space: 20 changed, 20 deleted, 20 extra.
            for (let j = 0; j < 60; j++) {
                const i = 1 + j * 83;
                if (j % 3 === 0) await t.query("UPDATE hkeys SET v = -v WHERE k = $1", [key(i)]);
                else if (j % 3 === 1) await t.query("DELETE FROM hkeys WHERE k = $1", [key(i)]);
                else await t.query("INSERT INTO hkeys VALUES ($1, 0)", [`extra-${j}`]);
            }
            await Promise.all([s.end(), t.end()]);
        });

        it("finds every difference in one bucket-ordered pass per side, reading only the mismatching buckets", async () => {
            const r = await reconcile(`${base}/src`, `${base}/tgt`, "public.hkeys", "public.hkeys", { ...FAST, bucketRows: 16 });
            expect(r.key_partitioning).to.equal("hash");
            expect(r.bucket_hash).to.equal("native");
            expect(r.discrepancy_totals).to.deep.equal({ missing_in_target: 20, missing_in_source: 20, value_mismatch: 20, total: 60 });
            expect(r.buckets.mismatched).to.be.within(30, 60);
            // Only the rows of mismatching buckets come back: far fewer than both tables.
            expect(r.drill_rows_read)
                .to.be.greaterThan(0)
                .and.lessThan(r.buckets.mismatched * 2 * 3 * (5000 / r.buckets.total));
            expect(
                r.discrepancies
                    .filter((d) => d.mismatch_type === "value_mismatch")
                    .map((d) => d.primary_key.k)
                    .sort(),
            ).to.deep.equal(Array.from({ length: 20 }, (_, n) => key(1 + n * 3 * 83)).sort());
        });

        it("stops reading at the suspect budget and reports the table as critical", async () => {
            const all = await reconcile(`${base}/src`, `${base}/tgt`, "public.hkeys", "public.hkeys", { ...FAST, bucketRows: 16 });
            const r = await reconcile(`${base}/src`, `${base}/tgt`, "public.hkeys", "public.hkeys", {
                ...FAST,
                bucketRows: 16,
                maxSuspectRows: 5,
            });
            expect(r.status).to.equal("critical");
            expect(r.recommended_action_code).to.equal("full_resnapshot");
            // Six suspects end the read: a fraction of the rows the complete drill-down reads.
            expect(r.drill_rows_read)
                .to.be.greaterThan(0)
                .and.lessThan(all.drill_rows_read / 3);
        });

        it("uses each engine's own bucket hash only when both sides agree on it", async () => {
            const [p1, p2, m1, m2] = await Promise.all([
                connect(`${base}/src`),
                connect(`${base}/tgt`),
                connect(maria.url),
                connect(maria.url),
            ]);
            try {
                expect(await chooseBucketHash(p1, p2)).to.equal("native");
                expect(await chooseBucketHash(m1, m2)).to.equal("native");
                expect(await chooseBucketHash(m1, p2)).to.equal("md5");
                // MariaDB's CRC32 and PostgreSQL's hashtextextended of the same canonical key string agree within an engine.
                const probe = (db: typeof p1) => db.query({ sql: probeQuery(db)!, params: [] });
                expect((await probe(m1))[0]).to.deep.equal((await probe(m2))[0]);
            } finally {
                await Promise.all([p1, p2, m1, m2].map((c) => c.close()));
            }
        });
    });

    describe("pull-style streaming", () => {
        for (const engine of ["postgres", "mariadb"] as const) {
            const big = engine === "postgres" ? "SELECT i FROM generate_series(1, 200000) i" : "SELECT seq FROM seq_1_to_200000";
            const url = () => (engine === "postgres" ? `${base}/src` : maria.url);

            it(`${engine}: hands over one batch at a time and ends the query when the reader stops`, async () => {
                const db = await connect(url());
                try {
                    const it = batches(db, { sql: big, params: [] }, 1000);
                    const first = await it.next();
                    expect((first.value as string[][]).map((r) => Number(r[0]))).to.deep.equal(
                        Array.from({ length: 1000 }, (_, i) => i + 1),
                    );
                    expect((await it.next()).value).to.have.length(1000);
                    await it.return(undefined);
                    // The connection is usable again: the rest of the result was not left pending.
                    expect((await db.query({ sql: "SELECT 41 + 1", params: [] }))[0].map(String)).to.deep.equal(["42"]);
                } finally {
                    await db.close();
                }
            });
        }

        it("raises a query error met after the first batches", async () => {
            const db = await connect(`${base}/src`);
            try {
                let seen = 0;
                let error: Error | null = null;
                try {
                    for await (const rows of batches(
                        db,
                        { sql: "SELECT 1 / (5001 - i) FROM generate_series(1, 10000) i", params: [] },
                        1000,
                    ))
                        seen += rows.length;
                } catch (e) {
                    error = e as Error;
                }
                expect(error?.message).to.match(/division by zero/);
                expect(seen).to.be.lessThan(5001);
            } finally {
                await db.close();
            }
        });
    });

    it("reports a table with more differences than the budget as critical, without enumerating them", async () => {
        const [s, t] = await Promise.all([pgDb("src"), pgDb("tgt")]);
        await s.query("CREATE TABLE many (id integer PRIMARY KEY, v integer)");
        await t.query("CREATE TABLE many (id integer PRIMARY KEY, v integer)");
        await s.query("INSERT INTO many SELECT i, i FROM generate_series(1, 1000) i");
        await t.query("INSERT INTO many SELECT i, i + (i % 2) FROM generate_series(1, 1000) i");
        await Promise.all([s.end(), t.end()]);
        const r = await reconcile(`${base}/src`, `${base}/tgt`, "public.many", "public.many", { ...FAST, maxSuspectRows: 100 });
        expect(r.status).to.equal("critical");
        expect(r.recommended_action_code).to.equal("full_resnapshot");
        expect(r.discrepancies).to.have.length(0);
    });

    it("does not report rows still in flight during concurrent writes, but confirms a real discrepancy", async () => {
        const [s, t] = await Promise.all([pgDb("src"), pgDb("tgt")]);
        for (const c of [s, t]) {
            await c.query("CREATE TABLE busy (id integer PRIMARY KEY, v integer, at timestamptz)");
            await c.query("INSERT INTO busy SELECT i, 0, '2024-01-01' FROM generate_series(1, 3000) i");
        }
        await t.query("UPDATE busy SET v = -1 WHERE id = 2999"); // lost update: never replicated
        // A fake pipeline: every change reaches the target 150 ms after the source, in order.
        let stop = false;
        let writes = 0;
        const writer = (async () => {
            for (let i = 0; !stop; i++) {
                const id = 1 + ((i * 97) % 2900);
                await s.query("UPDATE busy SET v = v + 1, at = now() WHERE id = $1", [id]);
                writes++;
                setTimeout(
                    () => void t.query("UPDATE busy SET v = v + 1, at = (SELECT now()) WHERE id = $1", [id]).catch(() => undefined),
                    150,
                );
                await new Promise((r) => setTimeout(r, 5));
            }
        })();
        try {
            // at = now() differs between the sides by design of this fake pipeline; compare v only.
            const [a, b] = await Promise.all([connect(`${base}/src`), connect(`${base}/tgt`)]);
            const o = await reconcileTable(
                a,
                b,
                {
                    source: { schema: "public", table: "busy" },
                    target: { schema: "public", table: "busy" },
                    options: { excludeColumns: ["at"] },
                },
                { ...FAST, lagWindowSeconds: 1, recheckAttempts: 3 },
            );
            await Promise.all([a.close(), b.close()]);
            const r = tableReport(o, TH);
            expect(writes).to.be.greaterThan(20);
            expect(keysOf(r)).to.deep.equal(["value_mismatch:2999"]);
            expect(r.in_flight.resolved_on_recheck + r.in_flight.still_changing).to.be.greaterThan(0);
        } finally {
            stop = true;
            await writer;
            await new Promise((r) => setTimeout(r, 300));
            await Promise.all([s.end(), t.end()]);
        }
    });

    describe("command line", () => {
        let dir: string;
        const capture = () => {
            const lines: string[] = [];
            const stream = { isTTY: false, write: (x: string) => lines.push(x) } as unknown as NodeJS.WriteStream;
            return {
                stream,
                lines,
                json: () =>
                    lines
                        .join("")
                        .split("\n")
                        .filter(Boolean)
                        .map((l) => JSON.parse(l)),
            };
        };
        before(async () => {
            dir = mkdtempSync(path.join(os.tmpdir(), "reconcile-cli-"));
            const [s, t] = await Promise.all([pgDb("src"), pgDb("tgt")]);
            for (const c of [s, t]) {
                await c.query("CREATE TABLE cli (id integer PRIMARY KEY, v text)");
                await c.query("INSERT INTO cli SELECT i, 'v' || i FROM generate_series(1, 100) i");
            }
            await Promise.all([s.end(), t.end()]);
        });
        after(() => rmSync(dir, { recursive: true, force: true }));

        it("exits 0 when in sync and writes a schema-valid reconciliation-{report_id}.json", async () => {
            const out = capture();
            const code = await main(
                ["--source", `${base}/src`, "--target", `${base}/tgt`, "--table", "public.cli", "--report-dir", dir, "--lag-window", "0"],
                out.stream,
                out.stream,
            );
            expect(code).to.equal(0);
            const last = out.json().pop();
            expect(last.exitCode).to.equal(0);
            const report = JSON.parse(readFileSync(last.reportFile, "utf8"));
            expect(path.basename(last.reportFile)).to.equal(`reconciliation-${report.report_id}.json`);
            expect(validateReport(report)).to.deep.equal([]);
            expect(report.source_database).to.equal(`postgres://127.0.0.1:${pg.port}/src`);
        });

        it("exits 1 on a confirmed discrepancy, reading the URLs from a config file and the environment", async () => {
            const t = await pgDb("tgt");
            await t.query("UPDATE cli SET v = 'changed' WHERE id = 50");
            await t.end();
            const config = path.join(dir, "config.yaml");
            writeFileSync(
                config,
                `source: { urlEnv: TEST_RECONCILE_SOURCE }\ntarget: ${base}/tgt\ntables: [cli]\nreportDir: ${dir}\nlagWindowSeconds: 0\n`,
            );
            process.env.TEST_RECONCILE_SOURCE = `${base}/src`;
            try {
                const out = capture();
                expect(await main(["--config", config], out.stream, out.stream)).to.equal(1);
                const report = JSON.parse(readFileSync(out.json().pop().reportFile, "utf8"));
                expect(report.tables[0].discrepancies[0]).to.deep.include({ primary_key: { id: "50" }, mismatch_type: "value_mismatch" });
            } finally {
                delete process.env.TEST_RECONCILE_SOURCE;
            }
        });

        it("exits 2 naming the table and the failing step, with a stack trace only under --verbose", async () => {
            const args = ["--source", `${base}/src`, "--target", `${base}/tgt`, "--table", "public.nope", "--report-dir", dir];
            const out = capture();
            expect(await main(args, out.stream, out.stream)).to.equal(2);
            const error = out.json().find((l) => l.level === "error");
            expect(error.msg).to.match(/table public\.nope: failed while reading the table definitions: .*public\.nope/);
            expect(error.stack).to.equal(undefined);
            const verbose = capture();
            expect(await main([...args, "--verbose"], verbose.stream, verbose.stream)).to.equal(2);
            expect(verbose.json().find((l) => l.level === "error").stack).to.match(/\n\s+at /);
        });

        it("exits 2 with the failing step when a database is unreachable, and still writes a report", async () => {
            const out = capture();
            const code = await main(
                [
                    "--source",
                    "postgres://postgres@127.0.0.1:1/none",
                    "--target",
                    `${base}/tgt`,
                    "--table",
                    "public.cli",
                    "--report-dir",
                    dir,
                ],
                out.stream,
                out.stream,
            );
            expect(code).to.equal(2);
            const lines = out.json();
            expect(lines.find((l) => l.level === "error").msg).to.match(
                /connecting to the source database postgres:\/\/127\.0\.0\.1:1\/none/,
            );
            expect(existsSync(lines.pop().reportFile)).to.equal(true);
        });
    });
});
