/**
 * The reconciliation CronJob: its fields, the ConfigMap in the format the reconciler itself parses,
 * the credential files it mounts (URLs rendered by the Vault Secrets Operator from Vault), and the
 * rendered objects against the Kubernetes schemas.
 */
import { expect } from "chai";
import * as path from "path";
import { parseStackSpec } from "../plan/stack-spec";
import type { StackSpec } from "../model/spec";
import { parseDatabaseUrl } from "../reconciler/db";
import { parseArgs, parseReconcilerConfig, resolveEndpoint } from "../reconciler/config";
import {
    nodeHeapEnv,
    planReconcileRuns,
    reconcilerConfigMapBody,
    reconcilerCronJobBody,
    reconcilerServiceAccountBody,
    sourceUrlTemplates,
    targetUrlTemplates,
} from "../plan/reconciler-job";
import { CRONJOB_NAME_MAX } from "../model/naming";
import { REPORT_DIR } from "../model/paths";
import { planSecretSyncs, planVaultSecrets } from "../plan/vault";
import { validateManifest } from "./helpers/k8s-schemas";
import { runProgram } from "./helpers/program";
import { rawProjectConfig, SHIPPED_STACKS } from "./helpers/stack-files";

type Raw = Record<string, any>;
const raw = (stack: "dev" | "prod"): Raw => structuredClone(rawProjectConfig(stack));
const specOf = (r: Raw): StackSpec => parseStackSpec(r).spec;

/**
 * Renders the operator's templates for the subset of Go's text/template they use: `{{ .Secrets.k }}`
 * and `{{ .Secrets.k | urlquery }}` (Go's url.QueryEscape: space → '+', unreserved characters kept).
 */
function renderTemplate(text: string, secrets: Record<string, string>): string {
    return text.replace(/\{\{\s*\.Secrets\.(\w+)\s*(\|\s*urlquery\s*)?\}\}/g, (_, key: string, escape?: string) => {
        const value = secrets[key];
        if (value === undefined) throw new Error(`template reads missing key ${key}`);
        return escape
            ? encodeURIComponent(value)
                  .replace(/%20/g, "+")
                  .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
            : value;
    });
}

