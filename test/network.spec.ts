/**
 * The NetworkPolicies of the pods the stack runs (plan/network.ts and the workloads' plans): where each host is
 * placed, what each policy allows, every body against the Kubernetes schema, and the config rules that keep a
 * policy from cutting a workload off from a host it cannot name.
 */
import { expect } from "chai";
import { parseStackSpec } from "../plan/stack-spec";
import type { StackSpec } from "../model/spec";
import {
    lakehouseDeploymentBody,
    lakehouseMaintenanceCronJobBody,
    lakehouseMaintenanceNetworkPolicyBody,
    lakehousePipelines,
    lakehouseWriterNetworkPolicyBody,
} from "../plan/lakehouse";
import { bootstrapPorts, EgressRule, hostPeers, NetworkPolicyBody } from "../plan/network";
import { planReconcileRuns, reconcilerCronJobBody, reconcilerNetworkPolicyBody } from "../plan/reconciler-job";
import { validateManifest } from "./helpers/k8s-schemas";
import { rawProjectConfig, SHIPPED_STACKS } from "./helpers/stack-files";
import { issuesOf, Raw } from "./helpers/config-problems";

const raw = (stack: "dev" | "prod"): Raw => structuredClone(rawProjectConfig(stack)) as Raw;
const specOf = (config: Raw): StackSpec => parseStackSpec(config).spec;

function policies(spec: StackSpec): NetworkPolicyBody[] {
    const reconciler = spec.reconciler
        ? planReconcileRuns(spec).map((run) => reconcilerNetworkPolicyBody(spec, spec.reconciler!, run))
        : [];
    const lakehouse = lakehousePipelines(spec).flatMap((p) => [
        lakehouseWriterNetworkPolicyBody(spec, p),
        lakehouseMaintenanceNetworkPolicyBody(spec, p),
    ]);
    return [...reconciler, ...lakehouse].filter((b): b is NetworkPolicyBody => b !== undefined);
}

/** "namespace X:port" or "cidr:port" for every non-DNS destination a policy allows. */
function destinations(rules: EgressRule[]): string[] {
    return rules
        .filter((r) => !r.ports.some((p) => p.port === 53))
        .flatMap((r) =>
            r.to.flatMap((peer) =>
                r.ports.map((p) => {
                    const where = peer.ipBlock?.cidr ?? `namespace ${peer.namespaceSelector!.matchLabels["kubernetes.io/metadata.name"]}`;
                    return `${where}${peer.podSelector ? ` pods ${JSON.stringify(peer.podSelector.matchLabels)}` : ""}:${p.port}`;
                }),
            ),
        )
        .sort();
}

