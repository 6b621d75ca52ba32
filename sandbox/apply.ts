/**
 * Applies the stack's plan to the local Kafka and Connect: every planned topic, then every rendered
 * connector through the REST API, in the state the spec asks for.
 */
import type { StackSpec } from "../model/spec";
import { RenderedConnector, restConfig } from "../connectors/render";
import { planTopics } from "../plan/topics";
import { ConnectClient, validationErrors } from "../ops/connect-client";
import { createTopics } from "./kafka-admin";

export async function createPlannedTopics(spec: StackSpec, classpath: string, bootstrapServers: string): Promise<string[]> {
    const { created } = await createTopics(classpath, bootstrapServers, planTopics(spec));
    return created;
}

/** Applies connectors as the stack renders them (`renderConnectors`) for local endpoints. */
export async function applyConnectors(
    connectors: readonly RenderedConnector[],
    client: ConnectClient,
    log: (line: string) => void = () => undefined,
): Promise<void> {
    for (const c of connectors) {
        // Validating first turns a bad config into field-level messages; PUT answers a Debezium source
        // config error with a 500 (a NullPointerException over keys the validator leaves unchecked).
        const errors = validationErrors(await client.validate(c.name, restConfig(c)));
        if (Object.keys(errors).length > 0) {
            throw new Error(
                `connector ${c.name} config rejected by ${c.connectorClass}:\n${Object.entries(errors)
                    .map(([k, v]) => `  ${k}: ${v.join("; ")}`)
                    .join("\n")}`,
            );
        }
        await client.putConfig(c.name, restConfig(c));
        if (c.state === "paused") await client.pause(c.name);
        if (c.state === "stopped") await client.stopConnector(c.name);
        log(`connector ${c.name} (${c.role}, ${c.connectorClass.split(".").pop()}) applied, state ${c.state}`);
    }
    for (const c of connectors.filter((x) => x.state === "running")) await client.waitForRunning(c.name);
}
