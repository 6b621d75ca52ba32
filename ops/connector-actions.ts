/**
 * `cdc restart | pause | resume | stop | offsets list | offsets alter | offsets reset <connector>`.
 *
 * In `rest` mode (the sandbox) they call Connect's REST API: restart with KIP-745's includeTasks/onlyFailed,
 * PUT pause/resume/stop, and KIP-875's GET/PATCH/DELETE offsets, which Connect accepts only while the
 * connector is STOPPED (refused here first, with the command that stops it). In `strimzi` mode the operator
 * would revert those REST writes, so they print the KafkaConnector changes Strimzi acts on
 * (plan/connector-actions.ts) as kubectl commands, and with `--apply` run them through kubectl and wait
 * until Strimzi has acted. No Kubernetes cluster exists where this was written: strimzi mode is tested by
 * rendering (objects validated against Strimzi 1.2's CRD, commands through the runbook checker), `--apply`
 * has not run against a cluster.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import { renderConnectors, RenderedConnector } from "../connectors/render";
import { parseFlags } from "../model/args";
import { waitUntil } from "../model/wait";
import { clusterConnectorContext } from "../plan/connect-cluster";
import {
    ConnectorAction,
    kubectlScript,
    OFFSETS_CONFIGMAP_KEY,
    parseConnectorOffsets,
    StrimziActionPlan,
    strimziConnectorAction,
} from "../plan/connector-actions";
import { kafkaConnectorBody } from "../plan/kafka-connector";
import { Command, EXIT, RefusedError, UnreachableError, UsageError } from "./command";
import { ConnectClient, ConnectorOffset, ConnectorStatus } from "./connect-client";
import { cellText, emit, OUTPUT_FLAGS, table } from "./output";
import { connectClient, resolveTarget, Target, TARGET_FLAGS, TARGET_USAGE, TargetFlags } from "./target";

const STRIMZI_FLAGS = {
    apply: { type: "boolean" },
    "wait-seconds": { type: "number", integer: true, min: 1 },
} as const;
const STRIMZI_USAGE = [
    "  --apply                      strimzi mode: run the kubectl commands instead of printing them, then wait for Strimzi",
    "  --wait-seconds <n>           how long to wait for Strimzi (--apply) or Connect (rest mode) to act (default 300 / 60)",
].join("\n");

/** `<connector>` first, then flags: parseFlags takes no positionals. */
function connectorArgument(argv: string[], usage: string): [string, string[]] {
    const [name, ...rest] = argv;
    if (name === undefined || name.startsWith("-") || name.trim() === "") throw new UsageError("name the connector", usage);
    return [name, rest];
}

/** The connector as the target's stack renders it; a name the stack does not render is a usage error listing those it does. */
function stackConnector(target: Target, name: string, usage: string): RenderedConnector {
    const connectors = renderConnectors(target.spec, clusterConnectorContext(target.spec));
    const found = connectors.find((c) => c.name === name);
    if (!found)
        throw new UsageError(
            `${name} is not a connector of ${target.kind} ${target.name} (${connectors.map((c) => c.name).join(", ")})`,
            usage,
        );
    return found;
}

/** Runs kubectl without a shell, with the command's environment (its PATH and KUBECONFIG). */
function kubectl(env: NodeJS.ProcessEnv, args: string[], stdin?: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = execFile("kubectl", args, { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
            if ((err as NodeJS.ErrnoException | null)?.code === "ENOENT")
                reject(
                    new UnreachableError(
                        "kubectl",
                        "PATH",
                        "not installed",
                        "install kubectl, or run without --apply and paste the printed commands",
                    ),
                );
            else if (err) reject(new Error(`kubectl ${args.join(" ")}: ${stderr.trim() || err.message}`));
            else resolve(stdout);
        });
        // A kubectl that exits without reading stdin (a failed call, or one that takes none) closes the pipe:
        // its exit status above is what counts, not the write.
        child.stdin?.on("error", () => undefined);
        child.stdin?.end(stdin ?? "");
    });
}

export interface ActionResult {
    connector: string;
    mode: "rest" | "strimzi";
    action: string;
    /** rest mode: the connector's status once Connect acted. */
    status?: ConnectorStatus;
    /** Connect's or Strimzi's answer, when it gives one. */
    message?: string;
    offsets?: ConnectorOffset[];
    /** strimzi mode: what changes on the KafkaConnector, and the commands. */
    plan?: Omit<StrimziActionPlan, "steps">;
    script?: string;
    applied?: boolean;
    notes?: string[];
}

const STATE_OF = { paused: "PAUSED", stopped: "STOPPED", running: "RUNNING" } as const;

