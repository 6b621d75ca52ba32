/**
 * Fuzzing the stack configuration parser: structured mutations of the shipped stacks (and of the sandbox's
 * PostgreSQL + MariaDB stack) and random JSON in place of the whole config or a section. parseStackSpec must
 * either accept or throw ConfigError with located, worded issues; whatever it accepts must render through the
 * pure plan functions the program calls (components/), into objects the next consumer can read.
 */
import { expect } from "chai";
import fc from "fast-check";
import Ajv2020 from "ajv/dist/2020";
import { readFileSync } from "fs";
import * as path from "path";
import { ConfigError, formatPath } from "../../config/errors";
import { parseStackSpec } from "../../plan/stack-spec";
import type { StackSpec } from "../../model/spec";
import { RENAMED_SNAPSHOT_MODES, SNAPSHOT_MODES, SOURCE_KINDS } from "../../model/options";
import { renderConnectors, restConfig } from "../../connectors/render";
import { TLS_MODES } from "../../model/tls";
import { clusterConnectorContext, kafkaAccessBody, kafkaConnectBody, secretReaderRole } from "../../plan/connect-cluster";
import { connectKafkaUserBody, lakehouseKafkaUserBody } from "../../plan/kafka-users";
import { kafkaConnectorBody } from "../../plan/kafka-connector";
import {
    lakehouseConfigMapBody,
    lakehouseDeploymentBody,
    lakehouseDisruptionBudgetBody,
    lakehouseKafkaAccessBody,
    lakehouseMaintenanceCronJobBody,
    lakehouseMaintenanceNetworkPolicyBody,
    lakehousePipelines,
    lakehousePodMonitorBody,
    lakehouseServiceAccountBody,
    lakehouseWriterNetworkPolicyBody,
    writerConfigFile,
} from "../../plan/lakehouse";
import { podMonitorBody, prometheusRuleBody } from "../../plan/monitoring";
import { planPostgresTargets } from "../../plan/postgres-target";
import {
    planReconcileRuns,
    reconcilerConfigMapBody,
    reconcilerCronJobBody,
    reconcilerNetworkPolicyBody,
    reconcilerServiceAccountBody,
} from "../../plan/reconciler-job";
import { planSqlServerSources } from "../../plan/sqlserver-source";
import { planTopics } from "../../plan/topics";
import {
    consumersOf,
    planKubernetesAuthRoles,
    planSecretSyncs,
    planVaultPolicies,
    planVaultSecrets,
    policyProblems,
    renderPolicyJson,
    serviceAccountOf,
    vaultAuthBody,
    vaultConnectionBody,
    vaultStaticSecretBody,
} from "../../plan/vault";
import { validateReconcilerConfig } from "../../reconciler/config";
import { parseDatabaseUrl } from "../../reconciler/db";
import { mssqlTls, mysqlTls, postgresTls } from "../../reconciler/tls";
import { sandboxStackConfig } from "../../sandbox/stack";
import { rawProjectConfig, REPO_ROOT } from "../helpers/stack-files";
import { anyValue, fuzz, mutated, pathsOf, PROTOTYPE_KEYS } from "./mutations";

type Raw = Record<string, any>;

/** The lakehouse writer's contract: the file it reads at start, refusing anything else. */
const validateWriterConfig = new Ajv2020({ allErrors: true, strict: false }).compile(
    JSON.parse(readFileSync(path.join(REPO_ROOT, "lakehouse", "schema", "writer-config.schema.json"), "utf8")),
);

const endpoint = (host: string, port: number, database: string) => ({ host, port, database, user: "u", url: "" }) as any;
const sandbox = sandboxStackConfig({
    bootstrapServers: "localhost:9092",
    postgresSource: endpoint("127.0.0.1", 5433, "shop"),
    mariaDbSource: endpoint("127.0.0.1", 3307, "inventory"),
    target: endpoint("127.0.0.1", 5434, "warehouse"),
}) as Raw;
const dev = rawProjectConfig("dev") as Raw;
const prod = rawProjectConfig("prod") as Raw;
/** Every source kind in one stack, with a reconciler: the widest seed for the plan functions. dev has pipelines of the sandbox's names. */
const mixed: Raw = {
    ...structuredClone(dev),
    pipelines: [
        ...structuredClone(dev.pipelines),
        ...structuredClone(sandbox.pipelines).map((p: Raw) => ({ ...p, name: `sandbox-${p.name}` })),
    ],
};
/** A SQL Server pipeline capturing two databases: one reconciler run, CronJob and URL per database. */
const databases: Raw = structuredClone(dev);
databases.pipelines[0].source.databases = ["SalesDB", "Archive"];
databases.pipelines[0].source.tables = [
    { name: "dbo.customers", database: "SalesDB", primaryKey: ["id"] },
    { name: "dbo.orders_2019", database: "Archive", primaryKey: ["order_id"] },
];
const SEEDS: Record<string, Raw> = { dev, prod, sandbox, mixed, databases };

