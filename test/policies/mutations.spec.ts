/**
 * Deliberately broken configurations, one field at a time, starting from what the real program
 * registers for the shipped prod stack (or a valid variant of it, checked clean first). Each must be
 * caught by the intended policy of the pack, with the expected message, and by nothing else.
 */
import "./helpers/capture";
import { expect } from "chai";
import type { PolicyPackConfig } from "@pulumi/policy";
import { POLICIES } from "../../policies/pack";
import { runProgram } from "../helpers/program";
import { ShippedStack } from "../helpers/stack-files";
import { analyze, AnalyzedResource } from "./helpers/analyzer";
import { ExpectedViolation, expectExactly } from "./helpers/expect";
import { runEditedProgram } from "./helpers/edited-program";
import { cloneResources, resourcesOf, shippedPackConfig } from "./helpers/stack";

const TOPIC = "kafka:index/topic:Topic";
const CONNECTOR = "kubernetes:kafka.strimzi.io/v1:KafkaConnector";
const CONNECT = "kubernetes:kafka.strimzi.io/v1:KafkaConnect";
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const VAULT_POLICY = "vault:index/policy:Policy";
const PG_ROLE = "postgresql:index/role:Role";
const PG_GRANT = "postgresql:index/grant:Grant";
const CRONJOB = "kubernetes:batch/v1:CronJob";
const CONFIGMAP = "kubernetes:core/v1:ConfigMap";
const VAULT_STATIC_SECRET = "kubernetes:secrets.hashicorp.com/v1beta1:VaultStaticSecret";

type Resources = AnalyzedResource[];

