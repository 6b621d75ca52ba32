/**
 * NetworkPolicies: where the environment requires them (prod), every CronJob and Deployment the stack runs is
 * isolated in both directions by a NetworkPolicy of the stack; and no NetworkPolicy of the stack has a rule that
 * opens its pods to, or lets them reach, everything.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { boolean, settings } from "../lib/config";
import {
    asArray,
    asRecord,
    CRONJOB,
    DEPLOYMENT,
    k8sLabel,
    metadata,
    NETWORK_POLICY,
    podTemplateLabels,
    ResourceLike,
    selects,
} from "../lib/resources";

const networkSettings = settings<{ requireNetworkPolicies: boolean }>({
    requireNetworkPolicies: boolean(
        true,
        "Every CronJob and Deployment is selected by NetworkPolicies isolating its ingress and its egress.",
    ),
});

const isSelectorEmpty = (selector: unknown): boolean =>
    selector !== undefined &&
    Object.keys(asRecord(asRecord(selector).matchLabels)).length === 0 &&
    asArray(asRecord(selector).matchExpressions).length === 0;

/** Why a rule's peers reach every pod or address, or undefined when they do not. */
function everywhere(peers: unknown): string | undefined {
    const list = asArray(peers).map(asRecord);
    if (list.length === 0) return "it names no peers";
    for (const peer of list) {
        const cidr = asRecord(peer.ipBlock).cidr;
        if (cidr === "0.0.0.0/0" || cidr === "::/0") return `it allows ${cidr}`;
        if (isSelectorEmpty(peer.namespaceSelector) && (peer.podSelector === undefined || isSelectorEmpty(peer.podSelector)))
            return "it selects every namespace";
    }
    return undefined;
}

export const workloadNetworkPolicy: StackValidationPolicy = {
    name: "workload-network-policy",
    description:
        "Where the environment requires it (prod), every CronJob and Deployment is isolated for ingress and egress by a NetworkPolicy of the stack; no rule of the stack's NetworkPolicies allows every peer.",
    enforcementLevel: "mandatory",
    configSchema: networkSettings.schema,
    validateStack: (args, report) => {
        const { requireNetworkPolicies } = networkSettings.read(args);
        const policies = args.resources.filter((r) => r.type === NETWORK_POLICY);
        const workloads = requireNetworkPolicies ? args.resources.filter((r) => r.type === CRONJOB || r.type === DEPLOYMENT) : [];
        if (policies.length + workloads.length === 0)
            args.notApplicable("no NetworkPolicy, and no workload this environment requires one for");
        for (const policy of policies) {
            const label = k8sLabel("NetworkPolicy", policy.props, policy.name);
            const spec = asRecord(policy.props.spec);
            const rules: [string, string, unknown][] = [
                ...asArray(spec.ingress).map((r, i): [string, string, unknown] => ["ingress", `ingress rule ${i}`, asRecord(r).from]),
                ...asArray(spec.egress).map((r, i): [string, string, unknown] => ["egress", `egress rule ${i}`, asRecord(r).to]),
            ];
            for (const [direction, which, peers] of rules) {
                const why = everywhere(peers);
                if (!why) continue;
                report(
                    `${label} ${which} ${direction === "ingress" ? "accepts connections from" : "lets its pods connect to"} anything (${why}), which undoes the isolation it exists for. ` +
                        "Fix: name the pods, namespaces or networks (network.egressCidrs) the workload really talks to.",
                    policy.urn,
                );
            }
        }
        for (const workload of workloads) {
            const labels = podTemplateLabels(workload.type, workload.props);
            const namespace = metadata(workload.props).namespace;
            const types = new Set(
                policies
                    .filter(
                        (p: ResourceLike) =>
                            metadata(p.props).namespace === namespace && selects(asRecord(p.props.spec).podSelector, labels),
                    )
                    .flatMap((p) => asArray(asRecord(p.props.spec).policyTypes).map(String)),
            );
            const missing = ["Ingress", "Egress"].filter((t) => !types.has(t));
            if (missing.length === 0) continue;
            const kind = workload.type === DEPLOYMENT ? "Deployment" : "CronJob";
            report(
                `${k8sLabel(kind, workload.props, workload.name)} runs pods no NetworkPolicy of this stack isolates for ${missing.join(" and ").toLowerCase()}; ` +
                    "a compromised pod holding database credentials could reach, or be reached from, any pod or address. " +
                    "Fix: keep network.enabled on (the stack renders one policy per workload), and list hosts outside the cluster in network.egressCidrs.",
                workload.urn,
            );
        }
    },
};
