/**
 * The connector plugin catalog: the one place that names each connector's class and what it is
 * installed from. The Strimzi `KafkaConnect` build section and the local sandbox both read it, so the
 * plugin set tested locally is the plugin set deployed, byte for byte (the archives are pinned by SHA-512).
 */

const DEBEZIUM_VERSION = "3.6.1.Final";
/**
 * Maven Central serves the MariaDB connector only up to 3.5.0.Final (no 3.6.x). Strimzi's build and the sandbox both
 * download from Maven Central, so both pin the version that exists rather than one only the sandbox could work around.
 */
const DEBEZIUM_MARIADB_VERSION = "3.5.0.Final";
/**
 * Maven Central serves the JDBC sink up to 3.6.0.Final (not 3.6.1 or 3.7). 3.6.0.Final would bring nothing this stack
 * needs: its `debezium-connector-jdbc` and `debezium-sink` jars have no write-stage errant-record reporting (rows the
 * target refuses still fail the task; docs/ops.md, "Rows the target database refuses"), the one reason to move. So
 * the sink stays on 3.5.0.Final, the version the sandbox (and so every e2e spec) runs.
 */
const DEBEZIUM_JDBC_SINK_VERSION = "3.5.0.Final";

interface MavenArtifact {
    groupId: string;
    artifactId: string;
    version: string;
    /** Only for artifacts that are not on Maven Central. */
    repository?: string;
}

/**
 * Debezium's own plugin archive (`<artifact>-<version>-plugin.tar.gz` on Maven Central): the folder Debezium
 * tests and ships. Installing it as is, rather than resolving the connector's Maven dependencies, keeps
 * jars the Connect worker provides out of the plugin folder: a second Jackson there breaks the JDBC sink
 * ("Jdk8Module not a subtype"), and a Maven `type` build copies every transitive dependency.
 */
export interface PluginArchive {
    url: string;
    /** Maven Central's published `.sha512`; Strimzi and the sandbox both refuse a download that differs. */
    sha512: string;
}

export type PluginId =
    "debezium-sqlserver" | "debezium-postgres" | "debezium-mysql" | "debezium-mariadb" | "debezium-jdbc-sink" | "confluent-jdbc-sink";

export interface ConnectorPlugin {
    id: PluginId;
    connectorClass: string;
    kind: "source" | "sink";
    license: string;
    /** Maven coordinates: installed with their runtime dependencies (Strimzi `type: maven`) when there is no archive. */
    artifacts: MavenArtifact[];
    archive?: PluginArchive;
}

const CENTRAL = "https://repo1.maven.org/maven2";

function debezium(artifactId: string, version: string, sha512: string): Pick<ConnectorPlugin, "artifacts" | "archive"> {
    return {
        artifacts: [{ groupId: "io.debezium", artifactId, version }],
        archive: { url: `${CENTRAL}/io/debezium/${artifactId}/${version}/${artifactId}-${version}-plugin.tar.gz`, sha512 },
    };
}

export const CONNECTOR_PLUGINS: Readonly<Record<PluginId, ConnectorPlugin>> = {
    "debezium-sqlserver": {
        id: "debezium-sqlserver",
        connectorClass: "io.debezium.connector.sqlserver.SqlServerConnector",
        kind: "source",
        license: "Apache-2.0",
        ...debezium(
            "debezium-connector-sqlserver",
            DEBEZIUM_VERSION,
            "37685607fd4430553abc33ea01c0d7fdffba2d1391aaea2be88afc4474ab39b0c1d81126b1e7c35c041957e179f71aeaa22a3b21f95b32fe2077729c70a810ab",
        ),
    },
    "debezium-postgres": {
        id: "debezium-postgres",
        connectorClass: "io.debezium.connector.postgresql.PostgresConnector",
        kind: "source",
        license: "Apache-2.0",
        ...debezium(
            "debezium-connector-postgres",
            DEBEZIUM_VERSION,
            "774f6854a6c1c9a7ad3bdb6ddd367e9479a0b80e511ea27fc361320a955f9bf57a72393ff0e045b868b63589e7e16c27266cda296d9b1419bb071e914ee4d212",
        ),
    },
    "debezium-mysql": {
        id: "debezium-mysql",
        connectorClass: "io.debezium.connector.mysql.MySqlConnector",
        kind: "source",
        license: "Apache-2.0",
        ...debezium(
            "debezium-connector-mysql",
            DEBEZIUM_VERSION,
            "81d43014a1ba0f1dd650525ed23bec36caecc33e3368a95554ca8bd2cca82df9575f7f4c46c8c5fd45ea2e3ee85c20620e9f71f07ecc6b0354eea3bccf0653bd",
        ),
    },
    // Debezium 3.x's MySQL connector refuses MariaDB servers (it sends MySQL 8.4 statements to them).
    "debezium-mariadb": {
        id: "debezium-mariadb",
        connectorClass: "io.debezium.connector.mariadb.MariaDbConnector",
        kind: "source",
        license: "Apache-2.0",
        ...debezium(
            "debezium-connector-mariadb",
            DEBEZIUM_MARIADB_VERSION,
            "94309fdfdb9744b586f3a0825ac48d05d241bb79b4218cedb42c04831e4844262bf26bcfa32fd4a60551614ddcfc57b5b5a1a4a9dd26a85341d7623cda883de1",
        ),
    },
    "debezium-jdbc-sink": {
        id: "debezium-jdbc-sink",
        connectorClass: "io.debezium.connector.jdbc.JdbcSinkConnector",
        kind: "sink",
        license: "Apache-2.0",
        ...debezium(
            "debezium-connector-jdbc",
            DEBEZIUM_JDBC_SINK_VERSION,
            "0190ce8f03dc722a856a1d5c732c79999257eeb171cd78922d5a5f0710819b8fe8996c96ef9ce7087025949ec2714155b33869ddc598d4356c943da33a3d9422",
        ),
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
