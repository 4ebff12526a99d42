package dev.vllmraycluster.preflight;

import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.StackLoader;
import dev.vllmraycluster.ssh.CommandResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Not a test: how the fixtures under {@code fixtures/sandbox-bookworm/} were captured. Runs the
 * preflight (or verify, or status) probes on a live stack's hosts and writes each result as
 * {@code <dir>/<node>/<probe>.out|.err|.rc}. Usage (from the project root, after mvn package):
 * {@code java -cp target/test-classes:target/vllm-ray-cluster.jar:target/lib/*
 * dev.vllmraycluster.preflight.CaptureProbes preflight|verify|status stacks/x.yaml DIR}.
 */
public final class CaptureProbes {
  private CaptureProbes() {}

  public static void main(String[] args) throws IOException {
    String which = args[0];
    ClusterSpec spec = new StackLoader(Path.of(".")).load(Path.of(args[1])).spec();
    Path dir = Path.of(args[2]);
    String key = spec.vllm().apiKey() == null ? null : System.getenv(spec.vllm().apiKey().environmentVariable());
    Map<String, NodeFacts> facts = new Gatherer(ShellFactory.ssh(Duration.ofSeconds(10))).gather(spec,
        n -> switch (which) {
          case "verify" -> VerifyProbes.forNode(spec, n, key);
          case "status" -> dev.vllmraycluster.status.StatusProbes.forNode(spec, n);
          default -> PreflightProbes.forNode(spec, n);
        });
    for (NodeFacts f : facts.values()) {
      Path nodeDir = Files.createDirectories(dir.resolve(f.node().name()));
      if (!f.reachable()) {
        Files.writeString(nodeDir.resolve("unreachable"), f.sshError() + "\n" + f.sshFix() + "\n");
        continue;
      }
      for (Map.Entry<String, CommandResult> e : f.results().entrySet()) {
        Files.writeString(nodeDir.resolve(e.getKey() + ".out"), e.getValue().stdout());
        if (!e.getValue().stderr().isEmpty()) {
          Files.writeString(nodeDir.resolve(e.getKey() + ".err"), e.getValue().stderr());
        }
        Files.writeString(nodeDir.resolve(e.getKey() + ".rc"), e.getValue().exitCode() + "\n");
      }
    }
    System.out.println("captured " + facts.size() + " node(s) into " + dir);
  }
}
