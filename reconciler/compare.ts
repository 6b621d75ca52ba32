/**
 * The verdict on a suspect row: a typed, per-column comparison of the values both sides returned. The in-DB hash
 * is only a filter; a row whose hash differs but whose values are equal here is a normalization artifact, never a
 * reported discrepancy.
 */
import { ColumnPlan } from "./model";

interface RowVerdict {
    /** Columns whose values differ, by source column name. */
    differing: string[];
}

/** JSON with object keys sorted and numbers in one spelling, so `{"b":1.0,"a":1}` equals `{"a":1,"b":1}`. */
export function canonicalJson(text: string): string | null {
    let v: unknown;
    try {
        v = JSON.parse(text);
    } catch {
        return null;
    }
    const walk = (x: unknown): unknown => {
        if (Array.isArray(x)) return x.map(walk);
        if (x && typeof x === "object") {
            return Object.fromEntries(
                Object.keys(x as object)
                    .sort()
                    .map((k) => [k, walk((x as Record<string, unknown>)[k])]),
            );
        }
        return x;
    };
    return JSON.stringify(walk(v));
}

export function floatsEqual(a: string, b: string, digits: number): boolean {
    const x = Number(a);
    const y = Number(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return a === b;
    if (x === y) return true;
    return Math.abs(x - y) <= Math.max(Math.abs(x), Math.abs(y)) * 10 ** -(digits - 1) * 0.5;
}

function valuesEqual(col: ColumnPlan, a: string | null, b: string | null): boolean {
    if (a === null || b === null) return a === b;
    if (a === b) return true;
    if (col.canonical.kind === "float") return floatsEqual(a, b, col.canonical.digits);
    if (col.canonical.kind === "json") {
        const ca = canonicalJson(a);
        return ca !== null && ca === canonicalJson(b);
    }
    return false;
}

export function compareRow(columns: ColumnPlan[], source: (string | null)[], target: (string | null)[]): RowVerdict {
    const differing = columns.filter((c, i) => !valuesEqual(c, source[i], target[i])).map((c) => c.source.name);
    return { differing };
}
