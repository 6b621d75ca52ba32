/**
 * A small HCL reader for Vault policies: labelled blocks (`path "x" { ... }`), `key = value` attributes,
 * strings, lists, and `#` / `//` comments. Enough to parse a rendered policy back into data, so tests
 * compare structure instead of text. Anything else is a syntax error.
 */
export type HclValue = string | number | boolean | HclValue[];

export interface HclBlock {
    type: string;
    labels: string[];
    attributes: Record<string, HclValue>;
}

type Token = { kind: "string" | "ident" | "number" | "punct"; value: string };

function tokenize(text: string): Token[] {
    const tokens: Token[] = [];
    let i = 0;
    while (i < text.length) {
        const ch = text[i];
        if (/\s/.test(ch)) i++;
        else if (ch === "#" || (ch === "/" && text[i + 1] === "/")) while (i < text.length && text[i] !== "\n") i++;
        else if (ch === '"') {
            let j = i + 1;
            let value = "";
            while (j < text.length && text[j] !== '"') {
                if (text[j] === "\\") {
                    value += JSON.parse(`"${text.slice(j, j + 2)}"`);
                    j += 2;
                } else value += text[j++];
            }
            if (j >= text.length) throw new Error(`unterminated string at ${i}`);
            tokens.push({ kind: "string", value });
            i = j + 1;
        } else if ("{}[]=,".includes(ch)) {
            tokens.push({ kind: "punct", value: ch });
            i++;
        } else if (/[A-Za-z_]/.test(ch)) {
            const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i))!;
            tokens.push({ kind: "ident", value: m[0] });
            i += m[0].length;
        } else if (/[0-9]/.test(ch)) {
            const m = /^[0-9]+/.exec(text.slice(i))!;
            tokens.push({ kind: "number", value: m[0] });
            i += m[0].length;
        } else throw new Error(`unexpected character ${JSON.stringify(ch)} at ${i}`);
    }
    return tokens;
}

export function parseHcl(text: string): HclBlock[] {
    const tokens = tokenize(text);
    let pos = 0;
    const peek = () => tokens[pos];
    const take = (kind?: Token["kind"], value?: string): Token => {
        const t = tokens[pos++];
        if (!t || (kind && t.kind !== kind) || (value !== undefined && t.value !== value)) {
            throw new Error(`expected ${value ?? kind}, got ${t ? t.value : "end of input"}`);
        }
        return t;
    };
    const value = (): HclValue => {
        const t = take();
        if (t.kind === "string") return t.value;
        if (t.kind === "number") return Number(t.value);
        if (t.kind === "ident" && (t.value === "true" || t.value === "false")) return t.value === "true";
        if (t.kind === "punct" && t.value === "[") {
            const items: HclValue[] = [];
            while (peek() && peek().value !== "]") {
                items.push(value());
                if (peek() && peek().value === ",") take("punct", ",");
            }
            take("punct", "]");
            return items;
        }
        throw new Error(`unexpected ${t.value}`);
    };
    const blocks: HclBlock[] = [];
    while (pos < tokens.length) {
        const type = take("ident").value;
        const labels: string[] = [];
        while (peek() && peek().kind === "string") labels.push(take("string").value);
        take("punct", "{");
        const attributes: Record<string, HclValue> = {};
        while (peek() && peek().value !== "}") {
            const key = take("ident").value;
            take("punct", "=");
            if (key in attributes) throw new Error(`duplicate attribute ${key}`);
            attributes[key] = value();
        }
        take("punct", "}");
        blocks.push({ type, labels, attributes });
    }
    return blocks;
}
