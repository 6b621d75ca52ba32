/**
 * `validateResourceOfType` needs a resource class with a static type token; generic CustomResources have
 * none and the pack does not depend on provider SDKs. `forTypes` does the same job on `args.type`: it
 * reports the policy not applicable to other types, as the SDK helper does.
 */
import type { ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";

type TypedValidation = (props: Record<string, unknown>, args: ResourceValidationArgs, report: ReportViolation) => void;

export function forTypes(types: readonly string[], validate: TypedValidation): ResourceValidation {
    return (args, report) => {
        if (!types.includes(args.type)) {
            args.notApplicable(`applies to ${types.join(", ")}`);
        }
        validate(args.props, args, report);
    };
}

/**
 * Reads `object[key]` but returns `undefined` instead of throwing when the value is unknown during
 * preview. Only for values that are Outputs by design (e.g. the `strimzi.io/cluster` label, taken from
 * the KafkaConnect's metadata.name): the policy still checks what it can instead of being downgraded
 * to advisory as a whole. Everything else lets the SDK's unknown-value error propagate.
 */
export function readIfKnown(object: Record<string, unknown>, key: string): { known: boolean; value: unknown } {
    try {
        return { known: true, value: object[key] };
    } catch (e) {
        if (isUnknownValueError(e)) return { known: false, value: undefined };
        throw e;
    }
}

/** Matches @pulumi/policy's UnknownValueError without `instanceof`, which fails across package copies. */
function isUnknownValueError(e: unknown): boolean {
    return e instanceof Error && e.constructor.name === "UnknownValueError";
}
