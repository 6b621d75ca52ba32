/**
 * Debezium's ActivateTracingSpan on a source connector, when tracing is configured: each change event gets a
 * `db-log-write` span (started at the source commit, `source.ts_ms`) and a `debezium-read` child (started when
 * Debezium read it, `ts_ms`), and the trace context goes into the record's headers, where the workers' tracing
 * interceptor continues it. The captured tables carry no span context column, so every event starts a trace of its
 * own. Debezium 3.6 reads OpenTelemetry's global instance from the worker's class path: Strimzi's tracing agent
 * (plan/tracing.ts) puts it there. Without OpenTelemetry on the class path the transform still loads, but its first
change event fails the task ("tracing libraries not available"), so it is rendered only with tracing configured.
 */
import type { StackSpec } from "../model/spec";
import type { ConnectorConfig } from "./sources";

export const ACTIVATE_TRACING_SPAN = "io.debezium.transforms.tracing.ActivateTracingSpan";
export const TRACING_TRANSFORM = "traceChangeEvents";

/** The source config with the tracing transform last, after any filter, so dropped events are not traced. */
export function withChangeEventTracing(spec: StackSpec, config: ConnectorConfig): ConnectorConfig {
    if (!spec.tracing?.changeEventSpans) return config;
    const transforms = (config.transforms ?? "")
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean);
    return {
        ...config,
        transforms: [...transforms, TRACING_TRANSFORM].join(","),
        [`transforms.${TRACING_TRANSFORM}.type`]: ACTIVATE_TRACING_SPAN,
        // Debezium's default, pinned: with `true` only events carrying a span context column would be traced, and none does.
        [`transforms.${TRACING_TRANSFORM}.tracing.with.context.field.only`]: "false",
    };
}
