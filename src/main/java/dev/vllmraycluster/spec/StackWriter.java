package dev.vllmraycluster.spec;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.nio.file.Path;

/**
 * Writes a spec as a stack file, key for key (the inverse of {@link StackLoader}): each field as
 * the spec holds it (a default left out stays out where the record keeps it unset), every path on
 * the deploy machine absolute. Loading the text again gives
 * the same cluster. Synth stages it beside {@code cdk.tf.json} for {@code local_checks}, whose
 * preflight reads it, so a spec built in Java is checked like a stack file.
 */
public final class StackWriter {
  private static final ObjectMapper YAML =
      JsonMapper.builder(new YAMLFactory()
              .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
              .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
              .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS))
          .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .serializationInclusion(JsonInclude.Include.NON_NULL)
          // The records' fields as given, not their accessors: an accessor fills in a default
          // (nfs_mount_options, api_key_env, ...), and some of those may not be written where
          // the default does not apply (the validator refuses api_key_env without a key).
          .visibility(PropertyAccessor.ALL, JsonAutoDetect.Visibility.NONE)
          .visibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY)
          .build();

  private StackWriter() {}

  /**
   * The stack file text of {@code spec}. Relative paths (possible in a spec built in Java) are
   * made absolute against {@code base}; a stack file's paths are absolute already.
   */
  public static String yaml(ClusterSpec spec, Path base) {
    ClusterSpec resolved = spec.withPathsResolvedAgainst(base);
    try {
      return "# Written by vllm-ray-cluster at synth: the cluster " + spec.name() + " as preflight checks it.\n"
          + YAML.writeValueAsString(resolved);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the cluster " + spec.name() + " as a stack file", e);
    }
  }
}
