/**
 * Cross-field rules for the credential and database-preparation settings (vault, sqlserver, postgres,
 * reconciler, and the pipelines' usernames and target tables). Same contract as config/rules.ts: errors name
 * the config path and what to write; advice is a warning.
 */
import { ConfigIssue, formatPath } from "../config/errors";
import type { StackSpec } from "../model/spec";
import { planReconcileRuns, ReconcileRunPlan } from "./reconciler-job";
import { REPORT_DIR } from "../model/paths";
import { createTableSql, targetTableName } from "./postgres-target";
import { connectServiceAccountName, CRONJOB_NAME_MAX, serverKey } from "../model/naming";

type Path = (string | number)[];

/** A PostgreSQL column type as written in DDL: `bigint`, `varchar(255)`, `numeric(12,2)`, `timestamp with time zone`, `text[]`. */
const COLUMN_TYPE = /^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?( with(out)? time zone)?(\[\])?$/;

export function checkAccessRules(spec: StackSpec, issues: ConfigIssue[], warnings: string[]): void {
    checkRoles(spec, issues);
    checkTargetTables(spec, issues, warnings);
    checkAdminHosts(spec, warnings);
    checkVault(spec, issues);
    checkReconciler(spec, issues, warnings);
}

function checkRoles(spec: StackSpec, issues: ConfigIssue[]): void {
    const writers = new Map<string, number>();
    const readers = new Map<string, number>();
    spec.pipelines.forEach((p, i) => {
        writers.set(p.sink.username.toLowerCase(), writers.get(p.sink.username.toLowerCase()) ?? i);
        if (spec.reconciler) readers.set(p.sink.readOnlyUsername.toLowerCase(), readers.get(p.sink.readOnlyUsername.toLowerCase()) ?? i);
    });
    spec.pipelines.forEach((p, i) => {
        const reader = p.sink.readOnlyUsername.toLowerCase();
        if (!spec.reconciler) return;
        if (reader === p.sink.username.toLowerCase()) {
            issues.push({
                path: ["pipelines", i, "sink", "readOnlyUsername"],
                message: `must differ from sink.username (${p.sink.username}); the reconciler reads with its own read-only role`,
            });
        } else if (writers.has(reader)) {
            issues.push({
                path: ["pipelines", i, "sink", "readOnlyUsername"],
                message: `"${p.sink.readOnlyUsername}" is the writing role of pipelines[${writers.get(reader)}]; a read-only role cannot also be a writer`,
            });
        }
        const writer = p.sink.username.toLowerCase();
        if (writer !== reader && readers.has(writer)) {
            issues.push({
                path: ["pipelines", i, "sink", "username"],
                message: `"${p.sink.username}" is the read-only role of pipelines[${readers.get(writer)}]; use a different writing role`,
            });
        }
    });
}

/** Seed pre-replication rule 3: with auto.create off the target tables must exist with matching primary keys. */
function checkTargetTables(spec: StackSpec, issues: ConfigIssue[], warnings: string[]): void {
    const targets = new Map<string, string>();
    const definitions = new Map<string, { definition: string; by: string }>();
    spec.pipelines.forEach((p, i) => {
        p.source.tables.forEach((t, j) => {
            const path: Path = ["pipelines", i, "source", "tables", j];
            const target = `${p.sink.host}:${p.sink.port}/${p.sink.database}.${p.sink.schema.toLowerCase()}.${targetTableName(p, t)}`;
            const owner = targets.get(target);
            if (owner !== undefined && !owner.startsWith(`pipelines[${i}]`)) {
                warnings.push(
                    `${p.name}: tables[${j}] lands in target table ${target}, which ${owner} already writes; deletes and snapshots of one pipeline will fight the other`,
                );
            } else if (owner === undefined) {
                targets.set(target, `pipelines[${i}].source.tables[${j}]`);
            }
            if (!t.columns) {
                if (!p.sink.autoCreate) {
                    warnings.push(
                        `${p.name}: target table ${target} is not created by the stack (sink.autoCreate is false and tables[${j}] has no columns); it must already exist with primary key (${t.primaryKey.join(", ")})`,
                    );
                }
                return;
            }
            // The stack creates each table once; a second, different definition of it could never apply.
            const key = `${serverKey(p.sink.host, p.sink.port, 5432)}/${p.sink.database}.${p.sink.schema.toLowerCase()}.${targetTableName(p, t)}`;
            const definition = createTableSql(p.sink.schema, targetTableName(p, t), t.columns, t.primaryKey);
            const created = definitions.get(key);
            if (created === undefined) definitions.set(key, { definition, by: formatPath(path) });
            else if (created.definition !== definition) {
                issues.push({
                    path: [...path, "columns"],
                    message: `pre-creates target table ${target} differently from ${created.by}, which creates it too; give both the same columns and primary key, or remove the columns of one`,
                });
            }
            const names = new Set(t.columns.map((c) => c.name.toLowerCase()));
            const missing = t.primaryKey.filter((k) => !names.has(k.toLowerCase()));
            if (missing.length > 0) {
                issues.push({
                    path: [...path, "columns"],
                    message: `primary key column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} missing from columns; the pre-created target table needs its primary key`,
                });
            }
            t.columns.forEach((c, k) => {
                if (!COLUMN_TYPE.test(c.type.trim())) {
                    issues.push({
                        path: [...path, "columns", k, "type"],
                        message: `"${c.type}" is not a PostgreSQL column type the stack can write into DDL (e.g. bigint, varchar(255), numeric(12,2), timestamp with time zone)`,
                    });
                }
            });
            const seen = new Set<string>();
            t.columns.forEach((c, k) => {
                if (seen.has(c.name.toLowerCase()))
                    issues.push({
                        path: [...path, "columns", k, "name"],
                        message: `duplicates column "${c.name}" (PostgreSQL folds unquoted names to lower case)`,
                    });
                seen.add(c.name.toLowerCase());
            });
        });
    });
}

