/**
 * Database connections: one small interface over pg, mysql2 and mssql that returns every cell as text, so
 * exact values (48-bit sums, decimals, microsecond timestamps) never pass through JavaScript numbers.
 */
import { readFileSync } from "fs";
import { isIP } from "net";
import { Client, ClientConfig } from "pg";
import * as mysql from "mysql2";
import * as mssqlDriver from "mssql";
import { Dialect, Query } from "./dialects/dialect";
import { postgres } from "./dialects/postgres";
import { mysqlDialect } from "./dialects/mysql";
import { mssql } from "./dialects/mssql";
import { Engine } from "./model";
import { explainTlsFailure, mssqlTls, mysqlTls, postgresTls, TlsAttempt, TlsPlan, withoutTlsParams } from "./tls";

export type Cell = string | null;

export interface Db {
    engine: Engine;
    dialect: Dialect;
    /** `engine://host:port/database`, without credentials. */
    label: string;
    /** Scan chunks follow storage order (PostgreSQL ≥ 14 TID range scans) instead of key order. */
    physicalChunks: boolean;
    query(q: Query): Promise<Cell[][]>;
    /** Streams a large result in batches; the next batch is fetched after `onRows` resolves. */
    stream(q: Query, batchSize: number, onRows: (rows: Cell[][]) => void | Promise<void>): Promise<void>;
    close(): Promise<void>;
    /** Opens another connection to the same database (parallel scan streams). */
    fork(): Promise<Db>;
}

interface ParsedUrl {
    engine: Engine;
    host: string;
    port: number;
    user: string;
    password: string;
    database: string;
    params: URLSearchParams;
    label: string;
}

const SCHEMES: Record<string, Engine> = {
    "postgres:": "postgres",
    "postgresql:": "postgres",
    "mysql:": "mysql",
    "mariadb:": "mysql",
    "mssql:": "mssql",
    "sqlserver:": "mssql",
};
const DEFAULT_PORTS: Record<Engine, number> = { postgres: 5432, mysql: 3306, mssql: 1433 };

export function parseDatabaseUrl(url: string): ParsedUrl {
    let u: URL;
    try {
        u = new URL(url);
    } catch {
        throw new Error(`not a database URL: ${redact(url)}`);
    }
    const engine = SCHEMES[u.protocol];
    if (!engine) throw new Error(`unsupported database URL scheme ${u.protocol} (use postgres://, mysql:// or mssql://)`);
    if (!u.hostname) throw new Error(`the database URL ${redact(url)} names no host; the reconciler connects only where the URL says`);
    // A password's unencoded '/', '?', '#' or '@' moves the rest of it into the path (and the host elsewhere).
    if (/[/@]/.test(u.pathname.slice(1))) {
        throw new Error(`the database URL ${redact(url)} has "/" or "@" after the host; percent-encode them in the password (%2F, %40)`);
    }
    const port = u.port ? Number(u.port) : DEFAULT_PORTS[engine];
    if (port === 0) throw new Error(`the database URL ${redact(url)} has port 0`);
    const decode = (part: string, what: string): string => {
        try {
            return decodeURIComponent(part);
        } catch {
            throw new Error(`the database URL ${redact(url)} has a malformed percent-encoding (%XX) in its ${what}`);
        }
    };
    const database = decode(u.pathname.slice(1), "database name");
    return {
        engine,
        // The drivers take an IPv6 address without the brackets a URL needs.
        host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
        port,
        user: decode(u.username, "user name"),
        password: decode(u.password, "password"),
        database,
        params: u.searchParams,
        label: `${u.protocol}//${u.hostname}:${port}/${database}`,
    };
}

/**
 * A URL with its password replaced, safe for logs and error messages: everything from the first ':' after `//` to the
 * last '@', since a user name or a password written without percent-encoding may itself hold '/', '?', '#' or '@'.
 */
export function redact(url: string): string {
    const start = url.indexOf("//") + 2;
    const at = url.lastIndexOf("@");
    const colon = url.indexOf(":", start);
    if (start < 2 || colon < 0 || colon > at) return url;
    return `${url.slice(0, colon + 1)}***${url.slice(at)}`;
}

type Unforked = Omit<Db, "fork">;

function readCa(file: string): string {
    try {
        return readFileSync(file, "utf8");
    } catch (e) {
        throw new Error(`cannot read the CA certificate file ${file} named in the database URL: ${(e as Error).message}`);
    }
}

/** Connects with the plan's attempts in order; when all fail, the error names each attempt's failure. */
async function firstThatConnects<T>(plan: TlsPlan, open: (attempt: TlsAttempt) => Promise<T>): Promise<T> {
    const failures: Error[] = [];
    for (const attempt of plan.attempts) {
        try {
            return await open(attempt);
        } catch (e) {
            failures.push(explainTlsFailure(e as Error, plan, attempt));
        }
    }
    if (failures.length === 1) throw failures[0];
    throw new Error(failures.map((f, i) => `${plan.attempts[i].tls ? "over TLS" : "in plaintext"}: ${f.message}`).join("; "));
}