/** Notes an operator needs with the printed commands; the stack's own declared state wins at the next `pulumi up`. */
function strimziNotes(target: Target, connector: RenderedConnector, action: ConnectorAction, plan: StrimziActionPlan): string[] {
    const ns = target.namespace;
    const notes: string[] = [];
    if (plan.requiresStopped)
        notes.push(
            `Strimzi refuses this unless the KafkaConnector's spec.state is stopped: cdc stop ${connector.name} --stack ${target.name} first`,
        );
    if (action.kind === "state") {
        const role = connector.role === "source" ? "source" : "sink";
        const index = target.spec.pipelines.findIndex((p) => p.name === connector.pipeline);
        if (action.state !== connector.state)
            notes.push(
                `the stack declares state: ${connector.state}; a later pulumi up sets it back (or conflicts with kubectl's field manager): set pipelines[${index}].${role}.state: ${action.state} and pulumi up`,
            );
    }
    if (plan.awaitsRemovalOf)
        notes.push(
            `Strimzi acts at its next reconciliation (every 2 minutes by default) and then removes ${plan.awaitsRemovalOf}: kubectl -n ${ns} get kafkaconnector ${connector.name} -o yaml (status.conditions shows a refusal)`,
        );
    if (plan.result)
        notes.push(`then read the offsets: kubectl -n ${ns} get configmap ${plan.result.configMap} -o jsonpath='{.data.offsets\\.json}'`);
    return notes;
}

/** Runs the plan through kubectl and waits until Strimzi removed its annotation (or the state is as asked). */
async function applyStrimzi(env: NodeJS.ProcessEnv, plan: StrimziActionPlan, waitMs: number): Promise<string | undefined> {
    const get = async () =>
        JSON.parse(await kubectl(env, ["-n", plan.namespace, "get", "kafkaconnector", plan.connector, "-o", "json"])) as {
            metadata: { annotations?: Record<string, string> };
            spec: { state?: string };
        };
    if (plan.requiresStopped) {
        const state = (await get()).spec.state ?? "running";
        if (state !== "stopped")
            throw new RefusedError(`KafkaConnector ${plan.connector} has spec.state ${state}; stop it first (cdc stop ${plan.connector})`);
    }
    for (const step of plan.steps) await kubectl(env, step.args, step.stdin);
    if (plan.awaitsRemovalOf) {
        const key = plan.awaitsRemovalOf;
        await waitUntil(
            `Strimzi to act on ${key} of KafkaConnector ${plan.connector}`,
            waitMs,
            async () => !(key in ((await get()).metadata.annotations ?? {})),
            {
                intervalMs: 5000,
            },
        );
    }
    if (plan.result)
        return (
            JSON.parse(await kubectl(env, ["-n", plan.namespace, "get", "configmap", plan.result.configMap, "-o", "json"])) as {
                data?: Record<string, string>;
            }
        ).data?.[OFFSETS_CONFIGMAP_KEY];
    return undefined;
}

/** Connect's status once the connector and every task show `want` (STOPPED: no task left). */
async function waitForState(client: ConnectClient, name: string, want: string, waitMs: number): Promise<ConnectorStatus> {
    let last: ConnectorStatus | undefined;
    return waitUntil(
        `connector ${name} ${want}`,
        waitMs,
        async () => {
            last = await client.status(name);
            // The connector's state flips first; its tasks follow (a stopped connector has none left).
            const tasksOk =
                want === "STOPPED" ? last.tasks.length === 0 : last.tasks.length > 0 && last.tasks.every((t) => t.state === want);
            return last.connector.state === want && tasksOk ? last : undefined;
        },
        { intervalMs: 500, describe: () => `last status: ${JSON.stringify(last)}` },
    );
}

async function runRest(target: Target, connector: RenderedConnector, action: ConnectorAction, waitMs: number): Promise<ActionResult> {
    const client = connectClient(target);
    const name = connector.name;
    const base = { connector: name, mode: "rest" as const, action: describeAction(action) };
    const before = await client.status(name);
    switch (action.kind) {
        case "restart":
            await client.restartWith(name, action);
            return { ...base, status: await client.status(name) };
        case "restart-task":
            if (!before.tasks.some((t) => t.id === action.task))
                throw new RefusedError(
                    `connector ${name} has no task ${action.task} (tasks: ${before.tasks.map((t) => t.id).join(", ") || "none"})`,
                );
            await client.restartTask(name, action.task);
            return { ...base, status: await client.status(name) };
        case "state": {
            if (action.state === "paused") await client.pause(name);
            else if (action.state === "stopped") await client.stopConnector(name);
            else await client.resume(name);
            return { ...base, status: await waitForState(client, name, STATE_OF[action.state], waitMs) };
        }
        case "offsets-list":
            return { ...base, offsets: await client.offsets(name) };
        case "offsets-alter":
        case "offsets-reset": {
            if (before.connector.state !== "STOPPED")
                throw new RefusedError(
                    `connector ${name} is ${before.connector.state}; Connect changes offsets only while it is STOPPED: cdc stop ${name} first`,
                );
            const message =
                action.kind === "offsets-alter" ? await client.alterOffsets(name, action.offsets.offsets) : await client.resetOffsets(name);
            return { ...base, message, offsets: await client.offsets(name) };
        }
    }
}

