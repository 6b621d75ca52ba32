/**
 * A real Prometheus (Debian's `prometheus` package, /usr/bin/prometheus) for the sandbox: it scrapes the Connect
 * worker's JMX exporter, the lakehouse writers' /metrics and, when the `prometheus-pushgateway` package is installed,
 * a Pushgateway for the reconciler's and the schema-event detector's pushes; it loads the stack's rendered rule groups
 * (the PrometheusRule's spec.groups), so recording rules and alerts are evaluated as the cluster's Prometheus would.
 *
 * In the cluster the prometheus-operator gives every series scraped through a PodMonitor the target labels `namespace`,
 * `pod`, `container`, `endpoint` and `job` (`<namespace>/<PodMonitor name>`); the alerts select on `namespace`. The
 * sandbox sets the same labels on its static targets, so the rendered expressions run unchanged.
 */
import axios from "axios";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import type { StackSpec } from "../model/spec";
import { waitUntil } from "../model/wait";
import { lakehousePodMonitorBody } from "../plan/lakehouse";
import { podMonitorBody } from "../plan/monitoring";
import { freePort } from "./databases";
import { track } from "./shutdown";

export const PROMETHEUS_BIN = "/usr/bin/prometheus";
export const PUSHGATEWAY_BIN = "/usr/bin/prometheus-pushgateway";

/** Short enough for a test to see a change within seconds; the cluster's PodMonitors scrape every 30 s. */
export const SANDBOX_SCRAPE_INTERVAL_SECONDS = 3;

export interface ScrapeTarget {
    job: string;
    /** host:port */
    address: string;
    metricsPath: string;
    /** Target labels, as the prometheus-operator would set them. */
    labels: Record<string, string>;
    /** The Pushgateway's pushed labels (job, instance, namespace) win over the target's, as in any Pushgateway scrape. */
    honorLabels?: boolean;
    /** The PodMonitor endpoint's metricRelabelings, applied as the prometheus-operator applies them. */
    metricRelabelings?: readonly MetricRelabeling[];
}

/** A PodMonitor metricRelabelings entry (the prometheus-operator's camelCase form of a metric_relabel_configs entry). */
export interface MetricRelabeling {
    sourceLabels: string[];
    regex: string;
    targetLabel: string;
    replacement: string;
    action: string;
}

/** What the sandbox runs that serves metrics. */
export interface MetricsEndpoints {
    /** The Connect worker's JMX exporter. */
    connect: string;
    /** Per pipeline with a lakehouse writer: its /metrics port. */
    writers: { pipeline: string; port: number }[];
    /** host:port of the sandbox's Pushgateway, when one runs. */
    pushgateway?: string;
}

const hostPort = (url: string) => new URL(url).host;

/** The scrape targets, labelled as the stack's PodMonitors label them in the cluster. Pure. */
export function sandboxScrapeTargets(spec: StackSpec, endpoints: MetricsEndpoints): ScrapeTarget[] {
    const ns = spec.namespace;
    const connectMonitor = podMonitorBody(spec);
    const targets: ScrapeTarget[] = [
        {
            job: `${ns}/${connectMonitor.metadata.name}`,
            address: hostPort(endpoints.connect),
            metricsPath: new URL(endpoints.connect).pathname,
            metricRelabelings: connectMonitor.spec.podMetricsEndpoints[0].metricRelabelings,
            labels: {
                namespace: ns,
                // Strimzi's pod and container names for the KafkaConnect's first replica.
                pod: `${spec.connect.name}-connect-0`,
                container: `${spec.connect.name}-connect`,
                endpoint: connectMonitor.spec.podMetricsEndpoints[0].port,
            },
        },
    ];
    for (const writer of endpoints.writers) {
        const pipeline = spec.pipelines.find((p) => p.name === writer.pipeline);
        const monitor = pipeline && lakehousePodMonitorBody(spec, pipeline);
        if (!monitor) continue;
        const endpoint = monitor.spec.podMetricsEndpoints[0];
        targets.push({
            job: `${ns}/${monitor.metadata.name}`,
            address: `127.0.0.1:${writer.port}`,
            metricsPath: endpoint.path,
            labels: { namespace: ns, pod: `${monitor.metadata.name}-0`, container: "writer", endpoint: endpoint.port },
        });
    }
    if (endpoints.pushgateway) {
        targets.push({ job: "pushgateway", address: endpoints.pushgateway, metricsPath: "/metrics", labels: {}, honorLabels: true });
    }
    return targets;
}

