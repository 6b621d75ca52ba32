/**
 * The stack renders MySQL-kind sources for Debezium's MySQL connector, which since Debezium 3.x
 * refuses MariaDB servers. The sandbox's MySQL-family server is MariaDB (the one Debian ships), so
 * its MySQL source is handed to Debezium's MariaDB connector: same binlog connector family, same keys,
 * except the TLS mode names. To be retired once the stack spec can say a source is MariaDB.
 */
import { CONNECTOR_PLUGINS } from "../connectors/catalog";
import type { RenderedConnector } from "../connectors/render";

/** MySQL `database.ssl.mode` → MariaDB connector's; it has no fallback mode like `preferred`. */
const SSL_MODES: Readonly<Record<string, string>> = {
    disabled: "disable",
    preferred: "disable",
    required: "trust",
    verify_ca: "verify-ca",
    verify_identity: "verify-full",
};

export function onMariaDb(connector: RenderedConnector): RenderedConnector {
    if (connector.plugin !== "debezium-mysql") return connector;
    const plugin = CONNECTOR_PLUGINS["debezium-mariadb"];
    const sslMode = connector.config["database.ssl.mode"];
    return {
        ...connector,
        plugin: plugin.id,
        connectorClass: plugin.connectorClass,
        config: { ...connector.config, ...(sslMode ? { "database.ssl.mode": SSL_MODES[sslMode] ?? sslMode } : {}) },
    };
}
