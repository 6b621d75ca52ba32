/**
 * The lakehouse part of the stack config: destinations resolved against the pipeline's captured tables and the
 * writer settings filled from the environment profile (resolve*), and the cross-field rules of the writer's own
 * configuration (checkLakehouseRules). The writer checks its file again at start; repeating its rules here makes a
 * stack that passes `pulumi preview` render a file the writer accepts, and reports problems by stack config path.
 */
import { ConfigIssue, closest, formatPath } from "./errors";
import type { EnvironmentProfile } from "../model/environment";
import type { ParsedDestination, ParsedLakehouse, ParsedPipeline } from "./schema";
import type { DestinationSpec, LakehouseSpec, PipelineLakehouseSpec, PipelineSpec, SourceSpec, StackSpec, TableSpec } from "../model/spec";
import { isMySqlFamily } from "../model/options";
import { DEFAULT_METADATA_COLUMNS, DestinationFormat, PARTITION_TRANSFORMS, parsePartition } from "../model/lakehouse";
import { TLS_MODES, VERIFYING_SSL_MODES } from "../model/tls";
import {
    connectServiceAccountName,
    CRONJOB_NAME_MAX,
    dataTopicName,
    lakehouseDlqTopicName,
    lakehouseMaintenanceName,
    lakehouseServiceAccountName,
    reconcilerServiceAccountName,
    serverKey,
    validationResultsLocation,
} from "../model/naming";

type Path = (string | number)[];

/** How a destination names its table: as source.tables[].name has it, or database.schema.table on SQL Server. */
function tableNames(source: SourceSpec, table: TableSpec): string[] {
    const written = `${table.schema}.${table.table}`;
    return source.kind === "sqlserver" ? [written, `${table.database}.${written}`] : [written];
}

function findTable(source: SourceSpec, name: string, path: Path, issues: ConfigIssue[]): TableSpec | undefined {
    const matches = source.tables.filter((t) => tableNames(source, t).includes(name));
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) {
        issues.push({
            path,
            message: `"${name}" is captured from several databases (${matches.map((t) => t.database).join(", ")}); write database.schema.table`,
        });
        return undefined;
    }
    const known = source.tables.map((t) => `${t.schema}.${t.table}`);
    const suggestion = closest(name, known);
    issues.push({
        path,
        message: `"${name}" is not a table this pipeline captures${suggestion ? ` (did you mean "${suggestion}"?)` : ""}; use one of ${known.join(", ")} (source.tables)`,
    });
    return undefined;
}

const withoutTrailingSlash = (uri: string): string => uri.replace(/\/+$/, "");

export function resolveDestinations(
    pipeline: Pick<PipelineSpec, "name" | "source">,
    raw: ParsedDestination[],
    path: Path,
    lakehouse: ParsedLakehouse | undefined,
    issues: ConfigIssue[],
): DestinationSpec[] {
    return raw.map((d, j): DestinationSpec => {
        const at: Path = [...path, j];
        const table = findTable(pipeline.source, d.table, [...at, "table"], issues);
        const iceberg = d.format === "iceberg";
        if (iceberg && d.location !== undefined) {
            issues.push({
                path: [...at, "location"],
                message: "an Iceberg table's location is decided by its catalog (lakehouse.warehouse); remove it, or set namespace",
            });
        }
        if (!iceberg && d.namespace !== undefined) {
            issues.push({ path: [...at, "namespace"], message: "a Delta table has no catalog namespace; remove it, or set location" });
        }
        const base = lakehouse ? withoutTrailingSlash(lakehouse.warehouse) : undefined;
        return {
            name: d.name,
            format: d.format,
            table: d.table,
            topic: table ? dataTopicName(pipeline.source, table) : "",
            writeMode: d.writeMode,
            // The captured table's key as a set: the writer refuses a column named twice, which source.tables accepts.
            primaryKey: d.primaryKey ?? [...new Set(table?.primaryKey ?? [])],
            ...(iceberg
                ? { namespace: d.namespace ?? pipeline.name.replace(/-/g, "_") }
                : { location: d.location ? withoutTrailingSlash(d.location) : base ? `${base}/delta/${pipeline.name}/${d.name}` : "" }),
            ...(d.partitionBy !== undefined ? { partitionBy: d.partitionBy } : {}),
            ...(d.sortBy !== undefined ? { sortBy: d.sortBy } : {}),
            ...(d.columns !== undefined ? { columns: d.columns } : {}),
            ...(d.metadataColumns !== undefined ? { metadataColumns: d.metadataColumns } : {}),
            ...(d.sourceSystemLabel !== undefined ? { sourceSystemLabel: d.sourceSystemLabel } : {}),
            tableProperties: d.tableProperties,
            ...(d.derive !== undefined ? { derive: d.derive } : {}),
            qualityChecks: d.qualityChecks.map((q) => ({
                type: q.type,
                enabled: q.enabled,
                tolerance: q.tolerance,
                ...(q.columns !== undefined ? { columns: q.columns } : {}),
                ...(q.thresholdSeconds !== undefined ? { thresholdSeconds: q.thresholdSeconds } : {}),
            })),
        };
    });
}