describe("NetworkPolicies of the stack's workloads", () => {
    describe("placing a host", () => {
        const spec = specOf(raw("prod"));
        it("places <service>.<namespace>.svc in its namespace, with or without the cluster domain", () => {
            for (const host of ["warehouse.postgres.svc", "warehouse.postgres.svc.cluster.local", "Warehouse.Postgres.SVC"]) {
                expect(hostPeers(spec, host), host).to.deep.equal([
                    { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "postgres" } } },
                ]);
            }
        });
        it("places a single-label name in the stack's own namespace, where Kubernetes DNS resolves it", () => {
            expect(hostPeers(spec, "warehouse")).to.deep.equal([
                { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "cdc" } } },
            ]);
        });
        it("places an IP address as itself", () => {
            expect(hostPeers(spec, "10.1.2.3")).to.deep.equal([{ ipBlock: { cidr: "10.1.2.3/32" } }]);
            expect(hostPeers(spec, "[2001:db8::1]")).to.deep.equal([{ ipBlock: { cidr: "2001:db8::1/128" } }]);
        });
        it("places any other name only where network.egressCidrs lists it, and never through Object.prototype", () => {
            expect(hostPeers(spec, "db.example.com")).to.equal(undefined);
            expect(hostPeers(spec, "s3.eu-west-1.amazonaws.com")).to.deep.equal([{ ipBlock: { cidr: "203.0.113.0/24" } }]);
            expect(hostPeers(spec, "constructor")).to.deep.equal([
                { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "cdc" } } },
            ]);
            expect(hostPeers(spec, "toString.x")).to.equal(undefined);
        });
        it("reads the ports of the bootstrap servers, and none when one entry lacks its port", () => {
            expect(bootstrapPorts("a.kafka.svc:9093, b.kafka.svc:9094,a.kafka.svc:9093")).to.deep.equal([9093, 9094]);
            expect(bootstrapPorts("a.kafka.svc")).to.equal(undefined);
        });
    });

    for (const stack of SHIPPED_STACKS) {
        describe(`the shipped ${stack} stack`, () => {
            const spec = specOf(raw(stack));

            it("validates every policy strictly against the Kubernetes schema", () => {
                expect(policies(spec).length).to.be.greaterThan(0);
                for (const body of policies(spec)) expect(validateManifest(body as any), body.metadata.name).to.deep.equal([]);
            });

            it("isolates each workload both ways, with DNS as the first egress rule", () => {
                for (const body of policies(spec)) {
                    expect(body.spec.policyTypes, body.metadata.name).to.deep.equal(["Ingress", "Egress"]);
                    expect(body.spec.egress[0].ports).to.deep.equal([
                        { protocol: "UDP", port: 53 },
                        { protocol: "TCP", port: 53 },
                    ]);
                    for (const rule of body.spec.egress)
                        expect(rule.to.length, `${body.metadata.name}: a rule without peers allows everything`).to.be.greaterThan(0);
                }
            });

            it("selects exactly the pods of its workload", () => {
                for (const run of planReconcileRuns(spec)) {
                    const labels = reconcilerCronJobBody(spec, spec.reconciler!, run).spec.jobTemplate.spec.template.metadata.labels;
                    expect(labels).to.deep.include(reconcilerNetworkPolicyBody(spec, spec.reconciler!, run)!.spec.podSelector.matchLabels);
                    for (const other of planReconcileRuns(spec).filter((r) => r.key !== run.key)) {
                        const selector = reconcilerNetworkPolicyBody(spec, spec.reconciler!, other)!.spec.podSelector.matchLabels;
                        expect(
                            Object.entries(selector).every(([k, v]) => (labels as Record<string, string>)[k] === v),
                            `${other.key} selects ${run.key}'s pods`,
                        ).to.equal(false);
                    }
                }
                for (const p of lakehousePipelines(spec)) {
                    const writer = lakehouseDeploymentBody(spec, p).spec.template.metadata.labels;
                    const maintenance = lakehouseMaintenanceCronJobBody(spec, p).spec.jobTemplate.spec.template.metadata.labels;
                    expect(writer).to.deep.include(lakehouseWriterNetworkPolicyBody(spec, p)!.spec.podSelector.matchLabels);
                    expect(maintenance).to.deep.include(lakehouseMaintenanceNetworkPolicyBody(spec, p)!.spec.podSelector.matchLabels);
                    expect(maintenance).to.not.deep.include(lakehouseWriterNetworkPolicyBody(spec, p)!.spec.podSelector.matchLabels);
                }
            });
        });
    }

    it("lets prod's reconciler reach its source, its target and the Pushgateway, and take no connection", () => {
        const spec = specOf(raw("prod"));
        const [run] = planReconcileRuns(spec);
        const body = reconcilerNetworkPolicyBody(spec, spec.reconciler!, run)!;
        expect(body.metadata.name).to.equal("cdc-reconciler-sales");
        expect(body.spec).to.not.have.property("ingress");
        expect(destinations(body.spec.egress)).to.deep.equal([
            "namespace monitoring:9091",
            "namespace postgres:5432",
            "namespace sales:1433",
        ]);
    });

    it("lets prod's writer reach the brokers, S3 and nothing else, and be scraped from the monitoring namespace only", () => {
        const spec = specOf(raw("prod"));
        const [sales] = lakehousePipelines(spec);
        const writer = lakehouseWriterNetworkPolicyBody(spec, sales)!;
        expect(destinations(writer.spec.egress)).to.deep.equal([
            "203.0.113.0/24:443",
            'namespace kafka pods {"strimzi.io/cluster":"cdc-kafka","strimzi.io/broker-role":"true"}:9093',
        ]);
        expect(writer.spec.ingress).to.deep.equal([
            {
                from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
                ports: [{ protocol: "TCP", port: 8080 }],
            },
        ]);
        const maintenance = lakehouseMaintenanceNetworkPolicyBody(spec, sales)!;
        expect(destinations(maintenance.spec.egress)).to.deep.equal(["203.0.113.0/24:443"]);
        expect(maintenance.spec).to.not.have.property("ingress");
    });

    it("lets dev's writers reach MinIO and the Iceberg catalog, and takes no scrape where no PodMonitor is", () => {
        const config = raw("dev");
        const spec = specOf(config);
        const [shop] = lakehousePipelines(spec);
        expect(destinations(lakehouseMaintenanceNetworkPolicyBody(spec, shop)!.spec.egress)).to.deep.equal([
            "namespace postgres:5432",
            "namespace storage-dev:9000",
        ]);
        config.monitoring.enabled = false;
        const unmonitored = specOf(config);
        expect(lakehouseWriterNetworkPolicyBody(unmonitored, lakehousePipelines(unmonitored)[0])!.spec).to.not.have.property("ingress");
    });

    it("renders none with network.enabled false", () => {
        const config = raw("dev");
        config.network = { enabled: false };
        expect(policies(specOf(config))).to.deep.equal([]);
    });

    describe("configuration rules", () => {
        it("keeps NetworkPolicies on where the profile requires them (prod)", () => {
            const config = raw("prod");
            config.network.enabled = false;
            expect(issuesOf(config)).to.deep.equal([
                "network.enabled: prod limits the reconciler and lakehouse pods to their databases, Kafka and endpoints with NetworkPolicies; remove enabled: false (network.egressCidrs places hosts outside the cluster)",
            ]);
        });

        it("refuses a host outside the cluster without networks, by the setting that names it", () => {
            const config = raw("prod");
            config.pipelines[0].sink.host = "warehouse.example.com";
            delete config.network.egressCidrs;
            expect(issuesOf(config)).to.deep.equal([
                'pipelines.0.sink.host: names warehouse.example.com, which a NetworkPolicy cannot place: it matches IP networks and pods, not names, and this is neither <service>.<namespace>.svc, a Service name in namespace cdc nor an IP address; list its networks in network.egressCidrs (e.g. "warehouse.example.com": [10.20.0.0/16])',
                'lakehouse.storage.region: names s3.eu-west-1.amazonaws.com, which a NetworkPolicy cannot place: it matches IP networks and pods, not names, and this is neither <service>.<namespace>.svc, a Service name in namespace cdc nor an IP address; list its networks in network.egressCidrs (e.g. "s3.eu-west-1.amazonaws.com": [10.20.0.0/16])',
            ]);
            config.network.egressCidrs = { "warehouse.example.com": ["10.20.0.0/16"], "s3.eu-west-1.amazonaws.com": ["203.0.113.0/24"] };
            expect(issuesOf(config)).to.deep.equal([]);
        });

        it("offers dev the way out of turning policies off", () => {
            const config = raw("dev");
            config.reconciler.pushgatewayUrl = "https://push.example.com";
            expect(issuesOf(config)).to.deep.equal([
                'reconciler.pushgatewayUrl: names push.example.com, which a NetworkPolicy cannot place: it matches IP networks and pods, not names, and this is neither <service>.<namespace>.svc, a Service name in namespace cdc-dev nor an IP address; list its networks in network.egressCidrs (e.g. "push.example.com": [10.20.0.0/16]) or set network.enabled: false',
            ]);
            config.network = { enabled: false };
            expect(issuesOf(config)).to.deep.equal([]);
        });

        it("refuses a CIDR that is not one, and warns about networks no workload uses", () => {
            const config = raw("prod");
            config.network.egressCidrs["s3.eu-west-1.amazonaws.com"] = ["203.0.113.0/33", "s3"];
            expect(issuesOf(config)).to.deep.equal([
                "network.egressCidrs.s3.eu-west-1.amazonaws.com.0: must be an IP network in CIDR notation, e.g. 10.20.0.0/16 or 192.0.2.10/32",
                "network.egressCidrs.s3.eu-west-1.amazonaws.com.1: must be an IP network in CIDR notation, e.g. 10.20.0.0/16 or 192.0.2.10/32",
            ]);
            const unused = raw("prod");
            unused.network.egressCidrs["db.example.com"] = ["10.0.0.0/8"];
            expect(parseStackSpec(unused).warnings).to.include(
                "network.egressCidrs.db.example.com: no workload of the stack connects to db.example.com, so these networks are opened to nothing",
            );
        });

        it("needs the bootstrap servers' ports for the writers' policy, and warns when they name another namespace than kafka.namespace", () => {
            const config = raw("prod");
            config.kafka.bootstrapServers = "cdc-kafka-kafka-bootstrap.kafka.svc";
            expect(issuesOf(config)).to.deep.equal([
                "kafka.bootstrapServers: name each bootstrap server as host:port; the writers' NetworkPolicy opens exactly those ports to the brokers",
            ]);
            const elsewhere = raw("dev");
            delete elsewhere.kafka.namespace;
            expect(parseStackSpec(elsewhere).warnings).to.include(
                "kafka.bootstrapServers names a Service in namespace kafka, but kafka.namespace is cdc-dev: the KafkaAccess, the stack's KafkaUsers and the writers' NetworkPolicy look for Kafka cdc-kafka there",
            );
        });
    });
});
