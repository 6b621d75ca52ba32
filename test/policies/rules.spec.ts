/**
 * The pack's readers on their own (credential keys, config-provider references, Vault policy documents, topic
 * coverage), and how the pack behaves on values that are unknown during preview.
 */
import "./helpers/capture";
import { expect } from "chai";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import {
    connectorView,
    embeddedLiteralSecrets,
    isConfigProviderReference,
    isCredentialKey,
    sinkConsumes,
    sourceCovers,
} from "../../policies/lib/connectors";
import { grantedCapabilities, literalSegments, parseVaultPolicy, reachesPrefix } from "../../policies/lib/vault-policy";
import { POLICIES } from "../../policies/pack";
import { reconcilerUrlTls, VERIFYING_SSL_MODES as PACK_VERIFYING_MODES } from "../../policies/lib/tls";
import { jdbcSslMode } from "../../policies/rules/sinks";
import { VERIFYING_SSL_MODES } from "../../model/tls";
import { runProgram } from "../helpers/program";
import { analyze } from "./helpers/analyzer";
import { expectExactly } from "./helpers/expect";
import { cloneResources, resourcesOf, shippedPackConfig } from "./helpers/stack";

describe("credential-looking config keys", () => {
    it("treats passwords, secrets, tokens, keys and users as credentials", () => {
        for (const key of [
            "database.password",
            "connection.password",
            "database.user",
            "connection.user",
            "connection.username",
            "ssl.key.password",
            "ssl.truststore.password",
            "api.key",
            "aws.secret.access.key",
            "sasl.oauthbearer.client.secret",
            "access.token",
            "basic.auth.user.info",
            "schema.registry.basic.auth.user.info",
        ]) {
            expect(isCredentialKey(key), key).to.equal(true);
        }
    });

    it("does not mistake converters, key settings or JAAS/URL containers for credentials", () => {
        for (const key of [
            "key.converter",
            "key.converter.schemas.enable",
            "value.converter",
            "primary.key.mode",
            "primary.key.fields",
            "pk.fields",
            "message.key.columns",
            "key.ignore",
            "tombstones.on.delete",
            "sasl.jaas.config",
            "sasl.oauthbearer.token.endpoint.url",
            "connection.url",
            "topic.prefix",
            "user.timezone",
        ]) {
            expect(isCredentialKey(key), key).to.equal(false);
        }
    });

    it("accepts only whole config-provider references as credential values", () => {
        for (const value of [
            "${secrets:cdc/sales-source-db:password}",
            "${env:DB_PASSWORD}",
            "${file:/opt/kafka/creds.properties:password}",
            "${dir:/mnt/creds:user}",
        ]) {
            expect(isConfigProviderReference(value), value).to.equal(true);
        }
        for (const value of ["hunter2", "", "${secrets}", "prefix-${secrets:cdc/a:b}", "${secrets:cdc/a:b}-suffix", "$secrets:cdc/a:b"]) {
            expect(isConfigProviderReference(value), value).to.equal(false);
        }
    });

    it("finds literal secrets embedded in JAAS configs and JDBC URLs, and accepts embedded references", () => {
        expect(
            embeddedLiteralSecrets('ScramLoginModule required username="cdc" password="${secrets:cdc/cdc-connect:password}";'),
        ).to.deep.equal([]);
        expect(embeddedLiteralSecrets('ScramLoginModule required username="cdc" password="p@ss";')).to.deep.equal(["p@ss"]);
        expect(embeddedLiteralSecrets("jdbc:postgresql://db:5432/warehouse?user=cdc&password=p4ss")).to.deep.equal(["p4ss"]);
        expect(embeddedLiteralSecrets("jdbc:postgresql://db:5432/warehouse?sslmode=verify-full")).to.deep.equal([]);
    });

    it("lets key.converter and other non-credential literals through the policy itself", async () => {
        const connector = {
            type: "kubernetes:kafka.strimzi.io/v1:KafkaConnector",
            name: "hand-built",
            urn: "urn:pulumi:test::p::kubernetes:kafka.strimzi.io/v1:KafkaConnector::hand-built",
            props: {
                metadata: { name: "c", namespace: "ns", labels: {} },
                spec: {
                    class: "io.debezium.connector.jdbc.JdbcSinkConnector",
                    config: {
                        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
                        "primary.key.mode": "record_key",
                        "connection.username": "${secrets:ns/s:username}",
                    },
                },
            },
            opts: {
                protect: false,
                ignoreChanges: [],
                aliases: [],
                customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
                additionalSecretOutputs: [],
            },
            dependencies: [],
            propertyDependencies: {},
        };
        const credentials = POLICIES.filter((p) => p.name === "connector-credentials-by-reference");
        expect((await analyze(credentials, [connector])).diagnostics).to.deep.equal([]);
    });
});

