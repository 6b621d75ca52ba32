/**
 * `cdc schema-events`: runs the schema-evolution detector over every captured table's data topic up to now, then
 * lists seed 000 §7's events from its log. `--follow` keeps detecting (the long-running form, for a sidecar or a
 * Deployment); `--no-detect` only reads the log. Exit 1 when this run found a change that needs a person
 * (PENDING_REVIEW, MANUAL_REQUIRED or FAILED), 0 otherwise.
 */
import * as fs from "fs";
import * as path from "path";
import { parseFlags, UsageError } from "../model/args";
import { dataTopicName, tableIncludeEntry } from "../model/naming";
import { Command, CommandContext, EXIT } from "./command";
import { KafkaClient } from "./kafka-client";
import { cellText, emit, OUTPUT_FLAGS, table } from "./output";
import { directorySecretStore, kubectlSecretStore, type SecretStore } from "./preflight-gather";
import { detectPass, needsAttention, type PassResult, type TopicBinding } from "./schema-events-detector";
import { sinkBehaviour, type TargetTable } from "./schema-events-handling";
import { pushSchemaEventMetrics, renderSchemaEventMetrics } from "./schema-events-metrics";
import type { SchemaEvolutionEvent } from "./schema-events-model";
import { SchemaEventStore } from "./schema-events-store";
import { readTargetColumns, targetTableOf } from "./schema-events-target";
import { connectClient, resolveTarget, type Target, TARGET_FLAGS, TARGET_USAGE } from "./target";
import { type RecordDecoder, recordDecoderFor } from "./record-decoder";

const USAGE = [
    "cdc schema-events [--no-detect | --follow [--interval <s>]] [--state-dir <dir>] [--pushgateway-url <url>] [--secrets-dir <dir>] [target flags]",
    "  --no-detect                  only list the log; contact nothing",
    "  --follow                     keep detecting every --interval seconds (default 30) until SIGTERM/SIGINT, printing new events",
    "  --state-dir <dir>            the log and the detector's position (default: <sandbox>/schema-events; stacks: $CDC_SCHEMA_EVENTS_DIR)",
    "  --pushgateway-url <url>      push the metrics there (default: $CDC_PUSHGATEWAY_URL, else the stack's reconciler.pushgatewayUrl)",
    "  --secrets-dir <dir>          stack targets: the sink's Secret as mounted folders, to read the target table (default: kubectl)",
    "  (CDC_DATABASE_CA_FILE: PEM of the CA the target database's certificate chains to, for verify-* TLS modes)",
    TARGET_USAGE,
].join("\n");

const FLAGS = {
    ...OUTPUT_FLAGS,
    ...TARGET_FLAGS,
    "no-detect": { type: "boolean" },
    follow: { type: "boolean" },
    interval: { type: "number", min: 1 },
    "state-dir": { type: "string" },
    "pushgateway-url": { type: "string" },
    "secrets-dir": { type: "string" },
} as const;

export interface SchemaEventsReport {
    log: string;
    /** Events this run added to the log. */
    detected: number;
    /** Records this run could not read and skipped (each logged on stderr). */
    skipped: number;
    events: SchemaEvolutionEvent[];
}

function stateDir(target: Target, flag: string | undefined, env: NodeJS.ProcessEnv): string {
    const dir = flag ?? env.CDC_SCHEMA_EVENTS_DIR ?? (target.sandbox ? path.join(target.sandbox.runDir, "schema-events") : undefined);
    if (!dir)
        throw new UsageError(
            "a stack target needs --state-dir (or CDC_SCHEMA_EVENTS_DIR): where the log and the detector's position are kept",
            USAGE,
        );
    return dir;
}

export interface Detector {
    pass(): Promise<PassResult>;
    close(): Promise<void>;
}

