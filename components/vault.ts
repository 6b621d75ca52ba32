import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import type { StackSpec } from "../model/spec";
import {
    planKubernetesAuthRoles,
    planVaultPolicies,
    planVaultSecrets,
    policyProblems,
    renderPolicyJson,
    VaultSecretPlan,
} from "../plan/vault";

export interface VaultAccessArgs {
    spec: StackSpec;
    /**
     * The password of every secret, by Vault path: generated login passwords from the database
     * components, and secret config for sources whose logins the stack does not manage.
     */
    passwords: Record<string, pulumi.Input<string>>;
}

/**
 * Vault through the `vault:` provider: the KV v2 mount, one secret per pipeline and purpose, one
 * read-only policy per consumer, and the Kubernetes auth roles binding each consumer's service account
 * to its policy. The Vault Secrets Operator objects that deliver the secrets live in VaultSecretSync.
 */
export class VaultAccess extends pulumi.ComponentResource {
    readonly policyNames: pulumi.Output<string[]>;
    readonly authRoleNames: pulumi.Output<string[]>;
    /** `<mount>/<path>` of every secret written. */
    readonly secretPaths: pulumi.Output<string[]>;

    constructor(name: string, args: VaultAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cdc:vault:VaultAccess", name, {}, opts);
        const { spec } = args;
        const protect = spec.profile.protectStatefulResources;

        // The mount holds every credential: deleting it would delete them all.
        const mount = spec.vault.createMount
            ? new vault.Mount(
                  `${name}-kv`,
                  {
                      path: spec.vault.kvMount,
                      type: "kv",
                      options: { version: "2" },
                      description: "cdc-pipeline credentials (KV version 2)",
                  },
                  { parent: this, protect, retainOnDelete: protect },
              )
            : undefined;
        const mountPath: pulumi.Input<string> = mount ? mount.path : spec.vault.kvMount;

        const secrets = planVaultSecrets(spec).map((plan) => {
            const password = passwordOf(plan, args.passwords);
            const dataJson = pulumi.secret(pulumi.output(password).apply((value) => JSON.stringify({ ...plan.fields, password: value })));
            return new vault.kv.SecretV2(`${name}-secret-${plan.path}`, { mount: mountPath, name: plan.path, dataJson }, { parent: this });
        });

        const policies = new Map(
            planVaultPolicies(spec).map((plan) => {
                const problems = policyProblems(plan, spec.vault.kvMount);
                if (problems.length > 0) {
                    throw new pulumi.InputPropertiesError({
                        message: `Vault policy ${plan.name} is not least-privilege`,
                        errors: problems.map((reason) => ({ propertyPath: "policy", reason })),
                    });
                }
                return [
                    plan.consumer,
                    new vault.Policy(
                        `${name}-policy-${plan.consumer}`,
                        { name: plan.name, policy: renderPolicyJson(plan) },
                        { parent: this },
                    ),
                ];
            }),
        );

        const roles = planKubernetesAuthRoles(spec).map(
            (role) =>
                new vault.kubernetes.AuthBackendRole(
                    `${name}-role-${role.consumer}`,
                    {
                        backend: spec.vault.kubernetesAuthMount,
                        roleName: role.roleName,
                        boundServiceAccountNames: [role.serviceAccount],
                        boundServiceAccountNamespaces: [role.namespace],
                        audience: role.audience,
                        tokenPolicies: [policies.get(role.consumer)!.name],
                        tokenTtl: role.tokenTtlSeconds,
                        tokenMaxTtl: role.tokenTtlSeconds * 2,
                        tokenNoDefaultPolicy: false,
                    },
                    { parent: this, dependsOn: [policies.get(role.consumer)!] },
                ),
        );

        this.policyNames = pulumi.all([...policies.values()].map((p) => p.name));
        this.authRoleNames = pulumi.all(roles.map((r) => r.roleName));
        this.secretPaths = pulumi.all(secrets.map((s) => pulumi.interpolate`${s.mount}/${s.name}`));
        this.registerOutputs({ policyNames: this.policyNames, authRoleNames: this.authRoleNames, secretPaths: this.secretPaths });
    }
}

function passwordOf(plan: VaultSecretPlan, passwords: Record<string, pulumi.Input<string>>): pulumi.Input<string> {
    const password = passwords[plan.path];
    if (password === undefined) {
        throw new pulumi.InputPropertiesError({
            message: `no password for Vault secret ${plan.path}`,
            errors: [{ propertyPath: `passwords.${plan.path}`, reason: `expected one from ${plan.password.kind}` }],
        });
    }
    return password;
}
