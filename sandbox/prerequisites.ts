/** What the sandbox needs on the machine, and the command that installs what is missing. */
import { execFileSync } from "child_process";
import { existsSync, readdirSync } from "fs";

function onPath(command: string): boolean {
    try {
        execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
}

const postgresInstalled = () =>
    existsSync("/usr/lib/postgresql") && readdirSync("/usr/lib/postgresql").some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
const mariaDbInstalled = () => ["/usr/sbin/mariadbd", "/usr/bin/mariadbd"].some(existsSync);

/** Missing pieces as Debian package names; empty when everything is there. */
export function missingPackages(): string[] {
    const missing: string[] = [];
    if (!onPath("java")) missing.push("openjdk-17-jdk-headless");
    if (!onPath("mvn")) missing.push("maven");
    if (!postgresInstalled()) missing.push("postgresql");
    if (!mariaDbInstalled()) missing.push("mariadb-server");
    return missing;
}

export function installHint(missing: readonly string[]): string {
    return `missing: ${missing.join(", ")}. Install them with: sudo scripts/setup.sh (or: sudo apt-get install -y ${missing.join(" ")})`;
}
