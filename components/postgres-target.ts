import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import * as random from "@pulumi/random";
import type { PostgresTargetPlan } from "../plan/postgres-target";
import { PostgresTable } from "./postgres-table";
import { generatedPasswordArgs } from "./passwords";

export interface PostgresAdmin {
    username?: string;
    password?: pulumi.Input<string>;
    sslmode?: string;
    superuser?: boolean;
}

export interface PostgresTargetArgs {
    plan: PostgresTargetPlan;
    /** Admin login for this server (config `postgresql:` namespace); unset values come from PGUSER/PGPASSWORD. */
    admin: PostgresAdmin;
    /** Prod keeps databases and tables on `pulumi destroy`. */
    protect: boolean;
}

/**
 * One PostgreSQL target server: its provider, the databases and schemas, the sink's login role and the
 * reconciler's read-only role with generated passwords, their grants, and the pre-created tables.
 */
export class PostgresTarget extends pulumi.ComponentResource {
    /** Generated password of each login role, by role name; Pulumi secrets. */
    readonly passwords: Record<string, pulumi.Output<string>>;
    readonly roleNames: pulumi.Output<string[]>;

    constructor(name: string, args: PostgresTargetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cdc:postgres:Target", name, {}, opts);
        const { plan, admin } = args;
        const provider = new postgresql.Provider(
            `${name}-provider`,
            {
                host: plan.admin.host,
                port: plan.admin.port,
                username: admin.username,
                password: admin.password === undefined ? undefined : pulumi.secret(admin.password),
                sslmode: admin.sslmode,
                superuser: admin.superuser,
            },
            { parent: this },
        );
        const child = { parent: this, provider };
        const kept = { protect: args.protect, retainOnDelete: args.protect };

        const databases = plan.databases.map(
            (db) =>
                new postgresql.Database(`${name}-db-${db}`, { name: db, encoding: "UTF8", template: "template0" }, { ...child, ...kept }),
        );
        const schemas = plan.schemas.map(
            (s) =>
                new postgresql.Schema(
                    `${name}-schema-${s.database}.${s.schema}`,
                    { name: s.schema, database: s.database, ifNotExists: true, dropCascade: false },
                    { ...child, ...kept, dependsOn: databases },
                ),
        );

        this.passwords = {};
        const roles = plan.roles.map((r) => {
            const password = new random.RandomPassword(`${name}-password-${r.name}`, generatedPasswordArgs, { parent: this });
            const secret = pulumi.secret(password.result);
            this.passwords[r.name] = secret;
            return new postgresql.Role(
                `${name}-role-${r.name}`,
                {
                    name: r.name,
                    login: r.login,
                    password: secret,
                    superuser: r.superuser,
                    createDatabase: r.createDatabase,
                    createRole: r.createRole,
                    replication: r.replication,
                    bypassRowLevelSecurity: r.bypassRowLevelSecurity,
                    inherit: r.inherit,
                    connectionLimit: r.connectionLimit,
                },
                child,
            );
        });

        const tables = plan.tables.map(
            (t) =>
                new PostgresTable(
                    `${name}-table-${t.database}.${t.schema}.${t.table}`,
                    {
                        connection: {
                            host: plan.admin.host,
                            port: plan.admin.port,
                            database: t.database,
                            user: admin.username,
                            password: admin.password === undefined ? undefined : pulumi.secret(admin.password),
                            sslmode: admin.sslmode,
                        },
                        schema: t.schema,
                        table: t.table,
                        sql: t.sql,
                    },
                    { parent: this, ...kept, dependsOn: [...databases, ...schemas] },
                ),
        );

        const after = [...databases, ...schemas, ...roles, ...tables];
        for (const g of plan.grants) {
            const scope = [g.database, g.schema, g.objectType].filter(Boolean).join("-");
            new postgresql.Grant(
                `${name}-grant-${g.role}-${scope}`,
                {
                    role: g.role,
                    database: g.database,
                    ...(g.schema ? { schema: g.schema } : {}),
                    objectType: g.objectType,
                    ...(g.objectType === "table" ? { objects: g.objects } : {}),
                    privileges: g.privileges,
                    withGrantOption: false,
                },
                { ...child, dependsOn: after },
            );
        }
        for (const d of plan.defaultPrivileges) {
            new postgresql.DefaultPrivileges(
                `${name}-default-${d.role}-${d.database}-${d.schema}-from-${d.owner}`,
                {
                    role: d.role,
                    owner: d.owner,
                    database: d.database,
                    schema: d.schema,
                    objectType: d.objectType,
                    privileges: d.privileges,
                    withGrantOption: false,
                },
                { ...child, dependsOn: after },
            );
        }

        this.roleNames = pulumi.all(roles.map((r) => r.name));
        this.registerOutputs({ roleNames: this.roleNames });
    }
}
