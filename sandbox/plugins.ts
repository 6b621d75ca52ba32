/**
 * Connect's `plugin.path` for the sandbox: every catalog connector installed from Debezium's plugin
 * archive, the same SHA-512-pinned file Strimzi builds into the production Connect image.
 */
import { execFile } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { CONNECTOR_PLUGINS, ConnectorPlugin, PluginArchive, PluginId } from "../connectors/catalog";
import { CACHE_DIR } from "./paths";

const run = promisify(execFile);

/** Connect's `plugin.path`: one sub-folder per connector, each holding the connector and its dependencies. */
export const PLUGIN_PATH = path.join(CACHE_DIR, "plugins");
const ARCHIVE_DIR = path.join(CACHE_DIR, "plugin-archives");
/** Written last into an installed folder: the SHA-512 of the archive it came from. */
const STAMP = ".archive-sha512";

interface PluginDirs {
    archives: string;
    plugins: string;
}

const DEFAULT_DIRS: PluginDirs = { archives: ARCHIVE_DIR, plugins: PLUGIN_PATH };

interface ResolvedPlugin {
    id: PluginId;
    connectorClass: string;
    dir: string;
    jars: string[];
    version: string;
}

interface SkippedPlugin {
    id: PluginId;
    reason: string;
}

type Installable = ConnectorPlugin & { archive: PluginArchive };

/** Plugins with an archive on Maven Central, the only repository this sandbox can reach. */
export function partitionByReachability(plugins: readonly ConnectorPlugin[]): { reachable: Installable[]; skipped: SkippedPlugin[] } {
    const reachable: Installable[] = [];
    const skipped: SkippedPlugin[] = [];
    for (const plugin of plugins) {
        const external = plugin.artifacts.find((a) => a.repository !== undefined);
        if (plugin.archive) reachable.push(plugin as Installable);
        else if (external)
            skipped.push({
                id: plugin.id,
                reason: `${external.groupId}:${external.artifactId} is served only from ${external.repository}, not Maven Central`,
            });
        else skipped.push({ id: plugin.id, reason: "the catalog names no plugin archive for it" });
    }
    return { reachable, skipped };
}

async function sha512Of(file: string): Promise<string> {
    const hash = createHash("sha512");
    for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Uint8Array);
    return hash.digest("hex");
}

/** The archive in the local cache, downloaded first when missing or different from the pinned checksum. */
async function fetchArchive(archive: PluginArchive, dir: string, log: (line: string) => void): Promise<string> {
    const file = path.join(dir, path.basename(new URL(archive.url).pathname));
    if (fs.existsSync(file) && (await sha512Of(file)) === archive.sha512) return file;
    fs.mkdirSync(dir, { recursive: true });
    log(`downloading ${archive.url}`);
    const response = await fetch(archive.url);
    if (!response.ok || !response.body) throw new Error(`${archive.url}: HTTP ${response.status}`);
    const partial = `${file}.partial-${process.pid}`;
    await fs.promises.writeFile(partial, response.body as unknown as AsyncIterable<Uint8Array>);
    const actual = await sha512Of(partial);
    if (actual !== archive.sha512) {
        fs.rmSync(partial, { force: true });
        throw new Error(`${archive.url}: SHA-512 ${actual} differs from the catalog's ${archive.sha512}; refusing to install it`);
    }
    fs.renameSync(partial, file);
    return file;
}

const listJars = (dir: string) =>
    fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".jar"))
        .sort();

/** Installs one plugin folder from its archive (its single top-level folder stripped), unless already installed. */
async function installArchive(
    plugin: Installable,
    dirs: PluginDirs,
    log: (line: string) => void,
): Promise<{ dir: string; cached: boolean }> {
    const dir = path.join(dirs.plugins, plugin.id);
    const stamp = path.join(dir, STAMP);
    if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === plugin.archive.sha512) return { dir, cached: true };
    const file = await fetchArchive(plugin.archive, dirs.archives, log);
    const staging = `${dir}.partial-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    await run("tar", ["-xzf", file, "-C", staging, "--strip-components=1"]);
    fs.writeFileSync(path.join(staging, STAMP), plugin.archive.sha512);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(staging, dir);
    return { dir, cached: false };
}

export async function resolvePlugins(
    log: (line: string) => void = () => undefined,
    plugins: readonly ConnectorPlugin[] = Object.values(CONNECTOR_PLUGINS),
    dirs: PluginDirs = DEFAULT_DIRS,
): Promise<{ resolved: ResolvedPlugin[]; skipped: SkippedPlugin[] }> {
    const { reachable, skipped } = partitionByReachability(plugins);
    const resolved: ResolvedPlugin[] = [];
    for (const plugin of reachable) {
        const started = Date.now();
        const { dir, cached } = await installArchive(plugin, dirs, (line) => log(`${plugin.id}: ${line}`));
        const jars = listJars(dir);
        log(`${plugin.id}: ${jars.length} jars ${cached ? "(cached)" : `installed in ${((Date.now() - started) / 1000).toFixed(1)}s`}`);
        resolved.push({ id: plugin.id, connectorClass: plugin.connectorClass, dir, jars, version: plugin.artifacts[0].version });
    }
    return { resolved, skipped };
}
