/**
 * Fuzzing the reconciler's inputs: database URLs and their TLS parameters, the configuration file, table names and
 * the command line. Every input is either accepted or refused with a plain Error whose message says what is wrong;
 * none crashes with another exception type, hangs, connects anywhere, or prints a password.
 */
import { expect } from "chai";
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { Writable } from "stream";
import { main } from "../../reconciler/cli";
import { parseReconcilerConfig, tablePair } from "../../reconciler/config";
import { parseDatabaseUrl, redact } from "../../reconciler/db";
import { parseTableName } from "../../reconciler/introspect";
import { mssqlTls, mysqlTls, postgresTls } from "../../reconciler/tls";
import { anyValue, edgeString, fuzz, fuzzAsync, mutated } from "./mutations";

/** Refused the documented way: a plain Error (not a TypeError, URIError, ...) with something to read. */
function refusedPlainly(e: unknown): void {
    expect(e, String(e)).to.be.instanceOf(Error);
    expect((e as Error).constructor, `${(e as Error).name}: ${(e as Error).message}`).to.equal(Error);
    expect((e as Error).message).to.match(/\S/);
}

function acceptsOrRefuses<T>(run: () => T, check: (result: T) => void = () => undefined): void {
    let result: T;
    try {
        result = run();
    } catch (e) {
        return refusedPlainly(e);
    }
    check(result);
}

const SCHEMES = ["postgres", "postgresql", "mysql", "mariadb", "mssql", "sqlserver", "oracle", "http", "", "POSTGRES"] as const;
const TLS_KEYS = ["sslmode", "sslrootcert", "ssl-mode", "ssl-ca", "encrypt", "trustServerCertificate", "sslcert", "ssl", "tls"] as const;
const TLS_VALUES = [
    "disable",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
    "VERIFY_IDENTITY",
    "preferred",
    "trust",
    "true",
    "false",
    "strict",
    "system",
    "/ca.crt",
    "",
] as const;

const urlPart = (): fc.Arbitrary<string> =>
    fc.oneof(edgeString(), fc.constantFrom("h", "db.example.com", "127.0.0.1", "[::1]", "%zz", "%E0%A4%A", "a%40b", "@", ":", "/"));
/**
 * A password the reconciler must never print, whatever else is wrong with the URL: marked so no other part of a
 * generated URL contains it, and free of lone surrogates, which no URL can encode.
 */
const password = fc
    .string({ unit: "grapheme", minLength: 1, maxLength: 10 })
    .filter((p) => !/[\s\ud800-\udfff]/.test(p))
    .map((p) => `s3cr3t~${p}`);

const databaseUrl = fc.record({
    scheme: fc.constantFrom(...SCHEMES),
    user: urlPart(),
    password,
    encode: fc.boolean(),
    host: urlPart(),
    port: fc.oneof(fc.constant(""), fc.constantFrom("0", "1", "5432", "65535", "65536", "-1", "x"), fc.nat().map(String)),
    database: urlPart(),
    params: fc.array(
        fc.tuple(fc.oneof(fc.constantFrom(...TLS_KEYS), edgeString()), fc.oneof(fc.constantFrom(...TLS_VALUES), edgeString())),
        { maxLength: 4 },
    ),
});

