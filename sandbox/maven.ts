import { spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

export interface Coordinates {
    groupId: string;
    artifactId: string;
    version: string;
    /** Packaging and classifier of a file other than the main jar (`tar.gz`, `all`). */
    type?: string;
    classifier?: string;
    /** Transitive dependencies left out (`*` for every artifact of a group), e.g. what a runtime already provides. */
    exclusions?: readonly { groupId: string; artifactId: string }[];
}

/** Pinned so a resolution is reproducible whatever the local Maven defaults to. */
const DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1";

const xmlEscape = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A throwaway `pom` project whose only purpose is to declare `dependencies` for copy-dependencies. */
export function renderPom(project: Coordinates, dependencies: readonly Coordinates[]): string {
    const tag = (name: string, value: string) => `<${name}>${xmlEscape(value)}</${name}>`;
    const exclusions = (d: Coordinates) =>
        d.exclusions?.length
            ? `<exclusions>${d.exclusions.map((e) => `<exclusion>${tag("groupId", e.groupId)}${tag("artifactId", e.artifactId)}</exclusion>`).join("")}</exclusions>`
            : "";
    const deps = dependencies
        .map(
            (d) =>
                `    <dependency>${tag("groupId", d.groupId)}${tag("artifactId", d.artifactId)}` +
                `${tag("version", d.version)}${exclusions(d)}</dependency>`,
        )
        .join("\n");
    return [
        `<?xml version="1.0" encoding="UTF-8"?>`,
        `<project xmlns="http://maven.apache.org/POM/4.0.0">`,
        `  <modelVersion>4.0.0</modelVersion>`,
        `  ${tag("groupId", project.groupId)}${tag("artifactId", project.artifactId)}${tag("version", project.version)}`,
        `  <packaging>pom</packaging>`,
        `  <dependencies>`,
        deps,
        `  </dependencies>`,
        `</project>`,
        ``,
    ].join("\n");
}

interface ResolveRequest {
    /** Folder holding the pom and the resolution stamp. */
    workDir: string;
    /** Folder that receives the jars; replaced as a whole so it never holds a half-resolved set. */
    outputDir: string;
    pom: string;
    log?: (line: string) => void;
}

interface ResolveResult {
    outputDir: string;
    jars: string[];
    cached: boolean;
}

const STAMP = ".resolved";

/**
 * Runs `mvn dependency:copy-dependencies` (runtime scope: `provided` and `test` dependencies stay out)
 * unless the output folder was already resolved from the very same pom.
 */
export async function resolveDependencies(req: ResolveRequest): Promise<ResolveResult> {
    const fingerprint = createHash("sha256").update(req.pom).digest("hex");
    const stampFile = path.join(req.outputDir, STAMP);
    if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, "utf8") === fingerprint) {
        return { outputDir: req.outputDir, jars: listJars(req.outputDir), cached: true };
    }

    fs.mkdirSync(req.workDir, { recursive: true });
    const pomFile = path.join(req.workDir, "pom.xml");
    fs.writeFileSync(pomFile, req.pom);
    const staging = `${req.outputDir}.partial-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });

    const args = [
        "-B",
        "-q",
        "-f",
        pomFile,
        `${DEPENDENCY_PLUGIN}:copy-dependencies`,
        "-DincludeScope=runtime",
        `-DoutputDirectory=${staging}`,
        // Maven's default only warns when a download differs from the `.sha1` Central publishes.
        "--strict-checksums",
    ];
    req.log?.(`mvn ${args.slice(4).join(" ")}  (pom: ${pomFile})`);
    await runMaven(args, req.workDir);

    fs.writeFileSync(path.join(staging, STAMP), fingerprint);
    fs.rmSync(req.outputDir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(req.outputDir), { recursive: true });
    fs.renameSync(staging, req.outputDir);
    return { outputDir: req.outputDir, jars: listJars(req.outputDir), cached: false };
}

/**
 * Copies one artifact, without its dependencies, into `outputDir` (Maven's checksum checks as above);
 * Maven keeps it in ~/.m2, so a CI cache of that folder makes the next copy local.
 */
export async function copyArtifact(artifact: Coordinates, outputDir: string, log?: (line: string) => void): Promise<string> {
    const type = artifact.type ?? "jar";
    const coordinates = [
        artifact.groupId,
        artifact.artifactId,
        artifact.version,
        type,
        ...(artifact.classifier ? [artifact.classifier] : []),
    ].join(":");
    const args = [
        "-B",
        "-q",
        `${DEPENDENCY_PLUGIN}:copy`,
        `-Dartifact=${coordinates}`,
        `-DoutputDirectory=${outputDir}`,
        "--strict-checksums",
    ];
    log?.(`mvn ${args.slice(2).join(" ")}`);
    fs.mkdirSync(outputDir, { recursive: true });
    await runMaven(args, outputDir);
    return path.join(
        outputDir,
        `${artifact.artifactId}-${artifact.version}${artifact.classifier ? `-${artifact.classifier}` : ""}.${type}`,
    );
}

function listJars(dir: string): string[] {
    return fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".jar"))
        .sort();
}

function runMaven(args: string[], cwd: string): Promise<void> {
    return new Promise((resolve, reject) => {
        const child = spawn("mvn", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        const keep = (chunk: Buffer) => {
            output = (output + chunk.toString()).slice(-20_000);
        };
        child.stdout.on("data", keep);
        child.stderr.on("data", keep);
        child.on("error", (err) =>
            reject(new Error(`cannot run mvn (${err.message}); install Maven: scripts/setup.sh or apt-get install maven`)),
        );
        child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`mvn exited with ${code}:\n${output.trim()}`))));
    });
}
