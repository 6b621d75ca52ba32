/**
 * The reconciliation job as plain Kubernetes objects: one CronJob per reconciliation run (a pipeline's
 * source database against its target), the ConfigMap holding each run's reconciler configuration in
 * the format reconciler/config.ts parses, and the ServiceAccount the Vault Secrets Operator logs in as.
 *
 * The reconciler compares one source with one target per run (`--config <file>`), so a pipeline that
 * captures several SQL Server databases gets one run per database. Credentials never appear here: the
 * run's config names files (`urlFile`) that the operator renders from Vault into the reconciler's own
 * Secrets (templates below), mounted read-only into the pod.
 */
import type { PipelineSpec, ReconcilerSpec, StackSpec } from "../model/spec";
import { containerSecurityContext, podSecurityContext } from "./workload-security";
import { readsCaFile, TLS_MODES, TlsModeFamily } from "../model/tls";
import { CA_CERT_KEY, MANAGED_BY_LABELS } from "./connect-cluster";
import { Endpoint, endpointRules, networkPolicyBody, urlEndpoint } from "./network";
import {
    reconcilerConfigMapName,
    reconcilerServiceAccountName,
    reconcilerSourceSecretName,
    reconcilerTargetSecretName,
    stableHash,
} from "../model/naming";
import { REPORT_DIR } from "../model/paths";
import { targetTableName } from "./postgres-target";

export const CONFIG_DIR = "/etc/cdc-reconciler";
export const CONFIG_FILE = "reconciler.json";
const SOURCE_URL_DIR = "/var/run/secrets/cdc/source";
const TARGET_URL_DIR = "/var/run/secrets/cdc/target";
const URL_FILE = "url";
/** Where connect.databaseCaSecret is mounted: the CA the Connect pods verify the databases with. */
export const DATABASE_CA_DIR = "/var/run/secrets/cdc/database-ca";

/** The subset of reconciler/config.ts's file format the stack writes (the reconciler fills the rest). */
interface ReconcilerFileConfig {
    source: { urlFile: string };
    target: { urlFile: string };
    tables: { source: string; target: string }[];
    reportDir: string;
    lagWindowSeconds?: number;
    maxDiscrepanciesPerTable?: number;
    criticalRatio?: number;
    pushgateway?: { url: string; job: string; labels: Record<string, string> };
}

export interface ReconcileRunPlan {
    /** `<pipeline>` or `<pipeline>-<database>` when the pipeline captures several databases. */
    key: string;
    pipeline: string;
    sourceDatabase: string;
    cronJobName: string;
    /** Key of this run's file in the shared ConfigMap. */
    configKey: string;
    config: ReconcilerFileConfig;
    sourceSecret: { name: string; key: string };
    targetSecret: { name: string; key: string };
}

const dnsPart = (s: string): string =>
    s
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/^-+|-+$/g, "");

function sourceDatabasesOf(pipeline: PipelineSpec): string[] {
    const source = pipeline.source;
    if (source.kind === "sqlserver") return [...new Set(source.tables.map((t) => t.database))];
    return [source.database];
}

/**
 * A DNS label per source database of the pipeline, for its run's CronJob and its URL's Secret key: the lower-cased
 * name, with a hash of the exact name added where two databases (SalesDB and salesdb, Sales_DB and Sales-DB) fold
 * to the same label, which would otherwise give two runs one CronJob and one URL.
 */
function databaseLabels(pipeline: PipelineSpec): Map<string, string> {
    const databases = sourceDatabasesOf(pipeline);
    const folded = databases.map((database) => dnsPart(database) || "db");
    return new Map(
        databases.map((database, i) => {
            const shared = folded.some((other, j) => j !== i && other === folded[i]);
            return [database, shared ? `${folded[i]}-${stableHash(database).toString(16).padStart(8, "0")}` : folded[i]];
        }),
    );
}

const sourceUrlKey = (databaseLabel: string): string => `url-${databaseLabel}`;
const TARGET_URL_KEY = "url";

const MEMORY_UNITS_MIB: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, K: 1000 / 1048576, M: 1e6 / 1048576, G: 1e9 / 1048576 };

/**
 * V8 defers garbage collection until its heap is large, so an uncapped reconciler's RSS tracks garbage rather than
 * what it holds (reconciler/README.md "Memory"). Half the container's memory limit caps the heap and leaves the
 * rest to the drivers' buffers; a limit in another notation is left to Node's own sizing.
 */
