import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { StackSpec } from "../model/spec";
import { consumersOf, planSecretSyncs, vaultAuthBody, vaultConnectionBody, vaultStaticSecretBody, VsoObject } from "../plan/vault";

export interface VaultSecretSyncArgs {
    spec: StackSpec;
}

const custom = (name: string, body: VsoObject<string>, opts: pulumi.CustomResourceOptions) =>
    new k8s.apiextensions.CustomResource(
        name,
        { apiVersion: body.apiVersion, kind: body.kind, metadata: body.metadata, spec: body.spec },
        opts,
    );

/**
 * Delivery Vault → Kubernetes Secret through the Vault Secrets Operator: one VaultConnection, one
 * VaultAuth per consumer (logging in as that consumer's service account, so each sync reads with that
 * consumer's policy), and one VaultStaticSecret per Secret a workload reads. The CRs hold paths and
 * names only; the operator writes the values into the Secrets.
 */
export class VaultSecretSync extends pulumi.ComponentResource {
    /** Kubernetes Secrets the operator maintains. */
    readonly secretNames: pulumi.Output<string[]>;

    constructor(name: string, args: VaultSecretSyncArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cdc:vault:SecretSync", name, {}, opts);
        const { spec } = args;
        const connection = custom(`${name}-connection`, vaultConnectionBody(spec), { parent: this });
        const auths = new Map(
            consumersOf(spec).map((consumer) => [
                consumer,
                custom(`${name}-auth-${consumer}`, vaultAuthBody(spec, consumer), { parent: this, dependsOn: [connection] }),
            ]),
        );
        const secrets = planSecretSyncs(spec).map((sync) =>
            custom(`${name}-${sync.secretName}`, vaultStaticSecretBody(spec, sync), {
                parent: this,
                dependsOn: [auths.get(sync.consumer)!],
                // The destination Secret's name is fixed: a replacement must release it first.
                deleteBeforeReplace: true,
            }),
        );
        this.secretNames = pulumi.all(secrets.map((s) => s.metadata.name));
        this.registerOutputs({ secretNames: this.secretNames });
    }
}
