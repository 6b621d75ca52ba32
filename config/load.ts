/**
 * The single place that reads Pulumi config. Collects the project's keys into one raw object and
 * hands it to the pure parser, so tests can build the platform from any config object.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./errors";
import { parseStackSpec, ParseResult } from "./resolve";
import type { StackSpec } from "./spec";

export const PROJECT = "cdc-pipeline";
const SCALAR_KEYS = ["environment", "namespace"] as const;
const STRUCTURED_KEYS = ["kafka", "connect", "pipelines", "vault", "sqlserver", "postgres", "reconciler", "monitoring"] as const;

export function readRawConfig(config = new pulumi.Config(PROJECT)): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const key of SCALAR_KEYS) {
        const value = config.get(key);
        if (value !== undefined) raw[key] = value;
    }
    for (const key of STRUCTURED_KEYS) {
        const value = config.getObject<unknown>(key);
        if (value !== undefined) raw[key] = value;
    }
    return raw;
}

export function loadStackSpec(): ParseResult {
    const result = parseStackSpec(readRawConfig());
    for (const warning of result.warnings) pulumi.log.warn(warning);
    return result;
}

/**
 * Credentials the stack does not generate, kept as Pulumi secrets: database admin logins (read from the
 * providers' own namespaces, `postgresql:` and `mssql:`, which is where teams already keep them) and the
 * passwords of source logins the stack does not create.
 */
export interface StackSecrets {
    /** By pipeline name, for sources whose login the stack does not create (PostgreSQL, MySQL). */
    sourcePasswords: Record<string, pulumi.Output<string>>;
    /** Admin login for the target servers; unset values fall back to the provider's environment (PGUSER, PGPASSWORD). */
    postgresAdmin: { username?: string; password?: pulumi.Output<string>; sslmode?: string; superuser?: boolean };
    /** `mssql:sqlAuth` ({ username, password }), the SQL Server login that prepares CDC (needs sysadmin for sp_cdc_enable_db). */
    sqlServerAdmin?: pulumi.Output<{ username: string; password: string }>;
}

export function loadStackSecrets(spec: StackSpec): StackSecrets {
    const project = new pulumi.Config(PROJECT);
    const needPasswords = spec.pipelines.filter((p) => p.source.kind !== "sqlserver").map((p) => p.name);
    const sourcePasswords: Record<string, pulumi.Output<string>> = {};
    if (needPasswords.length > 0) {
        // Only the key names are inspected here; the values stay inside the secret Output.
        const present = Object.keys(project.getObject<Record<string, unknown>>("sourcePasswords") ?? {});
        const missing = needPasswords.filter((name) => !present.includes(name));
        if (missing.length > 0) {
            throw new ConfigError(
                missing.map((name) => ({
                    path: ["sourcePasswords", name],
                    message: `the stack does not create this source's login; set its password: pulumi config set --secret --path 'sourcePasswords.${name}' <password>`,
                })),
            );
        }
        const all = project.requireSecretObject<Record<string, string>>("sourcePasswords");
        for (const name of needPasswords) sourcePasswords[name] = pulumi.secret(all.apply((o) => o[name]));
    }
    const postgresql = new pulumi.Config("postgresql");
    const mssql = new pulumi.Config("mssql");
    return {
        sourcePasswords,
        postgresAdmin: {
            username: postgresql.get("username"),
            password: postgresql.getSecret("password"),
            sslmode: postgresql.get("sslmode"),
            superuser: postgresql.getBoolean("superuser"),
        },
        sqlServerAdmin: mssql.getSecretObject<{ username: string; password: string }>("sqlAuth"),
    };
}
