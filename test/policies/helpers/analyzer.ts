/**
 * Runs policy objects in-process the way the Pulumi CLI and @pulumi/policy's analyzer server do, so the
 * pack's own policies can be tested against the resources a real program registers:
 *
 * - enforcement level: the policy's entry in the config file (string or `enforcementLevel`), else the
 *   file's `all`, else the policy's own level, else the pack's level; `disabled` skips the policy;
 * - `getConfig()`: the policy's entry without `enforcementLevel`, with the schema's defaults filled in;
 * - props wrapped in the SDK's `unknownCheckingProxy`; touching an unknown value turns into an advisory
 *   "can't run policy ... during preview" diagnostic instead of the policy's own result;
 * - `notApplicable()` throws and is recorded per policy; any other exception fails the test.
 *
 * Resource policies see every resource's inputs; stack policies see every resource with its options,
 * parent and dependencies resolved to resource objects (under mocks, outputs equal inputs).
 */
import type {
    EnforcementLevel,
    PolicyPackConfig,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import * as policySdk from "@pulumi/policy";

// Exported at runtime since @pulumi/policy 1.21.0 but marked @internal, so its .d.ts declares nothing.
const { unknownCheckingProxy, UnknownValueError } = policySdk as unknown as {
    unknownCheckingProxy<T extends object>(value: T): T;
    UnknownValueError: new (...args: never[]) => Error;
};
if (typeof unknownCheckingProxy !== "function" || typeof UnknownValueError !== "function") {
    throw new Error("@pulumi/policy no longer exports unknownCheckingProxy/UnknownValueError; update the policy test analyzer");
}

export interface AnalyzedResource {
    type: string;
    name: string;
    urn: string;
    props: Record<string, any>;
    opts: PolicyResourceOptions;
    parent?: string;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
}

export interface Diagnostic {
    policy: string;
    level: EnforcementLevel;
    message: string;
    /** The resource the violation is about (resource policies: always; stack policies: when given). */
    urn?: string;
    /** Set for the SDK's "can't run during preview" diagnostics. */
    unknown?: boolean;
}

export interface AnalysisResult {
    diagnostics: Diagnostic[];
    /** Policy name → reasons it reported itself not applicable (one per resource for resource policies). */
    notApplicable: Map<string, string[]>;
    /** Policy names that ran to completion on at least one resource without being not applicable. */
    applied: Set<string>;
}

export interface AnalysisOptions {
    config?: PolicyPackConfig;
    stackTags?: Record<string, string>;
    /** The PolicyPack's own enforcementLevel (policies/index.ts passes "mandatory"). */
    packLevel?: EnforcementLevel;
}

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

class NotApplicable extends Error {
    constructor(readonly reason?: string) {
        super(reason ?? "not applicable");
    }
}

const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
};

export function levelOf(policy: AnyPolicy, config: PolicyPackConfig = {}, packLevel: EnforcementLevel = "mandatory"): EnforcementLevel {
    const entry = config[policy.name];
    const own = typeof entry === "string" ? entry : entry?.enforcementLevel;
    return own ?? (config.all as EnforcementLevel | undefined) ?? policy.enforcementLevel ?? packLevel;
}

export function configOf(policy: AnyPolicy, config: PolicyPackConfig = {}): Record<string, unknown> {
    const entry = config[policy.name];
    const values: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
        if (schema.default !== undefined) values[key] = schema.default;
    }
    if (entry !== undefined && typeof entry === "object") {
        const { enforcementLevel: _level, ...rest } = entry;
        Object.assign(values, rest);
    }
    return values;
}

const isStackPolicy = (p: AnyPolicy): p is StackValidationPolicy => typeof (p as StackValidationPolicy).validateStack === "function";