describe("database TLS", () => {
    const mariaDbSource = (sslMode: string) => ({
        type: "kubernetes:kafka.strimzi.io/v1:KafkaConnector",
        name: "shop",
        urn: "urn:pulumi:test::p::kubernetes:kafka.strimzi.io/v1:KafkaConnector::shop",
        props: {
            metadata: { name: "shop-mariadb-source", namespace: "ns", labels: {} },
            spec: {
                class: "io.debezium.connector.mariadb.MariaDbConnector",
                config: { "database.ssl.mode": sslMode, "database.include.list": "shop" },
            },
        },
        opts: {
            protect: false,
            ignoreChanges: [],
            aliases: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            additionalSecretOutputs: [],
        },
        dependencies: [],
        propertyDependencies: {},
    });
    const encryption = POLICIES.filter((p) => p.name === "source-database-encryption");

    it("accepts MariaDB's own verifying modes and refuses MySQL's spelling, which the MariaDB connector does not know", async () => {
        for (const mode of ["verify-full", "verify-ca"])
            expect((await analyze(encryption, [mariaDbSource(mode)])).diagnostics, mode).to.deep.equal([]);
        const wrong = await analyze(encryption, [mariaDbSource("verify_identity")]);
        expect(wrong.diagnostics.map((d) => d.message)).to.have.length(1);
        expect(wrong.diagnostics[0].message)
            .to.include("database.ssl.mode=verify_identity")
            .and.include("Fix: set database.ssl.mode to verify-ca or verify-full");
    });

    it("keeps the same verifying mode names as the stack (the pack ships alone, so it has its own copy)", () => {
        expect(Object.fromEntries(Object.entries(PACK_VERIFYING_MODES).map(([kind, rule]) => [kind, rule.allowed]))).to.deep.equal(
            VERIFYING_SSL_MODES,
        );
    });

    it("reads a reconciler URL's TLS settings in the reconciler's spelling, from a template as well as a URL", () => {
        const template =
            "postgres://{{ .Secrets.username | urlquery }}:{{ .Secrets.password | urlquery }}@{{ .Secrets.host }}:{{ .Secrets.port }}/w";
        expect(reconcilerUrlTls(`${template}?sslmode=verify-full&sslrootcert=/ca.crt`)).to.deep.equal({
            settings: "sslmode=verify-full sslrootcert=/ca.crt",
            caFile: "/ca.crt",
        });
        expect(reconcilerUrlTls(`${template}?sslmode=require`).problem).to.equal(
            "sslmode require does not both encrypt and verify the server",
        );
        expect(reconcilerUrlTls(`${template}?sslmode=verify-ca`).problem).to.equal("no sslrootcert names the CA to verify the server with");
        expect(reconcilerUrlTls("mysql://u:p@db/shop?ssl-mode=VERIFY_IDENTITY&ssl-ca=/ca.crt")).to.deep.equal({
            settings: "ssl-mode=VERIFY_IDENTITY ssl-ca=/ca.crt",
            caFile: "/ca.crt",
        });
        expect(reconcilerUrlTls("mysql://u:p@db/shop?sslmode=verify-full&ssl-ca=/ca.crt").caFile).to.equal("/ca.crt");
        expect(reconcilerUrlTls("mysql://u:p@db/shop?ssl-mode=preferred").problem).to.match(
            /^ssl-mode preferred does not both encrypt and verify/,
        );
        expect(reconcilerUrlTls("mssql://u:p@db/SalesDB?encrypt=strict&trustServerCertificate=false")).to.deep.equal({
            settings: "encrypt=strict trustServerCertificate=false",
        });
        expect(reconcilerUrlTls("mssql://u:p@db/SalesDB").problem).to.equal("encrypt is not true (or strict)");
        expect(reconcilerUrlTls("oracle://u:p@db/x").problem).to.equal("the pack cannot read TLS settings of a oracle URL");
    });

    it("reads the sink's sslmode from its JDBC URL", () => {
        expect(jdbcSslMode("jdbc:postgresql://db:5432/w?sslmode=verify-full&sslrootcert=/ca.crt")).to.equal("verify-full");
        expect(jdbcSslMode("jdbc:postgresql://db:5432/w?sslrootcert=/ca.crt&SSLMODE=Require")).to.equal("require");
        expect(jdbcSslMode("jdbc:postgresql://db:5432/w")).to.equal(undefined);
    });
});

