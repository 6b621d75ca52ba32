import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { PipelineSpec, StackSpec } from "../model/spec";
import { lakehouseKafkaUserBody } from "../plan/kafka-users";
import {
    lakehouseConfigMapBody,
    lakehouseDeploymentBody,
    lakehouseDisruptionBudgetBody,
    lakehouseKafkaAccessBody,
    lakehouseMaintenanceCronJobBody,
    lakehouseMaintenanceNetworkPolicyBody,
    lakehousePodMonitorBody,
    lakehouseServiceAccountBody,
    lakehouseWriterNetworkPolicyBody,
} from "../plan/lakehouse";

export interface LakehouseIdentityArgs {
    spec: StackSpec;
}

/** What every lakehouse writer of the stack shares: the ServiceAccount the Vault Secrets Operator syncs their Secrets as. */
export class LakehouseIdentity extends pulumi.ComponentResource {
    readonly serviceAccountName: pulumi.Output<string>;

    constructor(name: string, args: LakehouseIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cdc:lakehouse:LakehouseIdentity", name, {}, opts);
        const { spec } = args;
        const account = new k8s.core.v1.ServiceAccount(`${name}-service-account`, lakehouseServiceAccountBody(spec), { parent: this });
        this.serviceAccountName = account.metadata.name;
        this.registerOutputs({ serviceAccountName: this.serviceAccountName });
    }
}

export interface LakehouseWriterArgs {
    spec: StackSpec;
    /** A pipeline with destinations. */
    pipeline: PipelineSpec;
}

/**
 * One pipeline's lakehouse writer: the Deployment running it with its configuration file from a ConfigMap, its own
 * KafkaUser and the KafkaAccess bringing that user's credential here, the maintenance CronJob (seed §9.3), the
 * PodMonitor scraping its /metrics, the NetworkPolicies of the writer's and the maintenance job's pods, and the
 * writer's PodDisruptionBudget.
 */
export class LakehouseWriter extends pulumi.ComponentResource {
    readonly deploymentName: pulumi.Output<string>;
    readonly maintenanceCronJobName: pulumi.Output<string>;

    constructor(name: string, args: LakehouseWriterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cdc:lakehouse:LakehouseWriter", name, {}, opts);
        const { spec, pipeline } = args;
        const config = new k8s.core.v1.ConfigMap(`${name}-config`, lakehouseConfigMapBody(spec, pipeline), { parent: this });
        const userBody = lakehouseKafkaUserBody(spec, pipeline);
        const user = userBody ? [new k8s.apiextensions.CustomResource(`${name}-kafka-user`, userBody, { parent: this })] : [];
        const accessBody = lakehouseKafkaAccessBody(spec, pipeline);
        // The writer mounts the binding Secret: it may start only once the Access Operator has written it.
        const access = accessBody
            ? [new k8s.apiextensions.CustomResource(`${name}-kafka-access`, accessBody, { parent: this, dependsOn: user })]
            : [];
        const deployment = new k8s.apps.v1.Deployment(`${name}-writer`, lakehouseDeploymentBody(spec, pipeline), {
            parent: this,
            dependsOn: [config, ...access],
        });
        new k8s.policy.v1.PodDisruptionBudget(`${name}-disruption-budget`, lakehouseDisruptionBudgetBody(spec, pipeline), { parent: this });
        const maintenance = new k8s.batch.v1.CronJob(`${name}-maintenance`, lakehouseMaintenanceCronJobBody(spec, pipeline), {
            parent: this,
            dependsOn: [config],
        });
        for (const [suffix, policy] of [
            ["writer", lakehouseWriterNetworkPolicyBody(spec, pipeline)],
            ["maintenance", lakehouseMaintenanceNetworkPolicyBody(spec, pipeline)],
        ] as const) {
            if (policy) new k8s.networking.v1.NetworkPolicy(`${name}-${suffix}-network-policy`, policy, { parent: this });
        }
        const monitor = lakehousePodMonitorBody(spec, pipeline);
        if (monitor) new k8s.apiextensions.CustomResource(`${name}-pod-monitor`, monitor, { parent: this });
        this.deploymentName = deployment.metadata.name;
        this.maintenanceCronJobName = maintenance.metadata.name;
        this.registerOutputs({ deploymentName: this.deploymentName, maintenanceCronJobName: this.maintenanceCronJobName });
    }
}