function isTypeOf(type: string, resourceClass: unknown): boolean {
    const token = (resourceClass as { __pulumiType?: string }).__pulumiType;
    if (token) return token === type;
    const isInstance = (resourceClass as { isInstance?: (o: unknown) => boolean }).isInstance;
    return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

function tagsOf(options: AnalysisOptions): ReadonlyMap<string, string> {
    return new Map(Object.entries(options.stackTags ?? {}));
}

export async function analyze(
    policies: readonly AnyPolicy[],
    resources: readonly AnalyzedResource[],
    options: AnalysisOptions = {},
): Promise<AnalysisResult> {
    const result: AnalysisResult = { diagnostics: [], notApplicable: new Map(), applied: new Set() };
    const stackTags = tagsOf(options);
    const markNotApplicable = (policy: string, reason?: string): void => {
        const list = result.notApplicable.get(policy) ?? [];
        list.push(reason ?? "");
        result.notApplicable.set(policy, list);
    };

    for (const policy of policies) {
        const level = levelOf(policy, options.config, options.packLevel);
        if (level === "disabled") continue;
        const reportLevel: EnforcementLevel = level === "remediate" ? "mandatory" : level;
        const getConfig = <T extends object>(): T => configOf(policy, options.config) as T;
        const handle = async (run: () => Promise<void> | void, urn?: string): Promise<void> => {
            try {
                await run();
                result.applied.add(policy.name);
            } catch (e) {
                if (e instanceof NotApplicable) {
                    markNotApplicable(policy.name, e.reason);
                } else if (e instanceof UnknownValueError) {
                    result.diagnostics.push({
                        policy: policy.name,
                        level: "advisory",
                        message: `can't run policy '${policy.name}' during preview: ${e.message}`,
                        urn,
                        unknown: true,
                    });
                } else {
                    throw new Error(`policy ${policy.name} threw on ${urn ?? "the stack"}: ${e instanceof Error ? e.stack : String(e)}`);
                }
            }
        };

        if (isStackPolicy(policy)) {
            const byUrn = new Map<string, PolicyResource>();
            const policyResources: PolicyResource[] = resources.map((r) => {
                const props = unknownCheckingProxy(r.props);
                const resource: PolicyResource = {
                    type: r.type,
                    name: r.name,
                    urn: r.urn,
                    props,
                    opts: r.opts,
                    dependencies: [],
                    propertyDependencies: {},
                    isType: (cls) => isTypeOf(r.type, cls),
                    asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as PolicyResource["asType"],
                };
                byUrn.set(r.urn, resource);
                return resource;
            });
            resources.forEach((r, i) => {
                const resource = policyResources[i];
                if (r.parent && byUrn.has(r.parent)) resource.parent = byUrn.get(r.parent);
                resource.dependencies = r.dependencies.map((u) => byUrn.get(u)).filter((d): d is PolicyResource => d !== undefined);
                for (const [prop, urns] of Object.entries(r.propertyDependencies)) {
                    resource.propertyDependencies[prop] = urns.map((u) => byUrn.get(u)).filter((d): d is PolicyResource => d !== undefined);
                }
            });
            const args: StackValidationArgs = { resources: policyResources, stackTags, getConfig, notApplicable };
            const report: ReportViolation = (message, urn) =>
                result.diagnostics.push({ policy: policy.name, level: reportLevel, message, urn });
            await handle(() => policy.validateStack(args, report));
            continue;
        }

        const validations =
            policy.validateResource === undefined
                ? []
                : Array.isArray(policy.validateResource)
                  ? policy.validateResource
                  : [policy.validateResource];
        for (const r of resources) {
            const props = unknownCheckingProxy(r.props);
            const args: ResourceValidationArgs = {
                type: r.type,
                name: r.name,
                urn: r.urn,
                props,
                opts: r.opts,
                stackTags,
                isType: (cls) => isTypeOf(r.type, cls),
                asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as ResourceValidationArgs["asType"],
                getConfig,
                notApplicable,
            };
            // Resource policies report against the resource being validated, whatever urn they pass.
            const report: ReportViolation = (message) =>
                result.diagnostics.push({ policy: policy.name, level: reportLevel, message, urn: r.urn });
            for (const validation of validations) await handle(() => validation(args, report), r.urn);
        }
    }
    return result;
}
