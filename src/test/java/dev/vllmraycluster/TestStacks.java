package dev.vllmraycluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hashicorp.cdktf.App;
import com.hashicorp.cdktf.Testing;
import dev.vllmraycluster.cluster.ClusterStack;
import dev.vllmraycluster.cluster.ClusterStackProps;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.StackLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Shared test helpers: stack files written to a temp dir, and their synthesized JSON. */
public final class TestStacks {
  public static final Path ROOT = Path.of(System.getProperty("user.dir")).toAbsolutePath();
  public static final ObjectMapper JSON = new ObjectMapper();

  private TestStacks() {}

  public static ProjectLayout layout() {
    return new ProjectLayout(ROOT);
  }

  /** Loads a stack file from text, as {@code stacks/<name>.yaml} under a temp dir. */
  public static StackLoader.Loaded load(Path dir, String name, String yaml) {
    try {
      Path file = dir.resolve(name + ".yaml");
      Files.writeString(file, yaml);
      return new StackLoader(ROOT).load(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static StackLoader.Loaded loadReference() {
    return new StackLoader(ROOT).load(ROOT.resolve("stacks/reference.yaml"));
  }

  /** The synthesized cdk.tf.json of one stack. */
  public static JsonNode synth(ClusterSpec spec) {
    App app = Testing.app();
    ClusterStack stack = new ClusterStack(app, spec.name(),
        ClusterStackProps.builder().cluster(spec).layout(layout()).secretValues(name -> null).build());
    try {
      return JSON.readTree(Testing.synth(stack));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A cluster of one head and {@code workers} workers with {@code gpus} GPUs each, fetched from
   * Hugging Face into a head NFS export.
   */
  public static String cluster(int workers, int gpus, String vllmExtra) {
    StringBuilder sb = new StringBuilder("nodes:\n");
    sb.append("  - {name: head, role: head, address: 10.0.0.10, gpus: ").append(gpus).append("}\n");
    for (int i = 1; i <= workers; i++) {
      sb.append("  - {name: worker").append(i).append(", address: 10.0.0.").append(10 + i)
          .append(", gpus: ").append(gpus).append("}\n");
    }
    sb.append("network:\n  cluster_cidr: 10.0.0.0/24\n  api_allowed_networks: [10.0.1.0/24]\n");
    sb.append("model:\n  huggingface_repo: deepseek-ai/deepseek-llm-7b-chat\n");
    sb.append("vllm:\n  port: 9001\n").append(vllmExtra);
    return sb.toString();
  }

  /** The ```yaml blocks of a Markdown text, unindented. */
  public static List<String> yamlBlocks(String markdown) {
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("(?m)^( *)```yaml\\n(.*?)^\\1```", Pattern.DOTALL).matcher(markdown);
    while (m.find()) {
      String indent = m.group(1);
      out.add(Stream.of(m.group(2).split("\n", -1)).map(l -> l.startsWith(indent) ? l.substring(indent.length()) : l)
          .reduce((a, b) -> a + "\n" + b).orElse(""));
    }
    return out;
  }

  /**
   * An IPv4 address of this machine (not loopback): a node address for tests whose SSH goes to a
   * loopback server (ssh_host 127.0.0.1), since a node's address may not be a loopback address.
   * Anything sent to it stays on this machine.
   */
  public static String ownAddress() throws Exception {
    for (java.net.NetworkInterface nic : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
      for (java.net.InetAddress a : java.util.Collections.list(nic.getInetAddresses())) {
        if (a instanceof java.net.Inet4Address && !a.isLoopbackAddress()) {
          return a.getHostAddress();
        }
      }
    }
    throw new IllegalStateException("no IPv4 address on this machine");
  }
}
