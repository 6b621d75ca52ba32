import { expect } from "chai";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { Confirmed } from "../../reconciler/confirm";
import { groupPath, pushMetrics, renderTableMetrics } from "../../reconciler/metrics";
import { progressLine, jsonLogger } from "../../reconciler/progress";
import { buildReport, emptyOutcome, Report, TableOutcome, tableReport, validateReport, writeReport } from "../../reconciler/report";
import { exitCodeOf } from "../../reconciler/run";

const TH = { maxDiscrepancies: 2, criticalRatio: 0.1 };

/** A scanned, in-sync 1,000-row table; tests override what they exercise. */
function outcome(over: Partial<TableOutcome> = {}): TableOutcome {
    return {
        ...emptyOutcome("dbo.orders", "public.orders"),
        keyColumns: ["id"],
        valueColumns: ["id", "total"],
        sourceRows: 1000,
        targetRows: 1000,
        sourceSum: 123456789n,
        targetSum: 123456789n,
        keyMode: "range",
        buckets: { total: 10, mismatched: 0 },
        timings: { plan: 1, scan: 100, drill: 0, confirm: 0, total: 101 },
        ...over,
    };
}
const changed = (id: number, col = "total"): Confirmed => ({
    key: [String(id)],
    type: "value_mismatch",
    source: { hash: "1", values: [String(id), "10.00"] },
    target: { hash: "2", values: [String(id), "11.00"] },
    differingColumns: [col],
});
const missing = (id: number): Confirmed => ({
    key: [String(id)],
    type: "missing_in_target",
    source: { hash: "1", values: [String(id), "1.00"] },
    target: null,
    differingColumns: [],
});

const report = (tables: TableOutcome[]): Report =>
    buildReport({
        reportId: "0b4a3e1c-7f57-4d0e-9a59-4f1f0c6b2a10",
        startedAt: new Date("2026-01-01T00:00:00Z"),
        generatedAt: new Date("2026-01-01T00:01:00Z"),
        sourceDatabase: "mssql://db:1433/sales",
        targetDatabase: "postgres://pg:5432/replica",
        tables,
        thresholds: TH,
    });

