/**
 * The PostgreSQL target as plain data: databases, schemas, the sink's login role and the reconciler's
 * read-only role with their attributes, the grants each needs, and the DDL of target tables the stack
 * pre-creates when the sink may not create them (seed pre-replication rule 3: with auto.create off the
 * tables must exist with matching primary keys). components/postgres-target.ts turns this into resources.
 *
 * Every role is a plain login: not superuser, no CREATEDB, no CREATEROLE, no REPLICATION, no BYPASSRLS.
 * The writer gets USAGE on its target schema only (CREATE on it only when the sink creates tables) and
 * DML on its own tables; the reader gets USAGE and SELECT. Nothing is granted on any other schema.
 * The lakehouse writers' Iceberg SQL catalog gets a database of its own and a role that may create tables in its
 * `public` schema only: pyiceberg creates and owns its two catalog tables on first use.
 */
import type { ColumnSpec, IcebergCatalogSpec, PipelineSpec, StackSpec, TableSpec } from "../model/spec";
import { adminEndpoint, serverKey } from "../model/naming";

interface PgRolePlan {
    name: string;
    purpose: "writer" | "reader" | "catalog";
    login: true;
    superuser: false;
    createDatabase: false;
    createRole: false;
    replication: false;
    bypassRowLevelSecurity: false;
    inherit: true;
    /** -1 = unlimited. The writer is capped at twice its pools, so a runaway sink cannot exhaust the server. */
    connectionLimit: number;
    pipelines: string[];
}

type PgPrivilege = "CONNECT" | "USAGE" | "CREATE" | "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "TRUNCATE";

/** One postgresql.Grant: the provider owns the full privilege set of (role, database, schema, objectType[, objects]). */
export interface PgGrantPlan {
    role: string;
    database: string;
    schema?: string;
    objectType: "database" | "schema" | "table";
    /** Tables by name; empty = every table in the schema (existing ones, at grant time). */
    objects: string[];
    privileges: PgPrivilege[];
}

/** Privileges on tables a role will create later (the sink's auto-created tables, for the reader). */
interface PgDefaultPrivilegesPlan {
    role: string;
    owner: string;
    database: string;
    schema: string;
    objectType: "table";
    privileges: PgPrivilege[];
}

interface PgTablePlan {
    database: string;
    schema: string;
    table: string;
    pipeline: string;
    sourceTable: string;
    primaryKey: string[];
    sql: string;
}

/** One PostgreSQL server that pipelines write into; each gets its own provider and roles. */
export interface PostgresTargetPlan {
    /** The server as the pipelines (and the sink) name it. */
    host: string;
    port: number;
    /** Where Pulumi connects to prepare it (postgres.adminHosts, or host:port). */
    admin: { host: string; port: number };
    /** Stable, name-safe key of the server (host, and the port when it is not 5432). */
    key: string;
    pipelines: string[];
    /** Databases the stack creates (empty when postgres.createDatabases is false). */
    databases: string[];
    /** Schemas the stack creates (`public` exists in every database and is never created). */
    schemas: { database: string; schema: string }[];
    roles: PgRolePlan[];
    grants: PgGrantPlan[];
    defaultPrivileges: PgDefaultPrivilegesPlan[];
    tables: PgTablePlan[];
}

/** The sink writes unquoted identifiers (quote.identifiers=false), which PostgreSQL folds to lower case. */
const fold = (identifier: string): string => identifier.toLowerCase();
const quoteIdent = (identifier: string): string => `"${identifier.replace(/"/g, '""')}"`;

/**
 * The target table a source table lands in, as the sink names it: the Debezium sink's
 * collection.name.format placeholders, or the bare table name the Confluent sink is routed to.
 */
export function targetTableName(pipeline: PipelineSpec, table: TableSpec): string {
    if (pipeline.sink.implementation !== "debezium") return fold(table.table);
    const topicLike = [pipeline.source.topicPrefix, table.database, table.schema, table.table].filter(Boolean).join("_");
    return fold(
        pipeline.sink.tableNameFormat
            .replace(/\$\{source\.table\}/g, table.table)
            .replace(/\$\{source\.schema\}/g, table.schema)
            .replace(/\$\{source\.db\}/g, table.database)
            .replace(/\$\{topic\}/g, topicLike),
    );
}

