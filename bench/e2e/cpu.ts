/**
 * CPU seconds of processes, from /proc: where a drain's time goes on a machine whose cores everything shares.
 * A PostgreSQL server's work is its backends', so a server counts with its children.
 */
import * as fs from "fs";

/** /proc/<pid>/stat: user + system time (fields 14 and 15) in clock ticks; the comm field may contain spaces. */
function ticks(pid: number): { ppid: number; ticks: number } | null {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
    } catch {
        return null;
    }
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds used so far by each process and, when `withChildren`, by its live children. */
export function cpuSeconds(pid: number, withChildren = false): number {
    let total = ticks(pid)?.ticks ?? 0;
    if (withChildren) {
        for (const entry of fs.readdirSync("/proc")) {
            if (!/^\d+$/.test(entry)) continue;
            const t = ticks(Number(entry));
            if (t && t.ppid === pid) total += t.ticks;
        }
    }
    return total / CLOCK_TICKS_PER_SECOND;
}

/** The postmaster's pid: the first line of postmaster.pid in its data directory. */
export function postmasterPid(dataDir: string): number {
    return Number(fs.readFileSync(`${dataDir}/postmaster.pid`, "utf8").split("\n")[0]);
}
