/**
 * Strimzi's OpenTelemetry tracing of the Connect workers. With `spec.tracing: {type: opentelemetry}` Strimzi starts
 * the workers with its tracing agent (the OpenTelemetry SDK, configured from OTEL_* variables and registered as the
 * JVM's global instance; OTEL_TRACES_EXPORTER defaults to otlp in its start script) and adds the OpenTelemetry
 * Kafka client interceptors to the workers' producers and consumers. Debezium's ActivateTracingSpan
 * (connectors/tracing.ts) finds that global instance on the worker's class path, so the change event spans it
 * starts go to the same endpoint.
 */
import type { StackSpec } from "../model/spec";

interface EnvVar {
    name: string;
    value: string;
}

/** The workers' OpenTelemetry SDK settings; none when tracing is not configured. */
export function tracingEnv(spec: StackSpec): EnvVar[] {
    if (!spec.tracing) return [];
    return [
        { name: "OTEL_SERVICE_NAME", value: spec.tracing.serviceName ?? spec.connect.name },
        { name: "OTEL_EXPORTER_OTLP_ENDPOINT", value: spec.tracing.otlpEndpoint },
    ];
}

type Body = { spec: Record<string, unknown> };

/**
 * The KafkaConnect with tracing on: `spec.tracing`, and the SDK's variables appended to the connect container's
 * environment next to whatever else its template sets.
 */
export function withConnectTracing<T extends Body>(spec: StackSpec, body: T): T {
    const env = tracingEnv(spec);
    if (env.length === 0) return body;
    const template = (body.spec.template ?? {}) as Record<string, unknown>;
    const container = (template.connectContainer ?? {}) as { env?: EnvVar[] };
    return {
        ...body,
        spec: {
            ...body.spec,
            tracing: { type: "opentelemetry" },
            template: { ...template, connectContainer: { ...container, env: [...(container.env ?? []), ...env] } },
        },
    };
}
