/**
 * Vault Kubernetes auth roles: each binds named ServiceAccounts in named namespaces to the consumer's
 * own policies. A wildcard binding lets any pod in the cluster log in as the CDC consumer.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { settings, strings } from "../lib/config";
import { forTypes } from "../lib/match";
import { asArray } from "../lib/resources";

const VAULT_K8S_AUTH_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole";

const authSettings = settings<{ forbiddenPolicies: string[] }>({
    forbiddenPolicies: strings(["root"], "Vault policies no Kubernetes auth role may hand out."),
});

export const vaultAuthRoleScoped: ResourceValidationPolicy = {
    name: "vault-auth-role-scoped",
    description: "Vault Kubernetes auth roles bind named ServiceAccounts in named namespaces (no `*`) and never hand out the root policy.",
    enforcementLevel: "mandatory",
    configSchema: authSettings.schema,
    validateResource: forTypes([VAULT_K8S_AUTH_ROLE], (role, args, report) => {
        const { forbiddenPolicies } = authSettings.read(args);
        const label = `Vault Kubernetes auth role ${JSON.stringify(role.roleName ?? args.name)}`;
        const names = asArray(role.boundServiceAccountNames).map(String);
        const namespaces = asArray(role.boundServiceAccountNamespaces).map(String);
        const fix = "Fix: bind the consumer's own ServiceAccount name and namespace.";
        if (names.length === 0 || names.some((n) => n.includes("*"))) {
            report(
                `${label} binds ServiceAccount names ${JSON.stringify(names)}; any ServiceAccount matching it can read the pipeline credentials. ${fix}`,
            );
        }
        if (
            role.boundServiceAccountNamespaceSelector === undefined &&
            (namespaces.length === 0 || namespaces.some((n) => n.includes("*")))
        ) {
            report(
                `${label} binds namespaces ${JSON.stringify(namespaces)}; a ServiceAccount of that name in any such namespace can read the pipeline credentials. ${fix}`,
            );
        }
        const dangerous = asArray(role.tokenPolicies)
            .map(String)
            .filter((p) => forbiddenPolicies.includes(p));
        if (dangerous.length > 0) {
            report(
                `${label} issues tokens with ${dangerous.join(", ")}; the consumer would control all of Vault. Fix: give it only its own read-only policy.`,
            );
        }
    }),
};
