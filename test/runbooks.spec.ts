import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { checkRunbooks, placeholderTable, shellBlocks } from "./helpers/runbook-check";
import { PLACEHOLDERS, renderStack, StackObjects } from "./helpers/stack-objects";
import { REPO_ROOT, SHIPPED_STACKS } from "./helpers/stack-files";

const RUNBOOKS = fs.readFileSync(path.join(REPO_ROOT, "docs", "runbooks.md"), "utf8");

describe("runbooks", () => {
    let stacks: StackObjects[];
    before(() => {
        stacks = SHIPPED_STACKS.map((s) => renderStack(s));
    });

    it("every command works against the objects the shipped stacks render", () => {
        expect(checkRunbooks(RUNBOOKS, stacks)).to.deep.equal([]);
    });

    it("checks a good share of commands, each against at least one shipped stack", () => {
        const { blocks } = shellBlocks(RUNBOOKS);
        const commands = blocks.flatMap((b) => b.text.split("\n")).filter((l) => /^\s*(kubectl|JOB=)/.test(l));
        expect(commands.length).to.be.greaterThan(30);
        // A block whose placeholders resolve for no stack would be silently skipped; the checker reports it.
        const orphan = "```sh\nkubectl -n <namespace> get secret <kafka-access-secret> -o jsonpath='{.data.password}'\n```\n";
        expect(checkRunbooks(orphan, [renderStack("dev")])).to.deep.equal([
            "line 2: the block's placeholders (namespace, kafka-access-secret) resolve for no shipped stack, so it is never checked",
        ]);
    });

    it("states in its placeholder table exactly the values the shipped stacks render", () => {
        const { columns, rows } = placeholderTable(RUNBOOKS);
        expect(columns).to.deep.equal([...SHIPPED_STACKS]);
        expect([...rows.keys()].sort()).to.deep.equal([...PLACEHOLDERS].sort());
        for (const [placeholder, cells] of rows) {
            stacks.forEach((objects, i) => {
                const values = [...new Set(objects.bindings.map((b) => b[placeholder]).filter((v) => v !== undefined))];
                expect(cells[i], `<${placeholder}> in the ${objects.stack} column`).to.deep.equal(values);
            });
        }
    });

    describe("the checker catches what a wrong runbook would get wrong", () => {
        const mutations: [string, string, string, RegExp][] = [
            [
                "a Deployment instead of the StrimziPodSet pod",
                "exec <connect>-connect-0 -c",
                "exec deploy/<connect>-connect -c",
                /deploy\/cdc-connect-connect is not a Connect worker pod|resource kind deploy/,
            ],
            [
                "a worker pod that does not exist",
                "exec <connect>-connect-0 -c",
                "exec <connect>-connect-5 -c",
                /pod cdc-connect-connect-5 is not a Connect worker pod/,
            ],
            [
                "the wrong container",
                "-c <connect>-connect -- curl",
                "-c connect -- curl",
                /container connect; that pod's container is cdc-connect-connect/,
            ],
            [
                "a label Strimzi does not set",
                "-l strimzi.io/cluster=<connect>,strimzi.io/kind=KafkaConnect",
                "-l strimzi.io/cluster=<connect>,strimzi.io/kind=KafkaConnector",
                /label selector .* matches no pod/,
            ],
            [
                "another REST port",
                "localhost:8083/connectors/<connector>/status",
                "localhost:8084/connectors/<connector>/status",
                /curl port 8084/,
            ],
            [
                "a REST write",
                "curl -s http://localhost:8083/connectors/<sink>/status",
                "curl -s -X PUT http://localhost:8083/connectors/<sink>/stop",
                /only GET requests/,
            ],
            [
                "a made-up connector",
                "get kafkaconnector <connector>\n",
                "get kafkaconnector sales-sink\n",
                /kafkaconnector sales-sink is not a KafkaConnector the stack renders/,
            ],
            [
                "a namespace of its own",
                "kubectl -n <namespace> top pod",
                "kubectl -n kafka top pod",
                /namespace kafka; the stack deploys into/,
            ],
            [
                "a made-up CronJob",
                "--from=cronjob/<reconciler-cronjob>",
                "--from=cronjob/<reconciler>",
                /--from=cronjob\/cdc-reconciler: not a CronJob the stack renders/,
            ],
            [
                "a Secret key the stack does not read",
                "{.data.password}",
                "{.data.pass}",
                /read by the stack under key\(s\) ssl.truststore.crt, password, not pass/,
            ],
            [
                "plaintext against a TLS+SCRAM listener",
                "security.protocol=SASL_SSL",
                "security.protocol=SASL_PLAINTEXT",
                /security.protocol SASL_PLAINTEXT: the workers connect with SASL_SSL/,
            ],
            [
                "a truststore that is not the cluster CA",
                "ssl.truststore.location=/tmp/cdc-dlq-ca.crt",
                "ssl.truststore.location=/opt/kafka/connect-certs/ca.crt",
                /ssl.truststore.location \/opt\/kafka\/connect-certs\/ca.crt/,
            ],
            [
                "a password not from the passwordSecret",
                "get secret <kafka-access-secret> -o jsonpath='{.data.password}'",
                "get secret <kafka-access-secret> -o jsonpath='{.data.ssl\\.truststore\\.crt}'",
                /SCRAM password: must be the decoded key password/,
            ],
            [
                "the User Operator's Secret, which lives in the Kafka cluster's namespace",
                "get secret <kafka-access-secret> -o jsonpath='{.data.password}'",
                "get secret <scram-user> -o jsonpath='{.data.password}'",
                /secret cdc-connect is not a Secret the rendered objects read/,
            ],
            [
                "a topic the stack does not create",
                "--topic dlq-<sink>",
                "--topic <sink>-dlq",
                /--topic postgresql-jdbc-sink-dlq: not a topic/,
            ],
            [
                "joining a consumer group",
                "--from-beginning --max-messages",
                "--group connect-<sink> --from-beginning --max-messages",
                /never join a group/,
            ],
            [
                "an annotation value Strimzi ignores",
                "strimzi.io/restart=includeTasks --overwrite",
                "strimzi.io/restart=all --overwrite",
                /strimzi.io\/restart=all/,
            ],
            ["a state the CRD refuses", `'{"spec":{"state":"stopped"}}'`, `'{"spec":{"state":"stop"}}'`, /fails the Strimzi CRD schema/],
            [
                "resetting offsets of a running connector",
                'kubectl -n <namespace> patch kafkaconnector <source> --type merge -p \'{"spec":{"state":"stopped"}}\'\n',
                "",
                /needs the connector stopped first/,
            ],
            [
                "a cdc flag the command does not take",
                "dlq list --stack <stack> --sink <sink> --status PENDING",
                "dlq list --stack <stack> --sink <sink> --state PENDING",
                /cdc dlq list: it takes no --state/,
            ],
            [
                "a cdc command that does not exist",
                "npm run cdc -- dlq show",
                "npm run cdc -- dlq view",
                /cdc dlq view .*: no such command in ops\/commands.ts/,
            ],
            [
                "another stack's file",
                "dlq list --stack <stack> --sink <sink> --status PENDING",
                "dlq list --stack prod --sink <sink> --status PENDING",
                /cdc dlq list: --stack prod; this is the dev stack/,
            ],
            [
                "a claim the reconciler does not write",
                "claimName: <report-claim>",
                "claimName: reports",
                /claim reports is not one the stack's workloads mount/,
            ],
            [
                "another mount path",
                "{ name: reports, mountPath: /var/reports, readOnly: true }",
                "{ name: reports, mountPath: /reports, readOnly: true }",
                /mounts claim cdc-reconciler-reports at \/reports/,
            ],
            [
                "an image the stack does not deploy",
                "image: <reconciler-image>",
                "image: busybox:1.36",
                /Pod image busybox:1.36 is not one the stack deploys/,
            ],
            [
                "a database the connectors do not use",
                "/dev/tcp/<source-host>/<source-port>",
                "/dev/tcp/<source-host>/5432",
                /probe of sqlserver.sales(-dev)?.svc:5432/,
            ],
            ["an unknown placeholder", "--topic dlq-<sink>", "--topic dlq-<sink-connector>", /unknown placeholder <sink-connector>/],
            [
                "a command outside the fences",
                "1. Is the CronJob scheduled",
                "1. Run `kubectl -n cdc get cronjobs`. Is the CronJob scheduled",
                /outside a fenced sh block is never checked/,
            ],
        ];
        for (const [what, from, to, expected] of mutations) {
            it(`fails on ${what}`, () => {
                expect(RUNBOOKS, `the runbook text to mutate: ${from}`).to.include(from);
                const problems = checkRunbooks(RUNBOOKS.replace(from, to), stacks);
                expect(problems.join("\n")).to.match(expected);
            });
        }

        it("fails on a command it does not know", () => {
            const problems = checkRunbooks("```sh\nkcat -b <bootstrap> -t dlq-<sink>\n```\n", stacks);
            expect(problems[0]).to.match(/`kcat` is not a command this checker knows/);
        });

        it("fails when the stack's names change under the runbook", () => {
            const renamed = SHIPPED_STACKS.map((s) => renderStack(s, (raw) => (raw.reconciler.name = "nightly-check")));
            const problems = checkRunbooks(
                RUNBOOKS.replace(
                    "cronjob,job -l app.kubernetes.io/instance=<reconciler>",
                    "cronjob,job -l app.kubernetes.io/instance=cdc-reconciler",
                ),
                renamed,
            );
            expect(problems.join("\n")).to.match(/label selector app.kubernetes.io\/instance=cdc-reconciler matches no cronjob/);
        });
    });
});
