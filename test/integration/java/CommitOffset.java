import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Commits one offset for a consumer group with Kafka's own Java client, the way a Connect sink task commits,
 * so the ops client's group-offset and lag reads are checked against a writer other than itself.
 * Usage: CommitOffset <bootstrap> <group> <topic> <partition> <offset>
 */
public class CommitOffset {
    public static void main(String[] args) {
        Properties props = new Properties();
        props.put("bootstrap.servers", args[0]);
        props.put("group.id", args[1]);
        props.put("key.deserializer", ByteArrayDeserializer.class.getName());
        props.put("value.deserializer", ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            TopicPartition tp = new TopicPartition(args[2], Integer.parseInt(args[3]));
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(Long.parseLong(args[4]))));
        }
    }
}
