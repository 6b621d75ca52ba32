/**
 * Every connector config the stack renders uses only keys the real connectors, Kafka Connect and the
 * configured transforms read, with values their validators accept, checked against the catalogs
 * scripts/setup.sh derives from the pinned plugin archives (test/contracts/derive-catalogs.ts).
 */
import { expect } from "chai";
import * as path from "path";
import { parseStackSpec } from "../../plan/stack-spec";
import type { StackSpec } from "../../model/spec";
import { CONNECTOR_PLUGINS } from "../../connectors/catalog";
import {
    DECIMAL_HANDLING_MODES,
    INSERT_MODES,
    SNAPSHOT_MODES,
    SQLSERVER_SNAPSHOT_ISOLATION_MODES,
    TIME_PRECISION_MODES,
} from "../../model/options";
import { renderConnectors, SOURCE_PLUGINS } from "../../connectors/render";
import { clusterConnectorContext } from "../../plan/connect-cluster";
import { catalogForClass, hasDerivedCatalog, validateConnectorConfig, validateTransforms } from "../helpers/catalogs";
import { rawProjectConfig, SHIPPED_STACKS } from "../helpers/stack-files";
import { readCatalog } from "./derive-catalogs";

/** The shipped stacks, plus one that renders every source kind and both sink implementations. */
function specsUnderTest(): Array<{ label: string; spec: StackSpec; shipped: boolean }> {
    const specs = SHIPPED_STACKS.map((s) => ({
        label: `shipped ${s} stack`,
        spec: parseStackSpec(rawProjectConfig(s)).spec,
        shipped: true,
    }));
    const raw = structuredClone(rawProjectConfig("prod")) as Record<string, any>;
    const sink = (schema: string) => ({ host: "warehouse", database: "warehouse", schema });
    raw.pipelines.push(
        {
            name: "crm",
            source: {
                kind: "postgres",
                host: "crm-db",
                database: "crm",
                signalTable: "public.debezium_signal",
                tables: [{ name: "public.customers", primaryKey: ["customer_id"] }],
            },
            sink: sink("crm"),
        },
        {
            name: "inventory",
            source: {
                kind: "mysql",
                host: "inventory-db",
                database: "inventory",
                tables: [{ name: "inventory.products", primaryKey: ["product_id"] }],
            },
            sink: { ...sink("inventory"), implementation: "confluent", autoCreate: true },
        },
        {
            name: "billing",
            source: {
                kind: "mariadb",
                host: "billing-db",
                database: "billing",
                tables: [{ name: "billing.invoices", primaryKey: ["invoice_id"] }],
            },
            sink: sink("billing"),
        },
    );
    specs.push({ label: "prod with every source kind and sink", spec: parseStackSpec(raw).spec, shipped: false });
    return specs;
}

const SQLSERVER = "io.debezium.connector.sqlserver.SqlServerConnector";
const JDBC_SINK = "io.debezium.connector.jdbc.JdbcSinkConnector";
const CONFLUENT_SINK = "io.confluent.connect.jdbc.JdbcSinkConnector";

function rendered(stack: "dev" | "prod") {
    const spec = parseStackSpec(rawProjectConfig(stack)).spec;
    return renderConnectors(spec, clusterConnectorContext(spec));
}

