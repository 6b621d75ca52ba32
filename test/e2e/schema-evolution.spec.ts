import { expect } from "chai";
import { SCHEMA_EVOLUTION_STEPS } from "../../sandbox/source-schema";
import { E2E, e2e, START_TIMEOUT_MS, targetQuery as target, waitFor } from "./fixture";

/**
 * Seed 004 §6 on cdc_schema_evolution_test. The Debezium JDBC sink's `schema.evolution=basic` only
 * adds columns; the steps it cannot follow get the target-side DDL the sandbox README documents.
 */
describe("sandbox e2e: schema evolution (seed 004 §6)", function () {
    this.timeout(10 * 60_000);
    let env: E2E;
    let table: string;

    before(async function () {
        this.timeout(START_TIMEOUT_MS);
        env = await e2e();
        table = `${env.sb.spec.pipelines.find((p) => p.source.kind === "postgres")!.sink.schema}.cdc_schema_evolution_test`;
    });

    const source = (sql: string, params: unknown[] = []) => env.writers.pg.query(sql, params);
    const targetCount = async () =>
        Number((await target<{ n: string }>(env, `SELECT count(*) AS n FROM ${table}`).catch(() => [{ n: "0" }]))[0].n);
    const targetColumns = async () =>
        new Map(
            (
                await target<{ column_name: string; data_type: string; is_nullable: string }>(
                    env,
                    `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema || '.' || table_name = '${table}'`,
                )
            ).map((c) => [c.column_name, c]),
        );

    it("adds, drops, widens and renames columns without losing a row or a value", async () => {
        const [add, drop, widen, rename] = SCHEMA_EVOLUTION_STEPS;
        const long = "x".repeat(300);

        // Initial state: 3 columns.
        for (let i = 1; i <= 3; i++)
            await source(`INSERT INTO cdc_schema_evolution_test (id, original_column, created_at) VALUES ($1, $2, now())`, [
                i,
                `original ${i}`,
            ]);
        await waitFor("the initial rows", 60_000, async () => (await targetCount()) === 3);

        // Step 1: the sink adds the new column by itself.
        await source(add.sql);
        await source(
            `INSERT INTO cdc_schema_evolution_test (id, original_column, new_column_added, created_at) VALUES (4, 'original 4', 'added 4', now())`,
        );
        await source(`UPDATE cdc_schema_evolution_test SET new_column_added = 'added 1' WHERE id = 1`);
        await waitFor(
            "rows with new_column_added",
            60_000,
            async () => (await target(env, `SELECT 1 FROM ${table} WHERE new_column_added IS NOT NULL`).catch(() => [])).length === 2,
        );

        // Step 2: the sink never drops a column. Its copy of original_column was created NOT NULL like
        // the source's; rows without it would fail, so the target keeps the column and relaxes it.
        expect((await targetColumns()).get("original_column")?.is_nullable).to.equal("NO");
        await target(env, `ALTER TABLE ${table} ALTER COLUMN original_column DROP NOT NULL`);
        await source(drop.sql);
        await source(`INSERT INTO cdc_schema_evolution_test (id, new_column_added, created_at) VALUES (5, 'after drop 5', now())`);

        // Step 3: the sink never changes a column type; the target is widened the same way.
        await source(widen.sql);
        await target(env, `ALTER TABLE ${table} ALTER COLUMN new_column_added TYPE TEXT`);
        await source(`INSERT INTO cdc_schema_evolution_test (id, new_column_added, created_at) VALUES (6, $1, now())`, [long]);

        // Step 4: a rename reaches the sink as a new column; earlier values stay in the old one.
        await source(rename.sql);
        await source(`INSERT INTO cdc_schema_evolution_test (id, renamed_column, created_at) VALUES (7, 'renamed 7', now())`);
        await source(`UPDATE cdc_schema_evolution_test SET renamed_column = 'renamed 2' WHERE id = 2`);
        await waitFor("all 7 rows and the renamed column", 90_000, async () => {
            const rows = await target(env, `SELECT id FROM ${table} WHERE renamed_column IS NOT NULL`).catch(() => []);
            return (await targetCount()) === 7 && rows.length === 2;
        });

        const columns = await targetColumns();
        expect([...columns.keys()].sort()).to.deep.equal(["created_at", "id", "new_column_added", "original_column", "renamed_column"]);
        expect(columns.get("new_column_added")!.data_type).to.equal("text");
        const rows = await target<Record<string, string | null>>(
            env,
            `SELECT id, original_column, new_column_added, renamed_column FROM ${table} ORDER BY id`,
        );
        expect(rows.map((r) => ({ ...r, id: Number(r.id) }))).to.deep.equal([
            { id: 1, original_column: "original 1", new_column_added: "added 1", renamed_column: null },
            { id: 2, original_column: "original 2", new_column_added: null, renamed_column: "renamed 2" },
            { id: 3, original_column: "original 3", new_column_added: null, renamed_column: null },
            { id: 4, original_column: "original 4", new_column_added: "added 4", renamed_column: null },
            { id: 5, original_column: null, new_column_added: "after drop 5", renamed_column: null },
            { id: 6, original_column: null, new_column_added: long, renamed_column: null },
            { id: 7, original_column: null, new_column_added: null, renamed_column: "renamed 7" },
        ]);
        // Every value the source holds now is in the target under the source's current column name,
        // except values written before the rename, which stay under the old name.
        const now = (await source(`SELECT id, renamed_column FROM cdc_schema_evolution_test ORDER BY id`)).rows as {
            id: number;
            renamed_column: string | null;
        }[];
        for (const s of now) {
            const t = rows.find((r) => Number(r.id) === s.id)!;
            expect(t.renamed_column ?? t.new_column_added, `row ${s.id}`).to.equal(s.renamed_column);
        }
    });
});
