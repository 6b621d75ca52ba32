import * as pulumi from "@pulumi/pulumi";
import * as mssql from "@pulumiverse/mssql";
import * as random from "@pulumi/random";
import { SqlServerSourcePlan, VIEW_DATABASE_STATE } from "../plan/sqlserver-source";
import { generatedPasswordArgs } from "./passwords";

export interface SqlServerSourceArgs {
    plan: SqlServerSourcePlan;
    /** `mssql:sqlAuth` ({ username, password }); the login must be sysadmin for sys.sp_cdc_enable_db. */
    admin?: pulumi.Input<{ username: string; password: string }>;
}

/**
 * One SQL Server source: the CDC reader login with a generated password, its user in every captured
 * database (gating role member, VIEW DATABASE STATE, SELECT grants), and CDC enablement as idempotent
 * scripts. The captured databases must exist; they are looked up, never created.
 */
export class SqlServerSource extends pulumi.ComponentResource {
    /** Generated password of each reader login, by login name; Pulumi secrets. */
    readonly passwords: Record<string, pulumi.Output<string>>;
    readonly loginNames: pulumi.Output<string[]>;

    constructor(name: string, args: SqlServerSourceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cdc:sqlserver:Source", name, {}, opts);
        const { plan } = args;
        const provider = new mssql.Provider(
            `${name}-provider`,
            { hostname: plan.admin.host, port: plan.admin.port, ...(args.admin ? { sqlAuth: pulumi.secret(args.admin) } : {}) },
            { parent: this },
        );
        const child = { parent: this, provider };

        this.passwords = {};
        const logins = new Map<string, mssql.SqlLogin>();
        for (const login of plan.logins) {
            const password = new random.RandomPassword(`${name}-password-${login.name}`, generatedPasswordArgs, { parent: this });
            const secret = pulumi.secret(password.result);
            this.passwords[login.name] = secret;
            logins.set(
                login.name,
                new mssql.SqlLogin(
                    `${name}-login-${login.name}`,
                    {
                        name: login.name,
                        password: secret,
                        checkPasswordPolicy: true,
                        checkPasswordExpiration: false,
                        mustChangePassword: false,
                    },
                    child,
                ),
            );
        }

        for (const db of plan.databases) {
            const prefix = `${name}-${db.database}`;
            const databaseId = mssql.getDatabaseOutput({ name: db.database }, { parent: this, provider }).id;
            const gatingRole = new mssql.DatabaseRole(`${prefix}-gating-role`, { name: db.gatingRole, databaseId }, child);
            const users = new Map<string, pulumi.Resource[]>();
            for (const userName of db.users) {
                const user = new mssql.SqlUser(
                    `${prefix}-user-${userName}`,
                    { name: userName, databaseId, loginId: logins.get(userName)!.id },
                    child,
                );
                const member = new mssql.DatabaseRoleMember(
                    `${prefix}-gating-member-${userName}`,
                    { roleId: gatingRole.id, memberId: user.id },
                    child,
                );
                const viewState = new mssql.DatabasePermission(
                    `${prefix}-view-database-state-${userName}`,
                    { principalId: user.id, permission: VIEW_DATABASE_STATE, withGrantOption: false },
                    child,
                );
                users.set(userName, [user, member, viewState]);
            }
            const scripts = new Map<string, mssql.Script>();
            for (const script of db.scripts) {
                const dependsOn: pulumi.Resource[] = [gatingRole, ...script.after.map((key) => scripts.get(key)!)];
                if (script.needsUser) dependsOn.push(...users.get(script.needsUser)!);
                scripts.set(
                    script.key,
                    new mssql.Script(
                        `${prefix}-${script.key}`,
                        {
                            databaseId,
                            readScript: script.readScript,
                            state: script.state,
                            updateScript: script.updateScript,
                            ...(script.deleteScript ? { deleteScript: script.deleteScript } : {}),
                        },
                        { ...child, dependsOn },
                    ),
                );
            }
        }

        this.loginNames = pulumi.all([...logins.values()].map((l) => l.name));
        this.registerOutputs({ loginNames: this.loginNames });
    }
}
