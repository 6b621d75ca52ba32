// Dumps the configuration keys the pinned Apicurio converter really reads, for the contract tests
// (test/contracts/converter-catalog.spec.ts): the ConfigDefs its serde config classes build, the keys its schema
// resolver reads (the public String constants of its config classes), the values of its enumerated options, and
// whether the converter jar declares itself in a ServiceLoader manifest. Run with the Kafka runtime and the
// converter's plugin folder on the class path through Java's single-file source launcher:
//   java -cp <kafka classpath>:<plugin jars> DeriveConverterCatalog.java < request.json > catalog.json

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarFile;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;
import org.apache.kafka.connect.storage.Converter;

public class DeriveConverterCatalog {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        JsonNode request = JSON.readTree(System.in);
        Map<String, ObjectNode> properties = new TreeMap<>();
        ObjectNode out = JSON.createObjectNode();
        Converter converter = (Converter) Class.forName(request.get("converterClass").asText()).getDeclaredConstructor().newInstance();
        addConfigDef(properties, converter.config(), request.get("converterClass").asText() + "#config()");
        for (JsonNode ref : request.get("configDefs")) {
            String[] parts = ref.asText().split("#");
            Method method = findMethod(Class.forName(parts[0]), parts[1]);
            method.setAccessible(true);
            ConfigDef def = (ConfigDef) (method.getParameterCount() == 0 ? method.invoke(null) : method.invoke(null, new ConfigDef()));
            addConfigDef(properties, def, ref.asText());
        }
        Map<String, String> prefixes = new TreeMap<>();
        for (JsonNode name : request.get("keyConstants")) {
            Class<?> type = Class.forName(name.asText());
            for (Field field : type.getFields()) {
                if (!Modifier.isStatic(field.getModifiers()) || field.getType() != String.class) continue;
                String value = (String) field.get(null);
                if (value == null || !value.startsWith("apicurio.")) continue;
                String from = type.getName() + "#" + field.getName();
                if (value.endsWith(".")) prefixes.putIfAbsent(value, from);
                else if (!properties.containsKey(value)) properties.put(value, JSON.createObjectNode().put("name", value).put("from", from));
            }
        }
        for (JsonNode ref : request.get("defaultsMaps")) {
            String[] parts = ref.asText().split("#");
            Field field = Class.forName(parts[0]).getDeclaredField(parts[1]);
            field.setAccessible(true);
            for (Map.Entry<?, ?> entry : ((Map<?, ?>) field.get(null)).entrySet()) {
                String key = String.valueOf(entry.getKey());
                Object value = entry.getValue();
                ObjectNode prop = properties.computeIfAbsent(key, k -> JSON.createObjectNode().put("name", k).put("from", ref.asText()));
                if (!prop.has("type")) prop.put("type", value instanceof Boolean ? "boolean" : value instanceof Number ? "long" : "string");
                if (!prop.has("default")) prop.put("default", value == null ? null : String.valueOf(value));
            }
        }
        for (JsonNode option : request.get("enums")) {
            String[] parts = option.get("from").asText().split("#");
            ArrayNode allowed = JSON.createArrayNode();
            for (Object constant : Class.forName(parts[0]).getEnumConstants()) allowed.add(constant.toString());
            ObjectNode prop = properties.computeIfAbsent(option.get("key").asText(), k -> JSON.createObjectNode().put("name", k));
            prop.set("allowed", allowed);
        }
        ArrayNode prefixList = out.putArray("prefixes");
        prefixes.forEach((prefix, from) -> prefixList.addObject().put("prefix", prefix).put("from", from));
        ArrayNode list = out.putArray("properties");
        properties.values().forEach(list::add);
        try (JarFile jar = new JarFile(request.get("converterJar").asText())) {
            out.put("serviceManifest", jar.getEntry("META-INF/services/" + Converter.class.getName()) != null);
            java.util.Properties pom = new java.util.Properties();
            jar.stream().filter(e -> e.getName().startsWith("META-INF/maven/") && e.getName().endsWith("/pom.properties")).findFirst().ifPresent(e -> {
                try (var in = jar.getInputStream(e)) {
                    pom.load(in);
                } catch (java.io.IOException err) {
                    throw new java.io.UncheckedIOException(err);
                }
            });
            out.put("version", pom.getProperty("version", ""));
        }
        System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(out));
    }

    private static Method findMethod(Class<?> type, String name) throws NoSuchMethodException {
        for (Method m : type.getDeclaredMethods()) if (m.getName().equals(name) && Modifier.isStatic(m.getModifiers())) return m;
        throw new NoSuchMethodException(type.getName() + "#" + name);
    }

    private static void addConfigDef(Map<String, ObjectNode> properties, ConfigDef def, String from) {
        for (ConfigKey key : def.configKeys().values()) {
            ObjectNode prop = JSON.createObjectNode().put("name", key.name).put("type", key.type.name().toLowerCase()).put("from", from);
            if (key.hasDefault()) prop.put("default", key.defaultValue == null ? null : String.valueOf(key.defaultValue));
            properties.put(key.name, prop);
        }
    }
}
