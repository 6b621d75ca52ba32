import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { CONNECTOR_PLUGINS } from "../../connectors/catalog";
import { renderPom } from "../../sandbox/maven";
import { partitionByReachability, resolvePlugins } from "../../sandbox/plugins";

describe("sandbox plugin resolution", () => {
    it("declares every artifact of a plugin as a dependency of the throwaway pom", () => {
        const pom = renderPom({ groupId: "g", artifactId: "a", version: "1" }, [
            { groupId: "io.debezium", artifactId: "debezium-connector-postgres", version: "3.6.1.Final" },
            { groupId: "x&y", artifactId: "<z>", version: "2" },
        ]);
        expect(pom).to.contain(
            "<dependency><groupId>io.debezium</groupId><artifactId>debezium-connector-postgres</artifactId><version>3.6.1.Final</version></dependency>",
        );
        expect(pom).to.contain("<groupId>x&amp;y</groupId><artifactId>&lt;z&gt;</artifactId>");
        expect(pom).to.contain("<packaging>pom</packaging>");
    });

    it("skips plugins served from a repository other than Maven Central, saying which", () => {
        const { reachable, skipped } = partitionByReachability(Object.values(CONNECTOR_PLUGINS));
        expect(skipped.map((s) => s.id)).to.deep.equal(["confluent-jdbc-sink"]);
        expect(skipped[0].reason).to.match(/packages\.confluent\.io/);
        expect(reachable.map((p) => p.id)).to.include.members(["debezium-postgres", "debezium-mysql", "debezium-sqlserver", "debezium-jdbc-sink"]);
    });

    it("resolves one plugin folder per connector, holding the connector jar but none of the jars the worker provides (Kafka, Jackson)", async function () {
        this.timeout(10 * 60_000);
        const { resolved } = await resolvePlugins();
        for (const plugin of resolved) {
            const [artifact] = CONNECTOR_PLUGINS[plugin.id].artifacts;
            expect(plugin.jars, plugin.id).to.include(`${artifact.artifactId}-${artifact.version}.jar`);
            expect(plugin.jars.filter((j) => /^(kafka-clients|connect-api|connect-runtime|connect-transforms|jackson-[a-z-]+)-\d/.test(j)), plugin.id).to.be.empty;
            expect(fs.existsSync(path.join(plugin.dir, plugin.jars[0])), plugin.id).to.equal(true);
        }
    });
});