/** Everything a pass needs for this target: topics and sinks (live configs from Connect), Kafka, the target tables, the Pushgateway. */
export async function openDetector(
    target: Target,
    store: SchemaEventStore,
    opts: {
        pushgatewayUrl?: string;
        secrets: SecretStore;
        caPem?: string;
        log: (line: string) => void;
        now?: () => Date;
        decoder: RecordDecoder;
    },
): Promise<Detector> {
    const connect = connectClient(target);
    const bindings: TopicBinding[] = [];
    const tables = new Map<string, () => Promise<TargetTable>>();
    for (const pipeline of target.spec.pipelines) {
        const config = await connect.getConfig(pipeline.sink.connectorName);
        for (const t of pipeline.source.tables) {
            const binding: TopicBinding = {
                topic: dataTopicName(pipeline.source, t),
                pipeline: pipeline.name,
                sourceTable: tableIncludeEntry(pipeline.source, t),
                sink: sinkBehaviour(pipeline.sink.connectorName, targetTableOf(pipeline, t), config),
            };
            bindings.push(binding);
            tables.set(binding.topic, () => readTargetColumns(pipeline, t, opts.secrets, opts.caPem));
        }
    }
    const kafka = new KafkaClient(target.kafka, "cdc-schema-events");
    const now = opts.now ?? (() => new Date());
    const push = async (all: readonly SchemaEvolutionEvent[], skipped: number) => {
        await pushSchemaEventMetrics(opts.pushgatewayUrl!, renderSchemaEventMetrics(all, skipped, now()));
        return true;
    };
    return {
        async pass() {
            const read = new Map<string, Promise<TargetTable>>();
            const result = await detectPass(kafka, bindings, store, {
                now,
                log: opts.log,
                chunk: 500,
                decoder: opts.decoder,
                targetTable: (b) => {
                    if (!read.has(b.topic))
                        read.set(
                            b.topic,
                            tables.get(b.topic)!().catch((e: Error) => {
                                opts.log(
                                    `${b.sink.targetTable} not inspected (${e.message}); its columns are taken as the sink created them`,
                                );
                                return undefined;
                            }),
                        );
                    return read.get(b.topic)!;
                },
                deliver: opts.pushgatewayUrl ? (all, state) => push(all, state.skipped) : undefined,
            });
            if (opts.pushgatewayUrl)
                await push(store.readEvents().events, store.readState().skipped).catch((e: Error) =>
                    opts.log(`metrics push to ${opts.pushgatewayUrl} failed: ${e.message}`),
                );
            return result;
        },
        close: () => kafka.close(),
    };
}

/** Runs passes every `intervalMs` until `signal` aborts; a failed pass is logged and the next one tries again. */
export async function followDetector(
    detector: Detector,
    intervalMs: number,
    signal: AbortSignal,
    onPass: (r: PassResult) => void,
    log: (line: string) => void,
): Promise<void> {
    while (!signal.aborted) {
        try {
            onPass(await detector.pass());
        } catch (e) {
            log(`pass failed, retrying in ${intervalMs / 1000} s: ${(e as Error).message}`);
        }
        await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, intervalMs);
            signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
        });
    }
}

const COLUMNS = [
    { header: "DETECTED", value: (e: SchemaEvolutionEvent) => e.detected_at.replace(/\.\d+Z$/, "Z") },
    { header: "PIPELINE", value: (e: SchemaEvolutionEvent) => e.pipeline },
    { header: "SOURCE TABLE", value: (e: SchemaEvolutionEvent) => e.source_table },
    { header: "CHANGE", value: (e: SchemaEvolutionEvent) => e.change_type },
    {
        header: "COLUMN",
        value: (e: SchemaEvolutionEvent) =>
            e.change_details.old_column_name
                ? `${e.change_details.old_column_name} -> ${e.change_details.column_name}`
                : e.change_details.column_name,
    },
    { header: "OLD TYPE", value: (e: SchemaEvolutionEvent) => e.change_details.old_type },
    { header: "NEW TYPE", value: (e: SchemaEvolutionEvent) => e.change_details.new_type },
    { header: "STATUS", value: (e: SchemaEvolutionEvent) => e.handling_status },
    { header: "SINK", value: (e: SchemaEvolutionEvent) => e.connector_action },
    { header: "ALERT", value: (e: SchemaEvolutionEvent) => (e.alert_sent ? "sent" : "-") },
];

