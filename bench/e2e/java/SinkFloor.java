// The sink floor of bench/e2e: what one PostgreSQL client does with the change events the JDBC sink drains, using the
// sink's own statement shape (the Debezium JDBC sink 3.5's PostgreSQL dialect: INSERT ... ON CONFLICT (key) DO UPDATE
// SET col=EXCLUDED.col for inserts and updates, DELETE ... WHERE key=? for deletes and tombstones), bound one row per
// statement and sent with pgjdbc's executeBatch, one transaction per batch, as the sink's DefaultRecordWriter does.
//
//   java -cp <kafka classpath>:<pgjdbc jar> SinkFloor.java < request.json
//
// The request names the topics (one partition each), the offset range to apply, the table each lands in, and the key
// and value converters (class and settings, as the sink connector runs them: JsonConverter with embedded schemas, or
// the registry's AvroConverter). Records are read and decoded with them before the clock starts; the clock covers
// binding, executing and committing only. Modes:
//   every   - every record is a statement, in topic order; runs of one kind are one executeBatch; a commit every
//             batchSize records (the work the sink does when it flushes only at batch.size);
//   reduced - within each batchSize window, one statement per key (its last change), upserts then deletes, as the
//             sink's use.reduction.buffer does.
// Output: one JSON line with the counts, the seconds, and the seconds the converters took to read the records (the
// deserialization a sink task does before put(), measured here on the same records).

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.storage.Converter;

public class SinkFloor {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Time spent in the converters' toConnectData, the deserialization every sink task does before put(). */
    private static long convertNanos;

    /** One change event as the sink sees it: its key values, and the row after it (null for a delete or tombstone). */
    record Change(List<Object> key, List<Object> row) {}

    /** A target table with the columns of its change events: key columns first, as the sink lists them. */
    record Table(String name, List<String> keyColumns, List<String> columns, List<Change> changes) {}

    public static void main(String[] args) throws Exception {
        JsonNode request = JSON.readTree(System.in);
        List<Table> tables = new ArrayList<>();
        for (JsonNode t : request.get("tables")) {
            tables.add(read(request.get("bootstrap").asText(), t.get("topic").asText(), t.get("startOffset").asLong(),
                    t.get("endOffset").asLong(), t.get("table").asText(), converter(request.get("keyConverter"), true),
                    converter(request.get("valueConverter"), false)));
        }
        int batchSize = request.get("batchSize").asInt();
        boolean reduced = switch (request.get("mode").asText()) {
            case "every" -> false;
            case "reduced" -> true;
            default -> throw new IllegalArgumentException("mode must be every or reduced");
        };
        try (Connection c = DriverManager.getConnection(request.get("jdbcUrl").asText())) {
            c.setAutoCommit(false);
            long[] counts = new long[4]; // records, statements, executeBatch calls, transactions
            long started = System.nanoTime();
            for (Table t : tables) apply(c, t, batchSize, reduced, counts);
            double seconds = (System.nanoTime() - started) / 1e9;
            ObjectNode out = JSON.createObjectNode();
            out.put("mode", request.get("mode").asText());
            out.put("records", counts[0]);
            out.put("statements", counts[1]);
            out.put("batches", counts[2]);
            out.put("transactions", counts[3]);
            out.put("seconds", seconds);
            out.put("convertSeconds", convertNanos / 1e9);
            System.out.println(JSON.writeValueAsString(out));
        }
    }

