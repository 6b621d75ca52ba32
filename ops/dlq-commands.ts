/**
 * `cdc dlq list|show|replay|resolve|ignore`: the dead letter lifecycle of seed 000 §6 over each sink's dead letter
 * topic (ops/dlq-store.ts), its rules in ops/dlq-state.ts. docs/ops.md ("Dead letters") is the operator's guide.
 */
import { parseFlags } from "../model/args";
import { waitUntil, WaitTimeoutError } from "../model/wait";
import { Command, CommandContext, EXIT, RefusedError, UsageError } from "./command";
import { ConnectClient } from "./connect-client";
import { DeadLetterRecord, idOf, parseId, RESOLUTION_STATUSES, ResolutionStatus } from "./dlq-record";
import { LIST_COLUMNS, present, presentDecoded, showText } from "./dlq-present";
import { Action, decide, withReplaySent, withStatus } from "./dlq-state";
import { DlqView, loadView, missingTopics, SinkDlq, sendReplay, sinkDlqs, storeState } from "./dlq-store";
import { KafkaClient } from "./kafka-client";
import { emit, OUTPUT_FLAGS, table } from "./output";
import { recordDecoderFor } from "./record-decoder";
import { connectClient, KafkaConnection, resolveTarget, Target, TARGET_FLAGS, TARGET_USAGE, TargetFlags } from "./target";

const SINK_USAGE = "  --sink <name>                only this sink connector's dead letters (default: every sink with a dead letter queue)";
const ID_USAGE = "  <id>                         <original topic>/<partition>/<offset>, as `cdc dlq list` shows it";

/** Leading arguments that are not flags: the record ids of show/replay/resolve/ignore. */
function splitIds(argv: readonly string[], usage: string, min: number): { ids: string[]; rest: string[] } {
    const firstFlag = argv.findIndex((a) => a.startsWith("-"));
    const ids = firstFlag < 0 ? [...argv] : argv.slice(0, firstFlag);
    const rest = firstFlag < 0 ? [] : argv.slice(firstFlag);
    if (ids.length < min) throw new UsageError("which dead letter? give its id (topic/partition/offset) first", usage);
    for (const id of ids)
        if (!parseId(id))
            throw new UsageError(`${JSON.stringify(id)} is not a dead letter id of the form <topic>/<partition>/<offset>`, usage);
    return { ids, rest };
}

async function loadViews(kafka: KafkaClient, conn: KafkaConnection, connect: ConnectClient, sinks: SinkDlq[]): Promise<DlqView[]> {
    const missing = missingTopics(await kafka.listTopics(), sinks);
    if (missing.length > 0) {
        throw new RefusedError(
            `Kafka at ${conn.bootstrapServers.join(",")} has no topic ${missing.join(", ")}: the stack's topic plan creates them (pulumi up; a sandbox at its start)`,
        );
    }
    const now = Date.now();
    return Promise.all(sinks.map((s) => loadView(kafka, connect, s, now)));
}

/**
 * What every dlq command starts with: the target, its sinks with a dead letter queue (or the one `--sink` names), and
 * their dead letters; `work` runs with the clients open, and Kafka is closed whatever happens.
 */
async function withViews<T>(
    flags: TargetFlags & { sink?: string },
    ctx: CommandContext,
    usage: string,
    work: (views: DlqView[], kafka: KafkaClient, connect: ConnectClient, target: Target) => Promise<T>,
): Promise<T> {
    const target = resolveTarget(flags, ctx.env, usage);
    const sinks = sinkDlqs(target.spec, flags.sink, usage, ctx.env);
    const kafka = new KafkaClient(target.kafka, "cdc-ops-dlq");
    try {
        const connect = connectClient(target);
        return await work(await loadViews(kafka, target.kafka, connect, sinks), kafka, connect, target);
    } finally {
        await kafka.close();
    }
}

function find(views: DlqView[], id: string): { view: DlqView; record: DeadLetterRecord } {
    for (const view of views) {
        const record = view.records.find((r) => idOf(r) === id);
        if (record) return { view, record };
    }
    const where = views.map((v) => `${v.sink.dlqTopic} (${v.records.length})`).join(", ");
    throw new RefusedError(`no dead letter ${id} in ${where || "any dead letter topic"}; \`cdc dlq list\` shows them`);
}

