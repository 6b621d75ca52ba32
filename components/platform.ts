import * as pulumi from "@pulumi/pulumi";
import type { StackSecrets } from "../config/load";
import type { StackSpec } from "../model/spec";
import { renderConnectors } from "../connectors/render";
import { clusterConnectorContext } from "../plan/connect-cluster";
import { planTopics } from "../plan/topics";
import { CdcPipeline } from "./pipeline";
import { ConnectCluster } from "./connect-cluster";
import { CdcTopics } from "./topics";
import { SchemaRegistryRules } from "./schema-registry-rules";
import { buildAccess, NO_SECRETS } from "./access";
import { Monitoring } from "./monitoring";
import { LakehouseWriter } from "./lakehouse";
import { lakehousePipelines } from "../plan/lakehouse";

export interface PlatformOutputs {
    connectClusterName: pulumi.Output<string>;
    connectRestUrl: pulumi.Output<string>;
    topics: pulumi.Output<string[]>;
    connectors: pulumi.Output<string[]>;
    vaultPolicies: pulumi.Output<string[]>;
    vaultAuthRoles: pulumi.Output<string[]>;
    vaultSecretPaths: pulumi.Output<string[]>;
    syncedSecrets: pulumi.Output<string[]>;
    reconcilerCronJobs: pulumi.Output<string[]>;
    alertRules: pulumi.Output<string[]>;
    /** The lakehouse writers' Deployments. */
    lakehouseWriters: pulumi.Output<string[]>;
}

/** Builds the whole platform from a validated spec; tests call it with specs of their own. */
export function buildPlatform(spec: StackSpec, secrets: StackSecrets = NO_SECRETS): PlatformOutputs {
    const allTopics = planTopics(spec);
    const connectors = renderConnectors(spec, clusterConnectorContext(spec));

    const internalTopics = new CdcTopics("connect-internal", {
        topics: allTopics.filter((t) => t.pipeline === undefined),
        protect: spec.profile.protectStatefulResources,
    });
    const connect = new ConnectCluster("connect", { spec }, { dependsOn: [internalTopics] });
    const access = buildAccess(spec, secrets, connect);
    const registryRules = spec.serialization === "avro" ? [new SchemaRegistryRules("schema-registry", { spec })] : [];

    const pipelines = spec.pipelines.map(
        (pipeline) =>
            new CdcPipeline(
                pipeline.name,
                {
                    spec,
                    pipeline,
                    topics: allTopics.filter((t) => t.pipeline === pipeline.name),
                    connectors: connectors.filter((c) => c.pipeline === pipeline.name),
                    connectClusterName: connect.clusterName,
                },
                { dependsOn: [...access.readyForConnectors, ...registryRules.flatMap((r) => r.rules)] },
            ),
    );

    // A writer starts once its topics exist (its dead letter topic included) and its credentials are synced.
    const writers = lakehousePipelines(spec).map(
        (pipeline) =>
            new LakehouseWriter(
                `lakehouse-${pipeline.name}`,
                { spec, pipeline },
                { dependsOn: [...access.readyForLakehouse, pipelines[spec.pipelines.indexOf(pipeline)]] },
            ),
    );

    const monitoring = spec.monitoring.enabled ? new Monitoring("monitoring", { spec }, { dependsOn: [connect] }) : undefined;

    return {
        alertRules: monitoring ? monitoring.alertRuleName.apply((n) => [n]) : pulumi.output([]),
        connectClusterName: connect.clusterName,
        connectRestUrl: connect.restUrl,
        topics: pulumi.all([internalTopics.names, ...pipelines.map((p) => p.topicNames)]).apply((lists) => lists.flat()),
        connectors: pulumi.all(pipelines.map((p) => p.connectorNames)).apply((lists) => lists.flat()),
        vaultPolicies: access.vaultPolicies,
        vaultAuthRoles: access.vaultAuthRoles,
        vaultSecretPaths: access.vaultSecretPaths,
        syncedSecrets: access.syncedSecrets,
        reconcilerCronJobs: access.reconcilerCronJobs,
        lakehouseWriters: pulumi.all(writers.map((w) => w.deploymentName)),
    };
}
