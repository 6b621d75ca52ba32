/**
 * Reads Vault ACL policy documents — HCL (`path "..." { capabilities = [...] }`, the legacy
 * `policy = "write"` form included) or their JSON equivalent — into path rules, and answers the two
 * questions the pack asks: which prefixes a path pattern can reach, and how narrow its literal part is.
 */

export interface PathRule {
    path: string;
    capabilities: string[];
    /** The pre-0.9 shorthand: deny, read, write or sudo. */
    legacyPolicy?: string;
}

export type ParseResult = { ok: true; rules: PathRule[] } | { ok: false; error: string };

type Token = { kind: "string" | "ident" | "punct"; text: string; at: number };

function tokenize(text: string): Token[] {
    const tokens: Token[] = [];
    let i = 0;
    while (i < text.length) {
        const c = text[i];
        if (/\s/.test(c)) {
            i++;
        } else if (c === "#" || (c === "/" && text[i + 1] === "/")) {
            while (i < text.length && text[i] !== "\n") i++;
        } else if (c === "/" && text[i + 1] === "*") {
            const end = text.indexOf("*/", i + 2);
            if (end < 0) throw new Error(`unterminated comment at offset ${i}`);
            i = end + 2;
        } else if (c === '"') {
            let value = "";
            let j = i + 1;
            while (j < text.length && text[j] !== '"') {
                if (text[j] === "\\" && j + 1 < text.length) j++;
                value += text[j++];
            }
            if (j >= text.length) throw new Error(`unterminated string at offset ${i}`);
            tokens.push({ kind: "string", text: value, at: i });
            i = j + 1;
        } else if ("{}[]=,:".includes(c)) {
            tokens.push({ kind: "punct", text: c, at: i });
            i++;
        } else if (/[A-Za-z0-9_.\-]/.test(c)) {
            let j = i;
            while (j < text.length && /[A-Za-z0-9_.\-]/.test(text[j])) j++;
            tokens.push({ kind: "ident", text: text.slice(i, j), at: i });
            i = j;
        } else {
            throw new Error(`unexpected character ${JSON.stringify(c)} at offset ${i}`);
        }
    }
    return tokens;
}

class Parser {
    private pos = 0;
    constructor(private readonly tokens: Token[]) {}

    document(): PathRule[] {
        const rules: PathRule[] = [];
        while (this.pos < this.tokens.length) {
            const head = this.next("block name");
            if (head.kind !== "ident") throw this.error(head, "a block name such as path");
            const labels: string[] = [];
            while (this.peek()?.kind === "string") labels.push(this.next("label").text);
            if (this.peek()?.text === "=") {
                // A top-level attribute (e.g. `name = "..."`): skip its value.
                this.pos++;
                this.value();
                continue;
            }
            const body = this.object();
            if (head.text === "path") {
                if (labels.length !== 1) throw this.error(head, "exactly one path string after `path`");
                rules.push(toRule(labels[0], body));
            }
        }
        return rules;
    }

    private object(): Record<string, unknown> {
        this.expect("{");
        const out: Record<string, unknown> = {};
        while (this.peek()?.text !== "}") {
            const key = this.next("attribute name");
            if (key.kind === "punct") throw this.error(key, "an attribute name");
            const nested = this.peek();
            if (nested?.text === "{") {
                out[key.text] = this.object();
            } else {
                const sep = this.next("= or :");
                if (sep.text !== "=" && sep.text !== ":") throw this.error(sep, "=");
                out[key.text] = this.value();
            }
            if (this.peek()?.text === ",") this.pos++;
        }
        this.expect("}");
        return out;
    }

    private value(): unknown {
        const t = this.peek();
        if (t?.text === "[") {
            this.pos++;
            const items: unknown[] = [];
            while (this.peek()?.text !== "]") {
                items.push(this.value());
                if (this.peek()?.text === ",") this.pos++;
            }
            this.expect("]");
            return items;
        }
        if (t?.text === "{") return this.object();
        const token = this.next("a value");
        if (token.kind === "punct") throw this.error(token, "a value");
        return token.text;
    }

    private peek(): Token | undefined {
        return this.tokens[this.pos];
    }

    private next(what: string): Token {
        const t = this.tokens[this.pos++];
        if (!t) throw new Error(`unexpected end of policy, expected ${what}`);
        return t;
    }

    private expect(text: string): void {
        const t = this.next(text);
        if (t.text !== text) throw this.error(t, text);
    }

    private error(t: Token, expected: string): Error {
        return new Error(`expected ${expected} at offset ${t.at}, found ${JSON.stringify(t.text)}`);
    }
}

function toRule(path: string, body: Record<string, unknown>): PathRule {
    const caps = body.capabilities;
    const capabilities = Array.isArray(caps) ? caps.map((c) => String(c).toLowerCase()) : [];
    const legacy = typeof body.policy === "string" ? body.policy.toLowerCase() : undefined;
    return { path, capabilities, ...(legacy ? { legacyPolicy: legacy } : {}) };
}

export function parseVaultPolicy(text: string): ParseResult {
    try {
        if (text.trim().startsWith("{")) {
            const doc = JSON.parse(text) as { path?: Record<string, Record<string, unknown>> };
            return { ok: true, rules: Object.entries(doc.path ?? {}).map(([path, body]) => toRule(path, body ?? {})) };
        }
        return { ok: true, rules: new Parser(tokenize(text)).document() };
    } catch (e) {
        return { ok: false, error: e instanceof Error ? e.message : String(e) };
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
    return [...new Set([...rule.capabilities, ...(rule.legacyPolicy ? (legacy[rule.legacyPolicy] ?? [rule.legacyPolicy]) : [])])];
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
