import axios, { AxiosError, AxiosInstance } from "axios";
import { waitUntil } from "../model/wait";
import { UnreachableError } from "./command";

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

/** One entry of Connect's offsets endpoints: the connector-defined partition and its offset (null: none / remove). */
export interface ConnectorOffset {
    partition: Record<string, unknown>;
    offset: Record<string, unknown> | null;
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

    /**
     * Offsets the worker has committed for the connector (KIP-875, Kafka 3.5+): for a source connector the
     * partition/offset maps the connector itself wrote (Debezium: its server/database partition and the LSN
     * or binlog position), for a sink the consumer group's position per topic partition
     * (`{ kafka_topic, kafka_partition }` → `{ kafka_offset }`). Empty until the first commit.
     * A partition whose offset was reset can still be listed by Connect with `offset: null` for a while after the
     * reset (the worker's partition set trails its offsets topic; seen after `DELETE .../offsets` on Kafka 4.3.1):
     * it has no committed offset, so it is left out.
     */
    async offsets(name: string): Promise<ConnectorOffset[]> {
        const body = await this.call<{ offsets: ConnectorOffset[] }>("GET", `/connectors/${encodeURIComponent(name)}/offsets`);
        return body.offsets.filter((o) => o.offset !== null);
    }

    /**
     * Overwrites committed offsets (KIP-875); Connect accepts it only while the connector is STOPPED.
     * An `offset: null` entry removes that partition's offset. Returns Connect's message.
     */
    async alterOffsets(name: string, offsets: ConnectorOffset[]): Promise<string> {
        const body = await this.call<{ message: string }>("PATCH", `/connectors/${encodeURIComponent(name)}/offsets`, { offsets });
        return body.message;
    }

    /** Removes every committed offset (KIP-875); only while STOPPED. The next start snapshots (Debezium) or reads from `auto.offset.reset` (sinks). */
    async resetOffsets(name: string): Promise<string> {
        const body = await this.call<{ message: string }>("DELETE", `/connectors/${encodeURIComponent(name)}/offsets`);
        return body.message;
    }

    /** Stops the connector's tasks but keeps its config and offsets (Kafka 3.5+). */
    stopConnector(name: string): Promise<void> {
        return this.call("PUT", `/connectors/${encodeURIComponent(name)}/stop`);
    }

    /** Restarts the connector if it failed and its failed tasks, as Strimzi's autoRestart does. */
    restart(name: string): Promise<void> {
        return this.restartWith(name, { includeTasks: true, onlyFailed: true });
    }

    /** `POST /connectors/{name}/restart` with Connect's two switches (KIP-745). */
    restartWith(name: string, opts: { includeTasks: boolean; onlyFailed: boolean }): Promise<void> {
        return this.call(
            "POST",
            `/connectors/${encodeURIComponent(name)}/restart?includeTasks=${opts.includeTasks}&onlyFailed=${opts.onlyFailed}`,
        );
    }

    /** Restarts one task, whatever its state. */
    restartTask(name: string, task: number): Promise<void> {
        return this.call("POST", `/connectors/${encodeURIComponent(name)}/tasks/${task}/restart`);
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
                // No answer at all (refused, timed out, unknown host): the worker is down, not the request wrong.
                if (!e.response) {
                    throw new UnreachableError(
                        "Kafka Connect REST",
                        this.baseUrl,
                        `${method} ${url}: ${e.code ?? e.message}`,
                        "check the worker runs and the URL (--connect-url / CDC_CONNECT_URL)",
                    );
                }
                throw new Error(
                    `Kafka Connect ${method} ${url}: ${e.response.status} ${e.response.data?.message ?? JSON.stringify(e.response.data)}`,
                );
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
