import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads one partition from its start with Kafka's own Java client and prints, per record, its offset, timestamp type,
 * timestamp and headers in order (name=value, "name" alone for a null value), tab-separated: the witness the ops
 * client's timestamps and header lists are checked against.
 * Usage: ReadTimestamps <bootstrap> <topic> <partition> <count>
 */
public class ReadTimestamps {
    public static void main(String[] args) {
        Properties props = new Properties();
        props.put("bootstrap.servers", args[0]);
        props.put("key.deserializer", ByteArrayDeserializer.class.getName());
        props.put("value.deserializer", ByteArrayDeserializer.class.getName());
        int wanted = Integer.parseInt(args[3]);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            TopicPartition tp = new TopicPartition(args[1], Integer.parseInt(args[2]));
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            int seen = 0;
            long deadline = System.currentTimeMillis() + 30_000;
            while (seen < wanted && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    List<String> headers = new ArrayList<>();
                    for (Header h : r.headers())
                        headers.add(h.value() == null ? h.key() : h.key() + "=" + new String(h.value(), StandardCharsets.UTF_8));
                    System.out.println(r.offset() + "\t" + r.timestampType() + "\t" + r.timestamp() + "\t" + String.join("|", headers));
                    seen++;
                }
            }
        }
    }
}
