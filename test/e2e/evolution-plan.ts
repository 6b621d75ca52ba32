/**
 * Seed 004 §6 on cdc_schema_evolution_test, run once per mocha process: the JDBC sink's table
 * (schema-evolution.spec.ts) and the lakehouse tables (lakehouse-evolution.spec.ts) are both checked
 * against this one run, whichever spec comes first. The Debezium JDBC sink's `schema.evolution=basic`
 * only adds columns; the steps it cannot follow get the target-side DDL the sandbox README documents.
 */
import { SCHEMA_EVOLUTION_STEPS } from "../../sandbox/source-schema";
import { E2E, targetQuery as target, waitFor } from "./fixture";

export interface SourceChange {
    op: "INSERT" | "UPDATE";
    id: number;
}

export interface EvolutionRun {
    /** The JDBC sink's target table, `schema.table`. */
    targetTable: string;
    /** Every change the plan made to the source, in the order it made them. */
    changes: SourceChange[];
    /** The 300-character value written after the widening. */
    long: string;
    /** is_nullable of the target's original_column right before the drop step relaxed it. */
    originalColumnNullableBeforeDrop: string | undefined;
    /**
     * Both tables as the plan left them. Later specs of the same run may legitimately change them (an
     * offsets reset re-snapshots the source into the target), so what the plan did is read here, at once.
     */
    after: {
        targetColumns: Awaited<ReturnType<typeof targetColumns>>;
        targetRows: Record<string, string | null>[];
        sourceRows: { id: number; renamed_column: string | null }[];
    };
}

let run: Promise<EvolutionRun> | undefined;

export function evolutionPlan(env: E2E): Promise<EvolutionRun> {
    run ??= runEvolutionPlan(env);
    return run;
}

export const targetColumns = async (env: E2E, table: string) =>
    new Map(
        (
            await target<{ column_name: string; data_type: string; is_nullable: string }>(
                env,
                `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema || '.' || table_name = '${table}'`,
            )
        ).map((c) => [c.column_name, c]),
    );

/** The plan on a sandbox of the caller's own (avro.spec.ts runs it on the Avro sandbox); `evolutionPlan` shares one run. */
export async function runEvolutionPlan(env: E2E): Promise<EvolutionRun> {
    const table = `${env.sb.spec.pipelines.find((p) => p.source.kind === "postgres")!.sink.schema}.cdc_schema_evolution_test`;
    const changes: SourceChange[] = [];
    const source = async (sql: string, params: unknown[] = [], change?: SourceChange) => {
        await env.writers.pg.query(sql, params);
        if (change) changes.push(change);
    };
    const targetCount = async () =>
        Number((await target<{ n: string }>(env, `SELECT count(*) AS n FROM ${table}`).catch(() => [{ n: "0" }]))[0].n);
    const [add, drop, widen, rename] = SCHEMA_EVOLUTION_STEPS;
    const long = "x".repeat(300);

    // Initial state: 3 columns.
    for (let i = 1; i <= 3; i++)
        await source(
            `INSERT INTO cdc_schema_evolution_test (id, original_column, created_at) VALUES ($1, $2, now())`,
            [i, `original ${i}`],
            { op: "INSERT", id: i },
        );
    await waitFor("the initial rows", 60_000, async () => (await targetCount()) === 3);

    // Step 1: the sink adds the new column by itself.
    await source(add.sql);
    await source(
        `INSERT INTO cdc_schema_evolution_test (id, original_column, new_column_added, created_at) VALUES (4, 'original 4', 'added 4', now())`,
        [],
        { op: "INSERT", id: 4 },
    );
    await source(`UPDATE cdc_schema_evolution_test SET new_column_added = 'added 1' WHERE id = 1`, [], { op: "UPDATE", id: 1 });
    await waitFor(
        "rows with new_column_added",
        60_000,
        async () => (await target(env, `SELECT 1 FROM ${table} WHERE new_column_added IS NOT NULL`).catch(() => [])).length === 2,
    );

    // Step 2: the sink never drops a column. Its copy of original_column was created NOT NULL like
    // the source's; rows without it would fail, so the target keeps the column and relaxes it.
    const originalColumnNullableBeforeDrop = (await targetColumns(env, table)).get("original_column")?.is_nullable;
    await target(env, `ALTER TABLE ${table} ALTER COLUMN original_column DROP NOT NULL`);
    await source(drop.sql);
    await source(`INSERT INTO cdc_schema_evolution_test (id, new_column_added, created_at) VALUES (5, 'after drop 5', now())`, [], {
        op: "INSERT",
        id: 5,
    });

    // Step 3: the sink never changes a column type; the target is widened the same way.
    await source(widen.sql);
    await target(env, `ALTER TABLE ${table} ALTER COLUMN new_column_added TYPE TEXT`);
    await source(`INSERT INTO cdc_schema_evolution_test (id, new_column_added, created_at) VALUES (6, $1, now())`, [long], {
        op: "INSERT",
        id: 6,
    });

    // Step 4: a rename reaches the sink as a new column; earlier values stay in the old one.
    await source(rename.sql);
    await source(`INSERT INTO cdc_schema_evolution_test (id, renamed_column, created_at) VALUES (7, 'renamed 7', now())`, [], {
        op: "INSERT",
        id: 7,
    });
    await source(`UPDATE cdc_schema_evolution_test SET renamed_column = 'renamed 2' WHERE id = 2`, [], { op: "UPDATE", id: 2 });
    await waitFor("all 7 rows and the renamed column", 90_000, async () => {
        const rows = await target(env, `SELECT id FROM ${table} WHERE renamed_column IS NOT NULL`).catch(() => []);
        return (await targetCount()) === 7 && rows.length === 2;
    });
    const after = {
        targetColumns: await targetColumns(env, table),
        targetRows: await target<Record<string, string | null>>(
            env,
            `SELECT id, original_column, new_column_added, renamed_column FROM ${table} ORDER BY id`,
        ),
        sourceRows: (await env.writers.pg.query(`SELECT id, renamed_column FROM cdc_schema_evolution_test ORDER BY id`)).rows,
    };
    return { targetTable: table, changes, long, originalColumnNullableBeforeDrop, after };
}
