/**
 * Test tables with every type the normalization rules cover, and a row generator whose edge values are the
 * classic false-positive sources: decimal scale, float formatting, sub-second precision, time zones, booleans as
 * integers, NULL vs '', Unicode outside the BMP, trailing spaces, JSON spelling.
 */
import { Client } from "pg";
import * as mysql from "mysql2/promise";

export const PG_ITEMS_SOURCE = `CREATE TABLE public.items (
  id bigint PRIMARY KEY, qty integer, price numeric(12,2), ratio double precision, score real, active boolean,
  name text, code char(8), note varchar(100), uid uuid, born date, at_time time(3), created timestamp(6),
  updated timestamptz(3), payload jsonb, bin bytea)`;

/** The replica with wider decimal scale and coarser timestamps than the source: compared at the common precision. */
export const PG_ITEMS_TARGET = `CREATE TABLE public.items (
  id bigint PRIMARY KEY, qty integer, price numeric(14,4), ratio double precision, score real, active boolean,
  name text, code char(8), note text, uid uuid, born date, at_time time(3), created timestamp(3),
  updated timestamptz(3), payload jsonb, bin bytea, __deleted text)`;

/** MariaDB source; the PostgreSQL target mirrors what Debezium + the JDBC sink create (tinyint(1) → smallint). */
export const MARIA_ITEMS_SOURCE = `CREATE TABLE items (
  id BIGINT PRIMARY KEY, qty INT, price DECIMAL(12,2), ratio DOUBLE, score FLOAT, active TINYINT(1), flag BIT(1),
  name VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci, code CHAR(8), note TEXT, uid UUID, born DATE,
  at_time TIME(3), created DATETIME(6), updated TIMESTAMP(3) NULL, payload JSON, bin VARBINARY(64),
  latin VARCHAR(50) CHARACTER SET latin1) DEFAULT CHARSET=utf8mb4`;

export const PG_FROM_MARIA_TARGET = `CREATE TABLE public.items (
  id bigint PRIMARY KEY, qty integer, price numeric(12,2), ratio double precision, score real, active smallint,
  flag boolean, name text, code text, note text, uid uuid, born date, at_time time(3), created timestamp(6),
  updated timestamptz(3), payload jsonb, bin bytea, latin text)`;

export interface ItemRow {
    id: number;
    qty: number | null;
    price: string | null;
    ratio: number | null;
    score: number | null;
    active: boolean | null;
    name: string | null;
    code: string | null;
    note: string | null;
    uid: string | null;
    born: string | null;
    at_time: string | null;
    created: string | null;
    updated: string | null;
    payload: string | null;
    bin: Buffer | null;
    latin: string | null;
}

const NAMES = ["plain", "", "Ünïcödé ✓", "emoji 🙂🚀", "tab\tand\nnewline", "quote ' and \\ backslash", "日本語テキスト", "trailing  "];
const FLOATS = [0.1, 1e-30, 1e30, -0.0, 123456.789, 2 / 3, -42, 1.7976931348623157e308, 5e-324];
const PAYLOADS = ['{"b": 2, "a": [1, 2.5]}', '{"nested": {"z": null, "y": "ü"}, "n": 10}', "[]", '"just a string"'];

/** Deterministic rows; every 7th row has NULLs where others have values (and '' stays '' — NULL ≠ ''). */
export function itemRows(n: number, start = 1): ItemRow[] {
    const rows: ItemRow[] = [];
    for (let i = start; i < start + n; i++) {
        const nulls = i % 7 === 0;
        const month = String((i % 12) + 1).padStart(2, "0");
        const day = String((i % 28) + 1).padStart(2, "0");
        const micros = String((i * 7919) % 1_000_000).padStart(6, "0");
        rows.push({
            id: i,
            qty: nulls ? null : ((i * 37) % 1000) - 500,
            price: nulls ? null : `${(i * 13) % 100000}.${String(i % 100).padStart(2, "0")}`,
            ratio: nulls ? null : FLOATS[i % FLOATS.length],
            score: nulls ? null : [0.1, 3.25, -1.5e-7, 65504][i % 4],
            active: nulls ? null : i % 2 === 0,
            name: nulls ? null : `${NAMES[i % NAMES.length]}${i}`,
            code: nulls ? "" : `c${i % 1000}`,
            note: i % 5 === 0 ? "" : nulls ? null : `note ${i}`,
            uid: nulls
                ? null
                : `${((i * 2654435761) % 0xffffffff).toString(16).padStart(8, "0")}-0000-4000-8000-${String(i).padStart(12, "0")}`,
            born: nulls ? null : `19${String(i % 100).padStart(2, "0")}-${month}-${day}`,
            at_time: nulls ? null : `${String(i % 24).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}:07.${micros.slice(0, 3)}`,
            created: nulls ? null : `2024-${month}-${day} 10:11:12.${micros}`,
            updated: nulls ? null : `2023-${month}-${day} 23:59:59.${micros.slice(0, 3)}`,
            payload: nulls ? null : PAYLOADS[i % PAYLOADS.length],
            bin: nulls ? null : Buffer.from([i % 256, 0, 255, (i * 3) % 256]),
            latin: nulls ? null : `café ${i}`,
        });
    }
    return rows;
}

/** The JSON text MariaDB keeps verbatim, re-spelled (key order, spacing): equal after parsing. */
export const respellJson = (p: string | null) =>
    p === null
        ? null
        : JSON.stringify(
              JSON.parse(p),
              Object.keys(JSON.parse(p) ?? {})
                  .sort()
                  .reverse(),
          );

const PG_COLS = [
    "id",
    "qty",
    "price",
    "ratio",
    "score",
    "active",
    "name",
    "code",
    "note",
    "uid",
    "born",
    "at_time",
    "created",
    "updated",
    "payload",
    "bin",
] as const;

export async function insertPgItems(c: Client, rows: ItemRow[], opts: { fromMaria?: boolean } = {}): Promise<void> {
    const cols = opts.fromMaria ? [...PG_COLS, "flag", "latin"] : [...PG_COLS];
    for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        const params: unknown[] = [];
        const tuples = chunk.map((r) => {
            const vals: unknown[] = cols.map((col) => {
                if (col === "flag") return r.active === null ? null : !r.active;
                if (col === "active" && opts.fromMaria) return r.active === null ? null : r.active ? 1 : 0;
                if (col === "updated") return r.updated === null ? null : `${r.updated}+00`;
                return (r as unknown as Record<string, unknown>)[col];
            });
            return `(${vals.map((v) => (params.push(v), `$${params.length}`)).join(", ")})`;
        });
        await c.query(`INSERT INTO public.items (${cols.join(", ")}) VALUES ${tuples.join(", ")}`, params);
    }
}

export async function insertMariaItems(c: mysql.Connection, rows: ItemRow[]): Promise<void> {
    const cols = [
        "id",
        "qty",
        "price",
        "ratio",
        "score",
        "active",
        "flag",
        "name",
        "code",
        "note",
        "uid",
        "born",
        "at_time",
        "created",
        "updated",
        "payload",
        "bin",
        "latin",
    ];
    for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        const values = chunk.map((r) => [
            r.id,
            r.qty,
            r.price,
            r.ratio,
            r.score,
            r.active === null ? null : r.active ? 1 : 0,
            r.active === null ? null : r.active ? 0 : 1,
            r.name,
            r.code,
            r.note,
            r.uid,
            r.born,
            r.at_time,
            r.created,
            r.updated,
            respellJson(r.payload),
            r.bin,
            r.latin,
        ]);
        await c.query(`INSERT INTO items (${cols.join(", ")}) VALUES ?`, [values]);
    }
}
