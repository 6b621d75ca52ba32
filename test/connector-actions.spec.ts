import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ActionResult } from "../ops/connector-actions";
import {
    applyActionPlan,
    ConnectorAction,
    kubectlScript,
    OFFSETS_CONFIGMAP_KEY,
    parseConnectorOffsets,
    restartAnnotationValue,
    strimziConnectorAction,
} from "../plan/connector-actions";
import { OPERATOR_OWNED_PATHS } from "../plan/kafka-connector";
import { validateManifest } from "./helpers/k8s-schemas";
import { checkRunbooks } from "./helpers/runbook-check";
import { renderStack, StackObjects } from "./helpers/stack-objects";
import { SHIPPED_STACKS } from "./helpers/stack-files";
import { cdc } from "./e2e/ops-run";

const SOURCE_OFFSETS = {
    offsets: [{ partition: { server: "shop" }, offset: { lsn: 23_456_789, txId: 771, ts_usec: 1_764_590_000_000_000 } }],
};
const SINK_OFFSETS = {
    offsets: [{ partition: { kafka_topic: "shop.public.orders", kafka_partition: 0 }, offset: { kafka_offset: 42 } }],
};

const ACTIONS: ConnectorAction[] = [
    { kind: "restart", includeTasks: false, onlyFailed: false },
    { kind: "restart", includeTasks: true, onlyFailed: false },
    { kind: "restart", includeTasks: false, onlyFailed: true },
    { kind: "restart", includeTasks: true, onlyFailed: true },
    { kind: "restart-task", task: 0 },
    { kind: "state", state: "paused" },
    { kind: "state", state: "stopped" },
    { kind: "state", state: "running" },
    { kind: "offsets-list" },
    { kind: "offsets-alter", offsets: SOURCE_OFFSETS },
    { kind: "offsets-reset" },
];

const sh = (script: string) => "```sh\n" + script + "\n```\n";