export function nodeHeapEnv(memoryLimit: string): { env?: { name: string; value: string }[] } {
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)$/.exec(memoryLimit.trim());
    if (!m) return {};
    const heapMib = Math.floor((Number(m[1]) * MEMORY_UNITS_MIB[m[2]]) / 2);
    return heapMib >= 64 ? { env: [{ name: "NODE_OPTIONS", value: `--max-old-space-size=${heapMib}` }] } : {};
}

export function planReconcileRuns(spec: StackSpec): ReconcileRunPlan[] {
    const reconciler = spec.reconciler;
    if (!reconciler) return [];
    return spec.pipelines.flatMap((pipeline) => {
        const labels = databaseLabels(pipeline);
        return [...labels].map(([database, label]): ReconcileRunPlan => {
            const key = labels.size === 1 ? pipeline.name : `${pipeline.name}-${label}`;
            const tables = pipeline.source.tables
                .filter((t) => pipeline.source.kind !== "sqlserver" || t.database === database)
                .map((t) => ({
                    source: `${t.schema}.${t.table}`,
                    target: `${pipeline.sink.schema.toLowerCase()}.${targetTableName(pipeline, t)}`,
                }));
            return {
                key,
                pipeline: pipeline.name,
                sourceDatabase: database,
                cronJobName: `${reconciler.name}-${key}`,
                configKey: `${key}.json`,
                config: fileConfig(reconciler, pipeline, key, tables, spec.namespace),
                sourceSecret: { name: reconcilerSourceSecretName(reconciler, pipeline), key: sourceUrlKey(label) },
                targetSecret: { name: reconcilerTargetSecretName(reconciler, pipeline), key: TARGET_URL_KEY },
            };
        });
    });
}

function fileConfig(
    reconciler: ReconcilerSpec,
    pipeline: PipelineSpec,
    key: string,
    tables: ReconcilerFileConfig["tables"],
    namespace: string,
): ReconcilerFileConfig {
    return {
        source: { urlFile: `${SOURCE_URL_DIR}/${URL_FILE}` },
        target: { urlFile: `${TARGET_URL_DIR}/${URL_FILE}` },
        tables,
        reportDir: REPORT_DIR,
        ...(reconciler.lagWindowSeconds !== undefined ? { lagWindowSeconds: reconciler.lagWindowSeconds } : {}),
        ...(reconciler.maxDiscrepanciesPerTable !== undefined ? { maxDiscrepanciesPerTable: reconciler.maxDiscrepanciesPerTable } : {}),
        ...(reconciler.criticalRatio !== undefined ? { criticalRatio: reconciler.criticalRatio } : {}),
        // The stack's namespace in the grouping key: another stack's runs neither replace these groups nor count in
        // this stack's alerts (plan/monitoring.ts selects by it; the Pushgateway is scraped with honor_labels).
        ...(reconciler.pushgatewayUrl
            ? {
                  pushgateway: {
                      url: reconciler.pushgatewayUrl,
                      job: reconciler.name,
                      labels: { namespace, pipeline: pipeline.name, run: key },
                  },
              }
            : {}),
    };
}

// ---------------------------------------------------------------------------------------------
// Database URLs, rendered by the Vault Secrets Operator from the secret's host/port/username/password.
// Go's urlquery escapes everything outside [A-Za-z0-9-_.~]; the reconciler percent-decodes user and
// password. (A space would come out as '+': the generated passwords contain none.)

const userinfo = "{{ .Secrets.username | urlquery }}:{{ .Secrets.password | urlquery }}@{{ .Secrets.host }}:{{ .Secrets.port }}";

const databaseCaFile = (spec: StackSpec): string | undefined =>
    spec.connect.databaseCaSecret ? `${DATABASE_CA_DIR}/${CA_CERT_KEY}` : undefined;

/**
 * The TLS part of a reconciler URL: the mode the pipeline's connector gets for the same database, and the mounted
 * CA wherever that mode reads one. The reconciler therefore verifies exactly where the pipeline does, and a prod
 * spec (config/rules.ts accepts only verifying modes there) renders no URL that allows plaintext.
 */
