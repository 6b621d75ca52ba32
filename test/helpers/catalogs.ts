/**
 * Checks connector configs against the real connectors' property catalogs in ../shared/catalogs:
 * every key must be one the connector (or the Kafka Connect framework, or a configured SMT) reads,
 * and enumerated values must be allowed ones.
 */
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "./stack-files";

const CATALOGS_DIR = path.join(REPO_ROOT, "..", "shared", "catalogs");

interface Property {
    name: string;
    type: string;
    allowed?: string[];
    applies_to?: "all" | "sink" | "source";
    deprecated?: boolean;
    deprecated_aliases?: string[];
}

interface Catalog {
    connector: string;
    kind?: string;
    properties: Property[];
    transforms?: Record<string, { properties: Property[] }>;
}

function read(file: string): Catalog {
    return JSON.parse(fs.readFileSync(path.join(CATALOGS_DIR, file), "utf8")) as Catalog;
}

export function catalogForClass(connectorClass: string): Catalog {
    for (const file of fs.readdirSync(CATALOGS_DIR).filter((f) => f.endsWith(".json"))) {
        const catalog = read(file);
        if (catalog.connector === connectorClass) return catalog;
    }
    throw new Error(`no catalog for ${connectorClass} in ../shared/catalogs`);
}

/** SMT options by transform class, from smt-catalog.json. */
function smtProperties(): Map<string, Property[]> {
    const raw = JSON.parse(fs.readFileSync(path.join(CATALOGS_DIR, "smt-catalog.json"), "utf8")) as Record<string, unknown>;
    const result = new Map<string, Property[]>();
    const visit = (node: unknown): void => {
        if (!node || typeof node !== "object") return;
        const n = node as Record<string, unknown>;
        if (typeof n.class === "string" && Array.isArray(n.properties)) result.set(n.class, n.properties as Property[]);
        for (const child of Object.values(n)) if (typeof child === "object") visit(child);
    };
    visit(raw);
    return result;
}

/** Keys the JDBC drivers and Kafka clients take through a prefix, per the catalogs' property_patterns. */
const PASSTHROUGH_PREFIXES = [
    "driver.",
    "schema.history.internal.producer.",
    "schema.history.internal.consumer.",
    "hibernate.",
    "producer.override.",
    "consumer.override.",
    "admin.override.",
];

function checkValue(prop: Property, value: string): string | undefined {
    if (prop.allowed && !prop.allowed.includes(value.toLowerCase())) {
        return `value "${value}" not in ${prop.allowed.join("|")}`;
    }
    if ((prop.type === "int" || prop.type === "long") && !/^-?\d+$/.test(value) && !value.startsWith("${")) {
        return `value "${value}" is not an integer`;
    }
    if (prop.type === "boolean" && !["true", "false"].includes(value)) return `value "${value}" is not a boolean`;
    return undefined;
}

/** Every problem with one connector config (framework keys included); empty means valid. */
export function validateConnectorConfig(connectorClass: string, role: "source" | "sink", config: Record<string, string>): string[] {
    const catalog = catalogForClass(connectorClass);
    const framework = read("kafka-connect-common.json").properties.filter((p) => p.applies_to === "all" || p.applies_to === role);
    const known = new Map<string, Property>();
    for (const p of [...framework, ...catalog.properties]) {
        known.set(p.name, p);
        for (const alias of p.deprecated_aliases ?? []) known.set(alias, p);
    }
    const smts = smtProperties();
    const aliases = (config.transforms ?? "").split(",").filter(Boolean);
    const problems: string[] = [];
    for (const [key, value] of Object.entries(config)) {
        const prop = known.get(key);
        if (prop) {
            if (prop.deprecated) problems.push(`${key} is deprecated`);
            const bad = checkValue(prop, value);
            if (bad) problems.push(`${key}: ${bad}`);
            continue;
        }
        const transform = /^transforms\.([^.]+)\.(.+)$/.exec(key);
        if (transform) {
            const [, alias, option] = transform;
            if (!aliases.includes(alias)) problems.push(`${key}: transform alias ${alias} is not listed in transforms`);
            else if (option !== "type") {
                const cls = config[`transforms.${alias}.type`];
                const props = smts.get(cls);
                const optionProp = props?.find((p) => p.name === option);
                if (!props) problems.push(`${key}: transform class ${cls} is not in smt-catalog.json`);
                else if (!optionProp) problems.push(`${key}: ${cls} has no option ${option}`);
                else {
                    const bad = checkValue(optionProp, value);
                    if (bad) problems.push(`${key}: ${bad}`);
                }
            } else if (!smts.has(value)) {
                problems.push(`${key}: transform class ${value} is not in smt-catalog.json`);
            }
            continue;
        }
        if (PASSTHROUGH_PREFIXES.some((prefix) => key.startsWith(prefix))) continue;
        problems.push(`${key} is not a property of ${connectorClass} or of Kafka Connect`);
    }
    return problems;
}