describe("table and topic coverage", () => {
    const source = connectorView(
        {
            metadata: { name: "s" },
            spec: {
                class: "io.debezium.connector.sqlserver.SqlServerConnector",
                config: { "table.include.list": "dbo\\.customers,sales\\.order.*", "database.names": "SalesDB", "topic.prefix": "p" },
            },
        },
        "s",
    );

    it("matches include-list entries as anchored, case-insensitive patterns", () => {
        expect(sourceCovers(source, { schema: "dbo", table: "Customers" })).to.equal(true);
        expect(sourceCovers(source, { schema: "sales", table: "order_items" })).to.equal(true);
        expect(sourceCovers(source, { schema: "dbo", table: "customers_archive" })).to.equal(false);
        expect(sourceCovers(source, { database: "OtherDB", schema: "dbo", table: "customers" })).to.equal(false);
    });

    it("reads topics and topics.regex of sinks", () => {
        const sink = connectorView(
            { spec: { class: "io.debezium.connector.jdbc.JdbcSinkConnector", config: { "topics.regex": "p\\.SalesDB\\..*" } } },
            "k",
        );
        expect(sinkConsumes(sink, "p.SalesDB.dbo.customers")).to.equal(true);
        expect(sinkConsumes(sink, "p.schema-history")).to.equal(false);
    });
});

describe("Vault policy documents", () => {
    it("reads JSON documents with legacy policies, comments and nested parameter objects", () => {
        const parsed = parseVaultPolicy(
            JSON.stringify({
                name: "cdc-prod-connect",
                path: {
                    "secret/data/db/sales/source": { capabilities: ["read", "LIST"], comment: "synced to Secret sales-source-db" },
                    "secret/db/*": { policy: "write" },
                    "secret/data/kafka/x": { capabilities: ["create"], allowed_parameters: { password: [] } },
                    "secret/data/y": { policy: "constructor" },
                },
            }),
        );
        expect(parsed.ok).to.equal(true);
        if (!parsed.ok) return;
        expect(parsed.rules.map((r) => r.path)).to.deep.equal([
            "secret/data/db/sales/source",
            "secret/db/*",
            "secret/data/kafka/x",
            "secret/data/y",
        ]);
        expect(parsed.rules[0].capabilities).to.deep.equal(["read", "list"]);
        expect(grantedCapabilities(parsed.rules[1])).to.include.members(["create", "update", "delete", "write"]);
        // An unknown shorthand grants itself, not whatever Object.prototype holds under that name.
        expect(grantedCapabilities(parsed.rules[3])).to.deep.equal(["constructor"]);
    });

    it("reports every document it cannot read with certainty instead of passing it", () => {
        const error = (text: string) => {
            const parsed = parseVaultPolicy(text);
            return parsed.ok ? "(read)" : parsed.error;
        };
        expect(error('path "secret/x" { capabilities = ["read"] }')).to.match(/^not JSON: /);
        expect(error('{"path": {"secret/x": {"capabilities": ["read"]}')).to.match(/^not JSON: /);
        expect(error('["secret/x"]')).to.equal('a policy document is a JSON object: {"path": {...}}');
        expect(error('{"path": {"secret/x": {"capabilities": ["update"]}, "secret/x": {"capabilities": ["read"]}}}')).to.equal(
            "a key appears twice in one object",
        );
        expect(error('{"path": [{"secret/x": {"capabilities": ["read"]}}]}')).to.equal('"path" must be an object of path rules');
        expect(error('{"path": {"secret/x": {"capabilities": "update"}}}')).to.equal(
            'path "secret/x": capabilities must be a list of strings',
        );
        expect(error('{"path": {"secret/x": ["read"]}}')).to.equal(
            'path "secret/x" must map to an object such as {"capabilities": ["read"]}',
        );
        expect(error('{"paths": {}}')).to.equal('Vault accepts only "name" and "path" at the top, not "paths"');
        expect(error('{"path": {"a:b": {"capabilities": ["read"], "comment": "x: y \\" :"}}}')).to.equal("(read)");
    });

    it("knows which path patterns reach the credential prefixes", () => {
        expect(reachesPrefix("secret/data/db/sales/source", "secret/data/db/")).to.equal(true);
        expect(reachesPrefix("secret/*", "secret/data/db/")).to.equal(true);
        expect(reachesPrefix("secret/+/db/*", "secret/data/db/")).to.equal(true);
        expect(reachesPrefix("*", "secret/db/")).to.equal(true);
        expect(reachesPrefix("secret/data/dbx/*", "secret/data/db/")).to.equal(false);
        expect(reachesPrefix("secret/data/kafka/connect", "secret/data/db/")).to.equal(false);
    });

    it("counts the literal segments before a wildcard, ignoring the KV v2 API segment", () => {
        expect(literalSegments("secret/data/db/*")).to.deep.equal(["secret", "db"]);
        expect(literalSegments("secret/db/sql*")).to.deep.equal(["secret", "db"]);
        expect(literalSegments("secret/data/*")).to.deep.equal(["secret"]);
        expect(literalSegments("*")).to.deep.equal([]);
        expect(literalSegments("+/data/db/*")).to.deep.equal([]);
    });
});

