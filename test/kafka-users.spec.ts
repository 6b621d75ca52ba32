/**
 * The KafkaUsers the stack owns (plan/kafka-users.ts): valid Strimzi 1.2 objects in the Kafka cluster's namespace,
 * with ACLs that cover every topic and group each client uses and nothing of another client's.
 */
import { expect } from "chai";
import { parseStackSpec } from "../plan/stack-spec";
import type { StackSpec } from "../model/spec";
import { renderConnectors } from "../connectors/render";
import { clusterConnectorContext, workerConfig } from "../plan/connect-cluster";
import { connectAcls, connectKafkaUserBody, KafkaAcl, lakehouseAcls, lakehouseKafkaUserBody } from "../plan/kafka-users";
import { lakehousePipelines, writerConfigFile } from "../plan/lakehouse";
import { planTopics, TopicSpec } from "../plan/topics";
import { validateManifest } from "./helpers/k8s-schemas";
import { rawProjectConfig } from "./helpers/stack-files";

type Raw = Record<string, any>;

/** The dev stack as a team whose dev cluster authenticates would run it. */
function devWithScram(): StackSpec {
    const raw = structuredClone(rawProjectConfig("dev")) as Raw;
    Object.assign(raw.kafka, { authentication: "scram-sha-512", listener: "plain" });
    return parseStackSpec(raw).spec;
}

const prod = parseStackSpec(rawProjectConfig("prod")).spec;

/** What an ACL list grants on a topic or group, as Kafka's authorizer matches literal and prefixed patterns. */
function granted(acls: KafkaAcl[], type: "topic" | "group", name: string): string[] {
    return acls
        .filter(
            (a) =>
                a.resource.type === type &&
                (a.resource.patternType === "prefix" ? name.startsWith(a.resource.name) : name === a.resource.name),
        )
        .flatMap((a) => a.operations);
}

const roles = (topics: TopicSpec[], ...wanted: TopicSpec["role"][]) => topics.filter((t) => wanted.includes(t.role));

