import * as pulumi from "@pulumi/pulumi";
import * as kafka from "@pulumi/kafka";
import type { TopicSpec } from "../plan/topics";

export interface CdcTopicsArgs {
    topics: TopicSpec[];
    /** Deleting a topic deletes its data; prod topics are protected and kept on stack removal. */
    protect: boolean;
}

/** One Kafka topic per planned topic, through the Kafka provider configured under `kafka:` config. */
export class CdcTopics extends pulumi.ComponentResource {
    readonly names: pulumi.Output<string[]>;

    constructor(name: string, args: CdcTopicsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cdc:kafka:Topics", name, {}, opts);
        const topics = args.topics.map(
            (t) =>
                new kafka.Topic(
                    `${name}-${t.name}`,
                    { name: t.name, partitions: t.partitions, replicationFactor: t.replicationFactor, config: t.config },
                    { parent: this, protect: args.protect, retainOnDelete: args.protect },
                ),
        );
        this.names = pulumi.all(topics.map((t) => t.name));
        this.registerOutputs({ names: this.names });
    }
}
