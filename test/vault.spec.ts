/**
 * Vault: the KV v2 secret layout, the per-consumer policies (JSON documents, read back with JSON.parse), the Kubernetes auth
 * roles, and the Vault Secrets Operator objects that deliver the secrets — as plans and as the
 * resources the program registers for the shipped stacks.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { parseStackSpec } from "../plan/stack-spec";
import type { StackSpec } from "../model/spec";
import { connectorSecretNames } from "../plan/connect-cluster";
import { CREDENTIAL_KEYS, kafkaAccessName } from "../model/naming";
import {
    consumersOf,
    planKubernetesAuthRoles,
    planSecretSyncs,
    planVaultPolicies,
    planVaultSecrets,
    policyProblems,
    renderPolicyJson,
    vaultAuthBody,
    vaultConnectionBody,
    vaultStaticSecretBody,
    VaultPolicyPlan,
} from "../plan/vault";
import { validateManifest } from "./helpers/k8s-schemas";
import { runProgram } from "./helpers/program";
import { rawProjectConfig, SHIPPED_STACKS } from "./helpers/stack-files";

const specOf = (stack: "dev" | "prod"): StackSpec => parseStackSpec(rawProjectConfig(stack)).spec;
const policyOf = (spec: StackSpec, consumer: string): VaultPolicyPlan => planVaultPolicies(spec).find((p) => p.consumer === consumer)!;
type PolicyDocument = { path: Record<string, { capabilities: string[]; comment?: string }> };
const documentOf = (policy: VaultPolicyPlan): PolicyDocument => JSON.parse(renderPolicyJson(policy)) as PolicyDocument;
/** Capabilities by path, as Vault grants them. */
const grants = (policy: VaultPolicyPlan): Record<string, string[]> =>
    Object.fromEntries(Object.entries(documentOf(policy).path).map(([path, rule]) => [path, rule.capabilities]));

