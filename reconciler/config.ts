/**
 * The reconciler's configuration: the file the CronJob's ConfigMap mounts (YAML or JSON), and the command line
 * that can replace any part of it. See reconciler/README.md "Configuration file".
 */
import { readFileSync } from "fs";
import { parseDocument } from "yaml";
import { z } from "zod";
import { FlagSpec, parseFlags } from "../model/args";
import { REPORT_DIR } from "../model/paths";
import { DEFAULT_SETTINGS, Settings } from "./reconcile";
import { Thresholds } from "./report";

/** A database URL given inline, or (for secrets) by the name of an environment variable or a file holding it. */
const endpointSchema = z.union(
    [
        z.string().min(1),
        z
            .object({ url: z.string().min(1).optional(), urlEnv: z.string().min(1).optional(), urlFile: z.string().min(1).optional() })
            .strict()
            .refine((e) => [e.url, e.urlEnv, e.urlFile].filter(Boolean).length === 1, {
                message: "give exactly one of url, urlEnv, urlFile",
            }),
    ],
    {
        error: (iss) => (iss.input === undefined ? "required: a database URL or { url | urlEnv | urlFile }" : undefined),
    },
);

const tableSchema = z.union([
    z.string().regex(/^[^=\s]+(=[^=\s]+)?$/, "expected schema.table or schema.table=schema.table"),
    z
        .object({
            source: z.string().min(1),
            target: z.string().min(1).optional(),
            excludeColumns: z.array(z.string().min(1)).optional(),
            deletedColumn: z.string().min(1).nullable().optional(),
        })
        .strict(),
]);

const positive = z.number().positive();
const count = z.number().int().positive();

const reconcilerConfigSchema = z
    .object({
        source: endpointSchema,
        target: endpointSchema,
        tables: z.array(tableSchema).min(1),
        reportDir: z.string().min(1).default(REPORT_DIR),
        lagWindowSeconds: z.number().min(0).default(DEFAULT_SETTINGS.lagWindowSeconds),
        recheckAttempts: count.default(DEFAULT_SETTINGS.recheckAttempts),
        maxDiscrepanciesPerTable: count.default(1000),
        criticalRatio: z.number().min(0).max(1).default(0.01),
        bucketRows: count.default(DEFAULT_SETTINGS.bucketRows),
        chunkSeconds: positive.default(DEFAULT_SETTINGS.chunkSeconds),
        maxSuspectRows: count.default(DEFAULT_SETTINGS.maxSuspectRows),
        pushgateway: z
            .object({
                url: z.string().url(),
                job: z.string().min(1).default("cdc-reconciler"),
                labels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string()).default({}),
            })
            .strict()
            .optional(),
    })
    .strict();

/** The configuration file's shape, as written by people or by the CronJob component (defaults optional). */
export type ReconcilerConfigInput = z.input<typeof reconcilerConfigSchema>;
/** The configuration with every default filled in. */
export type ReconcilerConfig = z.output<typeof reconcilerConfigSchema>;
type Endpoint = z.output<typeof endpointSchema>;
type TableEntry = z.output<typeof tableSchema>;

