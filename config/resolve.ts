/**
 * Raw stack config → validated StackSpec: structural parse, environment defaults, then the cross-field
 * rules. Every problem found is reported together in one ConfigError.
 */
import { z } from "zod";
import { isMySqlFamily, MySqlFamilyKind } from "../model/options";
import { ConfigError, ConfigIssue, closest } from "./errors";
import type { EnvironmentProfile } from "../model/environment";
import { profileFor } from "./profiles";
import { checkRules } from "./rules";
import { checkSchemaRegistryRules, resolveSchemaRegistry } from "./schema-registry";
import { checkLakehouseRules, resolveDestinations, resolveLakehouse, resolvePipelineLakehouse } from "./lakehouse";
import { ParsedPipeline, ParsedSource, ParsedStackConfig, ParsedTable, SECRET_CONFIG_KEYS, stackConfigSchema } from "./schema";
import type { LakehouseSpec, PipelineSpec, SourceSpec, StackSpec, TableSpec } from "../model/spec";
import {
    defaultPublicationName,
    defaultServerId,
    defaultSignalTable,
    defaultSinkConnectorName,
    defaultSlotName,
    defaultSourceConnectorName,
    defaultTopicPrefix,
} from "../model/naming";

export interface ParseResult {
    spec: StackSpec;
    /** Legal but questionable settings; the program logs them as Pulumi warnings. */
    warnings: string[];
}

const DEFAULT_PORTS = { sqlserver: 1433, postgres: 5432, mysql: 3306, mariadb: 3306 } as const;
/**
 * Debezium's PostgreSQL connector sleeps poll.interval.ms whenever its replication stream has nothing to read, so at
 * a steady change rate its default of 500 ms adds up to half a second to a change's lag (with the other tuned
 * settings, a median lag of 0.44 s against 1.93 s with Debezium's defaults at 1,000 changes/s: bench/RESULTS.md). The binlog readers (MySQL, MariaDB) hand each event over as it arrives, and SQL Server's
 * connector queries its CDC tables at this interval, so those keep Debezium's 500 ms.
 */
const DEFAULT_POLL_INTERVAL_MS = { sqlserver: 500, postgres: 100, mysql: 500, mariadb: 500 } as const;

/**
 * The schema, the defaults and the rules decided on the config alone. The checks that need the plan (names that
 * collide, access and network rules) run in plan/stack-spec.ts's parseStackSpec, which every caller uses; the issues
 * are returned rather than thrown so that one error lists every problem.
 */
export function resolveStackSpec(raw: unknown): ParseResult & { issues: ConfigIssue[] } {
    const unencodable = unpairedSurrogates(raw);
    if (unencodable.length > 0) throw new ConfigError(unencodable);
    const parsed = stackConfigSchema.safeParse(raw, { reportInput: true });
    if (!parsed.success) {
        throw new ConfigError(parsed.error.issues.map(describeZodIssue));
    }
    const issues: ConfigIssue[] = [];
    const warnings: string[] = [];
    const spec = resolve(parsed.data, issues, warnings);
    checkRules(spec, issues, warnings);
    checkLakehouseRules(spec, issues);
    checkSchemaRegistryRules(spec, issues, warnings);
    return { spec, warnings, issues };
}

function resolve(config: ParsedStackConfig, issues: ConfigIssue[], warnings: string[]): StackSpec {
    const profile = profileFor(config.environment);
    return {
        environment: config.environment,
        profile,
        namespace: config.namespace,
        serialization: config.serialization,
        ...resolveSchemaRegistry(config),
        kafka: {
            clusterName: config.kafka.clusterName,
            namespace: config.kafka.namespace ?? config.namespace,
            bootstrapServers: config.kafka.bootstrapServers,
            listener: config.kafka.listener,
            tls: config.kafka.tls,
            authentication: config.kafka.authentication ?? profile.kafkaAuthentication,
        },
        connect: {
            name: config.connect.name,
            replicas: config.connect.replicas ?? profile.connectReplicas,
            kafkaVersion: config.connect.kafkaVersion,
            outputImage: config.connect.outputImage,
            pushSecret: config.connect.pushSecret,
            databaseCaSecret: config.connect.databaseCaSecret,
            resources: config.connect.resources,
        },
        pipelines: config.pipelines.map((p, i) => resolvePipeline(p, ["pipelines", i], config, issues)),
        vault: { ...config.vault, namePrefix: config.vault.namePrefix ?? `cdc-${config.environment}` },
        sqlserver: config.sqlserver,
        postgres: config.postgres,
        ...(config.reconciler ? { reconciler: config.reconciler } : {}),
        ...lakehouseOf(config, profile, issues, warnings),
        monitoring: config.monitoring,
        ...(config.tracing ? { tracing: config.tracing } : {}),
        network: config.network,
    };
}

function lakehouseOf(
    config: ParsedStackConfig,
    profile: EnvironmentProfile,
    issues: ConfigIssue[],
    warnings: string[],
): { lakehouse?: LakehouseSpec } {
    const lakehouse = resolveLakehouse(config.lakehouse, config.pipelines, profile, issues, warnings);
    return lakehouse ? { lakehouse } : {};
}