describe("reconciliation job plan", () => {
    it("caps the Node heap at half the container's memory limit, in any Kubernetes unit", () => {
        const heapOf = (limit: string) => nodeHeapEnv(limit).env?.[0].value;
        expect(heapOf("512Mi")).to.equal("--max-old-space-size=256");
        expect(heapOf("1Gi")).to.equal("--max-old-space-size=512");
        expect(heapOf("0.5Gi")).to.equal("--max-old-space-size=256");
        expect(heapOf("1G")).to.equal("--max-old-space-size=476");
        // Too small to cap usefully, or a notation we do not parse: Node sizes its heap itself.
        expect(heapOf("100Mi")).to.equal(undefined);
        expect(heapOf("536870912")).to.equal(undefined);
    });

    for (const stack of SHIPPED_STACKS) {
        const spec = specOf(raw(stack));
        const reconciler = spec.reconciler!;
        const [run] = planReconcileRuns(spec);

        it(`runs one reconciliation per pipeline source database (${stack})`, () => {
            expect(planReconcileRuns(spec).map((r) => [r.key, r.cronJobName, r.sourceDatabase])).to.deep.equal([
                ["sales", "cdc-reconciler-sales", "SalesDB"],
                // dev's seed 004 pipelines: PostgreSQL shop and MariaDB inventory.
                ...(stack === "dev"
                    ? [
                          ["shop", "cdc-reconciler-shop", "shop"],
                          ["inventory", "cdc-reconciler-inventory", "inventory"],
                      ]
                    : []),
            ]);
        });

        it(`writes a configuration the reconciler's own parser accepts: table pairs, tolerances, report location (${stack})`, () => {
            const text = reconcilerConfigMapBody(spec, reconciler, [run]).data["sales.json"];
            const parsed = parseReconcilerConfig(text);
            expect(parsed.tables).to.deep.equal([
                { source: "dbo.customers", target: "sales.customers" },
                { source: "dbo.orders", target: "sales.orders" },
                { source: "dbo.order_items", target: "sales.order_items" },
            ]);
            expect(parsed.reportDir).to.equal("/var/reports");
            expect(parsed.source).to.deep.equal({ urlFile: "/var/run/secrets/cdc/source/url" });
            expect(parsed.target).to.deep.equal({ urlFile: "/var/run/secrets/cdc/target/url" });
            // The stack's namespace in the grouping key, which the reconciliation alerts select by.
            expect(parsed.pushgateway).to.deep.equal({
                url: "http://pushgateway.monitoring.svc:9091",
                job: "cdc-reconciler",
                labels: { namespace: spec.namespace, pipeline: "sales", run: "sales" },
            });
            if (stack === "prod") {
                expect(parsed).to.deep.include({ maxDiscrepanciesPerTable: 1000, criticalRatio: 0.001 });
            } else {
                expect(parsed.lagWindowSeconds).to.equal(60);
            }
        });

        it(`passes the reconciler's CLI exactly --config <the mounted file> (${stack})`, () => {
            const job = reconcilerCronJobBody(spec, reconciler, run);
            const pod = job.spec.jobTemplate.spec.template.spec;
            const [container] = pod.containers;
            expect(parseArgs(container.args)).to.deep.include({
                config: "/etc/cdc-reconciler/reconciler.json",
                tables: [],
                verbose: false,
            });
            const configMount = container.volumeMounts.find((m) => m.name === "config")!;
            const configVolume = pod.volumes.find((v) => v.name === "config") as any;
            expect(path.join(configMount.mountPath, configVolume.configMap.items[0].path)).to.equal(container.args[1]);
            expect(configVolume.configMap.items[0].key).to.equal("sales.json");
        });

        it(`schedules from config and bounds every run (${stack})`, () => {
            const job = reconcilerCronJobBody(spec, reconciler, run);
            expect(job.spec).to.include({ schedule: stack === "prod" ? "30 2 * * *" : "*/30 * * * *", concurrencyPolicy: "Forbid" });
            expect(job.spec.jobTemplate.spec).to.include({ backoffLimit: 1, activeDeadlineSeconds: stack === "prod" ? 7200 : 1200 });
            const [container] = job.spec.jobTemplate.spec.template.spec.containers;
            expect(container.resources.requests).to.have.keys("cpu", "memory");
            expect(container.resources.limits).to.have.keys("cpu", "memory");
            // The heap is capped at half the memory limit (512Mi by default), so RSS follows what the run holds.
            const heap = stack === "prod" ? 512 : 256; // prod limits memory to 1Gi, dev keeps the 512Mi default
            expect(container.env).to.deep.equal([{ name: "NODE_OPTIONS", value: `--max-old-space-size=${heap}` }]);
            if (stack === "prod") expect((job.spec as any).timeZone).to.equal("Etc/UTC");
        });

        it(`runs as non-root with a read-only root filesystem and no service account token (${stack})`, () => {
            const pod = reconcilerCronJobBody(spec, reconciler, run).spec.jobTemplate.spec.template.spec;
            expect(pod.securityContext).to.deep.include({ runAsNonRoot: true, runAsUser: 65532 });
            expect(pod.automountServiceAccountToken).to.equal(false);
            expect(pod.serviceAccountName).to.equal("cdc-reconciler");
            expect(pod.containers[0].securityContext).to.deep.equal({
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ["ALL"] },
            });
            // Everything writable is a volume: the reports and /tmp.
            const writable = pod.containers[0].volumeMounts.filter((m) => !(m as { readOnly?: boolean }).readOnly).map((m) => m.mountPath);
            expect(writable).to.deep.equal([REPORT_DIR, "/tmp"]);
        });

        it(`keeps reports on the claim in prod and in an emptyDir in dev (${stack})`, () => {
            const pod = reconcilerCronJobBody(spec, reconciler, run).spec.jobTemplate.spec.template.spec;
            const reports = pod.volumes.find((v) => v.name === "reports")!;
            expect(reports).to.deep.equal(
                stack === "prod"
                    ? { name: "reports", persistentVolumeClaim: { claimName: "cdc-reconciler-reports" } }
                    : { name: "reports", emptyDir: { sizeLimit: "1Gi" } },
            );
        });

        it(`reads its credentials from the Secrets the operator syncs for it, never from a literal (${stack})`, () => {
            const pod = reconcilerCronJobBody(spec, reconciler, run).spec.jobTemplate.spec.template.spec;
            const syncs = planSecretSyncs(spec).filter((s) => s.consumer === "reconciler");
            for (const volume of ["source-url", "target-url"]) {
                const secret = (pod.volumes.find((v) => v.name === volume) as any).secret;
                const sync = syncs.find((s) => s.secretName === secret.secretName)!;
                expect(sync, volume).to.not.equal(undefined);
                expect(Object.keys(sync.templates!)).to.include(secret.items[0].key);
                expect(secret.defaultMode).to.equal(0o440);
            }
            expect(JSON.stringify(pod.containers[0])).to.not.match(/password/i);
        });

        it(`renders database URLs from the Vault secret that the reconciler parses back to the same credentials (${stack})`, () => {
            const password = "Ab3-x_y.z~Q9";
            const secrets = planVaultSecrets(spec);
            const source = secrets.find((s) => s.path === "db/sales/source")!;
            const target = secrets.find((s) => s.path === "db/sales/target-readonly")!;
            const pipeline = spec.pipelines[0];
            const sourceUrl = renderTemplate(sourceUrlTemplates(spec, pipeline)["url-salesdb"], { ...source.fields, password });
            const targetUrl = renderTemplate(targetUrlTemplates(spec, pipeline).url, { ...target.fields, password });
            expect(parseDatabaseUrl(sourceUrl)).to.deep.include({
                engine: "mssql",
                host: source.fields.host,
                port: 1433,
                user: "cdc_reader",
                password,
                database: "SalesDB",
            });
            expect(parseDatabaseUrl(sourceUrl).params.get("encrypt")).to.equal(stack === "prod" ? "true" : "false");
            expect(parseDatabaseUrl(sourceUrl).params.get("trustServerCertificate")).to.equal(stack === "prod" ? "false" : "true");
            expect(parseDatabaseUrl(targetUrl)).to.deep.include({
                engine: "postgres",
                user: "cdc_reconciler",
                password,
                database: "warehouse",
            });
            // The config points at the files the Secrets are mounted as.
            const files: Record<string, string> = {
                "/var/run/secrets/cdc/source/url": sourceUrl,
                "/var/run/secrets/cdc/target/url": targetUrl,
            };
            const parsed = parseReconcilerConfig(reconcilerConfigMapBody(spec, reconciler, [run]).data["sales.json"]);
            expect(resolveEndpoint(parsed.source, {}, (f) => files[f])).to.equal(sourceUrl);
            expect(resolveEndpoint(parsed.target, {}, (f) => files[f])).to.equal(targetUrl);
        });
    }

    it("runs once per database when a SQL Server pipeline captures several", () => {
        const r = raw("prod");
        r.pipelines[0].source.databases = ["SalesDB", "Archive"];
        r.pipelines[0].source.tables[0].database = "SalesDB";
        r.pipelines[0].source.tables[1].database = "Archive";
        r.pipelines[0].source.tables[2].database = "SalesDB";
        const spec = specOf(r);
        const runs = planReconcileRuns(spec);
        expect(runs.map((x) => [x.cronJobName, x.sourceSecret.key, x.config.tables.map((t) => t.source)])).to.deep.equal([
            ["cdc-reconciler-sales-salesdb", "url-salesdb", ["dbo.customers", "dbo.order_items"]],
            ["cdc-reconciler-sales-archive", "url-archive", ["dbo.orders"]],
        ]);
        expect(Object.keys(sourceUrlTemplates(spec, spec.pipelines[0]))).to.deep.equal(["url-salesdb", "url-archive"]);
    });

    it("deploys no job without a reconciler section", () => {
        const r = raw("dev");
        delete r.reconciler;
        const spec = specOf(r);
        expect(planReconcileRuns(spec)).to.deep.equal([]);
        expect(planSecretSyncs(spec).filter((s) => s.consumer === "reconciler")).to.deep.equal([]);
    });

    it("keeps CronJob names within Kubernetes' limit", () => {
        for (const stack of SHIPPED_STACKS)
            for (const run of planReconcileRuns(specOf(raw(stack)))) expect(run.cronJobName.length).to.be.at.most(CRONJOB_NAME_MAX);
    });

    it("renders a ServiceAccount without an API token", () => {
        const spec = specOf(raw("prod"));
        expect(reconcilerServiceAccountBody(spec, spec.reconciler!).automountServiceAccountToken).to.equal(false);
    });
});