function one(found: AnalyzedResource[], what: string): AnalyzedResource {
    if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}`);
    return found[0];
}
const topic = (rs: Resources, name: string) =>
    one(
        rs.filter((r) => r.type === TOPIC && r.props.name === name),
        `topic ${name}`,
    );
const connector = (rs: Resources, role: "source" | "sink") =>
    one(
        rs.filter((r) => r.type === CONNECTOR && r.props.metadata.labels["cdc.pipeline/role"] === role),
        `${role} connector`,
    );
const config = (rs: Resources, role: "source" | "sink"): Record<string, string> => connector(rs, role).props.spec.config;
const connect = (rs: Resources) =>
    one(
        rs.filter((r) => r.type === CONNECT),
        "KafkaConnect",
    );
const vaultPolicy = (rs: Resources, name: string) =>
    one(
        rs.filter((r) => r.type === VAULT_POLICY && r.props.name === name),
        `Vault policy ${name}`,
    );
/** Edits a rendered policy document's path rules and writes it back as JSON, as a hand edit of the stack would. */
const editPolicy = (rs: Resources, name: string, edit: (paths: Record<string, any>) => void): void => {
    const props = vaultPolicy(rs, name).props;
    const doc = JSON.parse(props.policy);
    edit(doc.path);
    props.policy = JSON.stringify(doc, null, 2);
};
const pgRole = (rs: Resources, name: string) =>
    one(
        rs.filter((r) => r.type === PG_ROLE && r.props.name === name),
        `role ${name}`,
    );
const pgGrant = (rs: Resources, role: string, objectType: string) =>
    one(
        rs.filter((r) => r.type === PG_GRANT && r.props.role === role && r.props.objectType === objectType),
        `${objectType} grant to ${role}`,
    );
const mssql = (rs: Resources, type: string, suffix: string) =>
    one(
        rs.filter((r) => r.type === type && r.name.includes(suffix)),
        `${type} *${suffix}*`,
    );
const authRole = (rs: Resources, consumer: string) =>
    one(
        rs.filter((r) => r.type === "vault:kubernetes/authBackendRole:AuthBackendRole" && String(r.props.roleName).includes(consumer)),
        `auth role for ${consumer}`,
    );
const cronJob = (rs: Resources) => rs.filter((r) => r.type === CRONJOB)[0];
/** The template the Vault Secrets Operator renders one key of a reconciler Secret from. */
const urlTemplate = (rs: Resources, secret: string, key: string) =>
    one(
        rs.filter((r) => r.type === VAULT_STATIC_SECRET && r.props.spec.destination.name === secret),
        `VaultStaticSecret for ${secret}`,
    ).props.spec.destination.transformation.templates[key];
const reconcilerContainer = (rs: Resources) => cronJob(rs).props.spec.jobTemplate.spec.template.spec.containers[0];
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
/** The prod lakehouse writer's container and its maintenance CronJob. */
const writerContainer = (rs: Resources) =>
    one(
        rs.filter((r) => r.type === DEPLOYMENT),
        "writer Deployment",
    ).props.spec.template.spec.containers[0];
const maintenance = (rs: Resources) =>
    one(
        rs.filter((r) => r.type === CRONJOB && r.name.endsWith("-maintenance")),
        "maintenance CronJob",
    );
const remove = (rs: Resources, r: AnalyzedResource): void => {
    rs.splice(rs.indexOf(r), 1);
};
const KAFKA_USER = "kubernetes:kafka.strimzi.io/v1:KafkaUser";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const byName = (rs: Resources, type: string, name: string) =>
    one(
        rs.filter((r) => r.type === type && r.props.metadata?.name === name),
        `${type} ${name}`,
    );
const acls = (rs: Resources, user: string): Record<string, any>[] => byName(rs, KAFKA_USER, user).props.spec.authorization.acls;

const ORDERS = "sqlserver.SalesDB.dbo.orders";
const HISTORY = "sqlserver.schema-history";
const DLQ = "dlq-postgresql-jdbc-sink";
const SOURCE = 'KafkaConnector "cdc/sqlserver-cdc-source"';
const SINK = 'KafkaConnector "cdc/postgresql-jdbc-sink"';

interface Case {
    title: string;
    stack?: ShippedStack;
    /** A valid variant of the program's resources to start from; it must pass cleanly on its own. */
    base?: (rs: Resources) => void;
    mutate: (rs: Resources) => void;
    config?: (config: PolicyPackConfig) => void;
    stackTags?: Record<string, string>;
    expect: ExpectedViolation[];
}

const CASES: Case[] = [
    // Kafka topics
    {
        title: "a prod data topic replicated twice (min ISR 2 is then no longer below RF)",
        mutate: (rs) => (topic(rs, ORDERS).props.replicationFactor = 2),
        expect: [
            {
                policy: "kafka-topic-replication-factor",
                includes: [`Kafka topic "${ORDERS}"`, "replication factor 2, below the 3", "Fix: set replicationFactor to at least 3"],
            },
            {
                policy: "kafka-topic-min-insync-replicas",
                includes: [`Kafka topic "${ORDERS}"`, "min.insync.replicas 2 with replication factor 2", "set min.insync.replicas to 1"],
            },
        ],
    },
    {
        title: "min.insync.replicas 1 on a prod topic",
        mutate: (rs) => (topic(rs, ORDERS).props.config["min.insync.replicas"] = "1"),
        expect: [
            {
                policy: "kafka-topic-min-insync-replicas",
                includes: [`Kafka topic "${ORDERS}"`, "min.insync.replicas 1, below the 2", "Fix: set min.insync.replicas to 2"],
            },
        ],
    },
    {
        title: "min.insync.replicas equal to the replication factor",
        mutate: (rs) => (topic(rs, ORDERS).props.config["min.insync.replicas"] = "3"),
        expect: [
            {
                policy: "kafka-topic-min-insync-replicas",
                includes: [`Kafka topic "${ORDERS}"`, "any single broker outage", "set min.insync.replicas to 2"],
            },
        ],
    },
    {
        title: "min.insync.replicas left to the broker default",
        mutate: (rs) => delete topic(rs, ORDERS).props.config["min.insync.replicas"],
        expect: [
            {
                policy: "kafka-topic-min-insync-replicas",
                includes: [`Kafka topic "${ORDERS}"`, "does not set min.insync.replicas", 'Fix: set config["min.insync.replicas"] to 2'],
            },
        ],
    },
    {
        title: "an unprotected prod topic",
        mutate: (rs) => (topic(rs, ORDERS).opts.protect = false),
        expect: [
            {
                policy: "kafka-topic-protected",
                includes: [`Kafka topic "${ORDERS}" is not protected`, "Fix: create it with { protect: true, retainOnDelete: true }"],
            },
        ],
    },
    {
        title: "a schema history topic with three partitions",
        mutate: (rs) => (topic(rs, HISTORY).props.partitions = 3),
        expect: [
            {
                policy: "schema-history-topic",
                includes: [`Schema history Kafka topic "${HISTORY}" of ${SOURCE}`, "partitions is 3", "Fix: set partitions 1"],
            },
        ],
    },
    {
        title: "a schema history topic with finite retention",
        mutate: (rs) => (topic(rs, HISTORY).props.config["retention.ms"] = "604800000"),
        expect: [{ policy: "schema-history-topic", includes: [`Kafka topic "${HISTORY}"`, "retention.ms is 604800000 (must be -1)"] }],
    },
    {
        title: "a schema history topic the stack does not declare",
        mutate: (rs) => remove(rs, topic(rs, HISTORY)),
        expect: [
            {
                policy: "schema-history-topic",
                includes: [`${SOURCE} keeps its schema history in "${HISTORY}", but the stack declares no such topic`, "Fix: declare"],
            },
        ],
    },
    {
        title: "Connect's offsets topic with delete cleanup",
        mutate: (rs) => (topic(rs, "cdc-connect-offsets").props.config["cleanup.policy"] = "delete"),
        expect: [
            {
                policy: "connect-internal-topics-compacted",
                includes: [
                    'Kafka topic "cdc-connect-offsets" holds the offsets of KafkaConnect "cdc/cdc-connect"',
                    'Fix: set config["cleanup.policy"] to "compact"',
                ],
            },
        ],
    },
    // KafkaConnector wiring
    {
        title: "a connector without the strimzi.io/cluster label",
        mutate: (rs) => delete connector(rs, "sink").props.metadata.labels["strimzi.io/cluster"],
        expect: [
            {
                policy: "kafka-connector-cluster-label",
                includes: [`${SINK} has no strimzi.io/cluster label`, "Fix: label it strimzi.io/cluster"],
            },
        ],
    },
    {
        title: "a connector labelled with a cluster this stack does not have",
        mutate: (rs) => (connector(rs, "sink").props.metadata.labels["strimzi.io/cluster"] = "cdc-connect-old"),
        expect: [
            {
                policy: "kafka-connector-cluster-exists",
                includes: [
                    `${SINK} is labelled strimzi.io/cluster: cdc-connect-old`,
                    "(it has: cdc-connect)",
                    "Fix: set the label from the KafkaConnect resource's metadata.name output",
                ],
            },
        ],
    },
    {
        title: "a KafkaConnect without strimzi.io/use-connector-resources",
        mutate: (rs) => delete connect(rs).props.metadata.annotations["strimzi.io/use-connector-resources"],
        expect: [
            {
                policy: "kafka-connector-cluster-exists",
                includes: ['KafkaConnect "cdc/cdc-connect" runs', 'Fix: add the annotation strimzi.io/use-connector-resources: "true"'],
            },
        ],
    },
    {
        title: 'use-connector-resources set to a boolean-looking "false"',
        mutate: (rs) => (connect(rs).props.metadata.annotations["strimzi.io/use-connector-resources"] = "false"),
        expect: [{ policy: "kafka-connector-cluster-exists", includes: ['KafkaConnect "cdc/cdc-connect"', '(found "false")'] }],
    },
    // Credentials
    {
        title: "a literal sink password",
        mutate: (rs) => (config(rs, "sink")["connection.password"] = "hunter2"),
        expect: [
            {
                policy: "connector-credentials-by-reference",
                includes: [
                    `${SINK} sets connection.password to a literal value`,
                    "Fix: keep the value in a Kubernetes Secret",
                    "${secrets:cdc/<secret>:<key>}",
                ],
                excludes: ["hunter2"],
            },
        ],
    },
    {
        title: "a literal source user name",
        mutate: (rs) => (config(rs, "source")["database.user"] = "cdc_reader"),
        expect: [
            {
                policy: "connector-credentials-by-reference",
                includes: [`${SOURCE} sets database.user to a literal value`],
                excludes: ["cdc_reader"],
            },
        ],
    },
    {
        title: "a literal password inside the schema history client's JAAS config",
        mutate: (rs) =>
            (config(rs, "source")["schema.history.internal.producer.sasl.jaas.config"] =
                'org.apache.kafka.common.security.scram.ScramLoginModule required username="cdc-connect" password="s3cr3t-Value";'),
        expect: [
            {
                policy: "connector-credentials-by-reference",
                includes: [`${SOURCE} embeds a literal password`, "schema.history.internal.producer.sasl.jaas.config"],
                excludes: ["s3cr3t-Value"],
            },
        ],
    },
    {
        title: "a literal keystore password in the Connect worker config",
        mutate: (rs) => (connect(rs).props.spec.config["ssl.keystore.password"] = "changeit"),
        expect: [
            {
                policy: "connector-credentials-by-reference",
                includes: ['KafkaConnect "cdc/cdc-connect" sets ssl.keystore.password to a literal value'],
                excludes: ["changeit"],
            },
        ],
    },
    // Tasks and logging
    {
        title: "a SQL Server source with more tasks than databases",
        mutate: (rs) => (connector(rs, "source").props.spec.tasksMax = 4),
        expect: [
            {
                policy: "connector-tasks-max",
                includes: [`${SOURCE} has tasksMax 4 but captures 1 database(s)`, "Fix: set spec.tasksMax to 1"],
            },
        ],
    },
    {
        title: "tasks.max in the connector config instead of spec.tasksMax",
        mutate: (rs) => (config(rs, "sink")["tasks.max"] = "1"),
        expect: [{ policy: "connector-tasks-max", includes: [`${SINK} sets tasks.max in spec.config`, "Fix: move it to spec.tasksMax"] }],
    },
    {
        title: "record contents in the prod Connect log",
        mutate: (rs) => (config(rs, "sink")["errors.log.include.messages"] = "true"),
        expect: [
            {
                policy: "connector-error-log-redacted",
                includes: [`${SINK} sets errors.log.include.messages=true`, 'Fix: set errors.log.include.messages to "false"'],
            },
        ],
    },
    // Schema registry
    {
        title: "a sink reading its data topics with JsonConverter",
        mutate: (rs) => (config(rs, "sink")["value.converter"] = "org.apache.kafka.connect.json.JsonConverter"),
        expect: [
            {
                policy: "connector-registry-serialization",
                includes: [
                    `${SINK} reads its topics' values with org.apache.kafka.connect.json.JsonConverter (from its own config)`,
                    "Fix: set serialization: avro",
                ],
            },
        ],
    },
    {
        title: "a source without converters of its own, inheriting the worker's JsonConverter",
        mutate: (rs) => {
            const own = config(rs, "source");
            for (const key of Object.keys(own)) if (/^(key|value)\.converter/.test(key)) delete own[key];
        },
        expect: ["key", "value"].map((side) => ({
            policy: "connector-registry-serialization",
            includes: [
                `${SOURCE} writes its topics' ${side}s with org.apache.kafka.connect.json.JsonConverter (from its KafkaConnect's config)`,
            ],
        })),
    },
    {
        title: "a converter reaching the registry over plain http",
        mutate: (rs) =>
            (config(rs, "source")["value.converter.apicurio.registry.url"] = "http://apicurio-registry.registry.svc:8080/apis/registry/v2"),
        expect: [
            {
                policy: "connector-registry-tls",
                includes: [`${SOURCE} reaches its schema registry at value.converter.apicurio.registry.url=http://`, "not https"],
            },
        ],
    },
    {
        title: "a converter without a truststore for the registry",
        mutate: (rs) => delete config(rs, "sink")["key.converter.apicurio.registry.request.ssl.truststore.location"],
        expect: [
            {
                policy: "connector-registry-tls",
                includes: [
                    `${SINK} sets no key.converter.apicurio.registry.request.ssl.truststore.location`,
                    "Fix: set schemaRegistry.truststoreSecret",
                ],
            },
        ],
    },
    // Sinks
    {
        title: "errors.tolerance=all without a dead letter queue",
        mutate: (rs) => delete config(rs, "sink")["errors.deadletterqueue.topic.name"],
        expect: [
            {
                policy: "sink-dead-letter-queue",
                includes: [
                    `${SINK} sets errors.tolerance=all without errors.deadletterqueue.topic.name`,
                    "Fix: set errors.deadletterqueue.topic.name",
                ],
            },
        ],
    },
    {
        title: "a dead letter queue without error context headers",
        mutate: (rs) => (config(rs, "sink")["errors.deadletterqueue.context.headers.enable"] = "false"),
        expect: [
            {
                policy: "sink-dead-letter-queue",
                includes: [`${SINK} sends failed records to "${DLQ}" without errors.deadletterqueue.context.headers.enable=true`, "Fix:"],
            },
        ],
    },
    {
        title: "a dead letter queue with errors.tolerance=none",
        mutate: (rs) => (config(rs, "sink")["errors.tolerance"] = "none"),
        expect: [
            {
                policy: "sink-dead-letter-queue",
                includes: [`${SINK} names a dead letter queue ("${DLQ}") but errors.tolerance is none`, "Fix: set errors.tolerance=all"],
            },
        ],
    },
    {
        title: "a dead letter queue topic the stack does not declare",
        mutate: (rs) => remove(rs, topic(rs, DLQ)),
        expect: [
            {
                policy: "sink-dead-letter-topic-exists",
                includes: [
                    `${SINK} routes failed records to "${DLQ}", but the stack declares no such topic`,
                    `Fix: declare the topic "${DLQ}"`,
                ],
            },
        ],
    },
    {
        title: "an upsert sink without a key-based primary key mode (deletes disabled)",
        base: (rs) => (config(rs, "sink")["delete.enabled"] = "false"),
        mutate: (rs) => (config(rs, "sink")["primary.key.mode"] = "none"),
        expect: [
            {
                policy: "sink-upsert-primary-key",
                includes: [`${SINK} writes with insert.mode=upsert but primary.key.mode is none`, "Fix: set primary.key.mode=record_key"],
            },
        ],
    },
    {
        title: "a record_value upsert sink without primary.key.fields",
        base: (rs) =>
            Object.assign(config(rs, "sink"), {
                "delete.enabled": "false",
                "primary.key.mode": "record_value",
                "primary.key.fields": "id",
            }),
        mutate: (rs) => delete config(rs, "sink")["primary.key.fields"],
        expect: [
            {
                policy: "sink-upsert-primary-key",
                includes: [`${SINK} uses primary.key.mode=record_value without primary.key.fields`, "Fix: set primary.key.fields"],
            },
        ],
    },
    {
        title: "delete.enabled with record_value keys",
        base: (rs) =>
            Object.assign(config(rs, "sink"), {
                "delete.enabled": "false",
                "primary.key.mode": "record_value",
                "primary.key.fields": "id",
            }),
        mutate: (rs) => (config(rs, "sink")["delete.enabled"] = "true"),
        expect: [
            {
                policy: "sink-delete-requires-record-key",
                includes: [`${SINK} sets delete.enabled=true with primary.key.mode=record_value`, "Fix: set primary.key.mode=record_key"],
            },
        ],
    },
    {
        title: "a Confluent-spelled upsert sink without pk.mode",
        base: (rs) => {
            const sink = connector(rs, "sink").props.spec;
            sink.class = "io.confluent.connect.jdbc.JdbcSinkConnector";
            const { ["primary.key.mode"]: mode, ["delete.enabled"]: _d, ...rest } = sink.config;
            sink.config = { ...rest, "pk.mode": mode, "delete.enabled": "false" };
        },
        mutate: (rs) => delete config(rs, "sink")["pk.mode"],
        expect: [
            {
                policy: "sink-upsert-primary-key",
                includes: ["writes with insert.mode=upsert but pk.mode is unset (none)", "Fix: set pk.mode=record_key"],
            },
        ],
    },
    {
        title: "a sink that also consumes the schema history topic",
        mutate: (rs) => (config(rs, "sink").topics += `,${HISTORY}`),
        expect: [
            {
                policy: "sink-topics-exclude-internal",
                includes: [`${SINK} consumes "${HISTORY}", the schema history topic of ${SOURCE}`, "Fix: consume only the data topics"],
            },
        ],
    },
    {
        title: "a sink that also consumes the source's incremental snapshot notifications",
        mutate: (rs) => (config(rs, "sink").topics += ",__debezium-notification.sqlserver"),
        expect: [
            {
                policy: "sink-topics-exclude-internal",
                includes: [`${SINK} consumes "__debezium-notification.sqlserver", the notification topic of ${SOURCE}`],
            },
        ],
    },
    {
        title: "a sink whose topics.regex matches the schema history topic",
        mutate: (rs) => {
            const c = config(rs, "sink");
            delete c.topics;
            c["topics.regex"] = "sqlserver\\..*";
        },
        expect: [{ policy: "sink-topics-exclude-internal", includes: [`${SINK} consumes "${HISTORY}"`, "matches it with topics.regex"] }],
    },
    {
        title: "a prod sink that does not verify the target's certificate",
        mutate: (rs) =>
            (config(rs, "sink")["connection.url"] = String(config(rs, "sink")["connection.url"]).replace(
                /sslmode=[a-z-]+/,
                "sslmode=require",
            )),
        expect: [
            {
                policy: "sink-database-encryption",
                includes: [`${SINK} connects to the target with sslmode=require`, "Fix: set the sink's sslMode to verify-full"],
            },
        ],
    },
    {
        title: "a prod sink whose URL has no sslmode",
        mutate: (rs) => (config(rs, "sink")["connection.url"] = String(config(rs, "sink")["connection.url"]).split("?")[0]),
        expect: [{ policy: "sink-database-encryption", includes: ["sslmode=unset (the driver's prefer)"] }],
    },
    // Sources
    {
        title: "an unencrypted prod SQL Server connection",
        mutate: (rs) => (config(rs, "source")["driver.encrypt"] = "false"),
        expect: [
            {
                policy: "source-database-encryption",
                includes: [`${SOURCE} does not set database.encrypt=true`, 'Fix: set driver.encrypt to "true"'],
            },
        ],
    },
    {
        title: "a prod SQL Server connection that trusts any certificate",
        mutate: (rs) => (config(rs, "source")["driver.trustServerCertificate"] = "true"),
        expect: [
            { policy: "source-database-encryption", includes: [`${SOURCE} sets trustServerCertificate=true`, 'Fix: set it to "false"'] },
        ],
    },
    {
        title: "a source that skips events it cannot process",
        mutate: (rs) => (config(rs, "source")["event.processing.failure.handling.mode"] = "warn"),
        expect: [
            {
                policy: "source-no-skipped-events",
                includes: [`${SOURCE} sets event.processing.failure.handling.mode=warn`, 'Fix: set it to "fail"'],
            },
        ],
    },
    {
        title: "a prod source without heartbeats (advisory)",
        mutate: (rs) => (config(rs, "source")["heartbeat.interval.ms"] = "0"),
        expect: [
            { policy: "source-heartbeat", level: "advisory", includes: [`${SOURCE} has no heartbeat`, "Fix: set heartbeat.interval.ms"] },
        ],
    },
    {
        title: "no tombstones on delete while a data topic is compacted (advisory)",
        base: (rs) => (topic(rs, ORDERS).props.config["cleanup.policy"] = "compact,delete"),
        mutate: (rs) => (config(rs, "source")["tombstones.on.delete"] = "false"),
        expect: [
            {
                policy: "source-tombstones-for-compacted-topics",
                level: "advisory",
                includes: [
                    `${SOURCE} sets tombstones.on.delete=false but writes to compacted topic(s) ${ORDERS}`,
                    'Fix: set tombstones.on.delete to "true"',
                ],
            },
        ],
    },
    {
        title: "a second source reusing the first one's topic prefix and history topic",
        mutate: (rs) => {
            const copy = structuredClone(connector(rs, "source"));
            copy.name = "sales-connectors-source-copy";
            copy.urn = `${copy.urn}-copy`;
            copy.props.metadata.name = "sqlserver-cdc-source-2";
            rs.push(copy);
        },
        expect: [
            {
                policy: "source-identity-unique",
                includes: [
                    'KafkaConnector "cdc/sqlserver-cdc-source-2" uses topic.prefix "sqlserver", already used by',
                    "Fix: give each source its own topic.prefix",
                ],
            },
            {
                policy: "source-identity-unique",
                includes: [`KafkaConnector "cdc/sqlserver-cdc-source-2" uses schema history topic "${HISTORY}"`, "Fix:"],
            },
        ],
    },
    // Kafka Connect cluster
    {
        title: "a floating connector plugin version",
        mutate: (rs) =>
            (connect(rs).props.spec.build.plugins[0].artifacts = [
                { type: "maven", group: "io.debezium", artifact: "debezium-connector-sqlserver", version: "LATEST" },
            ]),
        expect: [
            {
                policy: "connect-plugins-pinned",
                includes: ['KafkaConnect "cdc/cdc-connect" plugin', "uses version LATEST", "Fix: pin an exact release version"],
            },
        ],
    },
    {
        title: "an archive plugin without sha512sum",
        mutate: (rs) => delete connect(rs).props.spec.build.plugins[0].artifacts[0].sha512sum,
        expect: [
            {
                policy: "connect-plugins-pinned",
                includes: ["debezium-connector-sqlserver-3.6.1.Final-plugin.tar.gz (type tgz) without sha512sum", "Fix: set sha512sum"],
            },
        ],
    },
    {
        title: "a Secret-reading Role without resourceNames",
        mutate: (rs) =>
            delete one(
                rs.filter((r) => r.type === ROLE),
                "Role",
            ).props.rules[0].resourceNames,
        expect: [
            {
                policy: "k8s-role-secrets-least-privilege",
                includes: [
                    'Role "cdc/cdc-connect-connector-secrets" rule 0',
                    "no resourceNames",
                    "Fix: grant only get on secrets with resourceNames",
                ],
            },
        ],
    },
    {
        title: "a Secret-reading Role that may also list",
        mutate: (rs) =>
            one(
                rs.filter((r) => r.type === ROLE),
                "Role",
            ).props.rules[0].verbs.push("list"),
        expect: [{ policy: "k8s-role-secrets-least-privilege", includes: ["verbs list beyond get"] }],
    },
    // Vault
    {
        title: "a CDC consumer's Vault policy that may update the database credentials",
        mutate: (rs) => editPolicy(rs, "cdc-prod-connect", (paths) => paths["secret/data/db/sales/source"].capabilities.push("update")),
        expect: [
            {
                policy: "vault-policy-cdc-read-only",
                includes: [
                    'Vault policy "cdc-prod-connect" grants update on path "secret/data/db/sales/source"',
                    "secret/data/db/*",
                    'Fix: grant only ["read"]',
                ],
            },
        ],
    },
    {
        title: "a legacy write policy on the database credentials",
        mutate: (rs) => editPolicy(rs, "cdc-prod-reconciler", (paths) => (paths["secret/db/*"] = { policy: "write" })),
        expect: [
            {
                policy: "vault-policy-cdc-read-only",
                includes: ['Vault policy "cdc-prod-reconciler" grants create, update, delete, write on path "secret/db/*"'],
            },
        ],
    },
    {
        title: "a Vault policy reading a whole mount through a wildcard",
        mutate: (rs) => editPolicy(rs, "cdc-prod-connect", (paths) => (paths["secret/data/*"] = { capabilities: ["read"] })),
        expect: [
            {
                policy: "vault-policy-no-wildcard-path",
                includes: [
                    'Vault policy "cdc-prod-connect" has the wildcard path "secret/data/*", which spans the whole "secret" mount',
                    "Fix: name the consumer's own path",
                ],
            },
        ],
    },
    {
        title: "a Vault policy that is not valid JSON",
        mutate: (rs) =>
            (vaultPolicy(rs, "cdc-prod-connect").props.policy = vaultPolicy(rs, "cdc-prod-connect").props.policy.replace(/\}\s*$/, "")),
        expect: [
            {
                policy: "vault-policy-cdc-read-only",
                includes: [
                    'Vault policy "cdc-prod-connect" cannot be parsed (not JSON: ',
                    'Fix: write it as a JSON policy document, {"path": {"<path>": {"capabilities": ["read"]}}}',
                ],
            },
        ],
    },
    {
        title: "a Vault policy written in HCL, which the pack does not read",
        mutate: (rs) =>
            (vaultPolicy(rs, "cdc-prod-connect").props.policy =
                'path "secret/data/db/sales/source" {\n  capabilities = ["read", "update"]\n}\n'),
        expect: [{ policy: "vault-policy-cdc-read-only", includes: ['Vault policy "cdc-prod-connect" cannot be parsed (not JSON: '] }],
    },
    {
        title: "a Vault policy hiding an update grant behind a second, read-only rule for the same path",
        mutate: (rs) => {
            const p = vaultPolicy(rs, "cdc-prod-connect").props;
            p.policy = p.policy.replace('"path": {', '"path": {\n    "secret/data/db/sales/target": { "capabilities": ["update"] },');
        },
        expect: [
            {
                policy: "vault-policy-cdc-read-only",
                includes: ['Vault policy "cdc-prod-connect" cannot be parsed (a key appears twice in one object)'],
            },
        ],
    },
    {
        title: "a Vault auth role any ServiceAccount name can use",
        mutate: (rs) => (authRole(rs, "connect").props.boundServiceAccountNames = ["*"]),
        expect: [
            {
                policy: "vault-auth-role-scoped",
                includes: ['binds ServiceAccount names ["*"]', "Fix: bind the consumer's own ServiceAccount"],
            },
        ],
    },
    {
        title: "a Vault auth role bound in every namespace",
        mutate: (rs) => (authRole(rs, "reconciler").props.boundServiceAccountNamespaces = ["*"]),
        expect: [{ policy: "vault-auth-role-scoped", includes: ['binds namespaces ["*"]'] }],
    },
    {
        title: "a Vault auth role handing out root",
        mutate: (rs) => authRole(rs, "connect").props.tokenPolicies.push("root"),
        expect: [{ policy: "vault-auth-role-scoped", includes: ["issues tokens with root", "Fix: give it only its own read-only policy"] }],
    },
    // PostgreSQL
    {
        title: "a superuser sink role",
        mutate: (rs) => (pgRole(rs, "cdc_writer").props.superuser = true),
        expect: [
            {
                policy: "postgresql-role-least-privilege",
                includes: ['PostgreSQL role "cdc_writer" has superuser: true', "Fix: remove superuser"],
            },
        ],
    },
    {
        title: "a reconciler role that may create roles",
        mutate: (rs) => (pgRole(rs, "cdc_reconciler").props.createRole = true),
        expect: [{ policy: "postgresql-role-least-privilege", includes: ['PostgreSQL role "cdc_reconciler" has createRole: true'] }],
    },
    {
        title: "table grants in the public schema",
        mutate: (rs) => (pgGrant(rs, "cdc_writer", "table").props.schema = "public"),
        expect: [
            {
                policy: "postgresql-grant-target-schema",
                includes: [
                    "to role cdc_writer",
                    "schema public is not a target schema of this stack's sinks (sales)",
                    "Fix: grant only on the target schema (sales)",
                ],
            },
        ],
    },
    {
        title: "CREATE on the whole target database",
        mutate: (rs) => pgGrant(rs, "cdc_writer", "database").props.privileges.push("CREATE"),
        expect: [{ policy: "postgresql-grant-target-schema", includes: ["database-wide CREATE reaches beyond the target schema"] }],
    },
    {
        title: "a grant to PUBLIC",
        mutate: (rs) => (pgGrant(rs, "cdc_reconciler", "schema").props.role = "public"),
        expect: [{ policy: "postgresql-grant-target-schema", includes: ["it grants to PUBLIC"] }],
    },
    // SQL Server source login
    {
        title: "CONTROL on the source database for the CDC reader",
        mutate: (rs) =>
            (mssql(rs, "mssql:index/databasePermission:DatabasePermission", "view-database-state").props.permission = "CONTROL"),
        expect: [
            {
                policy: "sqlserver-least-privilege",
                includes: ["view-database-state-cdc_reader", "grants CONTROL, which a CDC reader does not need", "Fix: grant only SELECT"],
            },
        ],
    },
    {
        title: "a SQL Server permission with grant option",
        mutate: (rs) =>
            (mssql(rs, "mssql:index/databasePermission:DatabasePermission", "view-database-state").props.withGrantOption = true),
        expect: [{ policy: "sqlserver-least-privilege", includes: ["grants VIEW DATABASE STATE WITH GRANT OPTION"] }],
    },
    {
        title: "a grant script that also allows writes",
        mutate: (rs) => {
            const script = mssql(rs, "mssql:index/script:Script", "grant-select-cdc_reader-dbo.orders").props;
            script.updateScript = script.updateScript.replace("GRANT SELECT ON", "GRANT SELECT, INSERT, UPDATE ON");
        },
        expect: [
            {
                policy: "sqlserver-least-privilege",
                includes: ["grant-select-cdc_reader-dbo.orders", "grants INSERT, UPDATE, which a CDC reader does not need"],
            },
        ],
    },
    {
        title: "the signal table's INSERT grant moved to a captured table",
        mutate: (rs) => {
            const script = mssql(rs, "mssql:index/script:Script", "grant-insert-cdc_reader-dbo.debezium_signal").props;
            script.updateScript = script.updateScript.replace("[dbo].[debezium_signal]", "[dbo].[orders]");
        },
        expect: [
            {
                policy: "sqlserver-least-privilege",
                includes: ["grant-insert-cdc_reader-dbo.debezium_signal", "grants INSERT, which a CDC reader does not need"],
            },
        ],
    },
    {
        title: "a script making the CDC reader db_owner",
        mutate: (rs) =>
            (mssql(rs, "mssql:index/script:Script", "grant-cdc-schema-cdc_reader").props.updateScript +=
                "\nALTER ROLE [db_owner] ADD MEMBER [cdc_reader];"),
        expect: [{ policy: "sqlserver-least-privilege", includes: ["adds a member to db_owner", "Fix: use a gating role"] }],
    },
    // Reconciliation CronJob
    {
        title: "overlapping reconciliation runs",
        mutate: (rs) => (cronJob(rs).props.spec.concurrencyPolicy = "Allow"),
        expect: [
            {
                policy: "cronjob-concurrency-forbid",
                includes: ['CronJob "cdc/cdc-reconciler-sales" has concurrencyPolicy Allow', 'Fix: set spec.concurrencyPolicy to "Forbid"'],
            },
        ],
    },
    {
        title: "a reconciler without a CPU limit",
        mutate: (rs) => delete reconcilerContainer(rs).resources.limits.cpu,
        expect: [
            {
                policy: "cronjob-resource-limits",
                includes: [
                    'CronJob "cdc/cdc-reconciler-sales" container "reconciler" has no resources.limits.cpu',
                    "Fix: set resources.limits.cpu",
                ],
            },
        ],
    },
    {
        title: "a reconciler container allowed to run as root",
        mutate: (rs) => (reconcilerContainer(rs).securityContext.runAsNonRoot = false),
        expect: [
            {
                policy: "cronjob-run-as-non-root",
                includes: [
                    'CronJob "cdc/cdc-reconciler-sales" container "reconciler": runAsNonRoot is false',
                    "Fix: set securityContext.runAsNonRoot: true",
                ],
            },
        ],
    },
    {
        title: "a reconciler image named by a tag",
        mutate: (rs) => (reconcilerContainer(rs).image = "registry.example.com/cdc/reconciler:0.1.0"),
        expect: [
            {
                policy: "workload-image-digest",
                includes: [
                    'CronJob "cdc/cdc-reconciler-sales" container "reconciler" runs image "registry.example.com/cdc/reconciler:0.1.0" by tag',
                    "Fix: set reconciler.image to <repository>@sha256:<digest>",
                ],
            },
        ],
    },
    {
        title: "a literal password in the reconciler's environment",
        mutate: (rs) => (reconcilerContainer(rs).env = [{ name: "TARGET_PASSWORD", value: "hunter2" }]),
        expect: [
            {
                policy: "workload-credentials-from-secrets",
                includes: [
                    'CronJob "cdc/cdc-reconciler-sales" container "reconciler" sets TARGET_PASSWORD as a literal env value',
                    "Fix: use valueFrom.secretKeyRef",
                ],
                excludes: ["hunter2"],
            },
        ],
    },
    // Lakehouse writer: its Deployment and maintenance CronJob are workloads like the reconciler
    {
        title: "overlapping lakehouse maintenance runs",
        mutate: (rs) => (maintenance(rs).props.spec.concurrencyPolicy = "Allow"),
        expect: [
            {
                policy: "cronjob-concurrency-forbid",
                includes: ['CronJob "cdc/cdc-lakehouse-sales-maintenance" has concurrencyPolicy Allow'],
            },
        ],
    },
    {
        title: "a lakehouse writer without a memory limit",
        mutate: (rs) => delete writerContainer(rs).resources.limits.memory,
        expect: [
            {
                policy: "cronjob-resource-limits",
                includes: [
                    'Deployment "cdc/cdc-lakehouse-sales" container "writer" has no resources.limits.memory',
                    "Fix: set resources.limits.memory",
                ],
            },
        ],
    },
    {
        title: "a lakehouse writer running as root",
        mutate: (rs) => {
            writerContainer(rs).securityContext.runAsNonRoot = false;
            writerContainer(rs).securityContext.runAsUser = 0;
        },
        expect: [
            {
                policy: "cronjob-run-as-non-root",
                includes: [
                    'Deployment "cdc/cdc-lakehouse-sales" container "writer": runAsNonRoot is false, runAsUser is 0',
                    "Fix: set securityContext.runAsNonRoot: true",
                ],
            },
        ],
    },
    {
        title: "a lakehouse writer image named by a tag",
        mutate: (rs) => (writerContainer(rs).image = "registry.example.com/cdc/lakehouse:0.1.0"),
        expect: [
            {
                policy: "workload-image-digest",
                includes: [
                    'Deployment "cdc/cdc-lakehouse-sales" container "writer" runs image "registry.example.com/cdc/lakehouse:0.1.0" by tag',
                    "changes the code that writes the lakehouse tables on the next restart",
                    "Fix: set lakehouse.image to <repository>@sha256:<digest>",
                ],
            },
        ],
    },
    {
        title: "the object-storage secret key as a literal in the writer's environment",
        mutate: (rs) => {
            const env = writerContainer(rs).env.find((e: Record<string, any>) => e.name === "AWS_SECRET_ACCESS_KEY");
            delete env.valueFrom;
            env.value = "hunter2";
        },
        expect: [
            {
                policy: "workload-credentials-from-secrets",
                includes: ['Deployment "cdc/cdc-lakehouse-sales" container "writer" sets AWS_SECRET_ACCESS_KEY as a literal env value'],
                excludes: ["hunter2"],
            },
        ],
    },
    {
        title: "the Iceberg catalog role granted on the public schema of another database",
        stack: "dev",
        mutate: (rs) =>
            (one(
                rs.filter((r) => r.type === PG_GRANT && r.props.role === "iceberg_catalog" && r.props.objectType === "schema"),
                "catalog schema grant",
            ).props.database = "warehouse"),
        expect: [
            {
                policy: "postgresql-grant-target-schema",
                includes: ["(USAGE, CREATE on schema to role iceberg_catalog): schema public is not a target schema of this stack's sinks"],
            },
        ],
    },
    {
        title: "a database URL with a password on the reconciler's command line",
        mutate: (rs) =>
            reconcilerContainer(rs).args.push(
                "--target",
                "postgres://cdc_reconciler:hunter2@warehouse.postgres.svc/warehouse?sslmode=verify-full&sslrootcert=/var/run/secrets/cdc/database-ca/ca.crt",
            ),
        expect: [
            {
                policy: "workload-credentials-from-secrets",
                includes: [
                    "passes a connection URL with a literal password on its command line",
                    "Fix: pass the password through an env var",
                ],
                excludes: ["hunter2"],
            },
        ],
    },
    {
        title: "a reconciler target URL that would fall back to plaintext",
        mutate: (rs) => {
            const template = urlTemplate(rs, "cdc-reconciler-sales-target", "url");
            template.text = template.text.replace(/\?.*$/, "?sslmode=prefer");
        },
        expect: [
            {
                policy: "reconciler-database-encryption",
                includes: [
                    'CronJob "cdc/cdc-reconciler-sales" container "reconciler": the target database URL (config target.urlFile /var/run/secrets/cdc/target/url: Secret "cdc-reconciler-sales-target" key "url"',
                    "has sslmode=prefer sslrootcert=unset: sslmode prefer does not both encrypt and verify the server",
                    "Fix: set the pipeline's verifying mode in the stack config",
                ],
            },
        ],
    },
    {
        title: "a reconciler source URL that accepts any SQL Server certificate",
        mutate: (rs) => {
            const template = urlTemplate(rs, "cdc-reconciler-sales-source", "url-salesdb");
            template.text = template.text.replace("trustServerCertificate=false", "trustServerCertificate=true");
        },
        expect: [
            {
                policy: "reconciler-database-encryption",
                includes: [
                    'the source database URL (config source.urlFile /var/run/secrets/cdc/source/url: Secret "cdc-reconciler-sales-source" key "url-salesdb"',
                    "trustServerCertificate=true accepts any certificate",
                ],
            },
        ],
    },
    {
        title: "a reconciler whose database CA is not mounted",
        mutate: (rs) => {
            const container = reconcilerContainer(rs);
            container.volumeMounts = container.volumeMounts.filter((m: { name: string }) => m.name !== "database-ca");
        },
        expect: [
            {
                policy: "reconciler-database-encryption",
                includes: [
                    "the target database URL",
                    "verifies against /var/run/secrets/cdc/database-ca/ca.crt, but no Secret or ConfigMap is mounted there",
                    "Fix: mount connect.databaseCaSecret",
                ],
            },
        ],
    },
    {
        title: "a reconciler given a target URL without TLS settings on its command line",
        mutate: (rs) => reconcilerContainer(rs).args.push("--target=postgres://warehouse.postgres.svc/warehouse"),
        expect: [
            {
                policy: "reconciler-database-encryption",
                includes: [
                    "the target database URL (--target on the command line) has sslmode=unset sslrootcert=unset: sslmode unset (libpq's prefer",
                ],
            },
        ],
    },
    // Kafka identities
    {
        title: "a KafkaUser ACL on every topic",
        mutate: (rs) =>
            acls(rs, "cdc-connect").push({ resource: { type: "topic", name: "*", patternType: "literal" }, operations: ["Read"] }),
        expect: [
            {
                policy: "kafka-acl-no-wildcard",
                includes: [
                    'KafkaUser "kafka/cdc-connect" ACL ',
                    'allows Read on every topic (name "*")',
                    "Fix: name the topics and groups the client uses",
                ],
            },
        ],
    },
    {
        title: "a writer's KafkaUser allowed every consumer group through an empty prefix",
        mutate: (rs) => (acls(rs, "cdc-lakehouse-sales")[2].resource = { type: "group", name: "", patternType: "prefix" }),
        expect: [
            {
                policy: "kafka-acl-no-wildcard",
                includes: ['KafkaUser "kafka/cdc-lakehouse-sales" ACL 2 allows Read on every group (an empty prefix)'],
            },
        ],
    },
    {
        title: "a prod KafkaConnect that does not authenticate to Kafka",
        mutate: (rs) => delete connect(rs).props.spec.authentication,
        expect: [
            {
                policy: "kafka-user-stack-owned",
                includes: [
                    'KafkaConnect "cdc/cdc-connect" does not authenticate to Kafka',
                    "Fix: leave kafka.authentication at the profile's value",
                ],
            },
        ],
    },
    {
        title: "Connect's KafkaUser left to someone else (not declared by the stack)",
        mutate: (rs) => remove(rs, byName(rs, KAFKA_USER, "cdc-connect")),
        expect: [
            {
                policy: "kafka-user-stack-owned",
                includes: ['KafkaAccess "cdc/cdc-connect-kafka-access" binds KafkaUser "cdc-connect", which this stack does not declare'],
            },
            {
                policy: "kafka-user-stack-owned",
                includes: [
                    'KafkaConnect "cdc/cdc-connect" reads its credential through KafkaAccess "cdc/cdc-connect-kafka-access", whose KafkaUser this stack does not declare',
                ],
            },
        ],
    },
    {
        title: "Connect authenticating as another SCRAM user than its own",
        mutate: (rs) => (connect(rs).props.spec.authentication.username = "cdc-pulumi-admin"),
        expect: [
            {
                policy: "kafka-user-stack-owned",
                includes: ['KafkaConnect "cdc/cdc-connect" authenticates as "cdc-pulumi-admin", not as its KafkaUser "cdc-connect"'],
            },
        ],
    },
    // NetworkPolicies
    {
        title: "a reconciliation CronJob without its NetworkPolicy",
        mutate: (rs) => remove(rs, byName(rs, NETWORK_POLICY, "cdc-reconciler-sales")),
        expect: [
            {
                policy: "workload-network-policy",
                includes: [
                    'CronJob "cdc/cdc-reconciler-sales" runs pods no NetworkPolicy of this stack isolates for ingress and egress',
                    "Fix: keep network.enabled on",
                ],
            },
        ],
    },
    {
        title: "a maintenance NetworkPolicy that no longer isolates egress",
        mutate: (rs) => (byName(rs, NETWORK_POLICY, "cdc-lakehouse-sales-maintenance").props.spec.policyTypes = ["Ingress"]),
        expect: [
            {
                policy: "workload-network-policy",
                includes: ['CronJob "cdc/cdc-lakehouse-sales-maintenance" runs pods no NetworkPolicy of this stack isolates for egress'],
            },
        ],
    },
    {
        title: "a writer NetworkPolicy rule that lets the writer connect anywhere on 443",
        mutate: (rs) =>
            byName(rs, NETWORK_POLICY, "cdc-lakehouse-sales").props.spec.egress.push({
                to: [{ ipBlock: { cidr: "0.0.0.0/0" } }],
                ports: [{ protocol: "TCP", port: 443 }],
            }),
        expect: [
            {
                policy: "workload-network-policy",
                includes: [
                    'NetworkPolicy "cdc/cdc-lakehouse-sales" egress rule 3 lets its pods connect to anything (it allows 0.0.0.0/0)',
                    "Fix: name the pods, namespaces or networks",
                ],
            },
        ],
    },
    {
        title: "a writer NetworkPolicy ingress rule without peers",
        mutate: (rs) => delete byName(rs, NETWORK_POLICY, "cdc-lakehouse-sales").props.spec.ingress[0].from,
        expect: [
            {
                policy: "workload-network-policy",
                includes: ['NetworkPolicy "cdc/cdc-lakehouse-sales" ingress rule 0 accepts connections from anything (it names no peers)'],
            },
        ],
    },
    // Disruption budgets
    {
        title: "a prod Connect cluster with one worker",
        mutate: (rs) => (connect(rs).props.spec.replicas = 1),
        expect: [
            {
                policy: "connect-disruption-budget",
                includes: [
                    'KafkaConnect "cdc/cdc-connect" runs 1 worker(s), below this environment\'s 2',
                    "Fix: set connect.replicas to 2 or more",
                ],
            },
            {
                policy: "connect-disruption-budget",
                includes: ['KafkaConnect "cdc/cdc-connect" lets a drain evict 1 of its 1 workers at once'],
            },
        ],
    },
    {
        title: "a Connect disruption budget that blocks every drain",
        mutate: (rs) => (connect(rs).props.spec.template.podDisruptionBudget.maxUnavailable = 0),
        expect: [
            {
                policy: "connect-disruption-budget",
                includes: [
                    'KafkaConnect "cdc/cdc-connect" sets template.podDisruptionBudget.maxUnavailable 0',
                    "Fix: set maxUnavailable to 1",
                ],
            },
        ],
    },
    {
        title: "a lakehouse writer without its PodDisruptionBudget",
        mutate: (rs) => remove(rs, byName(rs, PDB, "cdc-lakehouse-sales")),
        expect: [
            {
                policy: "deployment-disruption-budget",
                includes: [
                    'Deployment "cdc/cdc-lakehouse-sales" has no PodDisruptionBudget of this stack',
                    "Fix: give it a policy/v1 PodDisruptionBudget",
                ],
            },
        ],
    },
    {
        title: "a writer budget that blocks every drain",
        mutate: (rs) => {
            const spec = byName(rs, PDB, "cdc-lakehouse-sales").props.spec;
            delete spec.maxUnavailable;
            spec.minAvailable = "100%";
        },
        expect: [
            {
                policy: "deployment-disruption-budget",
                includes: [
                    'PodDisruptionBudget "cdc/cdc-lakehouse-sales" lets no pod of Deployment "cdc/cdc-lakehouse-sales" be evicted',
                    "Fix: set maxUnavailable to 1",
                ],
            },
        ],
    },
    // Stack-level coverage
    {
        title: "a captured table missing from the reconciliation list",
        mutate: (rs) => {
            const configMap = one(
                rs.filter((r) => r.type === CONFIGMAP && r.props.metadata.name === "cdc-reconciler-config"),
                "reconciler ConfigMap",
            );
            for (const [key, text] of Object.entries<string>(configMap.props.data)) {
                const file = JSON.parse(text);
                file.tables = file.tables.filter((t: { source: string }) => t.source !== "dbo.orders");
                configMap.props.data[key] = JSON.stringify(file);
            }
        },
        expect: [
            {
                policy: "captured-table-coverage",
                includes: [
                    "Table dbo.orders is replicated but never reconciled",
                    'CronJob "cdc/cdc-reconciler-sales"',
                    "Fix: add the table to the reconciliation job's table list",
                ],
            },
        ],
    },
    {
        title: "a captured table whose data topic is not declared",
        mutate: (rs) => remove(rs, topic(rs, ORDERS)),
        expect: [
            {
                policy: "captured-table-coverage",
                includes: [`Table dbo.orders (captured by ${SOURCE}) has no declared topic "${ORDERS}"`, "Fix: declare the data topic"],
            },
        ],
    },
    {
        title: "a CDC-enabled signal table the source does not use as its signal table",
        mutate: (rs) => (config(rs, "source")["signal.data.collection"] = "SalesDB.dbo.other_signal"),
        expect: [
            {
                policy: "captured-table-coverage",
                includes: [
                    "Table dbo.debezium_signal is captured (SQL Server CDC enablement",
                    "no source connector's table.include.list covers it",
                ],
            },
        ],
    },
    {
        title: "a CDC-enabled, reconciled table no source connector covers",
        mutate: (rs) => {
            const c = config(rs, "source");
            c["table.include.list"] = c["table.include.list"]
                .split(",")
                .filter((t) => t !== "dbo.orders")
                .join(",");
        },
        expect: [
            {
                policy: "captured-table-coverage",
                includes: [
                    "Table dbo.orders is captured (SQL Server CDC enablement",
                    "no source connector's table.include.list covers it",
                    "Fix: add it to the source's tables",
                ],
            },
        ],
    },
    {
        title: "a captured table no sink reads",
        mutate: (rs) => {
            const c = config(rs, "sink");
            c.topics = c.topics
                .split(",")
                .filter((t) => t !== ORDERS)
                .join(",");
        },
        expect: [
            {
                policy: "captured-table-coverage",
                includes: [
                    `Table dbo.orders: no sink connector reads its topic "${ORDERS}"`,
                    "Fix: add the topic to the pipeline sink's topics",
                ],
            },
        ],
    },
    // The configuration guard
    {
        title: "a dev-tagged stack checked with the prod configuration",
        mutate: () => undefined,
        stackTags: { environment: "dev" },
        expect: [
            {
                policy: "policy-config-matches-stack",
                includes: [
                    "This is a dev stack (stack tag environment) but the policy pack runs with the prod configuration",
                    "Fix: run with --policy-pack-config policies/dev.json",
                ],
            },
        ],
    },
];

