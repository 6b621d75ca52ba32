/**
 * Cross-field rules of the seed data model and of the real connectors. Each rule names the config path
 * to change and what to write; rules that protect data are errors, advice is a warning.
 */
import { ConfigIssue } from "./errors";
import type { PipelineSpec, SourceSpec, StackSpec } from "../model/spec";
import { isMySqlFamily, isMySqlFamilySource, RENAMED_SNAPSHOT_MODES, SNAPSHOT_MODES } from "../model/options";
import { VERIFYING_SSL_MODES } from "../model/tls";
import { dataTopicName } from "../model/naming";

type Path = (string | number)[];

export function checkRules(spec: StackSpec, issues: ConfigIssue[], warnings: string[]): void {
    checkUniqueness(spec, issues);
    spec.pipelines.forEach((pipeline, i) => {
        const path: Path = ["pipelines", i];
        checkSource(spec, pipeline, [...path, "source"], issues, warnings);
        checkSink(spec, pipeline, [...path, "sink"], issues);
        checkReplication(spec, pipeline, [...path, "topics"], issues);
    });
    checkKafka(spec, issues, warnings);
}

function checkKafka(spec: StackSpec, issues: ConfigIssue[], warnings: string[]): void {
    const { kafka, profile } = spec;
    if (profile.requireKafkaTls && !kafka.tls) {
        issues.push({
            path: ["kafka", "tls"],
            message: `${spec.environment} requires TLS to Kafka (change events carry row data); set tls: true and point bootstrapServers at a TLS listener`,
        });
    }
    if (profile.kafkaAuthentication !== "none" && kafka.authentication === "none") {
        issues.push({
            path: ["kafka", "authentication"],
            message: `${spec.environment} requires Connect and the lakehouse writers to authenticate to Kafka, each as a KafkaUser the stack creates with ACLs for exactly its topics and groups; use scram-sha-512 or tls`,
        });
    }
    if (kafka.authentication === "tls" && !kafka.tls) {
        issues.push({
            path: ["kafka", "authentication"],
            message:
                "mutual TLS authentication needs a TLS listener; set kafka.tls: true (and bootstrapServers to that listener) or use scram-sha-512",
        });
    }
    if ((kafka.tls || kafka.authentication !== "none") && !kafka.listener) {
        issues.push({
            path: ["kafka", "listener"],
            message: `name the listener of Kafka ${kafka.clusterName} at bootstrapServers (e.g. tls): the Access Operator copies the cluster CA and the users' credentials for it, and adds the CA only for a TLS listener`,
        });
    }
    // The KafkaAccess, the KafkaUsers and the writers' NetworkPolicy all look for the cluster in kafka.namespace.
    for (const entry of kafka.bootstrapServers.split(",")) {
        const namespace = /^[a-z0-9-]+\.([a-z0-9-]+)\.svc(\.[a-z0-9.-]+)?:\d+$/i.exec(entry.trim())?.[1];
        if (namespace && namespace !== kafka.namespace) {
            warnings.push(
                `kafka.bootstrapServers names a Service in namespace ${namespace}, but kafka.namespace is ${kafka.namespace}: the KafkaAccess, the stack's KafkaUsers and the writers' NetworkPolicy look for Kafka ${kafka.clusterName} there`,
            );
            break;
        }
    }
    if (spec.connect.replicas < profile.minimumConnectReplicas) {
        issues.push({
            path: ["connect", "replicas"],
            message: `${spec.environment} runs at least ${profile.minimumConnectReplicas} Connect workers, so a node drain (one worker at a time) never stops replication; use ${profile.minimumConnectReplicas} or more`,
        });
    }
}

