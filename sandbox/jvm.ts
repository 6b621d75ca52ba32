import { ChildProcess, spawn } from "child_process";
import { waitUntil as waitFor } from "../model/wait";
import * as fs from "fs";
import * as path from "path";
import { track } from "./shutdown";
import { KAFKA_DEFAULT_SYSTEM_PROPERTIES, KAFKA_DEFAULT_XX, propertyArguments, xxArguments } from "../plan/connect-jvm";

interface JvmOptions {
    /** Short name: used for the log file, the pid file and messages. */
    name: string;
    classpath: string;
    mainClass: string;
    args: string[];
    /**
     * Heap and collector: `heap` with Kafka's default performance options (kafka-run-class.sh's), or `vmOptions`
     * exactly, as Strimzi runs a pod whose `jvmOptions` sets them.
     */
    memory: { heap: { initial: string; max: string } } | { vmOptions: readonly string[] };
    /** Instance folder: holds `<name>.pid`, `logs/<name>.log` and the log4j2 config. */
    runDir: string;
    systemProperties?: Record<string, string>;
    /** The `java` executable, when not the one on PATH (a newer runtime than the system's). */
    java?: string;
    /** JVM options before the class path, such as a `-javaagent:`. */
    jvmArgs?: readonly string[];
}

export interface JvmProcess {
    name: string;
    pid: number;
    logFile: string;
    /** Resolves with a description of how the JVM ended (`exit 1`, `signal SIGKILL`). */
    exited: Promise<string>;
    isRunning(): boolean;
    /** SIGTERM, then SIGKILL after `graceMs`. */
    stop(graceMs?: number): Promise<void>;
    /** Immediate SIGKILL, as a crash would; resolves once the process is gone. */
    kill(): Promise<void>;
}

const KAFKA_PERFORMANCE_OPTS = [...xxArguments(KAFKA_DEFAULT_XX), ...propertyArguments(KAFKA_DEFAULT_SYSTEM_PROPERTIES)];
const INSTANCE_PROPERTY = "cdc.sandbox.process";

export function logDir(runDir: string): string {
    return path.join(runDir, "logs");
}

/** Kafka's log4j2 goes to stdout, which lands in the log file; noisy config dumps are cut to warnings. */
function writeLog4jConfig(runDir: string): string {
    const file = path.join(runDir, "log4j2.properties");
    const quiet = [
        "org.apache.kafka.clients.consumer.ConsumerConfig",
        "org.apache.kafka.clients.producer.ProducerConfig",
        "org.apache.kafka.clients.admin.AdminClientConfig",
        "org.apache.kafka.common.utils.AppInfoParser",
        "org.apache.kafka.connect.runtime.ConnectorConfig",
        "org.apache.kafka.connect.runtime.SinkConnectorConfig",
        "org.apache.kafka.connect.runtime.SourceConnectorConfig",
        "org.apache.kafka.connect.runtime.TaskConfig",
        "org.reflections",
    ];
    const lines = [
        "status = warn",
        "appender.out.type = Console",
        "appender.out.name = STDOUT",
        "appender.out.layout.type = PatternLayout",
        "appender.out.layout.pattern = [%d] %p %m (%c)%n",
        "rootLogger.level = INFO",
        "rootLogger.appenderRef.out.ref = STDOUT",
        ...quiet.flatMap((logger, i) => [`logger.q${i}.name = ${logger}`, `logger.q${i}.level = WARN`]),
        "",
    ];
    fs.writeFileSync(file, lines.join("\n"));
    return file;
}

function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

function cmdline(pid: number): string {
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
        return "";
    }
}

/**
 * A JVM left behind by a sandbox whose Node process died without cleaning up (kill -9, a crash) still
 * holds ports and data files. It is recognised by its pid file and by the marker property in its
 * command line, so only processes this sandbox started are ever killed.
 */
