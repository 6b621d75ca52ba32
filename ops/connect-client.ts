import axios, { AxiosError, AxiosInstance } from "axios";
import { waitUntil } from "../model/wait";

export type State = "RUNNING" | "PAUSED" | "STOPPED" | "FAILED" | "UNASSIGNED" | "RESTARTING";

export interface ConnectorStatus {
    name: string;
    connector: { state: State; worker_id: string; trace?: string };
    tasks: { id: number; state: State; worker_id: string; trace?: string }[];
    type: "source" | "sink";
}

export interface ValidationResult {
    name: string;
    error_count: number;
    /** Debezium's validators leave `value` null for keys they define but do not check. */
    configs: { definition?: { name: string }; value: { name: string; value: string | null; errors: string[] } | null }[];
}

/** Field-level errors of a validation, keyed by config name (only names with errors). */
export function validationErrors(result: ValidationResult): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const c of result.configs) if (c.value && c.value.errors.length > 0) out[c.value.name] = c.value.errors;
    return out;
}

/** Kafka Connect's REST API, with its error bodies turned into readable errors. */
export class ConnectClient {
    private readonly http: AxiosInstance;

    constructor(
        readonly baseUrl: string,
        timeoutMs = 60_000,
    ) {
        this.http = axios.create({ baseURL: baseUrl, timeout: timeoutMs, headers: { "Content-Type": "application/json" } });
    }

    plugins(): Promise<{ class: string; type: string; version: string }[]> {
        return this.call("GET", "/connector-plugins");
    }

    listConnectors(): Promise<string[]> {
        return this.call("GET", "/connectors");
    }

    /** Creates the connector or replaces its whole config. */
    putConfig(name: string, config: Record<string, string>): Promise<unknown> {
        return this.call("PUT", `/connectors/${encodeURIComponent(name)}/config`, config);
    }

    getConfig(name: string): Promise<Record<string, string>> {
        return this.call("GET", `/connectors/${encodeURIComponent(name)}/config`);
    }

    status(name: string): Promise<ConnectorStatus> {
        return this.call("GET", `/connectors/${encodeURIComponent(name)}/status`);
    }

    /** Every connector's status in one request. */
    async statuses(): Promise<ConnectorStatus[]> {
        const body = await this.call<Record<string, { status: ConnectorStatus }>>("GET", "/connectors?expand=status");
        return Object.values(body).map((c) => c.status);
    }

    pause(name: string): Promise<void> {
        return this.call("PUT", `/connectors/${encodeURIComponent(name)}/pause`);
    }

    resume(name: string): Promise<void> {
        return this.call("PUT", `/connectors/${encodeURIComponent(name)}/resume`);
    }

    /** Offsets the worker has committed for the connector (KIP-875); empty until the first commit. */
    async offsets(name: string): Promise<{ partition: Record<string, unknown>; offset: Record<string, unknown> | null }[]> {
        const body = await this.call<{ offsets: { partition: Record<string, unknown>; offset: Record<string, unknown> | null }[] }>(
            "GET",
            `/connectors/${encodeURIComponent(name)}/offsets`,
        );
        return body.offsets;
    }

    /** Stops the connector's tasks but keeps its config and offsets (Kafka 3.5+). */
    stopConnector(name: string): Promise<void> {
        return this.call("PUT", `/connectors/${encodeURIComponent(name)}/stop`);
    }

    /** Restarts the connector if it failed and its failed tasks, as Strimzi's autoRestart does. */
    restart(name: string): Promise<void> {
        return this.call("POST", `/connectors/${encodeURIComponent(name)}/restart?includeTasks=true&onlyFailed=true`);
    }

    deleteConnector(name: string): Promise<void> {
        return this.call("DELETE", `/connectors/${encodeURIComponent(name)}`);
    }

    /** Checks a config without applying it; `config` is the PUT body (connector.class included). */
    validate(name: string, config: Record<string, string>): Promise<ValidationResult> {
        const connectorClass = config["connector.class"];
        return this.call("PUT", `/connector-plugins/${encodeURIComponent(connectorClass)}/config/validate`, { name, ...config });
    }

    /**
     * Waits until the connector and all its tasks run. A FAILED connector or task ends the wait at
     * once with its stack trace, which is where the real reason is.
     */
    async waitForRunning(name: string, timeoutMs = 120_000): Promise<ConnectorStatus> {
        let last: ConnectorStatus | undefined;
        return waitUntil(
            `connector ${name} RUNNING`,
            timeoutMs,
            async () => {
                const s = await this.status(name);
                last = s;
                const failed = [s.connector, ...s.tasks].find((x) => x.state === "FAILED");
                if (failed) throw new ConnectorFailedError(name, failed.trace ?? "(no trace)");
                return s.connector.state === "RUNNING" && s.tasks.length > 0 && s.tasks.every((t) => t.state === "RUNNING") ? s : undefined;
            },
            {
                intervalMs: 500,
                isFatal: (err) => err instanceof ConnectorFailedError,
                describe: () => `last status: ${last ? JSON.stringify(last) : "none yet"}`,
            },
        );
    }

    private async call<T>(method: string, url: string, data?: unknown): Promise<T> {
        // 409: the worker group is rebalancing (e.g. right after a connector change); it settles in seconds.
        for (let attempt = 1; ; attempt++) {
            try {
                const res = await this.http.request<T>({ method, url, data });
                return res.data;
            } catch (err) {
                const e = err as AxiosError<{ message?: string }>;
                if (e.response?.status === 409 && attempt < 30) {
                    await new Promise((r) => setTimeout(r, 1000));
                    continue;
                }
                const detail = e.response
                    ? `${e.response.status} ${e.response.data?.message ?? JSON.stringify(e.response.data)}`
                    : e.message;
                throw new Error(`Kafka Connect ${method} ${url}: ${detail}`);
            }
        }
    }
}

export class ConnectorFailedError extends Error {
    constructor(
        readonly connector: string,
        readonly trace: string,
    ) {
        super(`connector ${connector} FAILED:\n${trace.split("\n").slice(0, 12).join("\n")}`);
    }
}
