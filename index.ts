import { buildPlatform } from "./components/platform";
import { loadStackSecrets, loadStackSpec } from "./config/load";
import { parseStackSpec } from "./plan/stack-spec";

const { spec } = loadStackSpec(parseStackSpec);
const platform = buildPlatform(spec, loadStackSecrets(spec));

export const environment = spec.environment;
export const connectClusterName = platform.connectClusterName;
export const connectRestUrl = platform.connectRestUrl;
export const topics = platform.topics;
export const connectors = platform.connectors;
export const vaultPolicies = platform.vaultPolicies;
export const vaultAuthRoles = platform.vaultAuthRoles;
export const vaultSecretPaths = platform.vaultSecretPaths;
export const syncedSecrets = platform.syncedSecrets;
export const reconcilerCronJobs = platform.reconcilerCronJobs;
export const alertRules = platform.alertRules;
export const lakehouseWriters = platform.lakehouseWriters;
