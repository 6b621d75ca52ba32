import { expect } from "chai";
import { nextResourceRank, stopAll, stopFrom, track } from "../../sandbox/shutdown";

describe("sandbox shutdown order", () => {
    const stopped: string[] = [];
    const resource = (name: string, key?: string) => ({ name, key, stop: async () => void stopped.push(name), killNow: () => undefined });

    beforeEach(() => {
        stopped.length = 0;
    });

    it("stops newest first, and a process restarted in between keeps its place (Kafka still stops after Connect)", async () => {
        track(resource("database"));
        const untrackKafka = track(resource("kafka", "run/kafka"));
        track(resource("connect", "run/connect"));
        untrackKafka();
        track(resource("kafka", "run/kafka"));
        await stopAll();
        expect(stopped).to.deep.equal(["connect", "kafka", "database"]);
    });

    it("starts a new order once everything was stopped, so a second sandbox of the same name stops in its own order", async () => {
        track(resource("kafka", "run/kafka"));
        track(resource("database"));
        await stopAll();
        track(resource("database"));
        track(resource("kafka", "run/kafka"));
        await stopAll();
        expect(stopped).to.deep.equal(["database", "kafka", "kafka", "database"]);
    });

    it("stops one sandbox's processes, newest first, and leaves those of a sandbox started before it running", async () => {
        track(resource("shared kafka", "e2e/kafka"));
        track(resource("shared connect", "e2e/connect"));
        const mark = nextResourceRank();
        track(resource("own kafka", "tracing/kafka"));
        track(resource("own jaeger"));
        track(resource("own connect", "tracing/connect"));
        await stopFrom(mark);
        expect(stopped).to.deep.equal(["own connect", "own jaeger", "own kafka"]);
        await stopAll();
        expect(stopped.slice(3)).to.deep.equal(["shared connect", "shared kafka"]);
    });
});
