/**
 * The detector's durable files, in one folder:
 * - `schema-evolution.jsonl`: the events, one JSON object a line, append-only (seed 000 §7's log file);
 * - `detector-state.json`: the next offset to read per topic partition, the last schema seen per table and how many
 *   records were skipped, replaced atomically (write, fsync, rename) after the events it accounts for are appended.
 *
 * A crash between the two leaves events whose records will be read again; they get the same event ids
 * (schemaEventId) and `append` drops ids already in the log, so the log never holds an event twice.
 */
import * as fs from "fs";
import * as path from "path";
import type { ColumnSchema, SchemaEvolutionEvent } from "./schema-events-model";
import type { SourcePosition } from "./schema-events-record";

export const EVENTS_FILE = "schema-evolution.jsonl";
export const STATE_FILE = "detector-state.json";

export interface TableState {
    columns: ColumnSchema[];
    /** Where the schema was adopted; a record from before it on another partition (lagging) cannot undo a change. */
    position: SourcePosition;
    /** The partition of the record the schema was adopted from: within one partition, Kafka's order is the source's. */
    partition?: number;
}

export interface DetectorState {
    version: 1;
    /** Next offset to read, per `topic/partition`, as a decimal string (offsets are 64-bit). */
    next: Record<string, string>;
    /** Last schema per data topic (one topic per table). */
    tables: Record<string, TableState>;
    /** Records skipped because they could not be read (not JSON, no schema, not a change event), ever. */
    skipped: number;
}

export const partitionKey = (topic: string, partition: number) => `${topic}/${partition}`;

export class SchemaEventStore {
    constructor(readonly dir: string) {}

    get eventsFile(): string {
        return path.join(this.dir, EVENTS_FILE);
    }

    get stateFile(): string {
        return path.join(this.dir, STATE_FILE);
    }

    readState(): DetectorState {
        let text: string;
        try {
            text = fs.readFileSync(this.stateFile, "utf8");
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, next: {}, tables: {}, skipped: 0 };
            throw e;
        }
        try {
            const state = JSON.parse(text) as DetectorState;
            if (state.version !== 1 || typeof state.next !== "object" || typeof state.tables !== "object")
                throw new Error("not a version 1 detector state");
            return state;
        } catch (e) {
            throw new Error(
                `${this.stateFile} is unreadable (${(e as Error).message}); move it away to re-read the topics from their start (the events it finds again keep their ids and are not logged twice)`,
            );
        }
    }

    writeState(state: DetectorState): void {
        fs.mkdirSync(this.dir, { recursive: true });
        const tmp = `${this.stateFile}.tmp`;
        const fd = fs.openSync(tmp, "w", 0o644);
        try {
            fs.writeSync(fd, JSON.stringify(state, null, 2) + "\n");
            fs.fsyncSync(fd);
        } finally {
            fs.closeSync(fd);
        }
        fs.renameSync(tmp, this.stateFile);
    }

    /** Every event in the log, oldest first, and the lines that are not events (a line cut short by a crash). */
    readEvents(): { events: SchemaEvolutionEvent[]; badLines: number[] } {
        let text: string;
        try {
            text = fs.readFileSync(this.eventsFile, "utf8");
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "ENOENT") return { events: [], badLines: [] };
            throw e;
        }
        const events: SchemaEvolutionEvent[] = [];
        const badLines: number[] = [];
        text.split("\n").forEach((line, i) => {
            if (line.trim() === "") return;
            try {
                const e = JSON.parse(line) as SchemaEvolutionEvent;
                if (typeof e.event_id !== "string" || typeof e.change_type !== "string") throw new Error("not an event");
                events.push(e);
            } catch {
                badLines.push(i + 1);
            }
        });
        return { events, badLines };
    }

    /** Appends the events whose ids the log does not hold yet, and flushes them to disk; returns those appended. */
    append(events: readonly SchemaEvolutionEvent[], known: Set<string>): SchemaEvolutionEvent[] {
        const fresh = events.filter((e) => !known.has(e.event_id));
        if (fresh.length === 0) return [];
        fs.mkdirSync(this.dir, { recursive: true });
        const fd = fs.openSync(this.eventsFile, "a", 0o644);
        try {
            // A line cut short by a crash must not swallow the next one.
            const size = fs.fstatSync(fd).size;
            const lead = size > 0 && !endsWithNewline(this.eventsFile, size) ? "\n" : "";
            fs.writeSync(fd, lead + fresh.map((e) => JSON.stringify(e)).join("\n") + "\n");
            fs.fsyncSync(fd);
        } finally {
            fs.closeSync(fd);
        }
        for (const e of fresh) known.add(e.event_id);
        return fresh;
    }
}

function endsWithNewline(file: string, size: number): boolean {
    const fd = fs.openSync(file, "r");
    try {
        const b = new Uint8Array(1);
        fs.readSync(fd, b, 0, 1, size - 1);
        return b[0] === 0x0a;
    } finally {
        fs.closeSync(fd);
    }
}
