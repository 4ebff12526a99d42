package dev.vllmraycluster.node;

import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds a component's env file in a stable order, starting with the fields every one has. */
public final class Env {
  private final Map<String, String> values = new LinkedHashMap<>();

  private Env() {}

  public static Env of(NodeSpec node, String component) {
    Env env = new Env();
    env.put(HostContract.Env.NODE, node.name());
    env.put(HostContract.Env.COMPONENT, component);
    env.put(HostContract.Env.ROLE, node.role().yamlName());
    return env;
  }

  public Env put(String key, String value) {
    values.put(key, value == null ? "" : value);
    return this;
  }

  public Env put(String key, int value) {
    return put(key, String.valueOf(value));
  }

  public Env put(String key, boolean value) {
    return put(key, String.valueOf(value));
  }

  /** Space-separated, as the scripts read lists. */
  public Env put(String key, List<String> values) {
    return put(key, String.join(" ", values));
  }

  public Map<String, String> build() {
    return new LinkedHashMap<>(values);
  }
}
