/**
 * What the stack plans for the dead letter lifecycle (connectors/dlq-replay.ts, plan/topics.ts, connectors/sinks.ts,
 * plan/kafka-users.ts): per sink a compacted state topic and a retry topic the sink itself reads, replicated like the
 * pipeline's other topics, with Connect's identity allowed on both; and when a sink cannot replay through a topic.
 */
import { expect } from "chai";
import { renderConnectors } from "../../connectors/render";
import { dlqRetryTopicName, dlqStateTopicName, dlqTopicName } from "../../model/naming";
import type { PipelineSpec, StackSpec } from "../../model/spec";
import { clusterConnectorContext } from "../../plan/connect-cluster";
import { replayRoute } from "../../connectors/dlq-replay";
import { connectAcls } from "../../plan/kafka-users";
import { parseStackSpec } from "../../plan/stack-spec";
import { DLQ_RETENTION_MS, planTopics } from "../../plan/topics";
import { rawProjectConfig } from "../helpers/stack-files";

const stacks: [string, StackSpec][] = (["dev", "prod"] as const).map((s) => [s, parseStackSpec(rawProjectConfig(s)).spec]);

describe("plan: the dead letter lifecycle's topics", () => {
    for (const [name, spec] of stacks) {
        describe(`${name} stack`, () => {
            const topics = new Map(planTopics(spec).map((t) => [t.name, t]));
            const connectors = renderConnectors(spec, clusterConnectorContext(spec));
            const sinks = spec.pipelines.filter((p) => p.sink.deadLetterQueue);

            it("has sinks with a dead letter queue to check", () => expect(sinks).to.not.be.empty);

            for (const p of sinks) {
                const sink = p.sink.connectorName;
                it(`${sink}: a compacted state topic outliving the dead letters, one partition, replicated like the pipeline's topics`, () => {
                    const state = topics.get(dlqStateTopicName(sink))!;
                    expect(state, dlqStateTopicName(sink)).to.include({
                        role: "dlq-state",
                        partitions: 1,
                        replicationFactor: p.topics.replicationFactor,
                        pipeline: p.name,
                    });
                    expect(state.config).to.deep.equal({
                        "min.insync.replicas": String(p.topics.minInsyncReplicas),
                        "cleanup.policy": "compact,delete",
                        "retention.ms": String(2 * DLQ_RETENTION_MS),
                    });
                });

                it(`${sink}: reads its retry topic besides its data topics, and its dead letters carry their append time`, () => {
                    const retry = topics.get(dlqRetryTopicName(sink))!;
                    expect(retry).to.include({ role: "dlq-retry", partitions: 1, replicationFactor: p.topics.replicationFactor });
                    const config = connectors.find((c) => c.name === sink)!.config;
                    expect(config.topics.split(",")).to.include(dlqRetryTopicName(sink));
                    expect(config["collection.name.format"], "table names from the event's source block, not the topic").to.contain(
                        "${source.table}",
                    );
                    expect(topics.get(dlqTopicName(sink))!.config["message.timestamp.type"]).to.equal("LogAppendTime");
                });

                it(`${sink}: Connect's identity reads and writes both (the sink reads replays, cdc dlq writes them and the state)`, () => {
                    const acls = connectAcls(spec);
                    for (const topic of [dlqRetryTopicName(sink), dlqStateTopicName(sink)]) {
                        const ops = acls
                            .filter((a) => a.resource.type === "topic" && a.resource.patternType === "literal" && a.resource.name === topic)
                            .flatMap((a) => a.operations);
                        expect(ops, topic).to.have.members(["Read", "Write", "Describe"]);
                    }
                });
            }
        });
    }

    describe("when a sink cannot replay through its retry topic", () => {
        const prod = stacks[1][1];
        const pipeline = prod.pipelines[0];
        const variant = (sink: Partial<PipelineSpec["sink"]>): StackSpec => ({
            ...prod,
            pipelines: [{ ...pipeline, sink: { ...pipeline.sink, ...sink } }],
        });
        const cases: [string, Partial<PipelineSpec["sink"]>, string][] = [
            ["the Confluent sink routes topics to tables by name", { implementation: "confluent" }, "names target tables after topics"],
            ["a ${topic} table name format", { tableNameFormat: "${topic}" }, "uses ${topic}"],
            ["no dead letter queue", { deadLetterQueue: false }, "has no dead letter queue"],
        ];
        for (const [title, sink, reason] of cases) {
            it(`${title}: no retry topic, the sink does not subscribe, and replay says why`, () => {
                const spec = variant(sink);
                const route = replayRoute(spec.pipelines[0]);
                expect("unsupported" in route && route.unsupported).to.contain(reason);
                expect(planTopics(spec).map((t) => t.name)).to.not.include(dlqRetryTopicName(pipeline.sink.connectorName));
                const config = renderConnectors(spec, clusterConnectorContext(spec)).find((c) => c.role === "sink")!.config;
                expect(config.topics.split(",")).to.not.include(dlqRetryTopicName(pipeline.sink.connectorName));
            });
        }
    });
});
