/**
 * Typed policy configuration: one declaration gives the JSON schema the CLI validates
 * `--policy-pack-config` against (with defaults) and the typed reader the validation uses. Defaults are
 * merged in here as well, so a policy behaves the same whether or not the engine filled them in.
 */
import type { PolicyConfigSchema } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";

type Property<V> = PolicyConfigJSONSchema & { default: V; description: string };

export interface PolicySettings<T extends object> {
    readonly schema: PolicyConfigSchema;
    readonly defaults: Readonly<T>;
    read(args: { getConfig<U extends object>(): U }): T;
}

export function settings<T extends object>(properties: { [K in keyof T]: Property<T[K]> }): PolicySettings<T> {
    const defaults = {} as T;
    for (const key of Object.keys(properties) as (keyof T)[]) defaults[key] = properties[key].default;
    return {
        schema: { properties: properties as Record<string, PolicyConfigJSONSchema> },
        defaults,
        read: (args) => ({ ...defaults, ...args.getConfig<Partial<T>>() }),
    };
}

export const integer = (value: number, description: string, minimum = 0): Property<number> => ({
    type: "integer",
    minimum,
    default: value,
    description,
});

export const boolean = (value: boolean, description: string): Property<boolean> => ({ type: "boolean", default: value, description });

export const strings = (value: string[], description: string): Property<string[]> => ({
    type: "array",
    items: { type: "string" },
    default: value,
    description,
});

export const string = (value: string, description: string, allowed?: string[]): Property<string> => ({
    type: "string",
    ...(allowed ? { enum: allowed } : {}),
    default: value,
    description,
});
