/**
 * Gathers the facts `cdc preflight` decides on (ops/preflight-checks.ts): catalog rows from each source and
 * target database, logged in as the connector itself; which Secret keys exist; how the broker describes the
 * planned topics. One gatherer per source kind. What cannot be reached becomes an `Unchecked` entry in the
 * command, never a silent pass.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Admin, ConfigResourceTypes } from "@platformatic/kafka";
import * as mssql from "mssql";
import * as mysql from "mysql2/promise";
import { Client } from "pg";
import type { ConnectionOptions as TlsOptions } from "tls";
import { signalTableParts } from "../model/signal-table";
import type { MySqlSourceSpec, PipelineSpec, PostgresSourceSpec, SqlServerSourceSpec } from "../model/spec";
import { targetTableName } from "../plan/postgres-target";
import { clientOptions } from "./kafka-client";
import type { MySqlSourceFacts, PostgresSourceFacts, SqlServerSourceFacts, TableFacts, TargetFacts, TopicFacts } from "./preflight-checks";
import {
    CatalogQuery,
    MYSQL_BINLOG_QUERY,
    mysqlTablesQuery,
    POSTGRES_REPLICATION_QUERY,
    postgresPublicationQuery,
    postgresSchemasQuery,
    postgresSlotQuery,
    postgresTablesQuery,
    SQLSERVER_AGENT_QUERY,
    sqlServerDatabasesQuery,
    sqlServerTablesQuery,
} from "./preflight-sql";
import type { KafkaConnection } from "./target";

export interface Login {
    username: string;
    password: string;
}

/**
 * Where the Secrets the connectors reference are kept, as Kubernetes lays a Secret out when mounted:
 * `<secret>/<key>` files (the sandbox's DirectoryConfigProvider folder, or one an operator mounts), or
 * the cluster's Secrets read through kubectl.
 */
export interface SecretStore {
    /** Names the place, for findings ("/…/secrets", "namespace cdc"). */
    where: string;
    /** The keys present in each requested Secret (an absent Secret has none). */
    keys(secrets: readonly string[]): Promise<Map<string, Set<string>>>;
    read(secret: string, key: string): Promise<string | undefined>;
    /** How to bring a missing key back. */
    fixFor(secret: string, key: string): string;
}

export function directorySecretStore(dir: string, vaultHint: string): SecretStore {
    const file = (secret: string, key: string) => path.join(dir, secret, key);
    return {
        where: dir,
        async keys(secrets) {
            const out = new Map<string, Set<string>>();
            for (const s of secrets) {
                const present = new Set<string>();
                let names: string[] = [];
                try {
                    names = fs.readdirSync(path.join(dir, s));
                } catch {
                    // no such Secret folder: no keys
                }
                // An empty value is a value (the sandbox's PostgreSQL logins have no password); a missing file is not.
                for (const n of names) if (fs.statSync(file(s, n)).isFile()) present.add(n);
                out.set(s, present);
            }
            return out;
        },
        async read(secret, key) {
            try {
                return fs.readFileSync(file(secret, key), "utf8").trimEnd();
            } catch {
                return undefined;
            }
        },
        fixFor: (secret, key) => `write the value to ${file(secret, key)} (${vaultHint})`,
    };
}

/** Runs kubectl without a shell; rejects with its stderr. */
function kubectl(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile("kubectl", args, { env, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`kubectl ${args.join(" ")}: ${stderr.trim() || err.message}`));
            else resolve(stdout);
        });
    });
}

/** The cluster's Secrets through `kubectl get secret` (needs `get` on Secrets in the namespace). Not run here: there is no cluster. */
export function kubectlSecretStore(namespace: string, env: NodeJS.ProcessEnv): SecretStore {
    const data = async (secret: string): Promise<Record<string, string> | undefined> => {
        try {
            return (
                (
                    JSON.parse(await kubectl(env, ["-n", namespace, "get", "secret", secret, "-o", "json"])) as {
                        data?: Record<string, string>;
                    }
                ).data ?? {}
            );
        } catch (e) {
            if (/NotFound/.test((e as Error).message)) return undefined;
            throw e;
        }
    };
    return {
        where: `namespace ${namespace}`,
        async keys(secrets) {
            const out = new Map<string, Set<string>>();
            for (const s of secrets)
                out.set(
                    s,
                    new Set(
                        Object.entries((await data(s)) ?? {})
                            .filter(([, v]) => v !== "")
                            .map(([k]) => k),
                    ),
                );
            return out;
        },
        async read(secret, key) {
            const value = (await data(secret))?.[key];
            return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
        },
        fixFor: (secret) =>
            `check the Vault Secrets Operator syncs it: kubectl -n ${namespace} describe vaultstaticsecret ${secret} (its Vault path is in docs/deploy.md "Secrets")`,
    };
}

