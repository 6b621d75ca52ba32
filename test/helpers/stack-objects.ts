/**
 * What a shipped stack deploys, rendered through the plan functions index.ts uses, plus what Strimzi
 * 1.x creates from the KafkaConnect (which no plan function renders): the runbook checker compares
 * commands against these objects.
 */
import { parseStackSpec } from "../../plan/stack-spec";
import type { StackSpec } from "../../model/spec";
import { renderConnectors, RenderedConnector } from "../../connectors/render";
import { clusterConnectorContext, kafkaConnectBody, KafkaConnectBody } from "../../plan/connect-cluster";
import { kafkaConnectorBody, KafkaConnectorBody } from "../../plan/kafka-connector";
import { planReconcileRuns, reconcilerCronJobBody } from "../../plan/reconciler-job";
import { planTopics } from "../../plan/topics";
import { rawProjectConfig, ShippedStack } from "./stack-files";

export type CronJobBody = ReturnType<typeof reconcilerCronJobBody>;

export interface ConnectorObject {
    rendered: RenderedConnector;
    body: KafkaConnectorBody;
}

/**
 * Strimzi 1.2's objects for a KafkaConnect (strimzi-kafka-operator 1.2.0): the StrimziPodSet's
 * pods `<name>-connect-<i>` for i < replicas (KafkaConnectResources.componentName,
 * WorkloadUtils.createPodSet), one container named like the component (KafkaConnectCluster), the
 * default labels (Labels.generateDefaultLabels, withStrimziPodSetController), the REST port 8083 and
 * the memory-backed `/tmp` emptyDir (VolumeUtils.createTempDirVolume). Since 1.1 neither the trusted
 * CA nor the SCRAM password is mounted: the worker reads both through the `strimzisecrets` config
 * provider (KafkaConnectConfigurationBuilder).
 */
export interface ConnectWorkers {
    pods: string[];
    container: string;
    labels: Record<string, string>;
    restPort: number;
    writableDir: string;
    kafkaBinDir: string;
}

export function connectWorkers(connect: KafkaConnectBody): ConnectWorkers {
    const name = connect.metadata.name;
    const component = `${name}-connect`;
    const replicas = connect.spec.replicas as number;
    return {
        pods: Array.from({ length: replicas }, (_, i) => `${component}-${i}`),
        container: component,
        labels: {
            "strimzi.io/cluster": name,
            "strimzi.io/kind": "KafkaConnect",
            "strimzi.io/name": component,
            "strimzi.io/component-type": "kafka-connect",
            "strimzi.io/controller": "strimzipodset",
            "strimzi.io/controller-name": component,
            "app.kubernetes.io/name": "kafka-connect",
            "app.kubernetes.io/instance": name,
            "app.kubernetes.io/part-of": `strimzi-${name}`,
            "app.kubernetes.io/managed-by": "strimzi-cluster-operator",
        },
        restPort: 8083,
        writableDir: "/tmp",
        kafkaBinDir: "/opt/kafka/bin",
    };
}

/** The client security Strimzi configures for the workers from the KafkaConnect spec (KafkaConnectConfigurationBuilder). */
export interface KafkaClientSecurity {
    protocol: "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL";
    tls?: { secret: string; pattern: string };
    scram?: { mechanism: string; username: string; secret: string; key: string };
}

export function kafkaClientSecurity(connect: KafkaConnectBody): KafkaClientSecurity {
    const spec = connect.spec as {
        tls?: { trustedCertificates: { secretName: string; pattern?: string; certificate?: string }[] };
        authentication?: { type: string; username: string; passwordSecret: { secretName: string; password: string } };
    };
    const trusted = spec.tls?.trustedCertificates[0];
    const auth = spec.authentication;
    const tls = trusted ? { secret: trusted.secretName, pattern: trusted.certificate ?? trusted.pattern ?? "*.crt" } : undefined;
    const scram = auth
        ? {
              mechanism: auth.type.toUpperCase(),
              username: auth.username,
              secret: auth.passwordSecret.secretName,
              key: auth.passwordSecret.password,
          }
        : undefined;
    const protocol = scram ? (tls ? "SASL_SSL" : "SASL_PLAINTEXT") : tls ? "SSL" : "PLAINTEXT";
    return { protocol, ...(tls ? { tls } : {}), ...(scram ? { scram } : {}) };
}

export interface StackObjects {
    stack: string;
    namespace: string;
    connect: KafkaConnectBody;
    workers: ConnectWorkers;
    security: KafkaClientSecurity;
    connectors: ConnectorObject[];
    cronJobs: CronJobBody[];
    topics: string[];
    /** Secrets the rendered objects read, with the keys (or key globs) they read from each. */
    secretKeys: Map<string, string[]>;
    /** Database endpoints the connectors connect to, `host:port`. */
    databaseEndpoints: string[];
    /** Placeholder values, one binding per pipeline, connector and reconciliation run. */
    bindings: Record<string, string>[];
}

const SECRET_REF = /\$\{secrets:([^/}]+)\/([^:}]+):([^}]+)\}/g;

