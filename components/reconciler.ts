import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { ReconcilerSpec, StackSpec } from "../model/spec";
import {
    planReconcileRuns,
    reconcilerConfigMapBody,
    reconcilerCronJobBody,
    reconcilerNetworkPolicyBody,
    reconcilerServiceAccountBody,
} from "../plan/reconciler-job";

export interface ReconciliationJobArgs {
    spec: StackSpec;
    reconciler: ReconcilerSpec;
}

/**
 * The reconciliation CronJobs (one per pipeline source database) with a NetworkPolicy each, the ConfigMap with
 * their reconciler configurations and the ServiceAccount the Vault Secrets Operator authenticates as for their
 * credentials.
 */
export class ReconciliationJob extends pulumi.ComponentResource {
    readonly cronJobNames: pulumi.Output<string[]>;
    readonly serviceAccountName: pulumi.Output<string>;

    constructor(name: string, args: ReconciliationJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cdc:reconciler:ReconciliationJob", name, {}, opts);
        const { spec, reconciler } = args;
        const runs = planReconcileRuns(spec);
        const account = new k8s.core.v1.ServiceAccount(`${name}-service-account`, reconcilerServiceAccountBody(spec, reconciler), {
            parent: this,
        });
        const config = new k8s.core.v1.ConfigMap(`${name}-config`, reconcilerConfigMapBody(spec, reconciler, runs), { parent: this });
        const jobs = runs.map((run) => {
            const policy = reconcilerNetworkPolicyBody(spec, reconciler, run);
            if (policy) new k8s.networking.v1.NetworkPolicy(`${name}-${run.key}-network-policy`, policy, { parent: this });
            return new k8s.batch.v1.CronJob(`${name}-${run.key}`, reconcilerCronJobBody(spec, reconciler, run), {
                parent: this,
                dependsOn: [account, config],
            });
        });
        this.cronJobNames = pulumi.all(jobs.map((j) => j.metadata.name));
        this.serviceAccountName = account.metadata.name;
        this.registerOutputs({ cronJobNames: this.cronJobNames, serviceAccountName: this.serviceAccountName });
    }
}
