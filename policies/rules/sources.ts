/**
 * Debezium sources: encrypted and verified database connections, no silently skipped events,
 * heartbeats and tombstones as the pipeline needs them, and identities (topic prefix, replication
 * slot, server id, history topic) that no two connectors share.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { boolean, integer, settings } from "../lib/config";
import { ConnectorView, connectorView, dataTopicNames, literalIncludedTables, viewOf } from "../lib/connectors";
import { forTypes } from "../lib/match";
import { encryptionSettings, VERIFYING_SSL_MODES } from "../lib/tls";
import { isKafkaConnector, KAFKA_CONNECTOR_TYPES, topicConfig, topicsByName } from "../lib/resources";

function sourceOnly(props: Record<string, unknown>, name: string, notApplicable: (reason: string) => never): ConnectorView {
    const view = connectorView(props, name);
    if (view.role !== "source") notApplicable("applies to source connectors");
    return view;
}

const sourceEncryption = encryptionSettings("source");

export const sourceDatabaseEncryption: ResourceValidationPolicy = {
    name: "source-database-encryption",
    description: "Where the environment requires it (prod), sources connect to their database encrypted and verify its certificate.",
    enforcementLevel: "mandatory",
    configSchema: sourceEncryption.schema,
    validateResource: forTypes(KAFKA_CONNECTOR_TYPES, (props, args, report) => {
        const { requireEncryption } = sourceEncryption.read(args);
        if (!requireEncryption) args.notApplicable("this environment does not require encrypted source connections");
        const view = sourceOnly(props, args.name, (reason) => args.notApplicable(reason));
        const why = "change events carry every captured row, and credentials cross this connection";
        if (view.sourceKind === "sqlserver") {
            const encrypt = view.config["driver.encrypt"] ?? view.config["database.encrypt"];
            if (encrypt?.trim().toLowerCase() !== "true") {
                report(
                    `${view.label} does not set database.encrypt=true (driver.encrypt=true) explicitly (found ${encrypt ?? "unset"}); ${why}. Fix: set driver.encrypt to "true" (source encrypt: true in the stack config).`,
                );
            }
            const trust = view.config["driver.trustServerCertificate"] ?? view.config["database.trustServerCertificate"];
            if (trust?.trim().toLowerCase() === "true") {
                report(
                    `${view.label} sets trustServerCertificate=true, accepting any certificate, so the encrypted connection can be intercepted. Fix: set it to "false" and give the connector a truststore with the server's CA.`,
                );
            }
            return;
        }
        const rule = view.sourceKind ? VERIFYING_SSL_MODES[view.sourceKind] : undefined;
        if (!rule) return;
        const mode = view.config[rule.key]?.trim().toLowerCase();
        if (!mode || !rule.allowed.includes(mode)) {
            report(
                `${view.label} uses ${rule.key}=${mode ?? "the default"}, which does not both encrypt and verify the server; ${why}. Fix: set ${rule.key} to ${rule.allowed.join(" or ")}.`,
            );
        }
    }),
};

export const sourceNoSkippedEvents: ResourceValidationPolicy = {
    name: "source-no-skipped-events",
    description:
        "Sources stop on events they cannot process instead of skipping them (event.processing.failure.handling.mode=fail, errors.tolerance=none).",
    enforcementLevel: "mandatory",
    validateResource: forTypes(KAFKA_CONNECTOR_TYPES, (props, args, report) => {
        const view = sourceOnly(props, args.name, (reason) => args.notApplicable(reason));
        const mode = view.config["event.processing.failure.handling.mode"]?.trim().toLowerCase();
        if (mode !== undefined && mode !== "fail") {
            report(
                `${view.label} sets event.processing.failure.handling.mode=${mode}: a change it cannot process is skipped and never reaches the target. Fix: set it to "fail" (the task stops, alerts and auto-restarts).`,
            );
        }
        if (view.config["errors.tolerance"]?.trim().toLowerCase() === "all") {
            report(
                `${view.label} sets errors.tolerance=all: change events that fail conversion are dropped and never reach the target. Fix: remove it or set errors.tolerance=none.`,
            );
        }
    }),
};

const heartbeatSettings = settings<{ requireHeartbeat: boolean; maxHeartbeatIntervalMs: number }>({
    requireHeartbeat: boolean(
        true,
        "Whether SQL Server and MySQL sources must emit heartbeats (PostgreSQL sources always must: the slot holds WAL until its offset moves).",
    ),
    maxHeartbeatIntervalMs: integer(300000, "Longest heartbeat.interval.ms accepted.", 1),
});

export const sourceHeartbeat: ResourceValidationPolicy = {
    name: "source-heartbeat",
    description:
        "Sources emit heartbeats so stored offsets keep moving on quiet databases (always for PostgreSQL; SQL Server/MySQL where the environment requires).",
    enforcementLevel: "advisory",
    configSchema: heartbeatSettings.schema,
    validateResource: forTypes(KAFKA_CONNECTOR_TYPES, (props, args, report) => {
        const { requireHeartbeat, maxHeartbeatIntervalMs } = heartbeatSettings.read(args);
        const view = sourceOnly(props, args.name, (reason) => args.notApplicable(reason));
        const required = view.sourceKind === "postgres" || requireHeartbeat;
        const interval = Number(view.config["heartbeat.interval.ms"] ?? "0");
        if (required && !(interval > 0)) {
            const risk =
                view.sourceKind === "postgres"
                    ? "the replication slot keeps WAL until a captured table changes, which can fill the source database's disk"
                    : "on quiet databases the stored offset ages out of the change log (SQL Server CDC cleanup, MySQL binlog purge) and the connector needs a new snapshot";
            report(
                `${view.label} has no heartbeat (heartbeat.interval.ms=${view.config["heartbeat.interval.ms"] ?? "unset"}); ${risk}. Fix: set heartbeat.interval.ms (e.g. 30000; source heartbeatIntervalMs in the stack config).`,
            );
        } else if (interval > maxHeartbeatIntervalMs) {
            report(
                `${view.label} sends a heartbeat only every ${interval} ms, more than the ${maxHeartbeatIntervalMs} ms allowed. Fix: lower heartbeat.interval.ms to at most ${maxHeartbeatIntervalMs}.`,
            );
        }
    }),
};

export const sourceTombstonesForCompactedTopics: StackValidationPolicy = {
    name: "source-tombstones-for-compacted-topics",
    description: "Sources writing to compacted data topics emit tombstones on delete, so compaction removes deleted rows.",
    enforcementLevel: "advisory",
    validateStack: (args, report) => {
        const topics = topicsByName(args.resources);
        const sources = args.resources
            .filter((r) => isKafkaConnector(r.type))
            .map((r) => ({ r, view: viewOf(r) }))
            .filter(({ view }) => view.role === "source");
        if (sources.length === 0) args.notApplicable("no source connectors in this stack");
        for (const { r, view } of sources) {
            if (view.config["tombstones.on.delete"]?.trim().toLowerCase() !== "false") continue;
            const compacted = literalIncludedTables(view)
                .flatMap((table) => dataTopicNames(view, table) ?? [])
                .filter((name) => topics.has(name) && (topicConfig(topics.get(name)!.props)["cleanup.policy"] ?? "").includes("compact"));
            if (compacted.length > 0) {
                report(
                    `${view.label} sets tombstones.on.delete=false but writes to compacted topic(s) ${compacted.join(", ")}; compaction never removes deleted rows and a consumer rebuilding from the topic resurrects them. ` +
                        'Fix: set tombstones.on.delete to "true".',
                    r.urn,
                );
            }
        }
    },
};

export const sourceIdentityUnique: StackValidationPolicy = {
    name: "source-identity-unique",
    description: "No two sources share a topic.prefix, schema history topic, PostgreSQL replication slot or MySQL server id.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const sources = args.resources
            .filter((r) => isKafkaConnector(r.type))
            .map((r) => ({ r, view: viewOf(r) }))
            .filter(({ view }) => view.role === "source");
        if (sources.length < 2) args.notApplicable("fewer than two source connectors");
        const claims = new Map<string, string>();
        const claim = (
            what: string,
            value: string | undefined,
            owner: ConnectorView,
            urn: string,
            consequence: string,
            fix: string,
        ): void => {
            if (!value) return;
            const key = `${what}\u0000${value}`;
            const first = claims.get(key);
            if (first === undefined) {
                claims.set(key, owner.label);
                return;
            }
            report(`${owner.label} uses ${what} "${value}", already used by ${first}; ${consequence}. Fix: ${fix}.`, urn);
        };
        for (const { r, view } of sources) {
            const c = view.config;
            claim(
                "topic.prefix",
                c["topic.prefix"],
                view,
                r.urn,
                "their change events and offsets would mix in the same topics",
                "give each source its own topic.prefix (source topicPrefix)",
            );
            claim(
                "schema history topic",
                c["schema.history.internal.kafka.topic"],
                view,
                r.urn,
                "each would replay the other's DDL on restart",
                "give each source its own schema.history.internal.kafka.topic",
            );
            if (view.sourceKind === "postgres") {
                const slotKey = `${c["database.hostname"] ?? ""}/${c["database.dbname"] ?? ""}/${c["slot.name"] ?? "debezium"}`;
                claim(
                    "replication slot",
                    slotKey,
                    view,
                    r.urn,
                    "two connectors on one slot each receive only part of the changes",
                    "set a distinct slot.name (source slotName)",
                );
            }
            if (view.sourceKind === "mysql" || view.sourceKind === "mariadb") {
                claim(
                    "database.server.id",
                    c["database.server.id"] && `${c["database.hostname"] ?? ""}/${c["database.server.id"]}`,
                    view,
                    r.urn,
                    "the server disconnects one replication client when the other connects",
                    "set a distinct database.server.id (source serverId)",
                );
            }
        }
    },
};
