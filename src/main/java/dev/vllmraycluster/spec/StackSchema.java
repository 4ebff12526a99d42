package dev.vllmraycluster.spec;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The stack file format, derived from the model: the JSON Schema editors use for completion and
 * checking ({@code schema/stack.schema.json}, named by the {@code # yaml-language-server:} line of
 * our stack files) and README's key table. Both read the records of {@link ClusterSpec}: a key is
 * a record component (snake_case), its meaning the component's {@link Doc}, its default the value
 * the record's constructor gives it when the key is left out.
 */
public final class StackSchema {
  public static final String SCHEMA_PATH = "schema/stack.schema.json";
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private StackSchema() {}

  /** The JSON Schema (draft-07) of a stack file, as pretty-printed JSON with a final newline. */
  public static String jsonSchema() {
    ObjectNode root = object(ClusterSpec.class);
    ObjectNode schema = F.objectNode();
    schema.put("$schema", "http://json-schema.org/draft-07/schema#");
    schema.put("$id", "https://vllm-ray-cluster.dev/" + SCHEMA_PATH);
    schema.put("title", "vllm-ray-cluster stack file (stacks/<name>.yaml)");
    schema.put("description", "Generated from the model (dev.vllmraycluster.spec.ClusterSpec) by StackSchema;"
        + " the validator checks more than this schema can say (cross-field rules, reachable paths).");
    schema.setAll(root);
    try {
      return JSON.writeValueAsString(schema) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** README's key table: one row per key, in the model's order. */
  public static String keyTable() {
    StringBuilder md = new StringBuilder("| key | type | default | meaning |\n|---|---|---|---|\n");
    rows(ClusterSpec.class, "", md);
    return md.toString();
  }

  /** Writes the schema: {@code StackSchema <project root>}. */
  public static void main(String[] args) throws IOException {
    Path root = Path.of(args.length > 0 ? args[0] : ".");
    Files.writeString(root.resolve(SCHEMA_PATH), jsonSchema());
  }

  // ------------------------------------------------------------------ schema

  private static ObjectNode object(Class<?> record) {
    ObjectNode o = F.objectNode();
    o.put("type", "object");
    o.put("additionalProperties", false);
    ObjectNode properties = o.putObject("properties");
    ArrayNode required = F.arrayNode();
    Object defaults = defaults(record);
    for (RecordComponent c : keys(record)) {
      Doc doc = c.getAnnotation(Doc.class);
      ObjectNode p = typeSchema(c.getGenericType());
      if (doc != null) {
        p.put("description", doc.value() + (doc.dflt().isEmpty() ? "" : " (default: " + plain(doc.dflt()) + ")"));
        if (doc.required()) {
          required.add(key(c));
        }
      }
      Object d = value(c, defaults);
      if (d != null && !(d instanceof List<?> l && l.isEmpty()) && !isRecord(d.getClass())) {
        putDefault(p, d);
      }
      properties.set(key(c), p);
    }
    if (!required.isEmpty()) {
      o.set("required", required);
    }
    return o;
  }

  private static ObjectNode typeSchema(Type type) {
    ObjectNode p = F.objectNode();
    Class<?> raw = raw(type);
    if (raw == String.class) {
      p.put("type", "string");
    } else if (raw == Integer.class || raw == int.class) {
      p.put("type", "integer");
    } else if (raw == Double.class || raw == double.class) {
      p.put("type", "number");
    } else if (raw == Boolean.class || raw == boolean.class) {
      p.put("type", "boolean");
    } else if (raw.isEnum()) {
      p.put("type", "string");
      ArrayNode values = p.putArray("enum");
      for (Object c : raw.getEnumConstants()) {
        values.add(((YamlEnum) c).yamlName());
      }
    } else if (List.class.isAssignableFrom(raw)) {
      p.put("type", "array");
      p.set("items", typeSchema(((ParameterizedType) type).getActualTypeArguments()[0]));
    } else if (isRecord(raw)) {
      p.setAll(object(raw));
    } else {
      throw new IllegalStateException("no schema for " + type);
    }
    return p;
  }

  private static void putDefault(ObjectNode p, Object d) {
    if (d instanceof Integer i) {
      p.put("default", i);
    } else if (d instanceof Double x) {
      p.put("default", x);
    } else if (d instanceof Boolean b) {
      p.put("default", b);
    } else if (d instanceof YamlEnum e) {
      p.put("default", e.yamlName());
    } else {
      p.put("default", String.valueOf(d));
    }
  }

  // ------------------------------------------------------------------ key table

  private static void rows(Class<?> record, String prefix, StringBuilder md) {
    Object defaults = defaults(record);
    for (RecordComponent c : keys(record)) {
      Doc doc = c.getAnnotation(Doc.class);
      String key = prefix + key(c);
      Class<?> raw = raw(c.getGenericType());
      if (isRecord(raw)) {
        rows(raw, key + ".", md);
        continue;
      }
      if (List.class.isAssignableFrom(raw)) {
        Class<?> item = raw(((ParameterizedType) c.getGenericType()).getActualTypeArguments()[0]);
        if (isRecord(item)) {
          rows(item, key + "[].", md);
          continue;
        }
      }
      md.append("| `").append(key).append("` | ").append(typeText(c, doc)).append(" | ")
          .append(defaultText(c, doc, value(c, defaults))).append(" | ").append(doc == null ? "" : doc.value()).append(" |\n");
    }
  }

  private static String typeText(RecordComponent c, Doc doc) {
    if (doc != null && !doc.type().isEmpty()) {
      return doc.type().replace("|", "\\|");
    }
    Class<?> raw = raw(c.getGenericType());
    if (raw.isEnum()) {
      List<String> names = new ArrayList<>();
      for (Object e : raw.getEnumConstants()) {
        names.add("`" + ((YamlEnum) e).yamlName() + "`");
      }
      return String.join("\\|", names);
    }
    if (raw == Integer.class) {
      return key(c).endsWith("_port") ? "port" : "int";
    }
    if (raw == Double.class) {
      return "number";
    }
    if (raw == Boolean.class) {
      return "bool";
    }
    return List.class.isAssignableFrom(raw) ? "list" : "string";
  }

  private static String defaultText(RecordComponent c, Doc doc, Object value) {
    if (doc != null && doc.required()) {
      return "required";
    }
    if (doc != null && !doc.dflt().isEmpty()) {
      return doc.dflt();
    }
    if (value == null) {
      return "none";
    }
    if (value instanceof List<?> l) {
      return l.isEmpty() ? "`[]`" : "`" + l + "`";
    }
    return "`" + (value instanceof YamlEnum e ? e.yamlName() : String.valueOf(value)) + "`";
  }

  // ------------------------------------------------------------------ reflection

  /** The record's stack keys: its components, less those a stack file cannot set. */
  static List<RecordComponent> keys(Class<?> record) {
    List<RecordComponent> out = new ArrayList<>();
    for (RecordComponent c : record.getRecordComponents()) {
      if (c.getAnnotation(JsonIgnore.class) == null && c.getAccessor().getAnnotation(JsonIgnore.class) == null) {
        out.add(c);
      }
    }
    return out;
  }

  /** snake_case of a component name, as Jackson's naming strategy spells it. */
  static String key(RecordComponent c) {
    return c.getName().replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
  }

  /** The record as its constructor makes it from nothing: every default applied. */
  private static Object defaults(Class<?> record) {
    Class<?>[] types = new Class<?>[record.getRecordComponents().length];
    for (int i = 0; i < types.length; i++) {
      types[i] = record.getRecordComponents()[i].getType();
    }
    try {
      Constructor<?> ctor = record.getDeclaredConstructor(types);
      return ctor.newInstance(new Object[types.length]);
    } catch (NoSuchMethodException | InstantiationException | IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("cannot make the defaults of " + record.getSimpleName(), e);
    }
  }

  private static Object value(RecordComponent c, Object instance) {
    try {
      return c.getAccessor().invoke(instance);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean isRecord(Class<?> c) {
    return c.isRecord();
  }

  private static Class<?> raw(Type t) {
    return t instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) t;
  }

  private static String plain(String markdown) {
    return markdown.replace("`", "");
  }
}