function checkUniqueness(spec: StackSpec, issues: ConfigIssue[]): void {
    const seen = new Map<string, string>();
    const claim = (kind: string, value: string, path: Path, hint: string): void => {
        const key = `${kind}\u0000${value}`;
        const first = seen.get(key);
        if (first !== undefined) {
            issues.push({ path, message: `${kind} "${value}" is already used by ${first}; ${hint}` });
        } else {
            seen.set(
                key,
                path
                    .map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`))
                    .join("")
                    .replace(/^\./, ""),
            );
        }
    };
    spec.pipelines.forEach((p, i) => {
        const base: Path = ["pipelines", i];
        claim("pipeline name", p.name, [...base, "name"], "pipeline names must be unique");
        const rename = "connector names must be unique across all connectors (set connectorName)";
        claim("connector name", p.source.connectorName, [...base, "source", "connectorName"], rename);
        claim("connector name", p.sink.connectorName, [...base, "sink", "connectorName"], rename);
        claim(
            "topic prefix",
            p.source.topicPrefix,
            [...base, "source", "topicPrefix"],
            "two sources writing one topic namespace would mix their events (set topicPrefix)",
        );
        if (p.source.kind === "postgres") {
            claim(
                "replication slot",
                p.source.slotName,
                [...base, "source", "slotName"],
                "two connectors on one slot steal each other's changes (set slotName)",
            );
        }
        if (isMySqlFamilySource(p.source)) {
            claim(
                "MySQL server id",
                String(p.source.serverId),
                [...base, "source", "serverId"],
                "replication clients need distinct ids (set serverId)",
            );
        }
    });
}

function checkSource(spec: StackSpec, pipeline: PipelineSpec, path: Path, issues: ConfigIssue[], warnings: string[]): void {
    checkDebeziumSettings(spec, pipeline, path, issues, warnings);
    checkSourceServer(spec, pipeline.source, path, issues);
    checkTableNames(pipeline, path, issues);
}

/** Settings Debezium itself refuses or advises against. */
function checkDebeziumSettings(spec: StackSpec, pipeline: PipelineSpec, path: Path, issues: ConfigIssue[], warnings: string[]): void {
    const source = pipeline.source;
    const allowed = SNAPSHOT_MODES[source.kind];
    if (!allowed.includes(source.snapshotMode)) {
        const renamed = Object.hasOwn(RENAMED_SNAPSHOT_MODES, source.snapshotMode)
            ? RENAMED_SNAPSHOT_MODES[source.snapshotMode]
            : undefined;
        issues.push({
            path: [...path, "snapshotMode"],
            message:
                `"${source.snapshotMode}" is not a Debezium 3.6 ${source.kind} snapshot mode` +
                (renamed ? ` (${renamed})` : "") +
                `; use one of ${allowed.join(", ")}`,
        });
    }
    if (isMySqlFamily(source.kind) && source.timePrecisionMode === "adaptive") {
        issues.push({
            path: [...path, "timePrecisionMode"],
            message: `Debezium 3.6's ${source.kind === "mysql" ? "MySQL" : "MariaDB"} connector refuses "adaptive" ("no longer supported"); use adaptive_time_microseconds`,
        });
    }
    if (source.maxQueueSize <= source.maxBatchSize) {
        issues.push({
            path: [...path, "maxQueueSize"],
            message: `must be greater than maxBatchSize (${source.maxBatchSize}) or Debezium refuses to start; use ${source.maxBatchSize * 4} (4 × maxBatchSize)`,
        });
    } else if (source.maxQueueSize !== source.maxBatchSize * 4) {
        warnings.push(
            `${pipeline.name}: source.maxQueueSize ${source.maxQueueSize} is not 4 × maxBatchSize (${source.maxBatchSize * 4}), the recommended ratio`,
        );
    }
    if (source.heartbeatIntervalMs > 0 && source.heartbeatIntervalMs < source.pollIntervalMs) {
        warnings.push(
            `${pipeline.name}: source.heartbeatIntervalMs is shorter than pollIntervalMs; heartbeats cannot be emitted faster than polls`,
        );
    }
    if (source.heartbeatIntervalMs === 0 && spec.profile.expectVerifiedCopies) {
        warnings.push(
            `${pipeline.name}: source.heartbeatIntervalMs is 0; on quiet databases stored offsets age out of the log (SQL Server CDC cleanup, PostgreSQL WAL)`,
        );
    }
}

