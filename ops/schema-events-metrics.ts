/**
 * The detector's Prometheus metrics, pushed to the Pushgateway like the reconciler's (reconciler/metrics.ts): the
 * detector runs in passes, often as a short-lived command, so nothing would be there to scrape.
 *
 * The counters are recomputed from the whole event log on every push, so they never reset when the detector
 * restarts, and the push replaces the group (PUT): pushing twice is harmless.
 */
import axios from "axios";
import type { SchemaEvolutionEvent } from "./schema-events-model";

export const METRICS_JOB = "cdc-schema-events";

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const labels = (l: Record<string, string>) =>
    `{${Object.entries(l)
        .map(([k, v]) => `${k}="${esc(v)}"`)
        .join(",")}}`;

/** Prometheus text exposition (format 0.0.4) of the log. Pure. */
export function renderSchemaEventMetrics(events: readonly SchemaEvolutionEvent[], skipped: number, passAt: Date): string {
    const counts = new Map<string, { l: Record<string, string>; n: number }>();
    const latest = new Map<string, { l: Record<string, string>; t: number }>();
    for (const e of events) {
        const l = { pipeline: e.pipeline, source_table: e.source_table, change_type: e.change_type, handling_status: e.handling_status };
        const key = JSON.stringify(l);
        counts.set(key, { l, n: (counts.get(key)?.n ?? 0) + 1 });
        const tl = { pipeline: e.pipeline, source_table: e.source_table };
        const tkey = JSON.stringify(tl);
        const t = Date.parse(e.detected_at) / 1000;
        if ((latest.get(tkey)?.t ?? -Infinity) < t) latest.set(tkey, { l: tl, t });
    }
    const lines = [
        "# HELP cdc_schema_change_events_total Source column changes found in the change events, by how the sink handles them.",
        "# TYPE cdc_schema_change_events_total counter",
        ...[...counts.values()].map((c) => `cdc_schema_change_events_total${labels(c.l)} ${c.n}`),
        "# HELP cdc_schema_change_last_event_timestamp_seconds When the table's last column change was found.",
        "# TYPE cdc_schema_change_last_event_timestamp_seconds gauge",
        ...[...latest.values()].map((c) => `cdc_schema_change_last_event_timestamp_seconds${labels(c.l)} ${c.t}`),
        "# HELP cdc_schema_event_detector_skipped_records_total Change-topic records the detector could not read and skipped.",
        "# TYPE cdc_schema_event_detector_skipped_records_total counter",
        `cdc_schema_event_detector_skipped_records_total ${skipped}`,
        "# HELP cdc_schema_event_detector_last_pass_timestamp_seconds When the detector last read the topics to their end.",
        "# TYPE cdc_schema_event_detector_last_pass_timestamp_seconds gauge",
        `cdc_schema_event_detector_last_pass_timestamp_seconds ${passAt.getTime() / 1000}`,
    ];
    return lines.join("\n") + "\n";
}

/** Replaces the job's group on the Pushgateway with `body`. */
export async function pushSchemaEventMetrics(pushgatewayUrl: string, body: string): Promise<void> {
    await axios.put(`${pushgatewayUrl.replace(/\/$/, "")}/metrics/job/${METRICS_JOB}`, body, {
        headers: { "Content-Type": "text/plain; version=0.0.4" },
        timeout: 10_000,
    });
}