describe("the stack's own KafkaUsers", () => {
    for (const [title, spec] of [
        ["prod", prod],
        ["dev with SCRAM", devWithScram()],
    ] as const) {
        describe(title, () => {
            const topics = planTopics(spec);
            const users = [connectKafkaUserBody(spec)!, ...lakehousePipelines(spec).map((p) => lakehouseKafkaUserBody(spec, p)!)];

            it("are valid Strimzi 1.2 KafkaUsers in the Kafka cluster's namespace, labelled for its User Operator", () => {
                for (const user of users) {
                    expect(validateManifest(user as any), user.metadata.name).to.deep.equal([]);
                    expect(user.metadata).to.deep.include({ namespace: spec.kafka.namespace });
                    expect(user.metadata.labels["strimzi.io/cluster"]).to.equal(spec.kafka.clusterName);
                    expect(user.spec.authentication).to.deep.equal({ type: "scram-sha-512" });
                }
            });

            it("never grant a whole topic or group namespace: no *, no empty prefix, no cluster or transactional id", () => {
                for (const user of users) {
                    for (const acl of user.spec.authorization.acls) {
                        expect(acl.resource.name, `${user.metadata.name} ${JSON.stringify(acl)}`).to.not.be.oneOf(["*", ""]);
                        expect(["topic", "group"]).to.include(acl.resource.type);
                    }
                }
            });

            it("let Connect use every topic and group its workers and connectors use", () => {
                const acls = connectAcls(spec);
                for (const t of roles(topics, "connect-configs", "connect-offsets", "connect-status")) {
                    expect(granted(acls, "topic", t.name), t.name).to.include.members(["Read", "Write", "Describe", "DescribeConfigs"]);
                }
                for (const t of roles(topics, "data", "schema-history"))
                    expect(granted(acls, "topic", t.name), t.name).to.include.members(["Read", "Write", "Describe"]);
                for (const t of roles(topics, "schema-history"))
                    expect(granted(acls, "topic", t.name), t.name).to.include("DescribeConfigs");
                for (const t of roles(topics, "schema-changes", "heartbeat", "dlq"))
                    expect(granted(acls, "topic", t.name), t.name).to.include.members(["Write", "Describe"]);
                const connectors = renderConnectors(spec, clusterConnectorContext(spec));
                const groups = [
                    spec.connect.name,
                    ...connectors.filter((c) => c.role === "sink").map((c) => `connect-${c.name}`),
                    // Debezium's schema history consumer: schema.history.internal.name defaults to <topic.prefix>-schemahistory.
                    ...connectors
                        .filter((c) => c.config["schema.history.internal.kafka.topic"])
                        .map((c) => `${c.config["topic.prefix"]}-schemahistory`),
                ];
                // Debezium's Kafka signal channel commits to signal.kafka.groupId.
                groups.push(...connectors.filter((c) => c.config["signal.kafka.groupId"]).map((c) => c.config["signal.kafka.groupId"]));
                expect(groups.filter((g) => g.endsWith("-signal"))).to.have.length(connectors.filter((c) => c.role === "source").length);
                for (const group of groups) expect(granted(acls, "group", group), group).to.deep.equal(["Read"]);
                // Each source reads its signal topic and writes its notification topic, the topics its own config names.
                for (const c of connectors.filter((c) => c.role === "source")) {
                    expect(granted(acls, "topic", c.config["signal.kafka.topic"]), c.name).to.include.members(["Read", "Describe"]);
                    expect(granted(acls, "topic", c.config["notification.sink.topic.name"]), c.name).to.include.members([
                        "Write",
                        "Describe",
                    ]);
                }
                // cdc snapshot, run with Connect's identity, writes signals and reads notifications.
                for (const t of roles(topics, "signal")) expect(granted(acls, "topic", t.name), t.name).to.include("Write");
                for (const t of roles(topics, "notification")) expect(granted(acls, "topic", t.name), t.name).to.include("Read");
                // docs/runbooks.md reads dead letters with kafka-console-consumer.sh and Connect's identity.
                for (const t of roles(topics, "dlq")) expect(granted(acls, "topic", t.name), t.name).to.include("Read");
                expect(granted(acls, "group", "console-consumer-12345")).to.deep.equal(["Read"]);
            });

            it("give Connect nothing of the lakehouse writers' and no transactional id, since exactly-once source support is off", () => {
                const acls = connectAcls(spec);
                for (const t of roles(topics, "lakehouse-dlq")) expect(granted(acls, "topic", t.name), t.name).to.deep.equal([]);
                for (const p of lakehousePipelines(spec)) expect(granted(acls, "group", `lakehouse-${p.name}`)).to.deep.equal([]);
                // Enabling it makes the workers and source tasks transactional producers: their ids would need ACLs here.
                expect(workerConfig(spec)).to.not.have.property("exactly.once.source.support");
            });

            it("let each writer read exactly its destinations' topics, write its dead letter topic and commit in the group its file names", () => {
                for (const p of lakehousePipelines(spec)) {
                    const acls = lakehouseAcls(spec, p);
                    const reads = new Set(p.destinations.map((d) => d.topic));
                    for (const t of topics) {
                        const expected = reads.has(t.name)
                            ? ["Read", "Describe"]
                            : t.name === p.lakehouse!.deadLetterTopic
                              ? ["Write", "Describe"]
                              : [];
                        expect(granted(acls, "topic", t.name), `${p.name} on ${t.name}`).to.deep.equal(expected);
                    }
                    const group = writerConfigFile(spec, p).pipelines[0].consumer_group;
                    expect(acls.filter((a) => a.resource.type === "group")).to.deep.equal([
                        { resource: { type: "group", name: group, patternType: "literal" }, operations: ["Read"] },
                    ]);
                }
            });
        });
    }

    it("is absent where Kafka has no authentication (the dev stack): ACLs would name a principal nobody is", () => {
        const dev = parseStackSpec(rawProjectConfig("dev")).spec;
        expect(connectKafkaUserBody(dev)).to.equal(undefined);
        for (const p of lakehousePipelines(dev)) expect(lakehouseKafkaUserBody(dev, p)).to.equal(undefined);
    });

    it("is one per writer, so a writer's credential reads no other pipeline's topics", () => {
        const spec = devWithScram();
        const [shop, inventory] = lakehousePipelines(spec);
        expect(lakehouseKafkaUserBody(spec, shop)!.metadata.name).to.equal("cdc-lakehouse-shop");
        for (const d of inventory.destinations) expect(granted(lakehouseAcls(spec, shop), "topic", d.topic)).to.deep.equal([]);
    });
});