/** The databases the source captures and how the connector reaches them. */
function checkSourceServer(spec: StackSpec, source: SourceSpec, path: Path, issues: ConfigIssue[]): void {
    if (source.kind === "sqlserver") {
        source.tables.forEach((table, i) => {
            if (table.database !== "" && !source.databases.includes(table.database)) {
                issues.push({
                    path: [...path, "tables", i, "database"],
                    message: `"${table.database}" is not in source.databases (${source.databases.join(", ")}); add it there or fix the name`,
                });
            }
        });
        if (source.tasksMax > source.databases.length) {
            issues.push({
                path: [...path, "tasksMax"],
                message: `Debezium runs one SQL Server task per database; use at most ${source.databases.length} (the number of source.databases)`,
            });
        }
        if (spec.profile.requireDatabaseEncryption && !source.encrypt) {
            issues.push({
                path: [...path, "encrypt"],
                message: `${spec.environment} requires an encrypted connection to SQL Server; set encrypt: true`,
            });
        }
        if (spec.profile.requireDatabaseEncryption && source.trustServerCertificate) {
            issues.push({
                path: [...path, "trustServerCertificate"],
                message: `${spec.environment} must verify the SQL Server certificate; set trustServerCertificate: false and provide a truststore`,
            });
        }
    }
    if (isMySqlFamilySource(source)) {
        source.tables.forEach((table, i) => {
            if (table.database !== source.database) {
                issues.push({
                    path: [...path, "tables", i, "name"],
                    message: `MySQL tables are named database.table; "${table.database}.${table.table}" is outside source.database "${source.database}"`,
                });
            }
        });
    }
    if (spec.profile.requireDatabaseEncryption && source.kind !== "sqlserver") {
        const verified = VERIFYING_SSL_MODES[source.kind];
        if (!verified.includes(source.sslMode)) {
            issues.push({
                path: [...path, "sslMode"],
                message: `${spec.environment} requires a verified TLS connection; use ${verified.join(" or ")}`,
            });
        }
    }
}

/** Two captured tables must not share a topic, nor a target table. */
function checkTableNames(pipeline: PipelineSpec, path: Path, issues: ConfigIssue[]): void {
    const source = pipeline.source;
    const topics = new Map<string, number>();
    source.tables.forEach((table, i) => {
        const topic = dataTopicName(source, table);
        if (topics.has(topic)) {
            issues.push({
                path: [...path, "tables", i, "name"],
                message: `duplicates tables[${topics.get(topic)}] (both map to topic ${topic})`,
            });
        }
        topics.set(topic, i);
    });
    if (pipeline.sink.tableNameFormat.includes("${source.table}")) {
        const targets = new Map<string, number>();
        source.tables.forEach((table, i) => {
            const previous = targets.get(table.table.toLowerCase());
            if (previous !== undefined) {
                issues.push({
                    path: [...path, "tables", i, "name"],
                    message: `lands in the same target table as tables[${previous}] ("${table.table}"); split the pipeline or change sink.tableNameFormat`,
                });
            }
            targets.set(table.table.toLowerCase(), i);
        });
    }
}

