/** Which target table each captured source table lands in, as the stack's sink config names it. */
import type { StackSpec } from "../model/spec";
import { isMySqlFamily } from "../model/options";

export interface TablePair {
    pipeline: string;
    engine: "postgres" | "mariadb";
    /** `schema.table` in the source (MySQL/MariaDB: `database.table`). */
    source: string;
    /** `schema.table` in the target PostgreSQL. */
    target: string;
    table: string;
    primaryKey: string[];
}

export function tablePairs(spec: StackSpec): TablePair[] {
    return spec.pipelines.flatMap((p) =>
        p.source.tables.map((t) => ({
            pipeline: p.name,
            engine: p.source.kind === "postgres" ? ("postgres" as const) : ("mariadb" as const),
            source: `${isMySqlFamily(p.source.kind) ? t.database : t.schema}.${t.table}`,
            target: `${p.sink.schema}.${p.sink.tableNameFormat.replace("${source.table}", t.table)}`,
            table: t.table,
            primaryKey: t.primaryKey,
        })),
    );
}
