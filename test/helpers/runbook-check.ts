/**
 * Checks the shell commands of docs/runbooks.md against the objects a stack renders. Every command in
 * a fenced `sh` block is parsed (quotes, pipes, `$(…)`, variables, heredocs, `sh -c` scripts run in a
 * pod) and each name, namespace, label selector, container, port, Secret key, mount path and Kafka
 * client setting it uses must be one the stack or Strimzi really creates. A command the checker does
 * not know is a problem too, so nothing in the runbooks escapes the check.
 */
import { parse as parseYaml } from "yaml";
import { findCommand } from "../../ops/cli";
import { COMMANDS } from "../../ops/commands";
import { OPERATOR_ANNOTATIONS } from "../../plan/kafka-connector";
import { validateManifest } from "./k8s-schemas";
import { ConnectorObject, CronJobBody, PLACEHOLDERS, StackObjects } from "./stack-objects";

// ---------------------------------------------------------------------------------------------
// Markdown

export interface ShellBlock {
    /** 1-based line of the block's first command line in the markdown file. */
    line: number;
    text: string;
}

export function shellBlocks(markdown: string): { blocks: ShellBlock[]; problems: string[] } {
    const lines = markdown.split("\n");
    const blocks: ShellBlock[] = [];
    const problems: string[] = [];
    for (let i = 0; i < lines.length; i++) {
        const open = /^(\s*)```(\S*)\s*$/.exec(lines[i]);
        if (!open) {
            for (const span of lines[i].matchAll(/`([^`]+)`/g)) {
                if (/^(kubectl|curl)(\s+\S+){2}/.test(span[1]))
                    problems.push(`line ${i + 1}: command \`${span[1]}\` outside a fenced sh block is never checked; put it in one`);
            }
            continue;
        }
        const indent = open[1];
        const body: string[] = [];
        let j = i + 1;
        for (; j < lines.length && lines[j].trimEnd() !== `${indent}\`\`\``; j++)
            body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
        if (open[2] !== "sh") problems.push(`line ${i + 1}: fenced block of language "${open[2]}"; runbook commands go in \`\`\`sh blocks`);
        else blocks.push({ line: i + 2, text: body.join("\n") });
        i = j;
    }
    return { blocks, problems };
}