function checkSink(spec: StackSpec, pipeline: PipelineSpec, path: Path, issues: ConfigIssue[]): void {
    const sink = pipeline.sink;
    const verifiedPg = VERIFYING_SSL_MODES.postgres;
    if (spec.profile.requireDatabaseEncryption && !verifiedPg.includes(sink.sslMode)) {
        issues.push({
            path: [...path, "sslMode"],
            message: `${spec.environment} requires a verified TLS connection to the target; use ${verifiedPg.join(" or ")}`,
        });
    }
    const verifiesPostgres =
        verifiedPg.includes(sink.sslMode) || (pipeline.source.kind === "postgres" && verifiedPg.includes(pipeline.source.sslMode));
    const source = pipeline.source;
    // The reconciler verifies with the same mounted CA; without it, its URL could not name a CA file.
    const reconcilerVerifiesMySql =
        spec.reconciler !== undefined && isMySqlFamilySource(source) && VERIFYING_SSL_MODES[source.kind].includes(source.sslMode);
    if ((verifiesPostgres || reconcilerVerifiesMySql) && !spec.connect.databaseCaSecret) {
        issues.push({
            path: ["connect", "databaseCaSecret"],
            message: verifiesPostgres
                ? `pipeline ${pipeline.name} verifies PostgreSQL certificates, so Connect pods need the signing CA; set it to a Secret holding ca.crt`
                : `pipeline ${pipeline.name}'s reconciler verifies the ${source.kind} server certificate and needs the signing CA; set it to a Secret holding ca.crt`,
        });
    }
    if (sink.insertMode === "upsert") {
        const keyed = sink.primaryKeyMode === "record_key" || (sink.primaryKeyMode === "record_value" && sink.primaryKeyFields.length > 0);
        if (!keyed) {
            issues.push({
                path: [...path, "primaryKeyMode"],
                message:
                    sink.primaryKeyMode === "record_value"
                        ? "insertMode upsert with primaryKeyMode record_value needs primaryKeyFields (e.g. [id]); or use record_key"
                        : `insertMode upsert needs the row's key; set primaryKeyMode: record_key (was ${sink.primaryKeyMode})`,
            });
        }
    }
    if (sink.deleteEnabled && sink.primaryKeyMode !== "record_key") {
        issues.push({
            path: [...path, "deleteEnabled"],
            message:
                "deletes can only be applied with primaryKeyMode: record_key (a delete event has no row value); set it, or deleteEnabled: false",
        });
    }
    if (sink.errorsTolerance === "all" && !sink.deadLetterQueue) {
        issues.push({
            path: [...path, "deadLetterQueue"],
            message:
                "errorsTolerance all without a dead letter queue drops failed records silently; set deadLetterQueue: true or errorsTolerance: none",
        });
    }
    if (sink.implementation === "debezium" && sink.autoCreate !== sink.autoEvolve) {
        issues.push({
            path: [...path, "autoEvolve"],
            message:
                "the Debezium JDBC sink has one switch (schema.evolution=basic) that both creates tables and adds columns; set autoCreate and autoEvolve to the same value, or implementation: confluent",
        });
    }
    if (sink.connectionPool.minSize > sink.connectionPool.maxSize) {
        issues.push({
            path: [...path, "connectionPool", "minSize"],
            message: `must not exceed connectionPool.maxSize (${sink.connectionPool.maxSize})`,
        });
    }
}

function checkReplication(spec: StackSpec, pipeline: PipelineSpec, path: Path, issues: ConfigIssue[]): void {
    const { replicationFactor, minInsyncReplicas } = pipeline.topics;
    const minimum = spec.profile.minimumReplicationFactor;
    if (replicationFactor < minimum) {
        issues.push({
            path: [...path, "replicationFactor"],
            message: `${spec.environment} requires a replication factor of at least ${minimum} (was ${replicationFactor}); remove the override to use ${spec.profile.replicationFactor}`,
        });
    }
    if (minInsyncReplicas > replicationFactor) {
        issues.push({
            path: [...path, "minInsyncReplicas"],
            message: `cannot exceed replicationFactor (${replicationFactor}); every acks=all write would fail; use ${Math.max(1, replicationFactor - 1)}`,
        });
    } else if (minInsyncReplicas === replicationFactor && replicationFactor > 1) {
        issues.push({
            path: [...path, "minInsyncReplicas"],
            message: `must be below replicationFactor (${replicationFactor}) or losing one broker stops all writes; use ${replicationFactor - 1}`,
        });
    }
}
