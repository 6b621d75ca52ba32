/**
 * The pack as Pulumi loads it: policy metadata, the config schemas, the shipped per-environment config
 * files (generated from config/profiles.ts and validated like the CLI does), the enforcement switch,
 * and a self-contained package Pulumi can install and run on its own.
 */
import { expect } from "chai";
import Ajv from "ajv";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import type { PolicyPackConfig } from "@pulumi/policy";
import { ENVIRONMENTS } from "../../model/environment";
import { PROFILES } from "../../config/profiles";
import { packConfigFor, POSTURES, renderPackConfig } from "../../policies/environments";
import { configurePack, PACK_NAME, POLICIES, riskOf } from "../../policies/pack";
import { REPO_ROOT } from "../helpers/stack-files";
import { configOf, levelOf } from "./helpers/analyzer";
import { POLICIES_DIR, shippedPackConfig } from "./helpers/stack";

const ajv = new Ajv({ strict: false, allErrors: true });

describe("policy pack metadata", () => {
    it("gives every policy a unique, stable kebab-case name, a description and an enforcement level", () => {
        const names = POLICIES.map((p) => p.name);
        expect(new Set(names).size, "unique names").to.equal(names.length);
        for (const policy of POLICIES) {
            expect(policy.name, policy.name).to.match(/^[a-z0-9]+(-[a-z0-9]+)*$/);
            expect(policy.name).to.not.equal("all");
            expect(policy.description.length, `${policy.name} description`).to.be.greaterThan(20);
            expect(["advisory", "mandatory"], policy.name).to.include(policy.enforcementLevel);
            expect(["data-loss", "leak", "availability"]).to.include(riskOf(policy));
        }
    });

    it("declares a default and a description for every config property, valid against its own schema", () => {
        for (const policy of POLICIES) {
            const properties = policy.configSchema?.properties ?? {};
            expect(Object.keys(properties), `${policy.name}: enforcementLevel is reserved`).to.not.include("enforcementLevel");
            for (const [key, schema] of Object.entries(properties)) {
                expect(schema.default, `${policy.name}.${key} default`).to.not.equal(undefined);
                expect(schema.description, `${policy.name}.${key} description`).to.be.a("string");
            }
            const validate = ajv.compile({ type: "object", properties, additionalProperties: false });
            expect(validate(configOf(policy)), `${policy.name}: ${ajv.errorsText(validate.errors)}`).to.equal(true);
        }
    });

    it("defaults to production strictness, so a run without --policy-pack-config fails safe", () => {
        const prod = shippedPackConfig("prod");
        for (const policy of POLICIES) {
            const entry = prod[policy.name];
            if (entry === undefined || typeof entry === "string") continue;
            const { enforcementLevel: _level, ...settings } = entry;
            for (const [key, value] of Object.entries(settings)) {
                expect(policy.configSchema?.properties[key]?.default, `${policy.name}.${key}`).to.deep.equal(value);
            }
        }
    });
});

describe("per-environment policy pack config", () => {
    it("ships one config file per environment profile, up to date with config/profiles.ts (npm run policies:config)", () => {
        const shipped = fs
            .readdirSync(POLICIES_DIR)
            .filter((f) => /^[a-z]+\.json$/.test(f) && f !== "package.json" && f !== "tsconfig.json");
        expect(shipped.sort()).to.deep.equal(ENVIRONMENTS.map((e) => `${e}.json`).sort());
        for (const environment of ENVIRONMENTS) {
            const text = fs.readFileSync(path.join(POLICIES_DIR, `${environment}.json`), "utf8");
            expect(text, `policies/${environment}.json is stale: run npm run policies:config`).to.equal(
                renderPackConfig(environment, PROFILES[environment]),
            );
        }
    });

    for (const environment of ENVIRONMENTS) {
        it(`takes ${environment}'s thresholds from the ${environment} environment profile`, () => {
            const profile = PROFILES[environment];
            const config = shippedPackConfig(environment);
            const setting = (policy: string, key: string): unknown =>
                configOf(
                    POLICIES.find((p) => p.name === policy)!,
                    config,
                )[key];
            expect(setting("kafka-topic-replication-factor", "minReplicationFactor")).to.equal(profile.minimumReplicationFactor);
            expect(setting("kafka-topic-min-insync-replicas", "minInsyncReplicas")).to.equal(profile.minInsyncReplicas);
            expect(setting("kafka-topic-protected", "requireProtect")).to.equal(profile.protectStatefulResources);
            expect(setting("connector-error-log-redacted", "allowRecordContentsInLogs")).to.equal(profile.logErrorRecordContents);
            expect(setting("source-database-encryption", "requireEncryption")).to.equal(profile.requireDatabaseEncryption);
            expect(setting("kafka-user-stack-owned", "requireKafkaUser")).to.equal(profile.kafkaAuthentication !== "none");
            expect(setting("workload-network-policy", "requireNetworkPolicies")).to.equal(profile.requireNetworkPolicies);
            expect(setting("connect-disruption-budget", "minReplicas")).to.equal(profile.minimumConnectReplicas);
            expect(setting("connector-registry-serialization", "requireRegistry")).to.equal(profile.requireSchemaRegistry);
            expect(setting("connector-registry-tls", "requireTls")).to.equal(profile.requireSchemaRegistryTls);
            expect(setting("policy-config-matches-stack", "environment")).to.equal(environment);
        });

        it(`validates policies/${environment}.json the way the CLI does (known policies, schema-valid settings)`, () => {
            const config = shippedPackConfig(environment);
            const levels = ["advisory", "mandatory", "remediate", "disabled"];
            for (const [name, entry] of Object.entries(config)) {
                if (name === "all") {
                    expect(levels).to.include(entry);
                    continue;
                }
                const policy = POLICIES.find((p) => p.name === name);
                expect(policy, `unknown policy ${name}`).to.not.equal(undefined);
                if (typeof entry === "string") {
                    expect(levels).to.include(entry);
                    continue;
                }
                const { enforcementLevel, ...settings } = entry;
                if (enforcementLevel !== undefined) expect(levels).to.include(enforcementLevel);
                const validate = ajv.compile({
                    type: "object",
                    properties: policy!.configSchema?.properties ?? {},
                    additionalProperties: false,
                });
                expect(validate(settings), `${name}: ${ajv.errorsText(validate.errors)}`).to.equal(true);
            }
        });
    }

    it("blocks leaks everywhere, data-loss and availability rules only in prod, and keeps advisory policies advisory", () => {
        for (const environment of ENVIRONMENTS) {
            const config = shippedPackConfig(environment);
            for (const policy of POLICIES) {
                const expected =
                    policy.enforcementLevel === "advisory"
                        ? "advisory"
                        : riskOf(policy) === "leak"
                          ? "mandatory"
                          : POSTURES[environment].all;
                expect(levelOf(policy, config), `${environment}: ${policy.name}`).to.equal(expected);
            }
        }
        expect(POSTURES.prod.all).to.equal("mandatory");
    });

    it("falls back to the strictest posture for an environment it does not know", () => {
        const config = packConfigFor("staging", PROFILES.prod);
        expect(config.all).to.equal("mandatory");
        expect(config["policy-config-matches-stack"]).to.deep.equal({ environment: "staging" });
    });
});

