/** Reads a table's columns, primary key and row estimate from the engine's catalog. */
import { parsePgType } from "./columns";
import { Db } from "./db";
import { Query } from "./dialects/dialect";
import { Engine, NativeColumn, TableInfo, TableName } from "./model";

/** `schema.table`; a bare name gets the engine's default schema (MySQL: the URL's database). */
export function parseTableName(text: string, engine: Engine, defaultDatabase: string): TableName {
    const parts = text.split(".");
    if (parts.length > 2 || parts.some((p) => p === "")) throw new Error(`bad table name "${text}" (expected schema.table)`);
    if (parts.length === 2) return { schema: parts[0], table: parts[1] };
    const schema = engine === "postgres" ? "public" : engine === "mssql" ? "dbo" : defaultDatabase;
    if (!schema) throw new Error(`table "${text}" needs a database name: use database.table or put the database in the URL`);
    return { schema, table: parts[0] };
}

function catalogQueries(engine: Engine, t: TableName): { columns: Query; key: Query; estimate: Query; checks?: Query } {
    if (engine === "postgres") {
        const rel = `"${t.schema.replace(/"/g, '""')}"."${t.table.replace(/"/g, '""')}"`;
        return {
            columns: {
                sql:
                    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), (NOT a.attnotnull)::text FROM pg_attribute a " +
                    "WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                params: [rel],
            },
            key: {
                sql:
                    "SELECT a.attname FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) " +
                    "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY k.ord",
                params: [rel],
            },
            estimate: { sql: "SELECT reltuples::bigint::text FROM pg_class WHERE oid = $1::regclass", params: [rel] },
        };
    }
    if (engine === "mysql") {
        return {
            columns: {
                sql:
                    "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_SET_NAME, IS_NULLABLE " +
                    "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                params: [t.schema, t.table],
            },
            key: {
                sql:
                    "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' " +
                    "ORDER BY ORDINAL_POSITION",
                params: [t.schema, t.table],
            },
            estimate: {
                sql: "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                params: [t.schema, t.table],
            },
            checks: {
                sql: "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?",
                params: [t.schema, t.table],
            },
        };
    }
    return {
        columns: {
            sql:
                "SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_MAXIMUM_LENGTH, IS_NULLABLE " +
                "FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = @p1 AND TABLE_NAME = @p2 ORDER BY ORDINAL_POSITION",
            params: [t.schema, t.table],
        },
        key: {
            sql:
                "SELECT k.COLUMN_NAME FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS c JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE k " +
                "ON k.CONSTRAINT_NAME = c.CONSTRAINT_NAME AND k.TABLE_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME " +
                "WHERE c.CONSTRAINT_TYPE = 'PRIMARY KEY' AND c.TABLE_SCHEMA = @p1 AND c.TABLE_NAME = @p2 ORDER BY k.ORDINAL_POSITION",
            params: [t.schema, t.table],
        },
        estimate: {
            sql: "SELECT CONVERT(NVARCHAR(30), SUM(p.rows)) FROM sys.partitions p WHERE p.object_id = OBJECT_ID(@p1) AND p.index_id IN (0, 1)",
            params: [`${t.schema}.${t.table}`],
        },
    };
}

type Row = (string | null)[];
const num = (v: string | null) => (v === null || v === "" ? null : Number(v));

function columnFromCatalog(engine: Engine, row: Row, jsonColumns: Set<string>): NativeColumn {
    if (engine === "postgres") {
        const [name, formatted, nullable] = row as string[];
        const t = parsePgType(formatted);
        return {
            name,
            type: t.type,
            fullType: formatted,
            precision: t.precision,
            scale: t.scale,
            fsp: t.fsp,
            unsigned: false,
            charset: null,
            nullable: nullable === "true",
            json: false,
        };
    }
    if (engine === "mysql") {
        const [name, dataType, columnType, precision, scale, fsp, charset, nullable] = row;
        const type = String(dataType).toLowerCase();
        return {
            name: String(name),
            type,
            fullType: String(columnType).toLowerCase(),
            precision: type === "bit" ? num(String(columnType).replace(/\D/g, "") || "1") : num(precision),
            scale: num(scale),
            fsp: num(fsp),
            unsigned: /unsigned/i.test(String(columnType)),
            charset,
            nullable: nullable === "YES",
            json: type === "json" || jsonColumns.has(String(name)),
        };
    }
    const [name, dataType, precision, scale, fsp, maxLen, nullable] = row;
    const type = String(dataType).toLowerCase();
    const len = maxLen === "-1" ? "max" : maxLen;
    const fullType = ["varchar", "nvarchar", "char", "nchar", "binary", "varbinary"].includes(type)
        ? `${type}(${len})`
        : ["decimal", "numeric"].includes(type)
          ? `${type}(${precision},${scale})`
          : ["datetime2", "datetimeoffset", "time"].includes(type)
            ? `${type}(${fsp})`
            : type;
    return {
        name: String(name),
        type,
        fullType,
        precision: num(precision),
        scale: num(scale),
        fsp: num(fsp),
        unsigned: false,
        charset: null,
        nullable: nullable === "YES",
        json: false,
    };
}

/** MariaDB spells a JSON column as LONGTEXT plus CHECK (json_valid(`col`)). */
function jsonColumnsFromChecks(clauses: string[]): Set<string> {
    const out = new Set<string>();
    for (const c of clauses) {
        const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(c.trim());
        if (m) out.add(m[1].replace(/``/g, "`"));
    }
    return out;
}

export async function introspect(db: Db, name: TableName): Promise<TableInfo> {
    const q = catalogQueries(db.engine, name);
    let columnsRows: Row[];
    try {
        columnsRows = await db.query(q.columns);
    } catch (e) {
        throw new Error(`table ${name.schema}.${name.table} not readable on ${db.label}: ${(e as Error).message}`);
    }
    if (columnsRows.length === 0) throw new Error(`table ${name.schema}.${name.table} does not exist on ${db.label}`);
    const json = q.checks ? jsonColumnsFromChecks((await db.query(q.checks)).map((r) => String(r[0]))) : new Set<string>();
    const columns = columnsRows.map((r) => columnFromCatalog(db.engine, r, json));
    const primaryKey = (await db.query(q.key)).map((r) => String(r[0]));
    const est = (await db.query(q.estimate))[0]?.[0] ?? null;
    const estimatedRows = est === null || Number(est) < 0 ? null : Number(est);
    return { engine: db.engine, name, columns, primaryKey, estimatedRows };
}
