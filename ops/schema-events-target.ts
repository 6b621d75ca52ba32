/**
 * The target table's columns as they are now, read as the sink's own login (its credentials Secret), so the
 * detector's handling status says what the sink will do with this table, not with the one it would have created.
 */
import { Client } from "pg";
import { CREDENTIAL_KEYS, sinkCredentialsSecretName } from "../model/naming";
import type { PipelineSpec, TableSpec } from "../model/spec";
import { targetTableName } from "../plan/postgres-target";
import { targetColumnOf, type TargetColumn } from "./schema-events-handling";
import { tlsFor, type SecretStore } from "./preflight-gather";

/** `schema.table` of the target table, as the sink names it (unquoted identifiers fold to lower case). */
export const targetTableOf = (pipeline: PipelineSpec, table: TableSpec) =>
    `${pipeline.sink.schema.toLowerCase()}.${targetTableName(pipeline, table)}`;

const COLUMNS_SQL = `SELECT column_name, is_nullable, data_type, character_maximum_length, numeric_precision, numeric_scale,
       column_default IS NOT NULL AS has_default
  FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`;

/** The table's columns by name; undefined when the table does not exist (yet). Throws when the database cannot be reached. */
export async function readTargetColumns(
    pipeline: PipelineSpec,
    table: TableSpec,
    store: SecretStore,
    caPem?: string,
): Promise<Map<string, TargetColumn> | undefined> {
    const secret = sinkCredentialsSecretName(pipeline);
    const [user, password] = await Promise.all([
        store.read(secret, CREDENTIAL_KEYS.username),
        store.read(secret, CREDENTIAL_KEYS.password),
    ]);
    if (user === undefined || password === undefined)
        throw new Error(`the sink's Secret ${secret} (${store.where}) has no username/password`);
    const sink = pipeline.sink;
    const client = new Client({
        host: sink.host,
        port: sink.port,
        database: sink.database,
        user,
        password,
        ssl: tlsFor(sink.sslMode, caPem),
        connectionTimeoutMillis: 10_000,
    });
    client.on("error", () => undefined);
    await client.connect();
    try {
        const rows = (await client.query(COLUMNS_SQL, [sink.schema.toLowerCase(), targetTableName(pipeline, table)])).rows as (Parameters<
            typeof targetColumnOf
        >[0] & { column_name: string })[];
        return rows.length === 0 ? undefined : new Map(rows.map((r) => [r.column_name, targetColumnOf(r)]));
    } finally {
        await client.end();
    }
}
