/**
 * The dead letter lifecycle (ops/dlq-state.ts): every (status, action) pair, a replay's outcome from what the sink
 * committed and dead-lettered, and how stored state and newer dead letters combine.
 */
import { expect } from "chai";
import type { ResolutionStatus } from "../../ops/dlq-record";
import { Action, decide, merged, replayOutcome, settled, withReplaySent, withStatus } from "../../ops/dlq-state";
import { deadLetter } from "../helpers/dead-letter-fixture";

const base = deadLetter({
    original_value: Buffer.from("v"),
    error_timestamp: 1000,
    error_message: "first failure",
    error_stack_trace: "",
    error_stage: "TRANSFORMATION",
});

const replay = (includeIgnored = false): Action => ({ kind: "replay", includeIgnored });

describe("ops: dead letter lifecycle (ops/dlq-state.ts)", () => {
    it("decides every status and action: PENDING moves, RESOLVED never leaves, IGNORED only by an explicit replay", () => {
        const table: [ResolutionStatus, Action, string][] = [
            ["PENDING", { kind: "resolve" }, "apply RESOLVED"],
            ["PENDING", { kind: "ignore" }, "apply IGNORED"],
            ["PENDING", replay(), "apply PENDING"],
            ["RESOLVED", { kind: "resolve" }, "noop"],
            ["RESOLVED", { kind: "ignore" }, "refuse"],
            ["RESOLVED", replay(), "noop"],
            ["RESOLVED", replay(true), "noop"],
            ["IGNORED", { kind: "ignore" }, "noop"],
            ["IGNORED", { kind: "resolve" }, "refuse"],
            ["IGNORED", replay(), "refuse"],
            ["IGNORED", replay(true), "apply PENDING"],
        ];
        for (const [status, action, expected] of table) {
            const d = decide(status, action);
            expect(d.verdict === "apply" ? `apply ${d.next}` : d.verdict, `${status} ${JSON.stringify(action)}`).to.equal(expected);
        }
    });

    it("says why a move is refused and what to do instead", () => {
        const reason = (s: ResolutionStatus, a: Action) => {
            const d = decide(s, a);
            return d.verdict === "refuse" ? d.reason : `not refused: ${d.verdict}`;
        };
        expect(reason("IGNORED", replay())).to.contain("pass --include-ignored");
        expect(reason("IGNORED", { kind: "resolve" })).to.contain("replay it with --include-ignored");
        expect(reason("RESOLVED", { kind: "ignore" })).to.contain("already applied to the target");
    });

    it("a sent replay counts a retry, returns an IGNORED record to PENDING and waits for its outcome", () => {
        const sent = { sent_at: 5000, retry_topic: "dlq-retry-shop-postgres-sink", retry_partition: 0, retry_offset: 7 };
        const once = withReplaySent(base, sent);
        expect(once).to.include({ retry_count: 1, resolution_status: "PENDING" });
        expect(once.last_replay).to.deep.equal({ ...sent, outcome: "IN_FLIGHT" });
        expect(withReplaySent(once, { ...sent, retry_offset: 8 }).retry_count).to.equal(2);
        const unIgnored = withReplaySent(withStatus(base, "IGNORED", 100, "skip"), sent);
        expect(unIgnored).to.include({
            resolution_status: "PENDING",
            status_changed_at: 5000,
            status_note: "replayed after being IGNORED",
        });
    });

    it("a replay is APPLIED once the sink committed past it, DEAD_LETTERED if it failed again, else still IN_FLIGHT", () => {
        const r = { sent_at: 1, retry_topic: "t", retry_partition: 0, retry_offset: 7, outcome: "IN_FLIGHT" as const };
        expect(replayOutcome(r, { committedOffset: undefined, deadLettered: false })).to.equal("IN_FLIGHT");
        expect(replayOutcome(r, { committedOffset: 7, deadLettered: false })).to.equal("IN_FLIGHT");
        expect(replayOutcome(r, { committedOffset: 8, deadLettered: false })).to.equal("APPLIED");
        // Connect commits past a record it dead-lettered too: the dead letter decides.
        expect(replayOutcome(r, { committedOffset: 8, deadLettered: true })).to.equal("DEAD_LETTERED");
        expect(replayOutcome({ ...r, outcome: "APPLIED" }, { committedOffset: undefined, deadLettered: true })).to.equal("APPLIED");
    });

    it("settling an applied replay resolves the record; a failed one leaves it PENDING", () => {
        const inFlight = withReplaySent(base, { sent_at: 1, retry_topic: "t", retry_partition: 0, retry_offset: 7 });
        const applied = settled(inFlight, { committedOffset: 8, deadLettered: false }, 9000);
        expect(applied).to.include({
            resolution_status: "RESOLVED",
            status_changed_at: 9000,
            status_note: "replay t/0/7 applied by the sink",
        });
        expect(applied.last_replay?.outcome).to.equal("APPLIED");
        const failed = settled(inFlight, { committedOffset: 8, deadLettered: true }, 9000);
        expect(failed).to.include({ resolution_status: "PENDING", retry_count: 1 });
        expect(failed.last_replay?.outcome).to.equal("DEAD_LETTERED");
        expect(settled(inFlight, { committedOffset: 7, deadLettered: false }, 9000)).to.equal(inFlight);
    });

    it("merges the stored lifecycle with the newest dead letter's error", () => {
        const stored = { ...withReplaySent(base, { sent_at: 1, retry_topic: "t", retry_partition: 0, retry_offset: 7 }) };
        const newer = { ...base, error_message: "second failure", dlq_offset: 9 };
        const m = merged([base, newer], stored);
        expect(m).to.include({ error_message: "second failure", dlq_offset: 9, retry_count: 1, resolution_status: "PENDING" });
        expect(merged([base], stored)).to.equal(stored);
        expect(merged([], stored)).to.equal(stored);
        expect(merged([base, newer], undefined)).to.equal(newer);
        expect(() => merged([], undefined)).to.throw("needs a dead letter or a stored state");
    });
});
