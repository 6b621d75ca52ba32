/**
 * Vault ACL policies of the CDC consumers (Kafka Connect, the reconciler): read-only on the credential
 * paths and no wildcard that spans a whole mount. The JSON policy document is parsed, not pattern-matched.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { integer, settings, strings } from "../lib/config";
import { forTypes } from "../lib/match";
import { VAULT_POLICY } from "../lib/resources";
import { grantedCapabilities, hasWildcard, literalSegments, parseVaultPolicy, reachesPrefix } from "../lib/vault-policy";

const label = (props: Record<string, unknown>, name: string): string =>
    typeof props.name === "string" ? `Vault policy "${props.name}"` : `Vault policy ${JSON.stringify(name)} (Pulumi name)`;

const readOnlySettings = settings<{ protectedPaths: string[]; forbiddenCapabilities: string[]; exemptPolicies: string[] }>({
    protectedPaths: strings(
        [
            "secret/db/",
            "secret/data/db/",
            "secret/metadata/db/",
            "secret/delete/db/",
            "secret/undelete/db/",
            "secret/destroy/db/",
            "secret/kafka/",
            "secret/data/kafka/",
            "secret/metadata/kafka/",
            "secret/delete/kafka/",
            "secret/undelete/kafka/",
            "secret/destroy/kafka/",
        ],
        "Path prefixes (KV v1 and v2 API forms) CDC consumers may only read or list.",
    ),
    forbiddenCapabilities: strings(
        ["create", "update", "patch", "delete", "sudo", "write"],
        "Capabilities no CDC consumer may hold on the protected paths.",
    ),
    exemptPolicies: strings([], "Vault policy names this rule does not apply to (e.g. an operator policy managed here on purpose)."),
});

export const vaultPolicyCdcReadOnly: ResourceValidationPolicy = {
    name: "vault-policy-cdc-read-only",
    description:
        "Vault policies of CDC consumers grant no write, update, delete or sudo on the database and Kafka credential paths (secret/db/*, KV v2 secret/data/db/*).",
    enforcementLevel: "mandatory",
    configSchema: readOnlySettings.schema,
    validateResource: forTypes([VAULT_POLICY], (policy, args, report) => {
        const { protectedPaths, forbiddenCapabilities, exemptPolicies } = readOnlySettings.read(args);
        if (typeof policy.name === "string" && exemptPolicies.includes(policy.name)) args.notApplicable("exempt by configuration");
        const parsed = parseVaultPolicy(String(policy.policy ?? ""));
        if (!parsed.ok) {
            report(
                `${label(policy, args.name)} cannot be parsed (${parsed.error}), so its grants cannot be checked. ` +
                    'Fix: write it as a JSON policy document, {"path": {"<path>": {"capabilities": ["read"]}}}.',
            );
            return;
        }
        for (const rule of parsed.rules) {
            const granted = grantedCapabilities(rule).filter((c) => forbiddenCapabilities.includes(c));
            if (granted.length === 0) continue;
            const reached = protectedPaths.filter((prefix) => reachesPrefix(rule.path, prefix));
            if (reached.length === 0) continue;
            report(
                `${label(policy, args.name)} grants ${granted.join(", ")} on path "${rule.path}", which reaches ${reached.map((p) => `${p}*`).join(", ")}; ` +
                    "a CDC consumer could overwrite or delete the credentials every pipeline depends on. " +
                    `Fix: grant only ["read"] (plus "list" on the metadata path if the consumer lists) on ${reached[0]}*.`,
            );
        }
    }),
};

const wildcardSettings = settings<{ minLiteralSegments: number }>({
    minLiteralSegments: integer(
        2,
        "Literal path segments (mount included, KV v2 data/metadata not counted) required before any wildcard.",
        1,
    ),
});

export const vaultPolicyNoWildcardPath: ResourceValidationPolicy = {
    name: "vault-policy-no-wildcard-path",
    description: "Vault policies have no `*` path and no wildcard spanning a whole mount (e.g. secret/*, secret/data/*).",
    enforcementLevel: "mandatory",
    configSchema: wildcardSettings.schema,
    validateResource: forTypes([VAULT_POLICY], (policy, args, report) => {
        const { minLiteralSegments } = wildcardSettings.read(args);
        const parsed = parseVaultPolicy(String(policy.policy ?? ""));
        if (!parsed.ok) return; // vault-policy-cdc-read-only reports unparseable policies
        for (const rule of parsed.rules) {
            if (!hasWildcard(rule.path)) continue;
            const literal = literalSegments(rule.path);
            if (literal.length < minLiteralSegments) {
                report(
                    `${label(policy, args.name)} has the wildcard path "${rule.path}", which spans ${literal.length === 0 ? "every path in Vault" : `the whole "${literal[0]}" mount`}. ` +
                        "Fix: name the consumer's own path (e.g. secret/data/db/<system>) or a narrower prefix such as secret/data/db/*.",
                );
            }
        }
    }),
};
