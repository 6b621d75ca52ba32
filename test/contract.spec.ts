/**
 * Contract tests: what the stack renders must be accepted by the real Strimzi 1.2 CRDs and use only
 * properties the real connectors (Debezium 3.6.1, Kafka Connect) read, with allowed enum values.
 */
import { expect } from "chai";
import { parseStackSpec } from "../config/resolve";
import type { StackSpec } from "../config/spec";
import { renderConnectors } from "../connectors/render";
import {
    DECIMAL_HANDLING_MODES,
    INSERT_MODES,
    SNAPSHOT_MODES,
    SQLSERVER_SNAPSHOT_ISOLATION_MODES,
    TIME_PRECISION_MODES,
} from "../connectors/options";
import { clusterConnectorContext, kafkaConnectBody } from "../plan/connect-cluster";
import { kafkaConnectorBody } from "../plan/kafka-connector";
import { catalogForClass, validateConnectorConfig } from "./helpers/catalogs";
import { validateManifest } from "./helpers/k8s-schemas";
import { rawProjectConfig, SHIPPED_STACKS } from "./helpers/stack-files";

/** The shipped stacks plus one with every source kind and the Confluent sink, so every builder is covered. */
function specsUnderTest(): Array<[string, StackSpec]> {
    const specs: Array<[string, StackSpec]> = SHIPPED_STACKS.map((s) => [s, parseStackSpec(rawProjectConfig(s)).spec]);
    const raw = structuredClone(rawProjectConfig("prod")) as Record<string, any>;
    raw.pipelines.push(
        {
            name: "crm",
            source: { kind: "postgres", host: "crm-db", database: "crm", signalTable: "public.debezium_signal", tables: [{ name: "public.customers", primaryKey: ["customer_id"] }] },
            sink: { host: "warehouse", database: "warehouse", schema: "crm" },
        },
        {
            name: "inventory",
            source: { kind: "mysql", host: "inventory-db", database: "inventory", tables: [{ name: "inventory.products", primaryKey: ["product_id"] }] },
            sink: { implementation: "confluent", host: "warehouse", database: "warehouse", schema: "inventory", autoCreate: true },
        },
    );
    specs.push(["prod with every source kind", parseStackSpec(raw).spec]);
    return specs;
}

describe("contract with the real schemas and connector catalogs", function () {
    for (const [label, spec] of specsUnderTest()) {
        describe(label, () => {
            it("renders a KafkaConnect the Strimzi 1.2 CRD accepts, with no undeclared keys", () => {
                expect(validateManifest(kafkaConnectBody(spec) as any)).to.deep.equal([]);
            });

            for (const connector of renderConnectors(spec, clusterConnectorContext(spec))) {
                it(`renders KafkaConnector ${connector.name} the Strimzi 1.2 CRD accepts`, () => {
                    expect(validateManifest(kafkaConnectorBody(connector, spec.namespace, spec.connect.name) as any)).to.deep.equal([]);
                });

                it(`uses only real ${connector.connectorClass.split(".").pop()} properties and allowed values in ${connector.name}`, () => {
                    expect(validateConnectorConfig(connector.connectorClass, connector.role, connector.config)).to.deep.equal([]);
                });
            }
        });
    }

    it("catches an undeclared CR key and a connector property typo (the validators can fail)", () => {
        const spec = parseStackSpec(rawProjectConfig("dev")).spec;
        const [source] = renderConnectors(spec, clusterConnectorContext(spec));
        const body = kafkaConnectorBody(source, spec.namespace, spec.connect.name) as any;
        body.spec.taskMax = 1;
        expect(validateManifest(body)).to.deep.equal(["KafkaConnector.spec.taskMax is not declared by the schema"]);
        expect(validateConnectorConfig(source.connectorClass, "source", { ...source.config, "snapshot.mode": "schema_only", "databse.names": "x" })).to.deep.equal([
            'snapshot.mode: value "schema_only" not in always|initial|initial_only|no_data|recovery|when_needed|configuration_based|custom|when_needed_no_data',
            "databse.names is not a property of io.debezium.connector.sqlserver.SqlServerConnector or of Kafka Connect",
        ]);
    });

    it("accepts only enum values the real connectors define", () => {
        const allowed = (cls: string, key: string) => catalogForClass(cls).properties.find((p) => p.name === key)!.allowed!;
        const classes = {
            sqlserver: "io.debezium.connector.sqlserver.SqlServerConnector",
            postgres: "io.debezium.connector.postgresql.PostgresConnector",
            mysql: "io.debezium.connector.mysql.MySqlConnector",
        } as const;
        for (const [kind, cls] of Object.entries(classes)) {
            expect(allowed(cls, "snapshot.mode"), kind).to.include.members([...SNAPSHOT_MODES[kind as keyof typeof classes]]);
            expect(allowed(cls, "decimal.handling.mode")).to.include.members([...DECIMAL_HANDLING_MODES]);
            expect(allowed(cls, "time.precision.mode")).to.include.members([...TIME_PRECISION_MODES]);
        }
        expect(allowed(classes.sqlserver, "snapshot.isolation.mode")).to.include.members([...SQLSERVER_SNAPSHOT_ISOLATION_MODES]);
        expect(allowed("io.debezium.connector.jdbc.JdbcSinkConnector", "insert.mode")).to.include.members([...INSERT_MODES]);
    });
});