/** Verification from the config's TLS mode (PostgreSQL, MySQL and MariaDB spellings); undefined: plaintext. */
export function tlsFor(mode: string, ca?: string): TlsOptions | undefined {
    switch (mode) {
        case "require":
        case "required":
        case "trust":
            return { rejectUnauthorized: false };
        case "verify-ca":
        case "verify_ca":
            return { rejectUnauthorized: true, ca, checkServerIdentity: () => undefined };
        case "verify-full":
        case "verify_identity":
            return { rejectUnauthorized: true, ca };
        default:
            return undefined;
    }
}

async function pgQuery<Row>(client: Client, q: CatalogQuery): Promise<Row[]> {
    return (await client.query(q.sql, q.params)).rows as Row[];
}

async function withPostgres<T>(
    host: string,
    port: number,
    database: string,
    login: Login,
    ssl: TlsOptions | undefined,
    fn: (c: Client) => Promise<T>,
): Promise<T> {
    const client = new Client({
        host,
        port,
        database,
        user: login.username,
        password: login.password,
        ssl,
        connectionTimeoutMillis: 10_000,
    });
    await client.connect();
    try {
        return await fn(client);
    } finally {
        await client.end();
    }
}

/** A row of postgresTablesQuery. */
interface PostgresTableRow {
    schema_name: string;
    table_name: string;
    table_exists: boolean;
    primary_key: string;
    owned: boolean;
}

function postgresTableFacts(t: PostgresTableRow): TableFacts {
    return {
        schema: t.schema_name,
        table: t.table_name,
        exists: t.table_exists,
        primaryKey: t.primary_key ? t.primary_key.split(",") : [],
        owned: t.owned,
    };
}

export async function gatherPostgresSource(source: PostgresSourceSpec, login: Login, caPem?: string): Promise<PostgresSourceFacts> {
    return withPostgres(source.host, source.port, source.database, login, tlsFor(source.sslMode, caPem), async (c) => {
        const tables = await pgQuery<PostgresTableRow>(c, postgresTablesQuery(source.tables));
        const [server] = await pgQuery<{
            wal_level: string;
            max_replication_slots: number;
            used_replication_slots: number;
            login: string;
            superuser: boolean;
            replication: boolean;
            can_create_in_database: boolean;
        }>(c, POSTGRES_REPLICATION_QUERY);
        const [publication] = await pgQuery<{ all_tables: boolean; owned: boolean; tables: string }>(
            c,
            postgresPublicationQuery(source.publicationName),
        );
        const [slot] = await pgQuery<{ plugin: string; slot_type: string; database: string }>(c, postgresSlotQuery(source.slotName));
        const [signal] = await pgQuery<{ table_exists: boolean }>(c, postgresTablesQuery([signalTableParts(source)]));
        return {
            kind: "postgres",
            tables: tables.map(postgresTableFacts),
            server: {
                walLevel: server.wal_level,
                maxReplicationSlots: server.max_replication_slots,
                usedReplicationSlots: server.used_replication_slots,
                login: server.login,
                superuser: server.superuser,
                replication: server.replication,
                canCreateInDatabase: server.can_create_in_database,
            },
            publication: publication
                ? {
                      allTables: publication.all_tables,
                      owned: publication.owned,
                      tables: publication.tables ? publication.tables.split(",") : [],
                  }
                : null,
            slot: slot ? { plugin: slot.plugin, slotType: slot.slot_type, database: slot.database } : null,
            signalTableExists: signal.table_exists,
        };
    });
}

export async function gatherMySqlSource(source: MySqlSourceSpec, login: Login, caPem?: string): Promise<MySqlSourceFacts> {
    const ssl = tlsFor(source.sslMode, caPem);
    const conn = await mysql.createConnection({
        host: source.host,
        port: source.port,
        user: login.username,
        password: login.password,
        ...(ssl ? { ssl: ssl as mysql.SslOptions } : {}),
        connectTimeout: 10_000,
    });
    try {
        const run = async <Row>(q: CatalogQuery) => (await conn.query(q.sql, q.params))[0] as Row[];
        const [binlog] = await run<{ log_bin: string | number; binlog_format: string; binlog_row_image: string }>(MYSQL_BINLOG_QUERY);
        const found = await run<{ table_name: string; primary_key: string }>(
            mysqlTablesQuery(
                source.database,
                source.tables.map((t) => t.table),
            ),
        );
        const signal = signalTableParts(source);
        const signalFound = await run<{ table_name: string }>(mysqlTablesQuery(signal.schema, [signal.table]));
        return {
            kind: "mysql",
            signalTableExists: signalFound.length > 0,
            binlog: { logBin: String(binlog.log_bin), binlogFormat: binlog.binlog_format, binlogRowImage: binlog.binlog_row_image },
            tables: source.tables.map((t) => {
                const row = found.find((f) => f.table_name.toLowerCase() === t.table.toLowerCase());
                return {
                    schema: t.database,
                    table: t.table,
                    exists: row !== undefined,
                    primaryKey: row?.primary_key ? row.primary_key.split(",") : [],
                };
            }),
        };
    } finally {
        await conn.end();
    }
}

