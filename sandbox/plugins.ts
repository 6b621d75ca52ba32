import * as path from "path";
import { CONNECTOR_PLUGINS, ConnectorPlugin, PluginId } from "../connectors/catalog";
import { renderPom, resolveDependencies } from "./maven";
import { CACHE_DIR } from "./paths";

/** Connect's `plugin.path`: one sub-folder per connector, each holding the connector and its dependencies. */
export const PLUGIN_PATH = path.join(CACHE_DIR, "plugins");
const POM_DIR = path.join(CACHE_DIR, "maven", "plugins");

/**
 * Left out of every plugin folder because the Connect worker provides them, as Debezium's own plugin
 * archives do. Kafka's API jars are `provided` anyway (excluding the group also drops stray transitive
 * copies). Jackson must come from the worker: with a second copy in the plugin folder, ServiceLoader
 * finds the worker's `Jdk8Module` for the plugin's `Module` type, and the JDBC sink's Hibernate fails
 * with "Jdk8Module not a subtype".
 */
const PROVIDED_BY_CONNECT = ["org.apache.kafka", "com.fasterxml.jackson.core", "com.fasterxml.jackson.datatype"];

export interface ResolvedPlugin {
    id: PluginId;
    connectorClass: string;
    dir: string;
    jars: string[];
    version: string;
}

export interface SkippedPlugin {
    id: PluginId;
    reason: string;
}

/** Plugins whose artifacts all live on Maven Central: the only repository this sandbox can reach. */
export function partitionByReachability(plugins: readonly ConnectorPlugin[]): {
    reachable: ConnectorPlugin[];
    skipped: SkippedPlugin[];
} {
    const reachable: ConnectorPlugin[] = [];
    const skipped: SkippedPlugin[] = [];
    for (const plugin of plugins) {
        const external = plugin.artifacts.find((a) => a.repository !== undefined);
        if (external) {
            skipped.push({
                id: plugin.id,
                reason: `${external.groupId}:${external.artifactId} is served only from ${external.repository}, not Maven Central`,
            });
        } else {
            reachable.push(plugin);
        }
    }
    return { reachable, skipped };
}

export function pluginPom(plugin: ConnectorPlugin): string {
    return renderPom({ groupId: "cdc-pipeline.sandbox", artifactId: plugin.id, version: "0" }, plugin.artifacts);
}

export async function resolvePlugins(
    log: (line: string) => void = () => undefined,
    plugins: readonly ConnectorPlugin[] = Object.values(CONNECTOR_PLUGINS),
): Promise<{ resolved: ResolvedPlugin[]; skipped: SkippedPlugin[] }> {
    const { reachable, skipped } = partitionByReachability(plugins);
    const resolved: ResolvedPlugin[] = [];
    for (const plugin of reachable) {
        const started = Date.now();
        const result = await resolveDependencies({
            workDir: path.join(POM_DIR, plugin.id),
            outputDir: path.join(PLUGIN_PATH, plugin.id),
            pom: pluginPom(plugin),
            excludeGroupIds: PROVIDED_BY_CONNECT,
            log: (line) => log(`${plugin.id}: ${line}`),
        });
        log(
            `${plugin.id}: ${result.jars.length} jars ${result.cached ? "(cached)" : `resolved in ${((Date.now() - started) / 1000).toFixed(1)}s`}`,
        );
        resolved.push({
            id: plugin.id,
            connectorClass: plugin.connectorClass,
            dir: result.outputDir,
            jars: result.jars,
            version: plugin.artifacts[0].version,
        });
    }
    return { resolved, skipped };
}
