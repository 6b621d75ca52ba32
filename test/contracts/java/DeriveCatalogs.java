// Dumps the configuration keys that the pinned connector plugins and the Kafka Connect runtime really
// accept, from their own ConfigDefs, for the contract tests (test/helpers/catalogs.ts). Run with the
// Kafka runtime class path through Java's single-file source launcher, like sandbox/java/KafkaAdmin.java:
//   java -cp <kafka classpath> DeriveCatalogs.java < request.json > catalogs.json
// The request (test/contracts/derive-catalogs.ts) names each plugin folder, its connector class and the
// prefix constants to read from it. Progress goes to stderr.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.connect.connector.Connector;
import org.apache.kafka.connect.runtime.ConnectorConfig;
import org.apache.kafka.connect.runtime.SinkConnectorConfig;
import org.apache.kafka.connect.runtime.SourceConnectorConfig;
import org.apache.kafka.connect.runtime.isolation.PluginClassLoader;
import org.apache.kafka.connect.runtime.isolation.PluginUtils;
import org.apache.kafka.connect.runtime.isolation.Plugins;
import org.apache.kafka.connect.sink.SinkConnector;
import org.apache.kafka.connect.transforms.Transformation;
import org.apache.kafka.connect.transforms.predicates.Predicate;

public class DeriveCatalogs {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Kafka's own SMT and predicate, used only to learn which keys Connect adds to every alias. */
    private static final String PROBE_TRANSFORM = "org.apache.kafka.connect.transforms.RegexRouter";
    private static final String PROBE_PREDICATE = "org.apache.kafka.connect.transforms.predicates.TopicNameMatches";

    public static void main(String[] args) throws Exception {
        JsonNode request = JSON.readTree(System.in);
        ObjectNode out = JSON.createObjectNode();
        out.set("kafka", kafka());
        ObjectNode plugins = out.putObject("plugins");
        for (JsonNode plugin : request.get("plugins")) {
            String id = plugin.get("id").asText();
            long started = System.nanoTime();
            ObjectNode catalog = plugin(plugin);
            plugins.set(id, catalog);
            progress("%s: %d properties, %d transforms (%d ms)", id, catalog.get("properties").size(), catalog.get("transforms").size(),
                    (System.nanoTime() - started) / 1_000_000);
        }
        JSON.writerWithDefaultPrettyPrinter().writeValue(System.out, out);
    }

    private static void progress(String format, Object... args) {
        System.err.println(String.format(format, args));
    }

    // ---- Kafka Connect framework -------------------------------------------------------------

    private static ObjectNode kafka() throws Exception {
        ObjectNode kafka = JSON.createObjectNode();
        kafka.put("version", AppInfoParser.getVersion());
        ConfigDef common = ConnectorConfig.configDef();
        ObjectNode framework = kafka.putObject("framework");
        framework.set("all", properties(common.configKeys().values()));
        framework.set("sink", properties(without(SinkConnectorConfig.configDef(), common)));
        framework.set("source", properties(without(SourceConnectorConfig.configDef(), common)));
        // Connect hands these on: client overrides to the connector's producer, consumer and admin
        // clients (source and sink tasks use all three: records or DLQ, offsets or records, topics or DLQ
        // topic), converter options to the converters.
        ArrayNode prefixes = kafka.putArray("prefixes");
        Map<String, String> passedOn = new LinkedHashMap<>();
        passedOn.put("CONNECTOR_CLIENT_PRODUCER_OVERRIDES_PREFIX", ConnectorConfig.CONNECTOR_CLIENT_PRODUCER_OVERRIDES_PREFIX);
        passedOn.put("CONNECTOR_CLIENT_CONSUMER_OVERRIDES_PREFIX", ConnectorConfig.CONNECTOR_CLIENT_CONSUMER_OVERRIDES_PREFIX);
        passedOn.put("CONNECTOR_CLIENT_ADMIN_OVERRIDES_PREFIX", ConnectorConfig.CONNECTOR_CLIENT_ADMIN_OVERRIDES_PREFIX);
        passedOn.put("KEY_CONVERTER_CLASS_CONFIG", ConnectorConfig.KEY_CONVERTER_CLASS_CONFIG + ".");
        passedOn.put("VALUE_CONVERTER_CLASS_CONFIG", ConnectorConfig.VALUE_CONVERTER_CLASS_CONFIG + ".");
        passedOn.put("HEADER_CONVERTER_CLASS_CONFIG", ConnectorConfig.HEADER_CONVERTER_CLASS_CONFIG + ".");
        passedOn.forEach((constant, prefix) -> prefixes.addObject().put("prefix", prefix).put("from", ConnectorConfig.class.getName() + "#" + constant));
        implicitAliasKeys(kafka);
        ClassLoader runtime = ClassLoader.getSystemClassLoader();
        kafka.set("transforms", pluginConfigs(Transformation.class, runtime, null, t -> ((Transformation<?>) t).config()));
        kafka.set("predicates", pluginConfigs(Predicate.class, runtime, null, p -> ((Predicate<?>) p).config()));
        progress("kafka connect %s: %d framework keys, %d transforms, %d predicates", AppInfoParser.getVersion(),
                framework.get("all").size() + framework.get("sink").size() + framework.get("source").size(),
                kafka.get("transforms").size(), kafka.get("predicates").size());
        return kafka;
    }

