/**
 * Strimzi's automatic restart of failed connectors (`KafkaConnector.spec.autoRestart`), as Strimzi 1.2.0
 * implements it (`AbstractConnectOperator#autoRestartFailedConnectorAndTasks`). The cluster renders the
 * spec from here, and the local sandbox's supervisor applies the same schedule through Connect's REST
 * API, so a connector failure recovers the same way on a laptop as in a deployed stack.
 *
 * What Strimzi does at each reconciliation of a connector (every 2 minutes by default,
 * STRIMZI_FULL_RECONCILIATION_INTERVAL_MS):
 * - the connector or one of its tasks is FAILED: restart it at once if it was never auto-restarted,
 *   otherwise once `n² + n` whole minutes (capped at 60) have passed since the n-th restart, i.e. after
 *   0, 2, 6, 12, 20, 30, 42, 56 and then every 60 minutes. The restart is
 *   `POST /connectors/<name>/restart?includeTasks=true&onlyFailed=true`; a restart call that errors
 *   still counts.
 * - nothing is FAILED: the count goes back to zero once more whole minutes than the last back-off have
 *   passed since the last restart (a connector that keeps running for 20 minutes after its 4th restart
 *   is considered stable).
 */

/** The `spec.autoRestart` of every KafkaConnector. No `maxRestarts`: Strimzi then restarts forever, so a
 * connector that outlived its own retries still resumes, at the latest an hour after its cause is gone. */
export const AUTO_RESTART = { enabled: true } as const;

/** What Strimzi keeps in `KafkaConnector.status.autoRestart`. */
export interface AutoRestartStatus {
    count: number;
    /** Epoch milliseconds. */
    lastRestartAt: number;
}

interface AutoRestartDecision {
    restart: boolean;
    /** The status after this reconciliation; undefined once it is reset (or was never set). */
    status: AutoRestartStatus | undefined;
}

const MINUTE_MS = 60_000;

/** Minutes after the `count`-th restart before the next one: n² + n, at most 60. */
export function autoRestartBackoffMinutes(count: number): number {
    return Math.min(count * count + count, 60);
}

/** One reconciliation's decision, `now` in epoch milliseconds. */
export function autoRestartDecision(previous: AutoRestartStatus | undefined, failed: boolean, now: number): AutoRestartDecision {
    // Strimzi counts whole elapsed minutes (ChronoUnit.MINUTES.between truncates).
    const minutesSince = previous ? Math.floor((now - previous.lastRestartAt) / MINUTE_MS) : 0;
    if (failed) {
        if (!previous || minutesSince >= autoRestartBackoffMinutes(previous.count)) {
            return { restart: true, status: { count: (previous?.count ?? 0) + 1, lastRestartAt: now } };
        }
        return { restart: false, status: previous };
    }
    if (previous && previous.count > 0 && minutesSince > autoRestartBackoffMinutes(previous.count)) {
        return { restart: false, status: undefined };
    }
    return { restart: false, status: previous };
}
