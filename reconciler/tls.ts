/**
 * TLS from a database URL's parameters, per driver. The mode names and what they mean come from model/tls.ts, the
 * table the stack renders its URLs from, so a mode the stack treats as verifying is verifying here too.
 *
 *   PostgreSQL  sslmode (libpq's names) + sslrootcert (a PEM file, or `system` for the system's trusted roots)
 *   MySQL       ssl-mode (or sslmode): MySQL's names (DISABLED … VERIFY_IDENTITY, any case) or Debezium's MariaDB
 *               connector's (disable, trust, verify-ca, verify-full) + ssl-ca (a PEM file)
 *   SQL Server  encrypt (true, false, strict) + trustServerCertificate (true, false)
 *
 * Every other parameter that looks TLS-related is refused rather than ignored, as are repeated or contradictory
 * ones: a setting the reconciler silently dropped could only ever make the connection weaker than the URL reads.
 */
import { readsCaFile, TLS_MODES, TlsMode, TlsModeFamily, TlsNegotiation, TlsVerification } from "../model/tls";

/** One way of connecting: plaintext, or TLS verified as far as `verify` says against `ca` (a PEM file, or `system`). */
export type TlsAttempt = { tls: false } | { tls: true; verify: TlsVerification; ca: string | null };

export interface TlsPlan {
    /** The URL's TLS settings as written, for error messages: `sslmode=verify-full sslrootcert=/ca.crt`. */
    described: string;
    /** Tried in order; the next only when the previous fails (libpq's allow and prefer). */
    attempts: TlsAttempt[];
}

interface MssqlTls {
    encrypt: boolean | "strict";
    trustServerCertificate: boolean;
}

const TLS_LIKE = /ssl|tls|cert|trust|encrypt/i;

/** The single value of each recognised parameter; refuses repeats and unrecognised TLS-looking parameters. */
function tlsParams(params: URLSearchParams, known: readonly string[]): Map<string, string> {
    const found = new Map<string, string>();
    for (const key of new Set(params.keys())) {
        if (!known.includes(key)) {
            if (TLS_LIKE.test(key))
                throw new Error(`unsupported TLS parameter "${key}" in the database URL; the reconciler understands ${known.join(", ")}`);
            continue;
        }
        const values = [...new Set(params.getAll(key))];
        if (values.length > 1) throw new Error(`the database URL sets ${key} more than once (${values.join(", ")}); give it once`);
        found.set(key, values[0]);
    }
    return found;
}

const asWritten = (found: Map<string, string>, fallback: string): string =>
    found.size === 0 ? fallback : [...found].map(([k, v]) => `${k}=${v}`).join(" ");

function attemptsFor(negotiation: TlsNegotiation, verified: TlsAttempt): TlsAttempt[] {
    const plain: TlsAttempt = { tls: false };
    switch (negotiation) {
        case "never":
            return [plain];
        case "plaintext-first":
            return [plain, verified];
        case "tls-first":
            return [verified, plain];
        case "always":
            return [verified];
    }
}

function plan(
    mode: TlsMode,
    modeText: string,
    ca: string | undefined,
    caKey: string,
    found: Map<string, string>,
    defaulted: string,
): TlsPlan {
    if (ca !== undefined && !readsCaFile(mode)) {
        throw new Error(
            mode.negotiation === "never"
                ? `${caKey} with ${modeText}, which never uses TLS, is contradictory; remove one of them`
                : `${caKey} is not used with ${modeText}, which does not verify the server certificate; use a verify mode or remove ${caKey}`,
        );
    }
    const verify = ca !== undefined && mode.verificationWithCa ? mode.verificationWithCa : mode.verification;
    if (verify !== "none" && ca === undefined) {
        throw new Error(`${modeText} verifies the server certificate and needs the CA that signed it: add ${caKey}=<PEM file>`);
    }
    const tls: TlsAttempt = { tls: true, verify, ca: verify === "none" ? null : ca! };
    return { described: asWritten(found, defaulted), attempts: attemptsFor(mode.negotiation, tls) };
}

/** libpq's rules: no sslmode is `prefer`; `require` with a root certificate verifies the chain; `system` needs verify-full. */
export function postgresTls(params: URLSearchParams): TlsPlan {
    const found = tlsParams(params, ["sslmode", "sslrootcert"]);
    const modeName = found.get("sslmode") ?? "prefer";
    const mode = Object.hasOwn(TLS_MODES.postgres, modeName) ? TLS_MODES.postgres[modeName] : undefined;
    if (!mode) throw new Error(`unknown sslmode "${modeName}"; PostgreSQL takes ${Object.keys(TLS_MODES.postgres).join(", ")}`);
    const ca = found.get("sslrootcert");
    if (ca === "system" && mode.verification !== "full") {
        throw new Error(
            `sslrootcert=system trusts every public CA, so it needs sslmode=verify-full (not ${modeName}): anyone can get a public certificate, but not for this host`,
        );
    }
    return plan(mode, `sslmode=${modeName}`, ca, "sslrootcert", found, "no sslmode (libpq's default, prefer)");
}