describe("fuzzing the reconciler's inputs", function () {
    this.timeout(60000);

    it("parses a database URL with a host and a port, or says it is not one, and never prints the password", () => {
        fuzz(
            fc.property(databaseUrl, (u) => {
                const secret = u.encode ? encodeURIComponent(u.password) : u.password;
                const query = new URLSearchParams(u.params).toString();
                const url = `${u.scheme}://${u.user}:${secret}@${u.host}${u.port === "" ? "" : `:${u.port}`}/${u.database}${query ? `?${query}` : ""}`;
                expect(redact(url), url).to.not.include(secret);
                acceptsOrRefuses(
                    () => parseDatabaseUrl(url),
                    (parsed) => {
                        expect(parsed.host, url).to.match(/\S/);
                        expect(parsed.port, url).to.be.within(1, 65535);
                        expect(parsed.label, url).to.not.include(secret);
                        for (const tls of [postgresTls, mysqlTls, mssqlTls]) acceptsOrRefuses(() => tls(parsed.params));
                    },
                );
                try {
                    parseDatabaseUrl(url);
                } catch (e) {
                    expect((e as Error).message, url).to.not.include(secret);
                }
            }),
            2000,
        );
    });

    it("parses any text as a URL or refuses it plainly", () => {
        fuzz(
            fc.property(fc.oneof(edgeString(), fc.string({ maxLength: 40 })), (text) => acceptsOrRefuses(() => parseDatabaseUrl(text))),
            1000,
        );
    });

    it("reads TLS settings from any query parameters, or refuses them plainly", () => {
        const params = fc
            .array(fc.tuple(fc.oneof(fc.constantFrom(...TLS_KEYS), edgeString()), fc.oneof(fc.constantFrom(...TLS_VALUES), edgeString())), {
                maxLength: 5,
            })
            .map((pairs) => new URLSearchParams(pairs));
        fuzz(
            fc.property(params, (p) => [postgresTls, mysqlTls, mssqlTls].forEach((tls) => acceptsOrRefuses(() => tls(p)))),
            1000,
        );
    });

    const SEED_CONFIG = {
        source: { urlEnv: "CDC_FUZZ_UNSET_SOURCE" },
        target: { urlFile: "/nonexistent/cdc-fuzz/url" },
        tables: [
            "dbo.orders=public.orders",
            { source: "dbo.customers", target: "sales.customers", excludeColumns: ["row_version"], deletedColumn: null },
        ],
        reportDir: "/var/reports",
        lagWindowSeconds: 60,
        criticalRatio: 0.01,
        pushgateway: { url: "http://pushgateway:9091", labels: { pipeline: "sales" } },
    };
    const PLAUSIBLE: Record<string, readonly unknown[]> = {
        tables: [["a"], ["a.b=c.d"], ["a.b.c"], [{ source: "x" }], []],
        source: ["postgres://h/db", { url: "x" }, { urlEnv: "X", urlFile: "/f" }],
        lagWindowSeconds: [0, -1, 1.5],
        criticalRatio: [0, 1, 2],
        url: ["http://pushgateway:9091", "not a url"],
        labels: [{ "bad key": "x" }, { ok: "y" }],
    };

    const configText = fc.oneof(
        mutated({ seed: SEED_CONFIG }, Object.keys(PLAUSIBLE), PLAUSIBLE).map((m) => JSON.stringify(m.doc) ?? ""),
        anyValue().map((v) => JSON.stringify(v) ?? ""),
        fc.string({ maxLength: 60 }),
        fc.constantFrom(
            "a: &x [*x]",
            "? [a]\n: b",
            "!!binary xx",
            "!j x",
            "%TAG x\n--- a",
            "a: b\na: c",
            "- - - -",
            "{",
            "tables: [a, b]\nsource: x\ntarget: y",
        ),
    );

    it("reads a configuration file (YAML or JSON) with its table names, or refuses it plainly", () => {
        fuzz(
            fc.property(configText, (t) =>
                acceptsOrRefuses(
                    () => parseReconcilerConfig(t),
                    (config) => {
                        for (const entry of config.tables) {
                            const pair = tablePair(entry);
                            for (const engine of ["postgres", "mysql", "mssql"] as const) {
                                acceptsOrRefuses(() => parseTableName(pair.source, engine, "app"));
                                acceptsOrRefuses(() => parseTableName(pair.target, engine, ""));
                            }
                        }
                    },
                ),
            ),
            1000,
        );
    });

    it("CLI: any command line ends with exit code 2 and a message (0 and the usage for --help), never an exception", async () => {
        const FLAGS = [
            "--config",
            "--source",
            "--target",
            "--table",
            "--report-dir",
            "--lag-window",
            "--pushgateway",
            "--verbose",
            "-v",
            "--help",
            "-h",
        ];
        const token = fc.oneof(
            fc.constantFrom(...FLAGS),
            fc.constantFrom(...FLAGS).map((f) => `${f}=`),
            fc.tuple(fc.constantFrom(...FLAGS), edgeString()).map(([f, v]) => `${f}=${v}`),
            fc.constantFrom(
                "--",
                "-",
                "---",
                "-x",
                "--lag-window=-1",
                "--bogus",
                "--constructor",
                "/nonexistent/config.yaml",
                "x.y=z.w",
                "1e9",
            ),
            edgeString(),
        );
        // Nothing here may reach a database: no generated text names one of the reconciler's URL schemes.
        const argv = fc
            .array(token, { maxLength: 8 })
            .filter((a) => !a.some((t) => /(postgres|postgresql|mysql|mariadb|mssql|sqlserver):/i.test(t)));
        const dir = mkdtempSync(path.join(tmpdir(), "cdc-fuzz-"));
        const file = path.join(dir, "config.yaml");
        const reachesNoDatabase = (text: string) => !/(postgres|postgresql|mysql|mariadb|mssql|sqlserver):/i.test(text);
        await fuzzAsync(
            fc.asyncProperty(argv, fc.option(configText.filter(reachesNoDatabase)), async (rest, config) => {
                const args = config === null ? rest : ["--config", file, ...rest];
                if (config !== null) writeFileSync(file, config);
                let out = "";
                const sink = Object.assign(new Writable({ write: (chunk, _enc, done) => ((out += String(chunk)), done()) }), {
                    isTTY: false,
                }) as unknown as NodeJS.WriteStream;
                const code = await main(args, sink, sink);
                if (code === 0) {
                    expect(
                        args.some((a) => a === "--help" || a === "-h"),
                        JSON.stringify(args),
                    ).to.equal(true);
                    expect(out).to.include("usage: npm run reconcile");
                } else {
                    expect(code, JSON.stringify(args)).to.equal(2);
                    const lines = out
                        .trim()
                        .split("\n")
                        .map((l) => JSON.parse(l) as { level: string; msg: string });
                    expect(
                        lines.some((l) => l.level === "error" && /\S/.test(l.msg)),
                        out,
                    ).to.equal(true);
                }
            }),
            300,
        ).finally(() => rmSync(dir, { recursive: true, force: true }));
    });
});