function warnUnreadable(ctx: CommandContext, views: DlqView[]): void {
    for (const v of views) for (const u of v.unreadable) ctx.stderr.write(`warning: ${u.problem}\n`);
}

const LIST_USAGE = [
    "cdc dlq list [--sink <name>] [--status PENDING|RESOLVED|IGNORED] [target flags]",
    "  every dead letter as seed 000's DeadLetterRecord, newest failure first; exit 1 while any is PENDING",
    SINK_USAGE,
    "  --status <s>                 only records in this resolution status",
    TARGET_USAGE,
].join("\n");

export const dlqList: Command = {
    name: "dlq list",
    summary: "list dead letters with their resolution status (exit 1 while any is PENDING)",
    usage: LIST_USAGE,
    async run(argv, ctx) {
        const flags = parseFlags(
            argv,
            { ...OUTPUT_FLAGS, ...TARGET_FLAGS, sink: { type: "string" }, status: { type: "string" } },
            LIST_USAGE,
        );
        const status = flags.status?.toUpperCase();
        if (status !== undefined && !RESOLUTION_STATUSES.includes(status as ResolutionStatus)) {
            throw new UsageError(
                `--status must be one of ${RESOLUTION_STATUSES.join(", ")}, got ${JSON.stringify(flags.status)}`,
                LIST_USAGE,
            );
        }
        const views = await withViews(flags, ctx, LIST_USAGE, async (v) => v);
        warnUnreadable(ctx, views);
        const all = views.flatMap((v) => v.records);
        const shown = all.filter((r) => status === undefined || r.resolution_status === status).map(present);
        emit(ctx, flags, shown, (rows) =>
            rows.length === 0
                ? `no ${status ?? ""}${status ? " " : ""}dead letters in ${views.map((v) => v.sink.dlqTopic).join(", ")}\n`
                : table(rows, LIST_COLUMNS),
        );
        return all.some((r) => r.resolution_status === "PENDING") ? EXIT.PROBLEMS : EXIT.OK;
    },
};

const SHOW_USAGE = [
    "cdc dlq show <id> [--sink <name>] [target flags]",
    "  one dead letter, every field",
    ID_USAGE,
    SINK_USAGE,
    TARGET_USAGE,
].join("\n");

export const dlqShow: Command = {
    name: "dlq show",
    summary: "one dead letter with every DeadLetterRecord field, its payload and stack trace",
    usage: SHOW_USAGE,
    async run(argv, ctx) {
        const { ids, rest } = splitIds(argv, SHOW_USAGE, 1);
        if (ids.length > 1) throw new UsageError("show takes one id", SHOW_USAGE);
        const flags = parseFlags(rest, { ...OUTPUT_FLAGS, ...TARGET_FLAGS, sink: { type: "string" } }, SHOW_USAGE);
        const shown = await withViews(flags, ctx, SHOW_USAGE, async (views, _kafka, _connect, target) => {
            const { record } = find(views, ids[0]);
            return presentDecoded(record, recordDecoderFor(target.spec, ctx.env));
        });
        emit(ctx, flags, shown, showText);
        return EXIT.OK;
    },
};

/** What one action did to one record, as the commands report it. */
interface Outcome {
    id: string;
    action: Action["kind"];
    result: "changed" | "unchanged" | "refused" | "applied" | "dead-lettered" | "in-flight";
    status: ResolutionStatus;
    retry_count: number;
    message: string;
}

const OUTCOME_COLUMNS = [
    { header: "ID", value: (o: Outcome) => o.id },
    { header: "RESULT", value: (o: Outcome) => o.result },
    { header: "STATUS", value: (o: Outcome) => o.status },
    { header: "RETRIES", value: (o: Outcome) => o.retry_count, align: "right" as const },
    { header: "WHAT HAPPENED", value: (o: Outcome) => o.message },
];

