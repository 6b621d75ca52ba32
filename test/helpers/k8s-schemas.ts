/**
 * Validates rendered Kubernetes objects against the published schemas in ../shared/schemas: ajv for
 * types, enums and required fields, plus a strictness pass that rejects keys the schema does not
 * declare (the upstream schemas allow unknown keys, which would let a `taskMax` typo through).
 */
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import { parseAllDocuments } from "yaml";
import { REPO_ROOT } from "./stack-files";

export const SHARED_DIR = path.resolve(REPO_ROOT, "..", "shared");
const SCHEMAS_DIR = path.join(SHARED_DIR, "schemas");

export function sharedAvailable(): boolean {
    return fs.existsSync(path.join(SCHEMAS_DIR, "index.json"));
}

interface IndexEntry {
    file: string;
    type: "CustomResourceDefinition" | "OpenAPIv3";
    version?: string;
    schemaRef?: string;
}

type Schema = Record<string, any>;

/** Go's inline `(?i)` flag (prometheus-operator patterns) has no JavaScript spelling; turn it into the `i` flag. */
function goRegExp(pattern: string, flags: string): RegExp {
    return pattern.includes("(?i)") ? new RegExp(pattern.replace(/\(\?i\)/g, ""), `${flags}i`) : new RegExp(pattern, flags);
}
goRegExp.code = "goRegExp";

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: goRegExp as any } });
const loaded = new Map<string, { schema: Schema; root: Schema; validate: (v: unknown) => boolean; errors: () => string[] }>();

function entryFor(apiVersion: string, kind: string): IndexEntry {
    const index = JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, "index.json"), "utf8")) as { kinds: Record<string, IndexEntry> };
    const entry = index.kinds[`${apiVersion}/${kind}`];
    if (!entry) throw new Error(`no schema for ${apiVersion}/${kind} in ../shared/schemas/index.json`);
    return entry;
}

function load(apiVersion: string, kind: string) {
    const key = `${apiVersion}/${kind}`;
    const cached = loaded.get(key);
    if (cached) return cached;
    const entry = entryFor(apiVersion, kind);
    const file = path.join(SCHEMAS_DIR, entry.file);
    let result;
    if (entry.type === "CustomResourceDefinition") {
        const crd = parseAllDocuments(fs.readFileSync(file, "utf8"))
            .map((d) => d.toJS())
            .find((d) => d && d.kind === "CustomResourceDefinition");
        const version = crd.spec.versions.find((v: { name: string }) => v.name === entry.version);
        const schema = version.schema.openAPIV3Schema as Schema;
        const validate = ajv.compile(schema);
        result = { schema, root: schema, validate, errors: () => (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`) };
    } else {
        const doc = JSON.parse(fs.readFileSync(file, "utf8")) as Schema;
        const id = `k8s:${entry.file}`;
        if (!ajv.getSchema(id)) ajv.addSchema(doc, id);
        const validate = ajv.getSchema(`${id}${entry.schemaRef}`)!;
        const schema = resolvePointer(doc, entry.schemaRef!);
        result = { schema, root: doc, validate, errors: () => (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`) };
    }
    loaded.set(key, result);
    return result;
}

function resolvePointer(doc: Schema, ref: string): Schema {
    return ref
        .replace(/^#\//, "")
        .split("/")
        .reduce((node: Schema, part) => node[part.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
}

/** Follows `$ref` and flattens `allOf`, the two indirections the Kubernetes documents use. */
function deref(schema: Schema, root: Schema): Schema {
    let current = schema;
    while (current && current.$ref) current = resolvePointer(root, current.$ref);
    if (current && Array.isArray(current.allOf)) {
        const merged: Schema = { ...current, properties: { ...(current.properties ?? {}) } };
        for (const part of current.allOf) {
            const resolved = deref(part, root);
            Object.assign(merged.properties, resolved.properties ?? {});
            if (resolved.additionalProperties !== undefined) merged.additionalProperties = resolved.additionalProperties;
            if (resolved["x-kubernetes-preserve-unknown-fields"]) merged["x-kubernetes-preserve-unknown-fields"] = true;
            if (resolved.items) merged.items = resolved.items;
            if (resolved.type) merged.type = resolved.type;
        }
        delete merged.allOf;
        return merged;
    }
    return current;
}

/** CRD schemas leave `metadata` to the API server's ObjectMeta; these are the fields we may set. */
const OBJECT_META_FIELDS = new Set(["name", "generateName", "namespace", "labels", "annotations", "finalizers", "ownerReferences"]);

function undeclaredKeys(value: unknown, schema: Schema, root: Schema, at: string, out: string[]): void {
    const s = deref(schema, root);
    if (at.split(".").length === 2 && at.endsWith(".metadata") && s && !s.properties && value && typeof value === "object") {
        for (const key of Object.keys(value)) if (!OBJECT_META_FIELDS.has(key)) out.push(`${at}.${key} is not an ObjectMeta field`);
        return;
    }
    if (!s || value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
        if (s.items) value.forEach((item, i) => undeclaredKeys(item, s.items, root, `${at}[${i}]`, out));
        return;
    }
    if (s["x-kubernetes-preserve-unknown-fields"] && !s.properties) return;
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
        const declared = s.properties?.[key];
        if (declared) {
            undeclaredKeys(child, declared, root, `${at}.${key}`, out);
        } else if (s.additionalProperties && typeof s.additionalProperties === "object") {
            undeclaredKeys(child, s.additionalProperties, root, `${at}.${key}`, out);
        } else if (!s.additionalProperties && !s["x-kubernetes-preserve-unknown-fields"]) {
            out.push(`${at}.${key} is not declared by the schema`);
        }
    }
}

/** Every problem with one object; an empty list means it is valid. */
export function validateManifest(manifest: { apiVersion: string; kind: string } & Record<string, unknown>): string[] {
    const { schema, root, validate, errors } = load(manifest.apiVersion, manifest.kind);
    const problems: string[] = [];
    if (!validate(manifest)) problems.push(...errors());
    undeclaredKeys(manifest, schema, root, manifest.kind, problems);
    return problems;
}
