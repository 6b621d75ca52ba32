/**
 * How `cdc` finds the deployment (ops/target.ts): the file a running sandbox writes, a stack file read through the
 * stack's own config parser, endpoint overrides, Kafka security from environment files, and the errors for each
 * thing missing.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackSpec } from "../../plan/stack-spec";
import { UnreachableError, UsageError } from "../../ops/command";
import { resolveTarget, sandboxTargetPath, TargetFlags, writeSandboxTarget } from "../../ops/target";
import type { RunningDatabase } from "../../sandbox/databases";
import { sandboxStackConfig } from "../../sandbox/stack";
import { rawProjectConfig } from "../helpers/stack-files";

const NO_FLAGS: TargetFlags = {
    sandbox: undefined,
    stack: undefined,
    "connect-url": undefined,
    "bootstrap-servers": undefined,
    mode: undefined,
};

function database(engine: "postgres" | "mariadb", port: number, database: string): RunningDatabase {
    const user = engine === "postgres" ? "postgres" : "sandbox";
    return {
        engine,
        url: `${engine}://${user}:pw@127.0.0.1:${port}/${database}`,
        host: "127.0.0.1",
        port,
        user,
        password: "pw",
        database,
    } as RunningDatabase;
}

function thrown(f: () => unknown): Error {
    try {
        f();
    } catch (e) {
        return e as Error;
    }
    throw new Error("did not throw");
}

describe("cdc targets (ops/target.ts)", () => {
    let root: string;
    let env: NodeJS.ProcessEnv;
    const stackConfig = sandboxStackConfig({
        bootstrapServers: "127.0.0.1:39092",
        postgresSource: database("postgres", 35432, "shop"),
        mariaDbSource: database("mariadb", 33306, "inventory"),
        target: database("postgres", 35433, "warehouse"),
    });

    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-target-"));
        env = { CDC_SANDBOX_DIR: root };
        const runDir = path.join(root, "demo");
        fs.mkdirSync(runDir);
        writeSandboxTarget(runDir, {
            name: "demo",
            connectUrl: "http://127.0.0.1:38083",
            bootstrapServers: "127.0.0.1:39092",
            secretsDir: path.join(runDir, "secrets"),
            databases: { postgresSource: "postgres://a", mariaDbSource: "mysql://b", target: "postgres://c" },
            stackConfig,
            startedAt: "2026-12-01T00:00:00.000Z",
        });
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it("reads the running sandbox's target file (demo by default), readable by its owner only, with the stack parsed as the sandbox parsed it", () => {
        expect(fs.statSync(sandboxTargetPath(path.join(root, "demo"))).mode & 0o777).to.equal(0o600);
        const t = resolveTarget(NO_FLAGS, env);
        expect(t).to.deep.include({ kind: "sandbox", name: "demo", mode: "rest", connectUrl: "http://127.0.0.1:38083" });
        expect(t.kafka).to.deep.equal({ bootstrapServers: ["127.0.0.1:39092"] });
        expect(t.spec).to.deep.equal(parseStackSpec(stackConfig).spec);
        expect(t.sandbox?.databases.target).to.equal("postgres://c");
    });

    it("lets flags and then environment variables override the sandbox's endpoints", () => {
        const t = resolveTarget(
            { ...NO_FLAGS, "connect-url": "http://flag:8083" },
            { ...env, CDC_CONNECT_URL: "http://env:8083", CDC_BOOTSTRAP_SERVERS: "a:9092, b:9092" },
        );
        expect(t.connectUrl).to.equal("http://flag:8083");
        expect(t.kafka.bootstrapServers).to.deep.equal(["a:9092", "b:9092"]);
    });

    it("names the missing target file and how to start a sandbox", () => {
        const err = thrown(() => resolveTarget({ ...NO_FLAGS, sandbox: "e2e" }, env));
        expect(err).to.be.instanceOf(UnreachableError);
        expect(err.message)
            .to.include(path.join(root, "e2e", "ops-target.json"))
            .and.include("npm run demo");
    });

    it("refuses two targets, strimzi mode on a sandbox, an unknown mode and a sandbox name that is a path", () => {
        expect(thrown(() => resolveTarget({ ...NO_FLAGS, sandbox: "demo", stack: "dev" }, env))).to.be.instanceOf(UsageError);
        expect(thrown(() => resolveTarget({ ...NO_FLAGS, mode: "strimzi" }, env)).message).to.include("needs a Kubernetes cluster");
        expect(thrown(() => resolveTarget({ ...NO_FLAGS, stack: "dev", mode: "kubectl" }, env)).message).to.include(
            "--mode must be rest or strimzi",
        );
        expect(thrown(() => resolveTarget({ ...NO_FLAGS, sandbox: "../etc" }, env))).to.be.instanceOf(UsageError);
    });

    it("reads a shipped stack through the config parser: strimzi mode, Strimzi's REST Service, the stack's bootstrap and TLS", () => {
        const prod = parseStackSpec(rawProjectConfig("prod")).spec;
        const ca = path.join(root, "ca.crt");
        fs.writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        const t = resolveTarget({ ...NO_FLAGS, stack: "prod" }, { CDC_KAFKA_CA_FILE: ca });
        expect(t).to.deep.include({ kind: "stack", name: "prod", mode: "strimzi", namespace: prod.namespace });
        expect(t.spec.pipelines.map((p) => p.name)).to.deep.equal(prod.pipelines.map((p) => p.name));
        expect(t.connectUrl).to.equal(`http://${prod.connect.name}-connect-api.${prod.namespace}.svc:8083`);
        expect(t.kafka.bootstrapServers).to.deep.equal([prod.kafka.bootstrapServers]);
        expect(prod.kafka.tls).to.equal(true);
        expect(t.kafka.tls?.ca).to.include("BEGIN CERTIFICATE");
        expect(resolveTarget({ ...NO_FLAGS, stack: "prod", mode: "rest" }, { CDC_KAFKA_TLS: "false" })).to.deep.include({ mode: "rest" });
    });

    it("takes SASL credentials from a password file, never a flag, and says what is missing", () => {
        const secret = path.join(root, "password");
        fs.writeFileSync(secret, "s3cret\n");
        const t = resolveTarget(NO_FLAGS, {
            ...env,
            CDC_KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
            CDC_KAFKA_SASL_USERNAME: "ops",
            CDC_KAFKA_SASL_PASSWORD_FILE: secret,
        });
        expect(t.kafka.sasl).to.deep.equal({ mechanism: "SCRAM-SHA-512", username: "ops", password: "s3cret" });
        expect(thrown(() => resolveTarget(NO_FLAGS, { ...env, CDC_KAFKA_SASL_MECHANISM: "SCRAM-SHA-512" })).message).to.include(
            "CDC_KAFKA_SASL_PASSWORD_FILE",
        );
        expect(thrown(() => resolveTarget(NO_FLAGS, { ...env, CDC_KAFKA_SASL_MECHANISM: "MD5" })).message).to.include(
            "must be one of PLAIN",
        );
        const missing = thrown(() =>
            resolveTarget(NO_FLAGS, {
                ...env,
                CDC_KAFKA_SASL_MECHANISM: "PLAIN",
                CDC_KAFKA_SASL_USERNAME: "ops",
                CDC_KAFKA_SASL_PASSWORD_FILE: "/nonexistent/pw",
            }),
        );
        expect(missing).to.be.instanceOf(UnreachableError);
        expect(missing.message).to.include("/nonexistent/pw").and.not.include("s3cret");
    });

    it("names a stack file that does not exist", () => {
        const err = thrown(() => resolveTarget({ ...NO_FLAGS, stack: "staging" }, env));
        expect(err).to.be.instanceOf(UnreachableError);
        expect(err.message).to.include("Pulumi.staging.yaml");
    });
});
