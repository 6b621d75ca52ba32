/**
 * The parsed stack spec a program renders: config's resolution and rules, then the rules that are checked on the
 * plan (names that collide, database access, network reach). Every issue of both is reported in one error.
 */
import { ConfigError } from "../config/errors";
import { ParseResult, resolveStackSpec } from "../config/resolve";
import { checkAccessRules } from "./access-rules";
import { checkDashboardRows } from "./dashboards";
import { checkLakehouseObjectNames, checkTopicNames } from "./name-collisions";
import { checkNetworkRules } from "./network-rules";

export function parseStackSpec(raw: unknown): ParseResult {
    const { spec, warnings, issues } = resolveStackSpec(raw);
    checkTopicNames(spec, issues);
    checkAccessRules(spec, issues, warnings);
    checkLakehouseObjectNames(spec, issues);
    checkDashboardRows(spec, issues);
    checkNetworkRules(spec, issues, warnings);
    if (issues.length > 0) throw new ConfigError(issues);
    return { spec, warnings };
}