describe("reconciliation job resources", function () {
    this.timeout(60000);

    for (const stack of SHIPPED_STACKS) {
        it(`registers a ServiceAccount, ConfigMap and CronJob that validate against the Kubernetes schemas (${stack})`, async () => {
            const { mocks } = await runProgram(stack, false);
            const spec = specOf(raw(stack));
            const [job] = mocks.ofType("kubernetes:batch/v1:CronJob");
            const [config] = mocks.ofType("kubernetes:core/v1:ConfigMap").filter((c) => c.name === "reconciler-config");
            const [account] = mocks.ofType("kubernetes:core/v1:ServiceAccount");
            const runs = planReconcileRuns(spec);
            expect(job.inputs).to.deep.equal(reconcilerCronJobBody(spec, spec.reconciler!, runs[0]));
            expect(config.inputs).to.deep.equal(reconcilerConfigMapBody(spec, spec.reconciler!, runs));
            expect(account.inputs).to.deep.equal(reconcilerServiceAccountBody(spec, spec.reconciler!));
            for (const object of [job, config, account]) expect(validateManifest(object.inputs as any), object.name).to.deep.equal([]);
        });
    }

    for (const stack of SHIPPED_STACKS) {
        it(`every Kubernetes object the program registers validates against the pinned schemas (${stack})`, async () => {
            const { mocks } = await runProgram(stack, false);
            const objects = mocks.registrations.filter((r) => r.type.startsWith("kubernetes:"));
            expect(objects.length).to.be.greaterThan(10);
            for (const o of objects) expect(validateManifest(o.inputs as any), `${o.type} ${o.name}`).to.deep.equal([]);
        });
    }

    it("exports the CronJob, Vault policy and synced Secret names, none of them secret", async () => {
        const { exports } = await runProgram("prod", false);
        const { promiseOf } = await import("./helpers/mocks");
        const pulumi = await import("@pulumi/pulumi");
        const names = ["reconcilerCronJobs", "vaultPolicies", "vaultAuthRoles", "vaultSecretPaths", "syncedSecrets"];
        for (const name of names) expect(await pulumi.isSecret(exports[name] as any), name).to.equal(false);
        expect(await promiseOf(exports.reconcilerCronJobs as any)).to.deep.equal(["cdc-reconciler-sales"]);
        expect(await promiseOf(exports.vaultPolicies as any)).to.deep.equal([
            "cdc-prod-connect",
            "cdc-prod-reconciler",
            "cdc-prod-lakehouse",
        ]);
        expect(await promiseOf(exports.vaultAuthRoles as any)).to.deep.equal([
            "cdc-prod-connect",
            "cdc-prod-reconciler",
            "cdc-prod-lakehouse",
        ]);
        expect(await promiseOf(exports.vaultSecretPaths as any)).to.deep.equal([
            "secret/db/sales/source",
            "secret/db/sales/target",
            "secret/db/sales/target-readonly",
        ]);
        expect(await promiseOf(exports.syncedSecrets as any)).to.have.members([
            "sales-source-db",
            "sales-target-db",
            // The prod registry's logins, synced for Connect's converters.
            "cdc-connect-registry-writer",
            "cdc-connect-registry-reader",
            "cdc-reconciler-sales-source",
            "cdc-reconciler-sales-target",
            "cdc-lakehouse-object-storage",
        ]);
        for (const [name, output] of Object.entries(exports)) {
            const value = pulumi.Output.isInstance(output) ? await promiseOf(output as any) : output;
            expect(JSON.stringify(value) ?? "", name).to.not.contain("Mock-Generated-Pa55word");
        }
    });
});
