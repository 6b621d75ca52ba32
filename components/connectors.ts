import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { RenderedConnector } from "../connectors/render";
import { kafkaConnectorBody, OPERATOR_OWNED_PATHS } from "../plan/kafka-connector";

export interface PipelineConnectorsArgs {
    connectors: RenderedConnector[];
    namespace: string;
    /** The KafkaConnect's metadata.name Output, so the label cannot drift from the real cluster. */
    connectClusterName: pulumi.Input<string>;
}

/** KafkaConnector custom resources for one pipeline's source and sink. */
export class PipelineConnectors extends pulumi.ComponentResource {
    readonly names: pulumi.Output<string[]>;

    constructor(name: string, args: PipelineConnectorsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cdc:connect:PipelineConnectors", name, {}, opts);
        const resources = args.connectors.map((connector) => {
            const body = kafkaConnectorBody(connector, args.namespace, args.connectClusterName);
            return new k8s.apiextensions.CustomResource(
                `${name}-${connector.role}`,
                { apiVersion: body.apiVersion, kind: body.kind, metadata: body.metadata, spec: body.spec },
                {
                    parent: this,
                    // The connector name keys its offsets; a replacement must remove the old one first.
                    deleteBeforeReplace: true,
                    ignoreChanges: [...OPERATOR_OWNED_PATHS],
                },
            );
        });
        this.names = pulumi.all(resources.map((r) => r.metadata.name));
        this.registerOutputs({ names: this.names });
    }
}
