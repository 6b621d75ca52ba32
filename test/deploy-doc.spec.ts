/**
 * docs/deploy.md walks through the shipped prod stack with its real names. Those names are checked here
 * against what that stack renders, so a rename in the stack cannot leave the walkthrough pointing at
 * objects that do not exist: every kubectl command's namespace, kinds, names and wait conditions, the
 * KafkaUsers (the provider's example, valid and covering every topic the stack creates, and the ones the stack
 * creates, exactly as it renders them), the
 * SQL Server capture instances, the PostgreSQL slot naming and the Vault paths of the teardown.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { parseStackSpec } from "../plan/stack-spec";
import { defaultPublicationName, defaultSlotName, captureInstanceName, dbSecretPath } from "../model/naming";
import { connectKafkaUserBody, lakehouseKafkaUserBody } from "../plan/kafka-users";
import { lakehousePipelines } from "../plan/lakehouse";
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
    kafkauser: "KafkaUser",
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
    KafkaUser: ["Ready"],
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
                if (namespace === spec.kafka.namespace && kind === "Secret") {
                    expect(kafkaSecrets, text).to.include(name);
                    continue;
                }
                expect(namespace, text).to.equal(kind === "KafkaUser" ? spec.kafka.namespace : spec.namespace);
                if (name) expect([...(rendered.get(kind) ?? [])], `${text}: ${kind} ${name}`).to.include(name);
                if (verb === "wait") {
                    const condition = /--for=condition=(\w+)/.exec(text)?.[1];
                    expect(CONDITIONS[kind], text).to.include(condition);
                    expect(text).to.match(/--timeout=\d+m/);
                }
                if (verb === "annotate")
                    expect([kind, text.includes("strimzi.io/connector-offsets=reset")], text).to.deep.equal(["KafkaConnector", true]);
            }
        }
    });

    it("shows the provider's KafkaUser as a valid Strimzi 1.2 object whose ACLs let it create and configure every topic", () => {
        const [admin] = fenced("yaml").flatMap((block) => parseAllDocuments(block).map((d) => d.toJS()));
        expect(admin.metadata).to.deep.equal({
            name: stackConfig("prod")["kafka:saslUsername"],
            namespace: spec.kafka.namespace,
            labels: { "strimzi.io/cluster": spec.kafka.clusterName },
        });
        expect(validateManifest(admin)).to.deep.equal([]);
        for (const topic of planTopics(spec).map((t) => t.name)) {
            const granted = admin.spec.authorization.acls
                .filter(
                    (acl: any) =>
                        acl.resource.type === "topic" &&
                        (acl.resource.patternType === "prefix" ? topic.startsWith(acl.resource.name) : topic === acl.resource.name),
                )
                .flatMap((acl: any) => acl.operations);
            expect(granted, topic).to.include.members(["Create", "DescribeConfigs", "AlterConfigs"]);
        }
    });

    it("shows the KafkaUsers the stack creates exactly as it renders them", () => {
        const [, ...created] = fenced("yaml").flatMap((block) => parseAllDocuments(block).map((d) => d.toJS()));
        expect(created).to.deep.equal([
            connectKafkaUserBody(spec),
            ...lakehousePipelines(spec).map((p) => lakehouseKafkaUserBody(spec, p)),
        ]);
    });

    it("disables CDC on exactly the capture instances the stack enables, and drops slots and publications by the default names", () => {
        const sql = fenced("sql").join("\n");
        const disabled = [...sql.matchAll(/@source_schema = N'(\w+)', @source_name = N'(\w+)', @capture_instance = N'(\w+)'/g)].map((m) =>
            m.slice(1),
        );
        const source = spec.pipelines[0].source;
        expect(disabled).to.deep.equal(source.tables.map((t) => [t.schema, t.table, captureInstanceName(t)]));
        const slot = /pg_drop_replication_slot\('(\w+)'\)/.exec(sql)?.[1];
        const publication = /DROP PUBLICATION (\w+);/.exec(sql)?.[1];
        expect([slot, publication]).to.deep.equal([defaultSlotName("crm-postgres-source"), defaultPublicationName("crm-postgres-source")]);
    });

    it("purges exactly the Vault secrets the stack writes", () => {
        const purged = fenced("sh").flatMap((block) =>
            [...block.matchAll(/vault kv metadata delete -mount=(\S+) (\S+)/g)].map((m) => `${m[1]}/${m[2]}`),
        );
        expect(purged).to.deep.equal(planVaultSecrets(spec).map((s) => `${spec.vault.kvMount}/${s.path}`));
        expect(purged).to.include(`secret/${dbSecretPath(spec.pipelines[0], "source")}`);
    });
});
