import { expect } from "chai";
import type { RenderedConnector } from "../../connectors/render";
import { connectJvmFor, connectorsFor, workerConfigFor } from "../../bench/e2e/variants";
import type { ConnectJvmOptions } from "../../plan/connect-jvm";

const connector = (role: "source" | "sink", config: Record<string, string>): RenderedConnector => ({
    name: `x-${role}`,
    pipeline: "x",
    role,
    plugin: role === "source" ? "debezium-postgres" : "debezium-jdbc-sink",
    connectorClass: "C",
    tasksMax: 1,
    state: "running",
    config,
});

describe("e2e benchmark variants", () => {
    const source = connector("source", {
        "max.batch.size": "4096",
        "max.queue.size": "16384",
        "poll.interval.ms": "100",
        "database.hostname": "h",
    });
    const sink = connector("sink", {
        "batch.size": "3000",
        "use.reduction.buffer": "true",
        "connection.pool.max_size": "10",
        "connection.url": "jdbc:postgresql://h/db",
        "insert.mode": "upsert",
    });

    it("runs the stack's rendered configs unchanged as 'tuned'", () => {
        expect(connectorsFor("tuned", [source, sink])).to.deep.equal([source, sink]);
        expect(workerConfigFor("tuned", { "consumer.max.poll.records": "3000" })).to.deep.equal({ "consumer.max.poll.records": "3000" });
    });

    it("drops only the throughput settings for 'defaults', keeping endpoints and semantics", () => {
        const [s, k] = connectorsFor("defaults", [source, sink]);
        expect(s.config).to.deep.equal({ "database.hostname": "h" });
        expect(k.config).to.deep.equal({ "connection.url": "jdbc:postgresql://h/db", "insert.mode": "upsert" });
        expect(workerConfigFor("defaults", { "consumer.max.poll.records": "3000", "key.converter": "J" })).to.deep.equal({
            "key.converter": "J",
        });
    });

    it("adds --set overrides to the tuned configs for 'candidate', each in its scope", () => {
        const set = ["sink.batch.size=5000", "source.poll.interval.ms=50", "worker.consumer.fetch.max.bytes=1=2"];
        const [s, k] = connectorsFor("candidate", [source, sink], set);
        expect(s.config).to.deep.equal({ ...source.config, "poll.interval.ms": "50" });
        expect(k.config).to.deep.equal({ ...sink.config, "batch.size": "5000" });
        expect(workerConfigFor("candidate", { "consumer.max.poll.records": "3000" }, set)).to.deep.equal({
            "consumer.max.poll.records": "3000",
            "consumer.fetch.max.bytes": "1=2",
        });
        expect(connectorsFor("tuned", [source, sink], set)).to.deep.equal([source, sink]);
    });

    const jvm: ConnectJvmOptions = {
        "-Xms": "1536m",
        "-Xmx": "1536m",
        "-XX": { UseG1GC: "true", MaxGCPauseMillis: "200" },
        javaSystemProperties: [{ name: "java.awt.headless", value: "true" }],
    };

    it("runs the worker on the stack's JVM options as 'tuned', on Kafka's performance options and the same heap as 'defaults'", () => {
        expect(connectJvmFor("tuned", jvm, ["jvm.MaxGCPauseMillis=20"])).to.deep.equal(jvm);
        const defaults = connectJvmFor("defaults", jvm);
        expect(defaults["-Xmx"]).to.equal("1536m");
        expect(defaults["-XX"]).to.include({ UseG1GC: "true", MaxGCPauseMillis: "20", InitiatingHeapOccupancyPercent: "35" });
    });

    it("sets heap sizes and -XX options from jvm.* overrides for 'candidate'", () => {
        expect(connectJvmFor("candidate", jvm, ["jvm.Xms=256m", "jvm.MaxGCPauseMillis=20", "sink.batch.size=1"])).to.deep.equal({
            ...jvm,
            "-Xms": "256m",
            "-XX": { UseG1GC: "true", MaxGCPauseMillis: "20" },
        });
    });

    it("names the accepted forms when an override has no scope", () => {
        expect(() => connectorsFor("candidate", [source, sink], ["batch.size=1"])).to.throw(
            "--set batch.size=1: expected <scope>.<key>=<value> with scope source, sink, worker or jvm",
        );
    });
});