    private static Table read(String bootstrap, String topic, long start, long end, String table, Converter keys, Converter values) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        List<Change> changes = new ArrayList<>();
        List<String> keyColumns = null;
        List<String> columns = null;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<PartitionInfo> partitions = consumer.partitionsFor(topic);
            if (partitions.size() != 1) throw new IllegalStateException(topic + ": the floor reads one-partition topics, it has " + partitions.size());
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seek(tp, start);
            long next = start;
            long deadline = System.currentTimeMillis() + 120_000;
            while (next < end) {
                if (System.currentTimeMillis() > deadline) throw new IllegalStateException(topic + ": offsets " + next + ".." + end + " not readable");
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.offset() >= end) continue;
                    next = r.offset() + 1;
                    long converting = System.nanoTime();
                    Struct key = (Struct) keys.toConnectData(topic, r.key()).value();
                    SchemaAndValue v = values.toConnectData(topic, r.value());
                    convertNanos += System.nanoTime() - converting;
                    if (keyColumns == null) keyColumns = key.schema().fields().stream().map(Field::name).toList();
                    List<Object> keyValues = key.schema().fields().stream().map(f -> value(f.schema(), key.get(f))).toList();
                    Struct after = v.value() == null ? null : ((Struct) v.value()).getStruct("after");
                    if (after == null) {
                        changes.add(new Change(keyValues, null));
                        continue;
                    }
                    if (columns == null) columns = orderedColumns(keyColumns, after.schema());
                    List<Object> row = new ArrayList<>();
                    for (String col : columns) row.add(value(after.schema().field(col).schema(), after.get(col)));
                    changes.add(new Change(keyValues, row));
                }
            }
        }
        if (columns == null) throw new IllegalStateException(topic + ": no insert or update between offsets " + start + " and " + end);
        return new Table(table, keyColumns, columns, changes);
    }

    /** `{"class": ..., "config": {...}}`: the converter the sink task runs, configured as it configures it. */
    private static Converter converter(JsonNode spec, boolean isKey) throws ReflectiveOperationException {
        Converter c = (Converter) Class.forName(spec.get("class").asText()).getDeclaredConstructor().newInstance();
        Map<String, Object> config = new LinkedHashMap<>();
        spec.get("config").fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
        c.configure(config, isKey);
        return c;
    }

    private static List<String> orderedColumns(List<String> keyColumns, Schema after) {
        List<String> columns = new ArrayList<>(keyColumns);
        for (Field f : after.fields()) if (!keyColumns.contains(f.name())) columns.add(f.name());
        return columns;
    }

    /** Debezium's temporal encodings as the JDBC objects pgjdbc binds natively; everything else as decoded. */
    private static Object value(Schema schema, Object v) {
        if (v == null) return null;
        String name = schema.name() == null ? "" : schema.name();
        return switch (name) {
            case "io.debezium.time.MicroTimestamp" -> micros((Long) v);
            case "io.debezium.time.Timestamp" -> micros((Long) v * 1000);
            case "io.debezium.time.NanoTimestamp" -> micros((Long) v / 1000);
            case "io.debezium.time.Date" -> LocalDate.ofEpochDay((Integer) v);
            case "io.debezium.time.ZonedTimestamp" -> OffsetDateTime.parse((String) v);
            case "org.apache.kafka.connect.data.Timestamp" -> micros(((java.util.Date) v).getTime() * 1000);
            default -> v instanceof ByteBuffer b ? b.array() : v;
        };
    }

    private static LocalDateTime micros(long us) {
        return LocalDateTime.ofEpochSecond(Math.floorDiv(us, 1_000_000L), (int) Math.floorMod(us, 1_000_000L) * 1000, ZoneOffset.UTC);
    }

    private static Map<String, String> columnTypes(Connection c, String table) throws SQLException {
        Map<String, String> types = new LinkedHashMap<>();
        try (PreparedStatement s = c.prepareStatement(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped")) {
            s.setString(1, table);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) types.put(rs.getString(1), rs.getString(2));
            }
        }
        c.commit();
        return types;
    }

    private static void apply(Connection c, Table t, int batchSize, boolean reduced, long[] counts) throws SQLException {
        Map<String, String> types = columnTypes(c, t.name());
        String bind = "?::%s";
        List<String> values = t.columns().stream().map(col -> bind.formatted(type(types, t, col))).toList();
        List<String> updates = t.columns().stream().filter(col -> !t.keyColumns().contains(col)).map(col -> col + "=EXCLUDED." + col).toList();
        String upsertSql = "INSERT INTO " + t.name() + " (" + String.join(",", t.columns()) + ") VALUES (" + String.join(",", values) + ") ON CONFLICT ("
                + String.join(",", t.keyColumns()) + ") DO UPDATE SET " + String.join(",", updates);
        String deleteSql = "DELETE FROM " + t.name() + " WHERE "
                + String.join(" AND ", t.keyColumns().stream().map(k -> k + "=" + bind.formatted(type(types, t, k))).toList());
        try (PreparedStatement upsert = c.prepareStatement(upsertSql); PreparedStatement delete = c.prepareStatement(deleteSql)) {
            List<Change> all = t.changes();
            for (int from = 0; from < all.size(); from += batchSize) {
                List<Change> window = all.subList(from, Math.min(all.size(), from + batchSize));
                counts[0] += window.size();
                if (reduced) {
                    Map<List<Object>, Change> last = new LinkedHashMap<>();
                    for (Change ch : window) {
                        last.remove(ch.key());
                        last.put(ch.key(), ch);
                    }
                    runBatch(upsert, last.values().stream().filter(ch -> ch.row() != null).toList(), counts);
                    runBatch(delete, last.values().stream().filter(ch -> ch.row() == null).toList(), counts);
                } else {
                    int run = 0;
                    for (int i = 1; i <= window.size(); i++) {
                        if (i == window.size() || (window.get(i).row() == null) != (window.get(run).row() == null)) {
                            runBatch(window.get(run).row() == null ? delete : upsert, window.subList(run, i), counts);
                            run = i;
                        }
                    }
                }
                c.commit();
                counts[3]++;
            }
        }
    }

    private static String type(Map<String, String> types, Table t, String column) {
        String type = types.get(column);
        if (type == null) throw new IllegalStateException(t.name() + " has no column " + column);
        return type;
    }

    private static void runBatch(PreparedStatement s, List<Change> changes, long[] counts) throws SQLException {
        if (changes.isEmpty()) return;
        for (Change ch : changes) {
            List<Object> params = ch.row() != null ? ch.row() : ch.key();
            for (int i = 0; i < params.size(); i++) {
                Object v = params.get(i);
                if (v instanceof BigDecimal d) s.setBigDecimal(i + 1, d);
                else s.setObject(i + 1, v);
            }
            s.addBatch();
        }
        s.executeBatch();
        counts[1] += changes.size();
        counts[2]++;
    }
}
