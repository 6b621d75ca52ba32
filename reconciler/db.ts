/**
 * Database connections: one small interface over pg, mysql2 and mssql that returns every cell as text, so
 * exact values (48-bit sums, decimals, microsecond timestamps) never pass through JavaScript numbers.
 */
import { Client } from "pg";
import * as mysql from "mysql2";
import * as mssqlDriver from "mssql";
import { Dialect, Query } from "./dialects/dialect";
import { postgres } from "./dialects/postgres";
import { mysqlDialect } from "./dialects/mysql";
import { mssql } from "./dialects/mssql";
import { Engine } from "./model";

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

export interface ParsedUrl {
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
  const port = u.port ? Number(u.port) : DEFAULT_PORTS[engine];
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  return {
    engine,
    host: u.hostname,
    port,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database,
    params: u.searchParams,
    label: `${u.protocol}//${u.hostname}:${port}/${database}`,
  };
}

/** A URL with its password replaced, safe for logs and error messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");
}

type Unforked = Omit<Db, "fork">;

async function connectPostgres(p: ParsedUrl, url: string): Promise<Unforked> {
  const client = new Client({
    connectionString: url,
    application_name: "cdc-reconciler",
    types: { getTypeParser: () => (v: string) => v },
  });
  await client.connect();
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
          const rows = (await client.query({ text: `FETCH ${batchSize} FROM reconcile_cursor`, rowMode: "array" })).rows as Cell[][];
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

async function connectMysql(p: ParsedUrl): Promise<Unforked> {
  const raw = mysql.createConnection({
    host: p.host,
    port: p.port,
    user: p.user,
    password: p.password,
    database: p.database || undefined,
    charset: "UTF8MB4_GENERAL_CI",
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    typeCast: (field) => field.string(),
  });
  const conn = raw.promise();
  await conn.connect();
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
            busy = busy.then(() => onRows(rows)).then(
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
    options: {
      encrypt: p.params.get("encrypt") !== "false",
      trustServerCertificate: p.params.get("trustServerCertificate") === "true",
    },
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
  const text = (row: unknown[]) => row.map((v) => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v)));
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
  const db = p.engine === "postgres" ? await connectPostgres(p, url) : p.engine === "mysql" ? await connectMysql(p) : await connectMssql(p);
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
    .stream(q, size, (rows) =>
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
