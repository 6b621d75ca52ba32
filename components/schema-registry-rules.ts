import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import type { StackSpec } from "../model/spec";
import type { CompatibilityLevel } from "../model/schema-registry";
import { putCompatibilityRequest, plannedSubjectRules, withBasicAuth } from "../plan/schema-registry";

/** One subject's compatibility rule as the provider receives it. */
export interface SubjectRuleInputs {
    adminUrl: string;
    subject: string;
    compatibility: CompatibilityLevel;
    /** The sources' registry login, when the registry asks for one (secret). */
    login?: { username: string; password: string };
}

/**
 * Sets a subject's COMPATIBILITY rule in the registry before any connector writes to it (plan/schema-registry.ts
 * says why through the Confluent-compatible API). `pulumi up` runs outside the cluster, so it reaches the registry at
 * schemaRegistry.adminUrl and logs in with the sources' login, read from Vault like the connectors' own copy.
 * The provider's functions are serialized into the state; they capture the request builders and `fetch`.
 */
export const subjectRuleProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: SubjectRuleInputs) {
        await applySubjectRule(inputs);
        return { id: inputs.subject, outs: withoutLogin(inputs) };
    },
    async diff(_id: string, olds: SubjectRuleInputs, news: SubjectRuleInputs) {
        const replaces = olds.subject !== news.subject ? ["subject"] : [];
        const changes = replaces.length > 0 || olds.compatibility !== news.compatibility || olds.adminUrl !== news.adminUrl;
        return { changes, replaces, deleteBeforeReplace: false };
    },
    async update(_id: string, _olds: SubjectRuleInputs, news: SubjectRuleInputs) {
        await applySubjectRule(news);
        return { outs: withoutLogin(news) };
    },
    async delete() {
        // The subject and its schemas outlive the stack's resource (readers still decode old records with them);
        // its rule stays with it, and removing either is a decision for a person.
    },
};

function withoutLogin(inputs: SubjectRuleInputs): SubjectRuleInputs {
    const { login: _omitted, ...rest } = inputs;
    return rest;
}

async function applySubjectRule(inputs: SubjectRuleInputs): Promise<void> {
    const request = withBasicAuth(putCompatibilityRequest(inputs.adminUrl, inputs.subject, inputs.compatibility), inputs.login);
    const where = `${request.method} ${request.url}`;
    let response: Response;
    try {
        response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
    } catch (err) {
        const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
        throw new Error(
            `${where}: the schema registry is unreachable (${cause}); schemaRegistry.adminUrl must be where pulumi up reaches the registry`,
        );
    }
    const text = await response.text();
    if (response.status === 401 || response.status === 403) {
        throw new Error(
            `${where}: ${response.status}; the login at schemaRegistry.credentials.writerPath may not set rules (it needs Apicurio's sr-developer or sr-admin role)`,
        );
    }
    if (!response.ok) throw new Error(`${where}: ${response.status} ${text.slice(0, 300)}`);
    const answer = JSON.parse(text) as { compatibility?: string };
    if (answer.compatibility !== inputs.compatibility) {
        throw new Error(`${where}: the registry answered ${text.slice(0, 300)}, not the rule ${inputs.compatibility}`);
    }
}

interface SubjectRuleArgs {
    adminUrl: pulumi.Input<string>;
    subject: pulumi.Input<string>;
    compatibility: pulumi.Input<CompatibilityLevel>;
    login?: pulumi.Input<{ username: string; password: string }>;
}

/** Type `pulumi-nodejs:dynamic/cdc:SubjectCompatibilityRule`. */
export class SubjectCompatibilityRule extends pulumi.dynamic.Resource {
    constructor(name: string, args: SubjectRuleArgs, opts?: pulumi.CustomResourceOptions) {
        super(subjectRuleProvider, name, args, opts, "cdc", "SubjectCompatibilityRule");
    }
}

export interface SchemaRegistryRulesArgs {
    spec: StackSpec;
}

/** Every planned subject's rule, one resource each; none for JSON stacks. */
export class SchemaRegistryRules extends pulumi.ComponentResource {
    readonly subjects: pulumi.Output<string[]>;
    /** The rule resources: connectors start after them, so a source's first schema is already checked. */
    readonly rules: pulumi.Resource[];

    constructor(name: string, args: SchemaRegistryRulesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cdc:registry:SchemaRegistryRules", name, {}, opts);
        const { spec } = args;
        const registry = spec.schemaRegistry;
        const credentials = registry?.credentials;
        const login = credentials
            ? vault.kv
                  .getSecretV2Output({ mount: spec.vault.kvMount, name: credentials.writerPath }, { parent: this })
                  .data.apply((data) => pulumi.secret({ username: String(data.username), password: String(data.password) }))
            : undefined;
        this.rules = plannedSubjectRules(spec).map(
            (rule) =>
                new SubjectCompatibilityRule(
                    `${name}-${rule.subject}`,
                    { adminUrl: registry!.adminUrl, subject: rule.subject, compatibility: rule.compatibility, ...(login ? { login } : {}) },
                    { parent: this, additionalSecretOutputs: ["login"] },
                ),
        );
        this.subjects = pulumi.output(plannedSubjectRules(spec).map((r) => r.subject));
        this.registerOutputs({ subjects: this.subjects });
    }
}