/** prometheus.yml for the targets, with the rules file next to it. Pure. */
export function prometheusConfig(targets: readonly ScrapeTarget[], rulesFile: string, intervalSeconds: number): string {
    return stringify({
        global: {
            scrape_interval: `${intervalSeconds}s`,
            evaluation_interval: `${intervalSeconds}s`,
            scrape_timeout: `${intervalSeconds}s`,
        },
        rule_files: [rulesFile],
        scrape_configs: targets.map((t) => ({
            job_name: t.job,
            metrics_path: t.metricsPath,
            ...(t.honorLabels ? { honor_labels: true } : {}),
            static_configs: [{ targets: [t.address], labels: t.labels }],
            ...(t.metricRelabelings
                ? {
                      metric_relabel_configs: t.metricRelabelings.map((r) => ({
                          source_labels: r.sourceLabels,
                          regex: r.regex,
                          target_label: r.targetLabel,
                          replacement: r.replacement,
                          action: r.action,
                      })),
                  }
                : {}),
        })),
    });
}

/** A Prometheus rules file: the PrometheusRule's spec.groups as they are. Pure. */
export function rulesFile(groups: readonly unknown[]): string {
    return stringify({ groups });
}

export interface Sample {
    labels: Record<string, string>;
    value: number;
}

export interface RunningPrometheus {
    /** e.g. http://127.0.0.1:41234 (the web UI and the HTTP API). */
    url: string;
    /** The Pushgateway's URL, when the `prometheus-pushgateway` package is installed. */
    pushgatewayUrl?: string;
    targets: ScrapeTarget[];
    configFile: string;
    rulesFile: string;
    /** An instant query; throws with Prometheus's error for a bad expression. */
    query(expr: string): Promise<Sample[]>;
    /** The series matching a selector that Prometheus has seen in the last `lookbackSeconds` (default 5 min). */
    series(selector: string, lookbackSeconds?: number): Promise<Record<string, string>[]>;
    /** Replaces the loaded rule groups (written to the rules file, then a reload). */
    setRuleGroups(groups: readonly unknown[]): Promise<void>;
    /** Resolves once every target has been scraped successfully at least once, and one rule evaluation ran after that. */
    waitForScrapes(timeoutMs?: number): Promise<void>;
    stop(): Promise<void>;
}

interface ServerProcess {
    pid: number | undefined;
    isRunning(): boolean;
    stop(): Promise<void>;
}

/** A server process logging to a file, tracked so it never outlives the sandbox. */
function startServer(name: string, bin: string, args: string[], logFile: string): ServerProcess {
    const out = fs.openSync(logFile, "a");
    const child: ChildProcess = spawn(bin, args, { stdio: ["ignore", out, out] });
    fs.closeSync(out);
    let running = true;
    const exited = new Promise<void>((resolve) =>
        child.once("exit", () => {
            running = false;
            resolve();
        }),
    );
    child.once("error", () => (running = false));
    const stop = async () => {
        untrack();
        if (!running) return;
        child.kill("SIGTERM");
        const forced = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(forced);
    };
    const untrack = track({ name, stop, killNow: () => running && child.kill("SIGKILL") });
    return { pid: child.pid, isRunning: () => running, stop };
}

function logTail(file: string): string {
    try {
        return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-15).join("\n");
    } catch {
        return "(no log)";
    }
}

async function waitForHttp(server: ServerProcess, what: string, url: string, logFile: string): Promise<void> {
    await waitUntil(
        `${what} at ${url}`,
        60_000,
        async () => (await axios.get(url, { timeout: 2_000, validateStatus: () => true })).status === 200,
        {
            intervalMs: 250,
            abortIf: () => (server.isRunning() ? undefined : `${what} exited; log ${logFile}:\n${logTail(logFile)}`),
            describe: () => `log ${logFile}:\n${logTail(logFile)}`,
        },
    );
}

interface ApiResponse<T> {
    status: "success" | "error";
    data: T;
    error?: string;
}

export interface PrometheusOptions {
    runDir: string;
    logDir: string;
    spec: StackSpec;
    /** Everything the sandbox runs that serves metrics, except the Pushgateway, which this module starts. */
    endpoints: Omit<MetricsEndpoints, "pushgateway">;
    /** The PrometheusRule's spec.groups (or any rule groups) to load. */
    ruleGroups: readonly unknown[];
    intervalSeconds?: number;
    log: (line: string) => void;
}