export function createTableSql(schema: string, table: string, columns: ColumnSpec[], primaryKey: string[]): string {
    const keys = new Set(primaryKey.map(fold));
    const lines = columns.map((c) => {
        const notNull = !c.nullable || keys.has(fold(c.name));
        return `    ${quoteIdent(fold(c.name))} ${c.type}${notNull ? " NOT NULL" : ""}`;
    });
    lines.push(`    PRIMARY KEY (${primaryKey.map((k) => quoteIdent(fold(k))).join(", ")})`);
    return `CREATE TABLE IF NOT EXISTS ${quoteIdent(fold(schema))}.${quoteIdent(table)} (\n${lines.join(",\n")}\n);`;
}

const WRITER_DML: PgPrivilege[] = ["SELECT", "INSERT", "UPDATE", "DELETE"];

/** One plan per target server, in the order the pipelines first name them, then the Iceberg catalog's if it is elsewhere. */
export function planPostgresTargets(spec: StackSpec): PostgresTargetPlan[] {
    const servers = new Map<string, PipelineSpec[]>();
    for (const p of spec.pipelines) {
        const key = serverKey(p.sink.host, p.sink.port, 5432);
        servers.set(key, [...(servers.get(key) ?? []), p]);
    }
    const plans = [...servers.entries()].map(([key, pipelines]) => planPostgresServer(spec, key, pipelines));
    const catalog = spec.lakehouse?.catalog;
    if (catalog) {
        const key = serverKey(catalog.host, catalog.port, 5432);
        let plan = plans.find((p) => p.key === key);
        if (!plan) {
            plan = { ...emptyServer(spec, catalog.host, catalog.port), key };
            plans.push(plan);
        }
        addIcebergCatalog(spec, plan, catalog);
    }
    return plans;
}

function emptyServer(spec: StackSpec, host: string, port: number): Omit<PostgresTargetPlan, "key"> {
    return {
        host,
        port,
        admin: adminEndpoint(spec.postgres.adminHosts, host, port),
        pipelines: [],
        databases: [],
        schemas: [],
        roles: [],
        grants: [],
        defaultPrivileges: [],
        tables: [],
    };
}

/** pyiceberg's SQLAlchemy pool holds up to 15 connections (5 + 10 overflow) per process: a writer and its maintenance job per pipeline. */
const CATALOG_CONNECTIONS_PER_PIPELINE = 2 * 15;

function addIcebergCatalog(spec: StackSpec, plan: PostgresTargetPlan, catalog: IcebergCatalogSpec): void {
    const users = spec.pipelines.filter((p) => p.destinations.some((d) => d.format === "iceberg")).map((p) => p.name);
    if (spec.postgres.createDatabases) plan.databases = [...new Set([...plan.databases, catalog.database])].sort();
    plan.roles.push(loginRole(catalog.username, "catalog", CATALOG_CONNECTIONS_PER_PIPELINE * users.length, users));
    plan.grants.push(
        { role: catalog.username, database: catalog.database, objectType: "database", objects: [], privileges: ["CONNECT"] },
        {
            role: catalog.username,
            database: catalog.database,
            schema: "public",
            objectType: "schema",
            objects: [],
            privileges: ["USAGE", "CREATE"],
        },
    );
}

/** Every role the stack creates: a login with no attribute beyond it (least privilege; grants add the rest). */
function loginRole(name: string, purpose: PgRolePlan["purpose"], connectionLimit: number, pipelines: string[]): PgRolePlan {
    return {
        name,
        purpose,
        login: true,
        superuser: false,
        createDatabase: false,
        createRole: false,
        replication: false,
        bypassRowLevelSecurity: false,
        inherit: true,
        connectionLimit,
        pipelines,
    };
}

/** A login role shared by pipelines is one role: their connection budgets add up (a reader's stays unlimited). */
function addLoginRole(
    roles: Map<string, PgRolePlan>,
    name: string,
    purpose: PgRolePlan["purpose"],
    pipeline: string,
    connections: number,
): void {
    const existing = roles.get(name);
    if (existing) {
        existing.pipelines.push(pipeline);
        if (existing.connectionLimit >= 0) existing.connectionLimit += connections;
        return;
    }
    roles.set(name, loginRole(name, purpose, connections, [pipeline]));
}

/**
 * Grants are merged per (role, database, schema, objectType): the provider revokes what one Grant resource does
 * not list, so two resources on the same key would undo each other.
 */
function mergeGrant(grants: Map<string, PgGrantPlan>, g: PgGrantPlan): void {
    const key = [g.role, g.database, g.schema ?? "", g.objectType].join("\u0000");
    const existing = grants.get(key);
    if (!existing) {
        grants.set(key, { ...g, objects: [...g.objects], privileges: [...g.privileges] });
        return;
    }
    // "Every table" absorbs named tables.
    existing.objects =
        existing.objects.length === 0 || g.objects.length === 0 ? [] : [...new Set([...existing.objects, ...g.objects])].sort();
    existing.privileges = PRIVILEGE_ORDER.filter((p) => existing.privileges.includes(p) || g.privileges.includes(p));
}

