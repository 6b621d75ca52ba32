/**
 * The Apicurio Avro converter as a plugin folder in the sandbox Connect's `plugin.path`:
 * `io.apicurio:apicurio-registry-utils-converter` 2.6.13.Final with its runtime dependencies from Maven
 * Central (the 3.x converter jar is not published there). Kafka's own jars are left out: the worker
 * provides them, and a second copy in the plugin's class loader would shadow the worker's.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { Coordinates, renderPom, resolveDependencies } from "./maven";
import { CACHE_DIR } from "./paths";
import { PLUGIN_PATH } from "./plugins";

const run = promisify(execFile);

export const AVRO_CONVERTER = {
    groupId: "io.apicurio",
    artifactId: "apicurio-registry-utils-converter",
    version: "2.6.13.Final",
    exclusions: [
        { groupId: "org.apache.kafka", artifactId: "*" },
        { groupId: "org.slf4j", artifactId: "*" },
    ],
} as const satisfies Coordinates;

export const AVRO_CONVERTER_CLASS = "io.apicurio.registry.utils.converter.AvroConverter";

export const AVRO_CONVERTER_DIR = path.join(PLUGIN_PATH, "apicurio-avro-converter");

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
        AVRO_CONVERTER_CLASS,
    ]);
    fs.renameSync(partial, jar);
}

/** Resolves the converter's plugin folder (cached) and returns it. */
export async function resolveAvroConverter(log: (line: string) => void = () => undefined): Promise<string> {
    const label = `avro converter ${AVRO_CONVERTER.version}`;
    const started = Date.now();
    const result = await resolveDependencies({
        workDir: path.join(CACHE_DIR, "maven", `apicurio-converter-${AVRO_CONVERTER.version}`),
        outputDir: AVRO_CONVERTER_DIR,
        pom: renderPom({ groupId: "cdc-pipeline.sandbox", artifactId: "avro-converter", version: AVRO_CONVERTER.version }, [
            AVRO_CONVERTER,
        ]),
        log: (line) => log(`${label}: ${line}`),
    });
    await writeManifestJar(AVRO_CONVERTER_DIR);
    log(
        `${label}: ${result.jars.length} jars ${result.cached ? "(cached)" : `resolved in ${((Date.now() - started) / 1000).toFixed(1)}s`}`,
    );
    return AVRO_CONVERTER_DIR;
}
