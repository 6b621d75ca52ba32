import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import type { StackSpec } from "../model/spec";
import type { CompatibilityLevel } from "../model/schema-registry";
import {
    deadLetterSchemaText,
    plannedDeadLetterSubjects,
    plannedSubjectRules,
    putCompatibilityRequest,
    registerSchemaRequest,
    RegistryRequest,
    withBasicAuth,
} from "../plan/schema-registry";

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

/** Sends one request with the login; the registry's answer, or an error naming the endpoint and the fix. */
async function send(unauthenticated: RegistryRequest, login: { username: string; password: string } | undefined): Promise<string> {
    const request = withBasicAuth(unauthenticated, login);
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
            `${where}: ${response.status}; the login at schemaRegistry.credentials.writerPath may not set rules or register schemas (it needs Apicurio's sr-developer or sr-admin role)`,
        );
    }
    if (!response.ok) throw new Error(`${where}: ${response.status} ${text.slice(0, 300)}`);
    return text;
}

async function applySubjectRule(inputs: SubjectRuleInputs): Promise<void> {
    const request = putCompatibilityRequest(inputs.adminUrl, inputs.subject, inputs.compatibility);
    const text = await send(request, inputs.login);
    const answer = JSON.parse(text) as { compatibility?: string };
    if (answer.compatibility !== inputs.compatibility) {
        throw new Error(
            `${request.method} ${request.url}: the registry answered ${text.slice(0, 300)}, not the rule ${inputs.compatibility}`,
        );
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

/** A schema registered under a subject as the provider receives it. */
export interface SubjectSchemaInputs {
    adminUrl: string;
    subject: string;
    /** Avro schema text, compact (plan/schema-registry.ts registeredSchemaText). */
    schema: string;
    login?: { username: string; password: string };
}

/**
 * Registers a schema nobody's converter registers: the DeadLetterRecord of the sinks' state topics, which the ops CLI
 * writes framed with the id registered here. Registering the same schema again answers the same id, so an update is
 * a new version only when the schema changed.
 */
export const subjectSchemaProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: SubjectSchemaInputs) {
        return { id: inputs.subject, outs: { ...withoutSchemaLogin(inputs), schemaId: await registerSchema(inputs) } };
    },
    async diff(_id: string, olds: SubjectSchemaInputs, news: SubjectSchemaInputs) {
        const replaces = olds.subject !== news.subject ? ["subject"] : [];
        const changes = replaces.length > 0 || olds.schema !== news.schema || olds.adminUrl !== news.adminUrl;
        return { changes, replaces, deleteBeforeReplace: false };
    },
    async update(_id: string, _olds: SubjectSchemaInputs, news: SubjectSchemaInputs) {
        return { outs: { ...withoutSchemaLogin(news), schemaId: await registerSchema(news) } };
    },
    async delete() {
        // State records already written name this schema's id; the subject stays for their readers.
    },
};

function withoutSchemaLogin(inputs: SubjectSchemaInputs): SubjectSchemaInputs {
    const { login: _omitted, ...rest } = inputs;
    return rest;
}

async function registerSchema(inputs: SubjectSchemaInputs): Promise<number> {
    const request = registerSchemaRequest(inputs.adminUrl, inputs.subject, inputs.schema);
    const text = await send(request, inputs.login);
    const id = (JSON.parse(text) as { id?: unknown }).id;
    if (typeof id !== "number")
        throw new Error(`${request.method} ${request.url}: the registry answered ${text.slice(0, 300)}, no schema id`);
    return id;
}

interface SubjectSchemaArgs {
    adminUrl: pulumi.Input<string>;
    subject: pulumi.Input<string>;
    schema: pulumi.Input<string>;
    login?: pulumi.Input<{ username: string; password: string }>;
}

/** Type `pulumi-nodejs:dynamic/cdc:SubjectSchema`. */
export class SubjectSchema extends pulumi.dynamic.Resource {
    declare readonly schemaId: pulumi.Output<number>;

    constructor(name: string, args: SubjectSchemaArgs, opts?: pulumi.CustomResourceOptions) {
        super(subjectSchemaProvider, name, { ...args, schemaId: undefined }, opts, "cdc", "SubjectSchema");
    }
}

export interface SchemaRegistryRulesArgs {
    spec: StackSpec;
}

/** Every planned subject's rule and the sinks' DeadLetterRecord schema, one resource each; none for JSON stacks. */
export class SchemaRegistryRules extends pulumi.ComponentResource {
    readonly subjects: pulumi.Output<string[]>;
    /** The rule resources: connectors start after them, so a source's first schema is already checked. */
    readonly rules: pulumi.Resource[];
    /** The DeadLetterRecord schema under every sink's `<state topic>-value`, for the ops CLI's state records. */
    readonly deadLetterSchemas: SubjectSchema[];

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
        const deadLetterSchema = deadLetterSchemaText();
        this.deadLetterSchemas = plannedDeadLetterSubjects(spec).map(
            (d) =>
                new SubjectSchema(
                    `${name}-${d.subject}`,
                    { adminUrl: registry!.adminUrl, subject: d.subject, schema: deadLetterSchema, ...(login ? { login } : {}) },
                    { parent: this, additionalSecretOutputs: ["login"] },
                ),
        );
        this.subjects = pulumi.output(plannedSubjectRules(spec).map((r) => r.subject));
        this.registerOutputs({ subjects: this.subjects });
    }
}
