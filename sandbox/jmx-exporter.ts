/**
 * The Prometheus JMX exporter java agent, the same exporter Strimzi runs in a KafkaConnect pod with
 * `metricsConfig: jmxPrometheusExporter`: the sandbox's Connect worker runs it with the stack's rendered rules,
 * so those rules are proven on the MBeans a real worker and real Debezium connectors register.
 */
import * as fs from "fs";
import * as path from "path";
import { Coordinates, copyArtifact } from "./maven";
import { CACHE_DIR } from "./paths";

/** The newest release on Maven Central (maven-metadata.xml's `release`). */
export const JMX_EXPORTER: Coordinates = { groupId: "io.prometheus.jmx", artifactId: "jmx_prometheus_javaagent", version: "1.0.1" };

const AGENT_DIR = path.join(CACHE_DIR, `jmx-exporter-${JMX_EXPORTER.version}`);

/** The agent jar, downloaded once (Maven's strict checksum check against Central's `.sha1`) and cached. */
export async function resolveJmxExporterAgent(log: (line: string) => void = () => undefined): Promise<string> {
    const jar = path.join(AGENT_DIR, `${JMX_EXPORTER.artifactId}-${JMX_EXPORTER.version}.jar`);
    if (fs.existsSync(jar)) return jar;
    const staging = `${AGENT_DIR}.partial-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    const downloaded = await copyArtifact(JMX_EXPORTER, staging, (line) => log(`jmx exporter ${JMX_EXPORTER.version}: ${line}`));
    if (!fs.existsSync(downloaded)) throw new Error(`mvn reported success but ${downloaded} is missing`);
    fs.rmSync(AGENT_DIR, { recursive: true, force: true });
    fs.renameSync(staging, AGENT_DIR);
    return jar;
}

/** The agent's argument form `[host:]port:config`: bound to loopback so only this machine can scrape it. */
export function javaAgentOption(agentJar: string, port: number, configFile: string): string {
    return `-javaagent:${agentJar}=127.0.0.1:${port}:${configFile}`;
}
