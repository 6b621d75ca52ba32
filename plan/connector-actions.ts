/**
 * Operator actions on one connector, as Strimzi 1.2 takes them from a KafkaConnector: restart and
 * restart-task annotations, `spec.state`, and the `strimzi.io/connector-offsets` annotation with the
 * `spec.listOffsets` / `spec.alterOffsets` ConfigMap references. With `use-connector-resources` the
 * operator reverts changes made through Connect's REST API, so in a cluster these are the only way to act.
 * Plain data in, plain data out: the ops CLI prints or applies it, the tests validate it against the CRD.
 *
 * Semantics checked against Strimzi's KafkaConnectAssemblyOperator/AbstractConnectOperator and its
 * proposals 006, 076 and 105: the restart annotation takes `true`, `includeTasks`, `onlyFailed` or both
 * comma-separated; `restart-task` takes a task id; `connector-offsets` takes `list`, `alter` or `reset`,
 * and alter/reset are refused (a Warning condition, annotation kept) unless `spec.state` is `stopped`.
 * List writes Connect's GET /offsets body to key `offsets.json` of `spec.listOffsets.toConfigMap`; alter
 * sends key `offsets.json` of `spec.alterOffsets.fromConfigMap` as the PATCH body. Strimzi removes each
 * annotation once Connect accepted the request, at its next reconciliation (every two minutes by default).
 */
import type { ConnectorState } from "../model/options";
import { KafkaConnectorBody, OFFSETS_ANNOTATION, RESTART_ANNOTATION, RESTART_TASK_ANNOTATION } from "./kafka-connector";

/** The one key Strimzi reads from and writes to the offsets ConfigMap. */
export const OFFSETS_CONFIGMAP_KEY = "offsets.json";

/** One ConfigMap per connector, used for both list (Strimzi writes it) and alter (the operator edits it), as Strimzi intends. */
export const connectorOffsetsConfigMapName = (connectorName: string): string => `${connectorName}-offsets`;

export type ConnectorAction =
    | { kind: "restart"; includeTasks: boolean; onlyFailed: boolean }
    | { kind: "restart-task"; task: number }
    | { kind: "state"; state: ConnectorState }
    | { kind: "offsets-list" }
    | { kind: "offsets-alter"; offsets: ConnectorOffsets }
    | { kind: "offsets-reset" };

/** Connect's KIP-875 offsets body: GET returns it, PATCH takes it, Strimzi stores it under `offsets.json`. */
export interface ConnectorOffsets {
    offsets: { partition: Record<string, unknown>; offset: Record<string, unknown> | null }[];
}

export interface ConfigMapBody {
    apiVersion: "v1";
    kind: "ConfigMap";
    metadata: { name: string; namespace: string; labels: Record<string, string> };
    data: Record<string, string>;
}

/** One `kubectl` invocation: argv after `kubectl`, and what it reads on stdin. */
export interface KubectlStep {
    args: string[];
    stdin?: string;
}

export interface StrimziActionPlan {
    connector: string;
    namespace: string;
    /** Annotations the action sets on the KafkaConnector. */
    annotations: Record<string, string>;
    /** JSON merge patch of the KafkaConnector's spec. */
    spec: Partial<Pick<KafkaConnectorBody["spec"], "state">> & {
        listOffsets?: { toConfigMap: { name: string } };
        alterOffsets?: { fromConfigMap: { name: string } };
    };
    /** The ConfigMap to apply first (alter). */
    configMap?: ConfigMapBody;
    /** Strimzi refuses the action unless the KafkaConnector's spec.state is already `stopped`. */
    requiresStopped: boolean;
    /** Strimzi removes this annotation when it has acted; gone means done. */
    awaitsRemovalOf?: string;
    /** Where the result is, once done (list). */
    result?: { configMap: string; key: string };
    steps: KubectlStep[];
}

/** `strimzi.io/restart` value for Connect's includeTasks/onlyFailed restart options (KIP-745). */
export function restartAnnotationValue(includeTasks: boolean, onlyFailed: boolean): string {
    const options = [...(includeTasks ? ["includeTasks"] : []), ...(onlyFailed ? ["onlyFailed"] : [])];
    return options.length > 0 ? options.join(",") : "true";
}