function report(ctx: CommandContext, json: boolean, outcomes: Outcome[]): number {
    // One refused record is the command refused: the CLI prints why (and with --json, its error document).
    if (outcomes.length === 1 && outcomes[0].result === "refused") throw new RefusedError(`${outcomes[0].id}: ${outcomes[0].message}`);
    emit(ctx, { json }, outcomes, (rows) => table(rows, OUTCOME_COLUMNS));
    return outcomes.some((o) => o.result === "refused" || o.result === "dead-lettered" || o.result === "in-flight")
        ? EXIT.PROBLEMS
        : EXIT.OK;
}

const statusUsage = (verb: "resolve" | "ignore", what: string) =>
    [
        `cdc dlq ${verb} <id>... [--note <text>] [--sink <name>] [target flags]`,
        `  ${what}`,
        ID_USAGE,
        "  --note <text>                why, kept with the record's state",
        SINK_USAGE,
        TARGET_USAGE,
    ].join("\n");

function statusCommand(verb: "resolve" | "ignore", summary: string, what: string): Command {
    const usage = statusUsage(verb, what);
    return {
        name: `dlq ${verb}`,
        summary,
        usage,
        async run(argv, ctx) {
            const { ids, rest } = splitIds(argv, usage, 1);
            const flags = parseFlags(rest, { ...OUTPUT_FLAGS, ...TARGET_FLAGS, sink: { type: "string" }, note: { type: "string" } }, usage);
            const outcomes = await withViews(flags, ctx, usage, async (views, kafka) => {
                const out: Outcome[] = [];
                for (const id of ids) {
                    const { view, record } = find(views, id);
                    const decision = decide(record.resolution_status, { kind: verb });
                    const base = { id, action: verb, retry_count: record.retry_count };
                    if (decision.verdict === "refuse") {
                        out.push({ ...base, result: "refused", status: record.resolution_status, message: decision.reason });
                    } else if (decision.verdict === "noop") {
                        out.push({ ...base, result: "unchanged", status: record.resolution_status, message: decision.reason });
                    } else {
                        await storeState(kafka, view.sink, withStatus(record, decision.next, Date.now(), flags.note ?? null));
                        out.push({
                            ...base,
                            result: "changed",
                            status: decision.next,
                            message: `${record.resolution_status} → ${decision.next}`,
                        });
                    }
                }
                return out;
            });
            return report(ctx, flags.json, outcomes);
        },
    };
}

export const dlqResolve = statusCommand(
    "resolve",
    "mark dead letters RESOLVED (fixed another way)",
    "PENDING → RESOLVED: the row was fixed another way",
);
export const dlqIgnore = statusCommand(
    "ignore",
    "mark dead letters IGNORED (skipped for good)",
    "PENDING → IGNORED: the event is skipped for good",
);

const DEFAULT_WAIT_SECONDS = 90;
const REPLAY_USAGE = [
    "cdc dlq replay <id>... [--include-ignored] [--wait <seconds>] [--sink <name>] [target flags]",
    "  sends each record back through its sink alone (the sink's retry topic), then waits for the outcome: applied",
    "  (RESOLVED, exit 0), dead-lettered again (still PENDING, exit 1) or not known yet (exit 1; list/show settle it later)",
    ID_USAGE,
    "  --include-ignored            replay IGNORED records too (they become PENDING again)",
    `  --wait <seconds>             how long to wait for the sink (default ${DEFAULT_WAIT_SECONDS}; 0: send and return)`,
    SINK_USAGE,
    TARGET_USAGE,
].join("\n");

/** Waits until the replay is applied or dead-lettered (the settled record), or the time is up (undefined). */
async function awaitOutcome(
    kafka: KafkaClient,
    connect: ConnectClient,
    sink: SinkDlq,
    id: string,
    seconds: number,
): Promise<DeadLetterRecord | undefined> {
    try {
        return await waitUntil(
            `the sink ${sink.sink} to apply or dead-letter the replay of ${id}`,
            seconds * 1000,
            async () => {
                const record = (await loadView(kafka, connect, sink, Date.now())).records.find((r) => idOf(r) === id);
                return record && record.last_replay?.outcome !== "IN_FLIGHT" ? record : undefined;
            },
            { intervalMs: 2000 },
        );
    } catch (e) {
        if (e instanceof WaitTimeoutError) return undefined;
        throw e;
    }
}

