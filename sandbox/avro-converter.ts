/**
 * The stack's Avro converter (connectors/converters.ts AVRO_CONVERTER) as a plugin folder in the sandbox Connect's
 * `plugin.path`, with its runtime dependencies from Maven Central. Kafka's own jars are left out: the worker
 * provides them, and a second copy in the plugin's class loader would serve the plugin's classes instead.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { AVRO_CONVERTER } from "../connectors/converters";
import { Coordinates, renderPom, resolveDependencies } from "./maven";
import { CACHE_DIR } from "./paths";
import { PLUGIN_PATH } from "./plugins";

const run = promisify(execFile);

/** The stack's converter, its Kafka and logging jars left to the worker. */
const CONVERTER_DEPENDENCY: Coordinates = {
    ...AVRO_CONVERTER.artifact,
    exclusions: [
        { groupId: "org.apache.kafka", artifactId: "*" },
        { groupId: "org.slf4j", artifactId: "*" },
    ],
};

export const AVRO_CONVERTER_DIR = path.join(PLUGIN_PATH, AVRO_CONVERTER.id);

/**
 * The converter jar carries no `META-INF/services/org.apache.kafka.connect.storage.Converter`, so a worker
 * with `plugin.discovery=service_load` (the sandbox's, for a fast start) would not see it. This jar holds
 * only that manifest.
 */
const MANIFEST_JAR = "zz-connect-service-manifest.jar";
const CONVERTER_SERVICE = "META-INF/services/org.apache.kafka.connect.storage.Converter";

/** Written with Python's zipfile (python3 is a setup requirement), into a temporary name first. */
async function writeManifestJar(dir: string): Promise<void> {
    const jar = path.join(dir, MANIFEST_JAR);
    if (fs.existsSync(jar)) return;
    const partial = `${jar}.partial-${process.pid}`;
    await run("python3", [
        "-c",
        "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z: z.writestr(sys.argv[2], sys.argv[3] + '\\n')",
        partial,
        CONVERTER_SERVICE,
        AVRO_CONVERTER.converterClass,
    ]);
    fs.renameSync(partial, jar);
}

/** Resolves the converter's plugin folder (cached) and returns it. */
export async function resolveAvroConverter(log: (line: string) => void = () => undefined): Promise<string> {
    const { version } = AVRO_CONVERTER.artifact;
    const label = `avro converter ${version}`;
    const started = Date.now();
    const result = await resolveDependencies({
        workDir: path.join(CACHE_DIR, "maven", `apicurio-converter-${version}`),
        outputDir: AVRO_CONVERTER_DIR,
        pom: renderPom({ groupId: "cdc-pipeline.sandbox", artifactId: "avro-converter", version }, [CONVERTER_DEPENDENCY]),
        log: (line) => log(`${label}: ${line}`),
    });
    await writeManifestJar(AVRO_CONVERTER_DIR);
    log(
        `${label}: ${result.jars.length} jars ${result.cached ? "(cached)" : `resolved in ${((Date.now() - started) / 1000).toFixed(1)}s`}`,
    );
    return AVRO_CONVERTER_DIR;
}
