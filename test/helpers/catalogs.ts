/**
 * Checks connector configs against the property catalogs scripts/setup.sh derives from the pinned
 * plugin archives and the Kafka Connect runtime (test/contracts/derive-catalogs.ts): every key must be
 * one the connector, Kafka Connect or a configured transform reads, or sit under a prefix one of them
 * passes on; enumerated, integer and boolean values must parse as the real validators would.
 * Kafka Connect and Debezium ignore unknown keys, so without this a typo is silently dropped.
 */
import { CONNECTOR_PLUGINS, ConnectorPlugin, PluginArchive } from "../../connectors/catalog";
import { partitionByReachability } from "../../sandbox/plugins";
import {
    ConnectorCatalog,
    connectorCatalogFile,
    KafkaConnectCatalog,
    kafkaConnectCatalogFile,
    PluginConfigs,
    Property,
    readCatalog,
} from "../contracts/derive-catalogs";

type Installable = ConnectorPlugin & { archive: PluginArchive };

const loaded = new Map<string, unknown>();
function cached<T extends { fingerprint: string }>(file: string): T {
    if (!loaded.has(file)) loaded.set(file, readCatalog<T>(file));
    return loaded.get(file) as T;
}

function pluginForClass(connectorClass: string): ConnectorPlugin {
    const plugin = Object.values(CONNECTOR_PLUGINS).find((p) => p.connectorClass === connectorClass);
    if (!plugin) throw new Error(`${connectorClass} is not a connector of connectors/catalog.ts`);
    return plugin;
}

/** Whether setup can derive a catalog for the class: only plugins with an archive it can download. */
export function hasDerivedCatalog(connectorClass: string): boolean {
    return pluginForClass(connectorClass).archive !== undefined;
}

/** The derived catalog of a connector class; throws, naming the class and why, when there is none. */
export function catalogForClass(connectorClass: string): ConnectorCatalog {
    const plugin = pluginForClass(connectorClass);
    if (!plugin.archive) {
        const [skipped] = partitionByReachability([plugin]).skipped;
        throw new Error(`no property catalog for ${connectorClass}: ${skipped.reason}, so scripts/setup.sh cannot derive one`);
    }
    return cached<ConnectorCatalog>(connectorCatalogFile(plugin as Installable));
}

function kafkaConnect(): KafkaConnectCatalog {
    return cached<KafkaConnectCatalog>(kafkaConnectCatalogFile());
}

function checkValue(prop: Property, value: string): string | undefined {
    // Resolved by the worker's config providers at runtime.
    if (value.includes("${")) return undefined;
    const trimmed = value.trim();
    if (prop.allowed) {
        const fold = (v: string) => (prop.caseInsensitive ? v.toLowerCase() : v);
        const allowed = prop.allowed.map(fold);
        const items = prop.allowedList
            ? trimmed
                  .split(",")
                  .map((v) => v.trim())
                  .filter(Boolean)
            : [trimmed];
        const bad = items.find((v) => !allowed.includes(fold(v)));
        if (bad !== undefined) return `value "${bad}" not in ${prop.allowed.join("|")}`;
    }
    if (["int", "short", "long"].includes(prop.type)) {
        if (!/^-?\d+$/.test(trimmed)) return `value "${value}" is not an integer`;
        if (prop.min !== undefined && Number(trimmed) < prop.min) return `value ${trimmed} is below the minimum ${prop.min}`;
        if (prop.max !== undefined && Number(trimmed) > prop.max) return `value ${trimmed} is above the maximum ${prop.max}`;
    }
    if (prop.type === "double" && (trimmed === "" || !Number.isFinite(Number(trimmed)))) return `value "${value}" is not a number`;
    // Kafka parses booleans trimmed and case-insensitively.
    if (prop.type === "boolean" && !/^(true|false)$/i.test(trimmed)) return `value "${value}" is not a boolean`;
    return undefined;
}

interface KeyIndex {
    byName: Map<string, Property>;
    /** Old name → the property that replaced it. */
    aliases: Map<string, Property>;
    patterns: Array<[RegExp, Property]>;
}

/** The property a key names (exactly, through a deprecated alias, or by pattern), and the alias's target if it is one. */
function lookup(keys: KeyIndex, key: string): { prop?: Property; renamed?: Property } {
    const renamed = keys.aliases.get(key);
    return { renamed, prop: renamed ?? keys.byName.get(key) ?? keys.patterns.find(([pattern]) => pattern.test(key))?.[1] };
}

function checkKey(keys: KeyIndex, key: string, value: string, problems: string[]): boolean {
    const { prop, renamed } = lookup(keys, key);
    if (!prop) return false;
    if (renamed) problems.push(`${key} is a deprecated alias of ${renamed.name}`);
    const bad = checkValue(prop, value);
    if (bad) problems.push(`${key}: ${bad}`);
    return true;
}

