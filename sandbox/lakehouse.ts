/**
 * The lakehouse writers in the sandbox: one `python -m cdc_lakehouse run` per pipeline with destinations,
 * reading the file plan/lakehouse.ts renders for the deployed stack with the sandbox's endpoints swapped in
 * (local warehouse folder, the catalog password file, a free health port), and restarted on a crash with
 * back-off the way Kubernetes restarts the writer's pod.
 */
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { Client } from "pg";
import type { PipelineSpec, StackSpec } from "../model/spec";
import { lakehousePipelines, renderWriterConfig, WriterConfigFile, writerConfigFile } from "../plan/lakehouse";
import { freePort, RunningDatabase } from "./databases";
import { CACHE_DIR, REPO_ROOT } from "./paths";
import { track } from "./shutdown";
import { promisify } from "util";
import { CATALOG_DATABASE, SANDBOX_WAREHOUSE_URI } from "./stack";

const run = promisify(execFile);

export const VENV_PYTHON = path.join(CACHE_DIR, "lakehouse-venv", "bin", "python");

interface LocalWriterSettings {
    /** Absolute folder the tables go to (`.sandbox/<name>/warehouse`). */
    warehouseDir: string;
    catalogPasswordFile: string;
    healthPort: number;
}

/**
 * The deployed file with local paths: Delta locations become folders, the Iceberg catalog's warehouse a
 * file:// URI (pyiceberg picks its FileIO by scheme), and the mounted-secret path the sandbox's file.
 */
export function localWriterConfig(file: WriterConfigFile, local: LocalWriterSettings): WriterConfigFile {
    const toLocal = (value: string) =>
        value.startsWith(SANDBOX_WAREHOUSE_URI) ? local.warehouseDir + value.slice(SANDBOX_WAREHOUSE_URI.length) : value;
    const [pipeline] = file.pipelines;
    return {
        ...file,
        ...(file.catalogs
            ? {
                  catalogs: Object.fromEntries(
                      Object.entries(file.catalogs).map(([name, c]) => [
                          name,
                          { ...c, warehouse: `file://${toLocal(c.warehouse)}`, password_file: local.catalogPasswordFile },
                      ]),
                  ),
              }
            : {}),
        pipelines: [
            {
                ...pipeline,
                observability: { ...pipeline.observability, health_check_port: local.healthPort },
                ...(pipeline.validation_results
                    ? { validation_results: { ...pipeline.validation_results, location: toLocal(pipeline.validation_results.location) } }
                    : {}),
                destinations: pipeline.destinations.map((d) => (d.location ? { ...d, location: toLocal(d.location) } : d)),
            },
        ],
    };
}

/** The catalog's own database, as the stack's postgres provider creates it on the warehouse server. */
async function createCatalogDatabase(target: RunningDatabase): Promise<void> {
    const c = new Client({ connectionString: target.url });
    await c.connect();
    try {
        await c.query(`CREATE DATABASE ${CATALOG_DATABASE}`);
    } finally {
        await c.end();
    }
}

const BACKOFF_MS = { first: 1_000, max: 30_000 };
/** A writer that stayed up this long gets the first back-off again after its next crash. */
const STABLE_MS = 60_000;

export interface WriterProcess {
    pipeline: string;
    configFile: string;
    logFile: string;
    healthPort: number;
    /** How many times the writer was started after exiting on its own or being killed. */
    restarts: number;
    pid(): number | undefined;
    /** SIGKILL, as a crash would; the supervisor starts it again after its back-off. */
    kill(): Promise<void>;
    /** 200 from /healthz: the writer has opened its tables and its last batch succeeded. */
    healthy(): Promise<boolean>;
    stop(): Promise<void>;
}

function healthz(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const req = http.get({ host: "127.0.0.1", port, path: "/healthz", timeout: 2000 }, (res) => {
            res.resume();
            resolve(res.statusCode === 200);
        });
        req.on("error", () => resolve(false));
        req.on("timeout", () => (req.destroy(), resolve(false)));
    });
}

export function startWriter(
    pipeline: string,
    configFile: string,
    logFile: string,
    healthPort: number,
    log: (line: string) => void,
): WriterProcess {
    let child: ChildProcess | undefined;
    let exited: Promise<void> = Promise.resolve();
    let stopping = false;
    let backoff = BACKOFF_MS.first;
    let timer: NodeJS.Timeout | undefined;

    const launch = () => {
        const out = fs.openSync(logFile, "a");
        const startedAt = Date.now();
        const p = spawn(
            VENV_PYTHON,
            ["-m", "cdc_lakehouse", "run", "--config", configFile, "--pipeline", pipeline, "--metrics-host", "127.0.0.1"],
            {
                cwd: REPO_ROOT,
                stdio: ["ignore", out, out],
                env: { ...process.env, PYTHONUNBUFFERED: "1" },
            },
        );
        fs.closeSync(out);
        child = p;
        exited = new Promise((resolve) =>
            p.once("exit", (code, signal) => {
                resolve();
                if (stopping) return;
                if (Date.now() - startedAt > STABLE_MS) backoff = BACKOFF_MS.first;
                log(
                    `lakehouse writer ${pipeline} ended (${signal ? `signal ${signal}` : `exit ${code}`}); restarting in ${backoff / 1000} s (log ${logFile})`,
                );
                timer = setTimeout(() => {
                    handle.restarts++;
                    launch();
                }, backoff).unref();
                backoff = Math.min(backoff * 2, BACKOFF_MS.max);
            }),
        );
    };

    const handle: WriterProcess = {
        pipeline,
        configFile,
        logFile,
        healthPort,
        restarts: 0,
        pid: () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
        kill: async () => {
            child?.kill("SIGKILL");
            await exited;
        },
        healthy: () => healthz(healthPort),
        stop: async () => {
            stopping = true;
            clearTimeout(timer);
            if (child && child.exitCode === null && child.signalCode === null) {
                child.kill("SIGTERM");
                const forced = setTimeout(() => child?.kill("SIGKILL"), 15_000);
                await exited;
                clearTimeout(forced);
            }
        },
    };
    launch();
    return handle;
}