/** An admin endpoint for a host no pipeline uses is ignored; say so, it is usually a typo. */
function checkAdminHosts(spec: StackSpec, warnings: string[]): void {
    const sourceHosts = new Set(spec.pipelines.filter((p) => p.source.kind === "sqlserver").map((p) => p.source.host));
    for (const host of Object.keys(spec.sqlserver.adminHosts)) {
        if (!sourceHosts.has(host)) {
            warnings.push(
                `sqlserver.adminHosts: no SQL Server source uses host "${host}", so it is ignored; keys are source.host values (${[...sourceHosts].join(", ") || "none"})`,
            );
        }
    }
    const targetHosts = new Set(spec.pipelines.map((p) => p.sink.host));
    for (const host of Object.keys(spec.postgres.adminHosts)) {
        if (!targetHosts.has(host)) {
            warnings.push(
                `postgres.adminHosts: no pipeline sink uses host "${host}", so it is ignored; keys are sink.host values (${[...targetHosts].join(", ")})`,
            );
        }
    }
}

function checkVault(spec: StackSpec, issues: ConfigIssue[]): void {
    const https = spec.vault.address.startsWith("https://");
    if (spec.profile.requireVaultTls && !https) {
        issues.push({
            path: ["vault", "address"],
            message: `${spec.environment} requires TLS to Vault (the operator fetches database passwords over it); use an https:// address`,
        });
    }
    if (spec.vault.caCertSecret && !https) {
        issues.push({ path: ["vault", "caCertSecret"], message: "a CA certificate only applies to an https:// vault.address" });
    }
}

function checkReconciler(spec: StackSpec, issues: ConfigIssue[], warnings: string[]): void {
    const reconciler = spec.reconciler;
    if (!reconciler) {
        if (spec.profile.expectVerifiedCopies) warnings.push("no reconciler section: nothing checks that the targets match their sources");
        return;
    }
    if (reconciler.name === connectServiceAccountName(spec.connect.name)) {
        // Strimzi's own ServiceAccount for the Connect pods: both Vault roles would then trust the same pods.
        issues.push({
            path: ["reconciler", "name"],
            message: `"${reconciler.name}" is the ServiceAccount Strimzi creates for the Connect pods of connect.name ${spec.connect.name}; the reconciler needs its own, so use another name`,
        });
    }
    const byKey = new Map<string, ReconcileRunPlan>();
    for (const run of planReconcileRuns(spec)) {
        if (run.cronJobName.length > CRONJOB_NAME_MAX) {
            issues.push({
                path: ["reconciler", "name"],
                message: `CronJob name "${run.cronJobName}" is longer than ${CRONJOB_NAME_MAX} characters (Kubernetes appends a suffix to Job names); use a shorter name`,
            });
        }
        // A pipeline's name can spell another's `<pipeline>-<database>`: one CronJob and one config file for two runs.
        const other = byKey.get(run.key);
        if (other) {
            issues.push({
                path: ["pipelines", spec.pipelines.findIndex((p) => p.name === run.pipeline), "name"],
                message: `its reconciliation CronJob would be "${run.cronJobName}", the one of pipeline ${other.pipeline}'s database ${other.sourceDatabase}; rename this pipeline`,
            });
        }
        byKey.set(run.key, run);
    }
    if (spec.monitoring.enabled && !reconciler.pushgatewayUrl) {
        warnings.push(
            "reconciler: no pushgatewayUrl; the reconciliation results reach no Prometheus, so CdcReconciliationMismatch and CdcReconciliationStale are not rendered and a copy that drifts pages nobody; set reconciler.pushgatewayUrl to the Pushgateway your Prometheus scrapes (e.g. http://pushgateway.monitoring.svc:9091)",
        );
    }
    if (spec.profile.expectVerifiedCopies && !reconciler.reportClaimName) {
        warnings.push(`reconciler: no reportClaimName; reports in ${REPORT_DIR} are lost when the job's pod is removed`);
    }
}
