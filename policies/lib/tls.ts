/**
 * What counts as an encrypted and verified database connection, for the source, sink and reconciler TLS policies.
 * The pack imports nothing outside policies/, so it keeps its own copy of the stack's verifying mode names
 * (model/tls.ts); a test holds the two equal.
 */
import { boolean, PolicySettings, settings } from "./config";

/** `ssl mode` values that both encrypt and verify the server, per source kind, and the key that carries them. */
export const VERIFYING_SSL_MODES: Readonly<Record<string, { key: string; allowed: readonly string[] }>> = {
    postgres: { key: "database.sslmode", allowed: ["verify-ca", "verify-full"] },
    mysql: { key: "database.ssl.mode", allowed: ["verify_ca", "verify_identity"] },
    // Debezium's MariaDB connector spells its modes like PostgreSQL's (disable, trust, verify-ca, verify-full).
    mariadb: { key: "database.ssl.mode", allowed: ["verify-ca", "verify-full"] },
};

/** The one setting the TLS policies take: whether the environment requires verified connections. */
export function encryptionSettings(side: "source" | "sink" | "reconciler"): PolicySettings<{ requireEncryption: boolean }> {
    return settings<{ requireEncryption: boolean }>({
        requireEncryption: boolean(
            true,
            `Whether ${side} database connections must be encrypted and verified (the environment profile's requireDatabaseEncryption).`,
        ),
    });
}

/** The query parameters of a URL as written; the part before `?` may be a template, so no URL parser is involved. */
function queryParams(url: string): Map<string, string> {
    const query = url.includes("?") ? url.slice(url.indexOf("?") + 1).split("#")[0] : "";
    const params = new Map<string, string>();
    for (const pair of query.split("&").filter(Boolean)) {
        const at = pair.indexOf("=");
        const decode = (s: string) => {
            try {
                return decodeURIComponent(s.replace(/\+/g, " "));
            } catch {
                return s;
            }
        };
        params.set(decode(at < 0 ? pair : pair.slice(0, at)), decode(at < 0 ? "" : pair.slice(at + 1)));
    }
    return params;
}

interface UrlTls {
    /** The URL's TLS parameters as written, for messages; never the URL itself, which may hold a password. */
    settings: string;
    /** Why the URL does not require a verified connection; undefined when it does. */
    problem?: string;
    /** The CA file the URL verifies against, when it names one. */
    caFile?: string;
}

/**
 * Whether a reconciler database URL requires an encrypted connection that verifies the server, in the reconciler's
 * parameter spelling (reconciler/tls.ts): PostgreSQL sslmode + sslrootcert, MySQL/MariaDB ssl-mode + ssl-ca, SQL
 * Server encrypt + trustServerCertificate.
 */
export function reconcilerUrlTls(url: string): UrlTls {
    const scheme = /^\s*([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1].toLowerCase();
    const params = queryParams(url);
    const shown = (keys: string[]) => keys.map((k) => `${k}=${params.get(k) ?? "unset"}`).join(" ");
    switch (scheme) {
        case "postgres":
        case "postgresql": {
            const mode = params.get("sslmode");
            const caFile = params.get("sslrootcert");
            const settings = shown(["sslmode", "sslrootcert"]);
            if (!mode || !VERIFYING_SSL_MODES.postgres.allowed.includes(mode)) {
                return {
                    settings,
                    problem: `sslmode ${mode ?? "unset (libpq's prefer: unverified TLS when offered, else plaintext)"} does not both encrypt and verify the server`,
                };
            }
            if (!caFile) return { settings, problem: "no sslrootcert names the CA to verify the server with" };
            return { settings, caFile };
        }
        case "mysql":
        case "mariadb": {
            const key = params.has("sslmode") ? "sslmode" : "ssl-mode";
            const mode = params.get(key)?.toLowerCase();
            const caFile = params.get("ssl-ca");
            const settings = shown([key, "ssl-ca"]);
            const verifying = [...VERIFYING_SSL_MODES.mysql.allowed, ...VERIFYING_SSL_MODES.mariadb.allowed];
            if (!mode || !verifying.includes(mode)) {
                return {
                    settings,
                    problem: `${key} ${mode ?? "unset (the MySQL client's preferred: unverified TLS when offered, else plaintext)"} does not both encrypt and verify the server`,
                };
            }
            if (!caFile) return { settings, problem: "no ssl-ca names the CA to verify the server with" };
            return { settings, caFile };
        }
        case "mssql":
        case "sqlserver": {
            const settings = shown(["encrypt", "trustServerCertificate"]);
            const encrypt = params.get("encrypt")?.toLowerCase();
            if (encrypt !== "true" && encrypt !== "strict") return { settings, problem: "encrypt is not true (or strict)" };
            if (params.get("trustServerCertificate")?.toLowerCase() === "true")
                return { settings, problem: "trustServerCertificate=true accepts any certificate" };
            return { settings };
        }
        default:
            return { settings: "", problem: `the pack cannot read TLS settings of a ${scheme ?? "scheme-less"} URL` };
    }
}
