/**
 * TLS of the reconciliation CronJob as rendered: every database URL the reconciler reads (the Vault Secrets
 * Operator templates) read back through the reconciler's own TLS parsing, and the CA mounted from the Secret the
 * Connect pods verify with. Prod must allow no plaintext anywhere; dev follows its profile.
 */
import { expect } from "chai";
import * as path from "path";
import { parseStackSpec } from "../plan/stack-spec";
import { renderConnectors } from "../connectors/render";
import type { StackSpec } from "../model/spec";
import { clusterConnectorContext } from "../plan/connect-cluster";
import { DATABASE_CA_DIR, planReconcileRuns, reconcilerCronJobBody } from "../plan/reconciler-job";
import { planSecretSyncs } from "../plan/vault";
import { parseDatabaseUrl } from "../reconciler/db";
import { mssqlTls, mysqlTls, postgresTls, TlsAttempt } from "../reconciler/tls";
import { rawProjectConfig } from "./helpers/stack-files";

type Raw = Record<string, any>;
const raw = (stack: "dev" | "prod"): Raw => structuredClone(rawProjectConfig(stack));
const CA_FILE = `${DATABASE_CA_DIR}/ca.crt`;

/** The stack's first pipeline replaced by one reading `kind` (the sink keeps the stack's target). */
function withSource(r: Raw, source: Record<string, unknown>): Raw {
    const kind = source.kind as string;
    const table = kind === "postgres" ? "public.products" : "store.products";
    r.pipelines[0] = {
        name: "store",
        source: { host: `${kind}.db.svc`, database: "store", tables: [{ name: table, primaryKey: ["id"] }], ...source },
        sink: r.pipelines[0].sink,
    };
    return r;
}

/** Each reconciler URL as the operator renders it (credentials are irrelevant here), by Secret and key. */
function renderedUrls(spec: StackSpec): { secret: string; key: string; url: string }[] {
    return planSecretSyncs(spec)
        .filter((s) => s.consumer === "reconciler")
        .flatMap((s) =>
            Object.entries(s.templates!).map(([key, text]) => ({
                secret: s.secretName,
                key,
                url: text.replace(/\{\{\s*\.Secrets\.(\w+)[^}]*\}\}/g, (_, field: string) => (field === "port" ? "5432" : field)),
            })),
        );
}

/** What the reconciler will do with a URL: its connection attempts, or SQL Server's driver settings. */
function tlsOf(url: string): TlsAttempt[] | ReturnType<typeof mssqlTls> {
    const p = parseDatabaseUrl(url);
    return p.engine === "postgres"
        ? postgresTls(p.params).attempts
        : p.engine === "mysql"
          ? mysqlTls(p.params).attempts
          : mssqlTls(p.params);
}

function podOf(spec: StackSpec) {
    const [run] = planReconcileRuns(spec);
    return reconcilerCronJobBody(spec, spec.reconciler!, run).spec.jobTemplate.spec.template.spec;
}

const PROD_SOURCES: Record<string, Raw> = {
    "SQL Server (shipped prod stack)": raw("prod"),
    PostgreSQL: withSource(raw("prod"), { kind: "postgres" }),
    MySQL: withSource(raw("prod"), { kind: "mysql" }),
    MariaDB: withSource(raw("prod"), { kind: "mariadb" }),
    "MariaDB with verify-ca": withSource(raw("prod"), { kind: "mariadb", sslMode: "verify-ca" }),
};

