import { expect } from "chai";
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { CONNECTOR_PLUGINS, ConnectorPlugin } from "../../connectors/catalog";
import { renderPom } from "../../sandbox/maven";
import { partitionByReachability, resolvePlugins } from "../../sandbox/plugins";

describe("sandbox plugin installation", () => {
    it("declares every artifact as a dependency of the throwaway pom (the Kafka runtime's resolution)", () => {
        const pom = renderPom({ groupId: "g", artifactId: "a", version: "1" }, [
            { groupId: "org.apache.kafka", artifactId: "connect-runtime", version: "4.3.1" },
            { groupId: "x&y", artifactId: "<z>", version: "2" },
        ]);
        expect(pom).to.contain(
            "<dependency><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId><version>4.3.1</version></dependency>",
        );
        expect(pom).to.contain("<groupId>x&amp;y</groupId><artifactId>&lt;z&gt;</artifactId>");
        expect(pom).to.contain("<packaging>pom</packaging>");
    });

    it("renders a dependency's exclusions, so what the Connect worker provides stays out of a plugin folder", () => {
        const pom = renderPom({ groupId: "g", artifactId: "a", version: "1" }, [
            { groupId: "io.apicurio", artifactId: "c", version: "2", exclusions: [{ groupId: "org.apache.kafka", artifactId: "*" }] },
        ]);
        expect(pom).to.contain(
            "<version>2</version><exclusions><exclusion><groupId>org.apache.kafka</groupId><artifactId>*</artifactId></exclusion></exclusions></dependency>",
        );
    });

    it("skips plugins served from a repository other than Maven Central, saying which", () => {
        const { reachable, skipped } = partitionByReachability(Object.values(CONNECTOR_PLUGINS));
        expect(skipped.map((s) => s.id)).to.deep.equal(["confluent-jdbc-sink"]);
        expect(skipped[0].reason).to.match(/packages\.confluent\.io/);
        expect(reachable.map((p) => p.id)).to.include.members([
            "debezium-postgres",
            "debezium-mysql",
            "debezium-mariadb",
            "debezium-sqlserver",
            "debezium-jdbc-sink",
        ]);
    });

    it("installs one folder per connector from Debezium's archive: the connector jar, and no Jackson for the worker's to clash with", async function () {
        this.timeout(10 * 60_000);
        const { resolved } = await resolvePlugins();
        for (const plugin of resolved) {
            const [artifact] = CONNECTOR_PLUGINS[plugin.id].artifacts;
            expect(plugin.jars, plugin.id).to.include(`${artifact.artifactId}-${artifact.version}.jar`);
            expect(
                plugin.jars.filter((j) => /^jackson-[a-z-]+-\d/.test(j)),
                plugin.id,
            ).to.be.empty;
            expect(fs.existsSync(path.join(plugin.dir, plugin.jars[0])), plugin.id).to.equal(true);
        }
    });

    describe("with a local archive server", () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-plugins-"));
        let server: http.Server;
        let archive: Buffer;
        let base = "";
        before(async () => {
            fs.mkdirSync(path.join(tmp, "src", "demo-connector"), { recursive: true });
            fs.writeFileSync(path.join(tmp, "src", "demo-connector", "demo-connector-1.0.jar"), "not really a jar");
            execFileSync("tar", ["-czf", path.join(tmp, "demo.tar.gz"), "-C", path.join(tmp, "src"), "demo-connector"]);
            archive = fs.readFileSync(path.join(tmp, "demo.tar.gz"));
            server = http.createServer((_req, res) => res.end(archive));
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
            base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        });
        after(() => {
            server.close();
            fs.rmSync(tmp, { recursive: true, force: true });
        });
        const plugin = (sha512: string, file: string): ConnectorPlugin => ({
            id: "debezium-postgres",
            connectorClass: "demo.Connector",
            kind: "source",
            license: "test",
            artifacts: [{ groupId: "demo", artifactId: "demo-connector", version: "1.0" }],
            archive: { url: `${base}/${file}`, sha512 },
        });

        it("refuses an archive whose SHA-512 is not the pinned one, and installs nothing", async () => {
            const dirs = { archives: path.join(tmp, "a1"), plugins: path.join(tmp, "p1") };
            const error = await resolvePlugins(() => undefined, [plugin("0".repeat(128), "tampered.tar.gz")], dirs).then(
                () => null,
                (e: Error) => e,
            );
            expect(error?.message).to.match(
                /tampered\.tar\.gz: SHA-512 [0-9a-f]{128} differs from the catalog's 0{128}; refusing to install it/,
            );
            expect(fs.existsSync(path.join(dirs.plugins, "debezium-postgres"))).to.equal(false);
            expect(fs.readdirSync(dirs.archives)).to.deep.equal([]);
        });

        it("installs a verified archive without its top folder, and reuses it on the next run", async () => {
            const sha = createHash("sha512").update(new Uint8Array(archive)).digest("hex");
            const dirs = { archives: path.join(tmp, "a2"), plugins: path.join(tmp, "p2") };
            const lines: string[] = [];
            const first = await resolvePlugins((l) => lines.push(l), [plugin(sha, "demo.tar.gz")], dirs);
            expect(first.resolved[0].jars).to.deep.equal(["demo-connector-1.0.jar"]);
            expect(first.resolved[0].dir).to.equal(path.join(dirs.plugins, "debezium-postgres"));
            await resolvePlugins((l) => lines.push(l), [plugin(sha, "demo.tar.gz")], dirs);
            expect(lines.filter((l) => l.includes("downloading"))).to.have.length(1);
            expect(lines[lines.length - 1]).to.match(/1 jars \(cached\)$/);
        });
    });
});
