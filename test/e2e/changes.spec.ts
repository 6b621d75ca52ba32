import { expect } from "chai";
import { diffPair, inSync } from "../../sandbox/compare";
import { streamChanges } from "../../sandbox/stream";
import { E2E, e2e, expectInSync, START_TIMEOUT_MS } from "./fixture";

describe("sandbox e2e: changes reach the target", function () {
    this.timeout(10 * 60_000);
    let env: E2E;

    before(async function () {
        this.timeout(START_TIMEOUT_MS);
        env = await e2e();
    });

    it("applies inserts, updates and deletes on all four tables exactly (row by row)", async () => {
        const ops = { insert: 0, update: 0, delete: 0 };
        const tables = new Set<string>();
        await streamChanges(env.stream, env.writers, {
            count: 800,
            ratePerSecond: 0,
            onProgress: (_, change) => {
                ops[change.op]++;
                tables.add(change.table);
            },
        });
        expect(ops.insert).to.be.above(0);
        expect(ops.update).to.be.above(0);
        expect(ops.delete).to.be.above(0);
        expect(tables.size).to.equal(4);
        await expectInSync(env);
        for (const pair of env.pairs) {
            const diff = await diffPair(env.endpoints, pair);
            expect(inSync(diff), pair.target).to.equal(true);
            expect(diff.sourceRows, pair.target).to.be.above(0);
        }
    });

    /**
     * "Mid-stream" means after the sources have committed a streaming offset. Before the first commit
     * (the worker's offset.flush.interval.ms) a restarted Debezium source finds no offset and
     * snapshots again, and a snapshot cannot carry the deletes made meanwhile: see sandbox/README.md.
     */
    it("loses nothing when the Connect worker is killed with SIGKILL mid-stream and restarted", async () => {
        const sources = env.sb.spec.pipelines.map((p) => p.source.connectorName);
        const committedStreamingOffset = async () => {
            for (const name of sources) {
                const offsets = await env.sb.client.offsets(name);
                // Snapshot-time offsets carry a `snapshot` marker; streaming ones (LSN, binlog position) do not.
                if (!offsets.some((o) => o.offset && !("snapshot" in o.offset))) return false;
            }
            return true;
        };
        let killedAt: number | undefined;
        let checking = false;
        const written = await streamChanges(env.stream, env.writers, {
            count: 30_000,
            ratePerSecond: 100,
            onProgress: (n) => {
                if (killedAt !== undefined) return n < killedAt + 500;
                if (!checking && n % 100 === 0) {
                    checking = true;
                    void committedStreamingOffset().then((ready) => {
                        checking = false;
                        if (ready && killedAt === undefined) {
                            killedAt = n;
                            void env.sb.connect.jvm.kill();
                        }
                    });
                }
                return true;
            },
        });
        expect(killedAt, "the sources never committed a streaming offset").to.not.equal(undefined);
        expect(written).to.be.above(killedAt! + 400);
        expect(await env.sb.connect.jvm.exited).to.equal("signal SIGKILL");
        await env.sb.connect.restart();
        for (const name of await env.sb.client.listConnectors()) await env.sb.client.waitForRunning(name, 180_000);
        await expectInSync(env, env.pairs, 240_000);
    });
});
