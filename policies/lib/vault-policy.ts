/**
 * Reads Vault ACL policy documents in JSON, the form the stack renders (plan/vault.ts) and one Vault's parser reads
 * like HCL: `{"path": {"<path>": {"capabilities": [...]}}}`, the legacy `"policy": "write"` included. Anything else,
 * HCL among it, is reported as unreadable rather than guessed at. Then it answers the two questions the pack asks:
 * which prefixes a path pattern can reach, and how narrow its literal part is.
 */

interface PathRule {
    path: string;
    capabilities: string[];
    /** The pre-0.9 shorthand: deny, read, write or sudo. */
    legacyPolicy?: string;
}

type ParseResult = { ok: true; rules: PathRule[] } | { ok: false; error: string };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Members of every object in a parsed JSON value. */
function memberCount(value: unknown): number {
    if (Array.isArray(value)) return value.reduce((n: number, v) => n + memberCount(v), 0);
    if (isObject(value)) return Object.values(value).reduce((n: number, v) => n + 1 + memberCount(v), 0);
    return 0;
}

/** Name separators outside strings: one per object member written in the (valid JSON) text. */
function colonCount(text: string): number {
    let count = 0;
    let inString = false;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (inString) {
            if (c === "\\") i++;
            else if (c === '"') inString = false;
        } else if (c === '"') inString = true;
        else if (c === ":") count++;
    }
    return count;
}

function toRule(path: string, body: unknown): PathRule {
    if (!isObject(body)) throw new Error(`path "${path}" must map to an object such as {"capabilities": ["read"]}`);
    const { capabilities = [], policy } = body;
    if (!Array.isArray(capabilities) || !capabilities.every((c) => typeof c === "string")) {
        throw new Error(`path "${path}": capabilities must be a list of strings`);
    }
    if (policy !== undefined && typeof policy !== "string") throw new Error(`path "${path}": policy must be a string`);
    return { path, capabilities: capabilities.map((c) => c.toLowerCase()), ...(policy ? { legacyPolicy: policy.toLowerCase() } : {}) };
}

export function parseVaultPolicy(text: string): ParseResult {
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (e) {
        return { ok: false, error: `not JSON: ${(e as Error).message}` };
    }
    try {
        // Vault reads a document as JSON only when it starts with "{"; anything else it parses as HCL.
        if (!isObject(doc) || !text.trimStart().startsWith("{")) throw new Error('a policy document is a JSON object: {"path": {...}}');
        // JSON.parse keeps the last of two equal keys; Vault's parser keeps both, so a grant could hide behind its twin.
        if (colonCount(text) !== memberCount(doc)) throw new Error("a key appears twice in one object");
        const unknown = Object.keys(doc).filter((k) => k !== "name" && k !== "path");
        if (unknown.length > 0)
            throw new Error(`Vault accepts only "name" and "path" at the top, not ${unknown.map((k) => JSON.stringify(k)).join(", ")}`);
        if (doc.path === undefined) return { ok: true, rules: [] };
        if (!isObject(doc.path)) throw new Error('"path" must be an object of path rules');
        return { ok: true, rules: Object.entries(doc.path).map(([path, body]) => toRule(path, body)) };
    } catch (e) {
        return { ok: false, error: (e as Error).message };
    }
}

/** Capabilities a rule grants, with the legacy shorthand expanded as Vault does. */
export function grantedCapabilities(rule: PathRule): string[] {
    const legacy: Record<string, string[]> = {
        deny: ["deny"],
        read: ["read", "list"],
        write: ["create", "read", "update", "delete", "list", "write"],
        sudo: ["create", "read", "update", "delete", "list", "sudo"],
    };
    const expanded =
        rule.legacyPolicy === undefined ? [] : Object.hasOwn(legacy, rule.legacyPolicy) ? legacy[rule.legacyPolicy] : [rule.legacyPolicy];
    return [...new Set([...rule.capabilities, ...expanded])];
}

function literalPrefix(path: string): string {
    const cut = path.search(/[*+]/);
    return cut < 0 ? path : path.slice(0, cut);
}

function patternRegex(path: string): RegExp {
    let source = "";
    const segments = path.split("/");
    segments.forEach((segment, i) => {
        if (i > 0) source += "/";
        if (segment === "+") {
            source += "[^/]+";
        } else if (i === segments.length - 1 && segment.endsWith("*")) {
            source += segment.slice(0, -1).replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + ".*";
        } else {
            source += segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        }
    });
    return new RegExp(`^${source}$`);
}

/** Whether the path pattern can match some path under `prefix` (a string ending in `/`). */
export function reachesPrefix(path: string, prefix: string): boolean {
    const normalized = path.replace(/^\/+/, "");
    if (literalPrefix(normalized).startsWith(prefix)) return true;
    const regex = patternRegex(normalized);
    return [`${prefix}x`, `${prefix}x/y`].some((probe) => regex.test(probe));
}

const KV2_API_SEGMENTS = new Set(["data", "metadata", "delete", "undelete", "destroy"]);

/**
 * The literal path segments before the first wildcard, not counting a KV v2 API segment
 * (`secret/data/db/*` → `secret`, `db`). `*` has none; `secret/*` has only the mount.
 */
export function literalSegments(path: string): string[] {
    const prefix = literalPrefix(path.replace(/^\/+/, ""));
    const complete = prefix.split("/");
    if (path.search(/[*+]/) >= 0) complete.pop(); // the segment the wildcard sits in is not literal
    const segments = complete.filter((s) => s.length > 0);
    if (segments.length > 1 && KV2_API_SEGMENTS.has(segments[1])) segments.splice(1, 1);
    return segments;
}

export const hasWildcard = (path: string): boolean => /[*+]/.test(path);