/** The kubectl steps that annotate or merge-patch one KafkaConnector. */
function kubectlOn(namespace: string, name: string) {
    return {
        annotate: (key: string, value: string): KubectlStep => ({
            args: ["-n", namespace, "annotate", "kafkaconnector", name, `${key}=${value}`, "--overwrite"],
        }),
        patch: (spec: StrimziActionPlan["spec"]): KubectlStep => ({
            args: ["-n", namespace, "patch", "kafkaconnector", name, "--type", "merge", "-p", JSON.stringify({ spec })],
        }),
    };
}

function restartTaskPlan(connector: KafkaConnectorBody, base: StrimziActionPlan, task: number): StrimziActionPlan {
    const tasksMax = connector.spec.tasksMax;
    if (!Number.isInteger(task) || task < 0 || task >= tasksMax) {
        throw new Error(`connector ${base.connector} has tasks 0..${tasksMax - 1} (spec.tasksMax ${tasksMax}); there is no task ${task}`);
    }
    const value = String(task);
    return {
        ...base,
        annotations: { [RESTART_TASK_ANNOTATION]: value },
        awaitsRemovalOf: RESTART_TASK_ANNOTATION,
        steps: [kubectlOn(base.namespace, base.connector).annotate(RESTART_TASK_ANNOTATION, value)],
    };
}

/** The offsets go in a ConfigMap applied first; Strimzi alters a stopped connector's offsets from it. */
function offsetsAlterPlan(base: StrimziActionPlan, offsets: ConnectorOffsets): StrimziActionPlan {
    const { connector: name, namespace } = base;
    const { annotate, patch } = kubectlOn(namespace, name);
    const configMapName = connectorOffsetsConfigMapName(name);
    const configMap: ConfigMapBody = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: {
            name: configMapName,
            namespace,
            labels: { "app.kubernetes.io/managed-by": "cdc-ops", "cdc.pipeline/connector": name },
        },
        data: { [OFFSETS_CONFIGMAP_KEY]: JSON.stringify(offsets, null, 2) },
    };
    const spec = { alterOffsets: { fromConfigMap: { name: configMapName } } };
    return {
        ...base,
        spec,
        configMap,
        annotations: { [OFFSETS_ANNOTATION]: "alter" },
        requiresStopped: true,
        awaitsRemovalOf: OFFSETS_ANNOTATION,
        steps: [
            { args: ["-n", namespace, "apply", "-f", "-"], stdin: JSON.stringify(configMap, null, 2) + "\n" },
            patch(spec),
            annotate(OFFSETS_ANNOTATION, "alter"),
        ],
    };
}

/**
 * The KafkaConnector changes that make Strimzi perform `action` on `connector` (its body as the stack
 * renders it, so names, namespace and tasksMax are the deployed ones).
 */
export function strimziConnectorAction(connector: KafkaConnectorBody, action: ConnectorAction): StrimziActionPlan {
    const name = connector.metadata.name;
    const namespace = connector.metadata.namespace;
    const base: StrimziActionPlan = { connector: name, namespace, annotations: {}, spec: {}, requiresStopped: false, steps: [] };
    const { annotate, patch } = kubectlOn(namespace, name);
    const configMapName = connectorOffsetsConfigMapName(name);

    switch (action.kind) {
        case "restart": {
            const value = restartAnnotationValue(action.includeTasks, action.onlyFailed);
            return {
                ...base,
                annotations: { [RESTART_ANNOTATION]: value },
                awaitsRemovalOf: RESTART_ANNOTATION,
                steps: [annotate(RESTART_ANNOTATION, value)],
            };
        }
        case "restart-task":
            return restartTaskPlan(connector, base, action.task);
        case "state":
            return { ...base, spec: { state: action.state }, steps: [patch({ state: action.state })] };
        case "offsets-list": {
            const spec = { listOffsets: { toConfigMap: { name: configMapName } } };
            return {
                ...base,
                spec,
                annotations: { [OFFSETS_ANNOTATION]: "list" },
                awaitsRemovalOf: OFFSETS_ANNOTATION,
                result: { configMap: configMapName, key: OFFSETS_CONFIGMAP_KEY },
                steps: [patch(spec), annotate(OFFSETS_ANNOTATION, "list")],
            };
        }
        case "offsets-alter":
            return offsetsAlterPlan(base, action.offsets);
        case "offsets-reset":
            return {
                ...base,
                annotations: { [OFFSETS_ANNOTATION]: "reset" },
                requiresStopped: true,
                awaitsRemovalOf: OFFSETS_ANNOTATION,
                steps: [annotate(OFFSETS_ANNOTATION, "reset")],
            };
    }
}