interface LakehouseTable {
    pipeline: string;
    name: string;
    format: "deltalake" | "iceberg";
    /** Delta: the table's folder. */
    location?: string;
    namespace?: string;
}

export interface RunningLakehouse {
    warehouseDir: string;
    writers: WriterProcess[];
    tables: LakehouseTable[];
    /** Where each table is readable right now (Iceberg's current metadata file comes from the catalog); tables no commit created yet are left out. */
    tablesNow(): Promise<Record<string, { format: string; path: string }>>;
    /** Writes tablesNow() where sandbox/lakehouse_read.py reads it; returns the file. */
    writeTablesFile(): Promise<string>;
    /** One list of rows per statement, read by DuckDB (sandbox/lakehouse_read.py); each table is a view of its name. */
    query<T = Record<string, unknown>>(...sql: string[]): Promise<T[][]>;
    stop(): Promise<void>;
}

const READER = path.join(REPO_ROOT, "sandbox", "lakehouse_read.py");

/** One list of rows per statement, read by DuckDB from the tables a file written like writeTablesFile() names. */
export async function readLakehouse<T = Record<string, unknown>>(tablesFile: string, sql: readonly string[]): Promise<T[][]> {
    const { stdout } = await run(VENV_PYTHON, [READER, tablesFile, ...sql], { maxBuffer: 256 * 1024 * 1024 });
    return stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as T[]);
}

/** The catalog's pointer to each Iceberg table's current metadata file (pyiceberg's SqlCatalog table). */
export async function icebergMetadata(target: RunningDatabase): Promise<Map<string, string>> {
    const c = new Client({ connectionString: `${target.url.slice(0, target.url.lastIndexOf("/"))}/${CATALOG_DATABASE}` });
    await c.connect();
    try {
        const rows = (await c.query("SELECT table_namespace, table_name, metadata_location FROM iceberg_tables")).rows;
        return new Map(rows.map((r) => [`${r.table_namespace}.${r.table_name}`, String(r.metadata_location).replace(/^file:\/\//, "")]));
    } catch (err) {
        // pyiceberg creates the table on the first catalog use: no writer has opened an Iceberg table yet.
        if ((err as { code?: string }).code === "42P01") return new Map();
        throw err;
    } finally {
        await c.end();
    }
}

export async function startLakehouse(opts: {
    spec: StackSpec;
    runDir: string;
    logDir: string;
    secretsDir: string;
    target: RunningDatabase;
    log: (line: string) => void;
}): Promise<RunningLakehouse> {
    const warehouseDir = path.join(opts.runDir, "warehouse");
    fs.mkdirSync(warehouseDir, { recursive: true });
    fs.mkdirSync(opts.logDir, { recursive: true });
    const catalogPasswordFile = path.join(opts.secretsDir, "iceberg-catalog-password");
    fs.writeFileSync(catalogPasswordFile, opts.target.password, { mode: 0o600 });
    await createCatalogDatabase(opts.target);

    const writers: WriterProcess[] = [];
    const tables: LakehouseTable[] = [];
    for (const pipeline of lakehousePipelines(opts.spec) as PipelineSpec[]) {
        const healthPort = await freePort();
        const config = localWriterConfig(writerConfigFile(opts.spec, pipeline), { warehouseDir, catalogPasswordFile, healthPort });
        const configFile = path.join(opts.runDir, `lakehouse-${pipeline.name}.json`);
        fs.writeFileSync(configFile, renderWriterConfig(config));
        for (const d of config.pipelines[0].destinations) {
            tables.push({
                pipeline: pipeline.name,
                name: d.name,
                format: d.format,
                ...(d.location ? { location: d.location } : { namespace: d.namespace }),
            });
        }
        const writer = startWriter(
            pipeline.name,
            configFile,
            path.join(opts.logDir, `lakehouse-${pipeline.name}.log`),
            healthPort,
            opts.log,
        );
        track({
            name: `lakehouse writer ${pipeline.name}`,
            stop: () => writer.stop(),
            killNow: () => writer.pid() && process.kill(writer.pid()!, "SIGKILL"),
        });
        writers.push(writer);
        opts.log(
            `lakehouse writer ${pipeline.name}: ${pipeline.destinations.map((d) => `${d.format} ${d.name}`).join(", ")} (log ${writer.logFile})`,
        );
    }
    const tablesNow = async () => {
        const metadata = await icebergMetadata(opts.target);
        return Object.fromEntries(
            tables.flatMap((t) => {
                const where = t.location ?? metadata.get(`${t.namespace}.${t.name}`);
                const exists = t.location ? fs.existsSync(path.join(t.location, "_delta_log")) : where !== undefined;
                return exists ? [[t.name, { format: t.format, path: where! }]] : [];
            }),
        );
    };
    const tablesFile = path.join(opts.runDir, "lakehouse-tables.json");
    const writeTablesFile = async () => {
        fs.writeFileSync(tablesFile, `${JSON.stringify(await tablesNow(), null, 2)}\n`);
        return tablesFile;
    };
    const query = async <T>(...sql: string[]): Promise<T[][]> => readLakehouse<T>(await writeTablesFile(), sql);
    return {
        warehouseDir,
        writers,
        tables,
        tablesNow,
        writeTablesFile,
        query,
        stop: async () => void (await Promise.all(writers.map((w) => w.stop()))),
    };
}
