/**
 * The lakehouse writers as index.ts registers them under Pulumi mocks for the shipped stacks (normal and preview
 * mode): one cdc:lakehouse:LakehouseWriter per pipeline with destinations and one LakehouseIdentity, their children,
 * what each waits for, and every object against its schema.
 */
import "./policies/helpers/capture";
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { parseStackSpec } from "../plan/stack-spec";
import { lakehouseKafkaUserBody } from "../plan/kafka-users";
import {
    lakehouseConfigMapBody,
    lakehouseDeploymentBody,
    lakehouseDisruptionBudgetBody,
    lakehouseKafkaAccessBody,
    lakehouseMaintenanceCronJobBody,
    lakehouseMaintenanceNetworkPolicyBody,
    lakehousePipelines,
    lakehousePodMonitorBody,
    lakehouseWriterNetworkPolicyBody,
} from "../plan/lakehouse";
import { validateManifest } from "./helpers/k8s-schemas";
import { promiseOf } from "./helpers/mocks";
import { runProgram } from "./helpers/program";
import { rawProjectConfig, SHIPPED_STACKS } from "./helpers/stack-files";
import { capturedFor, registrationKey } from "./policies/helpers/capture";

const WRITER = "cdc:lakehouse:LakehouseWriter";
const IDENTITY = "cdc:lakehouse:LakehouseIdentity";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const CRONJOB = "kubernetes:batch/v1:CronJob";
const CONFIGMAP = "kubernetes:core/v1:ConfigMap";
const PODMONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor";
const KAFKA_USER = "kubernetes:kafka.strimzi.io/v1:KafkaUser";
const KAFKA_ACCESS = "kubernetes:access.strimzi.io/v1alpha1:KafkaAccess";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";

