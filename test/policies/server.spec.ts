/**
 * The pack as the Pulumi CLI starts it: `run-policy-pack` (the program the CLI's policy analyzer runs)
 * type-checks policies/index.ts with policies/tsconfig.json and serves it over gRPC; this test then
 * speaks the analyzer protocol to it like the engine does (GetAnalyzerInfo, Configure with a
 * --policy-pack-config file, ConfigureStack, Analyze per resource, AnalyzeStack). It is the closest
 * this repository can get to `pulumi preview --policy-pack policies` without a Pulumi CLI.
 */
import "./helpers/capture";
import { expect } from "chai";
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import type { PolicyPackConfig } from "@pulumi/policy";
import { POLICIES, PACK_NAME } from "../../policies/pack";
import { runProgram } from "../helpers/program";
import { REPO_ROOT } from "../helpers/stack-files";
import { AnalyzedResource, configOf, levelOf } from "./helpers/analyzer";
import { cloneResources, POLICIES_DIR, resourcesOf, shippedPackConfig } from "./helpers/stack";

const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
const { AnalyzerClient } = require("@pulumi/pulumi/proto/analyzer_grpc_pb");

const RUN_POLICY_PACK = path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack");
const LEVELS: Record<string, number> = {
    advisory: analyzerPb.EnforcementLevel.ADVISORY,
    mandatory: analyzerPb.EnforcementLevel.MANDATORY,
    disabled: analyzerPb.EnforcementLevel.DISABLED,
};
const LEVEL_NAMES = Object.fromEntries(Object.entries(LEVELS).map(([k, v]) => [v, k]));

interface ServedDiagnostic {
    policy: string;
    level: string;
    message: string;
}

function call<T>(client: any, method: string, request: unknown): Promise<T> {
    return new Promise((resolve, reject) =>
        client[method](request, (err: Error | null, response: T) => (err ? reject(err) : resolve(response))),
    );
}

const struct = (value: Record<string, unknown>) => Struct.fromJavaScript(JSON.parse(JSON.stringify(value)));

function options(r: AnalyzedResource) {
    const o = new analyzerPb.AnalyzerResourceOptions();
    o.setProtect(r.opts.protect);
    o.setIgnorechangesList(r.opts.ignoreChanges);
    if (r.opts.deleteBeforeReplace !== undefined) {
        o.setDeletebeforereplacedefined(true);
        o.setDeletebeforereplace(r.opts.deleteBeforeReplace);
    }
    if (r.parent) o.setParent(r.parent);
    return o;
}

function diagnosticsOf(response: any): ServedDiagnostic[] {
    return response
        .getDiagnosticsList()
        .map((d: any) => ({ policy: d.getPolicyname(), level: LEVEL_NAMES[d.getEnforcementlevel()], message: d.getMessage() }));
}

