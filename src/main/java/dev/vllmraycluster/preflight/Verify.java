package dev.vllmraycluster.preflight;

import dev.vllmraycluster.preflight.check.ApiCheck;
import dev.vllmraycluster.preflight.check.ApiFromHereCheck;
import dev.vllmraycluster.preflight.check.ProxyCheck;
import dev.vllmraycluster.preflight.check.GpuProcessesCheck;
import dev.vllmraycluster.preflight.check.RayClusterCheck;
import dev.vllmraycluster.preflight.check.SshCheck;
import dev.vllmraycluster.preflight.check.UnitsCheck;
import dev.vllmraycluster.preflight.check.WatchdogCheck;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.ssh.CommandResult;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Verify, after a deploy: the units run, Ray shows the declared nodes and GPUs, vLLM answers
 * /health, /v1/models and a chat completion with the key, and on GPU nodes our processes hold GPU
 * memory. Same report as preflight.
 */
public final class Verify {
  public static final List<Check> CHECKS = List.of(
      new SshCheck(),
      new UnitsCheck(),
      new RayClusterCheck(),
      new ApiCheck.Health(),
      new ApiCheck.Models(),
      new ApiCheck.Chat(),
      new ProxyCheck(),
      new GpuProcessesCheck(),
      new WatchdogCheck(),
      new ApiFromHereCheck());

  private Verify() {}

  /** @param apiKey the key from the stack's api_key_env, or null (not needed, or not set) */
  public static Report run(ClusterSpec spec, ShellFactory shells, String apiKey) {
    Map<String, NodeFacts> facts = new Gatherer(shells).gather(spec, n -> VerifyProbes.forNode(spec, n, apiKey));
    Map<String, CommandResult> local = new LinkedHashMap<>();
    local.put(VerifyProbes.API_KEY, CommandResult.of(apiKey == null ? 1 : 0, "", ""));
    NodeFacts head = facts.get(spec.head().name());
    CommandResult ca = head == null ? null : head.result(VerifyProbes.CA);
    local.put(VerifyProbes.API_FROM_HERE, healthFromHere(spec, ca == null || !ca.ok() ? null : ca.stdout()));
    return evaluate(spec, facts, local);
  }

  public static Report evaluate(ClusterSpec spec, Map<String, NodeFacts> facts, Map<String, CommandResult> local) {
    Context ctx = new Context(spec, facts, null, null, local);
    return new Report("verify", spec.name(), spec.nodes().stream().map(NodeSpec::name).toList(), Preflight.run(CHECKS, ctx));
  }

  /**
   * GET /health from this machine: the status code as output, or why it failed. With TLS the
   * certificate is checked (host name included) against the cluster's CA read from the head
   * ({@code caPem}), or this machine's CAs for a certificate of the user's.
   */
  static CommandResult healthFromHere(ClusterSpec spec, String caPem) {
    String url = spec.apiBaseUrl() + "/health";
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
    if (spec.vllm().https() && !spec.vllm().userCertificate()) {
      if (caPem == null) {
        return CommandResult.of(1, "", "the head holds no CA certificate to check the API's TLS with");
      }
      try {
        builder.sslContext(TlsTrust.of(caPem));
      } catch (java.security.GeneralSecurityException | IOException e) {
        return CommandResult.of(1, "", "the head's CA certificate is not usable: " + e.getMessage());
      }
    }
    HttpClient client = builder.build();
    try {
      HttpResponse<Void> r = client.send(
          HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
          HttpResponse.BodyHandlers.discarding());
      return CommandResult.ok(String.valueOf(r.statusCode()));
    } catch (IOException e) {
      return CommandResult.of(1, "", e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return CommandResult.of(1, "", "interrupted");
    }
  }
}