describe("unknown values during preview", function () {
    this.timeout(60000);

    it("still checks a KafkaConnector whose strimzi.io/cluster label is not known yet (an Output by design)", async () => {
        const resources = cloneResources(await resourcesOf(await runProgram("prod", true), "prod"));
        const sink = resources.find(
            (r) => r.type === "kubernetes:kafka.strimzi.io/v1:KafkaConnector" && r.props.metadata.labels["cdc.pipeline/role"] === "sink",
        )!;
        sink.props.metadata.labels["strimzi.io/cluster"] = unknownValue;
        const result = await analyze(POLICIES, resources, { config: shippedPackConfig("prod"), stackTags: { environment: "prod" } });
        expect(result.diagnostics).to.deep.equal([]);
        expect(result.applied.has("kafka-connector-cluster-label")).to.equal(true);

        delete sink.props.metadata.labels["strimzi.io/cluster"];
        const missing = await analyze(POLICIES, resources, { config: shippedPackConfig("prod"), stackTags: { environment: "prod" } });
        expect(missing.diagnostics.map((d) => d.policy)).to.deep.equal(["kafka-connector-cluster-label"]);
    });

    it("downgrades only the policies that read an unknown value to advisory, like the policy server", async () => {
        const resources = cloneResources(await resourcesOf(await runProgram("prod", true), "prod"));
        const orders = resources.find((r) => r.type === "kafka:index/topic:Topic" && r.props.name === "sqlserver.SalesDB.dbo.orders")!;
        orders.props.replicationFactor = unknownValue;
        const result = await analyze(POLICIES, resources, { config: shippedPackConfig("prod"), stackTags: { environment: "prod" } });
        expect(result.diagnostics.map((d) => [d.policy, d.level, d.unknown])).to.deep.equal([
            ["kafka-topic-replication-factor", "advisory", true],
            ["kafka-topic-min-insync-replicas", "advisory", true],
        ]);
        expect(result.diagnostics[0].message).to.include("can't be known during preview");
    });

    it("reports the same violation in preview and in an update when the value is known", async () => {
        for (const preview of [true, false]) {
            const resources = cloneResources(await resourcesOf(await runProgram("prod", preview), "prod"));
            resources.find((r) => r.type === "kafka:index/topic:Topic" && r.props.name === "sqlserver.schema-history")!.props.partitions =
                2;
            expectExactly(await analyze(POLICIES, resources, { config: shippedPackConfig("prod"), stackTags: { environment: "prod" } }), [
                { policy: "schema-history-topic", includes: ['Kafka topic "sqlserver.schema-history"', "partitions is 2"] },
            ]);
        }
    });
});