for (const stack of SHIPPED_STACKS) {
    for (const preview of [false, true]) {
        describe(`lakehouse writers of the shipped ${stack} stack under mocks (preview: ${preview})`, function () {
            this.timeout(60000);
            const spec = parseStackSpec(rawProjectConfig(stack)).spec;
            const pipelines = lakehousePipelines(spec);

            it("registers one LakehouseWriter per pipeline with destinations, its objects as its children, as the plan renders them", async () => {
                const { mocks } = await runProgram(stack, preview);
                const captured = capturedFor(mocks);
                expect(mocks.ofType(WRITER).map((w) => w.name)).to.deep.equal(pipelines.map((p) => `lakehouse-${p.name}`));
                for (const p of pipelines) {
                    const writer = captured.get(registrationKey(WRITER, `lakehouse-${p.name}`))!;
                    const children: [string, string, unknown][] = [
                        [CONFIGMAP, `lakehouse-${p.name}-config`, lakehouseConfigMapBody(spec, p)],
                        [DEPLOYMENT, `lakehouse-${p.name}-writer`, lakehouseDeploymentBody(spec, p)],
                        [CRONJOB, `lakehouse-${p.name}-maintenance`, lakehouseMaintenanceCronJobBody(spec, p)],
                        [PODMONITOR, `lakehouse-${p.name}-pod-monitor`, lakehousePodMonitorBody(spec, p)],
                        [KAFKA_USER, `lakehouse-${p.name}-kafka-user`, lakehouseKafkaUserBody(spec, p)],
                        [KAFKA_ACCESS, `lakehouse-${p.name}-kafka-access`, lakehouseKafkaAccessBody(spec, p)],
                        [NETWORK_POLICY, `lakehouse-${p.name}-writer-network-policy`, lakehouseWriterNetworkPolicyBody(spec, p)],
                        [NETWORK_POLICY, `lakehouse-${p.name}-maintenance-network-policy`, lakehouseMaintenanceNetworkPolicyBody(spec, p)],
                        [PDB, `lakehouse-${p.name}-disruption-budget`, lakehouseDisruptionBudgetBody(spec, p)],
                    ];
                    for (const [type, name, body] of children.filter(([, , b]) => b !== undefined)) {
                        expect(captured.get(registrationKey(type, name))!.parent, name).to.equal(writer.urn);
                        expect(mocks.one(type, name).inputs, name).to.deep.equal(body);
                    }
                    expect(mocks.ofType(KAFKA_USER).filter((u) => u.name.startsWith(`lakehouse-${p.name}-`)).length).to.equal(
                        stack === "prod" ? 1 : 0,
                    );
                    expect(mocks.ofType(NETWORK_POLICY).filter((n) => n.name.startsWith(`lakehouse-${p.name}-`)).length).to.equal(2);
                }
            });

            it("starts each writer after its topics, the catalog role and its synced Secrets exist, its Deployment after its KafkaAccess", async () => {
                const { mocks } = await runProgram(stack, preview);
                const captured = capturedFor(mocks);
                for (const p of pipelines) {
                    const dependencies = captured.get(registrationKey(WRITER, `lakehouse-${p.name}`))!.dependencies;
                    const needs = [
                        `kafka:index/topic:Topic::${p.name}-topics-dlq-lakehouse-${p.name}`,
                        ...p.destinations.map((d) => `kafka:index/topic:Topic::${p.name}-topics-${d.topic}`),
                        "kubernetes:secrets.hashicorp.com/v1beta1:VaultStaticSecret::vault-sync-cdc-lakehouse-object-storage",
                        "kubernetes:core/v1:ServiceAccount::lakehouse-service-account",
                        ...(p.destinations.some((d) => d.format === "iceberg")
                            ? [
                                  "kubernetes:secrets.hashicorp.com/v1beta1:VaultStaticSecret::vault-sync-cdc-lakehouse-iceberg-catalog",
                                  "postgresql:index/grant:Grant::postgres-warehouse-dev.postgres.svc-grant-iceberg_catalog-iceberg_catalog-public-schema",
                              ]
                            : []),
                    ];
                    for (const need of needs)
                        expect(
                            dependencies.some((urn) => urn.endsWith(`$${need}`)),
                            `${p.name} waits for ${need}`,
                        ).to.equal(true);
                    if (stack === "prod") {
                        const deployment = captured.get(registrationKey(DEPLOYMENT, `lakehouse-${p.name}-writer`))!.dependencies;
                        expect(deployment.some((urn) => urn.endsWith(`::lakehouse-${p.name}-kafka-access`))).to.equal(true);
                        const access = captured.get(registrationKey(KAFKA_ACCESS, `lakehouse-${p.name}-kafka-access`))!.dependencies;
                        expect(access.some((urn) => urn.endsWith(`::lakehouse-${p.name}-kafka-user`))).to.equal(true);
                    }
                }
            });

            it("keeps the shared ServiceAccount under one LakehouseIdentity, which the Vault Secrets Operator logs in after", async () => {
                const { mocks } = await runProgram(stack, preview);
                const captured = capturedFor(mocks);
                const identity = captured.get(registrationKey(IDENTITY, "lakehouse"))!;
                expect(captured.get(registrationKey("kubernetes:core/v1:ServiceAccount", "lakehouse-service-account"))!.parent).to.equal(
                    identity.urn,
                );
                const sync = captured.get(registrationKey("cdc:vault:SecretSync", "vault-sync"))!;
                expect(sync.dependencies.some((urn) => urn.endsWith("::lakehouse-service-account"))).to.equal(true);
            });

            it("registers lakehouse objects that validate strictly against their schemas", async () => {
                const { mocks } = await runProgram(stack, preview);
                const objects = mocks.registrations.filter((r) => r.type.startsWith("kubernetes:") && /^lakehouse-/.test(r.name));
                // Per writer: ConfigMap, Deployment, CronJob, PodMonitor, two NetworkPolicies, a PodDisruptionBudget, and in prod
                // its KafkaUser and KafkaAccess; one ServiceAccount.
                expect(objects.length).to.equal(pipelines.length * (7 + (stack === "prod" ? 2 : 0)) + 1);
                for (const o of objects) expect(validateManifest(o.inputs as any), `${o.type} ${o.name}`).to.deep.equal([]);
            });

            if (!preview) {
                it("exports the writers' Deployment names, which are not secret", async () => {
                    const { exports } = await runProgram(stack, preview);
                    const writers = exports.lakehouseWriters as pulumi.Output<string[]>;
                    expect(await pulumi.isSecret(writers)).to.equal(false);
                    expect(await promiseOf(writers)).to.deep.equal(pipelines.map((p) => `cdc-lakehouse-${p.name}`));
                });
            }
        });
    }
}
