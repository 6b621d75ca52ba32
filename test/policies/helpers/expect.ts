/**
 * Asserts that exactly the expected policies fired, each with a message containing the expected
 * fragments, and nothing else — the "caught by the intended policy and nothing else fires" contract.
 */
import { expect } from "chai";
import type { EnforcementLevel } from "@pulumi/policy";
import type { AnalysisResult, Diagnostic } from "./analyzer";

export interface ExpectedViolation {
    policy: string;
    /** Defaults to mandatory. */
    level?: EnforcementLevel;
    /** Fragments the message must contain: the resource it names and the fix, at least. */
    includes: string[];
    /** Fragments it must not contain (e.g. a secret value). */
    excludes?: string[];
}

const show = (ds: Diagnostic[]): string => ds.map((d) => `  [${d.level}] ${d.policy}: ${d.message}`).join("\n") || "  (none)";

export function expectExactly(result: AnalysisResult, expected: ExpectedViolation[]): void {
    const remaining = [...result.diagnostics];
    for (const want of expected) {
        const index = remaining.findIndex(
            (d) =>
                d.policy === want.policy &&
                d.level === (want.level ?? "mandatory") &&
                want.includes.every((fragment) => d.message.includes(fragment)),
        );
        expect(
            index,
            `expected a ${want.level ?? "mandatory"} ${want.policy} violation containing ${JSON.stringify(want.includes)}; got:\n${show(result.diagnostics)}`,
        ).to.be.greaterThan(-1);
        const [found] = remaining.splice(index, 1);
        for (const fragment of want.excludes ?? []) expect(found.message).to.not.include(fragment);
        expect(found.message, "every message says how to fix it").to.include("Fix:");
    }
    expect(remaining, `unexpected diagnostics:\n${show(remaining)}`).to.deep.equal([]);
}
