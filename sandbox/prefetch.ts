/**
 * Resolves everything the sandbox runs from Maven Central: the Kafka broker and Connect runtime jars
 * and one plugin folder per catalog connector, and the JMX exporter agent the Connect worker runs; Jaeger and the
 * OpenTelemetry SDK for a sandbox with tracing. Cached under .cache/, so a rerun returns at once.
 * Run by scripts/setup.sh; `npx ts-node sandbox/prefetch.ts` by hand.
 */
import { resolveJaeger } from "./jaeger";
import { resolveJmxExporterAgent } from "./jmx-exporter";
import { resolveKafkaClasspath } from "./kafka-jars";
import { resolvePlugins } from "./plugins";
import { resolveAvroConverter } from "./avro-converter";
import { javaRuntime } from "./java-runtime";
import { resolveOpenTelemetrySdk } from "./opentelemetry";
import { resolveRegistry } from "./schema-registry";

async function prefetch(log: (line: string) => void): Promise<void> {
    await resolveKafkaClasspath(log);
    const { skipped } = await resolvePlugins(log);
    for (const s of skipped) log(`${s.id}: skipped, ${s.reason}`);
    // What an Avro sandbox adds: the converter plugin, the registry server and the Java runtime it needs. The unit
    // tier (scripts/setup.sh --unit exports UNIT_ONLY=1) starts no registry, so its 159 MB stay out of that job.
    await resolveAvroConverter(log);
    if (process.env.UNIT_ONLY !== "1") {
        await resolveRegistry(log);
        log(`java runtime for the registry: ${await javaRuntime(log)}`);
    }
    log(`jmx exporter agent: ${await resolveJmxExporterAgent(log)}`);
    // What a sandbox with tracing adds (test/e2e/tracing.spec.ts): the worker's OpenTelemetry SDK and Jaeger, built
    // with go (minutes the first time; Go's build cache makes later builds quick).
    if (process.env.UNIT_ONLY !== "1") {
        log(`opentelemetry sdk: ${(await resolveOpenTelemetrySdk(log)).length} jars`);
        log(`jaeger: ${await resolveJaeger(log)}`);
    }
}

if (require.main === module) {
    prefetch((line) => console.log(`[prefetch] ${line}`)).catch((err: Error) => {
        console.error(`[prefetch] ${err.message}`);
        process.exit(1);
    });
}
