/**
 * Row-by-row comparison of a source table with its target copy. Values are compared in a canonical
 * text form, because the same value arrives typed differently on each side (MariaDB DECIMAL as text,
 * TINYINT(1) as 0/1, JSONB as an object in PostgreSQL and as JSON text after the sink).
 */
import { Client } from "pg";
import * as mysql from "mysql2/promise";
import type { TablePair } from "./table-pairs";

export type Canonical = string | null;

export function canonical(v: unknown): Canonical {
    if (v === null || v === undefined) return null;
    if (v instanceof Date) return v.toISOString();
    if (typeof v === "boolean") return v ? "1" : "0";
    if (typeof v === "number" || typeof v === "bigint") return String(Number(v));
    if (typeof v === "object") return canonicalJson(v);
    const s = String(v);
    if (/^-?\d+(\.\d+)?$/.test(s)) return String(Number(s));
    if (/^[[{]/.test(s)) {
        try {
            return canonicalJson(JSON.parse(s));
        } catch {
            return s;
        }
    }
    return s;
}

function canonicalJson(v: unknown): string {
    if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
    if (v && typeof v === "object") {
        const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
        return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(",")}}`;
    }
    return JSON.stringify(v);
}

export type Rows = Map<string, Record<string, Canonical>>;

export interface TableDiff {
    table: string;
    sourceRows: number;
    targetRows: number;
    missing: string[];
    extra: string[];
    different: { key: string; column: string; source: Canonical; target: Canonical }[];
}

/** Compares the columns the source has (the target may hold extra ones, e.g. from schema evolution). */
export function diffRows(table: string, source: Rows, target: Rows): TableDiff {
    const diff: TableDiff = { table, sourceRows: source.size, targetRows: target.size, missing: [], extra: [], different: [] };
    for (const [key, row] of source) {
        const t = target.get(key);
        if (!t) {
            diff.missing.push(key);
            continue;
        }
        for (const [column, value] of Object.entries(row)) {
            if (t[column] !== value) diff.different.push({ key, column, source: value, target: t[column] ?? null });
        }
    }
    for (const key of target.keys()) if (!source.has(key)) diff.extra.push(key);
    return diff;
}

export const inSync = (d: TableDiff): boolean => d.missing.length === 0 && d.extra.length === 0 && d.different.length === 0;

export function describeDiff(d: TableDiff, limit = 5): string {
    if (inSync(d)) return `${d.table}: ${d.sourceRows} rows, in sync`;
    const parts = [
        `${d.table}: source ${d.sourceRows} rows, target ${d.targetRows}`,
        d.missing.length ? `missing in target: ${d.missing.length} (${d.missing.slice(0, limit).join(", ")})` : "",
        d.extra.length ? `only in target: ${d.extra.length} (${d.extra.slice(0, limit).join(", ")})` : "",
        ...d.different.slice(0, limit).map((x) => `key ${x.key} ${x.column}: source ${x.source} target ${x.target}`),
    ];
    return parts.filter(Boolean).join("; ");
}

function keyed(rows: Record<string, unknown>[], primaryKey: string[]): Rows {
    const out: Rows = new Map();
    for (const r of rows) {
        const row: Record<string, Canonical> = {};
        for (const [k, v] of Object.entries(r)) row[k] = canonical(v);
        out.set(primaryKey.map((k) => row[k]).join("|"), row);
    }
    return out;
}

export async function readPostgres(url: string, table: string, primaryKey: string[]): Promise<Rows> {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
        return keyed((await c.query(`SELECT * FROM ${table}`)).rows, primaryKey);
    } finally {
        await c.end();
    }
}

export async function readMariaDb(url: string, table: string, primaryKey: string[]): Promise<Rows> {
    const c = await mysql.createConnection({ uri: url, timezone: "Z", dateStrings: false });
    try {
        const [rows] = await c.query(`SELECT * FROM ${table}`);
        return keyed(rows as Record<string, unknown>[], primaryKey);
    } finally {
        await c.end();
    }
}

export interface Endpoints {
    postgresSourceUrl: string;
    mariaDbSourceUrl: string;
    targetUrl: string;
}

export async function diffPair(e: Endpoints, pair: TablePair): Promise<TableDiff> {
    const source =
        pair.engine === "postgres"
            ? await readPostgres(e.postgresSourceUrl, pair.source, pair.primaryKey)
            : await readMariaDb(e.mariaDbSourceUrl, pair.source, pair.primaryKey);
    const target = await readPostgres(e.targetUrl, pair.target, pair.primaryKey).catch(() => new Map() as Rows);
    return diffRows(pair.target, source, target);
}

/** Polls until every pair is in sync; on timeout returns the last diffs so the caller can say what differs. */
export async function waitForSync(
    e: Endpoints,
    pairs: readonly TablePair[],
    timeoutMs: number,
    pollMs = 1000,
): Promise<{ synced: boolean; diffs: TableDiff[] }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const diffs = await Promise.all(pairs.map((p) => diffPair(e, p)));
        if (diffs.every(inSync)) return { synced: true, diffs };
        if (Date.now() > deadline) return { synced: false, diffs };
        await new Promise((r) => setTimeout(r, pollMs));
    }
}
