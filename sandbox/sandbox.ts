/**
 * The whole local pipeline platform: source PostgreSQL and MariaDB with the seed-004 tables, a target
 * PostgreSQL, a KRaft Kafka with the stack's planned topics, and a Connect worker with the catalog's
 * plugins and the stack's worker settings. Connectors are applied separately (`applyConnectors`), so
 * callers choose whether data is loaded before the initial snapshot or streamed after it. Failed
 * connectors are restarted the way Strimzi's autoRestart restarts them in the cluster (`supervisor`).
 * The lakehouse writers consume the same topics into a local warehouse (sandbox/lakehouse.ts).
 */
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import * as mysql from "mysql2/promise";
import type { StackSpec } from "../model/spec";
import type { ConnectorContext } from "../connectors/context";
import { workerConfig } from "../plan/connect-cluster";
import { ConnectJvmOptions, connectJvmOptions, jvmArguments } from "../plan/connect-jvm";
import { jmxExporterConfig } from "../plan/metrics";
import { prometheusRuleBody } from "../plan/monitoring";
import { connectInternalTopics } from "../model/naming";
import { createPlannedTopics } from "./apply";
import { RunningConnect, startConnect } from "./connect";
import { ConnectClient } from "../ops/connect-client";
import { SandboxTargetFile, writeSandboxTarget } from "../ops/target";
import { mariaDbBinlog, postgresLogicalReplication, RunningDatabase, startMariaDb, startPostgres } from "./databases";
import { resolveJmxExporterAgent } from "./jmx-exporter";
import { RunningJaeger, startJaeger } from "./jaeger";
import { resolveOpenTelemetrySdk, tracingSystemProperties } from "./opentelemetry";
import { logDir, reapOrphans } from "./jvm";
import { RunningKafka, startKafka } from "./kafka";
import { RunningLakehouse, startLakehouse, VENV_PYTHON } from "./lakehouse";
import { RunningPrometheus, startPrometheus } from "./prometheus";
import { resolveKafkaClasspath } from "./kafka-jars";
import { PLUGIN_PATH, resolvePlugins } from "./plugins";
import { resolveAvroConverter } from "./avro-converter";
import { applyCompatibilityRules, registerDeadLetterSchemas, RunningRegistry, startRegistry } from "./schema-registry";
import type { Serialization } from "../model/schema-registry";
import { RUN_DIR } from "./paths";
import { nextResourceRank, stopFrom, track } from "./shutdown";
import { ConnectorSupervisor } from "./supervisor";
import { createSignalTables, MARIADB_SOURCE_DDL, POSTGRES_SOURCE_DDL } from "./source-schema";
import { PIPELINES, sandboxConnectorContext, sandboxStackConfig, sandboxStackSpec, TARGET_DATABASE, writePipelineSecrets } from "./stack";

export interface SandboxOptions {
    /** Instance name: state goes to `.sandbox/<name>`, so the demo, tests and benchmark never collide. */
    name: string;
    log?: (line: string) => void;
    /**
     * avro: a schema registry starts with the sandbox and every connector writes Avro through it; default json
     * (JsonConverter with embedded schemas) until the e2e tier runs on Avro as a whole.
     */
    serialization?: Serialization;
    /** Adjusts the stack's worker settings (the benchmark compares them with Kafka's defaults). */
    workerConfig?: (stack: Record<string, string>) => Record<string, string>;
    /** Adjusts the stack's worker JVM options, as the benchmark's variants do; the worker runs the stack's otherwise. */
    connectJvm?: (stack: ConnectJvmOptions) => ConnectJvmOptions;
    /**
     * Seconds between the sandbox Prometheus's scrapes; default a few, so tests see series soon. The benchmark scrapes
     * at the stack's PodMonitor interval, as a deployed worker is scraped.
     */
    scrapeIntervalSeconds?: number;
    /** Jaeger starts with the sandbox and the stack's tracing section points the worker at it. */
    tracing?: boolean;
}

export interface Sandbox {
    runDir: string;
    logDir: string;
    secretsDir: string;
    classpath: string;
    postgresSource: RunningDatabase;
    mariaDbSource: RunningDatabase;
    target: RunningDatabase;
    kafka: RunningKafka;
    /** Apicurio Registry, when the sandbox runs with serialization avro. */
    registry?: RunningRegistry;
    /** Jaeger, receiving the worker's spans, when the sandbox runs with tracing. */
    jaeger?: RunningJaeger;
    connect: RunningConnect;
    /** The lakehouse writers of the pipelines with destinations, and their tables. */
    lakehouse: RunningLakehouse;
    /** Prometheus scraping the worker, the writers and the Pushgateway, with the stack's rule groups loaded. */
    prometheus: RunningPrometheus;
    client: ConnectClient;
    supervisor: ConnectorSupervisor;
    spec: StackSpec;
    ctx: ConnectorContext;
    stop(): Promise<void>;
}

