import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { StackSpec } from "../model/spec";
import { jmxExporterConfig } from "../plan/metrics";
import { connectMetricsConfigMapName } from "../model/naming";
import { kafkaAccessBody, kafkaConnectBody, METRICS_CONFIG_KEY, MANAGED_BY_LABELS, secretReaderRole } from "../plan/connect-cluster";
import { connectKafkaUserBody } from "../plan/kafka-users";

export interface ConnectClusterArgs {
    spec: StackSpec;
}

/**
 * The Strimzi KafkaConnect cluster with its metrics rules, the Role its config provider needs, its own
 * KafkaUser (in the Kafka cluster's namespace) and the KafkaAccess whose binding Secret carries the Kafka
 * cluster's CA and that user's credential.
 */
export class ConnectCluster extends pulumi.ComponentResource {
    /** The KafkaConnect's actual name; connectors label themselves with it. */
    readonly clusterName: pulumi.Output<string>;
    /** Strimzi's REST Service for the cluster: `<name>-connect-api:8083`. */
    readonly restUrl: pulumi.Output<string>;

    constructor(name: string, args: ConnectClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cdc:connect:ConnectCluster", name, {}, opts);
        const { spec } = args;
        const body = kafkaConnectBody(spec);

        const metrics = new k8s.core.v1.ConfigMap(
            `${name}-metrics`,
            {
                metadata: { name: connectMetricsConfigMapName(spec.connect.name), namespace: spec.namespace, labels: MANAGED_BY_LABELS },
                data: { [METRICS_CONFIG_KEY]: jmxExporterConfig() },
            },
            { parent: this },
        );

        const rbac = secretReaderRole(spec);
        const role = new k8s.rbac.v1.Role(`${name}-secret-reader`, rbac.role, { parent: this });
        const binding = new k8s.rbac.v1.RoleBinding(`${name}-secret-reader`, rbac.binding, { parent: this, dependsOn: [role] });

        const userBody = connectKafkaUserBody(spec);
        const user = userBody ? [new k8s.apiextensions.CustomResource(`${name}-kafka-user`, userBody, { parent: this })] : [];
        const accessBody = kafkaAccessBody(spec);
        // Strimzi fails a KafkaConnect whose trusted certificate or credential Secret is missing; the
        // KafkaAccess is Ready only once the Access Operator has copied them from the KafkaUser's Secret.
        const access = accessBody
            ? [
                  new k8s.apiextensions.CustomResource(
                      `${name}-kafka-access`,
                      { apiVersion: accessBody.apiVersion, kind: accessBody.kind, metadata: accessBody.metadata, spec: accessBody.spec },
                      { parent: this, dependsOn: user },
                  ),
              ]
            : [];

        const connect = new k8s.apiextensions.CustomResource(
            `${name}-connect`,
            { apiVersion: body.apiVersion, kind: body.kind, metadata: body.metadata, spec: body.spec },
            {
                parent: this,
                dependsOn: [metrics, binding, ...access],
                // metadata.name is fixed, so a replacement must delete the old cluster first.
                deleteBeforeReplace: true,
                ignoreChanges: ['metadata.annotations["strimzi.io/restart"]'],
            },
        );

        this.clusterName = connect.metadata.name;
        this.restUrl = pulumi.interpolate`http://${connect.metadata.name}-connect-api.${spec.namespace}.svc:8083`;
        this.registerOutputs({ clusterName: this.clusterName, restUrl: this.restUrl });
    }
}
