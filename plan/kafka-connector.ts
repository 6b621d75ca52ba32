/**
 * Strimzi KafkaConnector bodies. `tasksMax` and the connector state are spec fields (putting
 * `tasks.max` in config made older Strimzi restart connectors on every reconcile), and failed
 * connectors restart on their own with Strimzi's back-off (plan/auto-restart.ts).
 */
import type { RenderedConnector } from "../connectors/render";
import { AUTO_RESTART } from "./auto-restart";
import { MANAGED_BY_LABELS, ObjectMeta, STRIMZI_API_VERSION } from "./connect-cluster";

const STRIMZI_CLUSTER_LABEL = "strimzi.io/cluster";

/**
 * Annotations people set on a KafkaConnector to make Strimzi act (restart, reset offsets) and Strimzi
 * removes once done; the stack ignores them so they never show as drift.
 */
export const RESTART_ANNOTATION = "strimzi.io/restart";
export const RESTART_TASK_ANNOTATION = "strimzi.io/restart-task";
export const OFFSETS_ANNOTATION = "strimzi.io/connector-offsets";
export const OPERATOR_ANNOTATIONS = [RESTART_ANNOTATION, RESTART_TASK_ANNOTATION, OFFSETS_ANNOTATION] as const;

/**
 * What `pulumi up` must leave alone on a KafkaConnector: the operator annotations above, and the
 * offsets ConfigMap references `cdc offsets list|alter` sets in a cluster (plan/connector-actions.ts),
 * which an update in the middle of an alter would otherwise remove.
 */
export const OPERATOR_OWNED_PATHS = [
    ...OPERATOR_ANNOTATIONS.map((a) => `metadata.annotations["${a}"]`),
    "spec.listOffsets",
    "spec.alterOffsets",
] as const;

/** `N` is the cluster name's type: a string here, a Pulumi Output in components/. */
export interface KafkaConnectorBody<N = string> {
    apiVersion: typeof STRIMZI_API_VERSION;
    kind: "KafkaConnector";
    metadata: Omit<ObjectMeta, "labels"> & { labels: Record<string, string | N> };
    spec: {
        class: string;
        tasksMax: number;
        state: string;
        autoRestart: typeof AUTO_RESTART;
        config: Record<string, string>;
    };
}

/** `connectName` must be the KafkaConnect's own metadata.name; components pass its Output. */
export function kafkaConnectorBody<N = string>(connector: RenderedConnector, namespace: string, connectName: N): KafkaConnectorBody<N> {
    return {
        apiVersion: STRIMZI_API_VERSION,
        kind: "KafkaConnector",
        metadata: {
            name: connector.name,
            namespace,
            labels: {
                ...MANAGED_BY_LABELS,
                [STRIMZI_CLUSTER_LABEL]: connectName,
                "cdc.pipeline/name": connector.pipeline,
                "cdc.pipeline/role": connector.role,
            },
            annotations: {
                // Readiness is awaited only for connectors meant to run; a paused or stopped one is not Ready.
                ...(connector.state === "running" ? { "pulumi.com/waitFor": "condition=Ready" } : { "pulumi.com/skipAwait": "true" }),
            },
        },
        spec: {
            class: connector.connectorClass,
            tasksMax: connector.tasksMax,
            state: connector.state,
            autoRestart: AUTO_RESTART,
            config: connector.config,
        },
    };
}
