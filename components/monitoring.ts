import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { StackSpec } from "../model/spec";
import { dashboardConfigMapBody } from "../plan/dashboards";
import { podMonitorBody, prometheusRuleBody } from "../plan/monitoring";

export interface MonitoringArgs {
    spec: StackSpec;
}

/** Scrape config and alerts for the pipeline, as prometheus-operator custom resources, and its Grafana dashboard. */
export class Monitoring extends pulumi.ComponentResource {
    readonly alertRuleName: pulumi.Output<string>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cdc:monitoring:Monitoring", name, {}, opts);
        const podMonitor = podMonitorBody(args.spec);
        new k8s.apiextensions.CustomResource(`${name}-pod-monitor`, podMonitor, { parent: this });
        const rule = prometheusRuleBody(args.spec);
        const alerts = new k8s.apiextensions.CustomResource(`${name}-alerts`, rule, { parent: this });
        this.alertRuleName = alerts.metadata.name;
        new k8s.core.v1.ConfigMap(`${name}-dashboards`, dashboardConfigMapBody(args.spec), { parent: this });
        this.registerOutputs({ alertRuleName: this.alertRuleName });
    }
}
