/**
 * The schema validator itself: every family of schemas it reads (Strimzi CRDs derived at setup, the
 * pinned Vault Secrets Operator CRDs, the kubernetes-models validators) accepts a correct object and
 * rejects a wrong one with the exact problems, and the pinned fixture is the one its PROVENANCE names.
 */
import { expect } from "chai";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { STRIMZI_KINDS, StrimziKind, strimziCrdFile } from "./contracts/derive-schemas";
import { validateManifest, VSO_FIXTURE_DIR } from "./helpers/k8s-schemas";

type Manifest = Parameters<typeof validateManifest>[0];

/** Applies `change` to a deep copy, so each case starts from the valid object. */
function broken(valid: Manifest, change: (m: any) => void): Manifest {
    const copy = structuredClone(valid);
    change(copy);
    return copy;
}

describe("schema validator self-test", () => {
    it("derives one v1-only Strimzi CRD per kind", () => {
        for (const kind of Object.keys(STRIMZI_KINDS) as StrimziKind[]) {
            const [crd] = parseAllDocuments(fs.readFileSync(strimziCrdFile(kind), "utf8")).map((d) => d.toJS());
            expect(crd.spec.names.kind, kind).to.equal(kind);
            expect(crd.spec.versions.map((v: { name: string }) => v.name)).to.deep.equal(["v1"]);
        }
    });

    it("rejects a wrong KafkaConnector (derived Strimzi CRD)", () => {
        const valid: Manifest = {
            apiVersion: "kafka.strimzi.io/v1",
            kind: "KafkaConnector",
            metadata: { name: "sales-source", labels: { "strimzi.io/cluster": "cdc-connect" } },
            spec: {
                class: "io.debezium.connector.sqlserver.SqlServerConnector",
                tasksMax: 1,
                state: "running",
                config: { "topic.prefix": "sales" },
            },
        };
        expect(validateManifest(valid)).to.deep.equal([]);
        const wrong = broken(valid, (m) => {
            m.metadata.label = {};
            m.spec.tasksMax = "1";
            m.spec.state = "sleeping";
            m.spec.taskMax = 1;
        });
        expect(validateManifest(wrong)).to.deep.equal([
            "/spec/tasksMax must be integer",
            "/spec/state must be equal to one of the allowed values",
            "KafkaConnector.metadata.label is not an ObjectMeta field",
            "KafkaConnector.spec.taskMax is not declared by the schema",
        ]);
    });

    it("rejects a wrong KafkaAccess (the Access Operator's released CRD)", () => {
        const valid: Manifest = {
            apiVersion: "access.strimzi.io/v1alpha1",
            kind: "KafkaAccess",
            metadata: { name: "cdc-connect-kafka-access", namespace: "cdc" },
            spec: {
                kafka: { name: "cdc-kafka", namespace: "kafka", listener: "tls" },
                user: { kind: "KafkaUser", apiGroup: "kafka.strimzi.io", name: "cdc-connect", namespace: "kafka" },
                secretName: "cdc-connect-kafka-access",
            },
        };
        expect(validateManifest(valid)).to.deep.equal([]);
        const wrong = broken(valid, (m) => {
            delete m.spec.kafka.name;
            delete m.spec.user.apiGroup;
            m.spec.kafka.listenerName = "tls";
            m.metadata.label = {};
        });
        // Its CRD leaves apiVersion, kind and metadata implicit, as the API server does; metadata is still ObjectMeta.
        expect(validateManifest(wrong)).to.deep.equal([
            "/spec/kafka must have required property 'name'",
            "/spec/user must have required property 'apiGroup'",
            "KafkaAccess.metadata.label is not an ObjectMeta field",
            "KafkaAccess.spec.kafka.listenerName is not declared by the schema",
        ]);
    });

    it("rejects a wrong VaultStaticSecret (pinned Vault Secrets Operator CRD)", () => {
        const valid: Manifest = {
            apiVersion: "secrets.hashicorp.com/v1beta1",
            kind: "VaultStaticSecret",
            metadata: { name: "sales-source-db", namespace: "cdc" },
            spec: {
                vaultAuthRef: "connect",
                mount: "secret",
                type: "kv-v2",
                path: "db/sales/source",
                destination: { name: "sales-source-db", create: true },
            },
        };
        expect(validateManifest(valid)).to.deep.equal([]);
        const wrong = broken(valid, (m) => {
            m.spec.type = "kv-v3";
            delete m.spec.destination.name;
            m.spec.destination.overwrites = false;
        });
        expect(validateManifest(wrong)).to.deep.equal([
            "/spec/destination must have required property 'name'",
            "/spec/type must be equal to one of the allowed values",
            "VaultStaticSecret.spec.destination.overwrites is not declared by the schema",
        ]);
    });

    it("rejects a wrong CronJob (kubernetes-models)", () => {
        const valid: Manifest = {
            apiVersion: "batch/v1",
            kind: "CronJob",
            metadata: { name: "reconcile", labels: { app: "reconciler" } },
            spec: {
                schedule: "0 2 * * *",
                concurrencyPolicy: "Forbid",
                jobTemplate: {
                    spec: {
                        template: {
                            spec: {
                                restartPolicy: "Never",
                                containers: [{ name: "r", image: "r:1", resources: { limits: { memory: "1Gi" } } }],
                            },
                        },
                    },
                },
            },
        };
        expect(validateManifest(valid)).to.deep.equal([]);
        const wrong = broken(valid, (m) => {
            m.metadata.label = {};
            m.spec.concurrencyPolicy = "Never";
            m.spec.jobTemplate.spec.template.spec.containers[0].imagePullPolicyy = "Always";
        });
        expect(validateManifest(wrong)).to.deep.equal([
            '/spec/concurrencyPolicy enum {"allowedValues":["Allow","Forbid","Replace"]}',
            "CronJob.metadata.label is not declared by the schema",
            "CronJob.spec.jobTemplate.spec.template.spec.containers[0].imagePullPolicyy is not declared by the schema",
        ]);
    });

    it("rejects a wrong PodMonitor (@kubernetes-models/prometheus-operator)", () => {
        const valid: Manifest = {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PodMonitor",
            metadata: { name: "cdc-connect" },
            spec: {
                selector: { matchLabels: { "strimzi.io/kind": "KafkaConnect" } },
                podMetricsEndpoints: [{ port: "tcp-prometheus", interval: "30s" }],
            },
        };
        expect(validateManifest(valid)).to.deep.equal([]);
        const wrong = broken(valid, (m) => {
            m.spec.podMetricsEndpoints[0].interval = "30 seconds";
            m.spec.podMetricsEndpoint = [];
        });
        const problems = validateManifest(wrong);
        expect(problems).to.have.length(2);
        expect(problems[0]).to.match(/^\/spec\/podMetricsEndpoints\/0\/interval pattern /);
        expect(problems[1]).to.equal("PodMonitor.spec.podMetricsEndpoint is not declared by the schema");
    });

    it("refuses a kind it has no schema for instead of passing it", () => {
        expect(() => validateManifest({ apiVersion: "kafka.strimzi.io/v1beta2", kind: "KafkaConnect" })).to.throw(
            "no schema source for kafka.strimzi.io/v1beta2/KafkaConnect",
        );
    });

    it("reads the Vault Secrets Operator CRDs exactly as PROVENANCE pins them", () => {
        const provenance = fs.readFileSync(path.join(VSO_FIXTURE_DIR, "PROVENANCE"), "utf8");
        const pinned = new Map([...provenance.matchAll(/^([0-9a-f]{64}) {2}(\S+)$/gm)].map((m) => [m[2], m[1]]));
        const files = fs.readdirSync(VSO_FIXTURE_DIR).filter((f) => f !== "PROVENANCE");
        expect([...pinned.keys()].sort()).to.deep.equal(files.sort());
        for (const file of files) {
            const actual = createHash("sha256")
                .update(new Uint8Array(fs.readFileSync(path.join(VSO_FIXTURE_DIR, file))))
                .digest("hex");
            expect(actual, file).to.equal(pinned.get(file));
        }
        expect(provenance).to.include("version: v1.4.1").and.include("licence: BUSL-1.1");
    });
});