describe("connector configs against the catalogs derived from the pinned plugins", () => {
    for (const { label, spec, shipped } of specsUnderTest()) {
        describe(label, () => {
            for (const connector of renderConnectors(spec, clusterConnectorContext(spec))) {
                const cls = connector.connectorClass;
                if (hasDerivedCatalog(cls)) {
                    it(`uses only real ${cls.split(".").pop()} properties and allowed values in ${connector.name}`, () => {
                        expect(validateConnectorConfig(cls, connector.role, connector.config)).to.deep.equal([]);
                    });
                } else {
                    it(`${connector.name}: ${cls} has no catalog to check its own keys against, so no shipped stack may use it; its transforms are checked`, () => {
                        expect(shipped, `${label} renders ${cls}`).to.equal(false);
                        expect(() => validateConnectorConfig(cls, connector.role, connector.config)).to.throw(
                            `no property catalog for ${cls}`,
                        );
                        expect(validateTransforms(cls, connector.config)).to.deep.equal([]);
                    });
                }
            }
        });
    }

    it("derives each catalog from the pinned archive of connectors/catalog.ts", () => {
        for (const plugin of Object.values(CONNECTOR_PLUGINS).filter((p) => p.archive)) {
            const catalog = catalogForClass(plugin.connectorClass);
            expect(catalog.archiveSha512, plugin.id).to.equal(plugin.archive!.sha512);
            expect(catalog.version, plugin.id).to.equal(plugin.artifacts[0].version);
            expect(catalog.kind, plugin.id).to.equal(plugin.kind);
        }
    });

    it("fails, naming the class and the reason, for a connector class without a catalog", () => {
        expect(() => catalogForClass(CONFLUENT_SINK)).to.throw(
            `no property catalog for ${CONFLUENT_SINK}: io.confluent:kafka-connect-jdbc is served only from https://packages.confluent.io/maven/, not Maven Central`,
        );
        expect(() => catalogForClass("com.example.UnknownConnector")).to.throw(
            "com.example.UnknownConnector is not a connector of connectors/catalog.ts",
        );
    });

    it("fails with the command to run when a catalog was not derived", () => {
        const file = path.join(__dirname, "no-such-catalog.json");
        expect(() => readCatalog(file)).to.throw(`${file} is missing: run scripts/setup.sh`);
    });

    it("catches unknown keys, renamed keys and values the connector's validators refuse (the checker can fail)", () => {
        const [source, sink] = rendered("dev");
        expect(source.connectorClass).to.equal(SQLSERVER);
        expect(
            validateConnectorConfig(SQLSERVER, "source", {
                ...source.config,
                "snapshot.mode": "schema_only",
                "databse.names": "x",
                "max.batch.size": "lots",
                "tombstones.on.delete": "yes",
                "errors.tolerance": "ALL",
                "internal.legacy.snapshot.max.threads": "true",
                "column.mask.with.12.chars": "dbo.customers.ssn",
                "column.mask.with.x.chars": "dbo.customers.ssn",
                "driver.loginTimeout": "30",
            }),
        ).to.deep.equal([
            'snapshot.mode: value "schema_only" not in always|configuration_based|custom|initial|initial_only|no_data|recovery|when_needed|when_needed_no_data',
            'tombstones.on.delete: value "yes" is not a boolean',
            'max.batch.size: value "lots" is not an integer',
            `databse.names is not a property of ${SQLSERVER} or of Kafka Connect`,
            'errors.tolerance: value "ALL" not in none|all',
            "internal.legacy.snapshot.max.threads is a deprecated alias of legacy.snapshot.max.threads",
            `column.mask.with.x.chars is not a property of ${SQLSERVER} or of Kafka Connect`,
        ]);
        expect(validateConnectorConfig(JDBC_SINK, "source", sink.config)).to.include(`${JDBC_SINK} is a sink connector, not a source`);
        expect(
            validateConnectorConfig(JDBC_SINK, "sink", {
                ...sink.config,
                "table.name.format": "public.${topic}",
                "snapshot.mode": "initial",
            }),
        ).to.deep.equal([
            "table.name.format is a deprecated alias of collection.name.format",
            `snapshot.mode is not a property of ${JDBC_SINK} or of Kafka Connect`,
        ]);
    });

    it("checks transform options against the transformation's own ConfigDef", () => {
        const [, sink] = rendered("dev");
        const config = {
            ...sink.config,
            transforms: "unwrap,route",
            "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
            "transforms.unwrap.delete.tombstone.handling.mode": "rewrite-all",
            "transforms.unwrap.drop.tombstones": "false",
            "transforms.unwrap.predicate": "isData",
            "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
            "transforms.route.regex": "(.*)",
            "transforms.reroute.replacement": "$1",
        };
        expect(validateConnectorConfig(JDBC_SINK, "sink", config)).to.deep.equal([
            'transforms.unwrap.delete.tombstone.handling.mode: value "rewrite-all" not in delete-to-tombstone|drop|rewrite|rewrite-with-tombstone|tombstone',
            "transforms.unwrap.drop.tombstones: io.debezium.transforms.ExtractNewRecordState has no option drop.tombstones",
            "transforms.unwrap.predicate: predicate alias isData is not listed in predicates",
            "transforms.reroute.replacement: alias reroute is not listed in transforms",
        ]);
        expect(validateTransforms(CONFLUENT_SINK, { transforms: "x", "transforms.x.type": "com.example.Missing" })).to.deep.equal([
            "transforms.x.type: com.example.Missing is not a transformation of Kafka Connect or of any catalog plugin",
        ]);
    });

    it("accepts only enum values the real connectors define", () => {
        const allowed = (cls: string, key: string) => catalogForClass(cls).properties.find((p) => p.name === key)!.allowed!;
        for (const [kind, plugin] of Object.entries(SOURCE_PLUGINS)) {
            const cls = CONNECTOR_PLUGINS[plugin].connectorClass;
            expect(allowed(cls, "snapshot.mode"), kind).to.include.members([...SNAPSHOT_MODES[kind as keyof typeof SOURCE_PLUGINS]]);
            expect(allowed(cls, "decimal.handling.mode"), kind).to.include.members([...DECIMAL_HANDLING_MODES]);
            expect(allowed(cls, "time.precision.mode"), kind).to.include.members([...TIME_PRECISION_MODES]);
        }
        expect(allowed(SQLSERVER, "snapshot.isolation.mode")).to.include.members([...SQLSERVER_SNAPSHOT_ISOLATION_MODES]);
        expect(allowed(JDBC_SINK, "insert.mode")).to.include.members([...INSERT_MODES]);
    });
});