describe("reconciler report", () => {
    it("derives status and action: ok, missing rows, changed rows, systematic column, critical, error", () => {
        expect(tableReport(outcome(), TH)).to.include({ status: "ok", recommended_action_code: "none", checksum_match: true });
        expect(tableReport(outcome({ unstable: 3 }), TH)).to.include({ status: "ok", recommended_action_code: "recheck_next_run" });
        expect(tableReport(outcome({ confirmed: [missing(1), changed(2)] }), TH)).to.include({
            status: "row_count_mismatch",
            recommended_action_code: "resync_rows",
        });
        expect(tableReport(outcome({ confirmed: [changed(2)] }), TH)).to.include({ status: "checksum_mismatch" });
        const systematic = tableReport(outcome({ confirmed: Array.from({ length: 12 }, (_, i) => changed(i)) }), {
            ...TH,
            criticalRatio: 0.5,
        });
        expect(systematic).to.include({ status: "checksum_mismatch", recommended_action_code: "fix_pipeline_config" });
        expect(systematic.recommended_action).to.match(/column total/);
        expect(tableReport(outcome({ confirmed: Array.from({ length: 150 }, (_, i) => missing(i)) }), TH)).to.include({
            status: "critical",
            recommended_action_code: "full_resnapshot",
        });
        expect(tableReport(outcome({ overflow: true, suspects: 101 }), TH)).to.include({
            status: "critical",
            recommended_action_code: "full_resnapshot",
        });
        const failed = tableReport(
            outcome({ error: { step: "reading the table definitions", message: "relation does not exist", stack: "at x" } }),
            TH,
        );
        expect(failed).to.include({ status: "critical", recommended_action_code: "investigate_error" });
        expect(failed.error).to.deep.equal({ step: "reading the table definitions", message: "relation does not exist" });
    });

    it("caps the discrepancy list but counts every differing key in the totals and the summary", () => {
        const r = report([
            outcome({ confirmed: [missing(1), changed(2), changed(3)] }),
            outcome({ sourceTable: "dbo.items", targetTable: "public.items" }),
        ]);
        expect(r.tables[0].discrepancies).to.have.length(2);
        expect(r.tables[0].discrepancies_truncated).to.equal(true);
        expect(r.tables[0].discrepancy_totals.total).to.equal(3);
        expect(r.summary).to.deep.include({
            total_tables: 2,
            tables_ok: 1,
            tables_with_discrepancies: 1,
            total_discrepancies: 3,
            tables_failed: 0,
        });
        expect(r.tables[0].discrepancies[0]).to.deep.equal({
            primary_key: { id: "1" },
            mismatch_type: "missing_in_target",
            source_values: { id: "1", total: "1.00" },
            target_values: null,
        });
    });

    it("validates against the shipped JSON Schema, which rejects what the seed forbids", () => {
        const good = report([outcome({ confirmed: [changed(2)] })]);
        expect(validateReport(good)).to.deep.equal([]);
        const okWithDiscrepancies = JSON.parse(JSON.stringify(good));
        okWithDiscrepancies.tables[0].status = "ok";
        expect(validateReport(okWithDiscrepancies).join()).to.match(/discrepancies/);
        const badChecksum = JSON.parse(JSON.stringify(good));
        badChecksum.tables[0].source_checksum = "xyz";
        expect(validateReport(badChecksum)).to.not.deep.equal([]);
        const missingValues = JSON.parse(JSON.stringify(good));
        missingValues.tables[0].discrepancies[0].target_values = null;
        expect(validateReport(missingValues)).to.not.deep.equal([]);
    });

    it("writes reconciliation-{report_id}.json atomically and refuses an invalid report", async () => {
        const dir = mkdtempSync(path.join(os.tmpdir(), "reports-"));
        try {
            const r = report([outcome()]);
            const file = await writeReport(path.join(dir, "nested"), r);
            expect(path.basename(file)).to.equal(`reconciliation-${r.report_id}.json`);
            expect(JSON.parse(readFileSync(file, "utf8"))).to.deep.equal(r);
            expect(readdirSync(path.join(dir, "nested"))).to.deep.equal([path.basename(file)]);
            const broken = { ...r, report_id: "not-a-uuid" };
            let error = "";
            await writeReport(dir, broken).catch((e: Error) => (error = e.message));
            expect(error).to.match(/schema validation.*report_id/);
            expect(existsSync(path.join(dir, "reconciliation-not-a-uuid.json"))).to.equal(false);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("exits 0 when every table is ok, 1 on discrepancies, 2 when a table has no verdict", () => {
        expect(exitCodeOf(report([outcome()]))).to.equal(0);
        expect(exitCodeOf(report([outcome(), outcome({ confirmed: [changed(1)] })]))).to.equal(1);
        expect(exitCodeOf(report([outcome({ confirmed: [changed(1)] }), outcome({ error: { step: "s", message: "m" } })]))).to.equal(2);
    });
});

describe("reconciler metrics and progress", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    it("exposes status one-hot, counts and durations, and a last-success time only when in sync", () => {
        const ok = renderTableMetrics(tableReport(outcome(), TH), now);
        expect(ok).to.contain('cdc_reconciliation_status{status="ok"} 1').and.contain('cdc_reconciliation_status{status="critical"} 0');
        expect(ok).to.contain('cdc_reconciliation_rows{side="source"} 1000');
        expect(ok).to.contain(`cdc_reconciliation_last_success_timestamp_seconds ${now.getTime() / 1000}`);
        const bad = renderTableMetrics(tableReport(outcome({ confirmed: [missing(1)] }), TH), now);
        expect(bad).to.contain('cdc_reconciliation_discrepancies{type="missing_in_target"} 1');
        expect(bad).to.not.contain("last_success");
    });

    it("groups each table separately on the Pushgateway, base64-encoding values with slashes", () => {
        const t = tableReport(outcome({ sourceTable: "dbo.a/b" }), TH);
        expect(groupPath("cdc-reconciler", t, { pipeline: "sales" })).to.equal(
            `/metrics/job/cdc-reconciler/pipeline/sales/source_table@base64/${Buffer.from("dbo.a/b").toString("base64url")}/target_table/public.orders`,
        );
    });

    it("POSTs the text format to the Pushgateway", async () => {
        const seen: { method?: string; url?: string; body: string; type?: string }[] = [];
        const server = http.createServer((req, res) => {
            let body = "";
            req.on("data", (d) => (body += d));
            req.on("end", () => {
                seen.push({ method: req.method, url: req.url, body, type: req.headers["content-type"] });
                res.end();
            });
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        try {
            const port = (server.address() as AddressInfo).port;
            await pushMetrics(`http://127.0.0.1:${port}/`, "job1", {}, report([outcome()]), now);
            expect(seen).to.have.length(1);
            expect(seen[0]).to.include({ method: "POST", url: "/metrics/job/job1/source_table/dbo.orders/target_table/public.orders" });
            expect(seen[0].type).to.match(/^text\/plain; version=0\.0\.4/);
            expect(seen[0].body).to.contain("cdc_reconciliation_status");
        } finally {
            server.close();
        }
    });

    it("shows table, phase, rows and rows/s on a TTY and one JSON object per line otherwise", () => {
        const line = progressLine({
            table: "dbo.orders",
            phase: "scan",
            sourceRows: 500_000,
            targetRows: 400_000,
            estimatedRows: 1_000_000,
            elapsedMs: 2000,
        });
        expect(line).to.match(/^dbo\.orders\s+scan\s+source 500\.0k \/ target 400\.0k rows of ~1\.00M\s+250\.0k rows\/s\s+2\.0s$/);
        const out: string[] = [];
        const log = jsonLogger({ write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream, () => now);
        log.progress({ table: "t", phase: "scan", sourceRows: 10, targetRows: 5, elapsedMs: 1000 });
        log.error("boom", { step: "x" });
        expect(out.map((l) => JSON.parse(l))).to.deep.equal([
            {
                time: now.toISOString(),
                level: "info",
                msg: "progress",
                table: "t",
                phase: "scan",
                sourceRows: 10,
                targetRows: 5,
                elapsedMs: 1000,
                rowsPerSecond: 10,
            },
            { time: now.toISOString(), level: "error", msg: "boom", step: "x" },
        ]);
    });
});
