/**
 * `cdc preflight`: the seed's pre-replication validation against the real target — source tables and their
 * primary keys, change capture, target tables, the Secrets the connectors reference, the planned topics —
 * one line per problem with its fix. Exit 1 when a problem is found, 3 when nothing was found wrong but a
 * check could not run (a database, Kafka or the Secrets out of reach), 0 when everything checked out.
 */
import * as fs from "fs";
import { parseFlags } from "../model/args";
import { CREDENTIAL_KEYS } from "../model/naming";
import type { PipelineSpec, StackSpec } from "../model/spec";
import { planTopics } from "../plan/topics";
import { Command, errorText, EXIT } from "./command";
import { emit, OUTPUT_FLAGS } from "./output";
import {
    checkChangeCapture,
    CheckName,
    checkSecrets,
    checkSignalTable,
    checkSourceTables,
    checkTarget,
    checkTopics,
    connectorSecretReferences,
    Finding,
    findingLine,
    SecretReference,
    SourceFacts,
    Unchecked,
} from "./preflight-checks";
import {
    directorySecretStore,
    gatherMySqlSource,
    gatherPostgresSource,
    gatherSqlServerSource,
    gatherTarget,
    gatherTopics,
    kubectlSecretStore,
    Login,
    SecretStore,
} from "./preflight-gather";
import { describeTarget, resolveTarget, Target, TARGET_FLAGS, TARGET_USAGE } from "./target";

const USAGE = [
    "cdc preflight [--secrets-dir <dir>] [target flags]",
    "  --secrets-dir <dir>          stack targets: folders <secret>/<key> as mounted Secrets (default: read the Secrets with kubectl)",
    "  (CDC_DATABASE_CA_FILE: PEM of the CA the databases' certificates chain to, for verify-* TLS modes)",
    TARGET_USAGE,
].join("\n");

export interface PreflightReport {
    target: string;
    /** Every check that ran, by name and subject, so "no finding" can be told from "not looked at". */
    checked: { check: CheckName; subject: string }[];
    findings: Finding[];
    unchecked: Unchecked[];
}

const VAULT_HINT = "in a cluster the Vault Secrets Operator writes it from Vault";

function secretStore(target: Target, secretsDir: string | undefined, env: NodeJS.ProcessEnv): SecretStore {
    if (target.sandbox) return directorySecretStore(target.sandbox.secretsDir, VAULT_HINT);
    if (secretsDir !== undefined) return directorySecretStore(secretsDir, VAULT_HINT);
    return kubectlSecretStore(target.namespace, env);
}

/** Records a check that ran and what it found. */
function ran(report: PreflightReport, check: CheckName, subject: string, findings: Finding[]): void {
    report.checked.push({ check, subject });
    report.findings.push(...findings);
}

/** The connector's database login from its Secrets, or why it cannot be had. */
type LoginOf = (connector: string) => Promise<Login | string>;

export async function runPreflight(target: Target, store: SecretStore, caPem?: string): Promise<PreflightReport> {
    const report: PreflightReport = { target: describeTarget(target), checked: [], findings: [], unchecked: [] };
    // 4. Secrets first: the database checks log in with the credentials they hold.
    const refs = connectorSecretReferences(target.spec);
    const keys = await checkSecretKeys(report, refs, store);
    const loginOf = connectorLogins(refs, keys, store);
    for (const [index, pipeline] of target.spec.pipelines.entries()) {
        await checkSourceDatabase(report, target.spec, pipeline, index, loginOf, caPem);
        await checkTargetDatabase(report, pipeline, index, loginOf, caPem);
    }
    await checkPlannedTopics(report, target);
    return report;
}

/** Which referenced Secret keys exist; undefined (and an unchecked entry) when the Secrets cannot be read. */
async function checkSecretKeys(
    report: PreflightReport,
    refs: SecretReference[],
    store: SecretStore,
): Promise<Map<string, Set<string>> | undefined> {
    try {
        const keys = await store.keys([...new Set(refs.map((r) => r.secret))]);
        const present = new Set([...keys].flatMap(([secret, ks]) => [...ks].map((k) => `${secret}/${k}`)));
        ran(report, "secret", store.where, checkSecrets(refs, present, store.where, store.fixFor));
        return keys;
    } catch (e) {
        report.unchecked.push({
            check: "secret",
            subject: store.where,
            reason: errorText(e),
            fix: "run where kubectl reaches the cluster with get on Secrets, or pass --secrets-dir",
        });
        return undefined;
    }
}

function connectorLogins(refs: SecretReference[], keys: Map<string, Set<string>> | undefined, store: SecretStore): LoginOf {
    return async (connector) => {
        const mine = refs.filter((r) => r.connector === connector);
        const ref = (key: string) => mine.find((r) => r.key === key);
        const user = ref(CREDENTIAL_KEYS.username);
        const password = ref(CREDENTIAL_KEYS.password);
        if (!user || !password) return `connector ${connector} references no username/password Secret`;
        if (!keys) return `the Secrets in ${store.where} could not be read`;
        for (const r of [user, password])
            if (!keys.get(r.secret)?.has(r.key)) return `Secret ${r.secret} key ${r.key} is missing (see above)`;
        const [username, pw] = await Promise.all([store.read(user.secret, user.key), store.read(password.secret, password.key)]);
        return username !== undefined && pw !== undefined ? { username, password: pw } : `Secret ${user.secret} could not be read`;
    };
}