/**
 * The throwaway servers stop through `stop()`; if Node is exiting without waiting, their pid files let
 * the exit hook end them so none outlives the sandbox.
 */
function trackDatabase(db: RunningDatabase, pidFile: string, signal: NodeJS.Signals): RunningDatabase {
    const untrack = track({
        name: `${db.engine} on port ${db.port}`,
        stop: () => db.stop(),
        killNow: () => {
            try {
                process.kill(Number(fs.readFileSync(pidFile, "utf8").split("\n")[0]), signal);
            } catch {
                // already gone
            }
        },
    });
    return { ...db, stop: async () => (untrack(), db.stop()) };
}

async function startDatabases(log: (line: string) => void) {
    const [postgresSource, mariaDbSource, target] = await Promise.all([
        startPostgres({ settings: postgresLogicalReplication(), database: PIPELINES.postgres }),
        startMariaDb({ settings: mariaDbBinlog(1), database: PIPELINES.mysql }),
        startPostgres({ database: TARGET_DATABASE }),
    ]);
    const pg = (db: RunningDatabase) => trackDatabase(db, path.join(db.dataDir, "postmaster.pid"), "SIGQUIT");
    const dbs = {
        postgresSource: pg(postgresSource),
        mariaDbSource: trackDatabase(mariaDbSource, path.join(path.dirname(mariaDbSource.dataDir), "mariadb.pid"), "SIGKILL"),
        target: pg(target),
    };
    for (const [role, db] of Object.entries(dbs)) log(`${role}: ${db.engine} at ${db.host}:${db.port}/${db.database}`);
    return dbs;
}

async function createSourceTables(postgresUrl: string, mariaDbUrl: string): Promise<void> {
    const pg = new Client({ connectionString: postgresUrl });
    await pg.connect();
    await pg.query(POSTGRES_SOURCE_DDL).finally(() => pg.end());
    const maria = await mysql.createConnection({ uri: mariaDbUrl });
    try {
        for (const ddl of MARIADB_SOURCE_DDL) await maria.query(ddl);
    } finally {
        await maria.end();
    }
}

/** The JDBC sink creates tables, not schemas: one schema per pipeline, made up front. */
async function createTargetSchemas(spec: StackSpec, targetUrl: string): Promise<void> {
    const pg = new Client({ connectionString: targetUrl });
    await pg.connect();
    try {
        for (const p of spec.pipelines) await pg.query(`CREATE SCHEMA IF NOT EXISTS ${p.sink.schema}`);
    } finally {
        await pg.end();
    }
}