export function resolvePipelineLakehouse(p: ParsedPipeline): PipelineLakehouseSpec | undefined {
    if (p.destinations.length === 0) return undefined;
    const { observability, qualityIntervalSeconds, beforeImage } = p.lakehouse;
    return {
        observability: { ...observability },
        qualityIntervalSeconds,
        ...(beforeImage ? { beforeImage } : {}),
        deadLetterTopic: lakehouseDlqTopicName(p.name),
    };
}

/** The writers' stack-level settings; undefined when no pipeline has destinations, which deploys no writer. */
export function resolveLakehouse(
    raw: ParsedLakehouse | undefined,
    pipelines: ParsedPipeline[],
    profile: EnvironmentProfile,
    issues: ConfigIssue[],
    warnings: string[],
): LakehouseSpec | undefined {
    const withDestinations = pipelines.map((p, i) => ({ p, i })).filter(({ p }) => p.destinations.length > 0);
    if (!raw) {
        if (withDestinations.length > 0) {
            issues.push({
                path: ["lakehouse"],
                message: `is required: ${withDestinations.map(({ p, i }) => `pipelines[${i}] (${p.name})`).join(", ")} declare${withDestinations.length === 1 ? "s" : ""} destinations; set at least lakehouse.image and lakehouse.warehouse`,
            });
        }
        return undefined;
    }
    if (withDestinations.length === 0) {
        warnings.push("lakehouse is set but no pipeline declares destinations, so no writer is deployed");
        return undefined;
    }
    const iceberg = withDestinations.find(({ p }) => p.destinations.some((d) => d.format === "iceberg"));
    if (iceberg && !raw.catalog) {
        issues.push({
            path: ["lakehouse", "catalog"],
            message: `is required: pipelines[${iceberg.i}] (${iceberg.p.name}) writes Iceberg tables, whose SQL catalog lives in PostgreSQL; set at least lakehouse.catalog.host`,
        });
    }
    if (!iceberg && raw.catalog) {
        warnings.push("lakehouse.catalog is set but no destination is Iceberg, so no catalog database or role is created");
    }
    return {
        name: raw.name,
        image: raw.image,
        warehouse: withoutTrailingSlash(raw.warehouse),
        storage: { ...raw.storage },
        ...(iceberg && raw.catalog
            ? {
                  catalog: {
                      ...raw.catalog,
                      sslMode: raw.catalog.sslMode ?? (profile.requireDatabaseEncryption ? "verify-full" : "prefer"),
                  },
              }
            : {}),
        resources: raw.resources,
        maintenance: {
            schedule: raw.maintenance.schedule ?? profile.lakehouseMaintenanceSchedule,
            retentionHours: raw.maintenance.retentionHours ?? profile.lakehouseRetentionHours,
        },
    };
}

// ---------------------------------------------------------------------------------------------
// Rules