export function renderStack(stack: ShippedStack, edit?: (raw: Record<string, any>) => void): StackObjects {
    const raw = structuredClone(rawProjectConfig(stack)) as Record<string, any>;
    edit?.(raw);
    const spec = parseStackSpec(raw).spec;
    const connect = kafkaConnectBody(spec);
    const connectors = renderConnectors(spec, clusterConnectorContext(spec)).map((rendered) => ({
        rendered,
        body: kafkaConnectorBody(rendered, spec.namespace, connect.metadata.name),
    }));
    const runs = planReconcileRuns(spec);
    const cronJobs = spec.reconciler ? runs.map((run) => reconcilerCronJobBody(spec, spec.reconciler!, run)) : [];
    const security = kafkaClientSecurity(connect);

    const secretKeys = new Map<string, string[]>();
    const reads = (secret: string, key: string) => secretKeys.set(secret, [...new Set([...(secretKeys.get(secret) ?? []), key])]);
    if (security.tls) reads(security.tls.secret, security.tls.pattern);
    if (security.scram) reads(security.scram.secret, security.scram.key);
    for (const c of connectors) for (const m of JSON.stringify(c.body.spec.config).matchAll(SECRET_REF)) reads(m[2], m[3]);
    for (const cj of cronJobs) {
        for (const v of cj.spec.jobTemplate.spec.template.spec.volumes) {
            if ("secret" in v && v.secret) for (const item of v.secret.items) reads(v.secret.secretName, item.key);
        }
    }

    const databaseEndpoints = connectors.flatMap(({ rendered: { role, config } }) => {
        if (role === "source") return [`${config["database.hostname"]}:${config["database.port"]}`];
        const url = /^jdbc:postgresql:\/\/([^/:]+):(\d+)\//.exec(config["connection.url"] ?? "");
        return url ? [`${url[1]}:${url[2]}`] : [];
    });

    return {
        stack,
        namespace: connect.metadata.namespace,
        connect,
        workers: connectWorkers(connect),
        security,
        connectors,
        cronJobs,
        topics: planTopics(spec).map((t) => t.name),
        secretKeys,
        databaseEndpoints,
        bindings: bindingsOf(spec, connect, security, connectors, cronJobs).map((b) => ({ stack, ...b })),
    };
}

/** Runbook placeholders and where their values come from, as docs/runbooks.md's table states. */
export const PLACEHOLDERS = [
    "stack",
    "namespace",
    "connect",
    "source",
    "sink",
    "connector",
    "source-host",
    "source-port",
    "bootstrap",
    "plaintext-bootstrap",
    "kafka-access-secret",
    "scram-user",
    "reconciler",
    "reconciler-cronjob",
    "reconciler-image",
    "report-claim",
] as const;

function bindingsOf(
    spec: StackSpec,
    connect: KafkaConnectBody,
    security: KafkaClientSecurity,
    connectors: ConnectorObject[],
    cronJobs: CronJobBody[],
): Record<string, string>[] {
    const bootstrap = connect.spec.bootstrapServers as string;
    const global: Record<string, string> = {
        namespace: connect.metadata.namespace,
        connect: connect.metadata.name,
        bootstrap,
        ...(security.protocol === "PLAINTEXT" ? { "plaintext-bootstrap": bootstrap } : {}),
        ...(security.tls || security.scram ? { "kafka-access-secret": security.tls?.secret ?? security.scram!.secret } : {}),
        ...(security.scram ? { "scram-user": security.scram.username } : {}),
    };
    return spec.pipelines.flatMap((pipeline) => {
        const mine = connectors.filter((c) => c.rendered.pipeline === pipeline.name);
        const source = mine.find((c) => c.rendered.role === "source")!;
        const sink = mine.find((c) => c.rendered.role === "sink")!;
        const perPipeline = {
            ...global,
            source: source.body.metadata.name,
            sink: sink.body.metadata.name,
            "source-host": source.rendered.config["database.hostname"],
            "source-port": source.rendered.config["database.port"],
        };
        const runs = cronJobs.filter((cj) => (cj.metadata.labels as Record<string, string>)["cdc.pipeline/name"] === pipeline.name);
        const perRun = runs.length === 0 ? [{}] : runs.map(reconcilerPlaceholders);
        return [source, sink].flatMap((connector) =>
            perRun.map((run) => ({ ...perPipeline, connector: connector.body.metadata.name, ...run })),
        );
    });
}

function reconcilerPlaceholders(cronJob: CronJobBody): Record<string, string> {
    const pod = cronJob.spec.jobTemplate.spec.template.spec;
    const claim = pod.volumes.find((v) => "persistentVolumeClaim" in v && v.persistentVolumeClaim);
    return {
        reconciler: cronJob.metadata.labels["app.kubernetes.io/instance"],
        "reconciler-cronjob": cronJob.metadata.name,
        "reconciler-image": pod.containers[0].image,
        ...(claim && "persistentVolumeClaim" in claim && claim.persistentVolumeClaim
            ? { "report-claim": claim.persistentVolumeClaim.claimName }
            : {}),
    };
}
