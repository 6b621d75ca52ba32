/**
 * README's configuration reference against config/schema.ts and config/resolve.ts: every key, every
 * default (test/helpers/config-reference.ts). The mutations prove the check fails on the drift it exists for.
 */
import { expect } from "chai";
import { readFileSync } from "fs";
import * as path from "path";
import { configReferenceProblems, referenceRows, schemaKeys } from "./helpers/config-reference";
import { REPO_ROOT } from "./helpers/stack-files";

const README = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");

function replaced(from: string, to: string): string {
    expect(README, `README text to mutate: ${from}`).to.include(from);
    return README.replace(from, to);
}

describe("README configuration reference", () => {
    it("documents every key the schema accepts, with the schema's defaults, and nothing else", () => {
        expect(configReferenceProblems(README)).to.deep.equal([]);
    });

    it("reads the keys of every table, including rows that document several keys", () => {
        const keys = referenceRows(README).map((r) => r.key);
        expect(keys).to.include.members([
            "kafka.listener",
            "pipelines.source.maxQueueSize",
            "pipelines.sink.connectionPool.timeoutSeconds",
            "vault.tokenTtlSeconds",
            "postgres.adminHosts",
            "pipelines.sink.readOnlyUsername",
            "reconciler.criticalRatio",
            "pipelines.source.tables.columns.nullable",
        ]);
        const leaves = [...schemaKeys().values()].filter((k) => !k.group).length;
        expect(new Set(keys).size).to.be.at.least(leaves);
    });

    describe("fails on", () => {
        const cases: [string, string, string, string][] = [
            [
                "a wrong default",
                "| `connect.name` | `cdc-connect` |",
                "| `connect.name` | `connect` |",
                '`connect.name`: the schema\'s default is `cdc-connect`; the README says "`connect`"',
            ],
            [
                "a wrong number in a row of several keys",
                "| `maxBatchSize` / `maxQueueSize` | all | 2048 / 8192 |",
                "| `maxBatchSize` / `maxQueueSize` | all | 2048 / 4096 |",
                '`pipelines.source.maxQueueSize`: the schema\'s default is 8192; the README says "4096"',
            ],
            [
                "a wrong part of an object default",
                "| `connect.resources` | requests 500m/2Gi, limit 2Gi |",
                "| `connect.resources` | requests 500m/1Gi, limit 2Gi |",
                "`connect.resources`: the schema's default is",
            ],
            [
                "a per-environment default the schema does not have",
                "| `sqlserver.cdcRetentionMinutes` | 4320 (3 days, SQL Server's own default) |",
                "| `sqlserver.cdcRetentionMinutes` | 4320 (prod: 10080) |",
                '`sqlserver.cdcRetentionMinutes`: "4320 (prod: 10080)" claims a per-environment value',
            ],
            [
                "a per-environment value for a boolean default",
                "| `postgres.createDatabases` | `true` |",
                "| `postgres.createDatabases` | `true` (prod: `false`) |",
                '`postgres.createDatabases`: "`true` (prod: `false`)" claims a per-environment value',
            ],
            [
                "a default for a key that has none",
                "| `vault.caCertSecret` | none |",
                "| `vault.caCertSecret` | none (prod: `vault-ca`) |",
                '`vault.caCertSecret`: "none (prod: `vault-ca`)" claims a per-environment value, but unset it has none in either environment',
            ],
            [
                "a literal default for an optional key",
                "| `connect.pushSecret` | none |",
                "| `connect.pushSecret` | `registry-push` |",
                "`connect.pushSecret`: has no default (nothing fills it in when unset)",
            ],
            [
                "a profile default described as fixed",
                "| `connect.replicas` | profile (1 / 2) |",
                "| `connect.replicas` | 2 |",
                "`connect.replicas`: its default depends on the environment",
            ],
            [
                "a required key shown with a default",
                "| `connect.outputImage` | required |",
                "| `connect.outputImage` | `cdc-connect:latest` |",
                "`connect.outputImage`: the schema requires it",
            ],
            [
                "a key the schema no longer has",
                "| `kafka.tls` |",
                "| `kafka.tlsCaSecret` |",
                "`kafka.tlsCaSecret`: not a key config/schema.ts accepts",
            ],
            [
                "a schema key missing from the README",
                "| `kafka.listener` |",
                "| `kafka.listenerName` |",
                "`kafka.listener`: accepted by config/schema.ts but missing",
            ],
            [
                "a wrong Kinds column",
                "| `databases` | sqlserver |",
                "| `databases` | all |",
                "`pipelines.source.databases`: Kinds says all; the schema accepts it for sqlserver",
            ],
        ];
        for (const [what, from, to, expected] of cases) {
            it(what, () => {
                const problems = configReferenceProblems(replaced(from, to));
                expect(problems.join("\n")).to.include(expected);
            });
        }
    });
});