export function checkLakehouseRules(spec: StackSpec, issues: ConfigIssue[]): void {
    // The destinations' own rules hold with or without the lakehouse section, whose absence resolve already reports.
    spec.pipelines.forEach((pipeline, i) => {
        const names = new Map<string, number>();
        pipeline.destinations.forEach((d, j) => {
            const at: Path = ["pipelines", i, "destinations", j];
            const first = names.get(d.name);
            if (first !== undefined)
                issues.push({
                    path: [...at, "name"],
                    message: `"${d.name}" is also destinations[${first}]'s name; each destination is its own table`,
                });
            else names.set(d.name, j);
            checkDestination(pipeline, d, at, issues);
        });
    });
    const lakehouse = spec.lakehouse;
    if (!lakehouse) return;
    checkStackSettings(spec, lakehouse, issues);
    checkTableIdentity(spec, lakehouse, issues);
    spec.pipelines.forEach((pipeline, i) => {
        if (pipeline.destinations.length === 0) return;
        const cronJob = lakehouseMaintenanceName(lakehouse, pipeline);
        if (cronJob.length > CRONJOB_NAME_MAX) {
            issues.push({
                path: ["lakehouse", "name"],
                message: `makes the maintenance CronJob name ${cronJob} ${cronJob.length} characters long; Kubernetes allows ${CRONJOB_NAME_MAX} (it appends 11 to each Job's name), so shorten lakehouse.name or pipelines[${i}].name`,
            });
        }
    });
}

function checkStackSettings(spec: StackSpec, lakehouse: LakehouseSpec, issues: ConfigIssue[]): void {
    // Each Vault auth role trusts one ServiceAccount: sharing one would give each workload the other's credentials.
    const account = lakehouseServiceAccountName(lakehouse);
    const taken = [
        ...(spec.reconciler ? [{ name: reconcilerServiceAccountName(spec.reconciler), whose: "the reconciler's (reconciler.name)" }] : []),
        {
            name: connectServiceAccountName(spec.connect.name),
            whose: `the one Strimzi creates for the Connect pods of connect.name ${spec.connect.name}`,
        },
    ].find((t) => t.name === account);
    if (taken)
        issues.push({
            path: ["lakehouse", "name"],
            message: `"${lakehouse.name}" names the writers' ServiceAccount, which is ${taken.whose}; the writers need their own, so use another name`,
        });
    const endpoint = lakehouse.storage.endpoint;
    if (endpoint?.startsWith("http://") && spec.profile.requireObjectStorageTls) {
        issues.push({
            path: ["lakehouse", "storage", "endpoint"],
            message: `${spec.environment} requires TLS to object storage (table data and signed requests); use an https:// endpoint`,
        });
    }
    const catalog = lakehouse.catalog;
    if (!catalog) return;
    if (spec.profile.requireDatabaseEncryption && !VERIFYING_SSL_MODES.postgres.includes(catalog.sslMode)) {
        issues.push({
            path: ["lakehouse", "catalog", "sslMode"],
            message: `${spec.environment} requires a verified TLS connection to the Iceberg catalog database; use one of ${VERIFYING_SSL_MODES.postgres.join(", ")}`,
        });
    }
    if (TLS_MODES.postgres[catalog.sslMode].verification !== "none" && !spec.connect.databaseCaSecret) {
        issues.push({
            path: ["connect", "databaseCaSecret"],
            message: `lakehouse.catalog.sslMode ${catalog.sslMode} verifies the catalog database's certificate; name the Secret holding its CA (ca.crt), which the writers mount`,
        });
    }
    const server = serverKey(catalog.host, catalog.port, 5432);
    const roles: string[] = [];
    const databases: string[] = [];
    spec.pipelines.forEach((p, i) => {
        if (serverKey(p.sink.host, p.sink.port, 5432) !== server) return;
        for (const [key, role] of [
            ["username", p.sink.username],
            ["readOnlyUsername", p.sink.readOnlyUsername],
        ] as const) {
            if (key === "readOnlyUsername" && !spec.reconciler) continue;
            if (role.toLowerCase() === catalog.username.toLowerCase()) roles.push(`pipelines[${i}].sink.${key}`);
        }
        if (p.sink.database === catalog.database) databases.push(`pipelines[${i}]`);
    });
    if (roles.length > 0) {
        issues.push({
            path: ["lakehouse", "catalog", "username"],
            message: `"${catalog.username}" is ${roles.join(", ")} on the same server; the catalog needs a role of its own, which can create tables in its database only`,
        });
    }
    if (databases.length > 0) {
        issues.push({
            path: ["lakehouse", "catalog", "database"],
            message: `"${catalog.database}" is the target database of ${databases.join(", ")} on the same server; the catalog creates its tables in a database of its own, so name another`,
        });
    }
}

