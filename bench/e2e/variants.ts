/**
 * The configurations the benchmark compares. "tuned" is exactly what the stack renders; "defaults" removes every
 * throughput setting the stack pins, so Debezium, the JDBC sink and the Connect worker fall back to their own
 * defaults (Debezium max.batch.size 2048, max.queue.size 8192, poll.interval.ms 500; JDBC sink batch.size 500,
 * use.reduction.buffer false; consumer max.poll.records 500).
 */
import type { RenderedConnector } from "../../connectors/render";

/** "candidate": the tuned configs with `--set` overrides, to measure a setting against the shipped ones in one run. */
export const VARIANTS = ["tuned", "defaults", "candidate"] as const;
export type Variant = (typeof VARIANTS)[number];

const TUNING_KEYS: Readonly<Record<RenderedConnector["role"], readonly string[]>> = {
    source: ["max.batch.size", "max.queue.size", "poll.interval.ms"],
    sink: [
        "batch.size",
        "use.reduction.buffer",
        "connection.pool.min_size",
        "connection.pool.max_size",
        "connection.pool.timeout",
        "flush.max.retries",
        "flush.retry.delay.ms",
    ],
};
const WORKER_TUNING_KEYS = ["consumer.max.poll.records"];

const without = (config: Record<string, string>, keys: readonly string[]) =>
    Object.fromEntries(Object.entries(config).filter(([k]) => !keys.includes(k)));

export function connectorsFor(
    variant: Variant,
    connectors: readonly RenderedConnector[],
    overrides: readonly string[] = [],
): RenderedConnector[] {
    if (variant === "defaults") return connectors.map((c) => ({ ...c, config: without(c.config, TUNING_KEYS[c.role]) }));
    if (variant === "tuned") return [...connectors];
    const set = parseOverrides(overrides);
    return connectors.map((c) => ({ ...c, config: { ...c.config, ...set[c.role] } }));
}

export function workerConfigFor(
    variant: Variant,
    stack: Record<string, string>,
    overrides: readonly string[] = [],
): Record<string, string> {
    if (variant === "defaults") return without(stack, WORKER_TUNING_KEYS);
    return variant === "tuned" ? stack : { ...stack, ...parseOverrides(overrides).worker };
}

type Scope = RenderedConnector["role"] | "worker";

/** `--set source.<key>=<value>`, `sink.<key>=<value>` or `worker.<key>=<value>`, by scope. */
function parseOverrides(overrides: readonly string[]): Record<Scope, Record<string, string>> {
    const set: Record<Scope, Record<string, string>> = { source: {}, sink: {}, worker: {} };
    for (const o of overrides) {
        const m = /^(source|sink|worker)\.([^=]+)=(.*)$/.exec(o);
        if (!m) throw new Error(`--set ${o}: expected source.<key>=<value>, sink.<key>=<value> or worker.<key>=<value>`);
        set[m[1] as Scope][m[2]] = m[3];
    }
    return set;
}
