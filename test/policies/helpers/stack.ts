/**
 * Turns a program run under mocks (test/helpers/program.ts) into what the analyzer sees: every
 * registration with its inputs and captured options, plus the root Stack resource with the program's
 * exports as its outputs. Also loads the shipped per-environment pack configuration.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyPackConfig } from "@pulumi/policy";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { PROJECT } from "../../../config/load";
import { promiseOf } from "../../helpers/mocks";
import type { ProgramRun } from "../../helpers/program";
import { REPO_ROOT } from "../../helpers/stack-files";
import type { AnalyzedResource } from "./analyzer";
import { capturedFor, registrationKey } from "./capture";

export const STACK_TYPE = "pulumi:pulumi:Stack";
export const POLICIES_DIR = path.join(REPO_ROOT, "policies");

export async function resourcesOf(run: ProgramRun, stack: string): Promise<AnalyzedResource[]> {
    const captured = capturedFor(run.mocks);
    const resources: AnalyzedResource[] = run.mocks.registrations.map((registration) => {
        const options = captured.get(registrationKey(registration.type, registration.name));
        if (!options) throw new Error(`no options captured for ${registrationKey(registration.type, registration.name)}`);
        return {
            type: registration.type,
            name: registration.name,
            urn: options.urn,
            props: unwrapSecrets(registration.inputs) as Record<string, any>,
            opts: {
                protect: options.protect,
                ignoreChanges: options.ignoreChanges,
                ...(options.deleteBeforeReplace !== undefined ? { deleteBeforeReplace: options.deleteBeforeReplace } : {}),
                aliases: options.aliases,
                customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
                additionalSecretOutputs: options.additionalSecretOutputs,
                ...(options.parent ? { parent: options.parent } : {}),
            },
            ...(options.parent ? { parent: options.parent } : {}),
            dependencies: options.dependencies,
            propertyDependencies: options.propertyDependencies,
        };
    });
    const outputs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(run.exports)) {
        outputs[key] = pulumi.Output.isInstance(value) ? await promiseOf(value as pulumi.Output<unknown>, 5000) : value;
    }
    resources.unshift({
        type: STACK_TYPE,
        name: `${PROJECT}-${stack}`,
        urn: `urn:pulumi:${stack}::${PROJECT}::${STACK_TYPE}::${PROJECT}-${stack}`,
        props: outputs,
        opts: {
            protect: false,
            ignoreChanges: [],
            aliases: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            additionalSecretOutputs: [],
        },
        dependencies: [],
        propertyDependencies: {},
    });
    return resources;
}

/** Policies see secret inputs as plain values (the analyzer unwraps them); the mock records the wrapper. */
function unwrapSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value === null || typeof value !== "object") return value;
    const record = value as Record<string, unknown>;
    if (record[specialSigKey] === specialSecretSig) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
}

export function shippedPackConfig(environment: string): PolicyPackConfig {
    return JSON.parse(fs.readFileSync(path.join(POLICIES_DIR, `${environment}.json`), "utf8")) as PolicyPackConfig;
}

/** A deep copy to mutate, so one test's change cannot leak into another's. */
export const cloneResources = (resources: readonly AnalyzedResource[]): AnalyzedResource[] =>
    structuredClone(resources) as AnalyzedResource[];

export function findResource(resources: AnalyzedResource[], type: string, name: string): AnalyzedResource {
    const found = resources.filter((r) => r.type === type && r.name === name);
    if (found.length !== 1) {
        throw new Error(
            `expected one ${type} named ${name}, found ${found.length} (have: ${resources
                .filter((r) => r.type === type)
                .map((r) => r.name)
                .join(", ")})`,
        );
    }
    return found[0];
}