describe("policy pack served by Pulumi's run-policy-pack over the analyzer protocol", function () {
    this.timeout(180000);
    let child: ChildProcess | undefined;
    let client: any;
    let stderr = "";

    before(async () => {
        const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TS_NODE_")));
        child = spawn(process.execPath, [RUN_POLICY_PACK, "127.0.0.1:0", "."], {
            cwd: POLICIES_DIR,
            env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        child.stderr!.on("data", (chunk) => (stderr += chunk));
        const port = await new Promise<string>((resolve, reject) => {
            let out = "";
            child!.stdout!.on("data", (chunk) => {
                out += chunk;
                const line = out.split("\n").find((l) => /^\d+$/.test(l.trim()));
                if (line) resolve(line.trim());
            });
            child!.on("exit", (code) => reject(new Error(`run-policy-pack exited with ${code}:\n${stderr}${out}`)));
        });
        client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        if (child && child.exitCode === null) child.kill();
    });

    async function configure(config: PolicyPackConfig, tags: Record<string, string>): Promise<void> {
        const request = new analyzerPb.ConfigureAnalyzerRequest();
        // The CLI resolves `all` and per-policy levels and fills schema defaults before sending.
        for (const policy of POLICIES) {
            const entry = new analyzerPb.PolicyConfig();
            entry.setEnforcementlevel(LEVELS[levelOf(policy, config)]);
            entry.setProperties(struct(configOf(policy, config)));
            request.getPolicyconfigMap().set(policy.name, entry);
        }
        await call(client, "configure", request);
        const stack = new analyzerPb.AnalyzerStackConfigureRequest();
        stack.setStack("prod");
        stack.setProject("cdc-pipeline");
        for (const [k, v] of Object.entries(tags)) stack.getTagsMap().set(k, v);
        await call(client, "configureStack", stack);
    }

    async function analyzeEach(resources: AnalyzedResource[]): Promise<ServedDiagnostic[]> {
        const out: ServedDiagnostic[] = [];
        for (const r of resources) {
            const request = new analyzerPb.AnalyzeRequest();
            request.setType(r.type);
            request.setName(r.name);
            request.setUrn(r.urn);
            request.setProperties(struct(r.props));
            request.setOptions(options(r));
            out.push(...diagnosticsOf(await call(client, "analyze", request)));
        }
        return out;
    }

    async function analyzeStack(resources: AnalyzedResource[]): Promise<ServedDiagnostic[]> {
        const request = new analyzerPb.AnalyzeStackRequest();
        for (const r of resources) {
            const resource = new analyzerPb.AnalyzerResource();
            resource.setType(r.type);
            resource.setName(r.name);
            resource.setUrn(r.urn);
            resource.setProperties(struct(r.props));
            resource.setOptions(options(r));
            if (r.parent) resource.setParent(r.parent);
            resource.setDependenciesList(r.dependencies);
            request.addResources(resource);
        }
        return diagnosticsOf(await call(client, "analyzeStack", request));
    }

    it("type-checks and serves the pack with every policy, its level and its config schema", async () => {
        const info = await call<any>(client, "getAnalyzerInfo", new Empty());
        expect(info.getName()).to.equal(PACK_NAME);
        expect(info.getSupportsconfig()).to.equal(true);
        const served = info.getPoliciesList().map((p: any) => [p.getName(), LEVEL_NAMES[p.getEnforcementlevel()]]);
        expect(served).to.deep.equal(POLICIES.map((p) => [p.name, p.enforcementLevel]));
        const schema = info
            .getPoliciesList()
            .find((p: any) => p.getName() === "kafka-topic-replication-factor")
            .getConfigschema();
        expect(schema.getProperties().toJavaScript().minReplicationFactor.default).to.equal(3);
    });

    it("passes the real prod program with policies/prod.json, resource by resource and as a stack", async () => {
        const resources = await resourcesOf(await runProgram("prod", true), "prod");
        await configure(shippedPackConfig("prod"), { environment: "prod" });
        expect(await analyzeEach(resources)).to.deep.equal([]);
        expect(await analyzeStack(resources)).to.deep.equal([]);
    });

    it("reports a literal password (resource policy) and an undeclared DLQ topic (stack policy) as mandatory", async () => {
        const resources = cloneResources(await resourcesOf(await runProgram("prod", true), "prod"));
        const sink = resources.find(
            (r) => r.type === "kubernetes:kafka.strimzi.io/v1:KafkaConnector" && r.props.metadata.labels["cdc.pipeline/role"] === "sink",
        )!;
        sink.props.spec.config["connection.password"] = "hunter2";
        resources.splice(
            resources.findIndex((r) => r.type === "kafka:index/topic:Topic" && r.props.name === "dlq-postgresql-jdbc-sink"),
            1,
        );
        await configure(shippedPackConfig("prod"), { environment: "prod" });
        const perResource = await analyzeEach(resources);
        expect(perResource.map((d) => [d.policy, d.level])).to.deep.equal([["connector-credentials-by-reference", "mandatory"]]);
        expect(perResource[0].message)
            .to.include('KafkaConnector "cdc/postgresql-jdbc-sink" sets connection.password to a literal value')
            .and.not.include("hunter2");
        const stack = await analyzeStack(resources);
        expect(stack.map((d) => [d.policy, d.level])).to.deep.equal([["sink-dead-letter-topic-exists", "mandatory"]]);
    });

    it("applies the dev file's pack-wide switch: a data-loss violation is advisory, a leak stays mandatory", async () => {
        const resources = cloneResources(await resourcesOf(await runProgram("dev", true), "dev"));
        const sink = resources.find(
            (r) => r.type === "kubernetes:kafka.strimzi.io/v1:KafkaConnector" && r.props.metadata.labels["cdc.pipeline/role"] === "sink",
        )!;
        sink.props.spec.config["connection.password"] = "hunter2";
        delete sink.props.spec.config["errors.deadletterqueue.topic.name"];
        await configure(shippedPackConfig("dev"), { environment: "dev" });
        const found = (await analyzeEach(resources)).map((d) => [d.policy, d.level]);
        expect(found).to.have.deep.members([
            ["connector-credentials-by-reference", "mandatory"],
            ["sink-dead-letter-queue", "advisory"],
        ]);
    });

    it("reports the configuration guard when a dev-tagged stack is checked with prod.json", async () => {
        const resources = await resourcesOf(await runProgram("prod", true), "prod");
        await configure(shippedPackConfig("prod"), { environment: "dev" });
        const stack = await analyzeStack(resources);
        expect(stack.map((d) => d.policy)).to.deep.equal(["policy-config-matches-stack"]);
    });
});
