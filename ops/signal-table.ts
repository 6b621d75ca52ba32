/**
 * Whether a source's Debezium signal table is ready for incremental snapshots, decided once for `cdc preflight`
 * (which gathers the facts with the connector's login) and `cdc snapshot` (which reads them before sending a signal):
 * the table must exist, and on PostgreSQL be in the connector's publication, since Debezium reads its snapshot
 * watermarks back from the change stream. SQL Server's signal tables are created by the stack (plan/sqlserver-source.ts).
 */
import type { SourceSpec } from "../model/spec";
import { signalTableParts } from "../model/signal-table";
import { signalTableScript } from "../plan/signal-table";
import type { Db } from "../reconciler/db";

export interface SignalTableFacts {
    exists: boolean;
    /**
     * PostgreSQL: the connector's publication's tables as `schema.table` (`cdc snapshot` reads only whether the signal
     * table is among them), null when the publication does not exist.
     * Unset: not judged (preflight before a first start, which creates the publication with the signal table).
     */
    publication?: readonly string[] | null;
}

/** What keeps the source's signal table from carrying an incremental snapshot's watermarks, or undefined. */
export function signalTableProblem(source: SourceSpec, facts: SignalTableFacts): string | undefined {
    if (source.kind === "sqlserver") return undefined;
    if (!facts.exists) return `the signal table ${source.signalTable} does not exist`;
    if (source.kind !== "postgres" || facts.publication === undefined) return undefined;
    if (facts.publication === null) return `the publication ${source.publicationName} does not exist yet: has the connector ever started?`;
    const { schema, table } = signalTableParts(source);
    return facts.publication.includes(`${schema}.${table}`)
        ? undefined
        : `the signal table ${source.signalTable} is not in the publication ${source.publicationName}`;
}

/** The fix for a signal table problem: the script a database owner runs (idempotent), then a connector restart. */
export function signalTableFix(pipeline: string, source: SourceSpec): string {
    if (source.kind === "sqlserver") return "the stack creates it: run pulumi up";
    return `run this as the database owner, then restart the connector:\n${signalTableScript(pipeline, source)}`;
}

/** The facts `signalTableProblem` judges, read through the reconciler's connection to the source. */
export async function readSignalTableFacts(source: SourceSpec, db: Db): Promise<SignalTableFacts> {
    const { schema, table } = signalTableParts(source);
    if (source.kind === "postgres") {
        const [[exists, publication, published]] = await db.query(
            db.dialect.finish({
                sql:
                    "SELECT (to_regclass($?) IS NOT NULL)::text, EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $?)::text, " +
                    "EXISTS (SELECT 1 FROM pg_publication_tables WHERE pubname = $? AND schemaname = $? AND tablename = $?)::text",
                params: [
                    `"${schema.replace(/"/g, '""')}"."${table.replace(/"/g, '""')}"`,
                    source.publicationName,
                    source.publicationName,
                    schema,
                    table,
                ],
            }),
        );
        return {
            exists: exists === "true",
            publication: publication !== "true" ? null : published === "true" ? [`${schema}.${table}`] : [],
        };
    }
    if (source.kind === "mysql" || source.kind === "mariadb") {
        const [[count]] = await db.query(
            db.dialect.finish({
                sql: "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $? AND table_name = $?",
                params: [schema, table],
            }),
        );
        return { exists: count !== "0" };
    }
    return { exists: true };
}