describe("Vault plan", () => {
    it("writes one KV v2 secret per pipeline and purpose, with the connection fields next to the password", () => {
        const dev = planVaultSecrets(specOf("dev"));
        const warehouse = { host: "warehouse-dev.postgres.svc", port: "5432" };
        const targets = (pipeline: string) => [
            [`db/${pipeline}/target`, { ...warehouse, username: "cdc_writer" }, { kind: "postgres-role", role: "cdc_writer" }],
            [
                `db/${pipeline}/target-readonly`,
                { ...warehouse, username: "cdc_reconciler" },
                { kind: "postgres-role", role: "cdc_reconciler" },
            ],
        ];
        expect(dev.map((s) => [s.path, s.fields, s.password])).to.deep.equal([
            [
                "db/sales/source",
                { host: "sqlserver.sales-dev.svc", port: "1433", username: "cdc_reader" },
                { kind: "sqlserver-login", login: "cdc_reader" },
            ],
            ...targets("sales"),
            [
                "db/shop/source",
                { host: "shop-db.shop-dev.svc", port: "5432", username: "cdc_reader" },
                { kind: "config", pipeline: "shop" },
            ],
            ...targets("shop"),
            [
                "db/inventory/source",
                { host: "inventory-db.inventory-dev.svc", port: "3306", username: "cdc_reader" },
                { kind: "config", pipeline: "inventory" },
            ],
            ...targets("inventory"),
            // The lakehouse writers' Iceberg catalog role (test/lakehouse.spec.ts).
            [
                "db/cdc-lakehouse/iceberg-catalog",
                { ...warehouse, username: "iceberg_catalog" },
                { kind: "postgres-role", role: "iceberg_catalog" },
            ],
        ]);
        // prod's Connect authenticates to Kafka with SCRAM, but that password is the User Operator's, not Vault's.
        expect(planVaultSecrets(specOf("prod")).map((s) => s.path)).to.deep.equal([
            "db/sales/source",
            "db/sales/target",
            "db/sales/target-readonly",
        ]);
    });

    it("takes passwords of sources it does not create from secret config", () => {
        const raw = structuredClone(rawProjectConfig("dev")) as Record<string, any>;
        raw.pipelines[0].source = {
            kind: "postgres",
            host: "crm-db",
            database: "crm",
            tables: [{ name: "public.customers", primaryKey: ["id"] }],
        };
        delete raw.sqlserver;
        const [source] = planVaultSecrets(parseStackSpec(raw).spec);
        expect(source.password).to.deep.equal({ kind: "config", pipeline: "sales" });
    });

    for (const stack of SHIPPED_STACKS) {
        describe(`policies (${stack})`, () => {
            const spec = specOf(stack);
            const pipelines = spec.pipelines.map((p) => p.name);

            it("gives Connect read on exactly its credentials' KV v2 data paths, and nothing else", () => {
                const connect = policyOf(spec, "connect");
                expect(connect.name).to.equal(`cdc-${stack}-connect`);
                expect(grants(connect)).to.deep.equal(
                    Object.fromEntries(
                        pipelines
                            .flatMap((p) => [
                                [`secret/data/db/${p}/source`, ["read"]],
                                [`secret/data/db/${p}/target`, ["read"]],
                            ])
                            // Prod's registry asks for logins: the sources' and the sinks' (dev's asks for none).
                            .concat(
                                stack === "prod"
                                    ? [
                                          ["secret/data/schema-registry/cdc-reader", ["read"]],
                                          ["secret/data/schema-registry/cdc-writer", ["read"]],
                                      ]
                                    : [],
                            )
                            .sort(),
                    ),
                );
            });

            it("gives the reconciler read on the source and the read-only target credentials only", () => {
                const reconciler = policyOf(spec, "reconciler");
                expect(grants(reconciler)).to.deep.equal(
                    Object.fromEntries(
                        pipelines
                            .flatMap((p) => [
                                [`secret/data/db/${p}/source`, ["read"]],
                                [`secret/data/db/${p}/target-readonly`, ["read"]],
                            ])
                            .sort(),
                    ),
                );
            });

            it("renders a JSON document in the shape Vault's policy parser reads, each rule saying which Secret it serves", () => {
                for (const policy of planVaultPolicies(spec)) {
                    const text = renderPolicyJson(policy);
                    // Vault parses text as JSON only when its first non-blank character is "{".
                    expect(text.trimStart()[0]).to.equal("{");
                    const doc = documentOf(policy);
                    expect(Object.keys(doc)).to.deep.equal(["path"]);
                    for (const [path, rule] of Object.entries(doc.path)) {
                        // Keys of a path rule Vault accepts ("comment" is ignored); any other fails the policy write.
                        expect(Object.keys(rule), path).to.deep.equal(["capabilities", "comment"]);
                        expect(rule.comment, path).to.match(/^synced to Secret [a-z0-9-]+/);
                    }
                }
            });

            it("never renders the seed's KV v1 style paths (secret/db/*), which grant nothing on a v2 mount", () => {
                for (const policy of planVaultPolicies(spec)) {
                    for (const path of Object.keys(grants(policy))) {
                        expect(path, policy.name).to.match(/^secret\/data\//);
                        expect(path).to.not.match(/[*+]/);
                    }
                    expect(policyProblems(policy, spec.vault.kvMount)).to.deep.equal([]);
                }
            });

            it("binds each consumer's service account in the stack's namespace to its own policy", () => {
                const namespace = stack === "prod" ? "cdc" : "cdc-dev";
                expect(planKubernetesAuthRoles(spec)).to.deep.equal([
                    {
                        consumer: "connect",
                        roleName: `cdc-${stack}-connect`,
                        serviceAccount: "cdc-connect-connect",
                        namespace,
                        policies: [`cdc-${stack}-connect`],
                        audience: "vault",
                        tokenTtlSeconds: 3600,
                    },
                    {
                        consumer: "reconciler",
                        roleName: `cdc-${stack}-reconciler`,
                        serviceAccount: "cdc-reconciler",
                        namespace,
                        policies: [`cdc-${stack}-reconciler`],
                        audience: "vault",
                        tokenTtlSeconds: 3600,
                    },
                    {
                        consumer: "lakehouse",
                        roleName: `cdc-${stack}-lakehouse`,
                        serviceAccount: "cdc-lakehouse",
                        namespace,
                        policies: [`cdc-${stack}-lakehouse`],
                        audience: "vault",
                        tokenTtlSeconds: 3600,
                    },
                ]);
            });
        });
    }

    it("rejects sudo, writes on wildcards, writes at all and paths outside the mount's data", () => {
        const policy: VaultPolicyPlan = {
            name: "bad",
            consumer: "connect",
            rules: [
                { path: "secret/data/db/*", capabilities: ["read", "update"] },
                { path: "sys/mounts", capabilities: ["sudo", "read"] },
                { path: "secret/data/*", capabilities: ["read"] },
            ],
        };
        expect(policyProblems(policy, "secret")).to.deep.equal([
            "bad: secret/data/db/* grants update on a wildcard path",
            "bad: secret/data/db/* grants update; consumers only read",
            "bad: sys/mounts grants sudo",
            "bad: sys/mounts is not a KV v2 data path under secret/",
            "bad: secret/data/* opens the whole mount",
        ]);
    });
});

describe("Vault Secrets Operator objects", () => {
    for (const stack of SHIPPED_STACKS) {
        const spec = specOf(stack);

        it(`syncs exactly the Secrets the connectors reference (${stack})`, () => {
            const connect = planSecretSyncs(spec)
                .filter((s) => s.consumer === "connect")
                .map((s) => s.secretName);
            // Connect's Role may also read the Access Operator's binding Secret (prod: TLS and SCRAM to Kafka).
            const kafkaBinding = spec.kafka.tls || spec.kafka.authentication !== "none" ? [kafkaAccessName(spec.connect.name)] : [];
            // And the registry truststore's password (the Secret holding the truststore is not Vault's).
            const truststore = spec.schemaRegistry?.truststoreSecret ? [spec.schemaRegistry.truststoreSecret] : [];
            expect([...connect, ...kafkaBinding, ...truststore].sort()).to.deep.equal(connectorSecretNames(spec));
            for (const secret of planVaultSecrets(spec)) {
                expect([...Object.keys(secret.fields), "password"]).to.include.members(Object.values(CREDENTIAL_KEYS));
            }
        });

        it(`chains each VaultStaticSecret to its consumer's VaultAuth, auth role and service account (${stack})`, () => {
            const roles = new Map(planKubernetesAuthRoles(spec).map((r) => [r.consumer, r]));
            for (const sync of planSecretSyncs(spec)) {
                const body = vaultStaticSecretBody(spec, sync);
                const auth = vaultAuthBody(spec, sync.consumer);
                expect(body.spec.vaultAuthRef).to.equal(auth.metadata.name);
                expect(body.spec).to.include({ mount: "secret", type: "kv-v2", path: sync.path });
                expect((body.spec.destination as any).name).to.equal(sync.secretName);
                const k8sAuth = auth.spec.kubernetes as Record<string, unknown>;
                expect(k8sAuth.role).to.equal(roles.get(sync.consumer)!.roleName);
                expect(k8sAuth.serviceAccount).to.equal(roles.get(sync.consumer)!.serviceAccount);
                expect(k8sAuth.audiences).to.deep.equal([roles.get(sync.consumer)!.audience]);
                expect(auth.spec.vaultConnectionRef).to.equal(vaultConnectionBody(spec).metadata.name);
            }
        });

        it(`renders objects the Vault Secrets Operator 1.4 CRDs accept, with no undeclared keys (${stack})`, () => {
            const bodies = [
                vaultConnectionBody(spec),
                ...consumersOf(spec).map((c) => vaultAuthBody(spec, c)),
                ...planSecretSyncs(spec).map((s) => vaultStaticSecretBody(spec, s)),
            ];
            for (const body of bodies) expect(validateManifest(body as any), `${body.kind} ${body.metadata.name}`).to.deep.equal([]);
        });
    }

    it("verifies Vault's certificate in prod and names its CA Secret", () => {
        expect(vaultConnectionBody(specOf("prod")).spec).to.deep.equal({
            address: "https://vault.vault.svc:8200",
            skipTLSVerify: false,
            caCertSecretRef: "vault-ca",
        });
    });
});

for (const stack of SHIPPED_STACKS) {
    describe(`Vault resources of the shipped ${stack} stack`, function () {
        this.timeout(60000);
        const spec = specOf(stack);

        it("registers one policy per consumer whose document is the rendered plan", async () => {
            const { mocks } = await runProgram(stack, false);
            const policies = mocks.ofType("vault:index/policy:Policy");
            expect(policies.map((p) => p.inputs.name)).to.deep.equal([
                `cdc-${stack}-connect`,
                `cdc-${stack}-reconciler`,
                `cdc-${stack}-lakehouse`,
            ]);
            for (const p of policies) {
                const plan = planVaultPolicies(spec).find((x) => x.name === p.inputs.name)!;
                expect(p.inputs.policy).to.equal(renderPolicyJson(plan));
            }
        });

        it("registers Kubernetes auth roles bound to one service account, namespace and audience each", async () => {
            const { mocks } = await runProgram(stack, false);
            const roles = mocks.ofType("vault:kubernetes/authBackendRole:AuthBackendRole");
            expect(roles.map((r) => r.inputs)).to.deep.equal(
                planKubernetesAuthRoles(spec).map((r) => ({
                    backend: "kubernetes",
                    roleName: r.roleName,
                    boundServiceAccountNames: [r.serviceAccount],
                    boundServiceAccountNamespaces: [r.namespace],
                    audience: "vault",
                    tokenPolicies: r.policies,
                    tokenTtl: 3600,
                    tokenMaxTtl: 7200,
                    tokenNoDefaultPolicy: false,
                })),
            );
        });

        it("writes every secret as a Pulumi secret on the KV v2 mount", async () => {
            const { mocks } = await runProgram(stack, false);
            const secrets = mocks.ofType("vault:kv/secretV2:SecretV2");
            // Registered as their passwords resolve: generated ones and secret config at different times.
            expect(secrets.map((s) => s.inputs.name)).to.have.members(planVaultSecrets(spec).map((s) => s.path));
            for (const s of secrets) {
                expect(s.inputs.mount).to.equal("secret");
                expect(s.inputs.dataJson[pulumi.runtime.specialSigKey], s.name).to.equal(pulumi.runtime.specialSecretSig);
                const data = JSON.parse(s.inputs.dataJson.value);
                expect(Object.keys(data).sort()).to.deep.equal(["host", "password", "port", "username"]);
            }
            // dev's Vault server comes with secret/ mounted; prod creates the KV v2 mount.
            const mounts = mocks.ofType("vault:index/mount:Mount").map((m) => m.inputs);
            expect(mounts).to.deep.equal(
                stack === "prod"
                    ? [{ path: "secret", type: "kv", options: { version: "2" }, description: "cdc-pipeline credentials (KV version 2)" }]
                    : [],
            );
        });

        it("registers operator objects that validate against the pinned CRDs", async () => {
            const { mocks } = await runProgram(stack, false);
            const objects = mocks.registrations.filter((r) => r.type.startsWith("kubernetes:secrets.hashicorp.com/"));
            expect(objects.map((o) => o.inputs.kind).sort()).to.deep.equal(
                [
                    ...consumersOf(spec).map(() => "VaultAuth"),
                    "VaultConnection",
                    ...planSecretSyncs(spec).map(() => "VaultStaticSecret"),
                ].sort(),
            );
            for (const o of objects) expect(validateManifest(o.inputs as any), o.name).to.deep.equal([]);
        });
    });
}
