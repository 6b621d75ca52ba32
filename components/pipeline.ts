import * as pulumi from "@pulumi/pulumi";
import type { PipelineSpec, StackSpec } from "../model/spec";
import type { RenderedConnector } from "../connectors/render";
import type { TopicSpec } from "../plan/topics";
import { PipelineConnectors } from "./connectors";
import { CdcTopics } from "./topics";

export interface CdcPipelineArgs {
    spec: StackSpec;
    pipeline: PipelineSpec;
    topics: TopicSpec[];
    connectors: RenderedConnector[];
    connectClusterName: pulumi.Input<string>;
}

/** One pipeline: its topics, then the connectors that write and read them. */
export class CdcPipeline extends pulumi.ComponentResource {
    readonly topicNames: pulumi.Output<string[]>;
    readonly connectorNames: pulumi.Output<string[]>;

    constructor(name: string, args: CdcPipelineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cdc:pipeline:CdcPipeline", name, {}, opts);
        const topics = new CdcTopics(
            `${name}-topics`,
            { topics: args.topics, protect: args.spec.profile.protectStatefulResources },
            { parent: this },
        );
        const connectors = new PipelineConnectors(
            `${name}-connectors`,
            { connectors: args.connectors, namespace: args.spec.namespace, connectClusterName: args.connectClusterName },
            // A connector started before its topics exist would write to broker-default auto-created topics.
            { parent: this, dependsOn: [topics] },
        );
        this.topicNames = topics.names;
        this.connectorNames = connectors.names;
        this.registerOutputs({ topicNames: this.topicNames, connectorNames: this.connectorNames });
    }
}