/** `| \`<placeholder>\` | dev value | prod value | … |` rows: the values the table promises per stack column. */
export function placeholderTable(markdown: string): { columns: string[]; rows: Map<string, string[][]> } {
    const lines = markdown.split("\n");
    const header = lines.find((l) => /^\|\s*Placeholder\s*\|/.test(l));
    const columns = header
        ? header
              .split("|")
              .slice(2, -2)
              .map((c) => c.trim())
        : [];
    const rows = new Map<string, string[][]>();
    for (const l of lines) {
        const m = /^\|\s*`<([a-z][a-z0-9-]*)>`\s*\|(.*)\|\s*$/.exec(l);
        if (!m) continue;
        const cells = m[2].split("|").slice(0, columns.length);
        rows.set(
            m[1],
            cells.map((c) => [...c.matchAll(/`([^`]+)`/g)].map((v) => v[1])),
        );
    }
    return { columns, rows };
}

// ---------------------------------------------------------------------------------------------
// Entry point

const PLACEHOLDER = /<([a-z][a-z0-9-]*)>/g;

/** Every problem with the runbooks for these stacks; an empty list means every command checks out. */
export function checkRunbooks(markdown: string, stacks: StackObjects[]): string[] {
    const { blocks, problems } = shellBlocks(markdown);
    for (const block of blocks) {
        const used = [...new Set([...block.text.matchAll(PLACEHOLDER)].map((m) => m[1]))];
        const unknown = used.filter((p) => !(PLACEHOLDERS as readonly string[]).includes(p));
        if (unknown.length) {
            problems.push(
                `line ${block.line}: unknown placeholder ${unknown.map((p) => `<${p}>`).join(", ")}; only values the test substitutes from rendered objects may be placeholders`,
            );
            continue;
        }
        let applied = 0;
        for (const objects of stacks) {
            for (const binding of objects.bindings) {
                if (!used.every((p) => p in binding)) continue;
                applied++;
                const text = block.text.replace(PLACEHOLDER, (_, p: string) => binding[p]);
                for (const problem of new Checker(objects, block.line).run(text)) problems.push(problem);
            }
        }
        if (applied === 0)
            problems.push(
                `line ${block.line}: the block's placeholders (${used.join(", ")}) resolve for no shipped stack, so it is never checked`,
            );
    }
    return [...new Set(problems)];
}

// ---------------------------------------------------------------------------------------------
// Shell parsing

interface Command {
    words: string[];
    /** Heredoc text (after expansion unless the delimiter was quoted). */
    heredoc?: string;
    stdout?: string;
    stdin?: string;
}

/** What flows through a pipe or into a file, as far as the checker can tell. */
type Data = { kind: "secret"; name: string; key: string; base64: boolean } | { kind: "text"; text: string } | { kind: "opaque" };
const OPAQUE: Data = { kind: "opaque" };

/** A `$(…)` whose output is not plain text stands in words as this marker, so a setting can be traced to its source (a Secret key). */
const marker = (i: number) => `\u0000${i}\u0000`;
// eslint-disable-next-line no-control-regex -- NUL cannot occur in a runbook, which is why it delimits the marker
const MARKER = /\u0000(\d+)\u0000/g;

type Env = { where: "local" } | { where: "pod"; pod: string };

interface PodInfo {
    container: string;
    kind: "connect" | "reader";
    labels: Record<string, string>;
    mounts: string[];
}

class Checker {
    private readonly problems: string[] = [];
    private readonly vars = new Map<string, string>();
    private readonly subs: Data[] = [];
    private readonly pods = new Map<string, PodInfo>();
    private readonly jobs = new Map<string, CronJobBody>();
    private readonly files = new Map<string, Map<string, Data>>();
    private readonly connectorStates = new Map<string, string>();

    constructor(
        private readonly o: StackObjects,
        private readonly line: number,
    ) {
        for (const pod of o.workers.pods)
            this.pods.set(pod, { container: o.workers.container, kind: "connect", labels: o.workers.labels, mounts: [] });
        for (const c of o.connectors) this.connectorStates.set(c.body.metadata.name, c.body.spec.state);
    }

    run(text: string): string[] {
        this.script(text, { where: "local" }, OPAQUE);
        return this.problems.map((p) => `line ${this.line} (${this.o.stack}): ${p}`);
    }

    private problem(message: string): void {
        this.problems.push(message);
    }

    /**
     * Runs a script line by line, so a variable or file set by one line is there for the next; returns
     * what its last pipeline writes to stdout.
     */
    private script(text: string, env: Env, stdin: Data): Data {
        const lines = text.split("\n");
        let out: Data = OPAQUE;
        for (let i = 0; i < lines.length; i++) {
            let logical = lines[i];
            while (logical.endsWith("\\") && i + 1 < lines.length) logical = logical.slice(0, -1) + " " + lines[++i].trim();
            if (/^\s*(#.*)?$/.test(logical)) continue;
            const tokens = this.tokenize(logical, env);
            const pipelines: Command[][] = [];
            let pipeline: Command[] = [];
            let cmd: Command = { words: [] };
            const flush = (op: string) => {
                if (cmd.words.length || cmd.stdin) pipeline.push(cmd);
                cmd = { words: [] };
                if (op !== "|" && pipeline.length) {
                    pipelines.push(pipeline);
                    pipeline = [];
                }
            };
            for (let t = 0; t < tokens.length; t++) {
                const token = tokens[t];
                if (token.op === "|" || token.op === "&&" || token.op === ";" || token.op === "||") flush(token.op);
                else if (token.op === ">" || token.op === "<") {
                    const target = tokens[++t]?.word;
                    if (target === undefined) this.problem(`redirection without a target in: ${logical.trim()}`);
                    else if (token.op === ">") cmd.stdout = target;
                    else cmd.stdin = target;
                } else if (token.op === "<<") {
                    const delimiter = tokens[++t]?.word ?? "";
                    const quoted = tokens[t]?.quoted ?? false;
                    const body: string[] = [];
                    while (i + 1 < lines.length && lines[i + 1] !== delimiter) body.push(lines[++i]);
                    if (i + 1 >= lines.length) this.problem(`heredoc ${delimiter} is never closed`);
                    i++;
                    const joined = body.join("\n") + "\n";
                    cmd.heredoc = quoted ? joined : this.expand(joined, env);
                } else cmd.words.push(token.word!);
            }
            flush(";");
            for (const p of pipelines) out = this.pipeline(p, env, stdin);
        }
        return out;
    }

    /** Word splitting with quotes, `$(…)`, `$VAR`, comments, pipes, `&&`, `;` and redirections. */
    private tokenize(line: string, env: Env): { word?: string; quoted?: boolean; op?: string }[] {
        const tokens: { word?: string; quoted?: boolean; op?: string }[] = [];
        let word: string | undefined;
        let quoted = false;
        const push = () => {
            if (word !== undefined) tokens.push({ word, quoted });
            word = undefined;
            quoted = false;
        };
        for (let i = 0; i < line.length; i++) {
            const c = line[i];
            if (c === "'") {
                const end = line.indexOf("'", i + 1);
                if (end < 0) {
                    this.problem(`unterminated ' in: ${line.trim()}`);
                    return tokens;
                }
                word = (word ?? "") + line.slice(i + 1, end);
                quoted = true;
                i = end;
            } else if (c === '"') {
                let j = i + 1;
                let inner = "";
                while (j < line.length && line[j] !== '"') {
                    if (line[j] === "\\" && j + 1 < line.length && '"\\$`'.includes(line[j + 1])) inner += "\\" + line[++j];
                    else if (line[j] === "$" && line[j + 1] === "(") {
                        const end = matchingParen(line, j + 1);
                        inner += line.slice(j, end + 1);
                        j = end;
                    } else inner += line[j];
                    j++;
                }
                if (j >= line.length) {
                    this.problem(`unterminated " in: ${line.trim()}`);
                    return tokens;
                }
                word = (word ?? "") + this.expand(inner, env).replace(/\\(["\\$`])/g, "$1");
                quoted = true;
                i = j;
            } else if (c === "\\" && i + 1 < line.length) {
                word = (word ?? "") + line[++i];
            } else if (c === "$") {
                const [text, end] = this.dollar(line, i, env);
                word = (word ?? "") + text;
                i = end;
            } else if (/\s/.test(c)) {
                push();
            } else if (c === "#" && word === undefined) {
                break;
            } else if (c === "|" || c === "&" || c === ";") {
                push();
                const two = line.slice(i, i + 2);
                if (two === "||" || two === "&&") {
                    tokens.push({ op: two });
                    i++;
                } else if (c === "&") this.problem(`background job (&) in: ${line.trim()}`);
                else tokens.push({ op: c });
            } else if (c === ">" || c === "<") {
                push();
                if (line.slice(i, i + 2) === "<<") {
                    tokens.push({ op: "<<" });
                    i++;
                } else if (line[i + 1] === ">") {
                    this.problem(`appending redirection in: ${line.trim()}`);
                    i++;
                } else tokens.push({ op: c });
            } else {
                word = (word ?? "") + c;
            }
        }
        push();
        return tokens;
    }

    /** Expands `$(…)` and `$VAR` in text (a heredoc body or a double-quoted string). */
    private expand(text: string, env: Env): string {
        let out = "";
        for (let i = 0; i < text.length; i++) {
            if (text[i] === "\\" && text[i + 1] === "$") {
                out += "\\$";
                i++;
            } else if (text[i] === "$") {
                const [expanded, end] = this.dollar(text, i, env);
                out += expanded;
                i = end;
            } else out += text[i];
        }
        return out;
    }

    private dollar(text: string, i: number, env: Env): [string, number] {
        if (text[i + 1] === "(") {
            const end = matchingParen(text, i + 1);
            return [this.substitute(text.slice(i + 2, end), env), end];
        }
        const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(text.slice(i));
        if (!m) return ["$", i];
        const name = m[1] ?? m[2];
        const value = this.vars.get(name);
        // In a pod's shell a variable may be that shell's own; locally every variable must be set by the block.
        if (value === undefined && env.where === "local") this.problem(`$${name} is used but never set in this block`);
        return [value ?? m[0], i + m[0].length - 1];
    }

    /** A `$(…)`: its commands are checked where they run; a plain text result is inlined. */
    private substitute(inner: string, env: Env): string {
        const data = this.script(inner, env, OPAQUE);
        if (data.kind === "text") return data.text;
        this.subs.push(data);
        return marker(this.subs.length - 1);
    }

    private pipeline(commands: Command[], env: Env, stdin: Data): Data {
        let data = stdin;
        for (const cmd of commands) data = env.where === "local" ? this.local(cmd, data) : this.inPod(cmd, env.pod, data);
        return data;
    }

    // -----------------------------------------------------------------------------------------
    // Commands on the operator's machine

    private local(cmd: Command, stdin: Data): Data {
        const assignments = cmd.words.filter((w) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
        if (assignments.length === cmd.words.length && assignments.length > 0) {
            for (const a of assignments) this.vars.set(a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1));
            return OPAQUE;
        }
        const [program, ...args] = cmd.words;
        switch (program) {
            case "kubectl":
                return this.kubectl(args, cmd.heredoc ? { kind: "text", text: cmd.heredoc } : stdin);
            case "base64":
                if (args.length !== 1 || !["-d", "--decode"].includes(args[0]))
                    this.problem(`base64 ${args.join(" ")}: only decoding is expected`);
                return stdin.kind === "secret" && stdin.base64 ? { ...stdin, base64: false } : OPAQUE;
            case "date":
                if (args.join(" ") !== "+%s") this.problem(`date ${args.join(" ")}: only +%s (a name suffix) is expected`);
                return { kind: "text", text: "1700000000" };
            case "npm":
                this.cdc(args);
                return OPAQUE;
            default:
                this.problem(`\`${program}\` is not a command this checker knows, so nothing vouches for it`);
                return OPAQUE;
        }
    }

    /** `npm run cdc -- <command> ...`: a command ops/commands.ts registers, only flags its usage lists, this stack's file. */
    private cdc(args: string[]): void {
        if (args[0] !== "run" || args[1] !== "cdc" || args[2] !== "--") {
            this.problem(`npm ${args.join(" ")}: only \`npm run cdc -- <command>\` is expected`);
            return;
        }
        const found = findCommand(COMMANDS, args.slice(3));
        if (!found) {
            this.problem(`cdc ${args.slice(3).join(" ")}: no such command in ops/commands.ts`);
            return;
        }
        const { command, rest } = found;
        rest.forEach((word, i) => {
            const flag = /^--[a-z][a-z-]*/.exec(word)?.[0];
            if (flag && !new RegExp(`(^|\\s)${flag}(\\s|$)`, "m").test(command.usage))
                this.problem(`cdc ${command.name}: it takes no ${flag}`);
            if (word === "--stack" && rest[i + 1] !== this.o.stack)
                this.problem(`cdc ${command.name}: --stack ${rest[i + 1]}; this is the ${this.o.stack} stack`);
        });
        if (!rest.includes("--stack")) this.problem(`cdc ${command.name}: without --stack it targets a local sandbox, not this stack`);
    }

    private kubectl(args: string[], stdin: Data): Data {
        const k = parseKubectl(args);
        if (k.error) {
            this.problem(`kubectl ${args.join(" ")}: ${k.error}`);
            return OPAQUE;
        }
        if (k.flags.get("namespace") !== this.o.namespace) {
            this.problem(
                `kubectl ${k.verb}: namespace ${k.flags.get("namespace") ?? "(none)"}; the stack deploys into ${this.o.namespace} (always pass -n)`,
            );
        }
        const allowed = VERB_FLAGS[k.verb];
        if (!allowed) {
            this.problem(`kubectl ${k.verb} is not a verb this checker knows`);
            return OPAQUE;
        }
        for (const flag of k.flags.keys())
            if (flag !== "namespace" && !allowed.includes(flag)) this.problem(`kubectl ${k.verb}: flag --${flag} is not checked here`);
        switch (k.verb) {
            case "get":
            case "describe":
                return this.get(k);
            case "top":
                return this.top(k);
            case "annotate":
                return this.annotate(k);
            case "patch":
                return this.patch(k);
            case "exec":
                return this.exec(k, stdin);
            case "logs":
                return this.logs(k);
            case "create":
                return this.createJob(k);
            case "wait":
                return this.wait(k);
            case "apply":
                return this.apply(k, stdin);
            case "delete":
                return this.deletePod(k);
        }
        return OPAQUE;
    }

    /** `kind name…`, `kind/name`, `kind,kind`: the kinds and the names, validated by kind. */
    private targets(k: Kubectl, positional: string[]): { kinds: string[]; names: string[] } {
        const [first, ...rest] = positional;
        if (!first) {
            this.problem(`kubectl ${k.verb} without a resource kind`);
            return { kinds: [], names: [] };
        }
        const [kindText, slashName] = first.split("/");
        const kinds = kindText.split(",").map((kind) => {
            const normal = KINDS[kind.toLowerCase()];
            if (!normal) this.problem(`kubectl ${k.verb}: resource kind ${kind} is not one the runbooks deal with`);
            return normal ?? kind;
        });
        const names = slashName !== undefined ? [slashName, ...rest] : rest;
        for (const name of names) for (const kind of kinds) this.knownName(kind, name, k.verb);
        return { kinds, names };
    }

    private knownName(kind: string, name: string, verb: string): void {
        const known = (names: string[], what: string) => {
            if (!names.includes(name))
                this.problem(`kubectl ${verb}: ${kind} ${printable(name)} is not ${what} (${names.join(", ") || "none"})`);
        };
        switch (kind) {
            case "kafkaconnector":
                return known(
                    this.o.connectors.map((c) => c.body.metadata.name),
                    "a KafkaConnector the stack renders",
                );
            case "kafkaconnect":
                return known([this.o.connect.metadata.name], "the stack's KafkaConnect");
            case "pod":
                return known(
                    [...this.pods.keys()],
                    "a Connect worker pod (StrimziPodSet <connect>-connect-<n>) or a pod this block creates",
                );
            case "cronjob":
                return known(
                    this.o.cronJobs.map((cj) => cj.metadata.name),
                    "a CronJob the stack renders",
                );
            case "job":
                return known([...this.jobs.keys()], "a Job this block creates");
            case "secret":
                return known([...this.o.secretKeys.keys()], "a Secret the rendered objects read");
        }
    }

    private get(k: Kubectl): Data {
        const { kinds, names } = this.targets(k, k.positional);
        const selector = k.flags.get("selector");
        if (selector !== undefined) for (const kind of kinds) this.selects(kind, selector);
        const output = k.flags.get("output");
        if (output === undefined || ["yaml", "json", "wide", "name"].includes(output)) return OPAQUE;
        const path = /^jsonpath=\{\.data\.((?:[^}\\]|\\.)+)\}$/.exec(output);
        if (!path || kinds.join() !== "secret" || names.length !== 1) {
            this.problem(`kubectl get -o ${output}: only -o yaml/json/wide/name, or jsonpath={.data.<key>} on one Secret, is checked here`);
            return OPAQUE;
        }
        const key = path[1].replace(/\\\./g, ".");
        const keys = this.o.secretKeys.get(names[0]);
        if (keys && !keys.some((pattern) => globMatch(pattern, key))) {
            this.problem(`Secret ${names[0]} is read by the stack under key(s) ${keys.join(", ")}, not ${key}`);
        }
        return { kind: "secret", name: names[0], key, base64: true };
    }

    private top(k: Kubectl): Data {
        if (!["pod", "pods", "po"].includes(k.positional.join()))
            this.problem(`kubectl top ${k.positional.join(" ")}: only \`top pod -l …\` is expected`);
        const selector = k.flags.get("selector");
        if (selector === undefined) this.problem("kubectl top pod without -l would list every pod of the namespace");
        else this.selects("pod", selector);
        return OPAQUE;
    }

    /** A selector must match the labels of at least one object of that kind the stack or Strimzi creates. */
    private selects(kind: string, selector: string): void {
        const wanted = selector.split(",").map((pair) => pair.split("="));
        if (wanted.some((p) => p.length !== 2)) {
            this.problem(`label selector ${selector}: only key=value terms are checked here`);
            return;
        }
        const candidates = this.labelSets(kind);
        if (!candidates.some((labels) => wanted.every(([key, value]) => labels[key] === value))) {
            this.problem(`label selector ${selector} matches no ${kind} the stack or Strimzi creates`);
        }
    }

    private labelSets(kind: string): Record<string, string>[] {
        switch (kind) {
            case "pod":
                return [
                    ...[...this.pods.values()].map((p) => p.labels),
                    ...this.o.cronJobs.map((cj) => cj.spec.jobTemplate.spec.template.metadata.labels),
                ];
            case "cronjob":
                return this.o.cronJobs.map((cj) => cj.metadata.labels);
            case "job":
                return this.o.cronJobs.map((cj) => cj.spec.jobTemplate.metadata.labels);
            case "kafkaconnector":
                return this.o.connectors.map((c) => c.body.metadata.labels);
            default:
                return [];
        }
    }

    private connector(k: Kubectl, positional: string[]): ConnectorObject | undefined {
        const { kinds, names } = this.targets(k, positional.slice(0, 2));
        if (kinds.join() !== "kafkaconnector" || names.length !== 1) {
            this.problem(`kubectl ${k.verb} is expected on one KafkaConnector only`);
            return undefined;
        }
        return this.o.connectors.find((c) => c.body.metadata.name === names[0]);
    }

    private annotate(k: Kubectl): Data {
        const connector = this.connector(k, k.positional);
        if (!k.flags.has("overwrite")) this.problem("kubectl annotate without --overwrite fails when a previous annotation is still there");
        for (const pair of k.positional.slice(2)) {
            const [key, value] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
            if (!(OPERATOR_ANNOTATIONS as readonly string[]).includes(key)) {
                this.problem(`annotation ${key} is not one Strimzi acts on and the stack ignores (${OPERATOR_ANNOTATIONS.join(", ")})`);
                continue;
            }
            const valid = STRIMZI_ANNOTATION_VALUES[key](value, connector);
            if (valid !== true) this.problem(`${key}=${value}: ${valid}`);
            if (
                key === "strimzi.io/connector-offsets" &&
                connector &&
                this.connectorStates.get(connector.body.metadata.name) !== "stopped"
            ) {
                this.problem(`${key}=${value} needs the connector stopped first (spec.state: stopped); Strimzi refuses it otherwise`);
            }
        }
        return OPAQUE;
    }

    private patch(k: Kubectl): Data {
        const connector = this.connector(k, k.positional);
        if (k.flags.get("type") !== "merge") this.problem("custom resources take only --type merge (JSON merge patch)");
        let patch: unknown;
        try {
            patch = JSON.parse(k.flags.get("patch") ?? "");
        } catch {
            this.problem(`patch ${k.flags.get("patch")} is not JSON`);
            return OPAQUE;
        }
        if (!connector) return OPAQUE;
        for (const path of leafPaths(patch)) {
            if (lookup(connector.body, path) === undefined) this.problem(`patch sets ${path.join(".")}, a field the stack does not render`);
        }
        const patched = mergePatch(connector.body, patch) as typeof connector.body;
        for (const p of validateManifest(patched as any)) this.problem(`the patched KafkaConnector fails the Strimzi CRD schema: ${p}`);
        this.connectorStates.set(connector.body.metadata.name, patched.spec?.state ?? "running");
        return OPAQUE;
    }

    private exec(k: Kubectl, stdin: Data): Data {
        const [pod] = k.positional;
        this.knownName("pod", pod, "exec");
        const info = this.pods.get(pod);
        const container = k.flags.get("container");
        if (info && container !== info.container)
            this.problem(`exec in ${pod}: container ${container ?? "(none: -c is required)"}; that pod's container is ${info.container}`);
        const wantsStdin = stdin.kind !== "opaque";
        if (wantsStdin !== k.flags.has("stdin"))
            this.problem(wantsStdin ? `exec into ${pod} is fed stdin but has no -i` : `exec into ${pod} has -i but nothing is fed to it`);
        if (!k.command.length) this.problem(`exec into ${pod} without -- <command>`);
        if (!info || !k.command.length) return OPAQUE;
        return this.inPod({ words: k.command }, pod, stdin);
    }

    private logs(k: Kubectl): Data {
        const container = k.flags.get("container");
        let containers: string[] = [];
        const selector = k.flags.get("selector");
        if (selector !== undefined) {
            this.selects("pod", selector);
            const wanted = selector.split(",").map((pair) => pair.split("="));
            const matches = (labels: Record<string, string>) => wanted.every(([key, value]) => labels[key] === value);
            containers = [
                ...[...this.pods.values()].filter((p) => matches(p.labels)).map((p) => p.container),
                ...this.o.cronJobs
                    .filter((cj) => matches(cj.spec.jobTemplate.spec.template.metadata.labels))
                    .map((cj) => cj.spec.jobTemplate.spec.template.spec.containers[0].name),
            ];
        } else {
            const { kinds, names } = this.targets(k, k.positional);
            const name = names[0];
            if (kinds.join() === "job")
                containers = this.jobs.has(name) ? [this.jobs.get(name)!.spec.jobTemplate.spec.template.spec.containers[0].name] : [];
            else if (kinds.join() === "pod") containers = this.pods.has(name) ? [this.pods.get(name)!.container] : [];
            else this.problem(`kubectl logs ${k.positional.join(" ")}: expected job/<name>, a pod, or -l`);
        }
        for (const c of new Set(containers))
            if (c !== container) this.problem(`logs: container ${container ?? "(none: pass -c)"}; the selected pods' container is ${c}`);
        return OPAQUE;
    }

    private createJob(k: Kubectl): Data {
        const [what, name] = k.positional;
        if (what !== "job" || !name) {
            this.problem(`kubectl create ${k.positional.join(" ")}: only \`create job <name> --from=cronjob/<cronjob>\` is expected`);
            return OPAQUE;
        }
        const from = /^cronjob\/(.+)$/.exec(k.flags.get("from") ?? "");
        const cronJob = from ? this.o.cronJobs.find((cj) => cj.metadata.name === from[1]) : undefined;
        if (!cronJob)
            this.problem(
                `create job --from=${k.flags.get("from")}: not a CronJob the stack renders (${this.o.cronJobs.map((cj) => `cronjob/${cj.metadata.name}`).join(", ") || "none"})`,
            );
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63)
            this.problem(`job name ${printable(name)} is not a valid Job name (DNS label, at most 63 characters)`);
        if (cronJob) this.jobs.set(name, cronJob);
        return OPAQUE;
    }

    private wait(k: Kubectl): Data {
        const { kinds } = this.targets(k, k.positional);
        const condition = /^condition=(\w+)$/.exec(k.flags.get("for") ?? "")?.[1];
        const valid: Record<string, string[]> = { pod: ["Ready"], job: ["Complete", "Failed"] };
        if (!condition || !valid[kinds[0]]?.some((c) => c.toLowerCase() === condition.toLowerCase())) {
            this.problem(`kubectl wait --for=${k.flags.get("for")} on ${kinds.join()}: not a condition that kind has`);
        }
        if (!k.flags.has("timeout")) this.problem("kubectl wait without --timeout waits only 30 s");
        return OPAQUE;
    }

    private deletePod(k: Kubectl): Data {
        const { kinds, names } = this.targets(k, k.positional);
        for (const name of names) {
            if (kinds.join() !== "pod" || this.pods.get(name)?.kind !== "reader")
                this.problem(`kubectl delete ${kinds.join()} ${name}: the runbooks delete only pods they create`);
        }
        return OPAQUE;
    }

    /** A throwaway pod that reads what the stack's workloads write: same image, user and volume, mounted read-only. */
    private apply(k: Kubectl, stdin: Data): Data {
        if (k.flags.get("filename") !== "-" || stdin.kind !== "text") {
            this.problem("kubectl apply is expected only as `apply -f -` with the manifest in a heredoc");
            return OPAQUE;
        }
        const pod = parseYaml(stdin.text) as any;
        if (pod?.apiVersion !== "v1" || pod?.kind !== "Pod") {
            this.problem("kubectl apply: the runbooks create only a v1 Pod");
            return OPAQUE;
        }
        const extra = Object.keys(pod).filter((key) => !["apiVersion", "kind", "metadata", "spec"].includes(key));
        if (extra.length) this.problem(`Pod has unexpected top-level keys ${extra.join(", ")}`);
        if (pod.metadata?.namespace !== undefined && pod.metadata.namespace !== this.o.namespace)
            this.problem(`Pod namespace ${pod.metadata.namespace} is not ${this.o.namespace}`);
        // No Pod schema is bundled; a CronJob's pod template has exactly a Pod's metadata and spec.
        const asCronJob = {
            apiVersion: "batch/v1",
            kind: "CronJob",
            metadata: { name: "pod-check" },
            spec: { schedule: "0 0 * * *", jobTemplate: { spec: { template: { metadata: pod.metadata, spec: pod.spec } } } },
        };
        for (const p of validateManifest(asCronJob))
            this.problem(`Pod manifest: ${p.replace("CronJob.spec.jobTemplate.spec.template", "Pod")}`);

        const spec = pod.spec ?? {};
        const containers: any[] = spec.containers ?? [];
        if (containers.length !== 1) this.problem("the reader Pod should have exactly one container");
        const workloads = this.o.cronJobs.map((cj) => cj.spec.jobTemplate.spec.template.spec);
        const mounts: PodInfo["mounts"] = [];
        for (const volume of spec.volumes ?? []) {
            const claim = volume.persistentVolumeClaim?.claimName;
            if (claim === undefined) {
                this.problem(`Pod volume ${volume.name}: only the stack's PersistentVolumeClaims are expected`);
                continue;
            }
            const owner = workloads.find((w) =>
                w.volumes.some((v) => "persistentVolumeClaim" in v && v.persistentVolumeClaim?.claimName === claim),
            );
            if (!owner) {
                this.problem(`Pod volume ${volume.name}: claim ${claim} is not one the stack's workloads mount`);
                continue;
            }
            if (volume.persistentVolumeClaim.readOnly !== true)
                this.problem(`Pod volume ${volume.name}: mount the claim readOnly so the reader cannot change reports`);
            const ownerVolume = owner.volumes.find((v) => "persistentVolumeClaim" in v && v.persistentVolumeClaim?.claimName === claim)!;
            const ownerMount = owner.containers[0].volumeMounts.find((m) => m.name === ownerVolume.name)!;
            for (const c of containers) {
                for (const m of (c.volumeMounts ?? []).filter((m: any) => m.name === volume.name)) {
                    if (m.mountPath !== ownerMount.mountPath)
                        this.problem(`Pod mounts claim ${claim} at ${m.mountPath}; the reconciler writes it at ${ownerMount.mountPath}`);
                    if (m.readOnly !== true) this.problem(`Pod mount ${m.mountPath} is not readOnly`);
                    mounts.push(m.mountPath);
                }
            }
            if (spec.securityContext?.runAsUser !== owner.securityContext.runAsUser) {
                this.problem(
                    `Pod runs as uid ${spec.securityContext?.runAsUser}; the files on ${claim} belong to uid ${owner.securityContext.runAsUser}`,
                );
            }
        }
        const images = [
            ...workloads.map((w) => w.containers[0].image),
            (this.o.connect.spec.build as { output: { image: string } }).output.image,
        ];
        for (const c of containers)
            if (!images.includes(c.image)) this.problem(`Pod image ${c.image} is not one the stack deploys (${images.join(", ")})`);
        const name = pod.metadata?.name;
        if (typeof name === "string" && containers[0]) {
            this.pods.set(name, { container: containers[0].name, kind: "reader", labels: pod.metadata.labels ?? {}, mounts });
        }
        return OPAQUE;
    }

    // -----------------------------------------------------------------------------------------
    // Commands inside a pod

    private inPod(cmd: Command, pod: string, stdin: Data): Data {
        const info = this.pods.get(pod)!;
        if (cmd.heredoc) this.problem(`heredoc inside a pod command`);
        const [program, ...args] = cmd.words;
        if (program === undefined) {
            const tcp = /^\/dev\/tcp\/([^/]+)\/(\d+)$/.exec(cmd.stdin ?? "");
            if (!tcp) this.problem(`a bare redirection in ${pod}: only the /dev/tcp/<host>/<port> reachability probe is expected`);
            else if (!this.o.databaseEndpoints.includes(`${tcp[1]}:${tcp[2]}`)) {
                this.problem(`probe of ${tcp[1]}:${tcp[2]}: not a database the connectors use (${this.o.databaseEndpoints.join(", ")})`);
            }
            return OPAQUE;
        }
        switch (program) {
            case "sh":
            case "bash":
                if (args[0] !== "-c" || args.length !== 2) {
                    this.problem(`${program} ${args.join(" ")}: only \`${program} -c '<script>'\` is expected`);
                    return OPAQUE;
                }
                return this.script(args[1], { where: "pod", pod }, stdin);
            case "umask":
                if (args.join() !== "077") this.problem(`umask ${args.join(" ")}: files with secrets are written with umask 077`);
                return OPAQUE;
            case "timeout":
                if (!/^\d+$/.test(args[0] ?? "")) this.problem("timeout needs a number of seconds");
                return this.inPod({ ...cmd, words: args.slice(1) }, pod, stdin);
            case "env": {
                const settings = args.filter((a) => /^[A-Z_]+=/.test(a));
                for (const s of settings)
                    if (!/^KAFKA_HEAP_OPTS=-Xmx\d+m$/.test(s)) this.problem(`env ${s}: only KAFKA_HEAP_OPTS=-Xmx<n>m is expected`);
                return this.inPod({ ...cmd, words: args.slice(settings.length) }, pod, stdin);
            }
            case "echo":
                return { kind: "text", text: args.join(" ") };
            case "cat":
                if (cmd.stdout !== undefined) {
                    if (args.length) this.problem(`cat ${args.join(" ")} > ${cmd.stdout}: expected \`cat > <file>\` reading stdin`);
                    this.writes(info, pod, cmd.stdout, stdin);
                    return OPAQUE;
                }
                for (const path of args) this.reads(info, pod, path);
                return OPAQUE;
            case "ls":
            case "head":
                for (const path of args.filter((a) => !a.startsWith("-") && !/^\d+$/.test(a))) this.reads(info, pod, path);
                return OPAQUE;
            case "rm":
                for (const path of args.filter((a) => a !== "-f")) {
                    if (!this.files.get(pod)?.has(path)) this.problem(`rm ${path} in ${pod}: only files this block wrote are removed`);
                }
                return OPAQUE;
            case "curl":
                return this.curl(info, pod, args);
            default:
                if (program === `${this.o.workers.kafkaBinDir}/kafka-console-consumer.sh`) return this.consoleConsumer(info, pod, args);
                this.problem(`\`${program}\` in ${pod} is not a command this checker knows`);
                return OPAQUE;
        }
    }

    private writes(info: PodInfo, pod: string, path: string, data: Data): void {
        if (info.kind !== "connect" || !path.startsWith(`${this.o.workers.writableDir}/`)) {
            this.problem(`writing ${path} in ${pod}: the only writable place is the Connect workers' ${this.o.workers.writableDir}`);
        }
        if (!this.files.has(pod)) this.files.set(pod, new Map());
        this.files.get(pod)!.set(path, data);
    }

    private reads(info: PodInfo, pod: string, path: string): void {
        if (new RegExp(`^${MARKER.source}$`).test(path)) return;
        const ok =
            info.kind === "reader" ? info.mounts.some((m) => path === m || path.startsWith(`${m}/`)) : this.files.get(pod)?.has(path);
        if (!ok)
            this.problem(
                `reading ${path} in ${pod}: ${info.kind === "reader" ? `not under the pod's mounts (${info.mounts.join(", ")})` : "not a file this block wrote"}`,
            );
    }

    /** Reads only: with strimzi.io/use-connector-resources, Strimzi reverts REST changes to its connectors. */
    private curl(info: PodInfo, pod: string, args: string[]): Data {
        if (info.kind !== "connect") this.problem(`curl in ${pod}: the Connect REST API is reached from a Connect worker`);
        const urls = args.filter((a) => !a.startsWith("-"));
        const flags = args.filter((a) => a.startsWith("-"));
        if (flags.some((f) => !["-s", "-sS", "--silent"].includes(f)))
            this.problem(`curl ${flags.join(" ")}: only GET requests (-s) are expected; Strimzi reverts REST writes`);
        const url = /^http:\/\/localhost:(\d+)(\/.*)$/.exec(urls[0] ?? "");
        if (urls.length !== 1 || !url) {
            this.problem(`curl ${urls.join(" ")}: expected one http://localhost:<port>/… URL`);
            return OPAQUE;
        }
        if (Number(url[1]) !== this.o.workers.restPort)
            this.problem(`curl port ${url[1]}: the Connect REST API listens on ${this.o.workers.restPort}`);
        const path = /^\/connectors(?:\/([^/]+)(?:\/(status|config|tasks|topics))?)?$/.exec(url[2]);
        if (!path) this.problem(`curl path ${url[2]} is not a Connect REST read of /connectors`);
        else if (path[1] !== undefined) this.knownName("kafkaconnector", path[1], "curl");
        return OPAQUE;
    }

    /** The consumer must speak the listener the workers use, with the workers' CA and SCRAM user. */
    private consoleConsumer(info: PodInfo, pod: string, args: string[]): Data {
        if (info.kind !== "connect")
            this.problem(`kafka-console-consumer.sh in ${pod}: run it in a Connect worker, which reaches the brokers`);
        const opts = new Map<string, string[]>();
        for (let i = 0; i < args.length; i++) {
            const name = args[i].replace(/^--/, "");
            if (!CONSOLE_CONSUMER_OPTIONS.has(name)) {
                this.problem(
                    `kafka-console-consumer.sh ${args[i]}: not an option checked here${name === "group" ? " (never join a group: the sink's would lose its partitions)" : ""}`,
                );
                continue;
            }
            const takesValue = CONSOLE_CONSUMER_OPTIONS.get(name)!;
            opts.set(name, [...(opts.get(name) ?? []), takesValue ? args[++i] : ""]);
        }
        const bootstrap = opts.get("bootstrap-server")?.[0];
        if (bootstrap !== this.o.connect.spec.bootstrapServers)
            this.problem(`--bootstrap-server ${bootstrap}: the workers use ${this.o.connect.spec.bootstrapServers}`);
        const topic = opts.get("topic")?.[0];
        if (!topic || !this.o.topics.includes(topic)) this.problem(`--topic ${topic}: not a topic the stack creates`);
        for (const p of opts.get("property") ?? [])
            if (!/^print\.[a-z]+=(true|false)$/.test(p))
                this.problem(`--property ${p}: only print.*=true|false formatter settings are expected`);
        const configFile = opts.get("consumer.config")?.[0];
        const config = configFile === undefined ? undefined : this.files.get(pod)?.get(configFile);
        if (configFile !== undefined && config?.kind !== "text") {
            this.problem(`--consumer.config ${configFile}: not a properties file this block wrote in ${pod}`);
            return OPAQUE;
        }
        this.clientSecurity(pod, config?.kind === "text" ? parseProperties(config.text) : new Map());
        return OPAQUE;
    }

    private clientSecurity(pod: string, props: Map<string, string>): void {
        const want = this.o.security;
        const known = new Set([
            "security.protocol",
            "sasl.mechanism",
            "sasl.jaas.config",
            "ssl.truststore.type",
            "ssl.truststore.location",
        ]);
        for (const key of props.keys()) {
            if (!known.has(key))
                this.problem(
                    `client setting ${key}: only the listener security settings are expected${key === "group.id" ? " (never join a group)" : ""}`,
                );
        }
        const protocol = props.get("security.protocol") ?? "PLAINTEXT";
        if (protocol !== want.protocol)
            this.problem(`security.protocol ${protocol}: the workers connect with ${want.protocol} (KafkaConnect spec.tls/authentication)`);
        if (want.scram) {
            if (props.get("sasl.mechanism") !== want.scram.mechanism)
                this.problem(
                    `sasl.mechanism ${props.get("sasl.mechanism") ?? "(missing)"}: the KafkaConnect authenticates with ${want.scram.mechanism}`,
                );
            const jaas =
                /^org\.apache\.kafka\.common\.security\.scram\.ScramLoginModule required username="([^"]*)" password="([^"]*)";$/.exec(
                    props.get("sasl.jaas.config") ?? "",
                );
            if (!jaas)
                this.problem(
                    `sasl.jaas.config ${printable(props.get("sasl.jaas.config") ?? "(missing)")}: expected ScramLoginModule required username="…" password="…";`,
                );
            else {
                if (jaas[1] !== want.scram.username)
                    this.problem(`SCRAM username ${jaas[1]}: the KafkaConnect authenticates as ${want.scram.username}`);
                const password = this.dataOf(jaas[2]);
                if (
                    password?.kind !== "secret" ||
                    password.base64 ||
                    password.name !== want.scram.secret ||
                    password.key !== want.scram.key
                ) {
                    this.problem(
                        `SCRAM password: must be the decoded key ${want.scram.key} of Secret ${want.scram.secret} (the KafkaConnect's passwordSecret)`,
                    );
                }
            }
        } else if (props.has("sasl.mechanism") || props.has("sasl.jaas.config"))
            this.problem("SASL settings, but the KafkaConnect does not authenticate");
        if (want.tls) {
            const location = props.get("ssl.truststore.location") ?? "";
            const ca = this.files.get(pod)?.get(location);
            if (props.get("ssl.truststore.type") !== "PEM") this.problem("ssl.truststore.type must be PEM for a CA certificate file");
            if (ca?.kind !== "secret" || ca.base64 || ca.name !== want.tls.secret || !globMatch(want.tls.pattern, ca.key)) {
                this.problem(
                    `ssl.truststore.location ${location || "(missing)"}: must be a file holding the decoded ${want.tls.pattern} of Secret ${want.tls.secret} (the KafkaConnect's trustedCertificates)`,
                );
            }
        } else if ([...props.keys()].some((key) => key.startsWith("ssl.")))
            this.problem("TLS settings, but the KafkaConnect connects without TLS");
    }

    private dataOf(value: string): Data | undefined {
        const m = new RegExp(`^${MARKER.source}$`).exec(value);
        return m ? this.subs[Number(m[1])] : undefined;
    }
}

// ---------------------------------------------------------------------------------------------
// kubectl

interface Kubectl {
    verb: string;
    positional: string[];
    flags: Map<string, string>;
    command: string[];
    error?: string;
}

const VALUE_FLAGS: Record<string, string> = {
    "-n": "namespace",
    "--namespace": "namespace",
    "-c": "container",
    "--container": "container",
    "-l": "selector",
    "--selector": "selector",
    "-o": "output",
    "--output": "output",
    "-p": "patch",
    "--patch": "patch",
    "--type": "type",
    "--from": "from",
    "--for": "for",
    "--timeout": "timeout",
    "--tail": "tail",
    "--pod-running-timeout": "pod-running-timeout",
    "--filename": "filename",
};
const BOOLEAN_FLAGS: Record<string, string> = {
    "-i": "stdin",
    "--stdin": "stdin",
    "--overwrite": "overwrite",
    "--prefix": "prefix",
    "--follow": "follow",
};

const VERB_FLAGS: Record<string, string[]> = {
    get: ["selector", "output"],
    describe: [],
    top: ["selector"],
    annotate: ["overwrite"],
    patch: ["type", "patch"],
    exec: ["stdin", "container"],
    logs: ["container", "selector", "follow", "tail", "prefix", "pod-running-timeout"],
    create: ["from"],
    wait: ["for", "timeout"],
    apply: ["filename"],
    delete: [],
};

function parseKubectl(args: string[]): Kubectl {
    const k: Kubectl = { verb: "", positional: [], flags: new Map(), command: [] };
    for (let i = 0; i < args.length; i++) {
        const arg = args[i];
        if (arg === "--") {
            k.command = args.slice(i + 1);
            break;
        }
        const [flag, inline] =
            arg.startsWith("--") && arg.includes("=")
                ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
                : [arg, undefined];
        // `-f` is `--follow` for logs and `--filename` everywhere else.
        const name = flag === "-f" ? (k.verb === "logs" ? "follow" : "filename") : (VALUE_FLAGS[flag] ?? BOOLEAN_FLAGS[flag]);
        if (flag.startsWith("-") && !name) return { ...k, error: `unknown flag ${flag}` };
        if (!name) {
            if (!k.verb) k.verb = arg;
            else k.positional.push(arg);
        } else if (Object.values(BOOLEAN_FLAGS).includes(name)) k.flags.set(name, "");
        else k.flags.set(name, inline ?? args[++i]);
    }
    return k;
}

const KINDS: Record<string, string> = {
    kafkaconnector: "kafkaconnector",
    kafkaconnectors: "kafkaconnector",
    kctr: "kafkaconnector",
    kafkaconnect: "kafkaconnect",
    kafkaconnects: "kafkaconnect",
    pod: "pod",
    pods: "pod",
    cronjob: "cronjob",
    cronjobs: "cronjob",
    job: "job",
    jobs: "job",
    secret: "secret",
    secrets: "secret",
};

/** The values Strimzi 1.2 accepts (KafkaConnectAssemblyOperator, AbstractConnectOperator). */
const STRIMZI_ANNOTATION_VALUES: Record<string, (value: string, connector?: ConnectorObject) => true | string> = {
    "strimzi.io/restart": (v) =>
        /^(true|includeTasks|onlyFailed|includeTasks,onlyFailed|onlyFailed,includeTasks)$/.test(v) ||
        "Strimzi takes true, includeTasks, onlyFailed or includeTasks,onlyFailed",
    "strimzi.io/restart-task": (v, c) =>
        (/^\d+$/.test(v) && (!c || Number(v) < c.body.spec.tasksMax)) ||
        `a task id below the connector's tasksMax (${c?.body.spec.tasksMax})`,
    "strimzi.io/connector-offsets": (v) => ["list", "alter", "reset"].includes(v) || "Strimzi takes list, alter or reset",
};

const CONSOLE_CONSUMER_OPTIONS = new Map<string, boolean>([
    ["bootstrap-server", true],
    ["topic", true],
    ["consumer.config", true],
    ["from-beginning", false],
    ["max-messages", true],
    ["timeout-ms", true],
    ["property", true],
]);

// ---------------------------------------------------------------------------------------------
// Small helpers

function matchingParen(text: string, open: number): number {
    let depth = 0;
    let quote: string | undefined;
    for (let i = open; i < text.length; i++) {
        const c = text[i];
        if (quote) {
            if (c === quote) quote = undefined;
        } else if (c === "'" || c === '"') quote = c;
        else if (c === "(") depth++;
        else if (c === ")" && --depth === 0) return i;
    }
    return text.length - 1;
}

function globMatch(pattern: string, value: string): boolean {
    return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`).test(value);
}

function parseProperties(text: string): Map<string, string> {
    const props = new Map<string, string>();
    for (const line of text.split("\n")) {
        const m = /^\s*([^#=\s][^=]*?)\s*=\s*(.*)$/.exec(line);
        if (m) props.set(m[1], m[2]);
    }
    return props;
}

function leafPaths(value: unknown, at: string[] = []): string[][] {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return [at];
    return Object.entries(value).flatMap(([key, child]) => leafPaths(child, [...at, key]));
}

function lookup(value: unknown, path: string[]): unknown {
    return path.reduce<unknown>((v, key) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined), value);
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
    if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
    const out: Record<string, unknown> =
        target !== null && typeof target === "object" && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
    for (const [key, value] of Object.entries(patch)) {
        if (value === null) delete out[key];
        else out[key] = mergePatch(out[key], value);
    }
    return out;
}

const printable = (s: string): string => s.replace(MARKER, "$(…)");
