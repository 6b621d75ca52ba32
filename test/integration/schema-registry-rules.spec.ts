/**
 * The provider `pulumi up` sets subjects' compatibility rules with (components/schema-registry-rules.ts), serialized as
 * Pulumi stores it in the state and run against the real Apicurio Registry 3.3.3: it sets a rule before the subject
 * exists, the registry then refuses an incompatible schema the converter's v2 API registers, an update changes the
 * rule, and an unreachable registry or a refused request fails with the endpoint and the fix.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { subjectRuleProvider, SubjectRuleInputs } from "../../components/schema-registry-rules";
import { confluentApiUrl, registryApiUrl, RunningRegistry, startRegistry } from "../../sandbox/schema-registry";

type Provider = Required<Pick<pulumi.dynamic.ResourceProvider, "create" | "update" | "diff">>;

/** The provider as Pulumi serializes it into the state, loaded back the way the dynamic provider host does. */
async function serializedProvider(dir: string): Promise<Provider> {
    const { text, exportName } = await pulumi.runtime.serializeFunction(() => subjectRuleProvider, { isFactoryFunction: true });
    const file = path.join(dir, "provider.js");
    fs.writeFileSync(file, text);
    // A factory function's module exports what the factory returns: the provider object itself.
    return require(file)[exportName] as Provider;
}

const record = (fields: { name: string; type: string }[]) => JSON.stringify({ type: "record", name: "Row", namespace: "h5", fields });

/** Registers a schema the way the 2.6 converter does (v2 API, artifact id = subject, RETURN_OR_UPDATE). */
function register(registry: RunningRegistry, subject: string, schema: string): Promise<Response> {
    return fetch(`${registryApiUrl(registry.url)}/groups/default/artifacts?ifExists=RETURN_OR_UPDATE`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Registry-ArtifactId": subject, "X-Registry-ArtifactType": "AVRO" },
        body: schema,
    });
}

describe("components/schema-registry-rules: the serialized provider against Apicurio Registry", function () {
    this.timeout(240_000);
    let registry: RunningRegistry;
    let dir: string;
    let provider: Provider;

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "cdc-registry-rules-"));
        provider = await serializedProvider(dir);
        registry = await startRegistry({ runDir: dir });
    });

    after(async () => {
        await registry?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("sets BACKWARD on a subject no one registered yet, and the first registration takes it", async () => {
        const inputs: SubjectRuleInputs = { adminUrl: registry.url, subject: "h5.public.t-value", compatibility: "BACKWARD" };
        const created = await provider.create(inputs);
        expect(created).to.deep.equal({ id: "h5.public.t-value", outs: inputs });
        expect((await register(registry, inputs.subject, record([{ name: "id", type: "int" }]))).status).to.equal(200);
        const rule = await fetch(`${registry.url}/apis/registry/v3/groups/default/artifacts/${inputs.subject}/rules/COMPATIBILITY`);
        expect(await rule.json()).to.deep.equal({ ruleType: "COMPATIBILITY", config: "BACKWARD" });
        const retyped = await register(registry, inputs.subject, record([{ name: "id", type: "string" }]));
        // The v2 API answers a rule violation with 400 (its Confluent-compatible API would say 409), as the converter sees it.
        expect(retyped.status).to.equal(400);
        expect(await retyped.text()).to.include("RuleViolationException");
        expect(await (await fetch(`${confluentApiUrl(registry.url)}/subjects/${inputs.subject}/versions`)).json()).to.deep.equal([1]);
    });

    it("changes the rule on update (NONE accepts the same change) and reports it as a change in diff", async () => {
        const olds: SubjectRuleInputs = { adminUrl: registry.url, subject: "h5.public.t-value", compatibility: "BACKWARD" };
        const news: SubjectRuleInputs = { ...olds, compatibility: "NONE" };
        expect(await provider.diff(olds.subject, olds, news)).to.deep.equal({ changes: true, replaces: [], deleteBeforeReplace: false });
        await provider.update(olds.subject, olds, news);
        const config = await fetch(`${confluentApiUrl(registry.url)}/config/${news.subject}`);
        expect(await config.json()).to.deep.equal({ compatibilityLevel: "NONE" });
        expect((await register(registry, news.subject, record([{ name: "id", type: "string" }]))).status).to.equal(200);
    });

    it("keeps the login out of the outputs it stores", async () => {
        const inputs: SubjectRuleInputs = {
            adminUrl: registry.url,
            subject: "h5.public.u-key",
            compatibility: "FULL",
            login: { username: "cdc-writer", password: "not-asked-by-this-registry" },
        };
        const created = await provider.create(inputs);
        expect(created.outs).to.not.have.property("login");
        expect(JSON.stringify(created)).to.not.include("not-asked-by-this-registry");
    });

    it("names the endpoint and the fix when the registry is unreachable or refuses the rule", async () => {
        const unreachable = { adminUrl: "http://127.0.0.1:9", subject: "h5.public.t-value", compatibility: "BACKWARD" } as const;
        let error = await provider.create(unreachable).catch((e: Error) => e);
        expect(String(error)).to.include(
            "PUT http://127.0.0.1:9/apis/ccompat/v7/config/h5.public.t-value: the schema registry is unreachable",
        );
        expect(String(error)).to.include("schemaRegistry.adminUrl must be where pulumi up reaches the registry");
        const refused = { adminUrl: registry.url, subject: "h5.public.t-value", compatibility: "SOMETIMES" as never };
        error = await provider.create(refused).catch((e: Error) => e);
        expect(String(error)).to.match(
            /PUT http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7\/config\/h5\.public\.t-value: (4\d\d|the registry answered)/,
        );
    });
});
