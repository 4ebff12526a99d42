package dev.vllmraycluster.preflight;

import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.ssh.CommandResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/** Captured outputs under src/test/resources/fixtures (see the README next to them). */
public final class Fixtures {
  public static final Path DIR = TestStacks.ROOT.resolve("src/test/resources/fixtures");
  public static final Path MODEL = DIR.resolve("sandbox-bookworm/model/tiny-llama");

  private Fixtures() {}

  /** A one-command capture: what the command printed, without the "### command" line. */
  public static String output(String file) {
    String text = read(DIR.resolve(file));
    return text.startsWith("### ") ? text.substring(text.indexOf('\n') + 1) : text;
  }

  static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The probe results captured per node under {@code dir} (e.g. sandbox-bookworm/preflight-deployed),
   * as the gatherer would have recorded them; the clock offset is set to 0 (a replay has no clock).
   */
  public static Map<String, NodeFacts> facts(ClusterSpec spec, String dir) {
    Map<String, NodeFacts> out = new LinkedHashMap<>();
    for (NodeSpec node : spec.nodes()) {
      Path nodeDir = DIR.resolve(dir).resolve(node.name());
      String login = node.ssh().user() + "@" + node.ssh().host() + ":" + node.ssh().port();
      if (Files.isRegularFile(nodeDir.resolve("unreachable"))) {
        String[] lines = read(nodeDir.resolve("unreachable")).split("\n");
        out.put(node.name(), NodeFacts.unreachable(node, login, lines[0], lines.length > 1 ? lines[1] : null));
        continue;
      }
      NodeFacts f = NodeFacts.connected(node, login);
      try (Stream<Path> files = Files.list(nodeDir)) {
        for (Path rc : files.filter(p -> p.toString().endsWith(".rc")).sorted().toList()) {
          String name = rc.getFileName().toString().replaceFirst("\\.rc$", "");
          Path err = nodeDir.resolve(name + ".err");
          f.put(name, CommandResult.of(Integer.parseInt(read(rc).strip()), read(nodeDir.resolve(name + ".out")),
              Files.exists(err) ? read(err) : ""));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      out.put(node.name(), f.clock(0, 20));
    }
    return out;
  }

  /** The sandbox stack the fixtures were captured with, plus {@code extra} YAML (later keys win). */
  public static String sandboxStack(boolean logicalGpus) {
    return """
        nodes:
          - {name: head, role: head, address: 10.215.0.11, gpus: 1}
          - {name: worker1, address: 10.215.0.12, gpus: 1}
          - {name: worker2, address: 10.215.0.13, gpus: 1}
        network: {cluster_cidr: 10.215.0.0/24, api_allowed_networks: [10.215.0.1/32]}
        software: {os_family: apt, python: python3.11, ray_version: 2.60.0, vllm_version: 0.33.0+standin,
                   pip_find_links: "http://10.215.0.1:8715/", pip_trusted_host: 10.215.0.1}
        model: {local_directory: %s, served_model_name: tiny-llama}
        storage: {mode: local_copy, mount_path: /srv/vrc-models}
        vllm: {port: 9001, tensor_parallel_size: 2, pipeline_parallel_size: 1, extra_args: ["--load-format", "dummy"]}
        """.formatted(MODEL) + (logicalGpus ? "testing: {logical_gpus: true}\n" : "");
  }
}