    private static Collection<ConfigKey> without(ConfigDef def, ConfigDef common) {
        List<ConfigKey> keys = new ArrayList<>();
        for (ConfigKey key : def.configKeys().values()) if (!common.configKeys().containsKey(key.name)) keys.add(key);
        return keys;
    }

    /**
     * The keys Connect itself defines under every `transforms.<alias>.` and `predicates.<alias>.` (type,
     * predicate, negate, plugin.version in Kafka 4.x), taken from ConnectorConfig.enrich with one of Kafka's
     * own plugins minus that plugin's own keys, so they follow the runtime version instead of a list here.
     */
    private static void implicitAliasKeys(ObjectNode kafka) throws Exception {
        Plugins plugins = new Plugins(Map.of("plugin.path", "", "plugin.discovery", "service_load"));
        Map<String, String> props = Map.of(
                "transforms", "t", "transforms.t.type", PROBE_TRANSFORM,
                "predicates", "p", "predicates.p.type", PROBE_PREDICATE);
        ConfigDef enriched = ConnectorConfig.enrich(plugins, new ConfigDef(), props, true);
        Set<String> transformOwn = ((Transformation<?>) Class.forName(PROBE_TRANSFORM).getDeclaredConstructor().newInstance()).config().names();
        Set<String> predicateOwn = ((Predicate<?>) Class.forName(PROBE_PREDICATE).getDeclaredConstructor().newInstance()).config().names();
        List<ConfigKey> transform = new ArrayList<>();
        List<ConfigKey> predicate = new ArrayList<>();
        for (ConfigKey key : enriched.configKeys().values()) {
            if (key.name.startsWith("transforms.t.") && !transformOwn.contains(key.name.substring("transforms.t.".length()))) {
                transform.add(renamed(key, key.name.substring("transforms.t.".length())));
            } else if (key.name.startsWith("predicates.p.") && !predicateOwn.contains(key.name.substring("predicates.p.".length()))) {
                predicate.add(renamed(key, key.name.substring("predicates.p.".length())));
            }
        }
        kafka.set("transformAliasKeys", properties(transform));
        kafka.set("predicateAliasKeys", properties(predicate));
    }

    private static ConfigKey renamed(ConfigKey k, String name) {
        return new ConfigKey(name, k.type, k.defaultValue, k.validator, k.importance, k.documentation, k.group, k.orderInGroup, k.width,
                k.displayName, k.dependents, k.recommender, k.internalConfig);
    }

    // ---- one plugin folder -------------------------------------------------------------------