function resolvePipeline(p: ParsedPipeline, path: (string | number)[], config: ParsedStackConfig, issues: ConfigIssue[]): PipelineSpec {
    const profile = profileFor(config.environment);
    const source = resolveSource(p.name, p.source, [...path, "source"], profile.requireDatabaseEncryption, issues);
    const lakehouse = resolvePipelineLakehouse(p);
    return {
        name: p.name,
        source,
        sink: {
            ...p.sink,
            connectorName: p.sink.connectorName ?? defaultSinkConnectorName(p.name),
            sslMode: p.sink.sslMode ?? (profile.requireDatabaseEncryption ? "verify-full" : "prefer"),
        },
        topics: {
            partitions: p.topics.partitions,
            replicationFactor: p.topics.replicationFactor ?? profile.replicationFactor,
            minInsyncReplicas: p.topics.minInsyncReplicas ?? profile.minInsyncReplicas,
            retentionMs: p.topics.retentionMs,
        },
        destinations: resolveDestinations({ name: p.name, source }, p.destinations, [...path, "destinations"], config.lakehouse, issues),
        ...(lakehouse ? { lakehouse } : {}),
    };
}

function resolveSource(
    pipeline: string,
    s: ParsedSource,
    path: (string | number)[],
    encryptByDefault: boolean,
    issues: ConfigIssue[],
): SourceSpec {
    const connectorName = s.connectorName ?? defaultSourceConnectorName(pipeline, s.kind);
    const common = {
        connectorName,
        topicPrefix: s.topicPrefix ?? defaultTopicPrefix(pipeline),
        host: s.host,
        port: s.port ?? DEFAULT_PORTS[s.kind],
        snapshotMode: s.snapshotMode,
        decimalHandlingMode: s.decimalHandlingMode,
        timePrecisionMode: s.timePrecisionMode ?? (isMySqlFamily(s.kind) ? "adaptive_time_microseconds" : "adaptive"),
        tombstonesOnDelete: s.tombstonesOnDelete,
        maxBatchSize: s.maxBatchSize,
        maxQueueSize: s.maxQueueSize,
        pollIntervalMs: s.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS[s.kind],
        heartbeatIntervalMs: s.heartbeatIntervalMs,
        heartbeatActionQuery: s.heartbeatActionQuery,
        signalTable: resolveSignalTable(s, [...path, "signalTable"], issues),
        state: s.state,
        username: s.username,
    };
    switch (s.kind) {
        case "sqlserver": {
            const tables = s.tables.map((t, i) =>
                resolveTable(t, [...path, "tables", i], s.databases.length === 1 ? s.databases[0] : undefined, "dbo.customers", issues),
            );
            return {
                ...common,
                kind: "sqlserver",
                tables,
                databases: s.databases,
                // Debezium assigns SQL Server tasks per database; more tasks than databases sit idle.
                tasksMax: s.tasksMax ?? s.databases.length,
                snapshotIsolationMode: s.snapshotIsolationMode,
                encrypt: s.encrypt ?? encryptByDefault,
                trustServerCertificate: s.trustServerCertificate,
                readOnlyIntent: s.readOnlyIntent,
            };
        }
        case "postgres":
            return {
                ...common,
                kind: "postgres",
                tables: s.tables.map((t, i) => resolveTable(t, [...path, "tables", i], s.database, "public.customers", issues)),
                database: s.database,
                tasksMax: s.tasksMax ?? 1,
                slotName: s.slotName ?? defaultSlotName(connectorName),
                publicationName: s.publicationName ?? defaultPublicationName(connectorName),
                sslMode: s.sslMode ?? (encryptByDefault ? "verify-full" : "prefer"),
            };
        case "mysql":
        case "mariadb":
            return {
                ...common,
                kind: s.kind,
                // MySQL has no schemas: the first part of `database.table` is the database.
                tables: s.tables
                    .map((t, i) => resolveTable(t, [...path, "tables", i], s.database, `${s.database}.products`, issues))
                    .map((t) => ({ ...t, database: t.schema || t.database })),
                database: s.database,
                tasksMax: s.tasksMax ?? 1,
                serverId: s.serverId ?? defaultServerId(connectorName),
                sslMode: s.sslMode ?? defaultMySqlFamilySslMode(s.kind, encryptByDefault),
            };
    }
}

/**
 * `schema.table`, or `database.table` in the captured database for MySQL and MariaDB: Debezium finds the watermark
 * rows of an incremental snapshot in that database's binlog, and the connector reads only `database.include.list`.
 */
