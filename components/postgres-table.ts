import * as pulumi from "@pulumi/pulumi";

/**
 * A target table created with `CREATE TABLE IF NOT EXISTS` (the postgresql provider has no table
 * resource). It only ever creates: a changed column list shows as an update in preview but is not
 * applied to an existing table (that is a migration for a person to review), and deleting the resource
 * keeps the table and its data.
 */
export interface PostgresTableConnection {
    host: string;
    port: number;
    database: string;
    /** Unset: node-postgres takes PGUSER / PGPASSWORD from the environment, like the provider does. */
    user?: string;
    password?: string;
    sslmode?: string;
}

export interface PostgresTableInputs {
    connection: PostgresTableConnection;
    schema: string;
    table: string;
    sql: string;
}

export interface PostgresTableArgs {
    connection: pulumi.Input<{
        host: pulumi.Input<string>;
        port: pulumi.Input<number>;
        database: pulumi.Input<string>;
        user?: pulumi.Input<string | undefined>;
        password?: pulumi.Input<string | undefined>;
        sslmode?: pulumi.Input<string | undefined>;
    }>;
    schema: pulumi.Input<string>;
    table: pulumi.Input<string>;
    sql: pulumi.Input<string>;
}

/** The provider's functions are serialized into the state; they capture nothing but `require`. */
const provider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: PostgresTableInputs) {
        await execute(inputs);
        return { id: `${inputs.connection.database}.${inputs.schema}.${inputs.table}`, outs: withoutPassword(inputs) };
    },
    async diff(_id: string, olds: PostgresTableInputs, news: PostgresTableInputs) {
        const replaces = [
            ...(olds.connection?.database !== news.connection.database ? ["database"] : []),
            ...(["schema", "table"] as const).filter((k) => olds[k] !== news[k]),
        ];
        const changed =
            replaces.length > 0 ||
            olds.sql !== news.sql ||
            olds.connection?.host !== news.connection.host ||
            olds.connection?.port !== news.connection.port;
        return { changes: changed, replaces, deleteBeforeReplace: false };
    },
    async update(_id: string, _olds: PostgresTableInputs, news: PostgresTableInputs) {
        await execute(news);
        return { outs: withoutPassword(news) };
    },
    async delete() {
        // Target tables hold replicated data; removing one is a decision for a person, not for `pulumi destroy`.
    },
};

function withoutPassword(inputs: PostgresTableInputs): PostgresTableInputs {
    const { password: _omitted, ...connection } = inputs.connection;
    return { ...inputs, connection };
}

async function execute(inputs: PostgresTableInputs): Promise<void> {
    const { Client } = require("pg");
    const { sslmode } = inputs.connection;
    const ssl =
        sslmode === "verify-ca" || sslmode === "verify-full"
            ? { rejectUnauthorized: true }
            : sslmode === "require"
              ? { rejectUnauthorized: false }
              : undefined;
    const client = new Client({
        host: inputs.connection.host,
        port: inputs.connection.port,
        database: inputs.connection.database,
        user: inputs.connection.user,
        password: inputs.connection.password,
        ssl,
        application_name: "pulumi-cdc-pipeline",
    });
    await client.connect();
    try {
        await client.query(inputs.sql);
    } finally {
        await client.end();
    }
}

export class PostgresTable extends pulumi.dynamic.Resource {
    constructor(name: string, args: PostgresTableArgs, opts?: pulumi.CustomResourceOptions) {
        super(provider, name, args, opts, "cdc", "PostgresTable");
    }
}
