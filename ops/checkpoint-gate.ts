/**
 * The reconciler's view of the pipeline (reconciler/run.ts `PipelineProgress`): the checkpoint it runs against,
 * and a lag gate per table that lets the confirm step re-check suspects as soon as the sink has caught up instead
 * of always sleeping the lag window.
 *
 * The gate, for one table, after the confirm step's first source read (S1):
 * 1. waits `captureGraceMs`, so that Debezium has produced the changes S1 saw (its capture latency: a poll
 *    interval and a batch; a change not yet produced when the end offsets are taken would otherwise be confirmed
 *    as a discrepancy);
 * 2. then takes the table topic's end offsets, once;
 * 3. passes when the sink's consumer group `connect-<sink>` has committed at least those offsets on every
 *    partition, with the source connector and its tasks RUNNING (a stopped source produces nothing, so its topic's
 *    end says nothing about the rows).
 * The sink commits its offsets on the worker's offset flush (10 s in the stack), after writing the rows, so a
 * passed gate means the rows are in the target; it also means the gate rarely passes in under that interval.
 */
import type { PipelineSpec, StackSpec } from "../model/spec";
import { connectInternalTopics, dataTopicName, sinkConsumerGroup } from "../model/naming";
import { pipelineCheckpoints, observePipeline, tableName } from "./status";
import type { ConnectClient } from "./connect-client";
import type { KafkaClient, PartitionOffset } from "./kafka-client";
import type { RecordDecoder } from "./record-decoder";

/** Structurally reconciler/confirm.ts's LagGate and reconciler/run.ts's PipelineProgress (ops does not import the reconciler). */
export interface Gate {
    describe: string;
    mark(): Promise<unknown>;
    passed(mark: unknown): Promise<boolean>;
}

interface Mark {
    at: number;
    ends?: PartitionOffset[];
}

/** Whether the group's committed offsets reach `ends` on every partition. Pure. */
export function caughtUp(committed: readonly PartitionOffset[], ends: readonly PartitionOffset[]): boolean {
    return ends.every(
        (e) => e.offset === 0n || (committed.find((c) => c.topic === e.topic && c.partition === e.partition)?.offset ?? -1n) >= e.offset,
    );
}

/** How long Debezium may take to produce a change committed at the source: two polls and a second for the batch. */
export function captureGraceMs(p: PipelineSpec): number {
    return 2 * p.source.pollIntervalMs + 1000;
}

export function tableGate(p: PipelineSpec, topic: string, connect: ConnectClient, kafka: KafkaClient, now: () => number = Date.now): Gate {
    const group = sinkConsumerGroup(p.sink.connectorName);
    const grace = captureGraceMs(p);
    return {
        describe: `sink group ${group} past the end offsets of ${topic} taken ${grace} ms after the first source read`,
        async mark() {
            return { at: now() } satisfies Mark;
        },
        async passed(token) {
            const mark = token as Mark;
            if (now() - mark.at < grace) return false;
            const source = await connect.status(p.source.connectorName);
            if (source.connector.state !== "RUNNING" || source.tasks.some((t) => t.state !== "RUNNING")) return false;
            mark.ends ??= await kafka.latestOffsets([topic]);
            return caughtUp(await kafka.committedOffsets(group), mark.ends);
        },
    };
}

/** The reconciler's PipelineProgress for one pipeline of the stack. */
export function pipelineProgress(
    spec: StackSpec,
    pipeline: PipelineSpec,
    connect: ConnectClient,
    kafka: KafkaClient,
    decoder: RecordDecoder,
) {
    const offsetsTopic = connectInternalTopics(spec.connect.name).offsetStorageTopic;
    return {
        async checkpoint() {
            const tables = pipelineCheckpoints(pipeline, await observePipeline(pipeline, connect, kafka, offsetsTopic, decoder));
            return {
                source: "connect+kafka" as const,
                taken_at: new Date().toISOString(),
                tables: tables.map((t) => ({
                    source_table: t.source_table,
                    connector_name: t.connector_name,
                    state: t.state,
                    last_lsn: t.last_lsn,
                    last_event_timestamp: t.last_event_timestamp,
                    last_offset_commit: t.last_offset_commit,
                    total_events_processed: t.total_events_processed,
                    sink_lag: t.sink_lag,
                })),
            };
        },
        /** The reconciler names source tables `schema.table` (MySQL, MariaDB: `database.table`). */
        gateFor(sourceTable: string): Gate | undefined {
            const t = pipeline.source.tables.find((x) => tableName(x) === sourceTable || `${x.database}.${x.table}` === sourceTable);
            return t ? tableGate(pipeline, dataTopicName(pipeline.source, t), connect, kafka) : undefined;
        },
    };
}
