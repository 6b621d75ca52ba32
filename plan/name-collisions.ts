/**
 * Kafka finds topics and Kubernetes finds objects by name alone: two of the stack's roles given one name would write
 * into each other. Checked on the plan, which is where the names are decided.
 */
import { ConfigIssue, formatPath } from "../config/errors";
import type { StackSpec } from "../model/spec";
import {
    connectKafkaUserName,
    connectMetricsConfigMapName,
    kafkaAccessName,
    lakehouseCatalogSecretName,
    lakehouseConfigMapName,
    lakehouseKafkaAccessName,
    lakehouseKafkaUserName,
    lakehouseMaintenanceName,
    lakehouseObjectStorageSecretName,
    lakehouseWriterName,
    reconcilerConfigMapName,
} from "../model/naming";
import { podMonitorBody } from "./monitoring";
import { planReconcileRuns } from "./reconciler-job";
import { planTopics, TopicSpec } from "./topics";
import { planSecretSyncs } from "./vault";

type Path = (string | number)[];

/** The setting that names a topic, and the topic as its owner knows it. */
function topicOwner(spec: StackSpec, topic: TopicSpec): { path: Path; what: string } {
    const i = spec.pipelines.findIndex((p) => p.name === topic.pipeline);
    if (i < 0) return { path: ["connect", "name"], what: `Kafka Connect's ${topic.role.replace("connect-", "")} topic` };
    if (topic.role === "dlq")
        return { path: ["pipelines", i, "sink", "connectorName"], what: `the dead letter queue of pipeline ${topic.pipeline}` };
    if (topic.role === "lakehouse-dlq")
        return { path: ["pipelines", i, "name"], what: `the lakehouse writer's dead letter topic of pipeline ${topic.pipeline}` };
    return { path: ["pipelines", i, "source", "topicPrefix"], what: `the ${topic.role} topic of pipeline ${topic.pipeline}` };
}

/**
 * Connectors and Connect find topics by name only, so two roles sharing a name would write into each other (schema
 * changes into Connect's offsets, history records into a dead letter queue).
 */
export function checkTopicNames(spec: StackSpec, issues: ConfigIssue[]): void {
    const first = new Map<string, TopicSpec>();
    for (const topic of planTopics(spec)) {
        const other = first.get(topic.name);
        if (!other) {
            first.set(topic.name, topic);
            continue;
        }
        // Same role: one data topic listed twice, or two pipelines with one topicPrefix or sink connectorName.
        if (other.role === topic.role) continue;
        const [a, b] = [topicOwner(spec, other), topicOwner(spec, topic)];
        // Reported at the pipeline's setting when the other side is Connect's: that is the one usually chosen last.
        const [here, there] = b.path[0] === "connect" ? [a, b] : [b, a];
        issues.push({
            path: here.path,
            message: `gives ${here.what} the name "${topic.name}", which is also ${there.what}; the two would write into one topic, so change this or ${formatPath(there.path)}`,
        });
    }
}

/** Kubernetes objects are identified by kind and name: a writer's object named like another of the stack's would replace it. */
export function checkLakehouseObjectNames(spec: StackSpec, issues: ConfigIssue[]): void {
    const lakehouse = spec.lakehouse;
    if (!lakehouse) return;
    const others = new Map<string, string>();
    const other = (kind: string, name: string, what: string): void => void others.set(`${kind}/${name}`, what);
    other("ConfigMap", connectMetricsConfigMapName(spec.connect.name), "Connect's metrics ConfigMap");
    other("PodMonitor", podMonitorBody(spec).metadata.name, "Connect's PodMonitor");
    other("KafkaAccess", kafkaAccessName(spec.connect.name), "Connect's KafkaAccess");
    other("Secret", kafkaAccessName(spec.connect.name), "the binding Secret of Connect's KafkaAccess");
    other("KafkaUser", connectKafkaUserName(spec.connect.name), "Connect's KafkaUser");
    for (const sync of planSecretSyncs(spec).filter((s) => s.consumer !== "lakehouse"))
        other("Secret", sync.secretName, `a Secret synced for ${sync.consumer}`);
    if (spec.reconciler) {
        other("ConfigMap", reconcilerConfigMapName(spec.reconciler), "the reconciler's ConfigMap");
        for (const run of planReconcileRuns(spec)) {
            other("CronJob", run.cronJobName, "a reconciliation CronJob");
            other("NetworkPolicy", run.cronJobName, "a reconciliation CronJob's NetworkPolicy");
        }
    }
    const mine: [string, string][] = [
        ["Secret", lakehouseObjectStorageSecretName(lakehouse)],
        ["Secret", lakehouseCatalogSecretName(lakehouse)],
        ...spec.pipelines
            .filter((p) => p.destinations.length > 0)
            .flatMap((p): [string, string][] => [
                ["ConfigMap", lakehouseConfigMapName(lakehouse, p)],
                ["CronJob", lakehouseMaintenanceName(lakehouse, p)],
                ["PodMonitor", lakehouseWriterName(lakehouse, p)],
                ["NetworkPolicy", lakehouseWriterName(lakehouse, p)],
                ["KafkaAccess", lakehouseKafkaAccessName(lakehouse, p)],
                ["Secret", lakehouseKafkaAccessName(lakehouse, p)],
                ...(spec.kafka.authentication !== "none" ? [["KafkaUser", lakehouseKafkaUserName(lakehouse, p)] as [string, string]] : []),
            ]),
    ];
    for (const [kind, name] of mine) {
        const what = others.get(`${kind}/${name}`);
        if (what)
            issues.push({
                path: ["lakehouse", "name"],
                message: `gives a writer ${kind} the name "${name}", which is also ${what}'s; use another lakehouse.name`,
            });
    }
}
