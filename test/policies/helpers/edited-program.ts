/**
 * Runs the real program (index.ts) under mocks with an edited copy of a shipped stack's config, the
 * way test/helpers/program.ts runs the shipped one: broken configurations that the config layer
 * accepts but the pack must catch go through the whole program, not hand-edited resources.
 */
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../../../config/load";
import { RecordingMocks } from "../../helpers/mocks";
import type { ProgramRun } from "../../helpers/program";
import { ShippedStack, stackConfig } from "../../helpers/stack-files";

export async function runEditedProgram(
    stack: ShippedStack,
    preview: boolean,
    edit: (config: Record<string, any>) => void,
): Promise<ProgramRun> {
    const config = structuredClone(stackConfig(stack)) as Record<string, any>;
    edit(config);
    const mocks = new RecordingMocks();
    await pulumi.runtime.setMocks(mocks, PROJECT, stack, preview);
    pulumi.runtime.setAllConfig(
        Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
    );
    const entry = require.resolve("../../../index");
    delete require.cache[entry];
    const exports = require(entry) as Record<string, unknown>;
    await mocks.settled();
    return { mocks, exports };
}
