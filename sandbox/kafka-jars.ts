import * as path from "path";
import { Coordinates, renderPom, resolveDependencies } from "./maven";
import { CACHE_DIR } from "./paths";

/**
 * Debezium 3.6.1.Final is built against Kafka 4.3.0; 4.3.1 is the bug-fix release of the same line
 * (same protocol and Connect API), so the connectors run on the Kafka they were compiled for, minus
 * known bugs. Strimzi 1.x runs Kafka 4.x as well.
 */
export const KAFKA_VERSION = "4.3.1";

/** Kafka's own logging backend (log4j2) and the slf4j 1.x binding the Kafka jars log through. */
const LOG4J_VERSION = "2.25.4";

const kafka = (artifactId: string): Coordinates => ({ groupId: "org.apache.kafka", artifactId, version: KAFKA_VERSION });
const log4j = (artifactId: string): Coordinates => ({
    groupId: "org.apache.logging.log4j",
    artifactId,
    version: LOG4J_VERSION,
});

/**
 * Broker (`kafka_2.13`, which also carries the KRaft storage tool) and the Connect runtime. The
 * file/dir config providers live in `kafka-clients`, a dependency of both.
 */
const KAFKA_ARTIFACTS: readonly Coordinates[] = [
    kafka("kafka_2.13"),
    kafka("connect-runtime"),
    kafka("connect-json"),
    kafka("connect-transforms"),
    log4j("log4j-core"),
    log4j("log4j-slf4j-impl"),
];

const CLASSPATH_DIR = path.join(CACHE_DIR, `kafka-${KAFKA_VERSION}`, "libs");

/** Resolves the Kafka jars (cached) and returns the JVM class path for broker and Connect worker. */
export async function resolveKafkaClasspath(log: (line: string) => void = () => undefined): Promise<string> {
    const started = Date.now();
    const result = await resolveDependencies({
        workDir: path.join(CACHE_DIR, "maven", `kafka-${KAFKA_VERSION}`),
        outputDir: CLASSPATH_DIR,
        pom: renderPom({ groupId: "cdc-pipeline.sandbox", artifactId: "kafka", version: KAFKA_VERSION }, KAFKA_ARTIFACTS),
        log: (line) => log(`kafka ${KAFKA_VERSION}: ${line}`),
    });
    log(
        `kafka ${KAFKA_VERSION}: ${result.jars.length} jars ${result.cached ? "(cached)" : `resolved in ${((Date.now() - started) / 1000).toFixed(1)}s`}`,
    );
    return result.jars.map((jar) => path.join(result.outputDir, jar)).join(path.delimiter);
}
