import { expect } from "chai";
import {
    applyActionPlan,
    ConnectorAction,
    kubectlScript,
    OFFSETS_CONFIGMAP_KEY,
    parseConnectorOffsets,
    restartAnnotationValue,
    strimziConnectorAction,
} from "../plan/connector-actions";
import { validateManifest } from "./helpers/k8s-schemas";
import { checkRunbooks } from "./helpers/runbook-check";
import { renderStack, StackObjects } from "./helpers/stack-objects";
import { SHIPPED_STACKS } from "./helpers/stack-files";

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