async function sinkTaskStates(connect: ConnectClient, sink: string): Promise<string> {
    try {
        const status = await connect.status(sink);
        return `connector ${status.connector.state}, tasks ${status.tasks.map((t) => `${t.id}:${t.state}`).join(" ") || "none"}`;
    } catch (e) {
        return `status unknown (${(e as Error).message})`;
    }
}

async function replayOne(
    kafka: KafkaClient,
    connect: ConnectClient,
    views: DlqView[],
    id: string,
    includeIgnored: boolean,
    waitSeconds: number,
): Promise<Outcome> {
    const { view, record } = find(views, id);
    const sink = view.sink;
    const base = { id, action: "replay" as const };
    const decision = decide(record.resolution_status, { kind: "replay", includeIgnored });
    if (decision.verdict !== "apply") {
        const result = decision.verdict === "refuse" ? "refused" : "unchanged";
        return { ...base, result, status: record.resolution_status, retry_count: record.retry_count, message: decision.reason };
    }
    if (!("retryTopic" in sink.route)) {
        return {
            ...base,
            result: "refused",
            status: record.resolution_status,
            retry_count: record.retry_count,
            message: `cannot replay: ${sink.route.unsupported}`,
        };
    }
    let current = record;
    // A replay already on its way is not sent again: the sink applies it or dead-letters it, and we wait for which.
    const alreadyInFlight = record.last_replay?.outcome === "IN_FLIGHT";
    if (!alreadyInFlight) {
        const sentAt = Date.now();
        const landed = await sendReplay(kafka, sink.route.retryTopic, record);
        current = withReplaySent(record, {
            sent_at: sentAt,
            retry_topic: sink.route.retryTopic,
            retry_partition: landed.partition,
            retry_offset: landed.offset,
        });
        await storeState(kafka, sink, current);
    }
    const replay = current.last_replay!;
    const where = `${replay.retry_topic}/${replay.retry_partition}/${replay.retry_offset}`;
    const sent = alreadyInFlight ? `not sent again: the replay at ${where} is still in flight` : `sent to ${where}`;
    const settled = waitSeconds > 0 ? await awaitOutcome(kafka, connect, sink, id, waitSeconds) : undefined;
    if (!settled) {
        const tasks = await sinkTaskStates(connect, sink.sink);
        return {
            ...base,
            result: "in-flight",
            status: current.resolution_status,
            retry_count: current.retry_count,
            message: `${sent}; the sink has not applied it yet (${tasks}); \`cdc dlq show ${id}\` tells later`,
        };
    }
    await storeState(kafka, sink, settled);
    if (settled.last_replay?.outcome === "APPLIED") {
        return {
            ...base,
            result: "applied",
            status: settled.resolution_status,
            retry_count: settled.retry_count,
            message: `${sent}; applied by ${sink.sink}`,
        };
    }
    return {
        ...base,
        result: "dead-lettered",
        status: settled.resolution_status,
        retry_count: settled.retry_count,
        message: `${sent}; failed again and is back in ${sink.dlqTopic}: ${settled.error_class}: ${settled.error_message}`,
    };
}

export const dlqReplay: Command = {
    name: "dlq replay",
    summary: "send dead letters back through their sink only, and report whether they were applied",
    usage: REPLAY_USAGE,
    async run(argv, ctx) {
        const { ids, rest } = splitIds(argv, REPLAY_USAGE, 1);
        const flags = parseFlags(
            rest,
            {
                ...OUTPUT_FLAGS,
                ...TARGET_FLAGS,
                sink: { type: "string" },
                "include-ignored": { type: "boolean" },
                wait: { type: "number", min: 0 },
            },
            REPLAY_USAGE,
        );
        const outcomes = await withViews(flags, ctx, REPLAY_USAGE, async (views, kafka, connect) => {
            const out: Outcome[] = [];
            for (const id of ids)
                out.push(await replayOne(kafka, connect, views, id, flags["include-ignored"], flags.wait ?? DEFAULT_WAIT_SECONDS));
            return out;
        });
        return report(ctx, flags.json, outcomes);
    },
};

export const DLQ_COMMANDS: readonly Command[] = [dlqList, dlqShow, dlqReplay, dlqResolve, dlqIgnore];
