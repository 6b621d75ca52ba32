/**
 * The single place that reads Pulumi config. Collects the project's keys into one raw object and
 * hands it to the pure parser, so tests can build the platform from any config object.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackSpec, ParseResult } from "./resolve";

export const PROJECT = "cdc-pipeline";
const SCALAR_KEYS = ["environment", "namespace"] as const;
const STRUCTURED_KEYS = ["kafka", "connect", "pipelines"] as const;

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
