/**
 * The connector plugin catalog: the one place that names each connector's class and the Maven
 * coordinates it is installed from. The Strimzi `KafkaConnect` build section and the local sandbox
 * both read it, so the plugin set tested locally is the plugin set deployed.
 */

export const DEBEZIUM_VERSION = "3.6.1.Final";
/**
 * Maven Central stops at 3.5.0.Final for these two Debezium artifacts (3.6.x of the JDBC sink and of
 * its `debezium-sink` dependency, and of the MariaDB connector, are not published there). Strimzi's
 * `type: maven` build and the sandbox both resolve from Maven Central, so both pin the version that
 * exists rather than one only the sandbox could work around.
 */
export const DEBEZIUM_CENTRAL_ONLY_VERSION = "3.5.0.Final";

export interface MavenArtifact {
    groupId: string;
    artifactId: string;
    version: string;
    /** Only for artifacts that are not on Maven Central. */
    repository?: string;
}

export type PluginId =
    | "debezium-sqlserver"
    | "debezium-postgres"
    | "debezium-mysql"
    | "debezium-mariadb"
    | "debezium-jdbc-sink"
    | "confluent-jdbc-sink";

export interface ConnectorPlugin {
    id: PluginId;
    connectorClass: string;
    kind: "source" | "sink";
    license: string;
    /** Installed with their runtime dependencies (Strimzi `type: maven`, sandbox `copy-dependencies`). */
    artifacts: MavenArtifact[];
}

const debezium = (artifactId: string, version = DEBEZIUM_VERSION): MavenArtifact => ({
    groupId: "io.debezium",
    artifactId,
    version,
});

export const CONNECTOR_PLUGINS: Readonly<Record<PluginId, ConnectorPlugin>> = {
    "debezium-sqlserver": {
        id: "debezium-sqlserver",
        connectorClass: "io.debezium.connector.sqlserver.SqlServerConnector",
        kind: "source",
        license: "Apache-2.0",
        artifacts: [debezium("debezium-connector-sqlserver")],
    },
    "debezium-postgres": {
        id: "debezium-postgres",
        connectorClass: "io.debezium.connector.postgresql.PostgresConnector",
        kind: "source",
        license: "Apache-2.0",
        artifacts: [debezium("debezium-connector-postgres")],
    },
    "debezium-mysql": {
        id: "debezium-mysql",
        connectorClass: "io.debezium.connector.mysql.MySqlConnector",
        kind: "source",
        license: "Apache-2.0",
        artifacts: [debezium("debezium-connector-mysql")],
    },
    // Debezium 3.x's MySQL connector refuses MariaDB servers (it sends MySQL 8.4 statements to them).
    "debezium-mariadb": {
        id: "debezium-mariadb",
        connectorClass: "io.debezium.connector.mariadb.MariaDbConnector",
        kind: "source",
        license: "Apache-2.0",
        artifacts: [debezium("debezium-connector-mariadb", DEBEZIUM_CENTRAL_ONLY_VERSION)],
    },
    "debezium-jdbc-sink": {
        id: "debezium-jdbc-sink",
        connectorClass: "io.debezium.connector.jdbc.JdbcSinkConnector",
        kind: "sink",
        license: "Apache-2.0",
        artifacts: [debezium("debezium-connector-jdbc", DEBEZIUM_CENTRAL_ONLY_VERSION)],
    },
    // Confluent Community License, served from Confluent's own repository, not Maven Central.
    "confluent-jdbc-sink": {
        id: "confluent-jdbc-sink",
        connectorClass: "io.confluent.connect.jdbc.JdbcSinkConnector",
        kind: "sink",
        license: "Confluent Community License",
        artifacts: [
            {
                groupId: "io.confluent",
                artifactId: "kafka-connect-jdbc",
                version: "10.9.7",
                repository: "https://packages.confluent.io/maven/",
            },
        ],
    },
};

export function pluginById(id: PluginId): ConnectorPlugin {
    return CONNECTOR_PLUGINS[id];
}
