/**
 * The pack's thresholds come from the `--policy-pack-config` file of one environment. This guard stops a
 * prod stack being checked with the dev file (or the other way round).
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { settings, string } from "../lib/config";
import { STACK } from "../lib/resources";

const environmentSettings = settings<{ environment: string }>({
    environment: string("prod", "The environment whose thresholds this configuration carries (dev.json says dev, prod.json prod)."),
});

export const policyConfigMatchesStack: StackValidationPolicy = {
    name: "policy-config-matches-stack",
    description:
        "The policy pack configuration is the one of the stack's environment (stack tag `environment` or the stack output `environment`).",
    enforcementLevel: "mandatory",
    configSchema: environmentSettings.schema,
    validateStack: (args, report) => {
        const { environment } = environmentSettings.read(args);
        const stack = args.resources.find((r) => r.type === STACK);
        const tagged = args.stackTags.get("environment");
        const exported = stack && typeof stack.props.environment === "string" ? stack.props.environment : undefined;
        const actual = tagged ?? exported;
        if (actual === undefined) args.notApplicable("the stack declares no environment (stack tag or output)");
        if (actual !== environment) {
            report(
                `This is a ${actual} stack (${tagged !== undefined ? "stack tag environment" : "stack output environment"}) but the policy pack runs with the ${environment} configuration, ` +
                    `so its thresholds are wrong for it. Fix: run with --policy-pack-config policies/${actual}.json.`,
                stack?.urn,
            );
        }
    },
};