/** The KafkaConnector as it reads once the plan is applied (what Strimzi then sees). */
export function applyActionPlan(
    connector: KafkaConnectorBody,
    plan: StrimziActionPlan,
): KafkaConnectorBody & { spec: StrimziActionPlan["spec"] } {
    return {
        ...connector,
        metadata: { ...connector.metadata, annotations: { ...connector.metadata.annotations, ...plan.annotations } },
        spec: { ...connector.spec, ...plan.spec },
    };
}

/** `'…'` for a POSIX shell; plain words stay bare so the commands read as people type them. */
export function shellQuote(word: string): string {
    return /^[A-Za-z0-9_./:=,@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The plan as a shell script an operator can paste (a ConfigMap goes through a quoted heredoc). */
export function kubectlScript(plan: StrimziActionPlan): string {
    return plan.steps
        .map((step) => {
            const line = ["kubectl", ...step.args.map(shellQuote)].join(" ");
            return step.stdin === undefined ? line : `${line} <<'EOF'\n${step.stdin}EOF`;
        })
        .join("\n");
}

/**
 * Reads an offsets body (Connect's GET /offsets output, or one edited from it) and checks its shape, so
 * a mistake is reported here rather than as a Warning condition on the KafkaConnector minutes later.
 * Sink partitions are Kafka partitions (`kafka_topic`, `kafka_partition`, offset `kafka_offset`);
 * source partitions and offsets are the connector's own (Debezium's server/database keys and log positions).
 */
export function parseConnectorOffsets(text: string, role: "source" | "sink", what = "offsets"): ConnectorOffsets {
    let body: unknown;
    try {
        body = JSON.parse(text);
    } catch (e) {
        throw new Error(`${what}: not JSON (${(e as Error).message})`);
    }
    const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
    if (!isObject(body) || !Array.isArray(body.offsets))
        throw new Error(`${what}: expected {"offsets": [{"partition": {...}, "offset": {...}}]}`);
    const problems: string[] = [];
    body.offsets.forEach((entry: unknown, i: number) => {
        const at = `${what}.offsets[${i}]`;
        if (!isObject(entry) || !isObject(entry.partition)) return problems.push(`${at}.partition must be an object`);
        if (entry.offset !== null && !isObject(entry.offset)) return problems.push(`${at}.offset must be an object, or null to remove it`);
        if (role === "sink") {
            const { kafka_topic: topic, kafka_partition: partition } = entry.partition;
            if (typeof topic !== "string" || topic === "") problems.push(`${at}.partition.kafka_topic must be a topic name`);
            if (!Number.isInteger(partition) || (partition as number) < 0)
                problems.push(`${at}.partition.kafka_partition must be a partition number`);
            const offset = entry.offset?.kafka_offset;
            if (entry.offset !== null && (!Number.isInteger(offset) || (offset as number) < 0))
                problems.push(`${at}.offset.kafka_offset must be a non-negative whole number`);
        } else if (Object.keys(entry.partition).length === 0) {
            problems.push(`${at}.partition is empty; copy it from \`offsets list\``);
        }
        return undefined;
    });
    if (body.offsets.length === 0) problems.push(`${what}.offsets is empty: nothing to alter (to clear every offset, use reset)`);
    if (problems.length > 0) throw new Error(problems.join("\n"));
    return body as unknown as ConnectorOffsets;
}