/** Names the seeds' own objects already carry (topics, Kubernetes objects, roles): what a new name might collide with. */
function stringsIn(value: unknown): string[] {
    if (typeof value === "string") return [value];
    if (Array.isArray(value)) return value.flatMap(stringsIn);
    if (value !== null && typeof value === "object") return Object.values(value).flatMap(stringsIn);
    return [];
}

/** Names the seeds' own objects already carry (topics, Kubernetes objects, roles): what a new name might collide with. */
const TAKEN_NAMES = [
    ...new Set(
        Object.values(SEEDS).flatMap((seed) =>
            stringsIn(renderAll(parseStackSpec(structuredClone(seed)).spec)).filter(
                (v) => /^[a-z0-9]([-a-z0-9_]*[a-z0-9])?$/.test(v) && v.length <= 63,
            ),
        ),
    ),
];

const allPipelines = Object.values(SEEDS).flatMap((s) => s.pipelines as Raw[]);
const tlsModes = [...new Set(Object.values(TLS_MODES).flatMap((modes) => Object.keys(modes)))];

/** Values worth trying per key name: valid ones, neighbours of valid ones, and the pairs the cross-field rules compare. */
const PLAUSIBLE: Record<string, readonly unknown[]> = {
    environment: ["dev", "prod"],
    namespace: ["cdc", "a", "a".repeat(63), "a".repeat(64), "shop", "lakehouse"],
    kind: SOURCE_KINDS,
    sslMode: tlsModes,
    snapshotMode: [...new Set(Object.values(SNAPSHOT_MODES).flat()), ...Object.keys(RENAMED_SNAPSHOT_MODES), ...PROTOTYPE_KEYS],
    snapshotIsolationMode: ["snapshot", "read_committed", "exclusive"],
    decimalHandlingMode: ["precise", "string", "double"],
    timePrecisionMode: ["adaptive", "adaptive_time_microseconds", "connect"],
    state: ["running", "paused", "stopped"],
    insertMode: ["insert", "upsert", "update"],
    primaryKeyMode: ["none", "kafka", "record_key", "record_value"],
    implementation: ["debezium", "confluent"],
    errorsTolerance: ["none", "all"],
    encrypt: [true, false],
    trustServerCertificate: [true, false],
    readOnlyIntent: [true, false],
    tombstonesOnDelete: [true, false],
    deleteEnabled: [true, false],
    truncateEnabled: [true, false],
    autoCreate: [true, false],
    autoEvolve: [true, false],
    deadLetterQueue: [true, false],
    createMount: [true, false],
    createDatabases: [true, false],
    enabled: [true, false],
    nullable: [true, false],
    tasksMax: [1, 2, 3],
    partitions: [1, 3, 12],
    replicationFactor: [1, 2, 3],
    minInsyncReplicas: [1, 2, 3],
    retentionMs: [-1, 0, 86400000],
    port: [1, 1433, 3306, 5432, 65535],
    serverId: [1, 184054, 4294967295],
    maxBatchSize: [1, 2048],
    maxQueueSize: [2, 8192],
    pollIntervalMs: [1, 500],
    heartbeatIntervalMs: [0, 10000],
    databases: [["SalesDB"], ["SalesDB", "Archive"], ["Sales DB"]],
    database: ["SalesDB", "Archive", "shop", "inventory", "warehouse"],
    name: [
        "sales",
        "shop",
        "inventory",
        "dbo.customers",
        "dbo.Orders",
        "shop.products",
        "public.orders",
        "id",
        "a".repeat(40),
        ...TAKEN_NAMES,
    ],
    tables: [
        [{ name: "dbo.customers", primaryKey: ["id"] }],
        [
            {
                name: "shop.products",
                primaryKey: ["product_id"],
                columns: [
                    { name: "product_id", type: "bigint" },
                    { name: "price", type: "numeric(12,2)" },
                ],
            },
        ],
        [
            { name: "dbo.orders", primaryKey: ["id"], database: "SalesDB" },
            { name: "dbo.orders_2019", primaryKey: ["id"], database: "Archive" },
        ],
    ],
    primaryKey: [["id"], ["order_id", "line_number"], ["ID"]],
    columns: [
        [{ name: "id", type: "bigint", nullable: false }],
        [
            { name: "id", type: "varchar(255)" },
            { name: "ID", type: "text" },
        ],
    ],
    type: ["bigint", "varchar(255)", "timestamp with time zone", "text[]", "bigint; DROP TABLE x"],
    connectorName: ["sales-sqlserver-source", "sqlserver-cdc-source", "postgresql-jdbc-sink", "shop-postgres-source", ...TAKEN_NAMES],
    topicPrefix: ["sqlserver", "sales", "shop", "a_b-c", ...TAKEN_NAMES],
    slotName: ["slot_1", "shop_postgres_source"],
    publicationName: ["pub_1"],
    username: ["cdc_reader", "cdc_writer", "cdc_reconciler"],
    readOnlyUsername: ["cdc_reconciler", "cdc_writer", "CDC_Reader"],
    host: ["sqlserver.sales-dev.svc", "warehouse-dev.postgres.svc", "127.0.0.1", "db.example.com", ...PROTOTYPE_KEYS],
    schema: ["sales", "public", "Sales", "shop"],
    tableNameFormat: ["${source.table}", "t_${source.table}", "fixed"],
    primaryKeyFields: [[], ["id"]],
    connectionPool: [{}, { minSize: 11, maxSize: 10 }],
    tlsCaSecret: ["cdc-kafka-cluster-ca-cert"],
    authentication: ["none", "scram-sha-512", "tls", "scram"],
    egressCidrs: [{}, { "db.example.com": ["10.0.0.0/8"] }, { "db.example.com": ["10.0.0.0/33"] }, { constructor: ["192.0.2.1/32"] }],
    databaseCaSecret: ["database-ca"],
    kafkaVersion: ["4.1.1", "3.9.0"],
    replicas: [1, 2],
    memory: ["512Mi", "1Gi", "64Mi", "1.5Gi", "lots"],
    cpu: ["1", "250m"],
    address: ["https://vault.example.com:8200", "http://vault.vault.svc:8200"],
    kvMount: ["secret", "kv"],
    kubernetesAuthMount: ["kubernetes", "k8s/prod"],
    namePrefix: ["cdc-dev", "x", ...TAKEN_NAMES],
    caCertSecret: ["vault-ca"],
    refreshAfter: ["1h", "30s"],
    tokenTtlSeconds: [60, 86400],
    gatingRole: ["cdc_gate"],
    cdcRetentionMinutes: [60, 52494800],
    changeTableFilegroup: ["CDC"],
    adminHosts: [{}, { "sqlserver.sales-dev.svc": "localhost:1433" }, { "warehouse-dev.postgres.svc": "localhost" }],
    reconciler: [
        { image: "registry.example.com/r:1" },
        {
            image: `registry.example.com/r@sha256:${"a".repeat(64)}`,
            name: "a".repeat(40),
            pushgatewayUrl: "http://pushgateway:9091",
            criticalRatio: 0.5,
            lagWindowSeconds: 0,
            maxDiscrepanciesPerTable: 1,
            timeZone: "Europe/Paris",
            reportClaimName: "reports",
        },
    ],
    image: ["r:1", `r@sha256:${"a".repeat(64)}`],
    schedule: ["30 2 * * *", "*/5 * * * *"],
    lagWindowSeconds: [0, 60],
    criticalRatio: [0, 0.01, 1],
    pushgatewayUrl: ["http://pushgateway:9091", "http://pushgateway.monitoring.svc:9091", "https://push.example.com", "http://%zz"],
    backoffLimit: [0, 10],
    activeDeadlineSeconds: [1, 3600],
    reportClaimName: ["reports"],
    monitoring: [{ enabled: false }, { runbookBaseUrl: "https://git.example.com/docs/runbooks.md" }],
    labels: [{}, { release: "kube-prometheus-stack" }],
    runbookBaseUrl: ["https://git.example.com/docs/runbooks.md"],
    pipelines: Object.values(SEEDS).map((s) => s.pipelines),
    source: allPipelines.map((p) => p.source),
    sink: allPipelines.map((p) => p.sink),
    topics: [{}, { replicationFactor: 3, minInsyncReplicas: 2 }],
    format: ["deltalake", "iceberg", "parquet"],
    writeMode: ["append", "upsert"],
    table: ["public.customers", "public.orders", "inventory.products", "dbo.customers", "dbo.Customers"],
    partitionBy: ["day(last_updated)", "month(updated_at)", "customer_id", "year(registration_date)", "hour(x"],
    sortBy: [["product_id"], ["lifetime_value DESC"]],
    metadataColumns: [
        ["_cdc_operation"],
        ["_cdc_binlog_file"],
        ["_source_system", "_cdc_source_lsn"],
        ["_cdc_operation", "_cdc_operation"],
    ],
    ordersTable: ["orders_cdc", "customers_cdc", "customers_analytics"],
    warehouse: ["s3://cdc-lakehouse/warehouse", "s3://cdc-lakehouse/", "file:///tmp"],
    healthCheckPort: [80, 1024, 8080, 65535],
    loggingLevel: ["DEBUG", "INFO", "TRACE"],
    retentionHours: [0.5, 1, 168],
    endpoint: ["http://minio:9000", "https://minio.example.com"],
    sourceSystemLabel: ["postgres_cdc"],
    thresholdSeconds: [5, 0],
    tolerance: [0, 0.01, 1],
};

