import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT } from "../../config/load";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const SHIPPED_STACKS = ["dev", "prod"] as const;
export type ShippedStack = (typeof SHIPPED_STACKS)[number];

/** Every config value of a shipped stack file, keyed as Pulumi stores them (`namespace:key`). */
export function stackConfig(stack: ShippedStack): Record<string, unknown> {
    const file = path.join(REPO_ROOT, `Pulumi.${stack}.yaml`);
    return (parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> }).config;
}

/** The project's own keys of a shipped stack, as the raw object `parseStackSpec` takes. */
export function rawProjectConfig(stack: ShippedStack): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(stackConfig(stack))) {
        if (key.startsWith(`${PROJECT}:`)) raw[key.slice(PROJECT.length + 1)] = value;
    }
    return raw;
}

/** The `default` of each project key declared in Pulumi.yaml that has one. */
function projectDefaults(): Record<string, unknown> {
    const project = parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as {
        config?: Record<string, { default?: unknown }>;
    };
    const defaults: Record<string, unknown> = {};
    for (const [key, declaration] of Object.entries(project.config ?? {})) {
        if (declaration.default !== undefined) defaults[key] = declaration.default;
    }
    return defaults;
}

/**
 * `setAllConfig` wants strings: structured values as JSON, like the Pulumi CLI passes them. The CLI also
 * passes Pulumi.yaml's defaults for the keys a stack leaves out, so the program sees them here too.
 */
export function configForRuntime(stack: ShippedStack): Record<string, string> {
    const values: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(projectDefaults())) values[`${PROJECT}:${key}`] = value;
    Object.assign(values, stackConfig(stack));
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(values)) {
        out[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return out;
}

/** What a test puts in place of a secret its users set with `--secret`; never a real credential. */
export const STAND_IN_SOURCE_PASSWORD = "stand-in-source-password";

/**
 * Secret config a shipped stack needs but its file cannot hold (the passwords of the source logins the stack does
 * not create), with stand-in values, and the keys the CLI would mark secret.
 */
export function standInSecrets(stack: ShippedStack): { config: Record<string, string>; secretKeys: string[] } {
    const pipelines = (rawProjectConfig(stack).pipelines ?? []) as { name: string; source: { kind: string } }[];
    const needed = pipelines.filter((p) => p.source.kind !== "sqlserver").map((p) => p.name);
    if (needed.length === 0) return { config: {}, secretKeys: [] };
    const key = `${PROJECT}:sourcePasswords`;
    return {
        config: { [key]: JSON.stringify(Object.fromEntries(needed.map((name) => [name, STAND_IN_SOURCE_PASSWORD]))) },
        secretKeys: [key],
    };
}
