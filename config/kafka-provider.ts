/**
 * The `kafka:` provider creates the topics from wherever `pulumi up` runs (usually CI, outside the
 * Kubernetes cluster), while `kafka.bootstrapServers` is the address Connect uses inside it. Pointing
 * the provider at the in-cluster address is the easy mistake: it works nowhere but inside the cluster.
 */
import type { StackSpec } from "../model/spec";

const IN_CLUSTER_HOST = /\.svc(\.cluster\.local)?(:\d+)?$/;

export function kafkaProviderWarnings(spec: StackSpec, providerServers: readonly string[] | undefined): string[] {
    const inCluster = new Set(spec.kafka.bootstrapServers.split(",").map((s) => s.trim()));
    return (providerServers ?? [])
        .filter((server) => inCluster.has(server) || IN_CLUSTER_HOST.test(server))
        .map(
            (server) =>
                `kafka:bootstrapServers ${server} is an address inside the Kubernetes cluster, but the kafka provider connects from where pulumi runs; ` +
                `unless that is inside the cluster, use the Kafka cluster's external listener (README "Deploying")`,
        );
}
