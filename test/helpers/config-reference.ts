/**
 * Checks README's configuration reference against the config schema (config/schema.ts) and what
 * config/resolve.ts derives, so the documented keys and defaults cannot drift from the code:
 *
 * - every key the schema accepts has a row, and every row names a key the schema accepts;
 * - a key with a schema default shows that default, and no per-environment value (a schema default is
 *   the same in dev and prod);
 * - a required key says "required"; an optional key without a default says it has none ("none",
 *   "absent", …) unless resolve.ts derives a value; a derived value that differs between dev and prod
 *   is described per environment ("profile", or both names), and one that does not is not;
 * - the source table's "Kinds" column lists exactly the source kinds that accept the key.
 *
 * Config tables are README tables whose first header cell is "Key" and which have a "Default" column;
 * keys are relative to the backticked path in the heading above the table (`pipelines[].source`, …).
 */
import { z } from "zod";
import { parseStackSpec } from "../../plan/stack-spec";
import { SECRET_CONFIG_KEYS, stackConfigSchema } from "../../config/schema";
import { rawProjectConfig } from "./stack-files";

interface SchemaKey {
    /** Canonical path: segments joined by ".", array markers dropped (`pipelines.source.tables.name`). */
    path: string;
    required: boolean;
    /** Present when the schema has a default for the whole value (not a `prefault({})` of an object whose fields default). */
    default?: { value: unknown };
    /** An object (or list of objects) whose fields are documented one by one; its own row is optional. */
    group: boolean;
    /** Source kinds that accept the key, for keys under `pipelines.source`. */
    kinds?: string[];
}

type Def = {
    type: string;
    innerType?: z.ZodType;
    defaultValue?: unknown;
    shape?: Record<string, z.ZodType>;
    element?: z.ZodType;
    options?: z.ZodType[];
    /** A literal's values (the discriminator `kind` of each source variant). */
    values?: unknown[];
};
const defOf = (node: z.ZodType): Def => (node as unknown as { _zod: { def: Def } })._zod.def;

function unwrap(node: z.ZodType): { base: z.ZodType; optional: boolean; default?: { value: unknown }; prefault: boolean } {
    let optional = false;
    let prefault = false;
    let found: { value: unknown } | undefined;
    for (;;) {
        const def = defOf(node);
        if (def.type === "optional") optional = true;
        else if (def.type === "default") found ??= { value: def.defaultValue };
        else if (def.type === "prefault") prefault = true;
        else if (def.type !== "nullable" && def.type !== "readonly") return { base: node, optional, default: found, prefault };
        node = def.innerType!;
    }
}

const isObject = (node: z.ZodType): boolean => ["object", "union"].includes(defOf(node).type);

export function schemaKeys(schema: z.ZodType = stackConfigSchema): Map<string, SchemaKey> {
    const keys = new Map<string, SchemaKey>();
    const add = (key: SchemaKey) => {
        const known = keys.get(key.path);
        if (known?.kinds && key.kinds) known.kinds.push(...key.kinds.filter((k) => !known.kinds!.includes(k)));
        else if (!known) keys.set(key.path, key);
    };
    const walkObject = (node: z.ZodType, prefix: string, kinds?: string[]) => {
        const def = defOf(node);
        if (def.type === "union") {
            for (const option of def.options!) {
                const kinds = defOf(defOf(option).shape!.kind).values as string[];
                walkObject(option, prefix, [...kinds]);
            }
            return;
        }
        for (const [name, child] of Object.entries(def.shape!)) walkProperty(child, prefix ? `${prefix}.${name}` : name, kinds);
    };
    const walkProperty = (node: z.ZodType, path: string, kinds?: string[]) => {
        const { base, optional, default: found, prefault } = unwrap(node);
        const element = defOf(base).type === "array" ? unwrap(defOf(base).element!).base : undefined;
        const objectLike = isObject(base) || (element !== undefined && isObject(element));
        // A list of objects is documented field by field even when it defaults to empty (destinations, qualityChecks).
        const group = objectLike && (!found || element !== undefined);
        add({
            path,
            required: !optional && !found && !prefault,
            ...(found ? { default: found } : {}),
            group,
            ...(kinds ? { kinds: [...kinds] } : {}),
        });
        if (group) walkObject(element ?? base, path, path.startsWith("pipelines.source") ? kinds : undefined);
    };
    walkObject(schema, "");
    for (const key of SECRET_CONFIG_KEYS) add({ path: key, required: false, group: false });
    return keys;
}

export interface ReferenceRow {
    line: number;
    key: string;
    /** The default cell, or this key's part of it when one row documents several keys. */
    defaultText: string;
    kinds?: string[];
}