/** The target tables a pipeline whose sink does not create them needs, once per (database, schema, table). */
function addTargetTables(tables: PgTablePlan[], pipeline: PipelineSpec, database: string, schema: string): void {
    for (const t of pipeline.source.tables) {
        const table = targetTableName(pipeline, t);
        // Several source tables may land in one target table; plan/access-rules.ts requires one definition.
        if (!t.columns || tables.some((x) => x.database === database && x.schema === schema && x.table === table)) continue;
        tables.push({
            database,
            schema,
            table,
            pipeline: pipeline.name,
            sourceTable: `${t.schema}.${t.table}`,
            primaryKey: t.primaryKey.map(fold),
            sql: createTableSql(schema, table, t.columns, t.primaryKey),
        });
    }
}

function planPostgresServer(spec: StackSpec, key: string, pipelines: PipelineSpec[]): PostgresTargetPlan {
    const roles = new Map<string, PgRolePlan>();
    const role = (name: string, purpose: PgRolePlan["purpose"], pipeline: string, connections: number): void =>
        addLoginRole(roles, name, purpose, pipeline, connections);
    const grants = new Map<string, PgGrantPlan>();
    const grant = (g: PgGrantPlan): void => mergeGrant(grants, g);
    // Pipelines sharing a target schema share its default privileges: one resource per (role, owner, database, schema).
    const defaults = new Map<string, PgDefaultPrivilegesPlan>();
    const tables: PgTablePlan[] = [];
    const databases = new Set<string>();
    const schemas = new Map<string, { database: string; schema: string }>();

    for (const pipeline of pipelines) {
        const { sink } = pipeline;
        const database = sink.database;
        const schema = fold(sink.schema);
        databases.add(database);
        if (schema !== "public") schemas.set(`${database}\u0000${schema}`, { database, schema });

        const writer = sink.username;
        const reader = sink.readOnlyUsername;
        role(writer, "writer", pipeline.name, 2 * sink.connectionPool.maxSize * sink.tasksMax);
        if (spec.reconciler) role(reader, "reader", pipeline.name, -1);
        const readers = spec.reconciler ? [reader] : [];

        for (const r of [writer, ...readers]) {
            grant({ role: r, database, objectType: "database", objects: [], privileges: ["CONNECT"] });
        }
        grant({
            role: writer,
            database,
            schema,
            objectType: "schema",
            objects: [],
            privileges: sink.autoCreate ? ["USAGE", "CREATE"] : ["USAGE"],
        });
        for (const r of readers) grant({ role: r, database, schema, objectType: "schema", objects: [], privileges: ["USAGE"] });

        const names = pipeline.source.tables.map((t) => targetTableName(pipeline, t)).sort();
        if (sink.autoCreate) {
            // The writer owns what it creates; the reader needs SELECT on those tables, present and future.
            for (const r of readers) {
                grant({ role: r, database, schema, objectType: "table", objects: [], privileges: ["SELECT"] });
                defaults.set([r, writer, database, schema].join("\u0000"), {
                    role: r,
                    owner: writer,
                    database,
                    schema,
                    objectType: "table",
                    privileges: ["SELECT"],
                });
            }
        } else {
            const dml: PgPrivilege[] = sink.truncateEnabled ? [...WRITER_DML, "TRUNCATE"] : WRITER_DML;
            grant({ role: writer, database, schema, objectType: "table", objects: names, privileges: dml });
            for (const r of readers) grant({ role: r, database, schema, objectType: "table", objects: names, privileges: ["SELECT"] });
            addTargetTables(tables, pipeline, database, schema);
        }
    }

    return {
        host: pipelines[0].sink.host,
        port: pipelines[0].sink.port,
        admin: adminEndpoint(spec.postgres.adminHosts, pipelines[0].sink.host, pipelines[0].sink.port),
        key,
        pipelines: pipelines.map((p) => p.name),
        databases: spec.postgres.createDatabases ? [...databases].sort() : [],
        schemas: [...schemas.values()],
        roles: [...roles.values()],
        grants: [...grants.values()],
        defaultPrivileges: [...defaults.values()],
        tables,
    };
}

const PRIVILEGE_ORDER: PgPrivilege[] = ["CONNECT", "USAGE", "CREATE", "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"];