/** Never run against a server here (there is no SQL Server on this machine): the queries and the decisions over their rows are unit-tested. */
export async function gatherSqlServerSource(source: SqlServerSourceSpec, login: Login): Promise<SqlServerSourceFacts> {
    const connect = (database: string) =>
        new mssql.ConnectionPool({
            server: source.host,
            port: source.port,
            database,
            user: login.username,
            password: login.password,
            options: { encrypt: source.encrypt, trustServerCertificate: source.trustServerCertificate },
            connectionTimeout: 10_000,
        }).connect();
    const run = async <Row>(pool: mssql.ConnectionPool, q: CatalogQuery): Promise<Row[]> => {
        const request = pool.request();
        q.params.forEach((p, i) => request.input(`p${i + 1}`, mssql.NVarChar, p));
        return (await request.query(q.sql)).recordset as Row[];
    };
    const master = await connect("master");
    let databases: { database_name: string; database_exists: number; is_cdc_enabled: number }[];
    let agent: { status_desc: string }[];
    try {
        databases = await run(master, sqlServerDatabasesQuery(source.databases));
        agent = await run<{ status_desc: string }>(master, SQLSERVER_AGENT_QUERY).catch(() => []);
    } finally {
        await master.close();
    }
    const tables: SqlServerSourceFacts["tables"] = [];
    for (const db of databases.filter((d) => d.database_exists === 1)) {
        const wanted = source.tables.filter((t) => t.database === db.database_name);
        if (wanted.length === 0) continue;
        const pool = await connect(db.database_name);
        try {
            const rows = await run<{
                schema_name: string;
                table_name: string;
                table_exists: number;
                primary_key: string;
                capture_instances: string;
            }>(pool, sqlServerTablesQuery(wanted, db.is_cdc_enabled === 1));
            for (const r of rows)
                tables.push({
                    database: db.database_name,
                    schema: r.schema_name,
                    table: r.table_name,
                    exists: r.table_exists === 1,
                    primaryKey: r.primary_key ? r.primary_key.split(",") : [],
                    captureInstances: r.capture_instances ? r.capture_instances.split(",") : [],
                });
        } finally {
            await pool.close();
        }
    }
    return {
        kind: "sqlserver",
        databases: databases.map((d) => ({ name: d.database_name, exists: d.database_exists === 1, cdcEnabled: d.is_cdc_enabled === 1 })),
        tables,
        agentStatus: agent[0]?.status_desc ?? null,
    };
}

export async function gatherTarget(pipeline: PipelineSpec, login: Login, caPem?: string): Promise<TargetFacts> {
    const sink = pipeline.sink;
    return withPostgres(sink.host, sink.port, sink.database, login, tlsFor(sink.sslMode, caPem), async (c) => {
        // The sink writes unquoted identifiers, which PostgreSQL folds to lower case.
        const schema = sink.schema.toLowerCase();
        const schemas = await pgQuery<{ schema_name: string; schema_exists: boolean; can_create: boolean }>(
            c,
            postgresSchemasQuery([schema]),
        );
        const tables = await pgQuery<PostgresTableRow>(
            c,
            postgresTablesQuery(pipeline.source.tables.map((t) => ({ schema, table: targetTableName(pipeline, t) }))),
        );
        return {
            schemas: schemas.map((s) => ({ name: s.schema_name, exists: s.schema_exists, canCreate: s.can_create })),
            tables: tables.map(postgresTableFacts),
        };
    });
}

/** Partitions, replication factor and the effective config of each topic; a topic the broker does not have maps to undefined. */
export async function gatherTopics(conn: KafkaConnection, names: readonly string[]): Promise<Map<string, TopicFacts | undefined>> {
    const admin = new Admin(clientOptions(conn, "cdc-preflight"));
    try {
        const existing = new Set(await admin.listTopics({ includeInternals: false }));
        const present = names.filter((n) => existing.has(n));
        const out = new Map<string, TopicFacts | undefined>(names.map((n) => [n, undefined]));
        if (present.length === 0) return out;
        const metadata = await admin.metadata({ topics: present, forceUpdate: true });
        const configs = await admin.describeConfigs({
            resources: present.map((resourceName) => ({ resourceType: ConfigResourceTypes.TOPIC, resourceName })),
        });
        for (const name of present) {
            const md = metadata.topics.get(name)!;
            const described = configs.find((c) => c.resourceName === name);
            out.set(name, {
                partitions: md.partitionsCount,
                replicationFactor: Math.min(...md.partitions.map((p) => p.replicas.length)),
                configs: Object.fromEntries(
                    (described?.configs ?? []).filter((c) => c.value !== null).map((c) => [c.name, c.value as string]),
                ),
            });
        }
        return out;
    } finally {
        await admin.close();
    }
}
