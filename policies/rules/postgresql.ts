/**
 * The PostgreSQL target: CDC roles without superuser-class attributes, and grants confined to the
 * schema(s) the sinks write to, or, for the lakehouse writers' Iceberg catalog role, to the public schema of the
 * catalog's own database.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { settings, strings } from "../lib/config";
import { viewOf } from "../lib/connectors";
import { icebergCatalogs } from "../lib/lakehouse";
import { forTypes } from "../lib/match";
import { asArray, isKafkaConnector, PG_DEFAULT_PRIVILEGES, PG_GRANT, PG_ROLE } from "../lib/resources";

const ATTRIBUTES: Record<string, string> = {
    superuser: "SUPERUSER (bypasses every permission check)",
    createRole: "CREATEROLE (can create roles and grant itself membership)",
    createDatabase: "CREATEDB",
    bypassRowLevelSecurity: "BYPASSRLS (ignores row-level security)",
    replication: "REPLICATION (can stream the whole database)",
};

const roleSettings = settings<{ forbiddenAttributes: string[] }>({
    forbiddenAttributes: strings(
        ["superuser", "createRole", "createDatabase", "bypassRowLevelSecurity"],
        `postgresql.Role inputs that must not be true (any of ${Object.keys(ATTRIBUTES).join(", ")}).`,
    ),
});

export const postgresqlRoleLeastPrivilege: ResourceValidationPolicy = {
    name: "postgresql-role-least-privilege",
    description: "PostgreSQL roles the stack creates are not superusers and have no CREATEROLE, CREATEDB or BYPASSRLS.",
    enforcementLevel: "mandatory",
    configSchema: roleSettings.schema,
    validateResource: forTypes([PG_ROLE], (role, args, report) => {
        const { forbiddenAttributes } = roleSettings.read(args);
        const name = typeof role.name === "string" ? role.name : args.name;
        for (const attribute of forbiddenAttributes) {
            if (role[attribute] === true) {
                report(
                    `PostgreSQL role "${name}" has ${attribute}: true — ${ATTRIBUTES[attribute] ?? attribute}; a leaked sink or reconciler credential would own the whole server. ` +
                        `Fix: remove ${attribute} (leave it false) and grant only what the role needs on the target schema.`,
                );
            }
        }
    }),
};

/** The schema part of a sink's table name format (`sales.${source.table}` → `sales`), or `public`. */
function sinkSchema(format: string | undefined): string | undefined {
    if (!format) return undefined;
    const dot = format.indexOf(".");
    if (dot < 0) return "public";
    const schema = format.slice(0, dot);
    return schema.includes("${") ? undefined : schema;
}

const DATABASE_PRIVILEGES = new Set(["CONNECT", "TEMPORARY", "TEMP"]);

const grantSettings = settings<{ additionalSchemas: string[] }>({
    additionalSchemas: strings([], "Schemas grants may target besides the ones the stack's sinks write to."),
});

export const postgresqlGrantTargetSchema: StackValidationPolicy = {
    name: "postgresql-grant-target-schema",
    description:
        "PostgreSQL grants and default privileges stay inside the sinks' target schema (the Iceberg catalog role: the public schema of its own database): no grants to PUBLIC, no grant option, only CONNECT/TEMPORARY on the database.",
    enforcementLevel: "mandatory",
    configSchema: grantSettings.schema,
    validateStack: (args, report) => {
        const { additionalSchemas } = grantSettings.read(args);
        const grants = args.resources.filter((r) => r.type === PG_GRANT || r.type === PG_DEFAULT_PRIVILEGES);
        if (grants.length === 0) args.notApplicable("no PostgreSQL grants in this stack");
        const targets = new Set(additionalSchemas);
        for (const r of args.resources.filter((x) => isKafkaConnector(x.type))) {
            const view = viewOf(r);
            if (view.role !== "sink") continue;
            const schema = sinkSchema(view.config["collection.name.format"] ?? view.config["table.name.format"]);
            if (schema) targets.add(schema);
        }
        const allowed = [...targets].sort();
        // pyiceberg creates its catalog tables in the search path's first schema, public, of a database kept for it.
        const catalogs = icebergCatalogs(args.resources);
        const catalogSchema = (p: Record<string, unknown>): boolean =>
            p.objectType === "schema" && p.schema === "public" && catalogs.some((c) => c.role === p.role && c.database === p.database);
        for (const grant of grants) {
            const p = grant.props;
            const what = `${grant.type === PG_GRANT ? "Grant" : "DefaultPrivileges"} ${JSON.stringify(grant.name)} (${asArray(p.privileges).join(", ") || "no privileges"} on ${p.objectType ?? "?"} to role ${p.role ?? "?"})`;
            const problems: string[] = [];
            if (typeof p.role === "string" && p.role.toLowerCase() === "public")
                problems.push("it grants to PUBLIC, i.e. every role on the server");
            if (p.withGrantOption === true) problems.push("withGrantOption lets the grantee hand the privileges on");
            if (p.objectType === "database") {
                const extra = asArray(p.privileges)
                    .map((x) => String(x).toUpperCase())
                    .filter((x) => !DATABASE_PRIVILEGES.has(x));
                if (extra.length > 0) problems.push(`database-wide ${extra.join(", ")} reaches beyond the target schema`);
            } else if ((typeof p.schema !== "string" || !targets.has(p.schema)) && !catalogSchema(p)) {
                problems.push(
                    `schema ${p.schema ?? "(unset)"} is not a target schema of this stack's sinks (${allowed.join(", ") || "none found"})`,
                );
            }
            if (problems.length > 0) {
                report(
                    `${what}: ${problems.join("; ")}. Fix: grant only on the target schema (${allowed.join(", ") || "the sink's schema"}), to the CDC role itself, without grant option.`,
                    grant.urn,
                );
            }
        }
    },
};