/** Two destinations writing one table would interleave two change streams and fight over the recorded offsets. */
function checkTableIdentity(spec: StackSpec, lakehouse: LakehouseSpec, issues: ConfigIssue[]): void {
    const seen = new Map<string, Path>();
    spec.pipelines.forEach((p, i) => {
        if (p.destinations.some((d) => d.qualityChecks.some((q) => q.enabled))) {
            seen.set(`delta:${validationResultsLocation(lakehouse, p)}`, ["pipelines", i, "destinations", "qualityChecks"]);
        }
    });
    spec.pipelines.forEach((p, i) =>
        p.destinations.forEach((d, j) => {
            const at: Path = ["pipelines", i, "destinations", j];
            const [key, path, what] =
                d.format === "iceberg"
                    ? [`iceberg:${d.namespace}.${d.name}`, [...at, "namespace"], `Iceberg table ${d.namespace}.${d.name}`]
                    : [`delta:${d.location}`, [...at, "location"], `Delta table ${d.location}`];
            const first = seen.get(key);
            const other =
                first?.at(-1) === "qualityChecks"
                    ? `the quality checks of ${formatPath(first.slice(0, 2))} (their validation_results table)`
                    : first && formatPath(first);
            if (first)
                issues.push({
                    path,
                    message: `${what} is also written by ${other}; give one of them another ${d.format === "iceberg" ? "namespace or name" : "location"}`,
                });
            else seen.set(key, at);
        }),
    );
}

const TEMPORAL_TYPES = ["timestamp", "date"];

function checkDestination(pipeline: PipelineSpec, d: DestinationSpec, at: Path, issues: ConfigIssue[]): void {
    const format: DestinationFormat = d.format;
    const meta: readonly string[] = d.metadataColumns ?? DEFAULT_METADATA_COLUMNS;
    if (format === "deltalake" && d.sortBy)
        issues.push({ path: [...at, "sortBy"], message: "Delta tables have no sort order (Iceberg only); remove it" });
    if (format === "deltalake" && (d.tableProperties["delta.columnMapping.mode"] ?? "none") !== "none") {
        issues.push({
            path: [...at, "tableProperties", "delta.columnMapping.mode"],
            message:
                'delta-rs 1.6 refuses schema evolution on column-mapped tables and cannot read their change data feed; remove it (lakehouse/README.md "Tables and seed properties a library cannot produce")',
        });
    }
    if (new Set(d.primaryKey).size !== d.primaryKey.length)
        issues.push({ path: [...at, "primaryKey"], message: "lists a column twice; list each once" });
    if (d.metadataColumns && new Set(d.metadataColumns).size !== d.metadataColumns.length) {
        issues.push({ path: [...at, "metadataColumns"], message: "lists a column twice; list each once" });
    }
    if (d.writeMode === "upsert" && !meta.includes("_cdc_source_lsn")) {
        issues.push({
            path: [...at, "metadataColumns"],
            message:
                "upsert tables need _cdc_source_lsn (the per-row source position that keeps late and duplicate events from regressing a row); add it",
        });
    }
    if (meta.some((m) => m.startsWith("_cdc_binlog_")) && !isMySqlFamily(pipeline.source.kind)) {
        issues.push({
            path: [...at, "metadataColumns"],
            message: `_cdc_binlog_file and _cdc_binlog_position need a mysql or mariadb source, not ${pipeline.source.kind}`,
        });
    }
    if (meta.includes("_source_system") && !d.sourceSystemLabel) {
        issues.push({
            path: [...at, "sourceSystemLabel"],
            message: 'is required when metadataColumns has _source_system (seed: "postgres_cdc")',
        });
    }
    d.qualityChecks.forEach((q, k) => {
        if (q.type === "checksum" && !q.columns)
            issues.push({
                path: [...at, "qualityChecks", k, "columns"],
                message: "is required for a checksum check: name the key columns it hashes",
            });
        if (q.type === "lag_monitoring" && q.thresholdSeconds === undefined) {
            issues.push({
                path: [...at, "qualityChecks", k, "thresholdSeconds"],
                message: "is required for a lag_monitoring check (seed: 5)",
            });
        }
    });
    checkColumns(d, meta, at, issues);
    if (d.partitionBy !== undefined) {
        const { transform } = parsePartition(d.partitionBy);
        const allowed = PARTITION_TRANSFORMS[format];
        if (!allowed.includes(transform)) {
            issues.push({
                path: [...at, "partitionBy"],
                message: `${format} partitions by ${allowed.map((t) => `${t}(column)`).join(" or ")}, not ${transform}()`,
            });
        }
    }
    if (d.derive) {
        if (d.writeMode !== "upsert")
            issues.push({ path: [...at, "writeMode"], message: 'a customers_analytics table is current state; must be "upsert"' });
        if (!d.columns) issues.push({ path: [...at, "columns"], message: "a derived table must declare its columns" });
        const orders = pipeline.destinations.find((o) => o.name === d.derive!.ordersTable);
        if (!orders || orders.format !== "deltalake" || orders.writeMode !== "append") {
            issues.push({
                path: [...at, "derive", "ordersTable"],
                message: `"${d.derive.ordersTable}" must name a deltalake append destination of this pipeline (total_orders is counted in its change log)`,
            });
        } else if (orders.tableProperties["delta.enableChangeDataFeed"] !== "true") {
            issues.push({
                path: [...at, "derive", "ordersTable"],
                message: `"${orders.name}" needs tableProperties delta.enableChangeDataFeed: "true" (its change feed tells which customers to recount)`,
            });
        }
    }
}

