/**
 * The Connect workers' JVM: heap and garbage collector. Rendered into the KafkaConnect's `jvmOptions` and run by the
 * sandbox's worker, so the benchmark measures the JVM the cluster runs.
 */
import type { ConnectSpec } from "../model/spec";
import { memoryBytes } from "../model/quantity";

/** The shape of Strimzi's `jvmOptions` (JvmOptions in the KafkaConnect CRD), for the parts the stack sets. */
export interface ConnectJvmOptions {
    "-Xms": string;
    "-Xmx": string;
    "-XX": Record<string, string>;
    javaSystemProperties: { name: string; value: string }[];
}

/** Strimzi's share of the container's memory limit for a Connect worker's heap (JvmOptionUtils.heapOptions(…, 75, …)). */
const HEAP_SHARE_OF_LIMIT = 0.75;
const MIB = 2 ** 20;

/**
 * kafka-run-class.sh's KAFKA_JVM_PERFORMANCE_OPTS, which a Strimzi pod runs when its `jvmOptions` set no `-XX` (less
 * `-server` and `-XX:MaxInlineLevel=15`, both the JVM's defaults on 64-bit JDK 14+).
 */
export const KAFKA_DEFAULT_XX: Readonly<Record<string, string>> = {
    UseG1GC: "true",
    MaxGCPauseMillis: "20",
    InitiatingHeapOccupancyPercent: "35",
    ExplicitGCInvokesConcurrent: "true",
};

/** The system property kafka-run-class.sh adds to its performance options; kept with them. */
export const KAFKA_DEFAULT_SYSTEM_PROPERTIES: readonly { name: string; value: string }[] = [{ name: "java.awt.headless", value: "true" }];

/**
 * Kafka's options with G1's own pause target instead of Kafka's 20 ms. Strimzi drops all of Kafka's as soon as `-XX`
 * is set, so this map carries every one the worker runs with. Kafka's 20 ms is a broker's, where a produce request
 * waits on the pause; a worker's sink tasks are throughput-bound, and the 20 ms target kept G1's young generation
 * small: 46 collections in 10 s of a drain, 818 ms of pauses (bench/RESULTS.md).
 */
export const CONNECT_GC_OPTIONS: Readonly<Record<string, string>> = { ...KAFKA_DEFAULT_XX, MaxGCPauseMillis: "200" };

/**
 * The heap is what Strimzi gives a worker whose `jvmOptions` set none (75 % of the memory limit, initial = maximum,
 * its dynamic_resources.sh), stated so the sandbox and the benchmark run the same heap as the cluster.
 */
export function connectJvmOptions(connect: ConnectSpec): ConnectJvmOptions {
    const heap = `${connectHeapBytes(connect) / MIB}m`;
    return {
        "-Xms": heap,
        "-Xmx": heap,
        "-XX": { ...CONNECT_GC_OPTIONS },
        javaSystemProperties: [...KAFKA_DEFAULT_SYSTEM_PROPERTIES],
    };
}

/** The workers' heap, whole MiB. */
export function connectHeapBytes(connect: ConnectSpec): number {
    const limit = memoryBytes(connect.resources.limits.memory);
    if (limit === undefined) {
        throw new Error(
            `connect.resources.limits.memory: ${JSON.stringify(connect.resources.limits.memory)} is not a memory quantity; use one such as 2Gi`,
        );
    }
    return Math.floor((limit * HEAP_SHARE_OF_LIMIT) / MIB) * MIB;
}

/** The java command-line options Strimzi's image builds from `jvmOptions` (`true` → `-XX:+Name`, `false` → `-XX:-Name`). */
export function jvmArguments(options: ConnectJvmOptions): string[] {
    return [
        `-Xms${options["-Xms"]}`,
        `-Xmx${options["-Xmx"]}`,
        ...xxArguments(options["-XX"]),
        ...propertyArguments(options.javaSystemProperties),
    ];
}

export const propertyArguments = (properties: readonly { name: string; value: string }[]): string[] =>
    properties.map((p) => `-D${p.name}=${p.value}`);

export const xxArguments = (xx: Readonly<Record<string, string>>): string[] =>
    Object.entries(xx).map(([name, value]) =>
        value === "true" ? `-XX:+${name}` : value === "false" ? `-XX:-${name}` : `-XX:${name}=${value}`,
    );