describe("reconciliation job TLS", () => {
    for (const [name, config] of Object.entries(PROD_SOURCES)) {
        it(`prod, ${name} source: every URL verifies the server with the mounted CA and allows no plaintext`, () => {
            const spec = parseStackSpec(config).spec;
            const urls = renderedUrls(spec);
            expect(urls.map((u) => u.key).sort()).to.deep.equal([
                "url",
                spec.pipelines[0].source.kind === "sqlserver" ? "url-salesdb" : "url-store",
            ]);
            for (const { url } of urls) {
                const tls = tlsOf(url);
                if (Array.isArray(tls)) {
                    expect(tls, url).to.have.length(1);
                    expect(tls[0], url).to.deep.include({ tls: true, ca: CA_FILE });
                    expect(["ca", "full"], url).to.include((tls[0] as { verify: string }).verify);
                } else {
                    expect(tls, url).to.deep.equal({ encrypt: true, trustServerCertificate: false });
                }
            }
        });
    }

    it("uses the connectors' own TLS settings for the same databases, in prod and dev", () => {
        const variants = [
            ...Object.values(PROD_SOURCES),
            raw("dev"),
            withSource(raw("dev"), { kind: "postgres" }),
            withSource(raw("dev"), { kind: "mysql" }),
        ];
        for (const config of variants) {
            const spec = parseStackSpec(config).spec;
            const [source, sink] = renderConnectors(spec, clusterConnectorContext(spec)).map((c) => c.config);
            const [sourceUrl, targetUrl] = renderedUrls(spec).map((u) => parseDatabaseUrl(u.url).params);
            const sourceMode = source["database.sslmode"] ?? source["database.ssl.mode"];
            if (sourceMode) expect(sourceUrl.get("sslmode") ?? sourceUrl.get("ssl-mode")).to.equal(sourceMode);
            else
                expect([sourceUrl.get("encrypt"), sourceUrl.get("trustServerCertificate")]).to.deep.equal([
                    source["driver.encrypt"],
                    source["driver.trustServerCertificate"],
                ]);
            expect(targetUrl.get("sslmode")).to.equal(/[?&]sslmode=([^&]+)/.exec(sink["connection.url"])![1]);
        }
    });

    it("prod: renders the pipeline's verifying modes with the mounted CA", () => {
        const urls = (config: Raw) => renderedUrls(parseStackSpec(config).spec).map((u) => u.url.split("?")[1]);
        expect(urls(raw("prod"))).to.deep.equal([
            "encrypt=true&trustServerCertificate=false",
            `sslmode=verify-full&sslrootcert=${CA_FILE}`,
        ]);
        expect(urls(PROD_SOURCES.MySQL)[0]).to.equal(`ssl-mode=verify_identity&ssl-ca=${CA_FILE}`);
        expect(urls(PROD_SOURCES["MariaDB with verify-ca"])[0]).to.equal(`ssl-mode=verify-ca&ssl-ca=${CA_FILE}`);
        const verifyCaTarget = raw("prod");
        verifyCaTarget.pipelines[0].sink.sslMode = "verify-ca";
        expect(urls(verifyCaTarget)[1]).to.equal(`sslmode=verify-ca&sslrootcert=${CA_FILE}`);
    });

    it("prod: mounts the Connect pods' database CA Secret read-only where the URLs name it", () => {
        const spec = parseStackSpec(raw("prod")).spec;
        const pod = podOf(spec);
        expect(pod.volumes).to.deep.include({
            name: "database-ca",
            secret: { secretName: "database-ca", items: [{ key: "ca.crt", path: "ca.crt" }], defaultMode: 0o440 },
        });
        expect(spec.connect.databaseCaSecret).to.equal("database-ca");
        const mount = pod.containers[0].volumeMounts.find((m) => m.name === "database-ca");
        expect(mount).to.deep.equal({ name: "database-ca", mountPath: DATABASE_CA_DIR, readOnly: true });
        expect(path.dirname(CA_FILE)).to.equal(mount!.mountPath);
    });

    it("dev follows its profile: the SQL Server settings it declares, the target's prefer, no CA to mount", () => {
        const spec = parseStackSpec(raw("dev")).spec;
        const [source, target] = renderedUrls(spec);
        expect(tlsOf(source.url)).to.deep.equal({ encrypt: false, trustServerCertificate: true });
        expect(target.url).to.match(/\?sslmode=prefer$/);
        expect(tlsOf(target.url)).to.deep.equal([{ tls: true, verify: "none", ca: null }, { tls: false }]);
        expect(podOf(spec).volumes.map((v) => v.name)).to.not.include("database-ca");
    });

    it("dev: a MariaDB source stays in plaintext (its profile default, disable); a verifying one gets the CA", () => {
        const plain = parseStackSpec(withSource(raw("dev"), { kind: "mariadb" })).spec;
        expect(renderedUrls(plain)[0].url).to.match(/\?ssl-mode=disable$/);
        expect(tlsOf(renderedUrls(plain)[0].url)).to.deep.equal([{ tls: false }]);
        const verifying = withSource(raw("dev"), { kind: "mariadb", sslMode: "verify-full" });
        verifying.connect.databaseCaSecret = "dev-database-ca";
        const spec = parseStackSpec(verifying).spec;
        expect(tlsOf(renderedUrls(spec)[0].url)).to.deep.equal([{ tls: true, verify: "full", ca: CA_FILE }]);
        expect(podOf(spec).volumes).to.deep.include({
            name: "database-ca",
            secret: { secretName: "dev-database-ca", items: [{ key: "ca.crt", path: "ca.crt" }], defaultMode: 0o440 },
        });
    });
});
