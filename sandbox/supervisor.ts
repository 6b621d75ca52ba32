/**
 * The sandbox's stand-in for Strimzi's connector auto-restart: a failed connector or task is restarted
 * through Connect's REST API on the schedule a KafkaConnector with `spec.autoRestart` gets in the
 * cluster (plan/auto-restart.ts), so what recovers on its own here recovers on its own when deployed.
 *
 * One difference in timing: Strimzi looks at connector states once per reconciliation (every 2 minutes
 * by default), the supervisor every `intervalMs` (10 s). A first restart in the cluster can therefore
 * come up to 2 minutes later than here; the back-off between restarts is the same.
 */
import { autoRestartDecision, AutoRestartStatus } from "../plan/auto-restart";
import type { ConnectClient, ConnectorStatus } from "../ops/connect-client";
import { track } from "./shutdown";

export interface AutoRestartEvent {
    connector: string;
    /** Epoch milliseconds. */
    at: number;
    /** How many times this connector was auto-restarted since its last reset, this one included. */
    count: number;
    /** The restart request failed (it still counts, as in Strimzi). */
    error?: string;
}

interface SupervisorOptions {
    client: Pick<ConnectClient, "statuses" | "restart">;
    intervalMs?: number;
    now?: () => number;
    log?: (line: string) => void;
}

const isFailed = (s: ConnectorStatus) => s.connector.state === "FAILED" || s.tasks.some((t) => t.state === "FAILED");

export class ConnectorSupervisor {
    /** Every auto-restart so far, oldest first. */
    readonly restarts: AutoRestartEvent[] = [];
    private readonly status = new Map<string, AutoRestartStatus>();
    private timer: NodeJS.Timeout | undefined;
    private pass: Promise<void> = Promise.resolve();
    private stopped = true;
    private untrack = () => undefined as void;

    constructor(private readonly opts: SupervisorOptions) {}

    /** One look at every connector, restarting the failed ones whose back-off has passed. */
    async reconcile(): Promise<void> {
        const { client, log = () => undefined, now = Date.now } = this.opts;
        let statuses: ConnectorStatus[];
        try {
            statuses = await client.statuses();
        } catch (err) {
            // The worker itself is down or restarting; its connectors are looked at once it answers.
            log(`supervisor: Connect did not answer (${(err as Error).message.split("\n")[0]})`);
            return;
        }
        for (const name of this.status.keys()) if (!statuses.some((s) => s.name === name)) this.status.delete(name);
        for (const s of statuses) {
            const at = now();
            const decision = autoRestartDecision(this.status.get(s.name), isFailed(s), at);
            if (decision.status) this.status.set(s.name, decision.status);
            else this.status.delete(s.name);
            if (!decision.restart) continue;
            const event: AutoRestartEvent = { connector: s.name, at, count: decision.status!.count };
            try {
                await client.restart(s.name);
                log(`supervisor: restarted ${s.name} and its failed tasks (auto-restart ${event.count})`);
            } catch (err) {
                event.error = (err as Error).message;
                log(`supervisor: restarting ${s.name} failed (auto-restart ${event.count}): ${event.error}`);
            }
            this.restarts.push(event);
        }
    }

    start(): void {
        if (!this.stopped) return;
        this.stopped = false;
        this.untrack = track({ name: "connector supervisor", stop: () => this.stop(), killNow: () => clearTimeout(this.timer) });
        const loop = () => {
            this.pass = this.reconcile().finally(() => {
                // unref: a forgotten supervisor never keeps Node alive on its own.
                if (!this.stopped) this.timer = setTimeout(loop, this.opts.intervalMs ?? 10_000).unref();
            });
        };
        loop();
    }

    /** Stops the loop and waits for a pass in progress, so no restart request outlives the sandbox. */
    async stop(): Promise<void> {
        this.stopped = true;
        this.untrack();
        clearTimeout(this.timer);
        await this.pass;
    }
}