export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
    const log = opts.log ?? (() => undefined);
    // Every database here stores zone-less UTC timestamps, and node-pg reads those in the process zone.
    process.env.TZ = "UTC";
    // What this sandbox starts is tracked from here on; its stop() leaves another sandbox's processes running.
    const firstRank = nextResourceRank();
    const runDir = path.join(RUN_DIR, opts.name);
    reapOrphans(runDir);
    fs.rmSync(runDir, { recursive: true, force: true });
    const secretsDir = path.join(runDir, "secrets");
    fs.mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
    log(`state and logs: ${runDir}`);

    try {
        if (!fs.existsSync(VENV_PYTHON)) throw new Error(`the lakehouse writer's venv is missing: run lakehouse/scripts/setup-venv.sh`);
        const classpath = await resolveKafkaClasspath(log);
        const { resolved, skipped } = await resolvePlugins(log);
        const jmxAgent = await resolveJmxExporterAgent(log);
        for (const s of skipped) log(`plugin ${s.id} not available locally: ${s.reason}`);
        await resolveAvroConverter(log);

        // The registry's start (about 10 s) overlaps the databases'.
        const [dbs, registry] = await Promise.all([
            startDatabases(log),
            opts.serialization === "avro" ? startRegistry({ runDir, log }) : Promise.resolve(undefined),
        ]);
        if (registry) log(`schema registry: ${registry.url} (log ${registry.jvm.logFile})`);
        await createSourceTables(dbs.postgresSource.url, dbs.mariaDbSource.url);

        const kafka = await startKafka({ runDir, classpath });
        log(`kafka: ${kafka.bootstrapServers} (log ${kafka.jvm.logFile})`);

        const jaeger = opts.tracing ? await startJaeger({ runDir, log }) : undefined;
        if (jaeger) log(`jaeger: ${jaeger.queryUrl}, OTLP ${jaeger.otlpHttpEndpoint} (log ${jaeger.logFile})`);
        const endpoints = {
            bootstrapServers: kafka.bootstrapServers,
            ...dbs,
            schemaRegistryUrl: registry?.url,
            otlpEndpoint: jaeger?.otlpHttpEndpoint,
        };
        const spec = sandboxStackSpec(endpoints);
        if (registry) log(`schema registry: compatibility rules on ${await applyCompatibilityRules(spec, registry.url)} subjects`);
        if (registry)
            log(`schema registry: DeadLetterRecord registered for ${await registerDeadLetterSchemas(spec, registry.url)} state topics`);
        await createSignalTables(spec, { postgres: dbs.postgresSource.url, mariaDb: dbs.mariaDbSource.url });
        const ctx = sandboxConnectorContext(kafka.bootstrapServers, secretsDir);
        writePipelineSecrets(secretsDir, spec.pipelines, (pipeline, role) => {
            const db = role === "source" ? (pipeline.source.kind === "postgres" ? dbs.postgresSource : dbs.mariaDbSource) : dbs.target;
            return { username: db.user, password: db.password };
        });
        await createTargetSchemas(spec, dbs.target.url);
        const created = await createPlannedTopics(spec, classpath, kafka.bootstrapServers);
        log(`topics created from the stack's topic plan: ${created.length}`);

        const internal = connectInternalTopics(spec.connect.name);
        const connect = await startConnect({
            runDir,
            classpath,
            bootstrapServers: kafka.bootstrapServers,
            pluginPath: PLUGIN_PATH,
            secretsDir,
            workerConfig: (opts.workerConfig ?? ((c) => c))(workerConfig(spec)),
            vmOptions: jvmArguments((opts.connectJvm ?? ((j) => j))(connectJvmOptions(spec.connect))),
            internalTopics: internal,
            groupId: internal.groupId,
            expectedConnectorClasses: resolved.map((p) => p.connectorClass),
            metrics: { agentJar: jmxAgent, rules: jmxExporterConfig() },
            ...(spec.tracing
                ? { tracing: { classpath: await resolveOpenTelemetrySdk(log), systemProperties: tracingSystemProperties(spec) } }
                : {}),
        });
        log(`connect: ${connect.url}, metrics ${connect.metricsUrl} (log ${connect.jvm.logFile})`);
        // What `npm run cdc -- <command> --sandbox <name>` reads to find this instance.
        const target: SandboxTargetFile = {
            name: opts.name,
            connectUrl: connect.url,
            bootstrapServers: kafka.bootstrapServers,
            secretsDir,
            databases: { postgresSource: dbs.postgresSource.url, mariaDbSource: dbs.mariaDbSource.url, target: dbs.target.url },
            stackConfig: sandboxStackConfig(endpoints),
            startedAt: new Date().toISOString(),
        };
        writeSandboxTarget(runDir, target);
        const client = new ConnectClient(connect.url);
        const supervisor = new ConnectorSupervisor({ client, log });
        supervisor.start();
        const lakehouse = await startLakehouse({ spec, runDir, logDir: logDir(runDir), secretsDir, target: dbs.target, log });
        const prometheus = await startPrometheus({
            runDir,
            logDir: logDir(runDir),
            spec,
            endpoints: {
                connect: connect.metricsUrl,
                writers: lakehouse.writers.map((w) => ({ pipeline: w.pipeline, port: w.healthPort })),
            },
            ruleGroups: prometheusRuleBody(spec).spec.groups,
            intervalSeconds: opts.scrapeIntervalSeconds,
            log,
        });
        writeSandboxTarget(runDir, {
            ...target,
            metrics: { prometheusUrl: prometheus.url, connectMetricsUrl: connect.metricsUrl, pushgatewayUrl: prometheus.pushgatewayUrl },
        });

        return {
            runDir,
            logDir: logDir(runDir),
            secretsDir,
            classpath,
            ...dbs,
            kafka,
            registry,
            jaeger,
            connect,
            lakehouse,
            prometheus,
            client,
            supervisor,
            spec,
            ctx,
            stop: () => stopFrom(firstRank, log),
        };
    } catch (err) {
        await stopFrom(firstRank, log);
        throw err;
    }
}
