/**
 * The reconciler's configuration: the file the CronJob's ConfigMap mounts (YAML or JSON), and the command line
 * that can replace any part of it. See reconciler/README.md "Configuration file".
 */
import { readFileSync } from "fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { DEFAULT_SETTINGS, Settings } from "./reconcile";
import { Thresholds } from "./report";

/** A database URL given inline, or (for secrets) by the name of an environment variable or a file holding it. */
const endpointSchema = z.union([
  z.string().min(1),
  z
    .object({ url: z.string().min(1).optional(), urlEnv: z.string().min(1).optional(), urlFile: z.string().min(1).optional() })
    .strict()
    .refine((e) => [e.url, e.urlEnv, e.urlFile].filter(Boolean).length === 1, { message: "give exactly one of url, urlEnv, urlFile" }),
], {
  error: (iss) => (iss.input === undefined ? "required: a database URL or { url | urlEnv | urlFile }" : undefined),
});

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

export const reconcilerConfigSchema = z
  .object({
    source: endpointSchema,
    target: endpointSchema,
    tables: z.array(tableSchema).min(1),
    reportDir: z.string().min(1).default("/var/reports"),
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
export type Endpoint = z.output<typeof endpointSchema>;
export type TableEntry = z.output<typeof tableSchema>;

function issues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`).join("; ");
}

/** Validates a parsed configuration object; one error lists every problem with its path. */
export function validateReconcilerConfig(value: unknown): ReconcilerConfig {
  const r = reconcilerConfigSchema.safeParse(value);
  if (!r.success) throw new Error(`invalid reconciler configuration: ${issues(r.error)}`);
  return r.data;
}

/** Parses the configuration file's text (YAML, of which JSON is a subset). */
export function parseReconcilerConfig(text: string): ReconcilerConfig {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new Error(`reconciler configuration is not valid YAML/JSON: ${(e as Error).message}`);
  }
  return validateReconcilerConfig(value);
}

export function resolveEndpoint(e: Endpoint, env: NodeJS.ProcessEnv = process.env, read: (f: string) => string = (f) => readFileSync(f, "utf8")): string {
  if (typeof e === "string") return e;
  if (e.url) return e.url;
  if (e.urlEnv) {
    const v = env[e.urlEnv];
    if (!v) throw new Error(`environment variable ${e.urlEnv} (database URL) is not set`);
    return v;
  }
  return read(e.urlFile!).trim();
}

export interface CliOptions {
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

const NUMBER_FLAGS: Record<string, "lagWindowSeconds"> = { "--lag-window": "lagWindowSeconds" };
const STRING_FLAGS: Record<string, "config" | "source" | "target" | "reportDir" | "pushgateway"> = {
  "--config": "config",
  "--source": "source",
  "--target": "target",
  "--report-dir": "reportDir",
  "--pushgateway": "pushgateway",
};

export function parseArgs(argv: string[]): CliOptions {
  const o: CliOptions = { tables: [], verbose: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith("--") && argv[i].includes("=") && !argv[i].startsWith("--table=") ? [argv[i].slice(0, argv[i].indexOf("=")), argv[i].slice(argv[i].indexOf("=") + 1)] : [argv[i], undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === "--verbose" || flag === "-v") o.verbose = true;
    else if (flag === "--help" || flag === "-h") o.help = true;
    else if (flag === "--table") o.tables.push(value());
    else if (flag.startsWith("--table=")) o.tables.push(flag.slice("--table=".length));
    else if (flag in STRING_FLAGS) o[STRING_FLAGS[flag]] = value();
    else if (flag in NUMBER_FLAGS) {
      const v = Number(value());
      if (!Number.isFinite(v) || v < 0) throw new Error(`${flag} needs a non-negative number`);
      o[NUMBER_FLAGS[flag]] = v;
    } else throw new Error(`unknown argument ${argv[i]} (see --help)`);
  }
  return o;
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
  return { source: entry.source, target: entry.target ?? entry.source, excludeColumns: entry.excludeColumns, deletedColumn: entry.deletedColumn };
}