function index(properties: readonly Property[]): KeyIndex {
    const result: KeyIndex = { byName: new Map(), aliases: new Map(), patterns: [] };
    for (const p of properties) {
        if (p.pattern) result.patterns.push([new RegExp(p.pattern), p]);
        else result.byName.set(p.name, p);
        for (const alias of p.deprecatedAliases ?? []) result.aliases.set(alias, p);
    }
    return result;
}

/**
 * The transformation or predicate classes a connector's config can name, first match wins, in the
 * order the worker resolves them: the connector's own plugin folder (its loader is child-first), Kafka's
 * class path, then the other plugin folders, newest version first (Connect's delegating loader).
 */
function pluginScopes(connectorClass: string, kind: "transforms" | "predicates"): Array<{ where: string; configs: PluginConfigs }> {
    const own = pluginForClass(connectorClass);
    const others = Object.values(CONNECTOR_PLUGINS)
        .filter((p): p is Installable => p.archive !== undefined && p.id !== own.id)
        .map((p) => cached<ConnectorCatalog>(connectorCatalogFile(p)))
        .sort((a, b) => b.version.localeCompare(a.version, undefined, { numeric: true }));
    return [
        ...(own.archive ? [{ where: own.id, configs: catalogForClass(connectorClass)[kind] }] : []),
        { where: "Kafka Connect", configs: kafkaConnect()[kind] },
        ...others.map((c) => ({ where: c.plugin, configs: c[kind] })),
    ];
}

function lookupPlugin(connectorClass: string, kind: "transforms" | "predicates", cls: string) {
    for (const scope of pluginScopes(connectorClass, kind)) if (scope.configs[cls]) return { where: scope.where, ...scope.configs[cls] };
    return undefined;
}

/**
 * Problems with the `transforms.*` and `predicates.*` keys of a config: aliases must be listed, classes
 * must exist where the worker looks for them, and options must be ones the class's ConfigDef declares.
 * Checkable for any connector class, with or without a catalog of its own.
 */
export function validateTransforms(connectorClass: string, config: Record<string, string>): string[] {
    const kafka = kafkaConnect();
    const problems: string[] = [];
    const aliases = (key: string) =>
        new Set(
            (config[key] ?? "")
                .split(",")
                .map((a) => a.trim())
                .filter(Boolean),
        );
    const listed = { transforms: aliases("transforms"), predicates: aliases("predicates") };
    for (const kind of ["transforms", "predicates"] as const) {
        const implicit = index(kind === "transforms" ? kafka.transformAliasKeys : kafka.predicateAliasKeys);
        for (const alias of listed[kind])
            if (config[`${kind}.${alias}.type`] === undefined) problems.push(`${kind}.${alias}.type is missing`);
        for (const [key, value] of Object.entries(config)) {
            const match = new RegExp(`^${kind}\\.([^.]+)\\.(.+)$`).exec(key);
            if (!match) continue;
            const [, alias, option] = match;
            if (!listed[kind].has(alias)) {
                problems.push(`${key}: alias ${alias} is not listed in ${kind}`);
                continue;
            }
            const cls = config[`${kind}.${alias}.type`];
            const found = cls === undefined ? undefined : lookupPlugin(connectorClass, kind, cls);
            if (option === "type") {
                if (!found)
                    problems.push(
                        `${key}: ${value} is not a ${kind === "transforms" ? "transformation" : "predicate"} of Kafka Connect or of any catalog plugin`,
                    );
                else if (found.unavailable)
                    problems.push(`${key}: ${value} (in ${found.where}) cannot be instantiated: ${found.unavailable}`);
                continue;
            }
            if (option === "predicate" && kind === "transforms" && !listed.predicates.has(value))
                problems.push(`${key}: predicate alias ${value} is not listed in predicates`);
            const optionProblems: string[] = [];
            const known =
                checkKey(implicit, option, value, optionProblems) ||
                (found?.properties !== undefined && checkKey(index(found.properties), option, value, optionProblems));
            problems.push(...optionProblems.map((p) => `${kind}.${alias}.${p}`));
            if (!known && found?.properties) problems.push(`${key}: ${cls} has no option ${option}`);
        }
    }
    return problems;
}

/** Every problem with one connector config (framework keys and transforms included); empty means valid. */
export function validateConnectorConfig(connectorClass: string, role: "source" | "sink", config: Record<string, string>): string[] {
    const catalog = catalogForClass(connectorClass);
    const kafka = kafkaConnect();
    const problems: string[] = [];
    if (catalog.kind !== role) problems.push(`${connectorClass} is a ${catalog.kind} connector, not a ${role}`);
    const keys = index([...kafka.framework.all, ...kafka.framework[role], ...catalog.properties]);
    const prefixes = [...kafka.prefixes, ...catalog.prefixes].map((p) => p.prefix);
    for (const [key, value] of Object.entries(config)) {
        if (/^(transforms|predicates)\.[^.]+\./.test(key)) continue;
        if (checkKey(keys, key, value, problems)) continue;
        if (prefixes.some((prefix) => key.startsWith(prefix))) continue;
        problems.push(`${key} is not a property of ${connectorClass} or of Kafka Connect`);
    }
    return [...problems, ...validateTransforms(connectorClass, config)];
}