describe("policy pack against one-field mutations of the real program", function () {
    this.timeout(60000);
    const baselines = new Map<string, AnalyzedResource[]>();
    const baseline = async (stack: ShippedStack): Promise<AnalyzedResource[]> => {
        if (!baselines.has(stack)) baselines.set(stack, await resourcesOf(await runProgram(stack, false), stack));
        return cloneResources(baselines.get(stack)!);
    };
    const run = async (stack: ShippedStack, resources: AnalyzedResource[], c: Case) => {
        const config = shippedPackConfig(stack);
        c.config?.(config);
        return analyze(POLICIES, resources, { config, stackTags: c.stackTags ?? { environment: stack } });
    };

    for (const c of CASES) {
        it(c.title, async () => {
            const stack = c.stack ?? "prod";
            const resources = await baseline(stack);
            if (c.base) {
                c.base(resources);
                const clean = await run(stack, resources, { ...c, stackTags: undefined });
                expect(
                    clean.diagnostics.map((d) => `${d.policy}: ${d.message}`),
                    "the valid variant this case starts from",
                ).to.deep.equal([]);
            }
            c.mutate(resources);
            expectExactly(await run(stack, resources, c), c.expect);
        });
    }

    it("covers every policy of the pack with at least one mutation", () => {
        const caught = new Set(CASES.flatMap((c) => c.expect.map((e) => e.policy)));
        expect(POLICIES.map((p) => p.name).filter((name) => !caught.has(name))).to.deep.equal([]);
    });
});

