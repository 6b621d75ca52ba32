/**
 * Writes mock rows and change-stream changes into the source databases: customers and orders go to
 * PostgreSQL, products and inventory transactions to MariaDB, as in seed 004.
 */
import { Client } from "pg";
import * as mysql from "mysql2/promise";
import type { Change, Dataset, Row, TableName } from "./mock-data/change-stream";

const POSTGRES_TABLES: readonly TableName[] = ["customers", "orders"];

/** UTC wall-clock text: both engines store it as given into their zone-less timestamp types. */
const utc = (d: Date) => d.toISOString().replace("T", " ").replace("Z", "");

function pgValue(v: unknown): unknown {
    if (v instanceof Date) return utc(v);
    if (v !== null && typeof v === "object") return JSON.stringify(v);
    return v;
}

function mariaValue(v: unknown): unknown {
    if (v instanceof Date) return utc(v);
    if (typeof v === "boolean") return v ? 1 : 0;
    return v;
}

const BATCH = 500;

async function connectPostgres(url: string): Promise<Client> {
    const pg = new Client({ connectionString: url });
    // A server going away while the connection idles is reported as an event; unheard it would crash Node.
    // The next query fails instead, and `reconnect` replaces the connection.
    pg.on("error", () => undefined);
    await pg.connect();
    return pg;
}

async function connectMariaDb(url: string): Promise<mysql.Connection> {
    const maria = await mysql.createConnection({ uri: url, timezone: "Z" });
    maria.on("error", () => undefined);
    return maria;
}

export class SourceWriters {
    private constructor(
        private readonly urls: { postgres: string; mariaDb: string },
        public pg: Client,
        public maria: mysql.Connection,
    ) {}

    static async connect(postgresUrl: string, mariaDbUrl: string): Promise<SourceWriters> {
        return new SourceWriters(
            { postgres: postgresUrl, mariaDb: mariaDbUrl },
            await connectPostgres(postgresUrl),
            await connectMariaDb(mariaDbUrl),
        );
    }

    /** Replaces the connection to a source server that was restarted. */
    async reconnect(engine: "postgres" | "mariadb"): Promise<void> {
        if (engine === "postgres") {
            await this.pg.end().catch(() => undefined);
            this.pg = await connectPostgres(this.urls.postgres);
        } else {
            this.maria.destroy();
            this.maria = await connectMariaDb(this.urls.mariaDb);
        }
    }

    async load(dataset: Dataset): Promise<void> {
        for (const table of ["customers", "orders", "products", "inventory_transactions"] as const) {
            const rows = dataset[table] as unknown as Row[];
            for (let i = 0; i < rows.length; i += BATCH) await this.insert(table, rows.slice(i, i + BATCH));
        }
    }

    async insert(table: TableName, rows: readonly Row[]): Promise<void> {
        if (rows.length === 0) return;
        const columns = Object.keys(rows[0]);
        if (POSTGRES_TABLES.includes(table)) {
            const params: unknown[] = [];
            const tuples = rows.map((r) => `(${columns.map((c) => `$${params.push(pgValue(r[c]))}`).join(",")})`);
            await this.pg.query(`INSERT INTO ${table} (${columns.join(",")}) VALUES ${tuples.join(",")}`, params);
        } else {
            const tuples = rows.map(() => `(${columns.map(() => "?").join(",")})`);
            const params = rows.flatMap((r) => columns.map((c) => mariaValue(r[c])));
            await this.maria.query(`INSERT INTO ${table} (${columns.join(",")}) VALUES ${tuples.join(",")}`, params);
        }
    }

    /** One change, one autocommitted statement: each is its own source transaction, as in an OLTP app. */
    async apply(change: Change): Promise<void> {
        if (change.op === "insert") return this.insert(change.table, [change.row]);
        const pg = POSTGRES_TABLES.includes(change.table);
        const [keyCol, keyVal] = Object.entries(change.key)[0];
        if (change.op === "delete") {
            if (pg) await this.pg.query(`DELETE FROM ${change.table} WHERE ${keyCol} = $1`, [keyVal]);
            else await this.maria.query(`DELETE FROM ${change.table} WHERE ${keyCol} = ?`, [keyVal]);
            return;
        }
        const cols = Object.keys(change.set);
        if (pg) {
            const params = cols.map((c) => pgValue(change.set[c]));
            const sets = cols.map((c, i) => `${c} = $${i + 1}`).join(", ");
            await this.pg.query(`UPDATE ${change.table} SET ${sets} WHERE ${keyCol} = $${cols.length + 1}`, [...params, keyVal]);
        } else {
            const params = cols.map((c) => mariaValue(change.set[c]));
            await this.maria.query(`UPDATE ${change.table} SET ${cols.map((c) => `${c} = ?`).join(", ")} WHERE ${keyCol} = ?`, [
                ...params,
                keyVal,
            ]);
        }
    }

    async close(): Promise<void> {
        await Promise.allSettled([this.pg.end(), this.maria.end()]);
    }
}
