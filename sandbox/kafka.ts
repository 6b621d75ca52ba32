import { randomBytes } from "crypto";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { freePort } from "./databases";
import { JvmProcess, startJvm, waitUntil } from "./jvm";
import { brokerAnswers } from "./kafka-probe";

const run = promisify(execFile);

interface KafkaOptions {
    /** Instance folder; the broker's data goes to `<runDir>/kafka-data`. */
    runDir: string;
    classpath: string;
    startTimeoutMs?: number;
}

export interface RunningKafka {
    bootstrapServers: string;
    port: number;
    jvm: JvmProcess;
    /** Starts the broker again with the same config, ports and data (after `jvm.stop()` or `jvm.kill()`). */
    restart(): Promise<void>;
    stop(): Promise<void>;
}

/** A KRaft cluster id: 16 random bytes, URL-safe base64 without padding, as `kafka-storage random-uuid` prints. */
function randomClusterId(): string {
    for (;;) {
        const id = randomBytes(16).toString("base64url");
        if (!id.startsWith("-")) return id;
    }
}

/** One node acting as broker and controller; replication settings sized for a single node. */
function brokerProperties(p: { port: number; controllerPort: number; dataDir: string }): Record<string, string> {
    return {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": `1@127.0.0.1:${p.controllerPort}`,
        listeners: `PLAINTEXT://127.0.0.1:${p.port},CONTROLLER://127.0.0.1:${p.controllerPort}`,
        "advertised.listeners": `PLAINTEXT://127.0.0.1:${p.port}`,
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": p.dataDir,
        "num.partitions": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "5",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        // The stack creates every topic it uses (plan/topics.ts); a missing one should fail loudly.
        "auto.create.topics.enable": "false",
    };
}

export function toProperties(values: Record<string, string>): string {
    return (
        Object.entries(values)
            .map(([k, v]) => `${k}=${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`)
            .join("\n") + "\n"
    );
}

export async function startKafka(opts: KafkaOptions): Promise<RunningKafka> {
    const [port, controllerPort] = [await freePort(), await freePort()];
    const dataDir = path.join(opts.runDir, "kafka-data");
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(opts.runDir, { recursive: true });
    const configFile = path.join(opts.runDir, "server.properties");
    fs.writeFileSync(configFile, toProperties(brokerProperties({ port, controllerPort, dataDir })));

    try {
        await run("java", ["-cp", opts.classpath, "kafka.tools.StorageTool", "format", "-t", randomClusterId(), "-c", configFile], {
            maxBuffer: 4 * 1024 * 1024,
        });
    } catch (err) {
        const e = err as { stderr?: string; stdout?: string; message: string };
        throw new Error(`formatting Kafka storage failed: ${(e.stderr || e.stdout || e.message).trim()}`);
    }

    const launch = async (): Promise<JvmProcess> => {
        const jvm = startJvm({
            name: "kafka",
            classpath: opts.classpath,
            mainClass: "kafka.Kafka",
            args: [configFile],
            memory: { heap: { initial: "256m", max: "768m" } },
            runDir: opts.runDir,
        });
        try {
            await waitUntil(jvm, `the broker answering on 127.0.0.1:${port}`, opts.startTimeoutMs ?? 90_000, () =>
                brokerAnswers("127.0.0.1", port),
            );
        } catch (err) {
            await jvm.stop(5_000);
            throw err;
        }
        return jvm;
    };

    const handle: RunningKafka = {
        bootstrapServers: `127.0.0.1:${port}`,
        port,
        jvm: await launch(),
        restart: async () => {
            if (handle.jvm.isRunning()) throw new Error("Kafka is still running; stop or kill it before restarting");
            handle.jvm = await launch();
        },
        stop: () => handle.jvm.stop(),
    };
    return handle;
}