function tlsQuery(family: TlsModeFamily, mode: string, caFile: string | undefined): string {
    const [modeKey, caKey] = family === "postgres" ? ["sslmode", "sslrootcert"] : ["ssl-mode", "ssl-ca"];
    const ca = caFile && readsCaFile(TLS_MODES[family][mode]) ? `&${caKey}=${caFile}` : "";
    return `${modeKey}=${mode}${ca}`;
}

/** Templates for the reconciler's copy of a pipeline's source credential: one URL per source database. */
export function sourceUrlTemplates(spec: StackSpec, pipeline: PipelineSpec): Record<string, string> {
    const source = pipeline.source;
    const templates: Record<string, string> = {};
    for (const [database, label] of databaseLabels(pipeline)) {
        const db = encodeURIComponent(database);
        let url: string;
        switch (source.kind) {
            case "sqlserver":
                url = `mssql://${userinfo}/${db}?encrypt=${source.encrypt}&trustServerCertificate=${source.trustServerCertificate}`;
                break;
            case "postgres":
                url = `postgres://${userinfo}/${db}?${tlsQuery("postgres", source.sslMode, databaseCaFile(spec))}`;
                break;
            case "mysql":
            case "mariadb":
                url = `mysql://${userinfo}/${db}?${tlsQuery(source.kind, source.sslMode, databaseCaFile(spec))}`;
                break;
        }
        templates[sourceUrlKey(label)] = url;
    }
    return templates;
}

export function targetUrlTemplates(spec: StackSpec, pipeline: PipelineSpec): Record<string, string> {
    const sink = pipeline.sink;
    return {
        [TARGET_URL_KEY]: `postgres://${userinfo}/${encodeURIComponent(sink.database)}?${tlsQuery("postgres", sink.sslMode, databaseCaFile(spec))}`,
    };
}

// ---------------------------------------------------------------------------------------------
// Kubernetes objects

const labels = (reconciler: ReconcilerSpec, extra: Record<string, string> = {}) => ({
    ...MANAGED_BY_LABELS,
    "app.kubernetes.io/name": "cdc-reconciler",
    "app.kubernetes.io/instance": reconciler.name,
    ...extra,
});

export function reconcilerServiceAccountBody(spec: StackSpec, reconciler: ReconcilerSpec) {
    return {
        apiVersion: "v1" as const,
        kind: "ServiceAccount" as const,
        metadata: { name: reconcilerServiceAccountName(reconciler), namespace: spec.namespace, labels: labels(reconciler) },
        // The job reads files only; its identity is used by the Vault Secrets Operator, not by the pod.
        automountServiceAccountToken: false,
    };
}

export function reconcilerConfigMapBody(spec: StackSpec, reconciler: ReconcilerSpec, runs: ReconcileRunPlan[]) {
    return {
        apiVersion: "v1" as const,
        kind: "ConfigMap" as const,
        metadata: { name: reconcilerConfigMapName(reconciler), namespace: spec.namespace, labels: labels(reconciler) },
        data: Object.fromEntries(runs.map((run) => [run.configKey, JSON.stringify(run.config, null, 2) + "\n"])),
    };
}

/** What selects one run's pods, for its NetworkPolicy. */
const runSelector = (reconciler: ReconcilerSpec, run: ReconcileRunPlan) => ({
    "app.kubernetes.io/name": "cdc-reconciler",
    "app.kubernetes.io/instance": reconciler.name,
    "cdc.pipeline/reconcile-run": run.key,
});

function reconcilerContainer(reconciler: ReconcilerSpec, caSecret: string | undefined) {
    return {
        name: "reconciler",
        image: reconciler.image,
        imagePullPolicy: "IfNotPresent",
        args: ["--config", `${CONFIG_DIR}/${CONFIG_FILE}`],
        ...nodeHeapEnv(reconciler.resources.limits.memory),
        resources: reconciler.resources,
        securityContext: containerSecurityContext(),
        volumeMounts: [
            { name: "config", mountPath: CONFIG_DIR, readOnly: true },
            { name: "source-url", mountPath: SOURCE_URL_DIR, readOnly: true },
            { name: "target-url", mountPath: TARGET_URL_DIR, readOnly: true },
            ...(caSecret ? [{ name: "database-ca", mountPath: DATABASE_CA_DIR, readOnly: true }] : []),
            { name: "reports", mountPath: REPORT_DIR },
            // Node and the drivers may write temporary files; the root filesystem is read-only.
            { name: "tmp", mountPath: "/tmp" },
        ],
    };
}

