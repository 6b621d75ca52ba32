import { buildPlatform } from "./components/platform";
import { loadStackSpec } from "./config/load";

const { spec } = loadStackSpec();
const platform = buildPlatform(spec);

export const environment = spec.environment;
export const connectClusterName = platform.connectClusterName;
export const connectRestUrl = platform.connectRestUrl;
export const topics = platform.topics;
export const connectors = platform.connectors;
