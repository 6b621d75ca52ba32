/**
 * Seed 004 §6 in the lakehouse tables: a writer of its own (the sandbox's shop writer file with two other
 * destinations) reads cdc_schema_evolution_test's topic from its start into a Delta change log and an Iceberg
 * current-state table while ./evolution-plan.ts adds, drops, widens and renames columns. DuckDB reads both back;
 * the reconciler compares their current state with the source.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import type { WriterConfigFile, WriterDestinationConfig } from "../../plan/lakehouse";
import { dataTopicName } from "../../model/naming";
import { freePort } from "../../sandbox/databases";
import { icebergMetadata, readLakehouse, startWriter, WriterProcess } from "../../sandbox/lakehouse";
import { evolutionPlan, EvolutionRun } from "./evolution-plan";
import { E2E, e2e, START_TIMEOUT_MS, waitFor } from "./fixture";
import { copyToTarget, postgresTypeOfDuckDb, reconcilePair } from "./lakehouse-copy";

type Row = Record<string, unknown>;

describe("sandbox e2e: schema evolution (seed 004 §6) in the lakehouse tables", function () {
    this.timeout(10 * 60_000);
    let env: E2E;
    let writer: WriterProcess | undefined;
    let tablesFile: string;
    let delta: WriterDestinationConfig;
    let iceberg: WriterDestinationConfig;
    let plan: EvolutionRun;

    before(async function () {
        this.timeout(START_TIMEOUT_MS);
        env = await e2e();
        const shop = env.sb.spec.pipelines.find((p) => p.source.kind === "postgres")!;
        const table = shop.source.tables.find((t) => t.table === "cdc_schema_evolution_test")!;
        const topic = dataTopicName(shop.source, table);
        const shopWriter = env.sb.lakehouse.writers.find((w) => w.pipeline === shop.name)!;
        // The file the sandbox runs the shop writer with (local warehouse, catalog, secrets), with other destinations.
        const file = JSON.parse(fs.readFileSync(shopWriter.configFile, "utf8")) as WriterConfigFile;
        const base = file.pipelines[0];
        const namespace = base.destinations.find((d) => d.format === "iceberg")!.namespace!;
        const deltaDir = path.dirname(base.destinations.find((d) => d.format === "deltalake")!.location!);
        delta = {
            name: "evolution_cdc",
            format: "deltalake",
            topic,
            location: path.join(deltaDir, "evolution_cdc"),
            write_mode: "append",
            primary_key: ["id"],
        };
        iceberg = {
            name: "evolution_current",
            format: "iceberg",
            topic,
            catalog: "lakehouse",
            namespace,
            write_mode: "upsert",
            primary_key: ["id"],
        };
        const healthPort = await freePort();
        const pipelineId = `${shop.name}-evolution`;
        const { validation_results: _none, ...rest } = base;
        const config: WriterConfigFile = {
            ...file,
            pipelines: [
                {
                    ...rest,
                    pipeline_id: pipelineId,
                    consumer_group: `${base.consumer_group}-evolution`,
                    observability: { ...base.observability, health_check_port: healthPort },
                    destinations: [delta, iceberg],
                },
            ],
        };
        const configFile = path.join(env.sb.runDir, `lakehouse-${pipelineId}.json`);
        fs.writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
        writer = startWriter(pipelineId, configFile, path.join(env.sb.logDir, `lakehouse-${pipelineId}.log`), healthPort, () => undefined);
        tablesFile = path.join(env.sb.runDir, "lakehouse-evolution-tables.json");
        plan = await evolutionPlan(env);
    });

    after(async () => {
        await writer?.stop();
    });

    async function query(...sql: string[]): Promise<Row[][]> {
        const metadata = await icebergMetadata(env.sb.target);
        const tables: Record<string, { format: string; path: string }> = {};
        if (fs.existsSync(path.join(delta.location!, "_delta_log"))) tables[delta.name] = { format: "deltalake", path: delta.location! };
        const current = metadata.get(`${iceberg.namespace}.${iceberg.name}`);
        if (current) tables[iceberg.name] = { format: "iceberg", path: current };
        fs.writeFileSync(tablesFile, JSON.stringify(tables));
        return readLakehouse<Row>(tablesFile, sql);
    }

    const changeLogSql = `SELECT id, _cdc_operation AS op FROM evolution_cdc ORDER BY _cdc_source_lsn`;
    const latestSql =
        "SELECT * EXCLUDE (_rn) FROM (SELECT *, row_number() OVER (PARTITION BY id ORDER BY _cdc_source_lsn DESC) AS _rn FROM evolution_cdc) WHERE _rn = 1";

    async function caughtUp(): Promise<void> {
        const last = plan.changes[plan.changes.length - 1];
        let seen = "";
        await waitFor("the lakehouse evolution tables", 120_000, async () => {
            const [log, current] = await query(changeLogSql, "SELECT id, renamed_column FROM evolution_current").catch(() => [[], []]);
            seen = `${log.length} change-log rows, ${current.length} current rows`;
            return log.length >= plan.changes.length && current.some((r) => Number(r.id) === last.id && r.renamed_column !== null);
        }).catch(() => {
            throw new Error(`the evolution tables did not catch up in 120 s: ${seen} (writer log ${writer?.logFile})`);
        });
    }

    it("the change log holds exactly one row per source change of the plan, in source order", async () => {
        await caughtUp();
        const [log] = await query(changeLogSql);
        expect(log.map((r) => `${String(r.id)} ${String(r.op)}`)).to.deep.equal(plan.changes.map((c) => `${c.id} ${c.op}`));
    });

    it("added and renamed columns appear, the dropped column stays with NULLs after the drop, the widened value is whole", async () => {
        await caughtUp();
        // Each row as its last change wrote it: a change after the drop carries no original_column, a change
        // after the rename no new_column_added (lakehouse/README.md "Schema evolution").
        const expected = [
            { id: 1, original_column: "original 1", new_column_added: "added 1", renamed_column: null },
            { id: 2, original_column: null, new_column_added: null, renamed_column: "renamed 2" },
            { id: 3, original_column: "original 3", new_column_added: null, renamed_column: null },
            { id: 4, original_column: "original 4", new_column_added: "added 4", renamed_column: null },
            { id: 5, original_column: null, new_column_added: "after drop 5", renamed_column: null },
            { id: 6, original_column: null, new_column_added: plan.long, renamed_column: null },
            { id: 7, original_column: null, new_column_added: null, renamed_column: "renamed 7" },
        ];
        const columns = "id, original_column, new_column_added, renamed_column";
        const [deltaRows, icebergRows, deltaColumns, icebergColumns] = await query(
            `SELECT ${columns} FROM (${latestSql}) ORDER BY id`,
            `SELECT ${columns} FROM evolution_current ORDER BY id`,
            "DESCRIBE evolution_cdc",
            "DESCRIBE evolution_current",
        );
        const plain = (rows: Row[]) => rows.map((r) => ({ ...r, id: Number(r.id) }));
        expect(plain(deltaRows), "Delta change log, latest row per id").to.deep.equal(expected);
        expect(plain(icebergRows), "Iceberg current state").to.deep.equal(expected);
        for (const [format, described] of [
            ["Delta", deltaColumns],
            ["Iceberg", icebergColumns],
        ] as const) {
            const types = Object.fromEntries(described.map((c) => [String(c.column_name), String(c.column_type)]));
            expect(types, format).to.include({ original_column: "VARCHAR", new_column_added: "VARCHAR", renamed_column: "VARCHAR" });
        }
    });

    it("both tables' current state equals the source in every column, compared with the reconciler's normalization", async () => {
        await caughtUp();
        // The rename as documented: values written before it stay under the old name, so the source's
        // renamed_column is the table's renamed_column or, for those rows, new_column_added.
        const renamed = "* REPLACE (coalesce(renamed_column, new_column_added) AS renamed_column)";
        for (const [name, sql] of [
            ["evolution_cdc", `SELECT ${renamed} FROM (${latestSql}) WHERE _cdc_operation <> 'DELETE'`],
            ["evolution_current", `SELECT ${renamed} FROM evolution_current`],
        ]) {
            const [described, rows] = await query(`DESCRIBE ${sql}`, sql);
            const columns = described.map((c) => ({ name: String(c.column_name), type: postgresTypeOfDuckDb(String(c.column_type)) }));
            await copyToTarget(env, `lakehouse_copy.${name}`, columns, ["id"], rows);
            const { exitCode, table, errors } = await reconcilePair(
                env,
                env.sb.postgresSource.url,
                "public.cdc_schema_evolution_test",
                `lakehouse_copy.${name}`,
            );
            const what = `${name}: ${JSON.stringify(table.discrepancies.slice(0, 3))} ${errors.join("; ")}`;
            expect(errors, what).to.deep.equal([]);
            expect(
                table.normalization_warnings.filter((w) => /missing in the target/.test(w)),
                what,
            ).to.deep.equal([]);
            expect([table.source_row_count, table.target_row_count], what).to.deep.equal([7, 7]);
            expect(table.discrepancy_totals.total, what).to.equal(0);
            expect(exitCode, what).to.equal(0);
        }
    });
});
