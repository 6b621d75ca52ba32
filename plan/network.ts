/**
 * NetworkPolicies for the pods this stack runs itself: the reconciliation jobs, the lakehouse writers and their
 * maintenance jobs. Each policy selects one workload's pods and isolates them both ways: ingress only where
 * Prometheus scrapes them, egress only to the cluster DNS and to the databases, Kafka and endpoints that workload's
 * configuration names. The Connect pods are Strimzi's: it generates their ingress policy itself (README "Security").
 *
 * A NetworkPolicy matches pods, namespaces and IP networks, never host names, so each host the spec names is
 * placed here: `<service>.<namespace>.svc[.<cluster domain>]` is any pod of that namespace, a single-label name a
 * Service in the stack's own namespace, an IP address itself, and anything else only what network.egressCidrs
 * lists for it (config/network.ts refuses a host that is none of these). The port is the pod's port behind the
 * Service, which is the Service's own port for the usual database and Pushgateway Services.
 */
import { isIP } from "net";
import type { LakehouseSpec, NetworkSpec, StackSpec } from "../model/spec";
import { MANAGED_BY_LABELS } from "./connect-cluster";

const NETWORK_POLICY_API_VERSION = "networking.k8s.io/v1";
/** Set by Kubernetes (1.22+) on every namespace: the one label a policy can select a namespace by name with. */
const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
const DNS_PORT = 53;

export interface Endpoint {
    host: string;
    port: number;
}

type LabelSelector = { matchLabels: Record<string, string> };
type NetworkPeer = { namespaceSelector?: LabelSelector; podSelector?: LabelSelector; ipBlock?: { cidr: string } };
type PolicyPort = { protocol: "TCP" | "UDP"; port: number };
export interface EgressRule {
    to: NetworkPeer[];
    ports: PolicyPort[];
}
interface IngressRule {
    from: NetworkPeer[];
    ports: PolicyPort[];
}

export interface NetworkPolicyBody {
    apiVersion: typeof NETWORK_POLICY_API_VERSION;
    kind: "NetworkPolicy";
    metadata: { name: string; namespace: string; labels: Record<string, string> };
    spec: { podSelector: LabelSelector; policyTypes: ["Ingress", "Egress"]; ingress?: IngressRule[]; egress: EgressRule[] };
}

const DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const SERVICE_DNS_NAME = new RegExp(`^${DNS_LABEL}\\.(${DNS_LABEL})\\.svc(\\.[a-z0-9.-]+)?$`);
const SINGLE_LABEL = new RegExp(`^${DNS_LABEL}$`);

const inNamespace = (namespace: string): NetworkPeer => ({ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } } });

/** Where a host is, as a NetworkPolicy can say it; undefined for a name outside the cluster that egressCidrs does not list. */
export function hostPeers(spec: StackSpec, host: string): NetworkPeer[] | undefined {
    // Own keys only: a host named "constructor" has no networks in Object.prototype.
    const listed = Object.hasOwn(spec.network.egressCidrs, host) ? spec.network.egressCidrs[host] : undefined;
    if (listed) return listed.map((cidr) => ({ ipBlock: { cidr } }));
    const address = host.replace(/^\[(.*)\]$/, "$1");
    const family = isIP(address);
    if (family !== 0) return [{ ipBlock: { cidr: `${address}/${family === 4 ? 32 : 128}` } }];
    const name = host.toLowerCase();
    const service = SERVICE_DNS_NAME.exec(name);
    if (service) return [inNamespace(service[2])];
    return SINGLE_LABEL.test(name) ? [inNamespace(spec.namespace)] : undefined;
}

/** An http(s) URL's host and port (the scheme's default when it names none); undefined when it is no URL. */
export function urlEndpoint(url: string): Endpoint | undefined {
    if (!URL.canParse(url)) return undefined;
    const parsed = new URL(url);
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === "https:" ? 443 : 80;
    return { host: parsed.hostname, port };
}

