/**
 * The reconciler over TLS against real servers: a CA and server certificates made here with openssl, PostgreSQL and
 * MariaDB serving them (sandbox/databases.ts), and the same two engines without TLS. The URLs are the ones the stack
 * renders (plan/reconciler-job.ts): the pipeline's own mode plus the mounted CA.
 */
import { expect } from "chai";
import { execFileSync } from "child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import * as mysql from "mysql2/promise";
import { main } from "../../reconciler/cli";
import { connect, Db } from "../../reconciler/db";
import { RunningDatabase, startMariaDb, startPostgres } from "../../sandbox/databases";

const ROWS = 200;

/** A CA, and certificates it signs for the given subjectAltNames; a second, unrelated CA plays the wrong one. */
function makeCertificates(dir: string) {
    const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    for (const ca of ["ca", "other-ca"]) {
        openssl(
            "req",
            "-x509",
            ...ecKey,
            "-keyout",
            `${ca}.key`,
            "-out",
            `${ca}.crt`,
            "-days",
            "2",
            "-subj",
            `/CN=cdc test ${ca}`,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        );
    }
    const server = (name: string, altNames: string) => {
        writeFileSync(
            path.join(dir, `${name}.ext`),
            `subjectAltName=${altNames}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`,
        );
        openssl("req", ...ecKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
        openssl(
            "x509",
            "-req",
            "-in",
            `${name}.csr`,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-set_serial",
            String(Date.now()),
            "-days",
            "2",
            "-out",
            `${name}.crt`,
            "-extfile",
            `${name}.ext`,
        );
        return { certFile: path.join(dir, `${name}.crt`), keyFile: path.join(dir, `${name}.key`) };
    };
    return {
        ca: path.join(dir, "ca.crt"),
        otherCa: path.join(dir, "other-ca.crt"),
        // The servers listen on 127.0.0.1 and 127.0.0.2; only the first is in the certificate.
        server: server("server", "DNS:localhost,IP:127.0.0.1"),
        elsewhere: server("elsewhere", "DNS:db.elsewhere.test"),
    };
}

describe("reconciler TLS against real PostgreSQL and MariaDB", function () {
    this.timeout(180_000);
    let dir: string;
    let certs: ReturnType<typeof makeCertificates>;
    let pg: RunningDatabase;
    let maria: RunningDatabase;
    let plainPg: RunningDatabase;
    let plainMaria: RunningDatabase;

    const pgUrl = (db: RunningDatabase, host: string, query: string) => `postgres://postgres@${host}:${db.port}/tgt?${query}`;
    const mariaUrl = (db: RunningDatabase, host: string, query: string) => `mysql://sandbox:sandbox@${host}:${db.port}/app?${query}`;
    const verifyFull = () => ({
        source: mariaUrl(maria, "localhost", `ssl-mode=verify-full&ssl-ca=${certs.ca}`),
        target: pgUrl(pg, "127.0.0.1", `sslmode=verify-full&sslrootcert=${certs.ca}`),
    });

    /** The CLI as the CronJob runs it; its JSON log lines and report. */
    const reconcile = async (urls: { source: string; target: string }) => {
        const lines: string[] = [];
        const stream = { isTTY: false, write: (x: string) => lines.push(x) } as unknown as NodeJS.WriteStream;
        const args = [
            "--source",
            urls.source,
            "--target",
            urls.target,
            "--table",
            "app.items=public.items",
            "--report-dir",
            dir,
            "--lag-window",
            "0",
        ];
        const code = await main(args, stream, stream);
        const log = lines
            .join("")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l));
        const last = log[log.length - 1];
        return {
            code,
            errors: log.filter((l) => l.level === "error").map((l) => String(l.msg)),
            report: JSON.parse(readFileSync(last.reportFile, "utf8")),
        };
    };

    const failureOf = (p: Promise<Db>) =>
        p.then(
            async (db) => {
                await db.close();
                return "connected";
            },
            (e: Error) => e.message,
        );

    before(async () => {
        dir = mkdtempSync(path.join(os.tmpdir(), "reconcile-tls-"));
        certs = makeCertificates(dir);
        [pg, maria] = await Promise.all([
            startPostgres({ tls: certs.server, settings: { listen_addresses: "'127.0.0.1,127.0.0.2'" } }),
            startMariaDb({ tls: certs.server, settings: { "bind-address": "127.0.0.1,127.0.0.2" } }),
        ]);
        [plainPg, plainMaria] = await Promise.all([startPostgres(), startMariaDb()]);
        for (const server of [pg, plainPg]) {
            const admin = new Client({ connectionString: server.url });
            await admin.connect();
            await admin.query("CREATE DATABASE tgt");
            await admin.end();
            const c = new Client({ connectionString: server.url.replace(/\/postgres$/, "/tgt") });
            await c.connect();
            await c.query("CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, amount numeric(10,2))");
            await c.query(`INSERT INTO items SELECT i, 'item ' || i, i * 1.25 FROM generate_series(1, ${ROWS}) i`);
            await c.end();
        }
        for (const server of [maria, plainMaria]) {
            const c = await mysql.createConnection({ uri: server.url });
            await c.query("CREATE TABLE items (id int PRIMARY KEY, name varchar(100) NOT NULL, amount decimal(10,2))");
            await c.query(
                `INSERT INTO items WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS}) SELECT i, CONCAT('item ', i), i * 1.25 FROM n`,
            );
            await c.end();
        }
    });

    after(async () => {
        await Promise.all([pg?.stop(), maria?.stop(), plainPg?.stop(), plainMaria?.stop()]);
        if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("reconciles MariaDB → PostgreSQL over verified TLS (verify-full with the CA on both sides) and exits 0", async () => {
        const urls = verifyFull();
        const run = await reconcile(urls);
        expect(run.errors).to.deep.equal([]);
        expect(run.code).to.equal(0);
        expect(run.report.tables[0]).to.deep.include({ status: "ok", source_row_count: ROWS, target_row_count: ROWS });
        // The connections really are TLS: the servers say so for the reconciler's own sessions.
        const [source, target] = await Promise.all([connect(urls.source), connect(urls.target)]);
        try {
            expect((await source.query({ sql: "SHOW SESSION STATUS LIKE 'Ssl_cipher'", params: [] }))[0][1]).to.match(/^TLS_/);
            expect(await target.query({ sql: "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()", params: [] })).to.deep.equal(
                [["true"]],
            );
        } finally {
            await Promise.all([source.close(), target.close()]);
        }
    });

    it("takes MySQL's mode names as well as MariaDB's, and verify-ca where the host is not the certificate's", async () => {
        const run = await reconcile({
            source: mariaUrl(maria, "localhost", `ssl-mode=VERIFY_IDENTITY&ssl-ca=${certs.ca}`),
            target: pgUrl(pg, "127.0.0.2", `sslmode=verify-ca&sslrootcert=${certs.ca}`),
        });
        expect(run.errors).to.deep.equal([]);
        expect(run.code).to.equal(0);
    });

    it("fails with the wrong CA, naming the table, the step and the CA it checked against", async () => {
        const wrongTarget = await reconcile({
            ...verifyFull(),
            target: pgUrl(pg, "127.0.0.1", `sslmode=verify-full&sslrootcert=${certs.otherCa}`),
        });
        expect(wrongTarget.code).to.equal(2);
        expect(wrongTarget.errors).to.have.length(1);
        expect(wrongTarget.errors[0]).to.include(
            `table app.items: failed while connecting to the target database postgres://127.0.0.1:${pg.port}/tgt: `,
        );
        expect(wrongTarget.errors[0]).to.include(
            `TLS with sslmode=verify-full sslrootcert=${certs.otherCa}: the server's certificate is not signed by the CA in ${certs.otherCa}`,
        );
        expect(wrongTarget.report.tables[0].error).to.deep.include({
            step: `connecting to the target database postgres://127.0.0.1:${pg.port}/tgt`,
        });

        const wrongSource = await reconcile({
            ...verifyFull(),
            source: mariaUrl(maria, "localhost", `ssl-mode=verify-full&ssl-ca=${certs.otherCa}`),
        });
        expect(wrongSource.code).to.equal(2);
        expect(wrongSource.errors[0]).to.include(
            `table app.items: failed while connecting to the source database mysql://localhost:${maria.port}/app: `,
        );
        expect(wrongSource.errors[0]).to.include(`the server's certificate is not signed by the CA in ${certs.otherCa}`);
    });

    it("refuses a server without TLS when the URL demands it, instead of falling back to plaintext", async () => {
        const noTls = await reconcile({
            source: mariaUrl(plainMaria, "localhost", `ssl-mode=verify-full&ssl-ca=${certs.ca}`),
            target: pgUrl(plainPg, "127.0.0.1", `sslmode=verify-full&sslrootcert=${certs.ca}`),
        });
        expect(noTls.code).to.equal(2);
        expect(noTls.errors[0]).to.match(
            /connecting to the source database .*: TLS with ssl-mode=verify-full .*: the server does not offer TLS, and these settings allow no plaintext fallback/,
        );
        for (const [url, mode] of [
            [pgUrl(plainPg, "127.0.0.1", `sslmode=verify-full&sslrootcert=${certs.ca}`), "sslmode=verify-full"],
            [pgUrl(plainPg, "127.0.0.1", "sslmode=require"), "sslmode=require"],
            [mariaUrl(plainMaria, "localhost", "ssl-mode=trust"), "ssl-mode=trust"],
            [mariaUrl(plainMaria, "localhost", "ssl-mode=REQUIRED"), "ssl-mode=REQUIRED"],
        ]) {
            expect(await failureOf(connect(url)), mode)
                .to.include(`TLS with ${mode}`)
                .and.include("allow no plaintext fallback");
        }
        // The fallback modes do connect in plaintext: the refusal above is the mode's, not the server's.
        const preferred = await connect(pgUrl(plainPg, "127.0.0.1", "sslmode=prefer"));
        expect(await preferred.query({ sql: "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()", params: [] })).to.deep.equal([
            ["false"],
        ]);
        await preferred.close();
    });

    it("fails verify-full when the server's certificate names another host, where verify-ca connects", async () => {
        const pgWrongHost = await reconcile({
            ...verifyFull(),
            target: pgUrl(pg, "127.0.0.2", `sslmode=verify-full&sslrootcert=${certs.ca}`),
        });
        expect(pgWrongHost.code).to.equal(2);
        expect(pgWrongHost.errors[0]).to.include(
            `connecting to the target database postgres://127.0.0.2:${pg.port}/tgt: TLS with sslmode=verify-full sslrootcert=${certs.ca}: the server's certificate does not name the host in the URL`,
        );

        // MariaDB presents one certificate, so it is switched to one for another name; mysql2 needs a host name to check.
        const files = maria.tlsFiles!;
        const useCertificate = async (c: { certFile: string; keyFile: string }) => {
            copyFileSync(c.certFile, files.cert);
            copyFileSync(c.keyFile, files.key);
            const admin = await mysql.createConnection({ uri: maria.url });
            await admin.query("FLUSH SSL");
            await admin.end();
        };
        await useCertificate(certs.elsewhere);
        try {
            const mariaWrongHost = await reconcile({
                ...verifyFull(),
                source: mariaUrl(maria, "localhost", `ssl-mode=verify-full&ssl-ca=${certs.ca}`),
            });
            expect(mariaWrongHost.code).to.equal(2);
            expect(mariaWrongHost.errors[0])
                .to.include("connecting to the source database mysql://localhost:")
                .and.include("the server's certificate does not name the host in the URL");
            const chainOnly = await connect(mariaUrl(maria, "localhost", `ssl-mode=verify-ca&ssl-ca=${certs.ca}`));
            await chainOnly.close();
        } finally {
            await useCertificate(certs.server);
        }
        expect(await failureOf(connect(mariaUrl(maria, "127.0.0.1", `ssl-mode=verify-full&ssl-ca=${certs.ca}`)))).to.include(
            "cannot verify a certificate against an IP address (127.0.0.1)",
        );
    });
});