function resolveSignalTable(s: ParsedSource, path: (string | number)[], issues: ConfigIssue[]): string {
    const database = s.kind === "sqlserver" ? "" : s.database;
    const value = s.signalTable ?? defaultSignalTable(s.kind, database);
    const parts = value.split(".");
    const form = isMySqlFamily(s.kind) ? "database.table" : "schema.table";
    if (parts.length !== 2 || !parts.every((part) => /^[A-Za-z_][A-Za-z0-9_$]*$/.test(part))) {
        issues.push({ path, message: `"${value}" must be ${form} (e.g. ${defaultSignalTable(s.kind, database || "inventory")})` });
    } else if (isMySqlFamily(s.kind) && parts[0] !== database) {
        issues.push({ path, message: `"${value}" must be in the captured database: write ${database}.${parts[1]}` });
    }
    return value;
}

/** Verified in prod; in dev MySQL's `preferred`, and for MariaDB (no fallback mode) `disable`. */
function defaultMySqlFamilySslMode(kind: MySqlFamilyKind, encrypt: boolean): string {
    if (encrypt) return kind === "mysql" ? "verify_identity" : "verify-full";
    return kind === "mysql" ? "preferred" : "disable";
}

function resolveTable(
    t: ParsedTable,
    path: (string | number)[],
    defaultDatabase: string | undefined,
    example: string,
    issues: ConfigIssue[],
): TableSpec {
    const parts = t.name.split(".");
    const valid = parts.length === 2 && parts.every((part) => /^[A-Za-z_][A-Za-z0-9_$]*$/.test(part));
    if (!valid) {
        issues.push({
            path: [...path, "name"],
            message: `"${t.name}" must be schema.table (e.g. ${example}); Debezium's table.include.list matches that form`,
        });
    }
    const [schema, table] = valid ? parts : ["", t.name];
    const database = t.database ?? defaultDatabase;
    if (database === undefined) {
        issues.push({
            path: [...path, "database"],
            message: "this source captures several databases; name the one holding this table (database: <one of source.databases>)",
        });
    }
    return {
        database: database ?? "",
        schema,
        table,
        primaryKey: t.primaryKey,
        columns: t.columns,
        ...(t.compatibility ? { compatibility: t.compatibility } : {}),
    };
}

const KNOWN_KEYS = [...collectKeys(stackConfigSchema), ...SECRET_CONFIG_KEYS];

function describeZodIssue(issue: z.core.$ZodIssue): ConfigIssue {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    switch (issue.code) {
        case "unrecognized_keys": {
            const hints = issue.keys.map((key) => {
                const suggestion = closest(key, KNOWN_KEYS);
                return suggestion ? `"${key}" (did you mean "${suggestion}"?)` : `"${key}"`;
            });
            return { path, message: `unknown key ${hints.join(", ")}; remove it or fix its spelling` };
        }
        case "invalid_value":
            // Schema-authored messages already say what to write; zod's generic ones start with "Invalid".
            if (!issue.message.startsWith("Invalid")) return { path, message: issue.message };
            return { path, message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}` };
        case "invalid_key":
            // zod words every bad key "Invalid key in record"; the key schema's own message says what to write.
            return { path, message: issue.issues.map((i) => i.message).join("; ") };
        case "invalid_type":
            if (issue.input === undefined) return { path, message: `is required (${issue.expected})` };
            return { path, message: `must be ${article(issue.expected)} (got ${describeValue(issue.input)})` };
        default:
            return { path, message: issue.message };
    }
}

const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Half a UTF-16 surrogate pair (JSON can write one as "\ud800") has no UTF-8 form: Kafka, Kubernetes and the
 * databases would each store something else, and the URLs the plans encode would throw on it.
 */
function unpairedSurrogates(value: unknown, path: (string | number)[] = []): ConfigIssue[] {
    const message = "holds an unpaired UTF-16 surrogate (such as \\ud800), which no UTF-8 text can; remove it";
    if (typeof value === "string") return UNPAIRED_SURROGATE.test(value) ? [{ path, message }] : [];
    if (Array.isArray(value)) return value.flatMap((v, i) => unpairedSurrogates(v, [...path, i]));
    if (value === null || typeof value !== "object") return [];
    return Object.entries(value).flatMap(([key, v]) => [
        ...(UNPAIRED_SURROGATE.test(key) ? [{ path: [...path, key], message: `its key ${message}` }] : []),
        ...unpairedSurrogates(v, [...path, key]),
    ]);
}

const article = (type: string): string => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

function describeValue(value: unknown): string {
    if (Array.isArray(value)) return "a list";
    if (value === null) return "null";
    if (typeof value === "object") return "an object";
    return JSON.stringify(value);
}

function collectKeys(schema: z.ZodType): string[] {
    const keys = new Set<string>();
    const seen = new Set<unknown>();
    const visit = (node: unknown): void => {
        if (node === null || typeof node !== "object" || seen.has(node)) return;
        seen.add(node);
        const def = (node as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
        if (!def) return;
        if (def.type === "object") {
            for (const [key, child] of Object.entries(def.shape as Record<string, unknown>)) {
                keys.add(key);
                visit(child);
            }
        }
        for (const field of ["innerType", "element", "in", "out"]) visit(def[field]);
        if (Array.isArray(def.options)) def.options.forEach(visit);
    };
    visit(schema);
    return [...keys];
}
