/**
 * What each database TLS mode name means, per client family: the one table the stack's config rules, the
 * reconciler's URLs and the reconciler's drivers all read, so "which modes verify the server" is decided once.
 * The names are the ones Debezium's connectors take (`database.sslmode` / `database.ssl.mode`), which are also
 * libpq's and the MySQL client's; Debezium's MariaDB connector has its own set, without a fallback mode.
 */

export type TlsNegotiation =
    /** Plaintext only. */
    | "never"
    /** Plaintext, retried over TLS when the server refuses it (libpq `allow`). */
    | "plaintext-first"
    /** TLS, retried in plaintext when that fails (libpq `prefer`, MySQL `preferred`). */
    | "tls-first"
    | "always";

export type TlsVerification = "none" | "ca" | "full";

export interface TlsMode {
    negotiation: TlsNegotiation;
    /** "ca": the certificate chains to the given CA; "full": and it names the host the client connected to. */
    verification: TlsVerification;
    /** Set where the mode verifies the chain only when a CA file is given (libpq's and pgjdbc's `require`). */
    verificationWithCa?: TlsVerification;
}

export type TlsModeFamily = "postgres" | "mysql" | "mariadb";

export const TLS_MODES: Readonly<Record<TlsModeFamily, Readonly<Record<string, TlsMode>>>> = {
    postgres: {
        disable: { negotiation: "never", verification: "none" },
        allow: { negotiation: "plaintext-first", verification: "none" },
        prefer: { negotiation: "tls-first", verification: "none" },
        require: { negotiation: "always", verification: "none", verificationWithCa: "ca" },
        "verify-ca": { negotiation: "always", verification: "ca" },
        "verify-full": { negotiation: "always", verification: "full" },
    },
    mysql: {
        disabled: { negotiation: "never", verification: "none" },
        preferred: { negotiation: "tls-first", verification: "none" },
        required: { negotiation: "always", verification: "none" },
        verify_ca: { negotiation: "always", verification: "ca" },
        verify_identity: { negotiation: "always", verification: "full" },
    },
    mariadb: {
        disable: { negotiation: "never", verification: "none" },
        trust: { negotiation: "always", verification: "none" },
        "verify-ca": { negotiation: "always", verification: "ca" },
        "verify-full": { negotiation: "always", verification: "full" },
    },
};

/** A mode that both encrypts and verifies the server whatever else the connection is given. */
const isVerifyingMode = (mode: TlsMode): boolean => mode.negotiation === "always" && mode.verification !== "none";

/** Whether a client in this mode reads a CA file at all; elsewhere a CA would suggest a verification that never happens. */
export const readsCaFile = (mode: TlsMode): boolean => mode.verification !== "none" || mode.verificationWithCa !== undefined;

/** Mode names that both encrypt and verify the server, per family: what prod requires of every database connection. */
export const VERIFYING_SSL_MODES: Readonly<Record<TlsModeFamily, readonly string[]>> = {
    postgres: verifyingNames("postgres"),
    mysql: verifyingNames("mysql"),
    mariadb: verifyingNames("mariadb"),
};

function verifyingNames(family: TlsModeFamily): string[] {
    return Object.entries(TLS_MODES[family])
        .filter(([, mode]) => isVerifyingMode(mode))
        .map(([name]) => name);
}
