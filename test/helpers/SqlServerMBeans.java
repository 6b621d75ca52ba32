import io.debezium.config.Configuration;
import io.debezium.connector.base.ChangeEventQueueMetrics;
import io.debezium.connector.sqlserver.SqlServerConnectorConfig;
import io.debezium.connector.sqlserver.SqlServerPartition;
import io.debezium.connector.sqlserver.SqlServerTaskContext;
import io.debezium.connector.sqlserver.metrics.SqlServerMetricsFactory;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;

/** Registers Debezium 3.6.1's own SQL Server streaming and snapshot metrics MBeans, as a task with two databases does. */
public class SqlServerMBeans {
    public static void main(String[] args) throws Exception {
        Configuration config = Configuration.from(Map.of(
            "connector.class", "io.debezium.connector.sqlserver.SqlServerConnector",
            "topic.prefix", "sales", "database.names", "SalesDB,HrDB", "database.hostname", "localhost",
            "database.user", "u", "database.password", "p", "task.id", "0",
            "custom.metric.tags", "team=payments"));
        SqlServerConnectorConfig connectorConfig = new SqlServerConnectorConfig(config);
        SqlServerTaskContext context = new SqlServerTaskContext(config, connectorConfig);
        List<SqlServerPartition> partitions = List.of(new SqlServerPartition("sales", "SalesDB"), new SqlServerPartition("sales", "HrDB"));
        ChangeEventQueueMetrics queue = new ChangeEventQueueMetrics() {
            public int totalCapacity() { return 8192; }
            public int remainingCapacity() { return 8000; }
            public long maxQueueSizeInBytes() { return 0; }
            public long currentQueueSizeInBytes() { return 0; }
        };
        SqlServerMetricsFactory factory = new SqlServerMetricsFactory(partitions);
        factory.getStreamingMetrics(context, queue, null, List::of).register();
        factory.getSnapshotMetrics(context, queue, null).register();
        for (var name : ManagementFactory.getPlatformMBeanServer().queryNames(null, null))
            if (name.getDomain().startsWith("debezium")) System.out.println(name.getDomain() + "<" + name.getKeyPropertyListString() + ">");
        System.out.println("registered");
        // Kept alive for the exporter to be scraped; the test ends the JVM.
        Thread.sleep(Long.MAX_VALUE);
    }
}