/** With declared columns, every column the destination names elsewhere must be one of them or a metadata column. */
function checkColumns(d: DestinationSpec, meta: readonly string[], at: Path, issues: ConfigIssue[]): void {
    if (!d.columns) return;
    const declared = new Map(d.columns.map((c) => [c.name, c]));
    const known = [...declared.keys(), ...meta];
    const unknown = (name: string, path: Path): void => {
        const suggestion = closest(name, known);
        issues.push({
            path,
            message: `"${name}" is not among the declared columns${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`,
        });
    };
    d.columns.forEach((c, k) => {
        if (meta.includes(c.name))
            issues.push({
                path: [...at, "columns", k, "name"],
                message: `"${c.name}" is a metadata column the writer fills; list it in metadataColumns only`,
            });
        if (d.columns!.findIndex((o) => o.name === c.name) !== k)
            issues.push({ path: [...at, "columns", k, "name"], message: `"${c.name}" is declared twice` });
    });
    d.primaryKey.forEach((k, n) => {
        // A key taken from the captured table is written as the source spells it; the writer matches exactly.
        if (!declared.has(k)) unknown(k, [...at, "primaryKey", n]);
    });
    d.qualityChecks.forEach((q, k) =>
        q.columns?.forEach((c, m) => known.includes(c) || unknown(c, [...at, "qualityChecks", k, "columns", m])),
    );
    d.sortBy?.forEach((s, k) => {
        const column = s.split(" ")[0];
        if (!known.includes(column)) unknown(column, [...at, "sortBy", k]);
    });
    if (d.partitionBy !== undefined) {
        const { transform, column } = parsePartition(d.partitionBy);
        const declaredColumn = declared.get(column);
        if (!declaredColumn && !meta.includes(column)) unknown(column, [...at, "partitionBy"]);
        else if (declaredColumn && transform !== "identity" && !TEMPORAL_TYPES.includes(declaredColumn.type)) {
            issues.push({
                path: [...at, "partitionBy"],
                message: `${transform}() needs a timestamp or date column; "${column}" is ${declaredColumn.type}`,
            });
        }
    }
}