describe("pack-wide enforcement switch", () => {
    it("keeps each policy's own level by default", () => {
        const { policies, initialConfig } = configurePack();
        expect(policies.map((p) => p.enforcementLevel)).to.deep.equal(POLICIES.map((p) => p.enforcementLevel));
        expect(initialConfig).to.deep.equal({});
    });

    it("applies `all` to every policy, lets a per-policy entry override it and carries that entry's settings", () => {
        const settings: PolicyPackConfig = {
            all: "advisory",
            "connector-credentials-by-reference": "mandatory",
            "kafka-topic-replication-factor": { enforcementLevel: "disabled", minReplicationFactor: 5 },
            "connector-tasks-max": { maxTasks: 4 },
        };
        const { policies, initialConfig } = configurePack(settings);
        const level = (name: string) => policies.find((p) => p.name === name)!.enforcementLevel;
        expect(level("connector-credentials-by-reference")).to.equal("mandatory");
        expect(level("kafka-topic-replication-factor")).to.equal("disabled");
        expect(level("connector-tasks-max")).to.equal("advisory");
        expect(level("schema-history-topic")).to.equal("advisory");
        expect(initialConfig).to.deep.equal({
            "kafka-topic-replication-factor": { minReplicationFactor: 5 },
            "connector-tasks-max": { maxTasks: 4 },
        });
    });

    it("refuses a misspelt policy name instead of silently ignoring it", () => {
        expect(() => configurePack({ "kafka-topic-replication-factr": "advisory" })).to.throw("kafka-topic-replication-factr");
    });
});

describe("policy pack package", () => {
    const pack = JSON.parse(fs.readFileSync(path.join(POLICIES_DIR, "package.json"), "utf8"));
    const root = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
    const rootVersion = (name: string): string => root.dependencies?.[name] ?? root.devDependencies?.[name];

    it("pins @pulumi/policy, @pulumi/pulumi and the TypeScript toolchain to the root's exact versions", () => {
        const all = { ...pack.dependencies, ...pack.devDependencies } as Record<string, string>;
        expect(Object.keys(pack.dependencies).sort()).to.deep.equal(["@pulumi/policy", "@pulumi/pulumi"]);
        for (const [name, version] of Object.entries(all)) {
            expect(version, name).to.match(/^\d+\.\d+\.\d+$/);
            expect(version, name).to.equal(rootVersion(name));
        }
        expect(pack.version, "PolicyPack reads its version from package.json").to.match(/^\d+\.\d+\.\d+$/);
    });

    it("has a lock file for npm ci that resolves the same pinned versions", () => {
        const lock = JSON.parse(fs.readFileSync(path.join(POLICIES_DIR, "package-lock.json"), "utf8"));
        for (const name of ["@pulumi/policy", "@pulumi/pulumi", "typescript", "ts-node"]) {
            expect(lock.packages[`node_modules/${name}`]?.version, name).to.equal(rootVersion(name));
        }
    });

    it("declares a nodejs pack named like the PolicyPack", () => {
        const manifest = parse(fs.readFileSync(path.join(POLICIES_DIR, "PulumiPolicy.yaml"), "utf8"));
        expect(manifest.runtime).to.equal("nodejs");
        expect(manifest.name).to.equal(PACK_NAME);
    });

    it("imports nothing from outside policies/ at run time, so `pulumi policy publish` can ship the folder alone", () => {
        const seen = new Set<string>();
        const visit = (file: string): void => {
            if (seen.has(file)) return;
            seen.add(file);
            const text = fs.readFileSync(file, "utf8");
            for (const match of text.matchAll(/^import (?!type )[^;]*?from "(\.[^"]+)";/gms)) {
                const target = path.resolve(path.dirname(file), match[1]) + ".ts";
                expect(target.startsWith(POLICIES_DIR + path.sep), `${path.relative(REPO_ROOT, file)} imports ${match[1]}`).to.equal(true);
                visit(target);
            }
        };
        visit(path.join(POLICIES_DIR, "index.ts"));
        expect(seen.size).to.be.greaterThan(5);
    });
});