/** The run's config, its two database URLs and the database CA as read-only files; reports and /tmp writable. */
function reconcilerVolumes(reconciler: ReconcilerSpec, run: ReconcileRunPlan, caSecret: string | undefined) {
    const readOnly = 0o440;
    return [
        {
            name: "config",
            configMap: {
                name: reconcilerConfigMapName(reconciler),
                items: [{ key: run.configKey, path: CONFIG_FILE }],
            },
        },
        {
            name: "source-url",
            secret: {
                secretName: run.sourceSecret.name,
                items: [{ key: run.sourceSecret.key, path: URL_FILE }],
                defaultMode: readOnly,
            },
        },
        {
            name: "target-url",
            secret: {
                secretName: run.targetSecret.name,
                items: [{ key: run.targetSecret.key, path: URL_FILE }],
                defaultMode: readOnly,
            },
        },
        ...(caSecret
            ? [
                  {
                      name: "database-ca",
                      secret: {
                          secretName: caSecret,
                          items: [{ key: CA_CERT_KEY, path: CA_CERT_KEY }],
                          defaultMode: readOnly,
                      },
                  },
              ]
            : []),
        reconciler.reportClaimName
            ? { name: "reports", persistentVolumeClaim: { claimName: reconciler.reportClaimName } }
            : { name: "reports", emptyDir: { sizeLimit: "1Gi" } },
        { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
    ];
}

export function reconcilerCronJobBody(spec: StackSpec, reconciler: ReconcilerSpec, run: ReconcileRunPlan) {
    const podLabels = labels(reconciler, { "cdc.pipeline/name": run.pipeline, ...runSelector(reconciler, run) });
    const caSecret = spec.connect.databaseCaSecret;
    return {
        apiVersion: "batch/v1" as const,
        kind: "CronJob" as const,
        metadata: { name: run.cronJobName, namespace: spec.namespace, labels: podLabels },
        spec: {
            schedule: reconciler.schedule,
            ...(reconciler.timeZone ? { timeZone: reconciler.timeZone } : {}),
            // A run still going when the next is due is left alone; two runs would double the load and race on reports.
            concurrencyPolicy: "Forbid",
            startingDeadlineSeconds: 3600,
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 5,
            jobTemplate: {
                metadata: { labels: podLabels },
                spec: {
                    backoffLimit: reconciler.backoffLimit,
                    activeDeadlineSeconds: reconciler.activeDeadlineSeconds,
                    ttlSecondsAfterFinished: 7 * 24 * 3600,
                    template: {
                        metadata: { labels: podLabels },
                        spec: {
                            serviceAccountName: reconcilerServiceAccountName(reconciler),
                            automountServiceAccountToken: false,
                            restartPolicy: "Never",
                            securityContext: podSecurityContext(),
                            containers: [reconcilerContainer(reconciler, caSecret)],
                            volumes: reconcilerVolumes(reconciler, run, caSecret),
                        },
                    },
                },
            },
        },
    };
}

/** The databases and the Pushgateway a run reaches; the run's config, URLs and CA are mounted files, so nothing else. */
function reconcilerEndpoints(spec: StackSpec, reconciler: ReconcilerSpec, run: ReconcileRunPlan): Endpoint[] {
    const pipeline = spec.pipelines.find((p) => p.name === run.pipeline)!;
    const pushgateway = reconciler.pushgatewayUrl ? urlEndpoint(reconciler.pushgatewayUrl) : undefined;
    return [
        { host: pipeline.source.host, port: pipeline.source.port },
        { host: pipeline.sink.host, port: pipeline.sink.port },
        ...(pushgateway ? [pushgateway] : []),
    ];
}

/** A run pushes its results and serves nothing: no ingress at all. */
export function reconcilerNetworkPolicyBody(spec: StackSpec, reconciler: ReconcilerSpec, run: ReconcileRunPlan) {
    return networkPolicyBody(spec, () => ({
        name: run.cronJobName,
        labels: labels(reconciler, { "cdc.pipeline/name": run.pipeline }),
        podSelector: runSelector(reconciler, run),
        egress: endpointRules(spec, reconcilerEndpoints(spec, reconciler, run)),
    }));
}
