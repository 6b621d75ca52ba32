/**
 * Configuration problems are collected, never thrown one at a time: a user fixing a stack file should
 * see every mistake in one run, each with the config path and what to write instead.
 */

type ConfigPath = ReadonlyArray<string | number>;

export interface ConfigIssue {
    path: ConfigPath;
    message: string;
}

/** `pipelines[0].source.tables[2].name` */
export function formatPath(path: ConfigPath): string {
    let out = "";
    for (const part of path) {
        if (typeof part === "number") out += `[${part}]`;
        else out += out === "" ? part : `.${part}`;
    }
    return out === "" ? "(stack config)" : out;
}

function formatIssue(issue: ConfigIssue): string {
    return `${formatPath(issue.path)}: ${issue.message}`;
}

export class ConfigError extends Error {
    readonly issues: readonly ConfigIssue[];

    constructor(issues: readonly ConfigIssue[], project = "cdc-pipeline") {
        const lines = issues.map((i) => `  - ${formatIssue(i)}`);
        super(
            `Invalid stack configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}; ` +
                `paths are under the "${project}:" keys of Pulumi.<stack>.yaml):\n${lines.join("\n")}`,
        );
        this.name = "ConfigError";
        this.issues = issues;
    }
}

/** Closest candidate by edit distance, to turn "unknown key taskMax" into "did you mean tasksMax?". */
export function closest(word: string, candidates: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const candidate of candidates) {
        const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
        if (d < bestDistance) {
            bestDistance = d;
            best = candidate;
        }
    }
    return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        previous = current;
    }
    return previous[b.length];
}
