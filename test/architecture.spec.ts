/**
 * Layering rules a reviewer would otherwise have to remember: environment decisions go through the profile's
 * flags (config/profiles.ts), never through the environment's name, so a third environment gets a profile
 * rather than a hunt for string comparisons; and the top-level folders import each other only downwards, so
 * a rule or a name has one home that everything above it reads.
 */
import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "fs";
import * as path from "path";
import { REPO_ROOT } from "./helpers/stack-files";

const SOURCE_DIRS = [
    "config",
    "plan",
    "connectors",
    "components",
    "model",
    "reconciler",
    "sandbox",
    "ops",
    "policies/rules",
    "policies/lib",
];
const BY_NAME = /\benvironment\s*[!=]==?\s*["'`](dev|prod)|["'`](dev|prod)["'`]\s*[!=]==?\s*[\w.]*environment\b/;

function sources(dir: string): string[] {
    const full = path.join(REPO_ROOT, dir);
    return readdirSync(full).flatMap((name) => {
        const file = path.join(full, name);
        if (statSync(file).isDirectory()) return name === "node_modules" ? [] : sources(path.join(dir, name));
        return name.endsWith(".ts") ? [file] : [];
    });
}

/**
 * The folders each top-level folder may import, bottom layer first: model/ (names, spec types, option enums, shared
 * paths) → config/ → connectors/ → plan/ → what runs the plan. sandbox/ drives the reconciler and the ops CLI as
 * tools; bench/ measures the sandbox and the reconciler; policies/ is its own package and reads only the profiles.
 */
export const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
    model: [],
    config: ["model"],
    connectors: ["model", "config"],
    plan: ["model", "config", "connectors"],
    components: ["model", "config", "connectors", "plan"],
    reconciler: ["model", "config", "connectors", "plan"],
    ops: ["model", "config", "connectors", "plan", "reconciler"],
    sandbox: ["model", "config", "connectors", "plan", "reconciler", "ops"],
    bench: ["model", "config", "connectors", "plan", "reconciler", "ops", "sandbox"],
    policies: ["model", "config"],
    scripts: ["model", "config"],
    "index.ts": ["model", "config", "connectors", "plan", "components"],
};
/** Not the program: tests, generated output, dependencies, local state. */
const NOT_LAYERED = new Set(["test", "node_modules", "dist", "lakehouse", "images", "docs"]);

export interface SourceFile {
    /** Relative to the repository root, with forward slashes. */
    file: string;
    text: string;
}

export interface FolderImport {
    from: string;
    to: string;
    file: string;
    specifier: string;
}

const topFolder = (file: string): string => file.split("/")[0];
const IMPORT_SPECIFIER = /\b(?:from|import|require)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

/** Every relative import (static, `export ... from`, dynamic, require) that crosses from one top-level folder into another. */
export function folderImports(files: readonly SourceFile[]): FolderImport[] {
    return files.flatMap(({ file, text }) =>
        [...text.matchAll(IMPORT_SPECIFIER)].flatMap((match) => {
            const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1]));
            const [from, to] = [topFolder(file), topFolder(target)];
            return from === to ? [] : [{ from, to, file, specifier: match[1] }];
        }),
    );
}

export function layerViolations(imports: readonly FolderImport[], mayImport = MAY_IMPORT): string[] {
    return imports
        .filter((i) => !(mayImport[i.from] ?? []).includes(i.to))
        .map((i) =>
            mayImport[i.from]
                ? `${i.file} imports "${i.specifier}": ${i.from}/ may import only ${mayImport[i.from].join(", ") || "nothing of ours"}; move what both need down (model/ for names and types)`
                : `${i.file}: ${i.from} has no place in the layers; add it to MAY_IMPORT`,
        );
}

/** Folders that reach themselves through the imports, each cycle once as its sorted member list. */
export function folderCycles(edges: readonly { from: string; to: string }[]): string[][] {
    const next = new Map<string, Set<string>>();
    for (const { from, to } of edges) next.set(from, (next.get(from) ?? new Set()).add(to));
    const reaches = (start: string): Set<string> => {
        const seen = new Set<string>();
        const stack = [...(next.get(start) ?? [])];
        while (stack.length > 0) {
            const folder = stack.pop() as string;
            if (seen.has(folder)) continue;
            seen.add(folder);
            stack.push(...(next.get(folder) ?? []));
        }
        return seen;
    };
    const reach = new Map([...next.keys()].map((folder) => [folder, reaches(folder)]));
    const cycles = new Map<string, string[]>();
    for (const [folder, reached] of reach) {
        if (!reached.has(folder)) continue;
        const members = [...reached].filter((other) => reach.get(other)?.has(folder)).sort();
        cycles.set(members.join(" ⇄ "), members);
    }
    return [...cycles.values()];
}

function layeredSources(): SourceFile[] {
    return readdirSync(REPO_ROOT)
        .filter((name) => !name.startsWith(".") && !NOT_LAYERED.has(name))
        .flatMap((name) =>
            statSync(path.join(REPO_ROOT, name)).isDirectory() ? sources(name) : name.endsWith(".ts") ? [path.join(REPO_ROOT, name)] : [],
        )
        .map((file) => ({ file: path.relative(REPO_ROOT, file).split(path.sep).join("/"), text: readFileSync(file, "utf8") }));
}

export function environmentComparisons(text: string): string[] {
    return text.split("\n").filter((line) => BY_NAME.test(line));
}

describe("architecture", () => {
    it("decides per environment only through profile flags, never by the environment's name", () => {
        const found = SOURCE_DIRS.flatMap(sources).flatMap((file) =>
            environmentComparisons(readFileSync(file, "utf8")).map((line) => `${path.relative(REPO_ROOT, file)}: ${line.trim()}`),
        );
        expect(found).to.deep.equal([]);
    });

    it("imports between top-level folders only point down the layers, with no folder cycle", () => {
        const imports = folderImports(layeredSources());
        expect(imports.length, "the scan found the program's imports").to.be.above(100);
        expect(layerViolations(imports)).to.deep.equal([]);
        expect(folderCycles(imports)).to.deep.equal([]);
    });

    it("the allowed imports themselves form layers: no folder may reach itself", () => {
        const allowed = Object.entries(MAY_IMPORT).flatMap(([from, tos]) => tos.map((to) => ({ from, to })));
        expect(folderCycles(allowed)).to.deep.equal([]);
    });

    it("the layer check catches config/ importing plan/, a cycle, and a folder it does not know", () => {
        const imports = folderImports([
            { file: "config/rules.ts", text: 'import { planTopics, TopicSpec } from "../plan/topics";' },
            { file: "plan/topics.ts", text: 'import type { StackSpec } from "../model/spec";\nexport * from "../config/rules";' },
            { file: "connectors/sinks.ts", text: 'const route = await import("../plan/dlq-replay");' },
            { file: "model/naming.ts", text: 'import { x } from "./options";' },
            { file: "newdir/tool.ts", text: 'import { y } from "../model/naming";' },
        ]);
        expect(imports.map((i) => `${i.from}->${i.to}`)).to.deep.equal([
            "config->plan",
            "plan->model",
            "plan->config",
            "connectors->plan",
            "newdir->model",
        ]);
        expect(layerViolations(imports)).to.deep.equal([
            'config/rules.ts imports "../plan/topics": config/ may import only model; move what both need down (model/ for names and types)',
            'connectors/sinks.ts imports "../plan/dlq-replay": connectors/ may import only model, config; move what both need down (model/ for names and types)',
            "newdir/tool.ts: newdir has no place in the layers; add it to MAY_IMPORT",
        ]);
        expect(folderCycles(imports)).to.deep.equal([["config", "plan"]]);
        expect(folderCycles([...imports, { from: "plan", to: "connectors" }])).to.deep.equal([["config", "connectors", "plan"]]);
    });

    it("the check recognises the comparisons it forbids", () => {
        expect(environmentComparisons('if (spec.environment === "prod" && !https) {')).to.have.length(1);
        expect(environmentComparisons("if ('dev' !== config.environment) return;")).to.have.length(1);
        expect(environmentComparisons("if (spec.profile.requireVaultTls && !https) {")).to.deep.equal([]);
    });
});
