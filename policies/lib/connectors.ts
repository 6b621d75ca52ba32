/**
 * How the pack reads a Strimzi KafkaConnector: which connector it runs, whether it is a source or a
 * sink, its config as strings, and the tables and topics it covers. Debezium and Confluent spellings
 * are both understood because the stack supports both JDBC sinks.
 */
import { asRecord, k8sLabel, metadata, Props, ResourceLike } from "./resources";

type SourceKind = "sqlserver" | "postgres" | "mysql" | "mariadb" | "other";
type SinkFlavor = "debezium" | "confluent" | "other";

const SOURCE_CLASSES: Record<string, SourceKind> = {
    "io.debezium.connector.sqlserver.SqlServerConnector": "sqlserver",
    "io.debezium.connector.postgresql.PostgresConnector": "postgres",
    "io.debezium.connector.mysql.MySqlConnector": "mysql",
    "io.debezium.connector.mariadb.MariaDbConnector": "mariadb",
};

const SINK_CLASSES: Record<string, SinkFlavor> = {
    "io.debezium.connector.jdbc.JdbcSinkConnector": "debezium",
    "io.confluent.connect.jdbc.JdbcSinkConnector": "confluent",
};

export interface ConnectorView {
    /** `KafkaConnector "namespace/name"`, for messages. */
    label: string;
    name?: string;
    namespace?: string;
    connectorClass: string;
    role: "source" | "sink";
    sourceKind?: SourceKind;
    sinkFlavor?: SinkFlavor;
    config: Record<string, string>;
    tasksMax?: number;
    labels: Record<string, unknown>;
}

export function connectorView(props: Props, pulumiName: string): ConnectorView {
    const spec = asRecord(props.spec);
    const meta = metadata(props);
    const connectorClass = typeof spec.class === "string" ? spec.class : "";
    const config: Record<string, string> = {};
    for (const [key, value] of Object.entries(asRecord(spec.config))) {
        if (value !== undefined && value !== null) config[key] = String(value);
    }
    const isSink =
        connectorClass in SINK_CLASSES || (!(connectorClass in SOURCE_CLASSES) && ("topics" in config || "topics.regex" in config));
    return {
        label: k8sLabel("KafkaConnector", props, pulumiName),
        name: meta.name,
        namespace: meta.namespace,
        connectorClass,
        role: isSink ? "sink" : "source",
        sourceKind: isSink ? undefined : (SOURCE_CLASSES[connectorClass] ?? "other"),
        sinkFlavor: isSink ? (SINK_CLASSES[connectorClass] ?? "other") : undefined,
        config,
        tasksMax: typeof spec.tasksMax === "number" ? spec.tasksMax : undefined,
        labels: meta.labels,
    };
}

export const viewOf = (r: ResourceLike): ConnectorView => connectorView(r.props, r.name);