async function runStrimzi(
    env: NodeJS.ProcessEnv,
    target: Target,
    connector: RenderedConnector,
    action: ConnectorAction,
    apply: boolean,
    waitMs: number,
): Promise<ActionResult> {
    const body = kafkaConnectorBody(connector, target.namespace, target.spec.connect.name);
    const plan = strimziConnectorAction(body, action);
    const { steps, ...rest } = plan;
    const result: ActionResult = {
        connector: connector.name,
        mode: "strimzi",
        action: describeAction(action),
        plan: rest,
        script: kubectlScript({ ...plan, steps }),
        applied: false,
        notes: strimziNotes(target, connector, action, plan),
    };
    if (!apply) return result;
    const listed = await applyStrimzi(env, plan, waitMs);
    return {
        ...result,
        applied: true,
        ...(listed !== undefined ? { offsets: parseConnectorOffsets(listed, connector.role, plan.result!.configMap).offsets } : {}),
    };
}

function describeAction(a: ConnectorAction): string {
    switch (a.kind) {
        case "restart":
            return `restart${a.includeTasks ? " with tasks" : " connector only"}${a.onlyFailed ? ", only failed" : ""}`;
        case "restart-task":
            return `restart task ${a.task}`;
        case "state":
            return { paused: "pause", stopped: "stop", running: "resume" }[a.state];
        case "offsets-list":
            return "offsets list";
        case "offsets-alter":
            return "offsets alter";
        case "offsets-reset":
            return "offsets reset";
    }
}

function human(r: ActionResult): string {
    const lines: string[] = [];
    if (r.mode === "strimzi") {
        lines.push(
            r.applied
                ? `${r.action} of KafkaConnector ${r.connector}: applied, and Strimzi has acted`
                : `${r.action} of KafkaConnector ${r.connector} (strimzi mode: Connect REST writes would be reverted by the operator); run:`,
        );
        if (!r.applied) lines.push("", r.script ?? "", "");
        for (const n of r.notes ?? []) lines.push(`note: ${n}`);
    } else {
        lines.push(`${r.action} of ${r.connector}: done${r.message ? ` (${r.message})` : ""}`);
        if (r.status) {
            lines.push(
                table(
                    [
                        { id: "connector", state: r.status.connector.state, worker: r.status.connector.worker_id },
                        ...r.status.tasks.map((t) => ({ id: `task ${t.id}`, state: t.state, worker: t.worker_id })),
                    ],
                    [
                        { header: "WHAT", value: (x) => x.id },
                        { header: "STATE", value: (x) => x.state },
                        { header: "WORKER", value: (x) => x.worker },
                    ],
                ).trimEnd(),
            );
        }
    }
    if (r.offsets) {
        lines.push(
            r.offsets.length === 0
                ? "no committed offsets"
                : table(r.offsets, [
                      { header: "PARTITION", value: (o) => cellText(o.partition) },
                      { header: "OFFSET", value: (o) => cellText(o.offset) },
                  ]).trimEnd(),
        );
    }
    return lines.join("\n") + "\n";
}

interface ActionCommandSpec {
    name: string;
    summary: string;
    synopsis: string;
    extraFlags: Record<string, { type: "boolean" } | { type: "string" } | { type: "number"; integer?: boolean; min?: number }>;
    extraUsage: string[];
    action(flags: Record<string, unknown>, connector: RenderedConnector, usage: string): ConnectorAction;
}