    private static ObjectNode plugin(JsonNode request) throws Exception {
        Path dir = Path.of(request.get("dir").asText());
        String connectorClass = request.get("connectorClass").asText();
        // The loader the worker builds for a plugin folder: its jars child-first, Connect's API from the runtime.
        List<Path> jars = PluginUtils.pluginUrls(dir);
        URL[] urls = new URL[jars.size()];
        for (int i = 0; i < urls.length; i++) urls[i] = jars.get(i).toUri().toURL();
        PluginClassLoader loader = new PluginClassLoader(dir.toUri().toURL(), urls, ClassLoader.getSystemClassLoader());
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(loader);
        try {
            Class<?> cls = Class.forName(connectorClass, true, loader);
            Connector connector = (Connector) cls.getDeclaredConstructor().newInstance();
            Map<String, ObjectNode> properties = configDefProperties(connector.config());
            Debezium debezium = Debezium.in(loader);
            if (debezium != null) {
                debezium.addDescribedFields(connector, properties);
                debezium.addConfigClassFields(cls, properties);
                debezium.addComponentFields(properties);
                debezium.addChannelFields(properties);
            }

            ObjectNode catalog = JSON.createObjectNode();
            catalog.put("connector", connectorClass);
            catalog.put("version", connector.version());
            catalog.put("kind", connector instanceof SinkConnector ? "sink" : "source");
            catalog.set("properties", finish(properties));
            catalog.set("prefixes", prefixes(request.get("prefixConstants"), loader));
            catalog.set("transforms", pluginConfigs(Transformation.class, loader, debezium, t -> ((Transformation<?>) t).config()));
            catalog.set("predicates", pluginConfigs(Predicate.class, loader, debezium, p -> ((Predicate<?>) p).config()));
            return catalog;
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
    }

    /**
     * Debezium declares its settings as `io.debezium.config.Field`s (reached by reflection: each plugin
     * folder has its own copy of Debezium). A connector's `config()` is built from its `ALL_FIELDS` set,
     * but Debezium reads more keys than that set holds, so the catalog adds three documented sources:
     *
     * 1. `io.debezium.metadata.ConfigDescriptor#getConfigFields()`, the interface Debezium's connectors and
     *    SMTs implement for its config-schema generator and UI: the same keys as `config()` today, plus
     *    what a ConfigDef cannot carry (enum values, deprecated aliases).
     * 2. The Field constants declared by the connector's own configuration class, `<Connector>Config`
     *    (Debezium's naming for every connector): some are read but kept out of `ALL_FIELDS`, e.g. SQL
     *    Server's `snapshot.locking.mode` and `query.fetch.size`, the JDBC sink's `use.reduction.buffer`.
     *    Constants inherited from the shared base classes are not added: connectors exclude some of them
     *    on purpose (SQL Server refuses `database.dbname`, PostgreSQL has no `include.schema.changes`).
     * 3. Components the connector instantiates from a class-valued setting, which validate their own
     *    Fields when configured: the Field constants of each such setting's default class and its
     *    superclasses, e.g. KafkaSchemaHistory's `schema.history.internal.kafka.*` and the topic naming
     *    strategy's `topic.delimiter`.
     * 4. The signal and notification channels the connector loads through ServiceLoader and configures
     *    with its own config when `signal.enabled.channels` / `notification.enabled.channels` name them:
     *    the Field constants of each implementation, e.g. KafkaSignalChannel's `signal.kafka.*`.
     */
    private record Debezium(ClassLoader loader, Class<?> field, Class<?> descriptor) {
        static final List<String> CHANNEL_SERVICES = List.of(
                "io.debezium.pipeline.signal.channels.SignalChannelReader",
                "io.debezium.pipeline.notification.channels.NotificationChannel");

        static Debezium in(ClassLoader loader) {
            try {
                Class<?> field = Class.forName("io.debezium.config.Field", false, loader);
                return new Debezium(loader, field, Class.forName("io.debezium.metadata.ConfigDescriptor", false, loader));
            } catch (ClassNotFoundException e) {
                return null;
            }
        }

        void addDescribedFields(Object instance, Map<String, ObjectNode> properties) throws Exception {
            if (descriptor.isInstance(instance)) merge((Iterable<?>) descriptor.getMethod("getConfigFields").invoke(instance), properties, "ConfigDescriptor");
        }

        void addConfigClassFields(Class<?> connectorClass, Map<String, ObjectNode> properties) throws Exception {
            String name = connectorClass.getName() + "Config";
            Class<?> config;
            try {
                config = Class.forName(name, true, loader);
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(connectorClass.getName() + ": no " + name + "; Debezium's naming convention changed, update DeriveCatalogs.java", e);
            }
            merge(constants(config, false), properties, config.getSimpleName());
        }

        void addComponentFields(Map<String, ObjectNode> properties) throws Exception {
            for (ObjectNode p : List.copyOf(properties.values())) {
                if (!p.path("type").asText().equals("class") || !p.path("default").isTextual()) continue;
                Class<?> component;
                try {
                    component = Class.forName(p.get("default").asText(), false, loader);
                } catch (ClassNotFoundException | LinkageError e) {
                    continue;
                }
                merge(constants(component, true), properties, component.getSimpleName());
            }
        }

        void addChannelFields(Map<String, ObjectNode> properties) throws Exception {
            for (String service : CHANNEL_SERVICES) {
                Class<?> api;
                try {
                    api = Class.forName(service, false, loader);
                } catch (ClassNotFoundException e) {
                    throw new IllegalStateException("no " + service + "; Debezium moved its channel API, update DeriveCatalogs.java", e);
                }
                for (ServiceLoader.Provider<?> provider : ServiceLoader.load(api, loader).stream().toList()) {
                    merge(constants(provider.type(), false), properties, provider.type().getSimpleName());
                }
            }
        }

        private List<Object> constants(Class<?> cls, boolean inherited) throws IllegalAccessException {
            List<Object> fields = new ArrayList<>();
            for (Class<?> c = cls; c != null; c = inherited ? c.getSuperclass() : null) {
                for (Field f : c.getDeclaredFields()) {
                    int m = f.getModifiers();
                    if (Modifier.isPublic(m) && Modifier.isStatic(m) && field.isAssignableFrom(f.getType())) fields.add(f.get(null));
                }
            }
            return fields;
        }

        private void merge(Iterable<?> fields, Map<String, ObjectNode> properties, String from) throws Exception {
            for (Object f : fields) {
                String name = (String) call(f, "name");
                ObjectNode p = properties.get(name);
                if (p == null) {
                    ConfigDef.Type type = (ConfigDef.Type) call(f, "type");
                    p = JSON.createObjectNode();
                    p.put("name", name);
                    p.put("type", type.name().toLowerCase(Locale.ROOT));
                    putDefault(p, type, call(f, "defaultValue"));
                    if ((Boolean) call(f, "isRequired")) p.put("required", true);
                    p.put("from", from);
                    properties.put(name, p);
                }
                Set<?> allowed = (Set<?>) call(f, "allowedValues");
                if (!p.has("allowed") && allowed != null && !allowed.isEmpty()) {
                    List<String> values = new ArrayList<>();
                    for (Object v : allowed) values.add(String.valueOf(v));
                    values.sort(null);
                    p.set("allowed", JSON.valueToTree(values));
                    p.put("caseInsensitive", acceptsOtherCase(f, values));
                }
                Set<?> aliases = (Set<?>) call(f, "deprecatedAliases");
                if (aliases != null && !aliases.isEmpty()) p.set("deprecatedAliases", JSON.valueToTree(new TreeSet<>(aliases.stream().map(String::valueOf).toList())));
            }
        }

        /** Asks the field's own validator whether an allowed value in another case passes. */
        private boolean acceptsOtherCase(Object f, List<String> allowed) throws Exception {
            String probe = caseProbe(allowed);
            if (probe == null) return false;
            Class<?> configuration = Class.forName("io.debezium.config.Configuration", false, loader);
            Object config = configuration.getMethod("from", Map.class).invoke(null, Map.of(call(f, "name"), probe));
            Class<?> output = Class.forName("io.debezium.config.Field$ValidationOutput", false, loader);
            boolean[] problem = {false};
            Object collector = Proxy.newProxyInstance(loader, new Class<?>[] {output}, (proxy, m, a) -> {
                if (m.getName().equals("accept")) problem[0] = true;
                return null;
            });
            boolean valid = (Boolean) field.getMethod("validate", configuration, output).invoke(f, config, collector);
            return valid && !problem[0];
        }

        private Object call(Object target, String method) throws Exception {
            return field.getMethod(method).invoke(target);
        }
    }

    /** An allowed value in a case that is not allowed itself, or null when case cannot matter. */
    private static String caseProbe(List<String> allowed) {
        for (String v : allowed) {
            String upper = v.toUpperCase(Locale.ROOT);
            String lower = v.toLowerCase(Locale.ROOT);
            if (!allowed.contains(upper)) return upper;
            if (!allowed.contains(lower)) return lower;
        }
        return null;
    }

    /** Values of `Class#FIELD` String constants (private ones included), read from the plugin's own classes. */
    private static ArrayNode prefixes(JsonNode constants, ClassLoader loader) throws Exception {
        ArrayNode out = JSON.createArrayNode();
        for (JsonNode ref : constants) {
            String[] parts = ref.asText().split("#");
            Field f = Class.forName(parts[0], true, loader).getDeclaredField(parts[1]);
            f.setAccessible(true);
            ObjectNode p = out.addObject();
            p.put("prefix", (String) f.get(null));
            p.put("from", ref.asText());
        }
        return out;
    }

    /**
     * Every Transformation or Predicate class the loader itself defines and publishes through
     * ServiceLoader (how a worker with `plugin.discovery=service_load` finds them), with its ConfigDef.
     */
    private static ObjectNode pluginConfigs(Class<?> type, ClassLoader loader, Debezium debezium, Function<Object, ConfigDef> config) throws Exception {
        Map<String, ObjectNode> sorted = new TreeMap<>();
        for (ServiceLoader.Provider<?> provider : ServiceLoader.load(type, loader).stream().toList()) {
            if (provider.type().getClassLoader() != loader) continue;
            ObjectNode plugin = JSON.createObjectNode();
            Object instance;
            try {
                instance = provider.get();
            } catch (ServiceConfigurationError | LinkageError e) {
                // The worker cannot instantiate it either (an optional dependency missing from the folder).
                plugin.put("unavailable", String.valueOf(e.getCause() == null ? e : e.getCause()));
                sorted.put(provider.type().getName(), plugin);
                continue;
            }
            Map<String, ObjectNode> properties = configDefProperties(config.apply(instance));
            if (debezium != null) debezium.addDescribedFields(instance, properties);
            plugin.set("properties", finish(properties));
            sorted.put(provider.type().getName(), plugin);
        }
        ObjectNode out = JSON.createObjectNode();
        sorted.forEach(out::set);
        return out;
    }

    // ---- ConfigKey → JSON --------------------------------------------------------------------

    private static Map<String, ObjectNode> configDefProperties(ConfigDef def) {
        return configKeyProperties(def.configKeys().values());
    }

    private static Map<String, ObjectNode> configKeyProperties(Collection<ConfigKey> keys) {
        Map<String, ObjectNode> properties = new TreeMap<>();
        for (ConfigKey key : keys) properties.put(key.name, property(key));
        return properties;
    }

    private static ArrayNode properties(Collection<ConfigKey> keys) {
        return finish(configKeyProperties(keys));
    }

    /**
     * Sorted by name. Debezium declares a few keys as patterns (`column.mask.with.(d+).chars`, where
     * `(d+)` stands for a number): those get the regular expression a real key must match.
     */
    private static ArrayNode finish(Map<String, ObjectNode> properties) {
        ArrayNode out = JSON.createArrayNode();
        for (ObjectNode p : properties.values()) {
            String name = p.get("name").asText();
            if (name.contains("(")) p.put("pattern", patternOf(name));
            out.add(p);
        }
        return out;
    }

    private static String patternOf(String name) {
        StringBuilder regex = new StringBuilder("^");
        int i = 0;
        while (i < name.length()) {
            int open = name.indexOf('(', i);
            if (open < 0) open = name.length();
            regex.append(name.substring(i, open).replaceAll("[\\\\.^$|?*+\\[\\]{}]", "\\\\$0"));
            if (open == name.length()) break;
            int close = name.indexOf(')', open);
            String group = name.substring(open, close + 1);
            regex.append(group.equals("(d+)") ? "(\\d+)" : group);
            i = close + 1;
        }
        return regex.append('$').toString();
    }

    private static ObjectNode property(ConfigKey key) {
        ObjectNode p = JSON.createObjectNode();
        p.put("name", key.name);
        p.put("type", key.type.name().toLowerCase(Locale.ROOT));
        if (key.hasDefault()) putDefault(p, key.type, key.defaultValue);
        else p.put("required", true);
        if (key.internalConfig) p.put("internal", true);
        describeValidator(p, key.name, key.validator);
        return p;
    }

    private static void putDefault(ObjectNode p, ConfigDef.Type type, Object value) {
        if (value == null || value instanceof Password) p.putNull("default");
        else if (value instanceof List<?> list) p.put("default", String.join(",", list.stream().map(String::valueOf).toList()));
        else if (value instanceof Class<?> cls) p.put("default", cls.getName());
        else if (value instanceof Boolean b) p.put("default", b);
        else if (value instanceof Number n && type != ConfigDef.Type.STRING) p.set("default", JSON.valueToTree(n));
        else p.put("default", String.valueOf(value));
    }

    /** Allowed values (ValidString, CaseInsensitiveValidString, ValidList of fixed values) and Range bounds. */
    @SuppressWarnings("unchecked")
    private static void describeValidator(ObjectNode p, String name, ConfigDef.Validator validator) {
        if (validator == null) return;
        try {
            if (validator instanceof ConfigDef.CompositeValidator) {
                for (Object inner : (List<?>) read(validator, "validators")) describeValidator(p, name, (ConfigDef.Validator) inner);
            } else if (validator instanceof ConfigDef.ValidString || validator instanceof ConfigDef.CaseInsensitiveValidString) {
                putAllowed(p, name, validator, new ArrayList<>((Collection<String>) read(validator, "validStrings")), false);
            } else if (validator instanceof ConfigDef.ValidList) {
                Object strings = read(validator, "validString");
                if (strings != null) putAllowed(p, name, validator, new ArrayList<>((Collection<String>) read(strings, "validStrings")), true);
            } else if (validator instanceof ConfigDef.Range) {
                Object min = read(validator, "min");
                Object max = read(validator, "max");
                if (min != null) p.set("min", JSON.valueToTree(min));
                if (max != null) p.set("max", JSON.valueToTree(max));
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(name + ": cannot read " + validator.getClass().getName(), e);
        }
    }

    private static void putAllowed(ObjectNode p, String name, ConfigDef.Validator validator, List<String> allowed, boolean list) {
        if (allowed.isEmpty()) return;
        p.set("allowed", JSON.valueToTree(allowed));
        if (list) p.put("allowedList", true);
        String probe = caseProbe(allowed);
        boolean insensitive = false;
        if (probe != null) {
            try {
                validator.ensureValid(name, list ? List.of(probe) : probe);
                insensitive = true;
            } catch (ConfigException e) {
                // the validator compares case-sensitively
            }
        }
        p.put("caseInsensitive", insensitive);
    }

    private static Object read(Object target, String field) throws ReflectiveOperationException {
        Field f = target.getClass().getDeclaredField(field);
        f.setAccessible(true);
        return f.get(target);
    }
}
