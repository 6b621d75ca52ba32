/**
 * Prometheus metrics, pushed to a Pushgateway: one group per table, so a table that fails keeps the
 * last-success timestamp an earlier run pushed (POST replaces only the metric names it sends).
 */
import axios from "axios";
import { Report, TableReport } from "./report";

const STATUSES = ["ok", "row_count_mismatch", "checksum_mismatch", "critical"] as const;

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const labels = (l: Record<string, string>) => {
    const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
    return parts.length ? `{${parts.join(",")}}` : "";
};

/** Prometheus text exposition for one table's result. Pure. */
export function renderTableMetrics(t: TableReport, now: Date): string {
    const lines: string[] = [];
    const family = (name: string, help: string, samples: [Record<string, string>, number][]) => {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
        for (const [l, v] of samples) lines.push(`${name}${labels(l)} ${v}`);
    };
    const seconds = Math.floor(now.getTime() / 1000);
    family(
        "cdc_reconciliation_status",
        "1 for the table's status in the last run, 0 for the others.",
        STATUSES.map((s) => [{ status: s }, t.status === s ? 1 : 0]),
    );
    family("cdc_reconciliation_rows", "Rows counted on each side in the last run.", [
        [{ side: "source" }, t.source_row_count],
        [{ side: "target" }, t.target_row_count],
    ]);
    family(
        "cdc_reconciliation_discrepancies",
        "Confirmed differing primary keys in the last run, by type.",
        (["missing_in_target", "missing_in_source", "value_mismatch"] as const).map((k) => [{ type: k }, t.discrepancy_totals[k]]),
    );
    family("cdc_reconciliation_in_flight_rows", "Suspect rows not reported because replication was still applying them.", [
        [{ state: "resolved_on_recheck" }, t.in_flight.resolved_on_recheck],
        [{ state: "still_changing" }, t.in_flight.still_changing],
    ]);
    family("cdc_reconciliation_duration_seconds", "Duration of the table's reconciliation.", [[{}, t.timings_ms.total / 1000]]);
    family("cdc_reconciliation_error", "1 when the reconciliation itself failed (no verdict).", [[{}, t.error ? 1 : 0]]);
    family("cdc_reconciliation_last_run_timestamp_seconds", "When the table was last reconciled.", [[{}, seconds]]);
    if (t.status === "ok")
        family("cdc_reconciliation_last_success_timestamp_seconds", "When the table was last found in sync.", [[{}, seconds]]);
    return lines.join("\n") + "\n";
}

/** Pushgateway grouping-key path for a table. */
export function groupPath(job: string, t: TableReport, extra: Record<string, string>): string {
    // Values with a slash (or empty) need the Pushgateway's base64 form; the rest are URL-escaped.
    const key = (k: string, v: string) =>
        v === ""
            ? `${k}@base64/=`
            : v.includes("/")
              ? `${k}@base64/${Buffer.from(v).toString("base64url")}`
              : `${k}/${encodeURIComponent(v)}`;
    const pairs: [string, string][] = [...Object.entries(extra), ["source_table", t.source_table], ["target_table", t.target_table]];
    return `/metrics/${key("job", job)}/${pairs.map(([k, v]) => key(k, v)).join("/")}`;
}

export async function pushMetrics(url: string, job: string, extra: Record<string, string>, report: Report, now: Date): Promise<void> {
    for (const t of report.tables) {
        await axios.post(url.replace(/\/$/, "") + groupPath(job, t, extra), renderTableMetrics(t, now), {
            headers: { "Content-Type": "text/plain; version=0.0.4" },
            timeout: 10_000,
        });
    }
}
