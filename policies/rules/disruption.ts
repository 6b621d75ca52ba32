/**
 * Disruption budgets: a node drain evicts a pod only while the pod's budget allows it, so each budget must let a
 * drain finish (never 0 evictions) and, where there are several replicas, keep one running. Connect's budget is Strimzi's,
 * from the KafkaConnect's template; the Deployments' are the stack's own PodDisruptionBudgets.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { integer, settings } from "../lib/config";
import { forTypes } from "../lib/match";
import {
    asRecord,
    DEPLOYMENT,
    k8sLabel,
    KAFKA_CONNECT_TYPES,
    metadata,
    POD_DISRUPTION_BUDGET,
    podTemplateLabels,
    selects,
} from "../lib/resources";

const connectSettings = settings<{ minReplicas: number }>({
    minReplicas: integer(2, "The fewest Connect workers, so that a drain evicting one at a time never stops them all.", 1),
});

/** Strimzi's default when the template sets none. */
const STRIMZI_DEFAULT_MAX_UNAVAILABLE = 1;

export const connectDisruptionBudget: ResourceValidationPolicy = {
    name: "connect-disruption-budget",
    description:
        "A KafkaConnect runs at least the environment's minimum workers (prod: 2) and its PodDisruptionBudget (template.podDisruptionBudget.maxUnavailable) lets a drain evict at least one worker but never all of them.",
    enforcementLevel: "mandatory",
    configSchema: connectSettings.schema,
    validateResource: forTypes(KAFKA_CONNECT_TYPES, (connect, args, report) => {
        const { minReplicas } = connectSettings.read(args);
        const label = k8sLabel("KafkaConnect", connect, args.name);
        const spec = asRecord(connect.spec);
        const replicas = typeof spec.replicas === "number" ? spec.replicas : 3;
        const configured = asRecord(asRecord(spec.template).podDisruptionBudget).maxUnavailable;
        const maxUnavailable = typeof configured === "number" ? configured : STRIMZI_DEFAULT_MAX_UNAVAILABLE;
        if (replicas < minReplicas) {
            report(
                `${label} runs ${replicas} worker(s), below this environment's ${minReplicas}; a node drain or a lost node then stops every connector until a worker is rescheduled. ` +
                    `Fix: set connect.replicas to ${minReplicas} or more.`,
            );
        }
        if (maxUnavailable === 0) {
            report(
                `${label} sets template.podDisruptionBudget.maxUnavailable 0, so no drain can evict a worker: node upgrades and the autoscaler wait until someone deletes the pod by hand. ` +
                    "Fix: set maxUnavailable to 1.",
            );
        } else if (minReplicas > 1 && maxUnavailable >= replicas) {
            report(
                `${label} lets a drain evict ${maxUnavailable} of its ${replicas} workers at once (template.podDisruptionBudget.maxUnavailable), which stops every connector. ` +
                    "Fix: set maxUnavailable to 1 with at least 2 workers.",
            );
        }
    }),
};

/** A budget's value as a pod count: an integer, or a percentage of the replicas rounded up as the disruption controller does. */
function count(value: unknown, replicas: number): number | undefined {
    if (typeof value === "number") return value;
    const percent = typeof value === "string" ? /^(\d+)%$/.exec(value.trim()) : null;
    return percent ? Math.ceil((Number(percent[1]) * replicas) / 100) : undefined;
}

/** How many of the replicas a budget lets a drain evict at once; undefined when it cannot be read. */
function evictable(budget: Record<string, unknown>, replicas: number): number | undefined {
    if (budget.maxUnavailable !== undefined) return count(budget.maxUnavailable, replicas);
    const min = count(budget.minAvailable, replicas);
    return min === undefined ? undefined : replicas - min;
}

export const deploymentDisruptionBudget: StackValidationPolicy = {
    name: "deployment-disruption-budget",
    description:
        "Every Deployment is covered by a PodDisruptionBudget of the stack that lets a drain evict a pod (not 0) and, with two or more replicas, never evicts them all.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const deployments = args.resources.filter((r) => r.type === DEPLOYMENT);
        if (deployments.length === 0) args.notApplicable("no Deployment in this stack");
        const budgets = args.resources.filter((r) => r.type === POD_DISRUPTION_BUDGET);
        for (const deployment of deployments) {
            const label = k8sLabel("Deployment", deployment.props, deployment.name);
            const labels = podTemplateLabels(deployment.type, deployment.props);
            const declared = asRecord(deployment.props.spec).replicas;
            const replicas = typeof declared === "number" ? declared : 1;
            // policy/v1: an empty selector selects no pod.
            const mine = budgets.filter(
                (b) =>
                    metadata(b.props).namespace === metadata(deployment.props).namespace &&
                    Object.keys(asRecord(asRecord(b.props.spec).selector)).length > 0 &&
                    selects(asRecord(b.props.spec).selector, labels),
            );
            if (mine.length === 0) {
                report(
                    `${label} has no PodDisruptionBudget of this stack; its disruption behaviour in a drain is then nobody's decision. ` +
                        "Fix: give it a policy/v1 PodDisruptionBudget selecting its pods (maxUnavailable 1).",
                    deployment.urn,
                );
                continue;
            }
            for (const budget of mine) {
                const pods = evictable(asRecord(budget.props.spec), replicas);
                const which = k8sLabel("PodDisruptionBudget", budget.props, budget.name);
                if (pods === undefined) continue;
                if (pods <= 0) {
                    report(
                        `${which} lets no pod of ${label} be evicted, so every node drain waits for it forever (until someone deletes the pod). ` +
                            "Fix: set maxUnavailable to 1; the stack's workloads resume where they stopped.",
                        budget.urn,
                    );
                } else if (replicas > 1 && pods >= replicas) {
                    report(
                        `${which} lets a drain evict all ${replicas} pods of ${label} at once. Fix: set maxUnavailable to 1.`,
                        budget.urn,
                    );
                }
            }
        }
    },
};