export function splitList(value: string | undefined): string[] {
    return (value ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
}

/** The sink's primary-key settings under whichever spelling its connector uses. */
export function primaryKeySettings(view: ConnectorView): { modeKey: string; fieldsKey: string; mode?: string; fields: string[] } {
    const confluent = view.sinkFlavor === "confluent" || (view.sinkFlavor === "other" && "pk.mode" in view.config);
    const modeKey = confluent ? "pk.mode" : "primary.key.mode";
    const fieldsKey = confluent ? "pk.fields" : "primary.key.fields";
    return { modeKey, fieldsKey, mode: view.config[modeKey]?.trim().toLowerCase(), fields: splitList(view.config[fieldsKey]) };
}

/** Kafka config-provider syntax: `${provider:key}` or `${provider:path:key}`. */
const REFERENCE = "\\$\\{[A-Za-z0-9_.-]+:(?:[^:}]*:)?[^:}]+\\}";
const WHOLE_REFERENCE = new RegExp(`^${REFERENCE}$`);

export const isConfigProviderReference = (value: string): boolean => WHOLE_REFERENCE.test(value.trim());

/**
 * Keys whose value is a credential. Decided on the last dotted segment so that `key.converter`,
 * `primary.key.mode` or `message.key.columns` are not credentials while `ssl.key.password`,
 * `database.user`, `api.key` and `basic.auth.user.info` are.
 */
export function isCredentialKey(key: string): boolean {
    const segments = key.toLowerCase().split(".");
    const last = segments[segments.length - 1];
    const lastTwo = segments.slice(-2).join(".");
    if (/passw(or)?d|pwd|secret|token/.test(last) && !/^tokens?\.(count|size)$/.test(last)) return true;
    if (last === "key" && segments.length > 1) return true;
    if (/^(api|access|secret|private|client)[_-]?key$/.test(last)) return true;
    if (/^(user|username|userid|user[_-]name)$/.test(last)) return true;
    return lastTwo === "user.info";
}

/**
 * Credentials embedded in a longer value: `password="..."` in a JAAS config or `password=...` in a JDBC
 * URL. Returns the embedded values that are not config-provider references.
 */
export function embeddedLiteralSecrets(value: string): string[] {
    const found: string[] = [];
    const pattern = /\b(?:password|passwd|pwd|secret|token)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s;&"']+))/gi;
    for (const match of value.matchAll(pattern)) {
        const embedded = match[1] ?? match[2] ?? match[3] ?? "";
        if (!isConfigProviderReference(embedded)) found.push(embedded);
    }
    return found;
}

export interface TableRef {
    /** SQL Server/MySQL database when known. */
    database?: string;
    /** SQL Server/PostgreSQL schema; unset for MySQL. */
    schema?: string;
    table: string;
}

const IDENTIFIER = "[A-Za-z0-9_$]+";
const LITERAL_ENTRY = new RegExp(`^${IDENTIFIER}(?:\\\\?\\.${IDENTIFIER}){1,2}$`);

/** Include-list entries that name one table (not a pattern), as table references. */
export function literalIncludedTables(view: ConnectorView): TableRef[] {
    const tables: TableRef[] = [];
    for (const entry of splitList(view.config["table.include.list"])) {
        if (!LITERAL_ENTRY.test(entry)) continue;
        const parts = entry.replace(/\\\./g, ".").split(".");
        if (view.sourceKind === "mysql" || view.sourceKind === "mariadb") {
            if (parts.length === 2) tables.push({ database: parts[0], table: parts[1] });
        } else if (parts.length === 3) {
            tables.push({ database: parts[0], schema: parts[1], table: parts[2] });
        } else {
            tables.push({ schema: parts[0], table: parts[1] });
        }
    }
    return tables;
}

/** The databases a source reads, for matching tables that name one. */
export function sourceDatabases(view: ConnectorView): string[] {
    switch (view.sourceKind) {
        case "sqlserver":
            return splitList(view.config["database.names"]);
        case "postgres":
            return splitList(view.config["database.dbname"]);
        case "mysql":
        case "mariadb":
            return splitList(view.config["database.include.list"]);
        default:
            return [];
    }
}

function patternMatches(pattern: string, candidate: string): boolean {
    try {
        return new RegExp(`^(?:${pattern})$`, "i").test(candidate);
    } catch {
        return pattern.toLowerCase() === candidate.toLowerCase();
    }
}

/**
 * Whether the source's include list captures the table. Debezium matches anchored, case-insensitive
 * patterns against `schema.table` (`database.table` for MySQL); a SQL Server table that names its
 * database must also be in database.names.
 */
export function sourceCovers(view: ConnectorView, table: TableRef): boolean {
    if (view.role !== "source") return false;
    const databases = sourceDatabases(view).map((d) => d.toLowerCase());
    const mysqlLike = view.sourceKind === "mysql" || view.sourceKind === "mariadb";
    if (table.database && databases.length > 0 && !databases.includes(table.database.toLowerCase())) return false;
    if (!mysqlLike && table.schema === undefined) return false;
    const candidates = mysqlLike
        ? [`${table.database ?? ""}.${table.table}`]
        : [`${table.schema}.${table.table}`, ...(table.database ? [`${table.database}.${table.schema}.${table.table}`] : [])];
    const entries = splitList(view.config["table.include.list"]);
    // No include list: Debezium captures every table it can read.
    if (entries.length === 0) return true;
    return entries.some((entry) => candidates.some((c) => patternMatches(entry, c)));
}

/** Kafka's Filter only drops records (the stack's sources drop their signal table's watermark events with it). */
const FILTER_TRANSFORM = "org.apache.kafka.connect.transforms.Filter";

/** Whether a transform may change topic names: any but Filter may. */
function renamesTopics(config: Record<string, string>): boolean {
    return splitList(config.transforms).some((alias) => config[`transforms.${alias}.type`]?.trim() !== FILTER_TRANSFORM);
}

/**
 * Topic names Debezium's default naming gives the table, or undefined when the source renames topics
 * (a topic naming strategy or a transform other than Filter) and the name cannot be derived from the config.
 */
export function dataTopicNames(view: ConnectorView, table: TableRef): string[] | undefined {
    if ("topic.naming.strategy" in view.config || renamesTopics(view.config)) return undefined;
    const prefix = view.config["topic.prefix"];
    if (!prefix) return undefined;
    switch (view.sourceKind) {
        case "sqlserver": {
            const databases = table.database ? [table.database] : sourceDatabases(view);
            return databases.map((db) => `${prefix}.${db}.${table.schema}.${table.table}`);
        }
        case "postgres":
            return [`${prefix}.${table.schema}.${table.table}`];
        case "mysql":
        case "mariadb":
            return [`${prefix}.${table.database}.${table.table}`];
        default:
            return undefined;
    }
}

/** Whether a sink consumes the topic through `topics` or `topics.regex`. */
export function sinkConsumes(view: ConnectorView, topic: string): boolean {
    if (view.role !== "sink") return false;
    if (splitList(view.config.topics).includes(topic)) return true;
    const regex = view.config["topics.regex"];
    return regex !== undefined && patternMatches(regex, topic);
}

/**
 * The topics a Debezium source uses besides its data topics: schema history, schema changes, heartbeats, and the Kafka
 * signal channel's and sink notification channel's topics when those channels are enabled.
 */
export function sourceAuxiliaryTopics(view: ConnectorView): { topic: string; role: string }[] {
    const out: { topic: string; role: string }[] = [];
    const history = view.config["schema.history.internal.kafka.topic"];
    if (history) out.push({ topic: history, role: "schema history" });
    const prefix = view.config["topic.prefix"];
    if (prefix && view.config["include.schema.changes"]?.toLowerCase() !== "false" && view.sourceKind !== "postgres") {
        out.push({ topic: prefix, role: "schema change" });
    }
    const interval = Number(view.config["heartbeat.interval.ms"] ?? "0");
    if (prefix && interval > 0) {
        const heartbeatPrefix = view.config["topic.heartbeat.prefix"] ?? "__debezium-heartbeat";
        out.push({ topic: view.config["topic.heartbeat.name"] ?? `${heartbeatPrefix}.${prefix}`, role: "heartbeat" });
    }
    // Debezium's KafkaSignalChannel defaults its topic to <topic.prefix>-signal; the sink notification channel has no default.
    if (prefix && splitList(view.config["signal.enabled.channels"]).includes("kafka")) {
        out.push({ topic: view.config["signal.kafka.topic"] ?? `${prefix}-signal`, role: "signal" });
    }
    const notifications = view.config["notification.sink.topic.name"];
    if (notifications && splitList(view.config["notification.enabled.channels"]).includes("sink")) {
        out.push({ topic: notifications, role: "notification" });
    }
    return out;
}
