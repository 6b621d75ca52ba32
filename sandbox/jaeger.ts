/**
 * Jaeger, the seed's tracing backend, for the sandbox: Jaeger v2 (`cmd/jaeger` of the Go module
 * github.com/jaegertracing/jaeger v1.76.0, an OpenTelemetry collector with Jaeger's storage and query), built once
 * with the machine's Go toolchain from the Go module proxy and cached under .cache. It runs on loopback with
 * in-memory storage, takes OTLP/HTTP and answers the HTTP API Jaeger's UI reads (`/api/services`, `/api/traces`).
 */
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import axios from "axios";
import { stringify } from "yaml";
import { waitUntil } from "../model/wait";
import { freePort } from "./databases";
import { logDir } from "./jvm";
import { CACHE_DIR } from "./paths";
import { track } from "./shutdown";

const run = promisify(execFile);

const JAEGER_PACKAGE = "github.com/jaegertracing/jaeger/cmd/jaeger";
export const JAEGER_VERSION = "v1.76.0";
const BUILD_DIR = path.join(CACHE_DIR, `jaeger-${JAEGER_VERSION}`);
const BINARY = path.join(BUILD_DIR, "jaeger");

/**
 * The binary, built on first use (minutes on two cores; Go's build cache makes a rebuild quick). Jaeger's go.mod has
 * a replace directive, so `go install <package>@<version>` refuses it; as a tool of a module of our own it builds.
 */
export async function resolveJaeger(log: (line: string) => void = () => undefined): Promise<string> {
    if (fs.existsSync(BINARY)) return BINARY;
    const module = path.join(BUILD_DIR, "module");
    fs.mkdirSync(module, { recursive: true });
    fs.writeFileSync(path.join(module, "go.mod"), "module local/cdc-sandbox-jaeger\n\ngo 1.24\n");
    const go = async (args: string[]) => {
        log(`jaeger ${JAEGER_VERSION}: go ${args.join(" ")}`);
        try {
            await run("go", args, { cwd: module, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, GOFLAGS: "-buildvcs=false" } });
        } catch (err) {
            const e = err as NodeJS.ErrnoException & { stderr?: string };
            if (e.code === "ENOENT") throw new Error("go is not on PATH: the sandbox builds Jaeger with it; install Go (scripts/setup.sh)");
            throw new Error(`go ${args.join(" ")} failed in ${module}: ${e.stderr?.trim() ?? e.message}`);
        }
    };
    await go(["get", "-tool", `${JAEGER_PACKAGE}@${JAEGER_VERSION}`]);
    const partial = `${BINARY}.partial-${process.pid}`;
    await go(["build", "-o", partial, JAEGER_PACKAGE]);
    fs.renameSync(partial, BINARY);
    return BINARY;
}

export interface RunningJaeger {
    /** Where the workers send OTLP/HTTP (`OTEL_EXPORTER_OTLP_ENDPOINT`). */
    otlpHttpEndpoint: string;
    /** Jaeger's query service, as its UI reads it. */
    queryUrl: string;
    logFile: string;
    stop(): Promise<void>;
}

/** Jaeger's all-in-one configuration, every listener on loopback and nothing else listening. */
function config(ports: { otlpHttp: number; queryHttp: number; queryGrpc: number }): string {
    return stringify({
        service: {
            extensions: ["jaeger_storage", "jaeger_query"],
            pipelines: { traces: { receivers: ["otlp"], processors: ["batch"], exporters: ["jaeger_storage_exporter"] } },
            telemetry: { metrics: { level: "none" }, logs: { level: "info" } },
        },
        extensions: {
            jaeger_storage: { backends: { memstore: { memory: { max_traces: 100000 } } } },
            jaeger_query: {
                storage: { traces: "memstore" },
                // Its own spans would go to an OTLP endpoint on localhost:4317, which is not there.
                enable_tracing: false,
                http: { endpoint: `127.0.0.1:${ports.queryHttp}` },
                grpc: { endpoint: `127.0.0.1:${ports.queryGrpc}` },
            },
        },
        receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${ports.otlpHttp}` } } } },
        processors: { batch: { timeout: "200ms" } },
        exporters: { jaeger_storage_exporter: { trace_storage: "memstore" } },
    });
}

export async function startJaeger(opts: { runDir: string; log?: (line: string) => void }): Promise<RunningJaeger> {
    const binary = await resolveJaeger(opts.log);
    const ports = { otlpHttp: await freePort(), queryHttp: await freePort(), queryGrpc: await freePort() };
    const configFile = path.join(opts.runDir, "jaeger.yaml");
    fs.mkdirSync(logDir(opts.runDir), { recursive: true });
    fs.writeFileSync(configFile, config(ports));
    const logFile = path.join(logDir(opts.runDir), "jaeger.log");
    const out = fs.openSync(logFile, "a");
    const child: ChildProcess = spawn(binary, ["--config", configFile], { stdio: ["ignore", out, out] });
    fs.closeSync(out);
    let running = true;
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve(void (running = false))));
    const untrack = track({ name: "jaeger", stop: () => stop(), killNow: () => void (running && child.kill("SIGKILL")) });
    const stop = async () => {
        untrack();
        if (running) child.kill("SIGTERM");
        await exited;
    };
    const queryUrl = `http://127.0.0.1:${ports.queryHttp}`;
    try {
        await waitUntil(
            `Jaeger's query service at ${queryUrl} (log ${logFile})`,
            60_000,
            async () => (await axios.get(`${queryUrl}/api/services`, { timeout: 2_000, validateStatus: () => true })).status === 200,
            { intervalMs: 500, abortIf: async () => (running ? undefined : `jaeger exited before it answered; see ${logFile}`) },
        );
    } catch (err) {
        await stop();
        throw err;
    }
    return { otlpHttpEndpoint: `http://127.0.0.1:${ports.otlpHttp}`, queryUrl, logFile, stop };
}

export interface JaegerSpan {
    traceID: string;
    spanID: string;
    operationName: string;
    processID: string;
    tags: Array<{ key: string; value: unknown }>;
    references: Array<{ refType: string; traceID: string; spanID: string }>;
}

export interface JaegerTrace {
    traceID: string;
    spans: JaegerSpan[];
    processes: Record<string, { serviceName: string }>;
}

/** One trace by its id, as Jaeger's UI reads it; undefined while Jaeger does not have it. */
export async function jaegerTrace(queryUrl: string, traceId: string): Promise<JaegerTrace | undefined> {
    const res = await axios.get<{ data: JaegerTrace[] | null }>(`${queryUrl}/api/traces/${traceId}`, {
        timeout: 10_000,
        validateStatus: () => true,
    });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`Jaeger ${queryUrl}/api/traces/${traceId}: HTTP ${res.status}`);
    return res.data.data?.[0];
}