function reapOrphan(pidFile: string, marker: string): void {
    if (!fs.existsSync(pidFile)) return;
    const { pid, owner } = JSON.parse(fs.readFileSync(pidFile, "utf8")) as { pid: number; owner: number };
    if (isAlive(pid) && cmdline(pid).includes(marker)) {
        if (owner !== process.pid && isAlive(owner)) {
            throw new Error(`${pidFile}: pid ${pid} is still run by a live sandbox (node pid ${owner}); stop that one first`);
        }
        process.kill(pid, "SIGKILL");
    }
    fs.rmSync(pidFile, { force: true });
}

/** Kills what a dead earlier sandbox left running in `runDir`; call before wiping the folder. */
export function reapOrphans(runDir: string): void {
    if (!fs.existsSync(runDir)) return;
    for (const file of fs.readdirSync(runDir).filter((f) => f.endsWith(".pid"))) {
        const name = file.slice(0, -".pid".length);
        reapOrphan(path.join(runDir, file), markerFor(runDir, name));
    }
}

const markerFor = (runDir: string, name: string) => `-D${INSTANCE_PROPERTY}=${path.join(runDir, name)}`;

export function startJvm(opts: JvmOptions): JvmProcess {
    fs.mkdirSync(logDir(opts.runDir), { recursive: true });
    const pidFile = path.join(opts.runDir, `${opts.name}.pid`);
    const marker = markerFor(opts.runDir, opts.name);
    reapOrphan(pidFile, marker);

    const logFile = path.join(logDir(opts.runDir), `${opts.name}.log`);
    const out = fs.openSync(logFile, "a");
    const props = { "log4j2.configurationFile": writeLog4jConfig(opts.runDir), ...opts.systemProperties };
    const child: ChildProcess = spawn(
        opts.java ?? "java",
        [
            ...("vmOptions" in opts.memory
                ? opts.memory.vmOptions
                : [`-Xms${opts.memory.heap.initial}`, `-Xmx${opts.memory.heap.max}`, ...KAFKA_PERFORMANCE_OPTS]),
            marker,
            ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`),
            ...(opts.jvmArgs ?? []),
            "-cp",
            opts.classpath,
            opts.mainClass,
            ...opts.args,
        ],
        { stdio: ["ignore", out, out] },
    );
    fs.closeSync(out);
    if (child.pid === undefined) throw new Error(`${opts.name}: java did not start (is a JDK installed? run scripts/setup.sh)`);
    const pid = child.pid;
    fs.writeFileSync(pidFile, JSON.stringify({ pid, owner: process.pid }));

    let running = true;
    const exited = new Promise<string>((resolve) => {
        child.on("exit", (code, signal) => {
            running = false;
            fs.rmSync(pidFile, { force: true });
            resolve(signal ? `signal ${signal}` : `exit ${code}`);
        });
    });

    const untrack = track({
        name: opts.name,
        key: marker,
        stop: () => stop(),
        killNow: () => {
            if (running) child.kill("SIGKILL");
        },
    });
    const stop = async (graceMs = 30_000) => {
        untrack();
        if (!running) return;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
    };
    const kill = async () => {
        untrack();
        if (running) child.kill("SIGKILL");
        await exited;
    };
    return { name: opts.name, pid, logFile, exited, isRunning: () => running, stop, kill };
}

/** The last lines of a log, for error messages that say why a process did not come up. */
function logTail(file: string, lines = 25): string {
    try {
        return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
        return "(no log)";
    }
}

/**
 * Polls `probe` until it returns true; fails early if the JVM dies, and on timeout with the log tail.
 */
export async function waitUntil(jvm: JvmProcess, what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
    await waitFor(`${jvm.name}: ${what}`, timeoutMs, probe, {
        intervalMs: 500,
        abortIf: async () =>
            jvm.isRunning()
                ? undefined
                : `${jvm.name} exited (${await jvm.exited}) before ${what}; log ${jvm.logFile}:\n${logTail(jvm.logFile)}`,
        describe: () => `log ${jvm.logFile}:\n${logTail(jvm.logFile)}`,
    });
}