/** AWS S3 when no endpoint is set: its regional name, the key network.egressCidrs lists its networks under. */
export function objectStorageEndpoint(lakehouse: LakehouseSpec): Endpoint | undefined {
    const { endpoint, region } = lakehouse.storage;
    if (endpoint) return urlEndpoint(endpoint);
    return { host: region ? `s3.${region}.amazonaws.com` : "s3.amazonaws.com", port: 443 };
}

/** The ports of `host:port[,host:port]`; an entry without a port gives none. */
export function bootstrapPorts(bootstrapServers: string): number[] | undefined {
    const ports = bootstrapServers.split(",").map((entry) => /:(\d{1,5})$/.exec(entry.trim())?.[1]);
    if (ports.some((p) => p === undefined)) return undefined;
    return [...new Set(ports.map(Number))].sort((a, b) => a - b);
}

const tcp = (ports: number[]): PolicyPort[] => [...new Set(ports)].sort((a, b) => a - b).map((port) => ({ protocol: "TCP", port }));

function dnsRule(network: NetworkSpec): EgressRule {
    return {
        to: [{ namespaceSelector: { matchLabels: network.dns.namespaceLabels }, podSelector: { matchLabels: network.dns.podLabels } }],
        ports: [
            { protocol: "UDP", port: DNS_PORT },
            { protocol: "TCP", port: DNS_PORT },
        ],
    };
}

/** The Kafka cluster's brokers, which serve the listener at bootstrapServers on the same port. */
export function kafkaRule(spec: StackSpec): EgressRule {
    const ports = bootstrapPorts(spec.kafka.bootstrapServers);
    if (!ports) throw new Error(`kafka.bootstrapServers ${spec.kafka.bootstrapServers} names no port`);
    return {
        to: [
            {
                ...inNamespace(spec.kafka.namespace),
                podSelector: { matchLabels: { "strimzi.io/cluster": spec.kafka.clusterName, "strimzi.io/broker-role": "true" } },
            },
        ],
        ports: tcp(ports),
    };
}

/** One rule per destination, with the ports of every endpoint there (rules are ORed, so merging changes nothing). */
export function endpointRules(spec: StackSpec, endpoints: Endpoint[]): EgressRule[] {
    const byPeers = new Map<string, EgressRule>();
    for (const { host, port } of endpoints) {
        const to = hostPeers(spec, host);
        // config/network.ts refuses a spec with such a host while policies are enabled.
        if (!to) throw new Error(`no network is known for host ${host}`);
        const key = JSON.stringify(to);
        const rule = byPeers.get(key) ?? { to, ports: [] };
        rule.ports = tcp([...rule.ports.map((p) => p.port), port]);
        byPeers.set(key, rule);
    }
    return [...byPeers.values()];
}

interface WorkloadNetwork {
    name: string;
    labels: Record<string, string>;
    podSelector: Record<string, string>;
    egress: EgressRule[];
    /** The port Prometheus scrapes, when a PodMonitor does. */
    metricsPort?: number;
}

/** None when network.enabled is off, without looking at the workload's hosts: only enabled policies must place them. */
export function networkPolicyBody(spec: StackSpec, describe: () => WorkloadNetwork): NetworkPolicyBody | undefined {
    if (!spec.network.enabled) return undefined;
    const workload = describe();
    const ingress: IngressRule[] =
        workload.metricsPort === undefined
            ? []
            : [
                  {
                      from: [{ namespaceSelector: { matchLabels: spec.network.prometheusNamespaceLabels } }],
                      ports: tcp([workload.metricsPort]),
                  },
              ];
    return {
        apiVersion: NETWORK_POLICY_API_VERSION,
        kind: "NetworkPolicy",
        metadata: { name: workload.name, namespace: spec.namespace, labels: { ...MANAGED_BY_LABELS, ...workload.labels } },
        spec: {
            podSelector: { matchLabels: workload.podSelector },
            // Both types with no other rules deny the rest: nothing reaches these pods, and they reach nothing else.
            policyTypes: ["Ingress", "Egress"],
            ...(ingress.length > 0 ? { ingress } : {}),
            egress: [dnsRule(spec.network), ...workload.egress],
        },
    };
}
