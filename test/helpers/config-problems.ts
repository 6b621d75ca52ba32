/** What a user sees from the config parser, for tests that edit a shipped stack and expect its problems. */
import { ConfigError } from "../../config/errors";
import { parseStackSpec } from "../../plan/stack-spec";
import { rawProjectConfig, ShippedStack } from "./stack-files";

// Tests poke at arbitrary paths of the raw config.
export type Raw = Record<string, any>;

/** A private copy of a shipped stack's project config, safe to edit. */
export const shippedRaw = (stack: ShippedStack): Raw => structuredClone(rawProjectConfig(stack));

function issues<T>(raw: Raw, read: (e: ConfigError) => T[]): T[] {
    try {
        parseStackSpec(raw);
    } catch (e) {
        if (e instanceof ConfigError) return read(e);
        throw e;
    }
    return [];
}

/** The problem lines exactly as printed (`pipelines[0].sink.host: ...`); empty when the config is accepted. */
export const problemsOf = (raw: Raw): string[] =>
    issues(raw, (e) =>
        e.message
            .split("\n")
            .slice(1)
            .map((l) => l.replace(/^ {2}- /, "")),
    );

/** Each problem as `dot.joined.path: message`, for tests that match paths with numeric indexes as segments. */
export const issuesOf = (raw: Raw): string[] => issues(raw, (e) => e.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
