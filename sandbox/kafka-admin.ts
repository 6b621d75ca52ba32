import { ChildProcess, execFile, spawn } from "child_process";
import * as path from "path";
import { createInterface } from "readline";
import { track } from "./shutdown";

/** Java's single-file source launcher compiles this in memory on each run (about a second). */
const TOOL = path.join(__dirname, "java", "KafkaAdmin.java");
const JVM_OPTS = ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"];

interface TopicToCreate {
    name: string;
    partitions: number;
    replicationFactor: number;
    config: Record<string, string>;
}

export interface KafkaRecord {
    partition: number;
    offset: number;
    key: string | null;
    value: string | null;
    headers: Record<string, string | null>;
}

function runTool(classpath: string, args: string[], stdin?: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = execFile(
            "java",
            [...JVM_OPTS, "-cp", classpath, TOOL, ...args],
            { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 },
            (err, stdout, stderr) => {
                if (err) reject(new Error(`KafkaAdmin ${args[0]} failed: ${stderr.trim() || err.message}`));
                else resolve(stdout);
            },
        );
        child.stdin?.end(stdin ?? "");
    });
}

/** Creates the topics that do not exist yet; returns which were created and which already existed. */
export async function createTopics(
    classpath: string,
    bootstrap: string,
    topics: readonly TopicToCreate[],
): Promise<{ created: string[]; existing: string[] }> {
    return JSON.parse(await runTool(classpath, ["create-topics", bootstrap], JSON.stringify(topics)));
}

/** Records ever written per topic (sum of partition end offsets). */
export async function endOffsets(classpath: string, bootstrap: string, topics: readonly string[]): Promise<Record<string, number>> {
    return JSON.parse(await runTool(classpath, ["end-offsets", bootstrap, ...topics]));
}

/** Reads a topic from the start: up to `max` records, or what arrives within `timeoutMs`. */
export async function consume(classpath: string, bootstrap: string, topic: string, max: number, timeoutMs: number): Promise<KafkaRecord[]> {
    const out = await runTool(classpath, ["consume", bootstrap, topic, String(max), String(timeoutMs)]);
    return out
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as KafkaRecord);
}

/** Writes raw records (e.g. one no converter can read); returns their offsets. */
export async function produce(
    classpath: string,
    bootstrap: string,
    topic: string,
    records: readonly { key: string | null; value: string | null }[],
): Promise<number[]> {
    return (JSON.parse(await runTool(classpath, ["produce", bootstrap, topic], JSON.stringify(records))) as { offsets: number[] }).offsets;
}

/**
 * One long-running JVM reporting end offsets every `intervalMs`: cheap enough for a live progress
 * line, where a JVM per sample would not be.
 */
export function watchEndOffsets(
    classpath: string,
    bootstrap: string,
    topics: readonly string[],
    intervalMs: number,
    onSample: (offsets: Record<string, number>) => void,
): { stop(): Promise<void> } {
    const child: ChildProcess = spawn(
        "java",
        [...JVM_OPTS, "-cp", classpath, TOOL, "watch-end-offsets", bootstrap, String(intervalMs), ...topics],
        { stdio: ["ignore", "pipe", "ignore"] },
    );
    createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line.startsWith("{")) onSample(JSON.parse(line));
    });
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    const stop = async () => {
        untrack();
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await exited;
    };
    const untrack = track({ name: "offset watcher", stop, killNow: () => child.kill("SIGKILL") });
    return { stop };
}
