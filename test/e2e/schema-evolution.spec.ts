import { expect } from "chai";
import { evolutionPlan, EvolutionRun } from "./evolution-plan";
import { E2E, e2e, START_TIMEOUT_MS } from "./fixture";

/**
 * Seed 004 §6 on cdc_schema_evolution_test (the plan and the target-side DDL it needs: ./evolution-plan.ts),
 * checked on the JDBC sink's table.
 */
describe("sandbox e2e: schema evolution (seed 004 §6)", function () {
    this.timeout(10 * 60_000);
    let env: E2E;

    before(async function () {
        this.timeout(START_TIMEOUT_MS);
        env = await e2e();
    });

    it("adds, drops, widens and renames columns without losing a row or a value", async () => {
        const { long, originalColumnNullableBeforeDrop, after }: EvolutionRun = await evolutionPlan(env);
        // The sink created its copy of original_column NOT NULL like the source's (the plan relaxed it before the drop).
        expect(originalColumnNullableBeforeDrop).to.equal("NO");

        const columns = after.targetColumns;
        expect([...columns.keys()].sort()).to.deep.equal(["created_at", "id", "new_column_added", "original_column", "renamed_column"]);
        expect(columns.get("new_column_added")!.data_type).to.equal("text");
        const rows = after.targetRows;
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
        for (const s of after.sourceRows) {
            const t = rows.find((r) => Number(r.id) === s.id)!;
            expect(t.renamed_column ?? t.new_column_added, `row ${s.id}`).to.equal(s.renamed_column);
        }
    });
});
