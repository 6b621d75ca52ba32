// The few Kafka client operations the sandbox needs from Node (create topics, read end offsets,
// read records with headers, write raw records), run with the same kafka-clients jar as the broker through Java's
// single-file source launcher: `java -cp <kafka classpath> KafkaAdmin.java <command> ...`.
// Output is JSON on stdout, one document per line.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class KafkaAdmin {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        if (args.length < 2) usage();
        String bootstrap = args[1];
        switch (args[0]) {
            case "create-topics" -> createTopics(bootstrap);
            case "end-offsets" -> endOffsets(bootstrap, List.of(args).subList(2, args.length), 0);
            case "watch-end-offsets" -> endOffsets(bootstrap, List.of(args).subList(3, args.length), Long.parseLong(args[2]));
            case "consume" -> consume(bootstrap, args[2], Integer.parseInt(args[3]), Long.parseLong(args[4]));
            case "produce" -> produce(bootstrap, args[2]);
            default -> usage();
        }
    }

    private static void usage() {
        System.err.println("usage: KafkaAdmin create-topics <bootstrap> < topics.json");
        System.err.println("       KafkaAdmin end-offsets <bootstrap> <topic>...");
        System.err.println("       KafkaAdmin watch-end-offsets <bootstrap> <intervalMs> <topic>...");
        System.err.println("       KafkaAdmin consume <bootstrap> <topic> <maxRecords> <timeoutMs>");
        System.err.println("       KafkaAdmin produce <bootstrap> <topic> < records.json");
        System.exit(2);
    }

    private static Properties clientProps(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "cdc-sandbox-admin");
        return p;
    }

    /** stdin: [{"name","partitions","replicationFactor","config":{...}}]; existing topics are left as they are. */
    private static void createTopics(String bootstrap) throws Exception {
        JsonNode specs = JSON.readTree(System.in);
        List<NewTopic> topics = new ArrayList<>();
        for (JsonNode s : specs) {
            Map<String, String> config = new HashMap<>();
            s.path("config").fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
            topics.add(new NewTopic(s.get("name").asText(), s.get("partitions").asInt(), (short) s.get("replicationFactor").asInt())
                    .configs(config));
        }
        ObjectNode out = JSON.createObjectNode();
        ArrayNode created = out.putArray("created");
        ArrayNode existing = out.putArray("existing");
        try (Admin admin = Admin.create(clientProps(bootstrap))) {
            var result = admin.createTopics(topics);
            for (var e : result.values().entrySet()) {
                try {
                    e.getValue().get();
                    created.add(e.getKey());
                } catch (ExecutionException ex) {
                    if (ex.getCause() instanceof TopicExistsException) existing.add(e.getKey());
                    else throw new RuntimeException("topic " + e.getKey() + ": " + ex.getCause().getMessage(), ex.getCause());
                }
            }
        }
        System.out.println(JSON.writeValueAsString(out));
    }

    /** Sum of the end offsets per topic (records ever written); missing topics count 0. Repeats when intervalMs > 0. */
    private static void endOffsets(String bootstrap, List<String> topics, long intervalMs) throws Exception {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrap)) {
            do {
                ObjectNode out = JSON.createObjectNode();
                Map<String, List<PartitionInfo>> all = consumer.listTopics(Duration.ofSeconds(10));
                List<TopicPartition> partitions = new ArrayList<>();
                for (String t : topics) {
                    out.put(t, 0L);
                    for (PartitionInfo p : all.getOrDefault(t, List.of())) partitions.add(new TopicPartition(t, p.partition()));
                }
                for (var e : consumer.endOffsets(partitions, Duration.ofSeconds(10)).entrySet()) {
                    String t = e.getKey().topic();
                    out.put(t, out.get(t).asLong() + e.getValue());
                }
                System.out.println(JSON.writeValueAsString(out));
                System.out.flush();
                if (intervalMs > 0) Thread.sleep(intervalMs);
            } while (intervalMs > 0);
        }
    }

    /** Reads a topic from the beginning: up to maxRecords, or whatever arrived within timeoutMs. */
    private static void consume(String bootstrap, String topic, int maxRecords, long timeoutMs) throws Exception {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrap)) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofSeconds(10))) partitions.add(new TopicPartition(topic, p.partition()));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.currentTimeMillis() + timeoutMs;
            int seen = 0;
            while (seen < maxRecords && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    ObjectNode out = JSON.createObjectNode();
                    out.put("partition", r.partition());
                    out.put("offset", r.offset());
                    out.put("key", text(r.key()));
                    out.put("value", text(r.value()));
                    ObjectNode headers = out.putObject("headers");
                    for (Header h : r.headers()) headers.put(h.key(), text(h.value()));
                    System.out.println(JSON.writeValueAsString(out));
                    if (++seen >= maxRecords) break;
                }
            }
        }
    }

    /** stdin: [{"key": string|null, "value": string|null}], written as UTF-8 bytes, acknowledged by all replicas. */
    private static void produce(String bootstrap, String topic) throws Exception {
        JsonNode records = JSON.readTree(System.in);
        Properties p = clientProps(bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        ObjectNode out = JSON.createObjectNode();
        ArrayNode offsets = out.putArray("offsets");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (JsonNode r : records) {
                byte[] key = r.path("key").isNull() || r.path("key").isMissingNode() ? null : r.get("key").asText().getBytes(StandardCharsets.UTF_8);
                byte[] value = r.path("value").isNull() || r.path("value").isMissingNode() ? null : r.get("value").asText().getBytes(StandardCharsets.UTF_8);
                offsets.add(producer.send(new ProducerRecord<>(topic, key, value)).get().offset());
            }
        }
        System.out.println(JSON.writeValueAsString(out));
    }

    private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap) {
        Properties p = clientProps(bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return new KafkaConsumer<>(p);
    }

    private static String text(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }
}
