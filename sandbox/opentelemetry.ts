/**
 * What Strimzi's tracing agent gives a KafkaConnect pod with `tracing: {type: opentelemetry}`, for the sandbox's
 * worker: the OpenTelemetry SDK on the worker's class path, configured from the stack's OTEL_* settings
 * (plan/tracing.ts) and registered as the JVM's global instance, which Debezium's ActivateTracingSpan uses. The
 * SDK's autoconfiguration reads every OTEL_FOO_BAR variable as the system property otel.foo.bar, so the worker gets
 * the rendered variables in that form. Spans go out over OTLP/HTTP through the JDK's own HTTP client (the gRPC and
 * OkHttp senders would bring Kotlin and OkHttp onto Kafka's class path).
 */
import * as path from "path";
import type { StackSpec } from "../model/spec";
import { tracingEnv } from "../plan/tracing";
import { Coordinates, renderPom, resolveDependencies } from "./maven";
import { CACHE_DIR } from "./paths";

const OTEL_VERSION = "1.68.0";
const otel = (artifactId: string, exclusions?: Coordinates["exclusions"]): Coordinates => ({
    groupId: "io.opentelemetry",
    artifactId,
    version: OTEL_VERSION,
    ...(exclusions ? { exclusions } : {}),
});

const SDK: Coordinates[] = [
    otel("opentelemetry-sdk-extension-autoconfigure"),
    otel("opentelemetry-exporter-otlp", [{ groupId: "io.opentelemetry", artifactId: "opentelemetry-exporter-sender-okhttp" }]),
    otel("opentelemetry-exporter-sender-jdk"),
];

/** The SDK's jars (resolved once from Maven Central, then cached), for the worker's class path. */
export async function resolveOpenTelemetrySdk(log: (line: string) => void = () => undefined): Promise<string[]> {
    const result = await resolveDependencies({
        workDir: path.join(CACHE_DIR, "maven", `opentelemetry-sdk-${OTEL_VERSION}`),
        outputDir: path.join(CACHE_DIR, `opentelemetry-sdk-${OTEL_VERSION}`),
        pom: renderPom({ groupId: "local.cdc-sandbox", artifactId: "opentelemetry-sdk", version: OTEL_VERSION }, SDK),
        log: (line) => log(`opentelemetry sdk ${OTEL_VERSION}: ${line}`),
    });
    return result.jars.map((jar) => path.join(result.outputDir, jar));
}

/** The worker's system properties: the stack's OTEL_* variables, plus what a local test run needs. */
export function tracingSystemProperties(spec: StackSpec): Record<string, string> {
    const fromStack = Object.fromEntries(tracingEnv(spec).map(({ name, value }) => [name.toLowerCase().replace(/_/g, "."), value]));
    return {
        ...fromStack,
        // Strimzi's agent registers the SDK at start; without its agent, the first GlobalOpenTelemetry.get() does.
        "otel.java.global-autoconfigure.enabled": "true",
        // What Strimzi's start script sets when OTEL_TRACES_EXPORTER is unset.
        "otel.traces.exporter": "otlp",
        "otel.exporter.otlp.protocol": "http/protobuf",
        "otel.metrics.exporter": "none",
        "otel.logs.exporter": "none",
        // Spans are exported in batches every 5 s by default; a test waits for them.
        "otel.bsp.schedule.delay": "500",
    };
}
