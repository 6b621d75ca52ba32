/**
 * The network section's rules: where the profile requires NetworkPolicies they stay on, and while they are on, every
 * host a policy must let a workload reach has to be one plan/network.ts can place (a policy that cannot name a
 * database would cut the workload off from it at the first run, after a preview that passed).
 */
import { ConfigIssue, formatPath } from "../config/errors";
import type { StackSpec } from "../model/spec";
import { lakehousePipelines } from "./lakehouse";
import { bootstrapPorts, Endpoint, hostPeers, objectStorageEndpoint, urlEndpoint } from "./network";

type Path = (string | number)[];

/** Each host a workload of the stack reaches, with the setting that names it. */
function reachedHosts(spec: StackSpec): { path: Path; endpoint: Endpoint | undefined }[] {
    const found: { path: Path; endpoint: Endpoint | undefined }[] = [];
    const { reconciler, lakehouse } = spec;
    if (reconciler) {
        spec.pipelines.forEach((p, i) => {
            found.push({ path: ["pipelines", i, "source", "host"], endpoint: { host: p.source.host, port: p.source.port } });
            found.push({ path: ["pipelines", i, "sink", "host"], endpoint: { host: p.sink.host, port: p.sink.port } });
        });
        if (reconciler.pushgatewayUrl)
            found.push({ path: ["reconciler", "pushgatewayUrl"], endpoint: urlEndpoint(reconciler.pushgatewayUrl) });
    }
    const writers = lakehousePipelines(spec);
    if (lakehouse && writers.length > 0) {
        const storage = lakehouse.storage.endpoint ? ["endpoint"] : lakehouse.storage.region ? ["region"] : [];
        found.push({ path: ["lakehouse", "storage", ...storage], endpoint: objectStorageEndpoint(lakehouse) });
        const catalog = lakehouse.catalog;
        if (catalog && writers.some((p) => p.destinations.some((d) => d.format === "iceberg"))) {
            found.push({ path: ["lakehouse", "catalog", "host"], endpoint: { host: catalog.host, port: catalog.port } });
        }
    }
    return found;
}

export function checkNetworkRules(spec: StackSpec, issues: ConfigIssue[], warnings: string[]): void {
    const { network } = spec;
    if (!network.enabled) {
        if (spec.profile.requireNetworkPolicies) {
            issues.push({
                path: ["network", "enabled"],
                message: `${spec.environment} limits the reconciler and lakehouse pods to their databases, Kafka and endpoints with NetworkPolicies; remove enabled: false (network.egressCidrs places hosts outside the cluster)`,
            });
        }
        return;
    }
    const reached = reachedHosts(spec);
    for (const { path, endpoint } of reached) {
        if (!endpoint) {
            issues.push({ path, message: "is not a URL a NetworkPolicy could be written for (host and port); check its spelling" });
        } else if (!hostPeers(spec, endpoint.host)) {
            issues.push({
                path,
                message:
                    `names ${endpoint.host}, which a NetworkPolicy cannot place: it matches IP networks and pods, not names, and this is neither ` +
                    `<service>.<namespace>.svc, a Service name in namespace ${spec.namespace} nor an IP address; list its networks in ` +
                    `network.egressCidrs (e.g. ${JSON.stringify(endpoint.host)}: [10.20.0.0/16])` +
                    (spec.profile.requireNetworkPolicies ? "" : " or set network.enabled: false"),
            });
        }
    }
    if (lakehousePipelines(spec).length > 0 && !bootstrapPorts(spec.kafka.bootstrapServers)) {
        issues.push({
            path: ["kafka", "bootstrapServers"],
            message: "name each bootstrap server as host:port; the writers' NetworkPolicy opens exactly those ports to the brokers",
        });
    }
    const hosts = new Set(reached.flatMap(({ endpoint }) => (endpoint ? [endpoint.host] : [])));
    for (const host of Object.keys(network.egressCidrs)) {
        if (!hosts.has(host))
            warnings.push(
                `${formatPath(["network", "egressCidrs", host])}: no workload of the stack connects to ${host}, so these networks are opened to nothing`,
            );
    }
}
