/**
 * The SQL Server source login: only the read permissions Debezium needs (SELECT on the captured
 * tables and the cdc schema, VIEW DATABASE/SERVER STATE, CONNECT) and INSERT on its signal table (incremental
 * snapshot watermarks), never with grant option, never a
 * member of a role that can write, administer or read everything. Checked on the permission resources
 * and on the GRANT / role-membership statements of the setup scripts.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { settings, strings } from "../lib/config";
import { forTypes } from "../lib/match";
import { MSSQL_SCRIPT } from "../lib/resources";

const MSSQL_PERMISSION_TYPES = [
    "mssql:index/databasePermission:DatabasePermission",
    "mssql:index/schemaPermission:SchemaPermission",
    "mssql:index/serverPermission:ServerPermission",
];

const sqlServerSettings = settings<{ allowedPermissions: string[]; signalTables: string[]; forbiddenRoles: string[] }>({
    allowedPermissions: strings(
        ["CONNECT", "SELECT", "VIEW DATABASE STATE", "VIEW SERVER STATE", "VIEW DEFINITION", "VIEW CHANGE TRACKING"],
        "Permissions the stack may grant on SQL Server (what a Debezium reader needs).",
    ),
    signalTables: strings(
        ["debezium_signal"],
        "Tables (name without schema) the reader may also INSERT into: Debezium's signal tables, where incremental snapshots write their watermarks (source.signalTable).",
    ),
    forbiddenRoles: strings(
        [
            "db_owner",
            "db_securityadmin",
            "db_accessadmin",
            "db_ddladmin",
            "db_datawriter",
            "db_backupoperator",
            "sysadmin",
            "securityadmin",
            "serveradmin",
            "setupadmin",
            "processadmin",
            "dbcreator",
            "diskadmin",
            "bulkadmin",
        ],
        "Fixed roles no login the stack manages may be added to.",
    ),
});

const normalize = (permission: string): string =>
    permission
        .replace(/\(.*?\)/g, "")
        .replace(/\s+/g, " ")
        .trim()
        .toUpperCase();

/**
 * `GRANT <permissions> [ON ...] TO ...` statements: their permissions, the table an `ON [OBJECT::]...` names (its last
 * name part, unquoted, lower-case), and whether they pass the grant on.
 */
function grants(sql: string): { permissions: string[]; table?: string; withGrantOption: boolean }[] {
    const out: { permissions: string[]; table?: string; withGrantOption: boolean }[] = [];
    for (const statement of sql.split(/;|\bGO\b/i)) {
        const match = /\bGRANT\s+([\s\S]+?)\s+(?:ON|TO)\s/i.exec(statement);
        if (!match) continue;
        const on = /\bON\s+(?:OBJECT::)?(\S+)\s+TO\s/i.exec(statement)?.[1];
        const table =
            on && !on.includes("::")
                ? on
                      .split(".")
                      .pop()!
                      .replace(/[[\]"]/g, "")
                      .toLowerCase()
                : undefined;
        out.push({
            permissions: match[1]
                .split(",")
                .map(normalize)
                .filter((p) => p.length > 0),
            ...(table ? { table } : {}),
            withGrantOption: /\bWITH\s+GRANT\s+OPTION\b/i.test(statement),
        });
    }
    return out;
}

/** Roles a script adds members to: ALTER [SERVER] ROLE x ADD MEMBER, sp_addrolemember, sp_addsrvrolemember. */
function roleMemberships(sql: string): string[] {
    const roles: string[] = [];
    for (const m of sql.matchAll(/\bALTER\s+(?:SERVER\s+)?ROLE\s+\[?([\w$#@]+)\]?\s+ADD\s+MEMBER/gi)) roles.push(m[1]);
    for (const m of sql.matchAll(/\bsp_addrolemember\s+(?:@rolename\s*=\s*)?N?'([^']+)'/gi)) roles.push(m[1]);
    for (const m of sql.matchAll(/\bsp_addsrvrolemember\s+[^,]+,\s*(?:@rolename\s*=\s*)?N?'([^']+)'/gi)) roles.push(m[1]);
    return roles;
}

export const sqlServerLeastPrivilege: ResourceValidationPolicy = {
    name: "sqlserver-least-privilege",
    description:
        "SQL Server permissions the stack grants are read-only (SELECT, VIEW ... STATE, CONNECT; INSERT only on Debezium's signal table), without grant option or membership in writing or administrative roles.",
    enforcementLevel: "mandatory",
    configSchema: sqlServerSettings.schema,
    validateResource: forTypes([...MSSQL_PERMISSION_TYPES, MSSQL_SCRIPT], (props, args, report) => {
        const { allowedPermissions, signalTables, forbiddenRoles } = sqlServerSettings.read(args);
        const allowed = new Set(allowedPermissions.map(normalize));
        const signals = new Set(signalTables.map((t) => t.toLowerCase()));
        const forbidden = new Set(forbiddenRoles.map((r) => r.toLowerCase()));
        const fix =
            "Fix: grant only SELECT on the captured tables and the cdc schema, VIEW DATABASE STATE and VIEW SERVER STATE, without grant option.";
        const why = "a leaked source credential could change or read far more than the captured tables";
        if (args.type !== MSSQL_SCRIPT) {
            const what = `SQL Server permission ${JSON.stringify(args.name)}`;
            const permission = normalize(String(props.permission ?? ""));
            if (!allowed.has(permission)) report(`${what} grants ${permission}, which a CDC reader does not need; ${why}. ${fix}`);
            if (props.withGrantOption === true)
                report(`${what} grants ${permission} WITH GRANT OPTION, so the grantee can pass it on; ${why}. ${fix}`);
            return;
        }
        const sql = [props.createScript, props.updateScript].filter((s) => typeof s === "string").join("\n");
        const what = `SQL Server script ${JSON.stringify(args.name)}`;
        for (const grant of grants(sql)) {
            const onSignalTable = grant.table !== undefined && signals.has(grant.table);
            const extra = grant.permissions.filter((p) => !allowed.has(p) && !(p === "INSERT" && onSignalTable));
            if (extra.length > 0) report(`${what} grants ${extra.join(", ")}, which a CDC reader does not need; ${why}. ${fix}`);
            if (grant.withGrantOption)
                report(`${what} grants ${grant.permissions.join(", ")} WITH GRANT OPTION, so the grantee can pass it on; ${why}. ${fix}`);
        }
        for (const role of roleMemberships(sql).filter((r) => forbidden.has(r.toLowerCase()))) {
            report(`${what} adds a member to ${role}; ${why}. Fix: use a gating role with only the grants above instead of a fixed role.`);
        }
    }),
};
