package dev.vllmraycluster.spec;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** A choice written in lowercase in stack files ({@code head}, {@code head_nfs}). */
public interface YamlEnum {
  String name();

  /** The value as a stack file writes it. */
  @JsonValue
  default String yamlName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** More than "use one of ..." for a wrong value, or null. */
  default String hint() {
    return null;
  }
}
