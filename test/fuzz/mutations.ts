/**
 * Arbitraries for fuzzing parsers of JSON-shaped input: values a config file or a command line can hold (and some
 * it should not), and structured mutations of a known-good document. A mutation picks its target by a fraction of
 * the paths present when it is applied, so a sequence of them shrinks like any other fast-check value.
 */
import fc from "fast-check";

/** `FUZZ_SEED` reruns another seed and `FUZZ_RUNS` scales the run counts; both fixed by default so CI is repeatable. */
export const FUZZ_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20260613;
const SCALE = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : 1;

const settings = (numRuns: number) => ({ seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(numRuns * SCALE)) });
const rerunHint = (e: unknown): never => {
    (e as Error).message += `\n(rerun with FUZZ_SEED=${FUZZ_SEED}; the counterexample above is the shrunk input)`;
    throw e;
};

/** fast-check's failure message names the seed and the counterexample's path; this adds how to rerun it. */
export function fuzz<T>(property: fc.IProperty<T>, numRuns: number): void {
    try {
        fc.assert(property, settings(numRuns));
    } catch (e) {
        rerunHint(e);
    }
}

export async function fuzzAsync<T>(property: fc.IAsyncProperty<T>, numRuns: number): Promise<void> {
    await fc.assert(property, settings(numRuns)).catch(rerunHint);
}

export const EDGE_STRINGS = [
    "",
    " ",
    "\t",
    "\n",
    "\u0000",
    "é",
    "e\u0301",
    "😀",
    "\u202e",
    "\ud800",
    "a".repeat(64),
    "a".repeat(300),
    "${source.table}",
    "${env:HOME}",
    "#",
    "*",
    "+",
    "/",
    "..",
    "a.b",
    "a.b.c",
    "a=b",
    "-",
    "--x",
    "null",
    "undefined",
    "NaN",
    "-1",
    "1e309",
    "0x10",
    "true",
    "%",
    "%zz",
    "http://",
    "https://x/#frag",
    "__proto__",
    "constructor",
    "toString",
] as const;

export const EDGE_NUMBERS = [
    0,
    -0,
    -1,
    1,
    0.5,
    1.5,
    2,
    3,
    59,
    60,
    63,
    64,
    65535,
    65536,
    86400,
    86401,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 53,
    2 ** 53 + 2,
    1e21,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    Infinity,
    -Infinity,
    NaN,
] as const;

export const PROTOTYPE_KEYS = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype"] as const;

export const edgeString = (): fc.Arbitrary<string> =>
    fc.oneof(
        fc.constantFrom(...EDGE_STRINGS),
        fc.string({ unit: "grapheme", maxLength: 12 }),
        fc.string({ unit: "binary", maxLength: 12 }),
    );

export const edgeNumber = (): fc.Arbitrary<number> => fc.oneof(fc.constantFrom(...EDGE_NUMBERS), fc.integer(), fc.double());

