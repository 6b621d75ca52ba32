/**
 * The resolution lifecycle of a dead letter (seed 000 §6), as pure functions over DeadLetterRecords:
 *
 *   PENDING ──resolve──► RESOLVED          (the operator fixed the row another way, or a replay was applied)
 *   PENDING ──ignore───► IGNORED           (skip the event for good)
 *   PENDING ──replay───► PENDING           (retry_count + 1; RESOLVED by itself once the sink applied it)
 *   IGNORED ──replay --include-ignored──► PENDING   (an explicit change of mind)
 *
 * RESOLVED is final: nothing moves a record out of it (a replay or resolve of a RESOLVED record changes nothing
 * and sends nothing). Every other move is refused with the reason and what to do instead.
 */
import type { DeadLetterRecord, Replay, ReplayOutcome, ResolutionStatus } from "./dlq-record";

export type Action = { kind: "replay"; includeIgnored: boolean } | { kind: "resolve" } | { kind: "ignore" };

export type Decision =
    /** Carry it out: `next` is the status afterwards. */
    | { verdict: "apply"; next: ResolutionStatus }
    /** Already where the action leads: nothing to write, nothing to send. */
    | { verdict: "noop"; reason: string }
    | { verdict: "refuse"; reason: string };

export function decide(status: ResolutionStatus, action: Action): Decision {
    switch (action.kind) {
        case "resolve":
            if (status === "PENDING") return { verdict: "apply", next: "RESOLVED" };
            if (status === "RESOLVED") return { verdict: "noop", reason: "already RESOLVED" };
            return {
                verdict: "refuse",
                reason: "IGNORED → RESOLVED is not a transition: the event was skipped, not applied; replay it with --include-ignored to apply it",
            };
        case "ignore":
            if (status === "PENDING") return { verdict: "apply", next: "IGNORED" };
            if (status === "IGNORED") return { verdict: "noop", reason: "already IGNORED" };
            return { verdict: "refuse", reason: "RESOLVED → IGNORED is not a transition: the event was already applied to the target" };
        case "replay":
            if (status === "PENDING") return { verdict: "apply", next: "PENDING" };
            if (status === "RESOLVED") return { verdict: "noop", reason: "already RESOLVED, so nothing was sent again" };
            if (action.includeIgnored) return { verdict: "apply", next: "PENDING" };
            return {
                verdict: "refuse",
                reason: "the record is IGNORED; pass --include-ignored to replay it anyway (it becomes PENDING again)",
            };
    }
}

/** The record after an operator's resolve or ignore. */
export function withStatus(record: DeadLetterRecord, next: ResolutionStatus, at: number, note: string | null): DeadLetterRecord {
    return { ...record, resolution_status: next, status_changed_at: at, status_note: note };
}

/** The record once a replay was sent: one more retry, PENDING, its outcome not known yet. */
export function withReplaySent(record: DeadLetterRecord, sent: Omit<Replay, "outcome">): DeadLetterRecord {
    return {
        ...record,
        retry_count: record.retry_count + 1,
        resolution_status: "PENDING",
        status_changed_at: record.resolution_status === "PENDING" ? record.status_changed_at : sent.sent_at,
        status_note: record.resolution_status === "PENDING" ? record.status_note : "replayed after being IGNORED",
        last_replay: { ...sent, outcome: "IN_FLIGHT" },
    };
}

/** What is known about an in-flight replay: the sink's committed position on the retry partition, and whether it dead-lettered it. */
export interface ReplayEvidence {
    /** The sink consumer group's committed offset on the retry topic partition (the next record it will read); undefined if none. */
    committedOffset: number | undefined;
    /** A dead letter whose Connect headers name the retry topic record exists. */
    deadLettered: boolean;
}

export function replayOutcome(replay: Replay, evidence: ReplayEvidence): ReplayOutcome {
    if (replay.outcome !== "IN_FLIGHT") return replay.outcome;
    if (evidence.deadLettered) return "DEAD_LETTERED";
    // Connect commits a sink's offset only after the task flushed the records before it to the database.
    if (evidence.committedOffset !== undefined && evidence.committedOffset > replay.retry_offset) return "APPLIED";
    return "IN_FLIGHT";
}

/**
 * The record with its in-flight replay settled: APPLIED resolves it (the event reached the target, which is what
 * RESOLVED means); DEAD_LETTERED leaves it PENDING, its error fields those of the new failure (merged by the caller).
 */
export function settled(record: DeadLetterRecord, evidence: ReplayEvidence, at: number): DeadLetterRecord {
    const replay = record.last_replay;
    if (!replay || replay.outcome !== "IN_FLIGHT") return record;
    const outcome = replayOutcome(replay, evidence);
    if (outcome === "IN_FLIGHT") return record;
    const withOutcome = { ...record, last_replay: { ...replay, outcome } };
    if (outcome === "DEAD_LETTERED" || record.resolution_status !== "PENDING") return withOutcome;
    const note = `replay ${replay.retry_topic}/${replay.retry_partition}/${replay.retry_offset} applied by the sink`;
    return withStatus(withOutcome, "RESOLVED", at, note);
}

/**
 * One record from everything known about it: its dead letters (oldest first; a replay that failed again adds one)
 * and its stored state. The error fields are the newest failure's; the lifecycle fields are the stored state's.
 */
export function merged(deadLetters: readonly DeadLetterRecord[], stored: DeadLetterRecord | undefined): DeadLetterRecord {
    const newest = deadLetters.at(-1);
    if (!stored) {
        if (!newest) throw new Error("a dead letter record needs a dead letter or a stored state");
        return newest;
    }
    if (!newest || (stored.dlq_offset !== null && newest.dlq_offset !== null && newest.dlq_offset <= stored.dlq_offset)) return stored;
    return {
        ...newest,
        retry_count: stored.retry_count,
        resolution_status: stored.resolution_status,
        last_replay: stored.last_replay,
        status_changed_at: stored.status_changed_at,
        status_note: stored.status_note,
    };
}
