import { expect } from "chai";
import { existsSync } from "fs";
import { Client } from "pg";
import * as mysql from "mysql2/promise";
import { mariaDbBinlog, postgresLogicalReplication, startMariaDb, startPostgres } from "../../sandbox/databases";

describe("sandbox/databases", function () {
    this.timeout(120_000);

    it("starts PostgreSQL with caller settings and removes its data directory on stop", async () => {
        const pg = await startPostgres({ settings: postgresLogicalReplication(), database: "cdc_src" });
        try {
            const c = new Client({ connectionString: pg.url });
            await c.connect();
            const { rows } = await c.query("SELECT current_setting('wal_level') AS w, current_database() AS d");
            await c.end();
            expect(rows[0]).to.deep.equal({ w: "logical", d: "cdc_src" });
        } finally {
            await pg.stop();
        }
        expect(existsSync(pg.dataDir)).to.equal(false);
    });

    it("starts MariaDB with binlog settings and a TCP user", async () => {
        const db = await startMariaDb({ settings: mariaDbBinlog(42) });
        try {
            const c = await mysql.createConnection(db.url);
            const [rows] = await c.query("SELECT @@log_bin AS b, @@binlog_format AS f, @@binlog_row_image AS i, @@server_id AS s");
            await c.end();
            expect(rows).to.deep.equal([{ b: 1, f: "ROW", i: "FULL", s: 42 }]);
        } finally {
            await db.stop();
        }
        expect(existsSync(db.dataDir)).to.equal(false);
    });

    it("stops and starts each server again with its data and port, as a restart or an outage would", async () => {
        const [pg, maria] = await Promise.all([startPostgres({ database: "kept" }), startMariaDb()]);
        try {
            const pgQuery = async (sql: string) => {
                const c = new Client({ connectionString: pg.url });
                await c.connect();
                try {
                    return (await c.query(sql)).rows;
                } finally {
                    await c.end();
                }
            };
            const mariaQuery = async (sql: string) => {
                const c = await mysql.createConnection(maria.url);
                try {
                    return (await c.query(sql))[0];
                } finally {
                    await c.end();
                }
            };
            await pgQuery("CREATE TABLE t AS SELECT 1 AS x");
            await mariaQuery("CREATE TABLE t AS SELECT 1 AS x");
            await Promise.all([pg.stopServer(), maria.stopServer()]);
            expect(
                await pgQuery("SELECT 1").then(
                    () => "up",
                    () => "down",
                ),
            ).to.equal("down");
            expect(
                await mariaQuery("SELECT 1").then(
                    () => "up",
                    () => "down",
                ),
            ).to.equal("down");
            await Promise.all([pg.startServer(), maria.startServer()]);
            expect(await pgQuery("SELECT x FROM t")).to.deep.equal([{ x: 1 }]);
            expect(await mariaQuery("SELECT x FROM t")).to.deep.equal([{ x: 1 }]);
        } finally {
            await Promise.all([pg.stop(), maria.stop()]);
        }
        expect(existsSync(pg.dataDir) || existsSync(maria.dataDir)).to.equal(false);
    });

    it("fails with the server's own message when a setting is invalid", async () => {
        const failure = (p: Promise<unknown>) =>
            p.then(
                () => "started",
                (e: Error) => e.message,
            );
        expect(await failure(startPostgres({ settings: { wal_level: "bogus" }, startTimeoutMs: 20_000 })))
            .to.match(/PostgreSQL start failed/)
            .and.match(/wal_level/);
        expect(await failure(startMariaDb({ settings: { "binlog-format": "BOGUS" }, startTimeoutMs: 20_000 })))
            .to.match(/MariaDB exited during start-up/)
            .and.match(/binlog/i);
    });
});
