import { expect } from "chai";
import type { ConnectorStatus, State } from "../../ops/connect-client";
import { ConnectorSupervisor } from "../../sandbox/supervisor";

const MIN = 60_000;

/** A Connect REST API stand-in: connector states the test sets, and the restart requests it receives. */
class FakeConnect {
    states = new Map<string, { connector: State; tasks: State[] }>();
    restarted: string[] = [];
    down = false;
    failRestarts = false;

    async statuses(): Promise<ConnectorStatus[]> {
        if (this.down) throw new Error("Kafka Connect GET /connectors?expand=status: connect ECONNREFUSED");
        return [...this.states].map(([name, s]) => ({
            name,
            type: "sink",
            connector: { state: s.connector, worker_id: "w" },
            tasks: s.tasks.map((state, id) => ({ id, state, worker_id: "w" })),
        }));
    }

    async restart(name: string): Promise<void> {
        this.restarted.push(name);
        if (this.failRestarts) throw new Error("Kafka Connect POST: 500");
    }
}

describe("sandbox connector supervisor (Strimzi's autoRestart through the REST API)", () => {
    let connect: FakeConnect;
    let now: number;
    let supervisor: ConnectorSupervisor;

    beforeEach(() => {
        connect = new FakeConnect();
        now = 0;
        supervisor = new ConnectorSupervisor({ client: connect, now: () => now });
    });

    it("restarts a connector with a FAILED task at once and leaves running ones alone", async () => {
        connect.states.set("sink", { connector: "RUNNING", tasks: ["FAILED"] });
        connect.states.set("source", { connector: "RUNNING", tasks: ["RUNNING"] });
        await supervisor.reconcile();
        expect(connect.restarted).to.deep.equal(["sink"]);
        expect(supervisor.restarts).to.deep.equal([{ connector: "sink", at: 0, count: 1 }]);
    });

    it("restarts a FAILED connector, then waits out the back-off while it stays failed", async () => {
        connect.states.set("source", { connector: "FAILED", tasks: [] });
        for (const minute of [0, 1, 2, 3, 7, 8]) {
            now = minute * MIN;
            await supervisor.reconcile();
        }
        expect(supervisor.restarts.map((r) => [r.at / MIN, r.count])).to.deep.equal([
            [0, 1],
            [2, 2],
            [8, 3],
        ]);
    });

    it("starts counting from zero again once a connector stayed healthy past the back-off", async () => {
        connect.states.set("sink", { connector: "RUNNING", tasks: ["FAILED"] });
        await supervisor.reconcile();
        connect.states.set("sink", { connector: "RUNNING", tasks: ["RUNNING"] });
        now = 3 * MIN;
        await supervisor.reconcile();
        connect.states.set("sink", { connector: "RUNNING", tasks: ["FAILED"] });
        now = 3 * MIN + 1;
        await supervisor.reconcile();
        expect(supervisor.restarts.map((r) => r.count)).to.deep.equal([1, 1]);
    });

    it("counts a restart request that failed, and waits while Connect does not answer", async () => {
        connect.states.set("sink", { connector: "FAILED", tasks: ["FAILED"] });
        connect.failRestarts = true;
        await supervisor.reconcile();
        expect(supervisor.restarts).to.have.length(1);
        expect(supervisor.restarts[0].error).to.contain("500");
        connect.down = true;
        now = 10 * MIN;
        await supervisor.reconcile();
        expect(connect.restarted).to.deep.equal(["sink"]);
    });

    it("stops: no pass runs after stop() resolved", async () => {
        connect.states.set("sink", { connector: "FAILED", tasks: [] });
        const live = new ConnectorSupervisor({ client: connect, intervalMs: 5 });
        live.start();
        await new Promise((r) => setTimeout(r, 30));
        await live.stop();
        const seen = connect.restarted.length;
        await new Promise((r) => setTimeout(r, 30));
        expect(seen).to.be.above(0);
        expect(connect.restarted.length).to.equal(seen);
    });
});
