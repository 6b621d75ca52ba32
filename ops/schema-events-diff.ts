/**
 * The column changes between two schemas of one table. Pure.
 *
 * A rename reaches the change events as one column gone and one new: the value schema carries names, not column
 * identities. PostgreSQL, MySQL/MariaDB and SQL Server keep a renamed column in its place, while an added column
 * goes last (MySQL's `ADD ... AFTER` aside), so a dropped and an added column with the same definition in the same
 * place (between the same surviving neighbours) are reported as one RENAME_COLUMN (plus a MODIFY_COLUMN when its
 * nullability or default changed too: the Debezium PostgreSQL connector reads those from the catalog when it
 * processes the change, so a later ALTER can show up in the same event). Anything less certain stays a
 * DROP_COLUMN and an ADD_COLUMN. Known miss: dropping the last column and adding one of the same definition in one
 * step (with no change event between) reads as a rename.
 */
import type { ChangeType, ColumnSchema, TableColumns } from "./schema-events-model";

export interface ColumnChange {
    change_type: ChangeType;
    /** The column before (absent for ADD_COLUMN). */
    before?: ColumnSchema;
    /** The column after (absent for DROP_COLUMN). */
    after?: ColumnSchema;
}

const TYPE_KEYS = ["connectType", "logicalType", "sourceType", "length", "scale"] as const;
const DEFINITION_KEYS = [...TYPE_KEYS, "optional", "defaultValue"] as const;

export const sameType = (a: ColumnSchema, b: ColumnSchema) => TYPE_KEYS.every((k) => a[k] === b[k]);
export const sameDefinition = (a: ColumnSchema, b: ColumnSchema) => DEFINITION_KEYS.every((k) => a[k] === b[k]);

/** The nearest column before `index` that the other schema also has, or "" at the start. */
function slot(columns: TableColumns, index: number, survivors: ReadonlySet<string>): string {
    for (let i = index - 1; i >= 0; i--) if (survivors.has(columns[i].name)) return columns[i].name;
    return "";
}

export function diffColumns(before: TableColumns, after: TableColumns): ColumnChange[] {
    const afterNames = new Set(after.map((c) => c.name));
    const beforeNames = new Set(before.map((c) => c.name));
    const survivors = new Set([...beforeNames].filter((n) => afterNames.has(n)));
    const dropped = before.map((c, i) => ({ c, slot: slot(before, i, survivors) })).filter((d) => !afterNames.has(d.c.name));
    const added = after.map((c, i) => ({ c, slot: slot(after, i, survivors) })).filter((a) => !beforeNames.has(a.c.name));

    const renamed = new Map<string, ColumnSchema>();
    for (const d of dropped) {
        const candidates = added.filter((a) => a.slot === d.slot && sameType(a.c, d.c));
        const rivals = dropped.filter((o) => o.slot === d.slot && sameType(o.c, d.c));
        if (candidates.length === 1 && rivals.length === 1) renamed.set(d.c.name, candidates[0].c);
    }
    const renamedTo = new Set([...renamed.values()].map((c) => c.name));

    const changes: ColumnChange[] = [];
    for (const d of dropped) {
        const to = renamed.get(d.c.name);
        if (!to) changes.push({ change_type: "DROP_COLUMN", before: d.c });
        else {
            changes.push({ change_type: "RENAME_COLUMN", before: d.c, after: to });
            if (!sameDefinition(d.c, to)) changes.push({ change_type: "MODIFY_COLUMN", before: { ...d.c, name: to.name }, after: to });
        }
    }
    for (const c of after) {
        if (!beforeNames.has(c.name)) {
            if (!renamedTo.has(c.name)) changes.push({ change_type: "ADD_COLUMN", after: c });
            continue;
        }
        const old = before.find((b) => b.name === c.name)!;
        if (!sameDefinition(old, c)) changes.push({ change_type: "MODIFY_COLUMN", before: old, after: c });
    }
    return changes;
}