const canonical = (key: string): string => key.replace(/\[\]/g, "");

export function referenceRows(markdown: string): ReferenceRow[] {
    const rows: ReferenceRow[] = [];
    const lines = markdown.split("\n");
    let heading = "";
    for (let i = 0; i < lines.length; i++) {
        if (/^#+ /.test(lines[i])) heading = lines[i];
        const header = cells(lines[i]);
        if (header?.[0] !== "Key" || !header.includes("Default") || !/^\|[-| ]+\|$/.test(lines[i + 1] ?? "")) continue;
        const scope = /`((?:pipelines\[\])(?:\.source|\.sink|\.destinations\[\]|\.lakehouse)?|reconciler|lakehouse)`/.exec(heading)?.[1];
        const prefix = scope ? `${scope}.` : "";
        const defaultColumn = header.indexOf("Default");
        const kindsColumn = header.indexOf("Kinds");
        for (i += 2; i < lines.length && lines[i].startsWith("|"); i++) {
            const row = cells(lines[i])!;
            const keyCell = row[0];
            const separator = keyCell.includes("` / `") ? " / " : keyCell.includes("`, `") ? ", " : undefined;
            const names = [...keyCell.matchAll(/`([^`]+)`/g)].map((m) => m[1]).slice(0, separator ? undefined : 1);
            const first = names[0];
            const keys = names.map((name, n) =>
                n > 0 && !name.includes(".") && first.includes(".") ? `${first.slice(0, first.lastIndexOf(".") + 1)}${name}` : name,
            );
            const parts = separator ? row[defaultColumn].split(separator) : [row[defaultColumn]];
            const kinds = kindsColumn >= 0 ? row[kindsColumn].split(",").map((k) => k.trim()) : undefined;
            keys.forEach((key, n) =>
                rows.push({
                    line: i + 1,
                    key: canonical(`${prefix}${key}`),
                    defaultText: (parts.length === keys.length ? parts[n] : row[defaultColumn]).trim(),
                    ...(kinds ? { kinds } : {}),
                }),
            );
        }
    }
    return rows;
}

function cells(line: string): string[] | undefined {
    if (!line.startsWith("|")) return undefined;
    return line
        .trim()
        .replace(/^\||\|$/g, "")
        .split("|")
        .map((c) => c.trim());
}

/** A default cell claiming a value for one environment: `(prod: …)`, `(dev)`, `(dev stack: …)`. */
const ENVIRONMENT_CLAIM = /\((?:dev|prod)\b[^)]*\)|\(dev stack\b/;
const NO_VALUE = /^(none|required|absent|at least one|operator default|database default|reconciler default)\b/;
const ALL_KINDS = ["sqlserver", "postgres", "mysql", "mariadb"];

/** What resolve.ts makes of an optional key left out, in dev and in prod (the same stack file otherwise). */
type Derivation = { derived: false } | { derived: true; perEnvironment: boolean };

/** The prod stack plus a source of every kind, so every kind's derived values can be observed. */
function experimentBase(): Record<string, any> {
    const raw = structuredClone(rawProjectConfig("prod")) as Record<string, any>;
    const sink = (schema: string) => ({ host: "warehouse.postgres.svc", database: "warehouse", schema });
    raw.pipelines.push(
        {
            name: "crm",
            source: { kind: "postgres", host: "crm-db", database: "crm", tables: [{ name: "public.customers", primaryKey: ["id"] }] },
            sink: sink("crm"),
            // An Iceberg destination, so the catalog's and the namespace's derived values can be observed.
            destinations: [{ name: "customers_state", format: "iceberg", table: "public.customers", writeMode: "upsert" }],
        },
        {
            name: "shop",
            source: { kind: "mysql", host: "shop-db", database: "shop", tables: [{ name: "shop.products", primaryKey: ["id"] }] },
            sink: sink("shop"),
        },
        {
            name: "books",
            source: { kind: "mariadb", host: "books-db", database: "books", tables: [{ name: "books.titles", primaryKey: ["id"] }] },
            sink: sink("books"),
        },
    );
    raw.lakehouse.catalog = { host: "warehouse.postgres.svc" };
    return raw;
}

/** Every value at `path` (canonical), descending into lists. */
function valuesAt(root: unknown, path: string[]): unknown[] {
    if (path.length === 0) return root === undefined ? [] : [root];
    if (Array.isArray(root)) return root.flatMap((item) => valuesAt(item, path));
    if (root === null || typeof root !== "object") return [];
    return valuesAt((root as Record<string, unknown>)[path[0]], path.slice(1));
}

function remove(root: unknown, path: string[]): void {
    if (Array.isArray(root)) return root.forEach((item) => remove(item, path));
    if (root === null || typeof root !== "object") return;
    const record = root as Record<string, unknown>;
    if (path.length === 1) delete record[path[0]];
    else remove(record[path[0]], path.slice(1));
}

function derivation(path: string): Derivation {
    const resolved = (["dev", "prod"] as const).map((environment) => {
        const raw = experimentBase();
        raw.environment = environment;
        remove(raw, path.split("."));
        try {
            return valuesAt(parseStackSpec(raw).spec, path.split("."));
        } catch {
            return []; // A rule requires the key (in this stack): nothing is derived.
        }
    });
    if (resolved.every((values) => values.length === 0)) return { derived: false };
    return { derived: true, perEnvironment: JSON.stringify(resolved[0]) !== JSON.stringify(resolved[1]) };
}

function renderDefault(value: unknown): { startsWith: string[] } | { leaves: string[] } {
    if (typeof value === "string") return { startsWith: [`\`${value}\``] };
    if (typeof value === "number") return { startsWith: [String(value), `\`${value}\``] };
    if (typeof value === "boolean") return { startsWith: [`\`${value}\``] };
    if (Array.isArray(value) && value.length === 0) return { startsWith: ["`[]`"] };
    if (value && typeof value === "object" && Object.keys(value).length === 0) return { startsWith: ["`{}`"] };
    const leaves: string[] = [];
    const collect = (v: unknown): void => {
        if (v && typeof v === "object") Object.values(v).forEach(collect);
        else leaves.push(String(v));
    };
    collect(value);
    return { leaves };
}

export function configReferenceProblems(readme: string, keys = schemaKeys()): string[] {
    const problems: string[] = [];
    const rows = referenceRows(readme);
    const documented = new Map<string, ReferenceRow>();
    for (const row of rows) {
        const at = `README line ${row.line}, \`${row.key}\``;
        if (documented.has(row.key)) problems.push(`${at}: documented twice (also line ${documented.get(row.key)!.line})`);
        documented.set(row.key, row);
        const key = keys.get(row.key);
        if (!key) {
            problems.push(`${at}: not a key config/schema.ts accepts`);
            continue;
        }
        const text = row.defaultText;
        if (key.required) {
            if (!/^(required|at least one)\b/.test(text))
                problems.push(`${at}: the schema requires it; the default column says "${text}" instead of "required"`);
        } else if (key.default) {
            const expected = renderDefault(key.default.value);
            if ("startsWith" in expected) {
                if (!expected.startsWith.some((s) => text.startsWith(s))) {
                    problems.push(`${at}: the schema's default is ${expected.startsWith[0]}; the README says "${text}"`);
                }
            } else {
                let from = 0;
                for (const leaf of expected.leaves) {
                    const found = text.indexOf(leaf, from);
                    if (found < 0) {
                        problems.push(`${at}: the schema's default is ${JSON.stringify(key.default.value)}; the README says "${text}"`);
                        break;
                    }
                    from = found + leaf.length;
                }
            }
            if (ENVIRONMENT_CLAIM.test(text))
                problems.push(`${at}: "${text}" claims a per-environment value, but the schema's default is the same in dev and prod`);
        } else {
            const derived = derivation(row.key);
            if (!derived.derived) {
                if (!NO_VALUE.test(text))
                    problems.push(`${at}: has no default (nothing fills it in when unset); the README says "${text}"`);
                if (ENVIRONMENT_CLAIM.test(text))
                    problems.push(`${at}: "${text}" claims a per-environment value, but unset it has none in either environment`);
            } else if (derived.perEnvironment) {
                if (!/profile|<environment>/.test(text) && !(/\bdev\b/.test(text) && /\bprod\b/.test(text))) {
                    problems.push(`${at}: its default depends on the environment (config/profiles.ts); the README says "${text}"`);
                }
            } else if (ENVIRONMENT_CLAIM.test(text)) {
                problems.push(`${at}: "${text}" claims a per-environment value, but resolve.ts derives the same one in dev and prod`);
            }
        }
        if (row.kinds) {
            const accepted = key.kinds ?? ALL_KINDS;
            const stated = row.kinds.length === 1 && row.kinds[0] === "all" ? ALL_KINDS : row.kinds;
            if ([...stated].sort().join() !== [...accepted].sort().join()) {
                problems.push(
                    `${at}: Kinds says ${row.kinds.join(", ")}; the schema accepts it for ${accepted.length === ALL_KINDS.length ? "all" : accepted.join(", ")}`,
                );
            }
        }
    }
    for (const key of keys.values()) {
        if (!key.group && !documented.has(key.path))
            problems.push(`\`${key.path}\`: accepted by config/schema.ts but missing from README's configuration reference`);
    }
    return problems;
}
