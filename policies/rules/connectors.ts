/**
 * Every KafkaConnector: wired to a KafkaConnect of this stack that accepts connector resources,
 * credentials only as config-provider references, bounded tasks, no row data in logs.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { boolean, integer, settings, strings } from "../lib/config";
import { connectorView, embeddedLiteralSecrets, isConfigProviderReference, isCredentialKey, sourceDatabases } from "../lib/connectors";
import { forTypes, readIfKnown } from "../lib/match";
import {
    asRecord,
    isKafkaConnect,
    isKafkaConnector,
    k8sLabel,
    KAFKA_CONNECT_TYPES,
    KAFKA_CONNECTOR_TYPES,
    metadata,
} from "../lib/resources";

const STRIMZI_CLUSTER_LABEL = "strimzi.io/cluster";
const USE_CONNECTOR_RESOURCES = "strimzi.io/use-connector-resources";

export const kafkaConnectorClusterLabel: ResourceValidationPolicy = {
    name: "kafka-connector-cluster-label",
    description: "Every KafkaConnector carries the strimzi.io/cluster label naming its Kafka Connect cluster.",
    enforcementLevel: "mandatory",
    validateResource: forTypes(KAFKA_CONNECTOR_TYPES, (connector, args, report) => {
        const { labels } = metadata(connector);
        const label = k8sLabel("KafkaConnector", connector, args.name);
        const fix = `Fix: label it ${STRIMZI_CLUSTER_LABEL}: <KafkaConnect metadata.name>, taken from the KafkaConnect resource's metadata.name output (PipelineConnectors does this).`;
        if (!(STRIMZI_CLUSTER_LABEL in labels)) {
            report(
                `${label} has no ${STRIMZI_CLUSTER_LABEL} label, so no Kafka Connect cluster runs it and no change is captured or applied. ${fix}`,
            );
            return;
        }
        // The label is an Output of the KafkaConnect's name: unknown in some previews, checked at update.
        const { known, value } = readIfKnown(labels, STRIMZI_CLUSTER_LABEL);
        if (known && (typeof value !== "string" || value.trim() === "")) {
            report(`${label} has an empty ${STRIMZI_CLUSTER_LABEL} label, so no Kafka Connect cluster runs it. ${fix}`);
        }
    }),
};

export const kafkaConnectorClusterExists: StackValidationPolicy = {
    name: "kafka-connector-cluster-exists",
    description: `Every KafkaConnector's ${STRIMZI_CLUSTER_LABEL} label names a KafkaConnect of this stack, in its namespace, annotated ${USE_CONNECTOR_RESOURCES}: "true".`,
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const connectors = args.resources.filter((r) => isKafkaConnector(r.type));
        if (connectors.length === 0) args.notApplicable("no KafkaConnector in this stack");
        const clusters = args.resources.filter((r) => isKafkaConnect(r.type));
        const reportedClusters = new Set<string>();
        for (const connector of connectors) {
            const meta = metadata(connector.props);
            if (!(STRIMZI_CLUSTER_LABEL in meta.labels)) continue; // kafka-connector-cluster-label reports it
            const { known, value } = readIfKnown(meta.labels, STRIMZI_CLUSTER_LABEL);
            if (!known || typeof value !== "string" || value === "") continue;
            const label = k8sLabel("KafkaConnector", connector.props, connector.name);
            const target = clusters.find((c) => {
                const cm = metadata(c.props);
                return cm.name === value && (cm.namespace === undefined || meta.namespace === undefined || cm.namespace === meta.namespace);
            });
            if (!target) {
                const names = clusters.map((c) => metadata(c.props).name).filter((n) => n !== undefined);
                report(
                    `${label} is labelled ${STRIMZI_CLUSTER_LABEL}: ${value}, but this stack has no KafkaConnect named "${value}"` +
                        `${meta.namespace ? ` in namespace ${meta.namespace}` : ""} (it has: ${names.length > 0 ? names.join(", ") : "none"}); the connector would never run. ` +
                        "Fix: set the label from the KafkaConnect resource's metadata.name output instead of a literal.",
                    connector.urn,
                );
                continue;
            }
            const annotation = metadata(target.props).annotations[USE_CONNECTOR_RESOURCES];
            if (annotation !== "true" && !reportedClusters.has(target.urn)) {
                reportedClusters.add(target.urn);
                report(
                    `${k8sLabel("KafkaConnect", target.props, target.name)} runs ${label} but is not annotated ${USE_CONNECTOR_RESOURCES}: "true" ` +
                        `(found ${annotation === undefined ? "no annotation" : JSON.stringify(annotation)}); Strimzi ignores every KafkaConnector of it. ` +
                        `Fix: add the annotation ${USE_CONNECTOR_RESOURCES}: "true" (a string) to the KafkaConnect.`,
                    target.urn,
                );
            }
        }
    },
};

const credentialSettings = settings<{ allowedLiteralKeys: string[] }>({
    allowedLiteralKeys: strings([], "Config keys that look like credentials but may hold literal values (exact key names)."),
});

export const connectorCredentialsByReference: ResourceValidationPolicy = {
    name: "connector-credentials-by-reference",
    description:
        "KafkaConnector and KafkaConnect configs hold credentials (password, secret, token, key, user) only as config-provider references such as ${secrets:ns/name:key}.",
    enforcementLevel: "mandatory",
    configSchema: credentialSettings.schema,
    validateResource: forTypes([...KAFKA_CONNECTOR_TYPES, ...KAFKA_CONNECT_TYPES], (resource, args, report) => {
        const { allowedLiteralKeys } = credentialSettings.read(args);
        const kind = isKafkaConnect(args.type) ? "KafkaConnect" : "KafkaConnector";
        const label = k8sLabel(kind, resource, args.name);
        const namespace = metadata(resource).namespace ?? "<namespace>";
        const fix = `Fix: keep the value in a Kubernetes Secret (synced from Vault) and reference it as \${secrets:${namespace}/<secret>:<key>}.`;
        const where = "it would be stored in plain text in the custom resource, etcd, Pulumi state and the Connect REST API";
        for (const [key, raw] of Object.entries(asRecord(asRecord(resource.spec).config))) {
            if (raw === null || raw === undefined || typeof raw === "object") continue;
            const value = String(raw);
            if (allowedLiteralKeys.includes(key)) continue;
            if (isCredentialKey(key) && !isConfigProviderReference(value)) {
                // Never echo the value: it may be the secret itself.
                report(`${label} sets ${key} to a literal value instead of a config-provider reference; ${where}. ${fix}`);
            } else if (embeddedLiteralSecrets(value).length > 0) {
                report(
                    `${label} embeds a literal password, secret or token in ${key}; ${where}. Fix: replace the embedded value with a config-provider reference, e.g. password="\${secrets:${namespace}/<secret>:password}".`,
                );
            }
        }
    }),
};

const tasksSettings = settings<{ maxTasks: number }>({
    maxTasks: integer(8, "Largest tasksMax any connector may ask for.", 1),
});

export const connectorTasksMax: ResourceValidationPolicy = {
    name: "connector-tasks-max",
    description: "KafkaConnector tasksMax is set in spec.tasksMax, at least 1, within the pack's bound and what the connector can use.",
    enforcementLevel: "mandatory",
    configSchema: tasksSettings.schema,
    validateResource: forTypes(KAFKA_CONNECTOR_TYPES, (props, args, report) => {
        const { maxTasks } = tasksSettings.read(args);
        const view = connectorView(props, args.name);
        if ("tasks.max" in view.config) {
            report(
                `${view.label} sets tasks.max in spec.config; Strimzi owns that key and older operators restart the connector on every reconcile. Fix: move it to spec.tasksMax.`,
            );
        }
        const tasks = view.tasksMax;
        if (tasks === undefined) return;
        if (!Number.isInteger(tasks) || tasks < 1 || tasks > maxTasks) {
            report(
                `${view.label} has tasksMax ${tasks}; it must be between 1 and ${maxTasks}. Fix: set spec.tasksMax within that range (sources: one per captured database at most).`,
            );
            return;
        }
        if (view.sourceKind === "sqlserver") {
            const databases = sourceDatabases(view).length;
            if (databases > 0 && tasks > databases) {
                report(
                    `${view.label} has tasksMax ${tasks} but captures ${databases} database(s); Debezium runs one SQL Server task per database and the rest sit idle. Fix: set spec.tasksMax to ${databases}.`,
                );
            }
        } else if (view.sourceKind === "postgres" || view.sourceKind === "mysql" || view.sourceKind === "mariadb") {
            if (tasks > 1) {
                report(
                    `${view.label} has tasksMax ${tasks}, but the Debezium ${view.sourceKind} connector reads its log in a single task. Fix: set spec.tasksMax to 1.`,
                );
            }
        }
    }),
};

const loggingSettings = settings<{ allowRecordContentsInLogs: boolean }>({
    allowRecordContentsInLogs: boolean(
        false,
        "Whether connectors may log failed records' contents (the environment profile's logErrorRecordContents).",
    ),
});

export const connectorErrorLogRedacted: ResourceValidationPolicy = {
    name: "connector-error-log-redacted",
    description:
        "Connectors do not write failed records' contents (row data, possibly PII) to the Connect log where the environment forbids it (prod).",
    enforcementLevel: "mandatory",
    configSchema: loggingSettings.schema,
    validateResource: forTypes(KAFKA_CONNECTOR_TYPES, (props, args, report) => {
        const { allowRecordContentsInLogs } = loggingSettings.read(args);
        if (allowRecordContentsInLogs) args.notApplicable("this environment allows record contents in logs");
        const view = connectorView(props, args.name);
        if (view.config["errors.log.include.messages"]?.toLowerCase() === "true") {
            report(
                `${view.label} sets errors.log.include.messages=true, which copies failed records (row data, possibly PII) into the Connect log and every log pipeline behind it. ` +
                    'Fix: set errors.log.include.messages to "false"; the DLQ keeps the record with its error context.',
            );
        }
    }),
};