/** Any value a parsed YAML or JSON file can hold, weighted towards the edges. */
export const anyValue = (): fc.Arbitrary<unknown> =>
    fc.oneof(
        edgeString(),
        edgeNumber(),
        fc.boolean(),
        fc.constant(null),
        fc.constant(undefined),
        fc.array(edgeString(), { maxLength: 3 }),
        fc.jsonValue({ maxDepth: 2 }),
        fc.dictionary(fc.oneof(edgeString(), fc.constantFrom(...PROTOTYPE_KEYS)), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
    );

export type Path = (string | number)[];

/** Every path to a value inside `doc`, the root included, parents before children. */
export function pathsOf(doc: unknown, at: Path = []): Path[] {
    const out: Path[] = [at];
    if (Array.isArray(doc)) doc.forEach((v, i) => out.push(...pathsOf(v, [...at, i])));
    else if (doc !== null && typeof doc === "object") for (const [k, v] of Object.entries(doc)) out.push(...pathsOf(v, [...at, k]));
    return out;
}

export function getAt(doc: unknown, path: Path): unknown {
    return path.reduce<any>((node, key) => (node === null || typeof node !== "object" ? undefined : node[key]), doc);
}

/** Sets an own property even for `__proto__`, the way JSON.parse does. */
function setOwn(container: any, key: string | number, value: unknown): void {
    Object.defineProperty(container, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A copy of `doc` with the value at `path` replaced (`path` [] replaces the document). */
export function setAt(doc: unknown, path: Path, value: unknown): unknown {
    if (path.length === 0) return value;
    const copy = structuredClone(doc) as any;
    setOwn(getAt(copy, path.slice(0, -1)), path[path.length - 1], value);
    return copy;
}

export type Mutation =
    | { op: "delete"; at: number }
    | { op: "replace"; at: number; value: unknown }
    | { op: "plausible"; at: number; choice: number }
    | { op: "rename"; at: number; key: string }
    | { op: "insert"; at: number; key: string; value: unknown; choice: number }
    | { op: "copy"; at: number; from: number }
    | { op: "duplicate"; at: number }
    | { op: "number"; at: number; value: number }
    | { op: "string"; at: number; value: string }
    | { op: "confusable"; at: number; from: number; how: Confusion };

/** Spellings that name the same thing to someone (or to a normalising function) but differ as strings. */
const CONFUSIONS = {
    same: (s: string) => s,
    lower: (s: string) => s.toLowerCase(),
    upper: (s: string) => s.toUpperCase(),
    dashes: (s: string) => s.replace(/[_. ]/g, "-"),
    underscores: (s: string) => s.replace(/-/g, "_"),
} as const;
type Confusion = keyof typeof CONFUSIONS;

/**
 * Uniform in [0, 1): fc.double spreads over the bit patterns (so nearly always ~0) and fast-check biases integers
 * towards their bounds, either of which would pick the first few paths of every document.
 */
const fraction = fc.noBias(fc.integer({ min: 0, max: 2 ** 30 - 1 })).map((n) => n / 2 ** 30);

/**
 * Mutations whose keys and values come from `keys` and `plausible` (per key name) half of the time, so a fair share
 * of the mutated documents is still accepted and reaches the code behind the parser.
 */
export function mutation(keys: readonly string[], plausible: Readonly<Record<string, readonly unknown[]>>): fc.Arbitrary<Mutation> {
    const key = fc.oneof(
        fc.constantFrom(...keys),
        fc.constantFrom(...keys).map((k) => k.slice(0, -1)),
        edgeString(),
        fc.constantFrom(...PROTOTYPE_KEYS),
    );
    const value = fc.oneof(anyValue(), fc.constantFrom(...Object.values(plausible).flat()));
    return fc.oneof(
        fc.record({ op: fc.constant("delete" as const), at: fraction }),
        fc.record({ op: fc.constant("replace" as const), at: fraction, value }),
        { arbitrary: fc.record({ op: fc.constant("plausible" as const), at: fraction, choice: fraction }), weight: 8 },
        fc.record({ op: fc.constant("rename" as const), at: fraction, key }),
        { arbitrary: fc.record({ op: fc.constant("insert" as const), at: fraction, key, value, choice: fraction }), weight: 3 },
        fc.record({ op: fc.constant("copy" as const), at: fraction, from: fraction }),
        fc.record({ op: fc.constant("duplicate" as const), at: fraction }),
        fc.record({ op: fc.constant("number" as const), at: fraction, value: edgeNumber() }),
        fc.record({ op: fc.constant("string" as const), at: fraction, value: edgeString() }),
        {
            arbitrary: fc.record({
                op: fc.constant("confusable" as const),
                at: fraction,
                from: fraction,
                how: fc.constantFrom(...(Object.keys(CONFUSIONS) as Confusion[])),
            }),
            weight: 3,
        },
    );
}

const pick = <T>(items: readonly T[], at: number): T | undefined => (items.length === 0 ? undefined : items[Math.floor(at * items.length)]);
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const show = (path: Path): string => path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("") || "(document)";
const describe = (value: unknown): string =>
    value === undefined ? "undefined" : Number.isNaN(value) ? "NaN" : (JSON.stringify(value) ?? String(value));
/** `pipelines[*].source.tables[*].name`: paths that differ only in list positions hold the same kind of value. */
const shape = (path: Path): string => path.map((p) => (typeof p === "number" ? "*" : p)).join(".");

/** Every string equal to `from`, or qualified by it (`from.x`), rewritten to `to`: references follow a rename. */
function rewrite(doc: unknown, from: string, to: string): unknown {
    if (typeof doc === "string") return doc === from ? to : doc.startsWith(`${from}.`) ? `${to}${doc.slice(from.length)}` : doc;
    if (Array.isArray(doc)) return doc.map((v) => rewrite(v, from, to));
    if (isObject(doc)) {
        const out = {};
        for (const [k, v] of Object.entries(doc)) setOwn(out, k, rewrite(v, from, to));
        return out;
    }
    return doc;
}

export interface Applied {
    doc: unknown;
    /** What the mutation did, for the counterexample; undefined when it found nothing to act on. */
    change?: string;
}

/** Applies one mutation; one that finds nothing to act on leaves the document as it was. */
export function applyMutation(doc: unknown, m: Mutation, plausible: Readonly<Record<string, readonly unknown[]>>): Applied {
    const paths = pathsOf(doc);
    const inner = paths.filter((p) => p.length > 0);
    const set = (path: Path | undefined, value: unknown): Applied =>
        path ? { doc: setAt(doc, path, structuredClone(value)), change: `${show(path)} = ${describe(value)}` } : { doc };
    switch (m.op) {
        case "delete": {
            const path = pick(inner, m.at);
            if (!path) return { doc };
            const copy = structuredClone(doc);
            const parent = getAt(copy, path.slice(0, -1)) as any;
            if (Array.isArray(parent)) parent.splice(path[path.length - 1] as number, 1);
            else delete parent[path[path.length - 1]];
            return { doc: copy, change: `delete ${show(path)}` };
        }
        case "replace":
            return set(pick(paths, m.at), m.value);
        case "plausible": {
            const path = pick(
                inner.filter((p) => typeof p[p.length - 1] === "string" && Object.hasOwn(plausible, p[p.length - 1])),
                m.at,
            );
            return path ? set(path, pick(plausible[path[path.length - 1] as string], m.choice)) : { doc };
        }
        case "rename": {
            const path = pick(
                inner.filter((p) => typeof p[p.length - 1] === "string"),
                m.at,
            );
            if (!path) return { doc };
            const copy = structuredClone(doc);
            const parent = getAt(copy, path.slice(0, -1)) as Record<string, unknown>;
            const value = parent[path[path.length - 1] as string];
            delete parent[path[path.length - 1] as string];
            setOwn(parent, m.key, value);
            return { doc: copy, change: `rename ${show(path)} to ${JSON.stringify(m.key)}` };
        }
        case "insert": {
            const path = pick(
                paths.filter((p) => isObject(getAt(doc, p))),
                m.at,
            );
            if (!path) return { doc };
            return set([...path, m.key], Object.hasOwn(plausible, m.key) ? pick(plausible[m.key], m.choice) : m.value);
        }
        case "copy": {
            const from = pick(inner, m.from);
            return from ? set(pick(inner, m.at), getAt(doc, from)) : { doc };
        }
        case "duplicate": {
            const path = pick(
                inner.filter((p) => typeof p[p.length - 1] === "number"),
                m.at,
            );
            if (!path) return { doc };
            const copy = structuredClone(doc);
            const list = getAt(copy, path.slice(0, -1)) as unknown[];
            list.push(structuredClone(list[path[path.length - 1] as number]));
            return { doc: copy, change: `append a copy of ${show(path)}` };
        }
        case "number":
            return set(
                pick(
                    inner.filter((p) => typeof getAt(doc, p) === "number"),
                    m.at,
                ),
                m.value,
            );
        case "string":
            return set(
                pick(
                    inner.filter((p) => typeof getAt(doc, p) === "string"),
                    m.at,
                ),
                m.value,
            );
        case "confusable": {
            // Two values of the same kind (two pipelines' names, two databases of a list, ...) made to look alike.
            const strings = inner.filter((p) => typeof getAt(doc, p) === "string");
            const target = pick(strings, m.at);
            if (!target) return { doc };
            const peers = strings.filter((p) => shape(p) === shape(target) && show(p) !== show(target));
            const from = pick(peers, m.from);
            if (!from) return { doc };
            const old = getAt(doc, target) as string;
            const value = CONFUSIONS[m.how](getAt(doc, from) as string);
            if (value === old) return { doc };
            return {
                doc: rewrite(doc, old, value),
                change: `${show(target)} (and every reference to ${JSON.stringify(old)}) = ${JSON.stringify(value)}, ${m.how} of ${show(from)}`,
            };
        }
    }
}

/** A mutated document, with the seed it came from and what was done to it (fast-check prints all three). */
export interface Mutated {
    seed: string;
    changes: string[];
    doc: unknown;
}

/** A seed document with one to `max` mutations applied in order. */
export function mutated(
    seeds: Readonly<Record<string, unknown>>,
    keys: readonly string[],
    plausible: Readonly<Record<string, readonly unknown[]>>,
    max = 3,
): fc.Arbitrary<Mutated> {
    return fc
        .tuple(fc.constantFrom(...Object.keys(seeds)), fc.array(mutation(keys, plausible), { minLength: 1, maxLength: max }))
        .map(([seed, mutations]) => {
            let doc = structuredClone(seeds[seed]);
            const changes: string[] = [];
            for (const m of mutations) {
                const applied = applyMutation(doc, m, plausible);
                doc = applied.doc;
                if (applied.change) changes.push(applied.change);
            }
            return { seed, changes, doc };
        });
}