/** Broken stack configurations the config layer accepts (at most with a warning): the whole program runs. */
const CONFIG_CASES: { title: string; edit: (pipeline: Record<string, any>) => void; expect: ExpectedViolation[] }[] = [
    {
        title: "prod stack config with heartbeatIntervalMs: 0",
        edit: (pipeline) => (pipeline.source.heartbeatIntervalMs = 0),
        expect: [
            {
                policy: "source-heartbeat",
                level: "advisory",
                includes: [`${SOURCE} has no heartbeat (heartbeat.interval.ms=0)`, "Fix: set heartbeat.interval.ms"],
            },
        ],
    },
    {
        title: "prod stack config with errorsTolerance: none and a dead letter queue",
        edit: (pipeline) => (pipeline.sink.errorsTolerance = "none"),
        expect: [
            { policy: "sink-dead-letter-queue", includes: [`${SINK} names a dead letter queue ("${DLQ}") but errors.tolerance is none`] },
        ],
    },
];

describe("policy pack against broken prod stack configurations, through the whole program", function () {
    this.timeout(60000);
    for (const c of CONFIG_CASES) {
        it(c.title, async () => {
            const run = await runEditedProgram("prod", true, (config) => c.edit(config["cdc-pipeline:pipelines"][0]));
            const result = await analyze(POLICIES, await resourcesOf(run, "prod"), {
                config: shippedPackConfig("prod"),
                stackTags: { environment: "prod" },
            });
            expectExactly(result, c.expect);
        });
    }
});
