/**
 * The compared methods. Each runs in its own child process (child.ts) so its peak RSS is its own.
 *  - ours:  the reconciler (scan + drill-down + confirmation with a zero lag window; nothing changes meanwhile).
 *  - floor: each database computes one aggregate of the same row hash over the whole table, both in parallel.
 *  - naive: download every row's compared values from both sides in key order and compare in Node.
 */
import { connect, Db } from "../../reconciler/db";
import { introspect } from "../../reconciler/introspect";
import { planTable } from "../../reconciler/plan";
import { buildSide, totalQuery } from "../../reconciler/queries";
import { DEFAULT_SETTINGS, reconcileTable } from "../../reconciler/reconcile";
import { TABLE } from "./data";

interface MethodResult {
    ms: number;
    /** Differing keys found (floor: 0 or 1, a whole-table verdict). */
    differences: number;
}

const schemaOf = (db: Db, url: string) => (db.engine === "postgres" ? "public" : new URL(url).pathname.slice(1));

async function withDbs<T>(sourceUrl: string, targetUrl: string, f: (s: Db, t: Db) => Promise<T>): Promise<T> {
    const [s, t] = await Promise.all([connect(sourceUrl), connect(targetUrl)]);
    try {
        return await f(s, t);
    } finally {
        await Promise.all([s.close(), t.close()]);
    }
}

export function ours(sourceUrl: string, targetUrl: string): Promise<MethodResult> {
    return withDbs(sourceUrl, targetUrl, async (s, t) => {
        const t0 = Date.now();
        const o = await reconcileTable(
            s,
            t,
            { source: { schema: schemaOf(s, sourceUrl), table: TABLE }, target: { schema: "public", table: TABLE } },
            { ...DEFAULT_SETTINGS, lagWindowSeconds: 0, recheckAttempts: 1 },
        );
        if (o.error) throw new Error(`${o.error.step}: ${o.error.message}`);
        return { ms: Date.now() - t0, differences: o.confirmed.length };
    });
}

async function sides(s: Db, t: Db, sourceUrl: string) {
    const [si, ti] = await Promise.all([
        introspect(s, { schema: schemaOf(s, sourceUrl), table: TABLE }),
        introspect(t, { schema: "public", table: TABLE }),
    ]);
    const plan = planTable(si, ti);
    return {
        plan,
        src: buildSide(s.dialect, si.name, plan.columns, "source", null),
        tgt: buildSide(t.dialect, ti.name, plan.columns, "target", null),
    };
}

export function floor(sourceUrl: string, targetUrl: string): Promise<MethodResult> {
    return withDbs(sourceUrl, targetUrl, async (s, t) => {
        const { src, tgt } = await sides(s, t, sourceUrl);
        const t0 = Date.now();
        const [a, b] = await Promise.all([s.query(totalQuery(s.dialect, src)), t.query(totalQuery(t.dialect, tgt))]);
        return { ms: Date.now() - t0, differences: a[0][0] === b[0][0] && a[0][1] === b[0][1] ? 0 : 1 };
    });
}

/**
 * Key-ordered pages from both sides, compared page by page (memory stays at two pages). The benchmark's text
 * keys are lower-case ASCII, so both engines' native index order is the same byte order.
 */
export function naive(sourceUrl: string, targetUrl: string): Promise<MethodResult> {
    return withDbs(sourceUrl, targetUrl, async (s, t) => {
        const { src, tgt } = await sides(s, t, sourceUrl);
        const page = 50_000;
        const fetch = (db: Db, side: typeof src, after: string | null, upTo: string | null, limit: number | null) => {
            const col = side.keyCols[0];
            const p = db.engine === "postgres" ? (i: number) => `$${i}` : () => "?";
            const conds: string[] = [];
            const params: string[] = [];
            if (after !== null) conds.push(`${col} > ${p(params.push(after))}`);
            if (upTo !== null) conds.push(`${col} <= ${p(params.push(upTo))}`);
            const sql =
                // Aliased: PostgreSQL resolves ORDER BY "id" to an output column named id (here its ::text) first.
                `SELECT ${side.keyCanon[0]} AS __key, ${side.values.map((v, i) => `${v} AS __v${i}`).join(", ")} FROM ${side.table}` +
                (conds.length ? ` WHERE ${conds.join(" AND ")}` : "") +
                ` ORDER BY ${col}` +
                (limit ? ` LIMIT ${limit}` : "");
            return db.query({ sql, params });
        };
        const t0 = Date.now();
        let differences = 0;
        let after: string | null = null;
        for (;;) {
            const a = await fetch(s, src, after, null, page);
            const last = a.length === page ? String(a[a.length - 1][0]) : null;
            const b = await fetch(t, tgt, after, last, null);
            const tm = new Map(b.map((r) => [String(r[0]), r]));
            for (const r of a) {
                const o = tm.get(String(r[0]));
                if (!o || o.some((v, i) => v !== r[i])) differences++;
                tm.delete(String(r[0]));
            }
            differences += tm.size;
            if (last === null) break;
            after = last;
        }
        return { ms: Date.now() - t0, differences };
    });
}
