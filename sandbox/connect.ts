import axios from "axios";
import * as fs from "fs";
import * as path from "path";
import { freePort } from "./databases";
import { javaAgentOption } from "./jmx-exporter";
import { JvmProcess, startJvm, waitUntil } from "./jvm";
import { toProperties } from "./kafka";

interface ConnectOptions {
    runDir: string;
    classpath: string;
    bootstrapServers: string;
    /** Connect's `plugin.path`: a folder with one sub-folder per connector plugin. */
    pluginPath: string;
    /** Folder the file/dir config providers may read; connector credentials live there. */
    secretsDir: string;
    /** Heap and collector options, as Strimzi's image turns the KafkaConnect's `jvmOptions` into them (plan/connect-jvm.ts). */
    vmOptions: readonly string[];
    /** Stack-level worker settings (converters, override policy, ...) shared with the cluster. */
    workerConfig: Record<string, string>;
    /** Config/offset/status topic names, as the stack names them. */
    internalTopics: { configStorageTopic: string; offsetStorageTopic: string; statusStorageTopic: string };
    groupId: string;
    /** Connector classes that must be loadable before the worker counts as ready. */
    expectedConnectorClasses: readonly string[];
    /** The JMX exporter agent and its rules (the text the KafkaConnect's metrics ConfigMap carries). */
    metrics: { agentJar: string; rules: string };
    /** What Strimzi's tracing agent brings: the OpenTelemetry SDK's jars and its settings (sandbox/opentelemetry.ts). */
    tracing?: { classpath: readonly string[]; systemProperties: Record<string, string> };
    startTimeoutMs?: number;
}

export interface RunningConnect {
    url: string;
    /** The JMX exporter's Prometheus endpoint, on loopback. */
    metricsUrl: string;
    jvm: JvmProcess;
    /** Starts the worker again with the same config and port (after `jvm.kill()` or `jvm.stop()`). */
    restart(): Promise<void>;
    stop(): Promise<void>;
}

/**
 * Worker properties: the stack's shared settings, plus what only a local worker needs: where to
 * listen, where the plugins are, and Kafka's own file/dir config providers in place of Strimzi's
 * Kubernetes Secret provider, limited to the secrets folder.
 */
function workerProperties(opts: ConnectOptions, restPort: number): Record<string, string> {
    return {
        ...opts.workerConfig,
        "bootstrap.servers": opts.bootstrapServers,
        "group.id": opts.groupId,
        "config.storage.topic": opts.internalTopics.configStorageTopic,
        "offset.storage.topic": opts.internalTopics.offsetStorageTopic,
        "status.storage.topic": opts.internalTopics.statusStorageTopic,
        "config.storage.replication.factor": "1",
        "offset.storage.replication.factor": "1",
        "status.storage.replication.factor": "1",
        listeners: `http://127.0.0.1:${restPort}`,
        "rest.advertised.host.name": "127.0.0.1",
        "rest.advertised.port": String(restPort),
        "plugin.path": opts.pluginPath,
        // Every catalog plugin ships ServiceLoader manifests; skipping the reflective scan saves ~15 s per start.
        "plugin.discovery": "service_load",
        "config.providers": "file,dir",
        "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
        "config.providers.file.param.allowed.paths": opts.secretsDir,
        "config.providers.dir.class": "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
        "config.providers.dir.param.allowed.paths": opts.secretsDir,
    };
}

export async function startConnect(opts: ConnectOptions): Promise<RunningConnect> {
    const restPort = await freePort();
    const url = `http://127.0.0.1:${restPort}`;
    const configFile = path.join(opts.runDir, "connect-distributed.properties");
    fs.mkdirSync(opts.runDir, { recursive: true });
    fs.writeFileSync(configFile, toProperties(workerProperties(opts, restPort)));
    const metricsPort = await freePort();
    const metricsConfig = path.join(opts.runDir, "connect-metrics.yaml");
    fs.writeFileSync(metricsConfig, opts.metrics.rules);

    const launch = async (): Promise<JvmProcess> => {
        const jvm = startJvm({
            name: "connect",
            classpath: [opts.classpath, ...(opts.tracing?.classpath ?? [])].join(path.delimiter),
            mainClass: "org.apache.kafka.connect.cli.ConnectDistributed",
            args: [configFile],
            memory: { vmOptions: opts.vmOptions },
            runDir: opts.runDir,
            systemProperties: opts.tracing?.systemProperties,
            jvmArgs: [javaAgentOption(opts.metrics.agentJar, metricsPort, metricsConfig)],
        });
        try {
            await waitUntil(
                jvm,
                `the REST API at ${url} listing ${opts.expectedConnectorClasses.length} connector plugins`,
                opts.startTimeoutMs ?? 180_000,
                () => isReady(url, opts.expectedConnectorClasses),
            );
        } catch (err) {
            await jvm.stop(5_000);
            throw err;
        }
        return jvm;
    };

    const handle: RunningConnect = {
        url,
        metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
        jvm: await launch(),
        restart: async () => {
            if (handle.jvm.isRunning()) throw new Error("Connect is still running; stop or kill it before restarting");
            handle.jvm = await launch();
        },
        stop: () => handle.jvm.stop(),
    };
    return handle;
}

/**
 * Ready means: the expected plugins are loaded and the worker has joined its group (until then
 * `/connectors` answers with an error, and connector requests would be refused).
 */
async function isReady(url: string, expected: readonly string[]): Promise<boolean> {
    const plugins = await axios.get<{ class: string }[]>(`${url}/connector-plugins`, { timeout: 5_000 });
    const loaded = new Set(plugins.data.map((p) => p.class));
    const missing = expected.filter((c) => !loaded.has(c));
    if (missing.length > 0) throw new Error(`plugins not loaded: ${missing.join(", ")} (loaded: ${[...loaded].join(", ")})`);
    const connectors = await axios.get(`${url}/connectors`, { timeout: 5_000, validateStatus: () => true });
    return connectors.status === 200;
}