function actionCommand(spec: ActionCommandSpec): Command {
    const usage = [
        `cdc ${spec.name} <connector> ${spec.synopsis}[--apply] [target flags]`,
        ...spec.extraUsage,
        STRIMZI_USAGE,
        TARGET_USAGE,
    ].join("\n");
    return {
        name: spec.name,
        summary: spec.summary,
        usage,
        async run(argv, ctx) {
            const [name, rest] = connectorArgument(argv, usage);
            const flags = parseFlags(rest, { ...OUTPUT_FLAGS, ...TARGET_FLAGS, ...STRIMZI_FLAGS, ...spec.extraFlags }, usage) as Record<
                string,
                unknown
            > & {
                json: boolean;
                apply: boolean;
                "wait-seconds"?: number;
            };
            const target = resolveTarget(flags as unknown as TargetFlags, ctx.env, usage);
            const connector = stackConnector(target, name, usage);
            const action = spec.action(flags, connector, usage);
            if (flags.apply && target.mode !== "strimzi")
                throw new UsageError("--apply is for strimzi mode; in rest mode the command acts through Connect itself", usage);
            const wait = flags["wait-seconds"];
            const result =
                target.mode === "strimzi"
                    ? await runStrimzi(ctx.env, target, connector, action, flags.apply, (wait ?? 300) * 1000)
                    : await runRest(target, connector, action, (wait ?? 60) * 1000);
            emit(ctx, flags, result, human);
            return EXIT.OK;
        },
    };
}

export const restart = actionCommand({
    name: "restart",
    summary: "restart a connector and its tasks (--task N: one task; --only-failed; strimzi mode: the strimzi.io/restart annotations)",
    synopsis: "[--task <n>] [--only-failed] [--connector-only] ",
    extraFlags: {
        task: { type: "number", integer: true, min: 0 },
        "only-failed": { type: "boolean" },
        "connector-only": { type: "boolean" },
    },
    extraUsage: [
        "  --task <n>                   restart only task n (strimzi.io/restart-task)",
        "  --only-failed                restart only what is FAILED",
        "  --connector-only             leave the tasks alone (Connect's includeTasks=false)",
    ],
    action(flags, connector, usage) {
        if (flags.task !== undefined) {
            if (flags["only-failed"] || flags["connector-only"])
                throw new UsageError("--task restarts one task; it takes neither --only-failed nor --connector-only", usage);
            const task = flags.task as number;
            if (task >= connector.tasksMax)
                throw new UsageError(
                    `connector ${connector.name} has tasks 0..${connector.tasksMax - 1} (tasksMax ${connector.tasksMax}); there is no task ${task}`,
                    usage,
                );
            return { kind: "restart-task", task };
        }
        return { kind: "restart", includeTasks: !flags["connector-only"], onlyFailed: Boolean(flags["only-failed"]) };
    },
});

const stateCommand = (name: string, state: "paused" | "stopped" | "running", summary: string) =>
    actionCommand({ name, summary, synopsis: "", extraFlags: {}, extraUsage: [], action: () => ({ kind: "state", state }) });

export const pause = stateCommand("pause", "paused", "pause a connector (tasks stay assigned; strimzi mode: spec.state paused)");
export const resume = stateCommand("resume", "running", "resume a paused or stopped connector (strimzi mode: spec.state running)");
export const stop = stateCommand(
    "stop",
    "stopped",
    "stop a connector, keeping config and offsets (needed before offsets alter/reset; strimzi mode: spec.state stopped)",
);

export const offsetsList = actionCommand({
    name: "offsets list",
    summary: "a connector's committed offsets (KIP-875; --json prints the body offsets alter takes)",
    synopsis: "",
    extraFlags: {},
    extraUsage: [],
    action: () => ({ kind: "offsets-list" }),
});

export const offsetsAlter = actionCommand({
    name: "offsets alter",
    summary: "overwrite a STOPPED connector's offsets from a file (the body offsets list --json prints, edited)",
    synopsis: "--file <offsets.json> ",
    extraFlags: { file: { type: "string" } },
    extraUsage: [
        '  --file <offsets.json>        {"offsets": [{"partition": {...}, "offset": {...}}]}; offset null removes that partition\'s',
    ],
    action(flags, connector, usage) {
        const file = flags.file as string | undefined;
        if (file === undefined) throw new UsageError("--file <offsets.json> is required", usage);
        let text: string;
        try {
            text = fs.readFileSync(file, "utf8");
        } catch (e) {
            throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, usage);
        }
        try {
            return { kind: "offsets-alter", offsets: parseConnectorOffsets(text, connector.role, file) };
        } catch (e) {
            throw new UsageError((e as Error).message, usage);
        }
    },
});

export const offsetsReset = actionCommand({
    name: "offsets reset",
    summary: "clear a STOPPED connector's offsets: a source snapshots again as on its first start, a sink reads from auto.offset.reset",
    synopsis: "",
    extraFlags: {},
    extraUsage: [],
    action: () => ({ kind: "offsets-reset" }),
});