function postgresSsl(attempt: TlsAttempt): ClientConfig["ssl"] {
    if (!attempt.tls) return false;
    if (attempt.verify === "none") return { rejectUnauthorized: false };
    return {
        rejectUnauthorized: true,
        ...(attempt.ca !== "system" ? { ca: readCa(attempt.ca!) } : {}),
        // Node checks the host name by default; libpq's verify-ca checks the chain only.
        ...(attempt.verify === "ca" ? { checkServerIdentity: () => undefined } : {}),
    };
}

async function connectPostgres(p: ParsedUrl, url: string): Promise<Unforked> {
    const plan = postgresTls(p.params);
    // pg would apply sslmode and sslrootcert itself, with node-postgres's meanings rather than libpq's.
    const connectionString = withoutTlsParams(url, ["sslmode", "sslrootcert"]);
    const client = await firstThatConnects(plan, async (attempt) => {
        const c = new Client({
            connectionString,
            ssl: postgresSsl(attempt),
            application_name: "cdc-reconciler",
            types: { getTypeParser: () => (v: string) => v },
        });
        try {
            await c.connect();
        } catch (e) {
            await c.end().catch(() => undefined);
            throw e;
        }
        return c;
    });
    const enc = await client.query({ text: "SHOW server_encoding", rowMode: "array" });
    if (enc.rows[0][0] !== "UTF8") {
        await client.end();
        throw new Error(`${p.label}: server_encoding is ${enc.rows[0][0]}; the reconciler hashes UTF-8 text and needs a UTF8 database`);
    }
    for (const s of postgres.session) await client.query(s);
    const version = Number((await client.query({ text: "SHOW server_version_num", rowMode: "array" })).rows[0][0]);
    const query = async (q: Query) => (await client.query({ text: q.sql, values: q.params, rowMode: "array" })).rows as Cell[][];
    return {
        engine: "postgres",
        dialect: postgres,
        label: p.label,
        physicalChunks: version >= 140000,
        query,
        async stream(q, batchSize, onRows) {
            // A cursor inside a short read-only transaction: memory stays bounded whatever the result size.
            await client.query("BEGIN READ ONLY");
            try {
                await client.query({ text: `DECLARE reconcile_cursor NO SCROLL CURSOR FOR ${q.sql}`, values: q.params });
                for (;;) {
                    const rows = (await client.query({ text: `FETCH ${batchSize} FROM reconcile_cursor`, rowMode: "array" }))
                        .rows as Cell[][];
                    if (rows.length === 0) break;
                    await onRows(rows);
                }
                await client.query("COMMIT");
            } catch (e) {
                await client.query("ROLLBACK").catch(() => undefined);
                throw e;
            }
        },
        close: () => client.end(),
    };
}

function mysqlSsl(attempt: TlsAttempt): mysql.SslOptions | undefined {
    if (!attempt.tls) return undefined;
    if (attempt.verify === "none") return { rejectUnauthorized: false };
    return { ca: readCa(attempt.ca!), rejectUnauthorized: true, verifyIdentity: attempt.verify === "full" };
}

async function connectMysql(p: ParsedUrl): Promise<Unforked> {
    const plan = mysqlTls(p.params);
    if (isIP(p.host) && plan.attempts.some((a) => a.tls && a.verify === "full")) {
        // mysql2 checks an IP address host against the name "localhost", so the check would pass for the wrong server.
        throw new Error(
            `TLS with ${plan.described}: the MySQL driver cannot verify a certificate against an IP address (${p.host}); use the host name the certificate names`,
        );
    }
    const { raw, conn } = await firstThatConnects(plan, async (attempt) => {
        const raw = mysql.createConnection({
            host: p.host,
            port: p.port,
            user: p.user,
            password: p.password,
            database: p.database || undefined,
            ssl: mysqlSsl(attempt),
            charset: "UTF8MB4_GENERAL_CI",
            dateStrings: true,
            supportBigNumbers: true,
            bigNumberStrings: true,
            typeCast: (field) => field.string(),
        });
        const conn = raw.promise();
        try {
            await conn.connect();
        } catch (e) {
            // A failed handshake may still report on the socket; nobody listens to this connection any more.
            raw.on("error", () => undefined);
            raw.destroy();
            throw e;
        }
        return { raw, conn };
    });
    const [rows] = await conn.query({ sql: "SELECT VERSION()", rowsAsArray: true });
    const mariadb = /mariadb/i.test(String((rows as unknown[][])[0][0]));
    const dialect = mysqlDialect(mariadb);
    for (const s of dialect.session) await conn.query(s);
    return {
        engine: "mysql",
        dialect,
        label: p.label,
        // InnoDB stores rows in primary-key order: key order is storage order.
        physicalChunks: false,
        async query(q) {
            const [r] = await conn.query({ sql: q.sql, rowsAsArray: true }, q.params);
            return r as Cell[][];
        },
        stream(q, batchSize, onRows) {
            return new Promise<void>((resolve, reject) => {
                const s = raw.query({ sql: q.sql, rowsAsArray: true }, q.params).stream({ highWaterMark: batchSize });
                let batch: Cell[][] = [];
                let busy: Promise<void> = Promise.resolve();
                s.on("data", (row: Cell[]) => {
                    batch.push(row);
                    if (batch.length >= batchSize) {
                        const rows = batch;
                        batch = [];
                        s.pause();
                        busy = busy
                            .then(() => onRows(rows))
                            .then(
                                () => void s.resume(),
                                (e) => void s.destroy(e),
                            );
                    }
                });
                s.on("error", reject);
                s.on("end", () => {
                    busy.then(() => onRows(batch)).then(resolve, reject);
                });
            });
        },
        close: () => conn.end(),
    };
}

