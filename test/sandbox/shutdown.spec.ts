import { expect } from "chai";
import { stopAll, track } from "../../sandbox/shutdown";

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
});
