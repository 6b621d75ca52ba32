import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_PROVIDER_REFERENCE } from "../connectors/context";
import { MOCK_GENERATED_PASSWORD, promiseOf, Registration } from "./helpers/mocks";
import { validateManifest } from "./helpers/k8s-schemas";
import { runProgram } from "./helpers/program";
import { capturedFor, registrationKey } from "./policies/helpers/capture";
import { REPO_ROOT, SHIPPED_STACKS, ShippedStack } from "./helpers/stack-files";

const CONNECTOR = "kubernetes:kafka.strimzi.io/v1:KafkaConnector";
const CONNECT = "kubernetes:kafka.strimzi.io/v1:KafkaConnect";
const TOPIC = "kafka:index/topic:Topic";
const KAFKA_ACCESS = "kubernetes:access.strimzi.io/v1alpha1:KafkaAccess";
const KAFKA_USER = "kubernetes:kafka.strimzi.io/v1:KafkaUser";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const CREDENTIAL_KEY = /(password|secret|token|user(name)?)$/i;

/** Besides the SQL Server pipeline both stacks share, dev has seed 004's PostgreSQL and MariaDB pipelines. */
const EXPECTED = {
    dev: {
        rf: 1,
        minIsr: "1",
        partitions: 1,
        plugins: ["sqlserver-3.6.1", "postgres-3.6.1", "mariadb-3.5.0", "jdbc-3.5.0"],
        connectors: [
            "inventory-mariadb-source",
            "inventory-postgres-sink",
            "postgresql-jdbc-sink",
            "shop-postgres-sink",
            "shop-postgres-source",
            "sqlserver-cdc-source",
        ],
        pipelines: ["sales", "shop", "inventory"],
    },
    prod: {
        rf: 3,
        minIsr: "2",
        partitions: 3,
        plugins: ["sqlserver-3.6.1", "jdbc-3.5.0"],
        connectors: ["postgresql-jdbc-sink", "sqlserver-cdc-source"],
        pipelines: ["sales"],
    },
} as const;

function topicsByName(registrations: Registration[]): Map<string, Record<string, any>> {
    return new Map(registrations.filter((r) => r.type === TOPIC).map((r) => [r.inputs.name as string, r.inputs]));
}

/**
 * Every string anywhere in a registration's inputs, with its path and whether it sits inside a Pulumi
 * secret (encrypted in state). A dynamic resource's `__provider` is its serialized code, not data.
 */
