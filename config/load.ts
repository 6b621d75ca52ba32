/**
 * The single place that reads Pulumi config. Collects the project's keys into one raw object and
 * hands it to the pure parser, so tests can build the platform from any config object.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./errors";
import { kafkaProviderWarnings } from "./kafka-provider";
import type { ParseResult } from "./resolve";
import { SECRET_CONFIG_KEYS, stackConfigSchema } from "./schema";
import type { StackSpec } from "../model/spec";

export const PROJECT = "cdc-pipeline";
const SCALAR_KEYS = new Set(["environment", "namespace"]);
/** Read by loadStackSecrets as secrets; their values never enter the raw config the parser sees. */
const SECRET_KEYS: ReadonlySet<string> = new Set(SECRET_CONFIG_KEYS);

/**
 * Every key of the project's namespace, so a misspelt one (`cdc-pipeline:reconcilr`) reaches the parser and is
 * reported with a suggestion instead of being ignored. Unknown keys are passed without their value: only the
 * name matters to the error, and a misspelt secret key must not carry its secret into a message.
 */
function readRawConfig(
    config = new pulumi.Config(PROJECT),
    all: Record<string, string> = pulumi.runtime.allConfig(),
): Record<string, unknown> {
    const known = new Set(Object.keys(stackConfigSchema.shape));
    const raw: Record<string, unknown> = {};
    for (const fullKey of Object.keys(all)) {
        if (!fullKey.startsWith(`${PROJECT}:`)) continue;
        const key = fullKey.slice(PROJECT.length + 1);
        if (SECRET_KEYS.has(key)) continue;
        if (!known.has(key)) raw[key] = null;
        else if (SCALAR_KEYS.has(key)) raw[key] = config.get(key);
        else raw[key] = structuredValue(config, key);
    }
    return raw;
}

/** A value that is not JSON stays a string, so the parser reports it as "must be an object (got ...)". */
function structuredValue(config: pulumi.Config, key: string): unknown {
    const text = config.get(key);
    if (text === undefined) return undefined;
    try {
        return JSON.parse(text) as unknown;
    } catch {
        return text;
    }
}

/** Pulumi prints a RunError as its message alone; any other error comes with a stack trace under it. */
function asRunError<T>(load: () => T): T {
    try {
        return load();
    } catch (e) {
        if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
        throw e;
    }
}

/** `parse` is plan/stack-spec.ts's parseStackSpec: config sits below the plan whose rules it also checks. */
export function loadStackSpec(parse: (raw: unknown) => ParseResult): ParseResult {
    const result = asRunError(() => parse(readRawConfig()));
    result.warnings.push(...kafkaProviderWarnings(result.spec, new pulumi.Config("kafka").getObject<string[]>("bootstrapServers")));
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
    return asRunError(() => readStackSecrets(spec));
}

function readStackSecrets(spec: StackSpec): StackSecrets {
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
