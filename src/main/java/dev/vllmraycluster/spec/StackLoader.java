package dev.vllmraycluster.spec;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.IgnoredPropertyException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Reads {@code stacks/<name>.yaml} strictly onto the typed model ({@link ClusterSpec}, key for key):
 * unknown keys (with "did you mean"), wrong types, duplicate keys and YAML syntax errors (with line
 * and column) are errors that name the file, the path in it and the fix. Relative paths are
 * relative to the project root. Then {@link SpecValidator} runs, as on a spec built in Java.
 */
public final class StackLoader {
  private static final ObjectMapper YAML = strictMapper();

  private final Path projectRoot;

  public StackLoader(Path projectRoot) {
    this.projectRoot = projectRoot.toAbsolutePath().normalize();
  }

  /** Every {@code *.yaml} in the directory, sorted by name. */
  public static List<Path> stackFiles(Path stacksDir) throws IOException {
    if (!Files.isDirectory(stacksDir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(stacksDir)) {
      return files
          .filter(p -> p.getFileName().toString().endsWith(".yaml"))
          .sorted(Comparator.comparing(Path::toString))
          .toList();
    }
  }

  /** The stack name: the file name without {@code .yaml}. */
  public static String stackName(Path file) {
    String fileName = file.getFileName().toString();
    return fileName.substring(0, fileName.length() - ".yaml".length());
  }

  public Loaded load(Path file) {
    return load(file, true);
  }

  /** As {@link #load(Path)}; {@code checkLayout} false for the planner (see {@link SpecValidator#validate(ClusterSpec, boolean)}). */
  public Loaded load(Path file, boolean checkLayout) {
    String source = projectRoot.relativize(file.toAbsolutePath().normalize()).toString();
    String name = stackName(file);
    if (!name.matches("[a-z][a-z0-9-]{0,40}")) {
      throw new SpecException(
          source,
          List.of(
              new Problem(
                  "(file name)",
                  "stack name '" + name + "' is not usable as a stack id",
                  "rename the file to lowercase letters, digits and '-', starting with a letter,"
                      + " e.g. stacks/gpu-prod.yaml")));
    }
    ClusterSpec raw;
    try {
      raw = YAML.readValue(file.toFile(), ClusterSpec.class);
    } catch (JsonProcessingException e) {
      throw new SpecException(source, List.of(describe(e)));
    } catch (IOException e) {
      throw new SpecException(
          source, List.of(new Problem("(file)", "cannot read: " + e.getMessage(), null)));
    }
    if (raw == null) {
      throw new SpecException(
          source,
          List.of(
              new Problem(
                  "(file)", "the file is empty", "describe at least nodes: and model: in it")));
    }
    ClusterSpec spec = raw.withName(name).withPathsResolvedAgainst(projectRoot);
    return new Loaded(spec, SpecValidator.check(spec, source, checkLayout));
  }

  /** A validated stack and the warnings it raised (risks that are allowed, but flagged). */
  public record Loaded(ClusterSpec spec, List<String> warnings) {}

  private static ObjectMapper strictMapper() {
    JsonMapper mapper =
        JsonMapper.builder(new YAMLFactory())
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_IGNORED_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();
    // "2" is not a number and 1.5 is not a GPU count: refuse coercions that hide mistakes.
    for (LogicalType type : List.of(LogicalType.Integer, LogicalType.Float, LogicalType.Boolean)) {
      mapper.coercionConfigFor(type).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
      mapper
          .coercionConfigFor(type)
          .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
    }
    mapper
        .coercionConfigFor(LogicalType.Integer)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail);
    mapper
        .coercionConfigFor(LogicalType.Boolean)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
    mapper
        .coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    // A single string where a list belongs is a mistake worth naming, not a one-element list.
    mapper.disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY);
    return mapper;
  }

  static Problem describe(JsonProcessingException e) {
    if (e instanceof UnrecognizedPropertyException u) {
      String path = path(u.getPath());
      List<String> known = toStrings(u.getKnownPropertyIds());
      String suggestion = closest(u.getPropertyName(), known);
      return new Problem(
          path,
          "unknown key '" + u.getPropertyName() + "'",
          (suggestion == null ? "" : "did you mean '" + suggestion + "'? ")
              + "known keys here: "
              + String.join(", ", known));
    }
    if (e instanceof IgnoredPropertyException i) {
      return new Problem(
          path(i.getPath()),
          "unknown key '" + i.getPropertyName() + "'",
          "the stack name comes from the file name (stacks/<name>.yaml): remove the key");
    }
    if (e instanceof InvalidFormatException f && f.getTargetType() != null && f.getTargetType().isEnum()) {
      Object[] constants = f.getTargetType().getEnumConstants();
      String hint = constants.length > 0 && constants[0] instanceof YamlEnum y ? y.hint() : null;
      String choices = String.join(", ", java.util.Arrays.stream(constants).map(c -> ((YamlEnum) c).yamlName()).toList());
      return new Problem(
          path(f.getPath()),
          "'" + f.getValue() + "' is not one of " + choices,
          "use one of " + choices + (hint == null ? "" : "; " + hint));
    }
    if (e instanceof InvalidFormatException f) {
      return new Problem(
          path(f.getPath()),
          "'" + f.getValue() + "' is not " + expected(f.getTargetType()),
          "write " + example(f.getTargetType()));
    }
    if (e instanceof MismatchedInputException m && !m.getPath().isEmpty()) {
      Class<?> target = m.getTargetType();
      return new Problem(
          path(m.getPath()),
          "wrong type: expected " + expected(target) + located(m.getLocation()),
          "write " + example(target));
    }
    String message = e.getOriginalMessage();
    return new Problem(
        "(yaml)" + located(e.getLocation()),
        message == null ? e.getClass().getSimpleName() : message.split("\n")[0],
        "fix the YAML syntax at that line");
  }

  private static String located(JsonLocation location) {
    return location == null || location.getLineNr() < 0
        ? ""
        : " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
  }

  static String path(List<JsonMappingException.Reference> refs) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference ref : refs) {
      if (ref.getIndex() >= 0) {
        sb.append('[').append(ref.getIndex()).append(']');
      } else if (ref.getFieldName() != null) {
        if (sb.length() > 0) {
          sb.append('.');
        }
        sb.append(ref.getFieldName());
      }
    }
    return sb.length() == 0 ? "(top level)" : sb.toString();
  }

  private static String expected(Class<?> type) {
    if (type == null) {
      return "a value of another type";
    }
    if (type == Integer.class || type == int.class) {
      return "a whole number";
    }
    if (type == Double.class || type == double.class) {
      return "a number";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "true or false";
    }
    if (type == String.class) {
      return "a single value (text)";
    }
    if (Collection.class.isAssignableFrom(type)) {
      return "a list";
    }
    return "a mapping of keys (" + type.getSimpleName().replace("Spec", "").replace("Defaults", "").toLowerCase(Locale.ROOT) + ")";
  }

  private static String example(Class<?> type) {
    if (type == Integer.class || type == int.class) {
      return "a number without quotes, e.g. 2";
    }
    if (type == Double.class || type == double.class) {
      return "a number without quotes, e.g. 0.9";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "true or false, without quotes";
    }
    if (type != null && Collection.class.isAssignableFrom(type)) {
      return "a list, e.g. [10.0.0.0/24] or one '- item' per line";
    }
    if (type == String.class) {
      return "a plain value, e.g. key: value";
    }
    return "an indented block of key: value lines";
  }

  private static List<String> toStrings(Collection<Object> ids) {
    List<String> out = new ArrayList<>();
    if (ids != null) {
      ids.forEach(id -> out.add(String.valueOf(id)));
    }
    out.sort(String::compareTo);
    return out;
  }

  /** The known key nearest to a mistyped one, if it is near enough to be a typo. */
  static String closest(String given, List<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : known) {
      int d = EditDistance.between(given.toLowerCase(Locale.ROOT), candidate);
      if (d < bestDistance) {
        bestDistance = d;
        best = candidate;
      }
    }
    return best != null && bestDistance <= Math.max(2, given.length() / 3) ? best : null;
  }
}