export async function startPrometheus(opts: PrometheusOptions): Promise<RunningPrometheus> {
    if (!fs.existsSync(PROMETHEUS_BIN)) throw new Error(`${PROMETHEUS_BIN} is missing: run scripts/setup.sh (apt-get install prometheus)`);
    const dir = path.join(opts.runDir, "prometheus");
    fs.mkdirSync(path.join(dir, "data"), { recursive: true });
    fs.mkdirSync(opts.logDir, { recursive: true });

    let pushgatewayUrl: string | undefined;
    let pushgateway: ServerProcess | undefined;
    if (fs.existsSync(PUSHGATEWAY_BIN)) {
        const port = await freePort();
        const logFile = path.join(opts.logDir, "pushgateway.log");
        // Debian's build persists to /var/lib/prometheus/pushgateway.data by default: every sandbox would start with the
        // groups an earlier one pushed (a failed reconciliation of another run kept firing alerts here). Memory only.
        pushgateway = startServer(
            `pushgateway on port ${port}`,
            PUSHGATEWAY_BIN,
            [`--web.listen-address=127.0.0.1:${port}`, "--persistence.file="],
            logFile,
        );
        pushgatewayUrl = `http://127.0.0.1:${port}`;
        await waitForHttp(pushgateway, "the Pushgateway", `${pushgatewayUrl}/-/ready`, logFile);
        opts.log(`pushgateway: ${pushgatewayUrl} (log ${logFile})`);
    } else {
        opts.log(
            `no Pushgateway (${PUSHGATEWAY_BIN} missing: apt-get install prometheus-pushgateway); the reconciler's metrics have nowhere to go`,
        );
    }

    const targets = sandboxScrapeTargets(opts.spec, { ...opts.endpoints, pushgateway: pushgatewayUrl && hostPort(pushgatewayUrl) });
    const interval = opts.intervalSeconds ?? SANDBOX_SCRAPE_INTERVAL_SECONDS;
    const rules = path.join(dir, "rules.yml");
    const configFile = path.join(dir, "prometheus.yml");
    fs.writeFileSync(rules, rulesFile(opts.ruleGroups));
    fs.writeFileSync(configFile, prometheusConfig(targets, rules, interval));

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const logFile = path.join(opts.logDir, "prometheus.log");
    const server = startServer(
        `prometheus on port ${port}`,
        PROMETHEUS_BIN,
        [
            `--config.file=${configFile}`,
            `--storage.tsdb.path=${path.join(dir, "data")}`,
            `--web.listen-address=127.0.0.1:${port}`,
            "--web.enable-lifecycle",
            "--storage.tsdb.retention.time=1d",
        ],
        logFile,
    );
    await waitForHttp(server, "Prometheus", `${url}/-/ready`, logFile);
    opts.log(`prometheus: ${url} (config ${configFile}, log ${logFile})`);

    const api = async <T>(route: string, params: Record<string, string | number>): Promise<T> => {
        const res = await axios.get<ApiResponse<T>>(`${url}/api/v1/${route}`, { params, timeout: 10_000, validateStatus: () => true });
        if (res.data?.status !== "success")
            throw new Error(`Prometheus ${route} ${JSON.stringify(params)}: ${res.data?.error ?? `HTTP ${res.status}`}`);
        return res.data.data;
    };
    const query = async (expr: string): Promise<Sample[]> => {
        const data = await api<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }>("query", {
            query: expr,
        });
        if (data.resultType !== "vector") throw new Error(`${expr} is a ${data.resultType}, not an instant vector`);
        return data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
    };
    const series = (selector: string, lookbackSeconds = 300) => {
        const now = Date.now() / 1000;
        return api<Record<string, string>[]>("series", { "match[]": selector, start: now - lookbackSeconds, end: now });
    };
    const setRuleGroups = async (groups: readonly unknown[]) => {
        fs.writeFileSync(rules, rulesFile(groups));
        const res = await axios.post(`${url}/-/reload`, undefined, { timeout: 10_000, validateStatus: () => true });
        if (res.status !== 200) throw new Error(`Prometheus did not reload ${rules}: HTTP ${res.status} ${String(res.data).trim()}`);
    };
    const waitForScrapes = async (timeoutMs = 60_000) => {
        const started = Date.now() / 1000;
        await waitUntil(`Prometheus at ${url} to scrape ${targets.map((t) => t.address).join(", ")}`, timeoutMs, async () => {
            const active = (await api<{ activeTargets: { health: string; lastScrape: string; lastError: string }[] }>("targets", {}))
                .activeTargets;
            const down = active.filter((t) => t.health !== "up");
            if (down.length > 0) throw new Error(`targets not up: ${down.map((t) => t.lastError || t.health).join("; ")}`);
            const groups = (await api<{ groups: { lastEvaluation: string }[] }>("rules", {})).groups;
            return active.length === targets.length && groups.every((g) => Date.parse(g.lastEvaluation) / 1000 > started);
        });
    };
    return {
        url,
        pushgatewayUrl,
        targets,
        configFile,
        rulesFile: rules,
        query,
        series,
        setRuleGroups,
        waitForScrapes,
        stop: async () => {
            await server.stop();
            await pushgateway?.stop();
        },
    };
}