/** 1, 2 and the signal table: logged in as the source connector. */
async function checkSourceDatabase(
    report: PreflightReport,
    spec: StackSpec,
    pipeline: PipelineSpec,
    index: number,
    loginOf: LoginOf,
    caPem: string | undefined,
): Promise<void> {
    const subject = `${pipeline.name} source ${pipeline.source.host}:${pipeline.source.port}`;
    const checks = ["source-table", "change-capture"] as const;
    const login = await loginOf(pipeline.source.connectorName);
    if (typeof login === "string") {
        for (const check of checks)
            report.unchecked.push({
                check,
                subject,
                reason: `cannot log in as the connector: ${login}`,
                fix: "make the connector's Secret complete and readable, then run preflight again",
            });
        return;
    }
    try {
        const facts = await gatherSource(pipeline, login, caPem);
        ran(report, "source-table", subject, checkSourceTables(pipeline, index, facts));
        ran(report, "change-capture", subject, [...checkChangeCapture(spec, pipeline, facts), ...checkSignalTable(pipeline, facts)]);
    } catch (e) {
        for (const check of checks)
            report.unchecked.push({
                check,
                subject,
                reason: `${errorText(e)} (as ${login.username})`,
                fix: "check the database is up and reachable from here and the connector's login is valid",
            });
    }
}

/** 3: logged in as the sink connector. */
async function checkTargetDatabase(
    report: PreflightReport,
    pipeline: PipelineSpec,
    index: number,
    loginOf: LoginOf,
    caPem: string | undefined,
): Promise<void> {
    const subject = `${pipeline.name} target ${pipeline.sink.host}:${pipeline.sink.port}/${pipeline.sink.database}`;
    const login = await loginOf(pipeline.sink.connectorName);
    if (typeof login === "string") {
        report.unchecked.push({
            check: "target-table",
            subject,
            reason: `cannot log in as the sink: ${login}`,
            fix: "make the connector's Secret complete and readable, then run preflight again",
        });
        return;
    }
    try {
        ran(report, "target-table", subject, checkTarget(pipeline, index, await gatherTarget(pipeline, login, caPem)));
    } catch (e) {
        report.unchecked.push({
            check: "target-table",
            subject,
            reason: `${errorText(e)} (as ${login.username})`,
            fix: "check the target database is up and reachable from here and the sink's login is valid",
        });
    }
}

async function checkPlannedTopics(report: PreflightReport, target: Target): Promise<void> {
    const topics = planTopics(target.spec);
    const subject = `Kafka ${target.kafka.bootstrapServers.join(",")}`;
    try {
        const actual = await gatherTopics(
            target.kafka,
            topics.map((t) => t.name),
        );
        ran(report, "topic", subject, checkTopics(topics, actual));
    } catch (e) {
        report.unchecked.push({
            check: "topic",
            subject,
            reason: errorText(e),
            fix: "check the brokers run and the bootstrap list (--bootstrap-servers) and CDC_KAFKA_* security settings",
        });
    }
}

function gatherSource(pipeline: PipelineSpec, login: Login, caPem?: string): Promise<SourceFacts> {
    const source = pipeline.source;
    switch (source.kind) {
        case "postgres":
            return gatherPostgresSource(source, login, caPem);
        case "mysql":
        case "mariadb":
            return gatherMySqlSource(source, login, caPem);
        case "sqlserver":
            return gatherSqlServerSource(source, login);
    }
}

export function renderReport(r: PreflightReport): string {
    const lines = [`preflight of ${r.target}`];
    for (const f of r.findings) lines.push(`PROBLEM  ${findingLine(f)}`);
    for (const u of r.unchecked) lines.push(`UNCHECKED  ${u.subject} (${u.check}): ${u.reason} — fix: ${u.fix}`);
    const checks = [...new Set(r.checked.map((c) => c.check))];
    lines.push(
        `${r.findings.length} problem(s), ${r.unchecked.length} check(s) not run; checked: ${checks.join(", ") || "nothing"} (${r.checked.length} checks over ${new Set(r.checked.map((c) => c.subject)).size} endpoints)`,
    );
    return lines.join("\n") + "\n";
}

export function preflightExitCode(r: PreflightReport): number {
    if (r.findings.length > 0) return EXIT.PROBLEMS;
    return r.unchecked.length > 0 ? EXIT.UNREACHABLE : EXIT.OK;
}

export const preflight: Command = {
    name: "preflight",
    summary:
        "pre-replication validation: source keys and change capture, target tables, Secrets, topics; one line per problem with its fix",
    usage: USAGE,
    async run(argv, ctx) {
        const flags = parseFlags(argv, { ...OUTPUT_FLAGS, ...TARGET_FLAGS, "secrets-dir": { type: "string" } }, USAGE);
        const target = resolveTarget(flags, ctx.env, USAGE);
        const caFile = ctx.env.CDC_DATABASE_CA_FILE;
        const caPem = caFile ? fs.readFileSync(caFile, "utf8") : undefined;
        const report = await runPreflight(target, secretStore(target, flags["secrets-dir"], ctx.env), caPem);
        emit(ctx, flags, report, renderReport);
        return preflightExitCode(report);
    },
};