export function renderEvents(r: SchemaEventsReport): string {
    const head = `${r.events.length} schema change(s) in ${r.log} (${r.detected} new this run${r.skipped ? `, ${r.skipped} unreadable record(s) skipped` : ""})\n`;
    if (r.events.length === 0) return head;
    const reasons = r.events
        .filter(needsAttention)
        .map((e) => `  ${e.source_table}.${e.change_details.column_name} ${e.change_type} ${e.handling_status}: ${e.reason}`);
    return head + table(r.events, COLUMNS) + (reasons.length ? `\nto do:\n${reasons.join("\n")}\n` : "");
}

async function follow(
    detector: Detector,
    intervalMs: number,
    ctx: CommandContext,
    json: boolean,
    log: (line: string) => void,
): Promise<void> {
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
    try {
        await followDetector(
            detector,
            intervalMs,
            stop.signal,
            (r) => {
                for (const e of r.events)
                    ctx.stdout.write(
                        json ? JSON.stringify(e) + "\n" : COLUMNS.map((c) => cellText(c.value(e))).join("  ") + `  ${e.reason}\n`,
                    );
            },
            log,
        );
    } finally {
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
    }
}

export const schemaEvents: Command = {
    name: "schema-events",
    summary: "source column changes (add, drop, type, rename) found in the change events, and what the sink does with each",
    usage: USAGE,
    async run(argv, ctx) {
        const flags = parseFlags(argv, FLAGS, USAGE);
        if (flags.follow && flags["no-detect"]) throw new UsageError("--follow detects; it cannot go with --no-detect", USAGE);
        if (flags.interval !== undefined && !flags.follow) throw new UsageError("--interval only applies with --follow", USAGE);
        const target = resolveTarget(flags, ctx.env, USAGE);
        const store = new SchemaEventStore(stateDir(target, flags["state-dir"], ctx.env));
        const log = (line: string) => ctx.stderr.write(`cdc schema-events: ${line}\n`);
        const report = (detected: number, skipped: number): SchemaEventsReport => ({
            log: store.eventsFile,
            detected,
            skipped,
            events: store.readEvents().events,
        });
        if (flags["no-detect"]) {
            emit(ctx, flags, report(0, 0), renderEvents);
            return EXIT.OK;
        }
        const caFile = ctx.env.CDC_DATABASE_CA_FILE;
        const secrets = target.sandbox
            ? directorySecretStore(target.sandbox.secretsDir, "the sandbox writes it at start")
            : flags["secrets-dir"] !== undefined
              ? directorySecretStore(flags["secrets-dir"], "in a cluster the Vault Secrets Operator writes it from Vault")
              : kubectlSecretStore(target.namespace, ctx.env);
        const detector = await openDetector(target, store, {
            pushgatewayUrl: flags["pushgateway-url"] ?? ctx.env.CDC_PUSHGATEWAY_URL ?? target.spec.reconciler?.pushgatewayUrl,
            secrets,
            caPem: caFile ? fs.readFileSync(caFile, "utf8") : undefined,
            log,
            decoder: recordDecoderFor(target.spec, ctx.env),
        });
        try {
            if (flags.follow) {
                await follow(detector, (flags.interval ?? 30) * 1000, ctx, flags.json, log);
                return EXIT.OK;
            }
            const result = await detector.pass();
            emit(ctx, flags, report(result.events.length, result.skipped), renderEvents);
            return result.events.some(needsAttention) ? EXIT.PROBLEMS : EXIT.OK;
        } finally {
            await detector.close();
        }
    },
};