const KEYS = [
    ...new Set([
        ...Object.keys(PLAUSIBLE),
        ...Object.values(SEEDS).flatMap((s) =>
            pathsOf(s)
                .map((p) => p[p.length - 1])
                .filter((k): k is string => typeof k === "string"),
        ),
    ]),
];

/** Text the renderers wrote themselves, never a value the user gave. */
const RENDERING_SLIPS = ["undefined", "NaN", "[object Object]", "Infinity", "[native code]"];

/** Every string and number in the rendered objects: finite numbers, and no slip that is not in the input. */
function checkValues(rendered: unknown, input: string, at = "rendered"): void {
    if (typeof rendered === "number") {
        if (!Number.isFinite(rendered)) throw new Error(`${at} is ${rendered}`);
    } else if (typeof rendered === "string") {
        for (const slip of RENDERING_SLIPS) {
            if (rendered.includes(slip) && !input.includes(slip)) throw new Error(`${at} renders ${JSON.stringify(slip)}: ${rendered}`);
        }
    } else if (Array.isArray(rendered)) {
        rendered.forEach((v, i) => checkValues(v, input, `${at}[${i}]`));
    } else if (rendered !== null && typeof rendered === "object") {
        for (const [k, v] of Object.entries(rendered)) checkValues(v, input, `${at}.${k}`);
    }
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const LABEL_PART = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Kubernetes' own rules for object names and labels, which a preview does not check and the API server does. */
function checkKubernetesObjects(rendered: unknown, at = "rendered"): void {
    if (Array.isArray(rendered)) return rendered.forEach((v, i) => checkKubernetesObjects(v, `${at}[${i}]`));
    if (rendered === null || typeof rendered !== "object") return;
    const object = rendered as Record<string, any>;
    const meta = object.metadata;
    if (meta !== null && typeof meta === "object") {
        if (meta.name !== undefined) {
            const max = object.kind === "CronJob" ? 52 : 253;
            if (typeof meta.name !== "string" || !DNS_SUBDOMAIN.test(meta.name) || meta.name.length > max) {
                throw new Error(`${at} ${object.kind ?? ""} is named ${JSON.stringify(meta.name)}, not a Kubernetes object name`);
            }
        }
        for (const [key, value] of Object.entries((meta.labels ?? {}) as Record<string, unknown>)) {
            const name = key.includes("/") ? key.slice(key.indexOf("/") + 1) : key;
            const prefix = key.includes("/") ? key.slice(0, key.indexOf("/")) : undefined;
            const keyOk =
                name !== "" &&
                name.length <= 63 &&
                LABEL_PART.test(name) &&
                (prefix === undefined || (DNS_SUBDOMAIN.test(prefix) && prefix.length <= 253));
            const valueOk = typeof value === "string" && value.length <= 63 && LABEL_PART.test(value);
            if (!keyOk || !valueOk)
                throw new Error(
                    `${at} ${object.kind ?? ""} has the label ${JSON.stringify(key)}: ${JSON.stringify(value)}, which Kubernetes refuses`,
                );
        }
    }
    for (const [k, v] of Object.entries(object)) checkKubernetesObjects(v, `${at}.${k}`);
}

/** What the Vault Secrets Operator renders from a template, given the secret's fields. */
function renderTemplate(text: string, fields: Record<string, string>): string {
    return text.replace(/\{\{\s*\.Secrets\.(\w+)\s*(\|\s*urlquery\s*)?\}\}/g, (_, key: string, escape?: string) =>
        escape ? encodeURIComponent(fields[key]) : fields[key],
    );
}

/** Each plan names its objects once: the names become Pulumi resource names and Kubernetes or database objects. */
function once(what: string, names: readonly string[]): void {
    const seen = new Set<string>();
    for (const name of names) {
        if (seen.has(name)) throw new Error(`two ${what} named ${JSON.stringify(name)}`);
        seen.add(name);
    }
}

/** Everything components/ builds from a spec, through the same pure functions, plus the lookups it relies on. */
/** The SQL Server and PostgreSQL plans, each name once, and every pipeline's logins in them. */
function plannedDatabases(spec: StackSpec) {
    const sources = planSqlServerSources(spec);
    once(
        "SQL Server plans",
        sources.map((s) => s.key),
    );
    for (const server of sources) {
        once(
            `databases of ${server.key}`,
            server.databases.map((d) => d.database),
        );
        once(
            `logins of ${server.key}`,
            server.logins.map((l) => l.name),
        );
        for (const db of server.databases)
            once(
                `scripts of ${server.key}/${db.database}`,
                db.scripts.map((x) => x.key),
            );
    }
    const targets = planPostgresTargets(spec);
    once(
        "PostgreSQL plans",
        targets.map((t) => t.key),
    );
    for (const t of targets) {
        once(`databases of ${t.key}`, t.databases);
        once(
            `schemas of ${t.key}`,
            t.schemas.map((x) => `${x.database}.${x.schema}`),
        );
        once(
            `roles of ${t.key}`,
            t.roles.map((r) => r.name),
        );
        once(
            `tables of ${t.key}`,
            t.tables.map((x) => `${x.database}.${x.schema}.${x.table}`),
        );
        once(
            `grants of ${t.key}`,
            t.grants.map((g) => `${g.role}-${[g.database, g.schema, g.objectType].filter(Boolean).join("-")}`),
        );
        once(
            `default privileges of ${t.key}`,
            t.defaultPrivileges.map((d) => `${d.role}-${d.database}-${d.schema}-from-${d.owner}`),
        );
    }
    for (const p of spec.pipelines) {
        // components/access.ts finds each pipeline's server plan and the login it generated a password for.
        if (p.source.kind === "sqlserver") {
            const server = sources.find((s) => s.pipelines.includes(p.name));
            expect(
                server?.logins.map((l) => l.name),
                `SQL Server plan of ${p.name}`,
            ).to.include(p.source.username);
        }
        const target = targets.find((t) => t.pipelines.includes(p.name));
        const roles = target?.roles.map((r) => r.name);
        expect(roles, `PostgreSQL plan of ${p.name}`).to.include(p.sink.username);
        if (spec.reconciler) expect(roles).to.include(p.sink.readOnlyUsername);
    }
    return { sources, targets };
}

/** Vault's policies, roles, secrets and syncs (every synced URL parses with its TLS settings) and the reconcile runs. */
function plannedVaultAndRuns(spec: StackSpec) {
    const policies = planVaultPolicies(spec);
    // components/vault.ts refuses to create a policy with problems: an accepted spec must never have one.
    for (const policy of policies) expect(policyProblems(policy, spec.vault.kvMount), policy.name).to.deep.equal([]);
    // Each Vault role trusts one ServiceAccount: two consumers on one account could read each other's credentials.
    once(
        "Vault consumers' ServiceAccounts",
        consumersOf(spec).map((c) => serviceAccountOf(spec, c)),
    );
    const authRoles = planKubernetesAuthRoles(spec);
    for (const role of authRoles) expect(policies.map((p) => p.consumer)).to.include(role.consumer);
    const secretPlans = planVaultSecrets(spec);
    once(
        "Vault secrets",
        secretPlans.map((s) => s.path),
    );
    const secrets = new Map(secretPlans.map((s) => [s.path, s]));
    const syncs = planSecretSyncs(spec);
    once(
        "synced Secrets",
        syncs.map((s) => s.secretName),
    );
    const runs = planReconcileRuns(spec);
    once(
        "reconcile runs",
        runs.map((r) => r.key),
    );
    once(
        "reconciler CronJobs",
        runs.map((r) => r.cronJobName),
    );
    once(
        "reconciler config files",
        runs.map((r) => r.configKey),
    );
    for (const sync of syncs) {
        if (!sync.templates) continue;
        // A template renders the fields the stack writes next to the password; a secret written elsewhere has none.
        const secret = secrets.get(sync.path);
        expect(secret, `Vault secret ${sync.path}`).to.not.equal(undefined);
        if (sync.path.endsWith("/source")) {
            // One URL per run of the pipeline: a key two source databases share would hand one run the other's URL.
            expect(Object.keys(sync.templates), sync.secretName).to.have.length(runs.filter((r) => r.pipeline === sync.pipeline).length);
        }
        for (const template of Object.values(sync.templates)) {
            const url = renderTemplate(template, { ...secret!.fields, password: "p" });
            const parsed = parseDatabaseUrl(url);
            expect(parsed.host.toLowerCase(), url).to.equal(secret!.fields.host.toLowerCase());
            if (parsed.engine === "postgres") postgresTls(parsed.params);
            else if (parsed.engine === "mysql") mysqlTls(parsed.params);
            else mssqlTls(parsed.params);
        }
    }
    return { policies, authRoles, secrets, syncs, runs };
}

/** Each lakehouse writer's objects; the writer's own validator accepts its config file. */
function lakehouseObjects(spec: StackSpec): unknown[] {
    const out: unknown[] = [];
    const writers = lakehousePipelines(spec);
    for (const p of writers) {
        // The writer validates its file at start and refuses to run on a bad one: the stack must render only good ones.
        const file = writerConfigFile(spec, p);
        expect(validateWriterConfig(file) ? [] : validateWriterConfig.errors, `writer config of ${p.name}`).to.deep.equal([]);
        out.push(
            file,
            lakehouseConfigMapBody(spec, p),
            lakehouseDeploymentBody(spec, p),
            lakehouseMaintenanceCronJobBody(spec, p),
            lakehousePodMonitorBody(spec, p),
            lakehouseKafkaAccessBody(spec, p),
            lakehouseKafkaUserBody(spec, p),
            lakehouseWriterNetworkPolicyBody(spec, p),
            lakehouseMaintenanceNetworkPolicyBody(spec, p),
            lakehouseDisruptionBudgetBody(spec, p),
        );
    }
    if (spec.lakehouse && writers.length > 0) out.push(lakehouseServiceAccountBody(spec));
    return out;
}

/** Kubernetes objects of one kind never share a name. */
function kubernetesNamesOnce(out: unknown[]): void {
    const k8sNames = out
        .flat(2)
        .filter(
            (o): o is { kind: string; metadata: { name: string } } =>
                typeof (o as any)?.kind === "string" && typeof (o as any)?.metadata?.name === "string",
        );
    for (const kind of new Set(k8sNames.map((o) => o.kind)))
        once(
            `${kind}s`,
            k8sNames.filter((o) => o.kind === kind).map((o) => o.metadata.name),
        );
}

function renderAll(spec: StackSpec): unknown[] {
    const connectors = renderConnectors(spec, clusterConnectorContext(spec));
    once(
        "connectors",
        connectors.map((c) => c.name),
    );
    const topics = planTopics(spec);
    once(
        "topics",
        topics.map((t) => t.name),
    );
    for (const c of connectors) {
        for (const [key, value] of Object.entries(c.config)) expect(value, `${c.name} ${key}`).to.be.a("string");
    }
    const { sources, targets } = plannedDatabases(spec);
    const { policies, authRoles, secrets, syncs, runs } = plannedVaultAndRuns(spec);
    const out: unknown[] = [
        topics,
        connectors.map((c) => [kafkaConnectorBody(c, spec.namespace, spec.connect.name), restConfig(c)]),
        kafkaConnectBody(spec),
        secretReaderRole(spec),
        sources,
        targets,
        [...secrets.values()],
        policies.map((p) => renderPolicyJson(p)),
        authRoles,
        vaultConnectionBody(spec),
        consumersOf(spec).map((c) => vaultAuthBody(spec, c)),
        syncs.map((s) => vaultStaticSecretBody(spec, s)),
    ];
    if (spec.reconciler) {
        // The CronJob's reconciler reads this file at run time: the stack must not write one it refuses.
        for (const run of runs) validateReconcilerConfig(run.config);
        out.push(reconcilerServiceAccountBody(spec, spec.reconciler), reconcilerConfigMapBody(spec, spec.reconciler, runs));
        out.push(
            runs.map((run) => [
                reconcilerCronJobBody(spec, spec.reconciler!, run),
                reconcilerNetworkPolicyBody(spec, spec.reconciler!, run),
            ]),
        );
    }
    if (spec.monitoring.enabled) out.push(podMonitorBody(spec), prometheusRuleBody(spec));
    out.push(...lakehouseObjects(spec));
    out.push(connectKafkaUserBody(spec), kafkaAccessBody(spec));
    kubernetesNamesOnce(out);
    return out;
}

let accepted = 0;

/** The input as text, keys with undefined and non-finite values included, for telling its words from slips. */
const inputText = (raw: unknown): string =>
    JSON.stringify(raw, (_, v) => (v === undefined || (typeof v === "number" && !Number.isFinite(v)) ? String(v) : v)) ?? "undefined";

/** The property: ConfigError with located, worded issues, or a spec every plan function renders. */
function parsesOrExplains(raw: unknown): void {
    let spec: StackSpec;
    try {
        spec = parseStackSpec(raw).spec;
    } catch (e) {
        if (!(e instanceof ConfigError))
            throw new Error(`parseStackSpec threw ${(e as Error)?.name ?? typeof e} instead of ConfigError: ${(e as Error)?.message ?? e}`);
        expect(e.issues.length).to.be.greaterThan(0);
        for (const issue of e.issues) {
            expect(
                issue.path.every((p) => typeof p === "string" || typeof p === "number"),
                formatPath(issue.path),
            ).to.equal(true);
            expect(formatPath(issue.path)).to.be.a("string").and.not.equal("");
            expect(issue.message, formatPath(issue.path)).to.be.a("string").and.match(/\S/);
        }
        checkValues(
            e.issues.map((i) => i.message),
            inputText(raw),
            "issue",
        );
        return;
    }
    accepted++;
    const rendered = renderAll(spec);
    checkValues(rendered, inputText(raw));
    checkKubernetesObjects(rendered);
}

describe("fuzzing the stack configuration parser", function () {
    this.timeout(60000);

    it("starts from seeds the parser accepts and the plans render", () => {
        for (const seed of Object.values(SEEDS)) parsesOrExplains(structuredClone(seed));
        expect(accepted).to.equal(Object.keys(SEEDS).length);
    });

    it("explains or accepts structured mutations of the shipped stacks, and renders what it accepts", () => {
        accepted = 0;
        const runs = 2000;
        fuzz(
            fc.property(mutated(SEEDS, KEYS, PLAUSIBLE), (m) => parsesOrExplains(m.doc)),
            runs,
        );
        // Most mutations break the config; enough must survive to exercise the plan functions behind the parser.
        expect(accepted, "accepted mutations").to.be.greaterThan(runs / 10);
    });

    it("explains random JSON in place of the whole config", () => {
        fuzz(fc.property(anyValue(), parsesOrExplains), 1000);
    });

    it("explains random JSON in place of one section", () => {
        const sections = [
            ...new Set(Object.values(SEEDS).flatMap((s) => Object.keys(s))),
            "reconciler",
            "monitoring",
            "vault",
            "sqlserver",
            "postgres",
            "sourcePasswords",
        ];
        fuzz(
            fc.property(fc.constantFrom(...Object.values(SEEDS)), fc.constantFrom(...sections), anyValue(), (seed, section, value) =>
                parsesOrExplains({ ...structuredClone(seed), [section]: value }),
            ),
            1000,
        );
    });
});
