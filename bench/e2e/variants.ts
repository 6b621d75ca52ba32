/**
 * The two configurations the benchmark compares. "tuned" is exactly what the stack renders; "defaults"
 * removes every throughput setting the stack pins, so Debezium, the JDBC sink and the Connect worker
 * fall back to their own defaults (Debezium max.batch.size 2048, max.queue.size 8192, poll.interval.ms
 * 500; JDBC sink batch.size 500; consumer max.poll.records 500).
 */
import type { RenderedConnector } from "../../connectors/render";

export type Variant = "tuned" | "defaults";

const TUNING_KEYS: Readonly<Record<RenderedConnector["role"], readonly string[]>> = {
    source: ["max.batch.size", "max.queue.size", "poll.interval.ms"],
    sink: [
        "batch.size",
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

export function connectorsFor(variant: Variant, connectors: readonly RenderedConnector[]): RenderedConnector[] {
    return variant === "tuned" ? [...connectors] : connectors.map((c) => ({ ...c, config: without(c.config, TUNING_KEYS[c.role]) }));
}

export function workerConfigFor(variant: Variant, stack: Record<string, string>): Record<string, string> {
    return variant === "tuned" ? stack : without(stack, WORKER_TUNING_KEYS);
}
