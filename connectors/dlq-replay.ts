/**
 * How `cdc dlq replay` sends a dead letter back through its sink alone: every sink with a dead letter queue also
 * subscribes to its own retry topic, `dlq-<sink>.retry`, where the CLI writes the original key, value and headers.
 * Nothing is re-published to the data topic, which other consumers (the lakehouse writers, anyone's) also read.
 *
 * The record reaches the same target table because the Debezium JDBC sink names tables from the change event
 * itself: `collection.name.format` `<schema>.${source.table}` resolves from the envelope's `source` block, not the
 * topic (Debezium 3.5's DefaultCollectionNamingStrategy resolves `${source.<field>}` from the record, `${topic}` from
 * its topic). A format with `${topic}` would name the retry topic's table, and the Confluent sink routes topics to
 * tables by name (RegexRouter), so for those the sink does not subscribe and replay is refused with this reason.
 */
import { dlqRetryTopicName } from "../model/naming";
import type { PipelineSpec } from "../model/spec";

export type ReplayRoute = { retryTopic: string } | { unsupported: string };

export function replayRoute(pipeline: PipelineSpec): ReplayRoute {
    const { sink } = pipeline;
    if (!sink.deadLetterQueue) return { unsupported: `pipeline ${pipeline.name} has no dead letter queue (sink.deadLetterQueue is false)` };
    if (sink.implementation !== "debezium") {
        return {
            unsupported: `the ${sink.implementation} sink names target tables after topics, so a replay through another topic would land in the wrong table`,
        };
    }
    if (sink.tableNameFormat.includes("${topic}")) {
        return {
            unsupported: `sink.tableNameFormat "${sink.tableNameFormat}" uses \${topic}, so a replay through another topic would land in the wrong table`,
        };
    }
    return { retryTopic: dlqRetryTopicName(sink.connectorName) };
}

/** The retry topic a sink subscribes to, if replays go through one. */
export function retryTopicOf(pipeline: PipelineSpec): string | undefined {
    const route = replayRoute(pipeline);
    return "retryTopic" in route ? route.retryTopic : undefined;
}