describe("Strimzi-native connector actions (plan/connector-actions.ts)", () => {
    let stacks: StackObjects[];
    before(() => {
        stacks = SHIPPED_STACKS.map((s) => renderStack(s));
    });

    it("spells the restart annotation the way Strimzi 1.2 parses it (KIP-745 switches)", () => {
        // The values Strimzi's KafkaConnectAssemblyOperator tests accept as a restart with those switches.
        expect(restartAnnotationValue(false, false)).to.equal("true");
        expect(restartAnnotationValue(true, false)).to.equal("includeTasks");
        expect(restartAnnotationValue(false, true)).to.equal("onlyFailed");
        expect(restartAnnotationValue(true, true)).to.equal("includeTasks,onlyFailed");
    });

    it("every action on every connector of the shipped stacks yields a KafkaConnector valid against Strimzi 1.2's CRD, strictly", () => {
        let checked = 0;
        for (const stack of stacks) {
            for (const { body } of stack.connectors) {
                for (const action of ACTIONS) {
                    const plan = strimziConnectorAction(body, action);
                    expect(plan.connector).to.equal(body.metadata.name);
                    expect(plan.namespace).to.equal(stack.namespace);
                    expect(
                        validateManifest(applyActionPlan(body, plan) as never),
                        `${body.metadata.name} ${JSON.stringify(action)}`,
                    ).to.deep.equal([]);
                    if (plan.configMap) expect(validateManifest(plan.configMap as never)).to.deep.equal([]);
                    checked++;
                }
            }
        }
        expect(checked).to.equal(ACTIONS.length * stacks.reduce((n, s) => n + s.connectors.length, 0));
    });

    it("every field an action sets, except spec.state, is one `pulumi up` leaves alone, so an update never undoes an action in flight", () => {
        // spec.state is declared by the stack on purpose: `pulumi up` restoring it is documented in docs/ops.md.
        const body = stacks[0].connectors[0].body;
        const touched = new Set<string>();
        for (const action of ACTIONS) {
            const plan = strimziConnectorAction(body, action);
            for (const a of Object.keys(plan.annotations)) touched.add(`metadata.annotations["${a}"]`);
            for (const field of Object.keys(plan.spec)) if (field !== "state") touched.add(`spec.${field}`);
        }
        expect([...touched].sort()).to.deep.equal([...OPERATOR_OWNED_PATHS].sort());
    });

    it("the schema check is not vacuous: a state the CRD does not know and a misspelt offsets field fail it", () => {
        const body = stacks[0].connectors[0].body;
        const plan = strimziConnectorAction(body, { kind: "state", state: "stopped" });
        expect(validateManifest({ ...applyActionPlan(body, plan), spec: { ...body.spec, state: "stop" } } as never).join()).to.match(
            /state/,
        );
        const list = strimziConnectorAction(body, { kind: "offsets-list" });
        const typo = { ...applyActionPlan(body, list), spec: { ...body.spec, listOffset: list.spec.listOffsets } };
        expect(validateManifest(typo as never).join()).to.match(/listOffset is not declared/);
    });

    it("offsets list and alter name one ConfigMap per connector, under the key Strimzi reads and writes", () => {
        const body = stacks[0].connectors.find((c) => c.rendered.role === "sink")!.body;
        const list = strimziConnectorAction(body, { kind: "offsets-list" });
        const alter = strimziConnectorAction(body, { kind: "offsets-alter", offsets: SINK_OFFSETS });
        expect(list.spec).to.deep.equal({ listOffsets: { toConfigMap: { name: `${body.metadata.name}-offsets` } } });
        expect(alter.spec).to.deep.equal({ alterOffsets: { fromConfigMap: { name: `${body.metadata.name}-offsets` } } });
        expect(list.result).to.deep.equal({ configMap: `${body.metadata.name}-offsets`, key: "offsets.json" });
        expect(JSON.parse(alter.configMap!.data[OFFSETS_CONFIGMAP_KEY])).to.deep.equal(SINK_OFFSETS);
        expect(alter.configMap!.metadata.namespace).to.equal(body.metadata.namespace);
        expect([list.annotations, alter.annotations]).to.deep.equal([
            { "strimzi.io/connector-offsets": "list" },
            { "strimzi.io/connector-offsets": "alter" },
        ]);
        expect([
            list.requiresStopped,
            alter.requiresStopped,
            strimziConnectorAction(body, { kind: "offsets-reset" }).requiresStopped,
        ]).to.deep.equal([false, true, true]);
    });

    it("refuses a task id the connector does not have", () => {
        const body = stacks[0].connectors[0].body;
        expect(() => strimziConnectorAction(body, { kind: "restart-task", task: body.spec.tasksMax })).to.throw(
            `connector ${body.metadata.name} has tasks 0..${body.spec.tasksMax - 1} (spec.tasksMax ${body.spec.tasksMax}); there is no task ${body.spec.tasksMax}`,
        );
        expect(() => strimziConnectorAction(body, { kind: "restart-task", task: -1 })).to.throw(/there is no task -1/);
    });

    it("the printed kubectl commands pass the runbook checker against the objects each shipped stack renders", () => {
        for (const stack of stacks) {
            for (const { body } of stack.connectors) {
                const script = (action: ConnectorAction) => kubectlScript(strimziConnectorAction(body, action));
                const steps = [
                    script({ kind: "restart", includeTasks: true, onlyFailed: true }),
                    script({ kind: "restart-task", task: 0 }),
                    script({ kind: "state", state: "paused" }),
                    script({ kind: "state", state: "stopped" }),
                    script({ kind: "offsets-reset" }),
                    script({ kind: "state", state: "running" }),
                ].join("\n");
                expect(checkRunbooks(sh(steps), [stack]), `${stack.stack} ${body.metadata.name}`).to.deep.equal([]);
            }
        }
    });

    it("the checker sees a reset that the printed order would send to a running connector", () => {
        const stack = stacks[0];
        const body = stack.connectors[0].body;
        const reset = kubectlScript(strimziConnectorAction(body, { kind: "offsets-reset" }));
        expect(checkRunbooks(sh(reset), [stack]).join()).to.match(/needs the connector stopped first/);
    });

    it("quotes the merge patch and the heredoc so a shell passes them unchanged", () => {
        const body = stacks[0].connectors[0].body;
        const ns = body.metadata.namespace;
        const name = body.metadata.name;
        expect(kubectlScript(strimziConnectorAction(body, { kind: "state", state: "stopped" }))).to.equal(
            `kubectl -n ${ns} patch kafkaconnector ${name} --type merge -p '{"spec":{"state":"stopped"}}'`,
        );
        const alter = kubectlScript(strimziConnectorAction(body, { kind: "offsets-alter", offsets: SOURCE_OFFSETS })).split("\n");
        expect(alter[0]).to.equal(`kubectl -n ${ns} apply -f - <<'EOF'`);
        const end = alter.indexOf("EOF");
        expect(JSON.parse(alter.slice(1, end).join("\n")).data["offsets.json"]).to.equal(JSON.stringify(SOURCE_OFFSETS, null, 2));
        expect(alter.slice(end + 1)).to.deep.equal([
            `kubectl -n ${ns} patch kafkaconnector ${name} --type merge -p '{"spec":{"alterOffsets":{"fromConfigMap":{"name":"${name}-offsets"}}}}'`,
            `kubectl -n ${ns} annotate kafkaconnector ${name} strimzi.io/connector-offsets=alter --overwrite`,
        ]);
    });

    describe("offsets bodies", () => {
        it("accepts what Connect's GET /offsets returns for a source and for a sink, and a null offset (remove)", () => {
            expect(parseConnectorOffsets(JSON.stringify(SOURCE_OFFSETS), "source")).to.deep.equal(SOURCE_OFFSETS);
            expect(parseConnectorOffsets(JSON.stringify(SINK_OFFSETS), "sink")).to.deep.equal(SINK_OFFSETS);
            const removal = { offsets: [{ partition: { kafka_topic: "t", kafka_partition: 1 }, offset: null }] };
            expect(parseConnectorOffsets(JSON.stringify(removal), "sink")).to.deep.equal(removal);
        });

        it("names each mistake with its path", () => {
            expect(() => parseConnectorOffsets("{", "sink", "file.json")).to.throw(/^file.json: not JSON/);
            expect(() => parseConnectorOffsets("[]", "sink")).to.throw(/expected \{"offsets"/);
            expect(() => parseConnectorOffsets('{"offsets":[]}', "source")).to.throw(
                /offsets is empty: nothing to alter \(to clear every offset, use reset\)/,
            );
            const bad = {
                offsets: [
                    { partition: { kafka_topic: "", kafka_partition: -1 }, offset: { kafka_offset: 1.5 } },
                    { partition: {}, offset: 3 },
                ],
            };
            expect(() => parseConnectorOffsets(JSON.stringify(bad), "sink")).to.throw(
                [
                    "offsets.offsets[0].partition.kafka_topic must be a topic name",
                    "offsets.offsets[0].partition.kafka_partition must be a partition number",
                    "offsets.offsets[0].offset.kafka_offset must be a non-negative whole number",
                    "offsets.offsets[1].offset must be an object, or null to remove it",
                ].join("\n"),
            );
            expect(() => parseConnectorOffsets('{"offsets":[{"partition":{},"offset":{"lsn":1}}]}', "source")).to.throw(
                "offsets.offsets[0].partition is empty; copy it from `offsets list`",
            );
        });
    });
});

/**
 * The commands in strimzi mode, against the shipped prod stack file. No cluster exists here: without
 * `--apply` they only print; with it, a recording `kubectl` on the command's PATH answers as the API
 * server would for these calls, so what is tested is the CLI's order of calls, its refusals and what it
 * reads back, not Strimzi.
 */
describe("cdc connector actions in strimzi mode", () => {
    let dir: string;
    let log: string;
    const env = (state: string, extra: NodeJS.ProcessEnv = {}) => ({
        ...process.env,
        PATH: `${dir}${path.delimiter}${process.env.PATH}`,
        FAKE_KUBECTL_LOG: log,
        FAKE_STATE: state,
        ...extra,
    });
    const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []);

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-kubectl-"));
        log = path.join(dir, "calls.log");
        fs.writeFileSync(
            path.join(dir, "kubectl"),
            [
                "#!/bin/sh",
                'printf "%s\\n" "$*" >> "$FAKE_KUBECTL_LOG"',
                'case "$*" in',
                `  *"get kafkaconnector"*) printf '{"metadata":{"annotations":{}},"spec":{"state":"%s"}}' "$FAKE_STATE" ;;`,
                `  *"get configmap"*) printf '%s' '{"data":{"offsets.json":"{\\"offsets\\":[{\\"partition\\":{\\"server\\":\\"sqlserver\\"},\\"offset\\":{\\"commit_lsn\\":\\"0000002a:00000150:0003\\"}}]}"}}' ;;`,
                '  *"apply -f -"*) sed "s/^/stdin: /" >> "$FAKE_KUBECTL_LOG" ;;',
                "esac",
            ].join("\n") + "\n",
            { mode: 0o755 },
        );
    });
    beforeEach(() => fs.rmSync(log, { force: true }));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("prints the annotation and how to see Strimzi act on it, and changes nothing", async () => {
        const { code, stdout } = await cdc(
            ["restart", "postgresql-jdbc-sink", "--only-failed", "--stack", "prod", "--json"],
            env("running"),
        );
        expect(code).to.equal(0);
        const result = JSON.parse(stdout) as ActionResult;
        expect(result).to.deep.include({ mode: "strimzi", applied: false, action: "restart with tasks, only failed" });
        expect(result.plan!.annotations).to.deep.equal({ "strimzi.io/restart": "includeTasks,onlyFailed" });
        expect(result.script).to.equal(
            "kubectl -n cdc annotate kafkaconnector postgresql-jdbc-sink strimzi.io/restart=includeTasks,onlyFailed --overwrite",
        );
        expect(calls()).to.deep.equal([]);
        const human = await cdc(["stop", "postgresql-jdbc-sink", "--stack", "prod"], env("running"));
        expect(human.stdout).to.include(
            `kubectl -n cdc patch kafkaconnector postgresql-jdbc-sink --type merge -p '{"spec":{"state":"stopped"}}'`,
        );
        expect(human.stdout).to.include("note: the stack declares state: running; a later pulumi up sets it back");
    });

    it("--apply refuses offsets reset unless the KafkaConnector is stopped, before changing anything", async () => {
        const refused = await cdc(["offsets", "reset", "sqlserver-cdc-source", "--stack", "prod", "--apply"], env("running"));
        expect(refused.code).to.equal(1);
        expect(refused.stderr).to.include(
            "KafkaConnector sqlserver-cdc-source has spec.state running; stop it first (cdc stop sqlserver-cdc-source)",
        );
        expect(calls()).to.deep.equal(["-n cdc get kafkaconnector sqlserver-cdc-source -o json"]);

        fs.rmSync(log);
        const done = await cdc(["offsets", "reset", "sqlserver-cdc-source", "--stack", "prod", "--apply"], env("stopped"));
        expect(done.code, done.stderr).to.equal(0);
        expect(calls()).to.deep.equal([
            "-n cdc get kafkaconnector sqlserver-cdc-source -o json",
            "-n cdc annotate kafkaconnector sqlserver-cdc-source strimzi.io/connector-offsets=reset --overwrite",
            "-n cdc get kafkaconnector sqlserver-cdc-source -o json",
        ]);
    });

    it("--apply alters offsets in Strimzi's order: the ConfigMap, then spec.alterOffsets, then the annotation", async () => {
        const file = path.join(dir, "offsets.json");
        fs.writeFileSync(
            file,
            JSON.stringify({
                offsets: [{ partition: { kafka_topic: "sqlserver.SalesDB.dbo.orders", kafka_partition: 0 }, offset: { kafka_offset: 7 } }],
            }),
        );
        const { code, stderr } = await cdc(
            ["offsets", "alter", "postgresql-jdbc-sink", "--file", file, "--stack", "prod", "--apply"],
            env("stopped"),
        );
        expect(code, stderr).to.equal(0);
        const seen = calls();
        const verbs = seen.filter((l) => !l.startsWith("stdin: ")).map((l) => l.split(" ").slice(2, 4).join(" "));
        expect(verbs).to.deep.equal([
            "get kafkaconnector",
            "apply -f",
            "patch kafkaconnector",
            "annotate kafkaconnector",
            "get kafkaconnector",
        ]);
        const configMap = JSON.parse(
            seen
                .filter((l) => l.startsWith("stdin: "))
                .map((l) => l.slice(7))
                .join("\n"),
        );
        expect(validateManifest(configMap)).to.deep.equal([]);
        expect(JSON.parse(configMap.data["offsets.json"]).offsets[0].offset).to.deep.equal({ kafka_offset: 7 });
    });

    it("--apply lists offsets and reads them back from the ConfigMap Strimzi wrote", async () => {
        const { code, stdout, stderr } = await cdc(
            ["offsets", "list", "sqlserver-cdc-source", "--stack", "prod", "--apply", "--json"],
            env("running"),
        );
        expect(code, stderr).to.equal(0);
        expect((JSON.parse(stdout) as ActionResult).offsets).to.deep.equal([
            { partition: { server: "sqlserver" }, offset: { commit_lsn: "0000002a:00000150:0003" } },
        ]);
        expect(calls().slice(-1)).to.deep.equal(["-n cdc get configmap sqlserver-cdc-source-offsets -o json"]);
    });

    it("names what is wrong on the command line, and a missing kubectl, with their exit codes", async () => {
        const unknown = await cdc(["pause", "shop-postgres-sink", "--stack", "prod"], env("running"));
        expect(unknown.code).to.equal(2);
        expect(unknown.stderr).to.include(
            "shop-postgres-sink is not a connector of stack prod (sqlserver-cdc-source, postgresql-jdbc-sink)",
        );
        const both = await cdc(["restart", "sqlserver-cdc-source", "--task", "0", "--only-failed", "--stack", "prod"], env("running"));
        expect(both.code).to.equal(2);
        const task = await cdc(["restart", "sqlserver-cdc-source", "--task", "3", "--stack", "prod"], env("running"));
        expect(task.code).to.equal(2);
        expect(task.stderr).to.match(/has tasks 0\.\.0 \(tasksMax 1\); there is no task 3/);
        const noFile = await cdc(["offsets", "alter", "postgresql-jdbc-sink", "--stack", "prod"], env("stopped"));
        expect([noFile.code, noFile.stderr.split(";")[0]]).to.deep.equal([2, "cdc offsets alter: --file <offsets.json> is required"]);
        const bad = path.join(dir, "bad.json");
        fs.writeFileSync(bad, JSON.stringify({ offsets: [{ partition: { kafka_topic: "t" }, offset: { kafka_offset: 1 } }] }));
        const badFile = await cdc(["offsets", "alter", "postgresql-jdbc-sink", "--file", bad, "--stack", "prod"], env("stopped"));
        expect(badFile.code).to.equal(2);
        expect(badFile.stderr).to.include(`${bad}.offsets[0].partition.kafka_partition must be a partition number`);
        const noKubectl = await cdc(["stop", "postgresql-jdbc-sink", "--stack", "prod", "--apply"], {
            ...env("running"),
            PATH: "/nonexistent",
        });
        expect(noKubectl.code).to.equal(3);
        expect(noKubectl.stderr).to.include("kubectl at PATH is unreachable: not installed");
    });
});
