/**
 * Benchmark tables: 10 columns, an integer key (`id`) or a text key (`k`), generated inside each database from
 * the same formulas so a PostgreSQL or MariaDB source and its PostgreSQL replica hold equal data.
 */
export type KeyVariant = "int" | "text";

export const TABLE = "bench_rows";

export function pgCreate(v: KeyVariant): string {
    const key = v === "int" ? "id bigint PRIMARY KEY" : "k text PRIMARY KEY, id bigint NOT NULL";
    return `CREATE TABLE ${TABLE} (${key}, c_int integer, c_big bigint, c_dec numeric(12,2), c_dbl double precision,
    c_hash text, c_name varchar(40), c_ts timestamp(6), c_date date, c_flag boolean) WITH (fillfactor = 100)`;
}

export function mariaCreate(v: KeyVariant): string {
    const key = v === "int" ? "id BIGINT PRIMARY KEY" : "k VARCHAR(40) PRIMARY KEY, id BIGINT NOT NULL";
    return `CREATE TABLE ${TABLE} (${key}, c_int INT, c_big BIGINT, c_dec DECIMAL(12,2), c_dbl DOUBLE,
    c_hash VARCHAR(32), c_name VARCHAR(40), c_ts DATETIME(6), c_date DATE, c_flag TINYINT(1)) DEFAULT CHARSET=utf8mb4`;
}

/** Text keys are the MD5 of the row number: random order relative to the integer sequence. */
export function pgFill(v: KeyVariant, from: number, to: number): string {
    const key = v === "int" ? "i" : "'k' || md5(i::text), i";
    return `INSERT INTO ${TABLE} SELECT ${key}, (i * 7919) % 1000003, i * 1000003, ((i * 37) % 10000000) / 100.0, i * 0.001::float8,
    md5(i::text), 'name-' || i, timestamp '2020-01-01' + i * interval '1 second' + (i % 1000000) * interval '1 microsecond',
    date '2000-01-01' + (i % 10000)::int, i % 2 = 0 FROM generate_series(${from}::bigint, ${to}) AS i`;
}

export function mariaFill(v: KeyVariant, from: number, to: number): string {
    const key = v === "int" ? "seq" : "CONCAT('k', MD5(seq)), seq";
    return `INSERT INTO ${TABLE} SELECT ${key}, (seq * 7919) % 1000003, seq * 1000003, ((seq * 37) % 10000000) / 100.0,
    seq * CAST(0.001 AS DOUBLE), MD5(seq), CONCAT('name-', seq),
    TIMESTAMP'2020-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL (seq % 1000000) MICROSECOND,
    DATE'2000-01-01' + INTERVAL (seq % 10000) DAY, seq % 2 = 0 FROM seq_${from}_to_${to}`;
}

/**
 * Statements that make the PostgreSQL replica differ from the source in `count` rows, spread over the key space:
 * a third changed, a third deleted, a third extra. Positions depend only on the difference's index j, so runs can
 * add differences cumulatively (`already` were applied before) and every j hits a distinct row.
 */
export const MAX_DIFFS = 10_000;

export function pgDiffs(v: KeyVariant, rows: number, count: number, already: number): string[] {
    const out: string[] = [];
    const key = v === "int" ? "id" : "k";
    for (let j = already; j < count; j++) {
        const i = 1 + Math.floor(((j * 7919) % MAX_DIFFS) * (rows / MAX_DIFFS)) + (j % 3);
        const where = v === "int" ? `id = ${i}` : `k = 'k' || md5('${i}')`;
        if (j % 3 === 0) out.push(`UPDATE ${TABLE} SET c_name = 'changed-${j}' WHERE ${where}`);
        else if (j % 3 === 1) out.push(`DELETE FROM ${TABLE} WHERE ${where}`);
        else {
            const extra = rows + 1 + j;
            out.push(
                `INSERT INTO ${TABLE} (${key}${v === "text" ? ", id" : ""}, c_name) VALUES (${v === "int" ? extra : `'x${extra}', ${extra}`}, 'extra')`,
            );
        }
    }
    return out;
}