/** MySQL's and MariaDB's names are disjoint, so either set works against either server; no mode is the MySQL client's default, `preferred`. */
export function mysqlTls(params: URLSearchParams): TlsPlan {
    const found = tlsParams(params, ["ssl-mode", "sslmode", "ssl-ca"]);
    if (found.has("ssl-mode") && found.has("sslmode")) throw new Error("the database URL sets both ssl-mode and sslmode; give one");
    const key = found.has("sslmode") ? "sslmode" : "ssl-mode";
    const modeName = found.get(key)?.toLowerCase() ?? "preferred";
    const family: TlsModeFamily | undefined = ["mysql", "mariadb"].find((f) => Object.hasOwn(TLS_MODES[f as TlsModeFamily], modeName)) as
        TlsModeFamily | undefined;
    if (!family) {
        throw new Error(
            `unknown ${key} "${found.get(key)}"; MySQL takes ${Object.keys(TLS_MODES.mysql).join(", ")} (any case), Debezium's MariaDB connector ${Object.keys(TLS_MODES.mariadb).join(", ")}`,
        );
    }
    if (found.get("ssl-ca") === "system")
        throw new Error("ssl-ca must name a PEM file; verify against the CA that signed the server's certificate");
    return plan(
        TLS_MODES[family][modeName],
        `${key}=${found.get(key) ?? modeName}`,
        found.get("ssl-ca"),
        "ssl-ca",
        found,
        "no ssl-mode (the MySQL client's default, preferred)",
    );
}

/** The Microsoft drivers' settings; tedious also encrypts by default. */
export function mssqlTls(params: URLSearchParams): MssqlTls {
    const found = tlsParams(params, ["encrypt", "trustServerCertificate"]);
    const encrypt = found.get("encrypt") ?? "true";
    const trust = found.get("trustServerCertificate") ?? "false";
    if (!["true", "false", "strict"].includes(encrypt))
        throw new Error(`encrypt=${encrypt} in the database URL; use true, false or strict`);
    if (!["true", "false"].includes(trust)) throw new Error(`trustServerCertificate=${trust} in the database URL; use true or false`);
    return { encrypt: encrypt === "strict" ? "strict" : encrypt === "true", trustServerCertificate: trust === "true" };
}

/** The URL without its TLS parameters, for drivers that would otherwise apply them on their own terms. */
export function withoutTlsParams(url: string, keys: readonly string[]): string {
    const u = new URL(url);
    for (const key of keys) u.searchParams.delete(key);
    return u.toString();
}

/** Node's and OpenSSL's wording (and codes) for a failed verification, and what it means for the URL's settings. */
const VERIFICATION_FAILURES: [RegExp, (ca: string) => string][] = [
    [/ALTNAME_INVALID|does not match certificate's altnames/i, () => "does not name the host in the URL"],
    [/CERT_HAS_EXPIRED|certificate has expired/i, () => "has expired"],
    [/CERT_NOT_YET_VALID|certificate is not yet valid/i, () => "is not valid yet"],
    [/SELF_SIGNED|UNABLE_TO_(VERIFY|GET)|CERT_SIGNATURE|unable to (verify|get)|self[- ]signed/i, (ca) => `is not signed by ${ca}`],
];

const NO_TLS = /does not support (SSL|secure) connection|HANDSHAKE_NO_SSL_SUPPORT/i;

/** A driver's connection error, said in terms of the URL's TLS settings. */
export function explainTlsFailure(e: Error & { code?: string }, plan: TlsPlan, attempt: TlsAttempt): Error {
    if (!attempt.tls) return e;
    const text = `${e.code ?? ""} ${e.message}`;
    let why: string | undefined;
    if (NO_TLS.test(text)) {
        why = plan.attempts.some((a) => !a.tls)
            ? "the server does not offer TLS"
            : "the server does not offer TLS, and these settings allow no plaintext fallback";
    } else {
        const failure = VERIFICATION_FAILURES.find(([pattern]) => pattern.test(text));
        const ca = attempt.ca && attempt.ca !== "system" ? `the CA in ${attempt.ca}` : "the system's trusted CAs";
        if (failure) why = `the server's certificate ${failure[1](ca)}`;
    }
    if (!why) return e;
    const explained = new Error(`TLS with ${plan.described}: ${why} (${e.message})`);
    explained.stack = `Error: ${explained.message}\n${(e.stack ?? "").split("\n").slice(1).join("\n")}`;
    return explained;
}
