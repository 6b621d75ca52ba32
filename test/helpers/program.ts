/**
 * Runs the real program (index.ts) under Pulumi mocks against a shipped stack file and returns every
 * registration. index.ts is re-required per run because Node caches modules.
 */
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../../config/load";
import { RecordingMocks } from "./mocks";
import { configForRuntime, ShippedStack, standInSecrets } from "./stack-files";

export interface ProgramRun {
    mocks: RecordingMocks;
    exports: Record<string, unknown>;
}

const cache = new Map<string, Promise<ProgramRun>>();

export function runProgram(stack: ShippedStack, preview: boolean): Promise<ProgramRun> {
    const key = `${stack}:${preview}`;
    if (!cache.has(key)) cache.set(key, run(stack, preview));
    return cache.get(key)!;
}

async function run(stack: ShippedStack, preview: boolean): Promise<ProgramRun> {
    const mocks = new RecordingMocks();
    await pulumi.runtime.setMocks(mocks, PROJECT, stack, preview);
    const secrets = standInSecrets(stack);
    pulumi.runtime.setAllConfig({ ...configForRuntime(stack), ...secrets.config }, secrets.secretKeys);
    const entry = require.resolve("../../index");
    delete require.cache[entry];
    const exports = require(entry) as Record<string, unknown>;
    await mocks.settled();
    return { mocks, exports };
}
