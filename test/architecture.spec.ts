/**
 * Layering rules a reviewer would otherwise have to remember: environment decisions go through the profile's
 * flags (config/profiles.ts), never through the environment's name, so a third environment gets a profile
 * rather than a hunt for string comparisons.
 */
import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "fs";
import * as path from "path";
import { REPO_ROOT } from "./helpers/stack-files";

const SOURCE_DIRS = ["config", "plan", "connectors", "components", "model", "reconciler", "sandbox", "policies/rules", "policies/lib"];
const BY_NAME = /\benvironment\s*[!=]==?\s*["'`](dev|prod)|["'`](dev|prod)["'`]\s*[!=]==?\s*[\w.]*environment\b/;

function sources(dir: string): string[] {
    const full = path.join(REPO_ROOT, dir);
    return readdirSync(full).flatMap((name) => {
        const file = path.join(full, name);
        if (statSync(file).isDirectory()) return name === "node_modules" ? [] : sources(path.join(dir, name));
        return name.endsWith(".ts") ? [file] : [];
    });
}

export function environmentComparisons(text: string): string[] {
    return text.split("\n").filter((line) => BY_NAME.test(line));
}

describe("architecture", () => {
    it("decides per environment only through profile flags, never by the environment's name", () => {
        const found = SOURCE_DIRS.flatMap(sources).flatMap((file) =>
            environmentComparisons(readFileSync(file, "utf8")).map((line) => `${path.relative(REPO_ROOT, file)}: ${line.trim()}`),
        );
        expect(found).to.deep.equal([]);
    });

    it("the check recognises the comparisons it forbids", () => {
        expect(environmentComparisons('if (spec.environment === "prod" && !https) {')).to.have.length(1);
        expect(environmentComparisons("if ('dev' !== config.environment) return;")).to.have.length(1);
        expect(environmentComparisons("if (spec.profile.requireVaultTls && !https) {")).to.deep.equal([]);
    });
});