async function connectMssql(p: ParsedUrl): Promise<Unforked> {
    const pool = new mssqlDriver.ConnectionPool({
        server: p.host,
        port: p.port,
        user: p.user,
        password: p.password,
        database: p.database,
        options: { ...mssqlTls(p.params) },
    });
    await pool.connect();
    // Session settings are sent with every batch: a pooled request may land on another connection.
    const prefix = mssql.session.join(";\n") + ";\n";
    const request = (q: Query) => {
        const r = pool.request();
        r.arrayRowMode = true;
        q.params.forEach((v, i) => r.input(`p${i + 1}`, mssqlDriver.NVarChar(mssqlDriver.MAX), v === null ? null : String(v)));
        return r;
    };
    const text = (row: unknown[]) =>
        row.map((v) => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v)));
    return {
        engine: "mssql",
        dialect: mssql,
        label: p.label,
        physicalChunks: false,
        async query(q) {
            const res = await request(q).query(prefix + q.sql);
            const sets = res.recordsets as unknown as unknown[][][];
            return (sets[sets.length - 1] ?? []).map(text);
        },
        stream(q, batchSize, onRows) {
            return new Promise<void>((resolve, reject) => {
                const r = request(q);
                r.stream = true;
                let batch: Cell[][] = [];
                let busy: Promise<void> = Promise.resolve();
                r.on("row", (row: unknown[]) => {
                    batch.push(text(row));
                    if (batch.length >= batchSize) {
                        const rows = batch;
                        batch = [];
                        r.pause();
                        busy = busy.then(() => onRows(rows)).then(() => void r.resume(), reject);
                    }
                });
                r.on("error", reject);
                r.on("done", () => {
                    busy.then(() => onRows(batch)).then(resolve, reject);
                });
                r.query(prefix + q.sql);
            });
        },
        close: () => pool.close(),
    };
}

export async function connect(url: string): Promise<Db> {
    const p = parseDatabaseUrl(url);
    const db =
        p.engine === "postgres" ? await connectPostgres(p, url) : p.engine === "mysql" ? await connectMysql(p) : await connectMssql(p);
    return { ...db, fork: () => connect(url) };
}

/** Raised into a stream whose reader stopped early, so the driver ends the query instead of reading on. */
class ReaderStopped extends Error {}

/**
 * Pull-style reading of `db.stream`: one batch is handed over at a time and the driver waits until the reader asks
 * for the next, so two streams can be merged with bounded memory. Stopping early ends the query.
 */
export async function* batches(db: Db, q: Query, size: number): AsyncGenerator<Cell[][]> {
    type Slot = { rows: Cell[][]; taken: () => void; stop: (e: Error) => void };
    let slot = null as Slot | null;
    let finished = false;
    let failure: unknown = null;
    let wake: (() => void) | null = null;
    const signal = () => {
        const w = wake;
        wake = null;
        w?.();
    };
    const running = db
        .stream(
            q,
            size,
            (rows) =>
                new Promise<void>((taken, stop) => {
                    slot = { rows, taken, stop };
                    signal();
                }),
        )
        .then(
            () => void (finished = true),
            (e) => void ((finished = true), (failure = e)),
        )
        .finally(signal);
    let current = null as Slot | null;
    try {
        for (;;) {
            if (slot) {
                current = slot;
                slot = null;
                yield current.rows;
                current.taken();
                current = null;
                continue;
            }
            if (finished) break;
            await new Promise<void>((r) => (wake = r));
        }
        await running;
        if (failure && !(failure instanceof ReaderStopped)) throw failure;
    } finally {
        if (!finished) {
            const pending = current ?? slot;
            pending?.stop(new ReaderStopped("reader stopped"));
            await running;
        }
    }
}
