/**
 * Resolves everything the sandbox runs from Maven Central: the Kafka broker and Connect runtime jars
 * and one plugin folder per catalog connector, and the JMX exporter agent the Connect worker runs. Cached under .cache/, so a rerun returns at once.
 * Run by scripts/setup.sh; `npx ts-node sandbox/prefetch.ts` by hand.
 */
import { resolveJmxExporterAgent } from "./jmx-exporter";
import { resolveKafkaClasspath } from "./kafka-jars";
import { resolvePlugins } from "./plugins";

async function prefetch(log: (line: string) => void): Promise<void> {
    await resolveKafkaClasspath(log);
    const { skipped } = await resolvePlugins(log);
    for (const s of skipped) log(`${s.id}: skipped, ${s.reason}`);
    log(`jmx exporter agent: ${await resolveJmxExporterAgent(log)}`);
}

if (require.main === module) {
    prefetch((line) => console.log(`[prefetch] ${line}`)).catch((err: Error) => {
        console.error(`[prefetch] ${err.message}`);
        process.exit(1);
    });
}