function issues(e: z.ZodError): string {
    return e.issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`).join("; ");
}

/** Validates a parsed configuration object; one error lists every problem with its path. */
export function validateReconcilerConfig(value: unknown): ReconcilerConfig {
    const r = reconcilerConfigSchema.safeParse(value);
    if (!r.success) throw new Error(`invalid reconciler configuration: ${issues(r.error)}`);
    return r.data;
}

/**
 * The configuration file's text (YAML, of which JSON is a subset) as a value. YAML's warnings (an unknown tag or
 * directive) are refused like its errors: the file would otherwise be read as something other than was written.
 */
export function parseConfigText(text: string): unknown {
    const invalid = (message: string) => new Error(`reconciler configuration is not valid YAML/JSON: ${message}`);
    const doc = parseDocument(text, { logLevel: "error" });
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) throw invalid(problem.message);
    try {
        return doc.toJS();
    } catch (e) {
        // An alias without its anchor surfaces only here, as a ReferenceError.
        throw invalid((e as Error).message);
    }
}

export function parseReconcilerConfig(text: string): ReconcilerConfig {
    return validateReconcilerConfig(parseConfigText(text));
}

export function resolveEndpoint(
    e: Endpoint,
    env: NodeJS.ProcessEnv = process.env,
    read: (f: string) => string = (f) => readFileSync(f, "utf8"),
): string {
    if (typeof e === "string") return e;
    if (e.url) return e.url;
    if (e.urlEnv) {
        const v = env[e.urlEnv];
        if (!v) throw new Error(`environment variable ${e.urlEnv} (database URL) is not set`);
        return v;
    }
    return read(e.urlFile!).trim();
}

const SYNOPSIS = `npm run reconcile -- [--config <file>] [--source <url>] [--target <url>]
       [--table <schema.table>[=<schema.table>]]... [--report-dir <dir>] [--lag-window <seconds>]
       [--pushgateway <url>] [--verbose]`;

export const HELP = `usage: ${SYNOPSIS}

URLs: postgres://, mysql:// (MySQL and MariaDB), mssql://. Command-line values override the config file.
Exit codes: 0 in sync, 1 discrepancies confirmed, 2 error.`;

const FLAGS = {
    config: { type: "string" },
    source: { type: "string" },
    target: { type: "string" },
    table: { type: "string", multiple: true },
    "report-dir": { type: "string" },
    "lag-window": { type: "number", min: 0 },
    pushgateway: { type: "string" },
    verbose: { type: "boolean", short: "v" },
    help: { type: "boolean", short: "h" },
} as const satisfies Record<string, FlagSpec>;

interface CliOptions {
    config?: string;
    source?: string;
    target?: string;
    tables: string[];
    reportDir?: string;
    lagWindowSeconds?: number;
    pushgateway?: string;
    verbose: boolean;
    help: boolean;
}

/** Throws UsageError (with the synopsis) on an unknown flag, a missing value or a bad number. */
export function parseArgs(argv: readonly string[]): CliOptions {
    const f = parseFlags(argv, FLAGS, SYNOPSIS);
    return {
        config: f.config,
        source: f.source,
        target: f.target,
        tables: f.table,
        reportDir: f["report-dir"],
        lagWindowSeconds: f["lag-window"],
        pushgateway: f.pushgateway,
        verbose: f.verbose,
        help: f.help,
    };
}

/** Command-line values override the file's; without --config the command line must name everything. */
export function mergeConfig(cli: CliOptions, file: ReconcilerConfigInput | null): ReconcilerConfig {
    const merged: Record<string, unknown> = { ...(file ?? {}) };
    if (cli.source) merged.source = cli.source;
    if (cli.target) merged.target = cli.target;
    if (cli.tables.length) merged.tables = cli.tables;
    if (cli.reportDir) merged.reportDir = cli.reportDir;
    if (cli.lagWindowSeconds !== undefined) merged.lagWindowSeconds = cli.lagWindowSeconds;
    if (cli.pushgateway) merged.pushgateway = { ...(file?.pushgateway ?? {}), url: cli.pushgateway };
    return validateReconcilerConfig(merged);
}

export function settingsOf(c: ReconcilerConfig): Settings {
    return {
        ...DEFAULT_SETTINGS,
        lagWindowSeconds: c.lagWindowSeconds,
        recheckAttempts: c.recheckAttempts,
        bucketRows: c.bucketRows,
        chunkSeconds: c.chunkSeconds,
        maxSuspectRows: c.maxSuspectRows,
    };
}

export function thresholdsOf(c: ReconcilerConfig): Thresholds {
    return { maxDiscrepancies: c.maxDiscrepanciesPerTable, criticalRatio: c.criticalRatio };
}

/** Splits `src` or `src=tgt` into the two table names (still unqualified strings). */
export function tablePair(entry: TableEntry): { source: string; target: string; excludeColumns?: string[]; deletedColumn?: string | null } {
    if (typeof entry === "string") {
        const [source, target] = entry.split("=");
        return { source, target: target ?? source };
    }
    return {
        source: entry.source,
        target: entry.target ?? entry.source,
        excludeColumns: entry.excludeColumns,
        deletedColumn: entry.deletedColumn,
    };
}
