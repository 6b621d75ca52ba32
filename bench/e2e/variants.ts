/**
 * The configurations the benchmark compares. "tuned" is exactly what the stack renders; "defaults" removes every
 * throughput setting the stack pins, so Debezium, the JDBC sink and the Connect worker fall back to their own
 * defaults (Debezium max.batch.size 2048, max.queue.size 8192, poll.interval.ms 500; JDBC sink batch.size 500,
 * use.reduction.buffer false; consumer max.poll.records 500), and the worker runs Kafka's default performance options
 * (G1 at MaxGCPauseMillis=20), as Strimzi runs a KafkaConnect without `-XX` options, on the same heap.
 */
import type { RenderedConnector } from "../../connectors/render";
import { ConnectJvmOptions, KAFKA_DEFAULT_XX } from "../../plan/connect-jvm";

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

/** `--set jvm.Xms=<size>`, `jvm.Xmx=<size>`, or `jvm.<name>=<value>` for a `-XX` option. */
export function connectJvmFor(variant: Variant, stack: ConnectJvmOptions, overrides: readonly string[] = []): ConnectJvmOptions {
    if (variant === "defaults") return { ...stack, "-XX": { ...KAFKA_DEFAULT_XX } };
    if (variant === "tuned") return stack;
    const { Xms, Xmx, ...xx } = parseOverrides(overrides).jvm;
    return { ...stack, "-Xms": Xms ?? stack["-Xms"], "-Xmx": Xmx ?? stack["-Xmx"], "-XX": { ...stack["-XX"], ...xx } };
}

type Scope = RenderedConnector["role"] | "worker" | "jvm";

/** `--set <scope>.<key>=<value>`, scope source, sink, worker or jvm. */
function parseOverrides(overrides: readonly string[]): Record<Scope, Record<string, string>> {
    const set: Record<Scope, Record<string, string>> = { source: {}, sink: {}, worker: {}, jvm: {} };
    for (const o of overrides) {
        const m = /^(source|sink|worker|jvm)\.([^=]+)=(.*)$/.exec(o);
        if (!m) throw new Error(`--set ${o}: expected <scope>.<key>=<value> with scope source, sink, worker or jvm`);
        set[m[1] as Scope][m[2]] = m[3];
    }
    return set;
}
