/**
 * docs/deploy.md walks through the shipped prod stack with its real names. Those names are checked here
 * against what that stack renders, so a rename in the stack cannot leave the walkthrough pointing at
 * objects that do not exist: every kubectl command's namespace, kinds, names and wait conditions, the
 * example KafkaUsers (valid Strimzi 1.2 objects whose ACLs cover every topic the stack creates), the
 * SQL Server capture instances, the PostgreSQL slot naming and the Vault paths of the teardown.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { parseStackSpec } from "../config/resolve";
import { defaultPublicationName, defaultSlotName, captureInstanceName, dbSecretPath } from "../plan/naming";
import { planTopics } from "../plan/topics";
import { planVaultSecrets } from "../plan/vault";
import { validateManifest } from "./helpers/k8s-schemas";
import { runProgram } from "./helpers/program";
import { rawProjectConfig, REPO_ROOT, stackConfig } from "./helpers/stack-files";

const DOC = fs.readFileSync(path.join(REPO_ROOT, "docs", "deploy.md"), "utf8");
const spec = parseStackSpec(rawProjectConfig("prod")).spec;

function fenced(language: string): string[] {
    return [...DOC.matchAll(new RegExp("^( *)```" + language + "\\n([\\s\\S]*?)^\\1```", "gm"))].map((m) =>
        m[2]
            .split("\n")
            .map((line) => line.slice(m[1].length))
            .join("\n"),
    );
}

/** Shell words of one command: quotes grouped and removed, enough for kubectl's arguments. */
function words(command: string): string[] {
    return [...command.matchAll(/(?:'[^']*'|"[^"]*"|[^\s'"])+/g)].map((m) => m[0].replace(/'([^']*)'|"([^"]*)"/g, "$1$2"));
}

/** Every kubectl invocation in the sh blocks, including those inside `$(…)`, up to a pipe or the end of the substitution. */
function kubectlCommands(): string[][] {
    return fenced("sh").flatMap((block) => [...block.matchAll(/kubectl\s((?:'[^']*'|"[^"]*"|[^|)\n'"])+)/g)].map((m) => words(m[1])));
}

const ALIASES: Record<string, string> = {
    kafkaaccess: "KafkaAccess",
    kafkaconnect: "KafkaConnect",
    kafkaconnector: "KafkaConnector",
    kafkaconnectors: "KafkaConnector",
    vaultstaticsecret: "VaultStaticSecret",
    vaultstaticsecrets: "VaultStaticSecret",
    secret: "Secret",
    cronjob: "CronJob",
    deployment: "Deployment",
};

const CONDITIONS: Record<string, string[]> = {
    KafkaAccess: ["Ready"],
    KafkaConnect: ["Ready"],
    KafkaConnector: ["Ready"],
    VaultStaticSecret: ["SecretSynced", "Healthy", "Ready"],
};

describe("docs/deploy.md against the shipped prod stack", () => {
    let rendered: Map<string, Set<string>>;

    before(async () => {
        const { mocks } = await runProgram("prod", false);
        rendered = new Map();
        for (const r of mocks.registrations) {
            const kind = r.inputs.kind ?? r.type.split(":").pop();
            const name = r.inputs.metadata?.name;
            if (typeof name === "string") rendered.set(kind, new Set([...(rendered.get(kind) ?? []), name]));
        }
        // Secrets the stack's objects make others write: the operator's destinations and the KafkaAccess binding.
        rendered.set("Secret", new Set([...(rendered.get("VaultStaticSecret") ?? []), ...(rendered.get("KafkaAccess") ?? [])]));
    });

    it("runs every kubectl command against an object the stack renders, or one the stack file names, in the right namespace", () => {
        const commands = kubectlCommands();
        expect(commands.length).to.be.greaterThan(15);
        const platformSecrets = [spec.connect.pushSecret, spec.connect.databaseCaSecret, spec.vault.caCertSecret];
        const kafkaSecrets = [`${spec.kafka.clusterName}-cluster-ca-cert`, stackConfig("prod")["kafka:saslUsername"]];
        for (const args of commands) {
            const text = `kubectl ${args.join(" ")}`;
            expect(args[0], text).to.equal("-n");
            const [namespace, verb, ...rest] = args.slice(1);
            const positional = rest.filter((w, i) => !w.startsWith("-") && !rest[i - 1]?.match(/^-(o|l)$/));
            if (verb === "create" && positional[0] === "secret") {
                expect(namespace, text).to.equal(spec.namespace);
                expect(platformSecrets, text).to.include(positional[2]);
                continue;
            }
            expect(["get", "wait", "annotate"], text).to.include(verb);
            // `kind name…` or `kind/name…`; `key=value` words are annotations.
            const objects = positional.filter((word) => !word.includes("="));
            const targets = objects.flatMap((word, i) => {
                if (word.includes("/")) return [word.split("/") as [string, string]];
                if (i === 0) return objects.length === 1 ? [[word, ""] as [string, string]] : [];
                return [[objects[0], word] as [string, string]];
            });
            expect(targets, text).to.not.be.empty;
            for (const [alias, name] of targets) {
                const kind = ALIASES[alias];
                expect(kind, `${text}: kind ${alias}`).to.be.a("string");
                if (namespace === spec.kafka.namespace) {
                    expect([kind, kafkaSecrets.includes(name)], text).to.deep.equal(["Secret", true]);
                    continue;
                }
                expect(namespace, text).to.equal(spec.namespace);
                if (name) expect([...(rendered.get(kind) ?? [])], `${text}: ${kind} ${name}`).to.include(name);
                if (verb === "wait") {
                    const condition = /--for=condition=(\w+)/.exec(text)?.[1];
                    expect(CONDITIONS[kind], text).to.include(condition);
                    expect(text).to.match(/--timeout=\d+m/);
                }
                if (verb === "annotate") expect([kind, text.includes("strimzi.io/connector-offsets=reset")], text).to.deep.equal(["KafkaConnector", true]);
            }
        }
    });

    it("shows example KafkaUsers that are valid Strimzi 1.2 objects, named as the stack expects, whose ACLs cover every topic it creates", () => {
        const users = fenced("yaml").flatMap((block) => parseAllDocuments(block).map((d) => d.toJS()));
        expect(users.map((u) => u.metadata.name)).to.deep.equal([spec.kafka.scramUser, stackConfig("prod")["kafka:saslUsername"], spec.lakehouse!.scramUser]);
        const topics = planTopics(spec);
        const granted = (user: any, topic: string): string[] =>
            user.spec.authorization.acls
                .filter((acl: any) => acl.resource.type === "topic" && (acl.resource.patternType === "prefix" ? topic.startsWith(acl.resource.name) : topic === acl.resource.name))
                .flatMap((acl: any) => acl.operations);
        const inGroup = (user: any, group: string): boolean =>
            user.spec.authorization.acls.some(
                (acl: any) => acl.resource.type === "group" && (acl.resource.patternType === "prefix" ? group.startsWith(acl.resource.name) : group === acl.resource.name),
            );
        for (const user of users) {
            expect(validateManifest(user), user.metadata.name).to.deep.equal([]);
            expect(user.metadata).to.deep.include({ namespace: spec.kafka.namespace, labels: { "strimzi.io/cluster": spec.kafka.clusterName } });
        }
        const [connect, admin, lakehouse] = users;
        for (const topic of topics.map((t) => t.name)) {
            expect(granted(connect, topic), `${connect.metadata.name} on ${topic}`).to.include.members(["Describe"]);
            expect(granted(admin, topic), `${admin.metadata.name} on ${topic}`).to.include.members(["Create", "DescribeConfigs", "AlterConfigs"]);
        }
        for (const group of [spec.connect.name, ...spec.pipelines.map((p) => `connect-${p.sink.connectorName}`)]) expect(inGroup(connect, group), group).to.equal(true);
        // The writer reads what its destinations are written from, writes its dead letter topic, and reports under lakehouse-<pipeline>.
        for (const p of spec.pipelines.filter((x) => x.lakehouse)) {
            for (const d of p.destinations) expect(granted(lakehouse, d.topic), `${lakehouse.metadata.name} on ${d.topic}`).to.include.members(["Read", "Describe"]);
            expect(granted(lakehouse, p.lakehouse!.deadLetterTopic), p.lakehouse!.deadLetterTopic).to.include.members(["Write", "Describe"]);
            expect(inGroup(lakehouse, `lakehouse-${p.name}`)).to.equal(true);
        }
        // …and nothing of Connect's: its internal topics, the sink's dead letter topic.
        for (const topic of topics.filter((t) => t.role.startsWith("connect-") || t.role === "dlq")) expect(granted(lakehouse, topic.name), topic.name).to.deep.equal([]);
    });

    it("disables CDC on exactly the capture instances the stack enables, and drops slots and publications by the default names", () => {
        const sql = fenced("sql").join("\n");
        const disabled = [...sql.matchAll(/@source_schema = N'(\w+)', @source_name = N'(\w+)', @capture_instance = N'(\w+)'/g)].map((m) => m.slice(1));
        const source = spec.pipelines[0].source;
        expect(disabled).to.deep.equal(source.tables.map((t) => [t.schema, t.table, captureInstanceName(t)]));
        const slot = /pg_drop_replication_slot\('(\w+)'\)/.exec(sql)?.[1];
        const publication = /DROP PUBLICATION (\w+);/.exec(sql)?.[1];
        expect([slot, publication]).to.deep.equal([defaultSlotName("crm-postgres-source"), defaultPublicationName("crm-postgres-source")]);
    });

    it("purges exactly the Vault secrets the stack writes", () => {
        const purged = fenced("sh").flatMap((block) => [...block.matchAll(/vault kv metadata delete -mount=(\S+) (\S+)/g)].map((m) => `${m[1]}/${m[2]}`));
        expect(purged).to.deep.equal(planVaultSecrets(spec).map((s) => `${spec.vault.kvMount}/${s.path}`));
        expect(purged).to.include(`secret/${dbSecretPath(spec.pipelines[0], "source")}`);
    });
});
