/**
 * Every `key.converter.*` / `value.converter.*` key the stack renders is one the pinned Apicurio converter reads,
 * with a value its options accept, checked against the catalog scripts/setup.sh derives from the checksum-pinned jar
 * (test/contracts/derive-converter-catalog.ts). Kafka Connect hands these keys to the converter unchecked and the
 * converter ignores the ones it does not know, so a typo would silently fall back to a default (for
 * `as-confluent`: Apicurio headers no Confluent reader understands).
 */
import { expect } from "chai";
import { parseStackSpec } from "../../plan/stack-spec";
import type { StackSpec } from "../../model/spec";
import { AVRO_CONVERTER } from "../../connectors/converters";
import { renderConnectors } from "../../connectors/render";
import { clusterConnectorContext } from "../../plan/connect-cluster";
import { shippedRaw } from "../helpers/config-problems";
import { ConverterCatalog, readConverterCatalog } from "./derive-converter-catalog";

function converterProblems(catalog: ConverterCatalog, config: Record<string, string>): string[] {
    const known = new Map(catalog.properties.map((p) => [p.name, p]));
    const problems: string[] = [];
    for (const side of ["key", "value"]) {
        const converter = config[`${side}.converter`];
        if (converter === undefined) continue;
        if (converter !== AVRO_CONVERTER.converterClass) {
            problems.push(`${side}.converter is ${converter}, not the pinned ${AVRO_CONVERTER.converterClass}`);
            continue;
        }
        const prefix = `${side}.converter.`;
        for (const [key, value] of Object.entries(config)) {
            if (!key.startsWith(prefix)) continue;
            const name = key.slice(prefix.length);
            const prop = known.get(name);
            if (!prop) {
                if (!catalog.prefixes.some((p) => name.startsWith(p.prefix)))
                    problems.push(`${key}: ${AVRO_CONVERTER.converterClass} ${catalog.version} reads no ${name}`);
                continue;
            }
            if (value.includes("${")) continue;
            if (prop.type === "boolean" && !/^(true|false)$/i.test(value)) problems.push(`${key}: ${value} is not a boolean`);
            if (prop.allowed && !prop.allowed.includes(value)) problems.push(`${key}: ${value} is not one of ${prop.allowed.join(", ")}`);
        }
    }
    return problems;
}

const variants: Array<[string, (raw: Record<string, any>) => void]> = [
    ["shipped prod stack", () => undefined],
    ["shipped dev stack", () => undefined],
    ["prod with pre-registered schemas", (raw) => (raw.schemaRegistry.registration = "preregistered")],
];

function specOf(label: string, edit: (raw: Record<string, any>) => void): StackSpec {
    const raw = shippedRaw(label.includes("dev") ? "dev" : "prod");
    edit(raw);
    return parseStackSpec(raw).spec;
}

describe("converter configs against the catalog derived from the pinned Apicurio converter", () => {
    const catalog = readConverterCatalog();

    it("was derived from the pinned jar, whose missing ServiceLoader manifest the Connect plan accounts for", () => {
        expect(catalog.jarSha512).to.equal(AVRO_CONVERTER.sha512);
        expect(catalog.version).to.equal(AVRO_CONVERTER.artifact.version);
        expect(catalog.serviceManifest, "connectors/converters.ts AVRO_CONVERTER.serviceManifest").to.equal(AVRO_CONVERTER.serviceManifest);
    });

    it("catches a key the converter does not read and values its options refuse (the checker can fail)", () => {
        const config = {
            "value.converter": AVRO_CONVERTER.converterClass,
            "value.converter.apicurio.registry.as-confluents": "true",
            "value.converter.apicurio.registry.use-id": "schemaId",
            "value.converter.apicurio.registry.auto-register": "yes",
            "value.converter.apicurio.registry.request.headers.X-Team": "cdc",
        };
        expect(converterProblems(catalog, config)).to.deep.equal([
            `value.converter.apicurio.registry.as-confluents: ${AVRO_CONVERTER.converterClass} 2.6.13.Final reads no apicurio.registry.as-confluents`,
            "value.converter.apicurio.registry.use-id: schemaId is not one of globalId, contentId",
            "value.converter.apicurio.registry.auto-register: yes is not a boolean",
        ]);
    });

    for (const [label, edit] of variants) {
        describe(label, () => {
            const spec = specOf(label, edit);
            for (const connector of renderConnectors(spec, clusterConnectorContext(spec))) {
                it(`${connector.name}: every converter key is read by the converter, with an accepted value`, () => {
                    expect(connector.config["value.converter"]).to.equal(AVRO_CONVERTER.converterClass);
                    expect(converterProblems(catalog, connector.config)).to.deep.equal([]);
                });
            }
        });
    }
});