function strings(value: unknown, at = "", secret = false): Array<[string, string, boolean]> {
    if (typeof value === "string") return [[at, value, secret]];
    if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${at}[${i}]`, secret));
    if (value && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) return strings(record.value, `${at}<secret>`, true);
        return Object.entries(record)
            .filter(([k]) => k !== "__provider")
            .flatMap(([k, v]) => strings(v, at ? `${at}.${k}` : k, secret));
    }
    return [];
}

for (const stack of SHIPPED_STACKS) {
    for (const preview of [false, true]) {
        describe(`program on the shipped ${stack} stack (preview: ${preview})`, function () {
            this.timeout(60000);
            const expected = EXPECTED[stack as ShippedStack];

            it("creates one CDC topic per captured table with the seed's naming and the environment's replication", async () => {
                const { mocks } = await runProgram(stack, preview);
                const topics = topicsByName(mocks.registrations);
                for (const table of ["dbo.customers", "dbo.orders", "dbo.order_items"]) {
                    const topic = topics.get(`sqlserver.SalesDB.${table}`);
                    expect(topic, table).to.not.equal(undefined);
                    expect(topic!.replicationFactor).to.equal(expected.rf);
                    expect(topic!.partitions).to.equal(expected.partitions);
                    expect(topic!.config).to.deep.equal({
                        "min.insync.replicas": expected.minIsr,
                        "cleanup.policy": "delete",
                        "retention.ms": String(7 * 24 * 3600 * 1000),
                        "compression.type": "lz4",
                    });
                }
            });

            it("creates the DLQ with 30 days retention and an infinite, single-partition schema history topic", async () => {
                const { mocks } = await runProgram(stack, preview);
                const topics = topicsByName(mocks.registrations);
                const dlq = topics.get("dlq-postgresql-jdbc-sink")!;
                expect(dlq.config["retention.ms"]).to.equal(String(30 * 24 * 3600 * 1000));
                expect(dlq.replicationFactor).to.equal(expected.rf);
                const history = topics.get("sqlserver.schema-history")!;
                expect(history.partitions).to.equal(1);
                expect(history.config).to.include({ "retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete" });
            });

            it("pre-creates Connect's internal topics compacted, with the environment's replication", async () => {
                const { mocks } = await runProgram(stack, preview);
                const topics = topicsByName(mocks.registrations);
                for (const suffix of ["configs", "offsets", "status"]) {
                    const topic = topics.get(`cdc-connect-${suffix}`)!;
                    expect(topic.config["cleanup.policy"]).to.equal("compact");
                    expect(topic.replicationFactor).to.equal(expected.rf);
                }
                expect(topics.get("cdc-connect-configs")!.partitions).to.equal(1);
            });

            it("renders a KafkaConnect that accepts KafkaConnectors and reads Secrets through Strimzi's provider", async () => {
                const { mocks } = await runProgram(stack, preview);
                const [connect] = mocks.ofType(CONNECT);
                expect(connect.inputs.metadata.annotations["strimzi.io/use-connector-resources"]).to.equal("true");
                expect(connect.inputs.spec.config["config.providers.secrets.class"]).to.equal(
                    "io.strimzi.kafka.KubernetesSecretConfigProvider",
                );
                expect(connect.inputs.spec.config["config.storage.replication.factor"]).to.equal(String(expected.rf));
                const built = connect.inputs.spec.build.plugins as { name: string; artifacts: Record<string, string>[] }[];
                const plugins = built
                    .filter((p) => p.artifacts[0].type === "tgz")
                    .map((p) => [p.artifacts[0].type, p.artifacts[0].url.split("/").pop()]);
                expect(plugins).to.deep.equal(
                    expected.plugins.map((p) => {
                        const [name, version] = p.split("-");
                        return ["tgz", `debezium-connector-${name}-${version}.Final-plugin.tar.gz`];
                    }),
                );
                // Both shipped stacks serialize with Avro: the registry's converter is built in from Maven Central, and the
                // workers also scan plugin folders for classes, since its jar has no ServiceLoader manifest.
                expect(built.filter((p) => p.artifacts[0].type !== "tgz")).to.deep.equal([
                    {
                        name: "apicurio-avro-converter",
                        artifacts: [
                            { type: "maven", group: "io.apicurio", artifact: "apicurio-registry-utils-converter", version: "2.6.13.Final" },
                        ],
                    },
                ]);
                expect(connect.inputs.spec.config["plugin.discovery"]).to.equal("hybrid_warn");
            });

            it("labels every KafkaConnector with the KafkaConnect's own name", async () => {
                const { mocks } = await runProgram(stack, preview);
                const [connect] = mocks.ofType(CONNECT);
                const connectors = mocks.ofType(CONNECTOR);
                expect(connectors.map((c) => c.inputs.metadata.name).sort()).to.deep.equal(expected.connectors);
                for (const c of connectors) expect(c.inputs.metadata.labels["strimzi.io/cluster"]).to.equal(connect.inputs.metadata.name);
            });

            it("lets the Connect service account read exactly the connector Secrets", async () => {
                const { mocks } = await runProgram(stack, preview);
                const [role] = mocks.ofType("kubernetes:rbac.authorization.k8s.io/v1:Role");
                const expectedSecrets = [
                    ...expected.pipelines.flatMap((p) => [`${p}-source-db`, `${p}-target-db`]),
                    ...(stack === "prod" ? ["cdc-connect-kafka-access"] : []),
                    // Prod's registry: the two logins (Vault → Secret) and the truststore whose password the converters read.
                    ...(stack === "prod"
                        ? ["cdc-connect-registry-reader", "cdc-connect-registry-writer", "schema-registry-truststore"]
                        : []),
                ].sort();
                expect(role.inputs.rules).to.deep.equal([
                    { apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: expectedSecrets },
                ]);
                const [binding] = mocks.ofType("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding");
                expect(binding.inputs.subjects).to.deep.equal([
                    { kind: "ServiceAccount", name: "cdc-connect-connect", namespace: stack === "prod" ? "cdc" : "cdc-dev" },
                ]);
            });

            it(
                stack === "prod"
                    ? "creates Connect's own KafkaUser in namespace kafka and brings the cluster CA and its password through a KafkaAccess the KafkaConnect waits for"
                    : "needs no KafkaUser or KafkaAccess: dev's Connect uses a plaintext listener without authentication",
                async () => {
                    const { mocks } = await runProgram(stack, preview);
                    // The lakehouse writers' own KafkaUsers and KafkaAccess objects are test/lakehouse-program.spec.ts's.
                    const access = mocks.ofType(KAFKA_ACCESS).filter((a) => a.inputs.metadata.name === "cdc-connect-kafka-access");
                    const user = mocks.ofType(KAFKA_USER).filter((u) => u.inputs.metadata.name === "cdc-connect");
                    if (stack === "dev") {
                        expect([...access, ...user]).to.deep.equal([]);
                        return;
                    }
                    expect(user.map((u) => [u.inputs.metadata.namespace, u.inputs.spec.authentication.type])).to.deep.equal([
                        ["kafka", "scram-sha-512"],
                    ]);
                    expect(access.map((a) => a.inputs.spec.kafka)).to.deep.equal([
                        { name: "cdc-kafka", namespace: "kafka", listener: "tls" },
                    ]);
                    expect(access[0].inputs.spec.user.name).to.equal("cdc-connect");
                    for (const o of [...user, ...access]) expect(validateManifest(o.inputs as any), o.name).to.deep.equal([]);
                    const [connect] = mocks.ofType(CONNECT);
                    expect(connect.inputs.spec.tls.trustedCertificates[0].secretName).to.equal(access[0].inputs.metadata.name);
                    expect(connect.inputs.spec.authentication.username).to.equal("cdc-connect");
                    const captured = capturedFor(mocks);
                    const cluster = captured.get(registrationKey("cdc:connect:ConnectCluster", "connect"))!.urn;
                    const [userOptions, accessOptions] = [
                        captured.get(registrationKey(KAFKA_USER, user[0].name))!,
                        captured.get(registrationKey(KAFKA_ACCESS, access[0].name))!,
                    ];
                    expect([userOptions.parent, accessOptions.parent]).to.deep.equal([cluster, cluster]);
                    expect(accessOptions.dependencies).to.include(userOptions.urn);
                    expect(captured.get(registrationKey(CONNECT, connect.name))!.dependencies).to.include(accessOptions.urn);
                },
            );

            it("has Strimzi keep at most one Connect worker down in a drain, of the profile's workers", async () => {
                const { mocks } = await runProgram(stack, preview);
                const [connect] = mocks.ofType(CONNECT);
                expect(connect.inputs.spec.template.podDisruptionBudget).to.deep.equal({ maxUnavailable: 1 });
                expect(connect.inputs.spec.replicas).to.equal(stack === "prod" ? 2 : 1);
            });

            it("isolates each reconciliation CronJob's pods with a NetworkPolicy of its own, a child of the ReconciliationJob", async () => {
                const { mocks } = await runProgram(stack, preview);
                const captured = capturedFor(mocks);
                const job = captured.get(registrationKey("cdc:reconciler:ReconciliationJob", "reconciler"))!.urn;
                const cronJobs = mocks.ofType("kubernetes:batch/v1:CronJob").filter((c) => c.name.startsWith("reconciler-"));
                const policies = mocks.ofType(NETWORK_POLICY).filter((n) => n.name.startsWith("reconciler-"));
                expect(policies.map((p) => p.inputs.metadata.name).sort()).to.deep.equal(
                    cronJobs.map((c) => c.inputs.metadata.name).sort(),
                );
                for (const policy of policies) {
                    expect(captured.get(registrationKey(NETWORK_POLICY, policy.name))!.parent).to.equal(job);
                    expect(validateManifest(policy.inputs as any), policy.name).to.deep.equal([]);
                    const cronJob = cronJobs.find((c) => c.inputs.metadata.name === policy.inputs.metadata.name)!;
                    const podLabels = cronJob.inputs.spec.jobTemplate.spec.template.metadata.labels;
                    expect(podLabels).to.deep.include(policy.inputs.spec.podSelector.matchLabels);
                }
            });

            it("puts no credential value in any registered input", async () => {
                const { mocks } = await runProgram(stack, preview);
                for (const c of mocks.ofType(CONNECTOR)) {
                    for (const [key, value] of Object.entries(c.inputs.spec.config as Record<string, string>)) {
                        if (CREDENTIAL_KEY.test(key)) expect(value, `${c.name} ${key}`).to.match(CONFIG_PROVIDER_REFERENCE);
                    }
                }
                let generatedInSecrets = 0;
                for (const r of mocks.registrations) {
                    for (const [at, value, secret] of strings(r.inputs)) {
                        expect(/password\s*[=:]\s*["']?(?!\$\{)[^"'\s;]+/i.test(value), `${r.type} ${r.name} ${at}`).to.equal(false);
                        // Generated passwords (RandomPassword results under the mocks) travel only inside secrets.
                        if (value.includes(MOCK_GENERATED_PASSWORD)) {
                            expect(secret, `${r.type} ${r.name} ${at} holds a generated password outside a secret`).to.equal(true);
                            generatedInSecrets++;
                        }
                    }
                }
                // In preview the generated values are unknown; otherwise the check above must have had work to do.
                if (!preview) expect(generatedInSecrets, "generated passwords reaching Vault, the roles and the login").to.be.at.least(4);
            });

            it("matches the reviewed resource list (type::name), so renames and token changes are deliberate", async () => {
                const { mocks } = await runProgram(stack, preview);
                const actual = [...new Set(mocks.registrations.map((r) => `${r.type}::${r.name}`))].sort().join("\n") + "\n";
                const file = path.join(REPO_ROOT, "test", "snapshots", `resources.${stack}.txt`);
                if (process.env.UPDATE_SNAPSHOTS === "1") fs.writeFileSync(file, actual);
                expect(actual, "run UPDATE_SNAPSHOTS=1 npm run test:unit after reviewing the change").to.equal(
                    fs.readFileSync(file, "utf8"),
                );
            });

            if (!preview) {
                it("exports the connector and topic names", async () => {
                    const { exports } = await runProgram(stack, preview);
                    expect(await promiseOf(exports.connectors as pulumi.Output<string[]>)).to.have.members([...expected.connectors]);
                    expect(await promiseOf(exports.topics as pulumi.Output<string[]>)).to.include("sqlserver.SalesDB.dbo.customers");
                });
            }
        });
    }
}
