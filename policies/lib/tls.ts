/**
 * What counts as an encrypted and verified database connection, for the source and sink TLS policies. The pack
 * reads rendered connector configs only, so it keeps its own copy of the connectors' mode names.
 */
import { boolean, PolicySettings, settings } from "./config";

/** `ssl mode` values that both encrypt and verify the server, per source kind, and the key that carries them. */
export const VERIFYING_SSL_MODES: Readonly<Record<string, { key: string; allowed: readonly string[] }>> = {
    postgres: { key: "database.sslmode", allowed: ["verify-ca", "verify-full"] },
    mysql: { key: "database.ssl.mode", allowed: ["verify_ca", "verify_identity"] },
    // Debezium's MariaDB connector spells its modes like PostgreSQL's (disable, trust, verify-ca, verify-full).
    mariadb: { key: "database.ssl.mode", allowed: ["verify-ca", "verify-full"] },
};

/** The one setting both TLS policies take: whether the environment requires verified connections. */
export function encryptionSettings(side: "source" | "sink"): PolicySettings<{ requireEncryption: boolean }> {
    return settings<{ requireEncryption: boolean }>({
        requireEncryption: boolean(true, `Whether ${side} database connections must be encrypted and verified (the environment profile's requireDatabaseEncryption).`),
    });
}
