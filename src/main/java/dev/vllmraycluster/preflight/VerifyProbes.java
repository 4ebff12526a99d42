package dev.vllmraycluster.preflight;

import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.contract.Shell;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.FirewallBackend;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The commands verify runs after a deploy. The API is called from the head (its own address is
 * always allowed by the firewall); the key reaches curl on stdin ({@code -H @-}), never in a
 * command line, and is not printed.
 */
public final class VerifyProbes {
  public static final String UNITS = "units";
  public static final String RAY = "ray-status";
  public static final String HEALTH = "health";
  public static final String MODELS = "models";
  public static final String CHAT = "chat";
  /** On the head: the proxy's answers without a key and to plain HTTP (see {@link #proxy}). */
  public static final String PROXY = "proxy";
  /** On the head: the per-cluster CA certificate (generated TLS only). */
  public static final String CA = "api-ca";
  /** The watchdog's timer state, the head's clock (NOW=epoch seconds), then its status file. */
  public static final String WATCHDOG = "watchdog";
  /** Run here, not on a node: is the API key set in this environment (exit 0) or not. */
  public static final String API_KEY = "api-key";
  /** Run here: GET /health from this machine. */
  public static final String API_FROM_HERE = "api-from-here";

  /** Where the ray unit keeps Ray's auth token on a host (docs/host-contract.md). */
  static final String RAY_TOKEN_FILE = HostContract.SecretFiles.RAY_TOKEN_ON_HOST;

  private VerifyProbes() {}

  public static List<String> units(ClusterSpec spec, NodeSpec node) {
    List<String> units = new ArrayList<>();
    if (spec.network().firewallBackend() != FirewallBackend.NONE) {
      units.add(HostContract.Units.FIREWALL);
    }
    if (node.role() == Role.HEAD) {
      units.add(HostContract.Units.RAY_HEAD);
      units.add(HostContract.Units.VLLM);
      if (spec.vllm().proxy()) {
        units.add(HostContract.Units.PROXY);
      }
    } else {
      units.add(HostContract.Units.RAY_WORKER);
    }
    return units;
  }

  /**
   * @param apiKey the key, or null when the stack needs none or it is not set here (then the
   *     key-protected calls go without it)
   */
  public static List<Probe> forNode(ClusterSpec spec, NodeSpec node, String apiKey) {
    List<Probe> p = new ArrayList<>();
    p.add(Probe.of(PreflightProbes.SSH, "id -un && uname -n"));
    p.add(Probe.of(UNITS, "for u in " + String.join(" ", units(spec, node)) + "; do echo \"$u $(systemctl is-active $u 2>/dev/null)\"; done"));
    p.add(Probe.of(PreflightProbes.GPUS, PreflightProbes.NO_NVIDIA_SMI + dev.vllmraycluster.preflight.parse.GpuQuery.COMMAND));
    p.add(Probe.of(PreflightProbes.GPU_APPS, PreflightProbes.gpuApps()));
    if (node.role() != Role.HEAD) {
      return p;
    }
    String head = node.address();
    // As the service user, who alone may read Ray's token file; only the file's path is passed.
    String auth = spec.ray().authToken() == null ? ""
        : "env RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH=" + RAY_TOKEN_FILE + " ";
    p.add(Probe.of(RAY, "if [ \"$(id -u)\" = 0 ]; then r='runuser -u " + GpuNode.SERVICE_USER + " --'; else r='sudo -n -u "
        + GpuNode.SERVICE_USER + "'; fi; $r " + auth + Shell.quote(spec.software().venvPath() + "/bin/ray") + " status --address "
        + head + ":" + spec.ray().gcsPort()).withTimeout(Duration.ofSeconds(60)));
    if (spec.watchdog().enabled()) {
      p.add(Probe.of(WATCHDOG, "systemctl is-active " + HostContract.Units.WATCHDOG_TIMER + " 2>/dev/null || true;"
          + " echo NOW=$(date +%s); cat " + HostContract.WATCHDOG_STATUS + " 2>/dev/null || true"));
    }
    String base = spec.apiBaseUrl();
    String curl = "curl " + tlsOptions(spec);
    p.add(Probe.of(HEALTH, curl + "-sS -m 10 -o /dev/null -w '%{http_code}' " + base + "/health"));
    if (spec.vllm().proxy()) {
      p.add(Probe.of(PROXY, proxy(spec)));
    }
    if (spec.vllm().https() && !spec.vllm().userCertificate()) {
      p.add(Probe.of(CA, "cat " + HostContract.Tls.CA_CERT));
    }
    String keyHeader = apiKey == null ? "" : "-H @- ";
    String stdin = apiKey == null ? null : "Authorization: Bearer " + apiKey + "\n";
    p.add(new Probe(MODELS, curl + "-sS -m 10 " + keyHeader + "-w '\\n%{http_code}' " + base + "/v1/models", stdin,
        Probe.DEFAULT_TIMEOUT));
    String body = "{\"model\": \"" + spec.model().servedModelName() + "\", \"max_tokens\": 16, \"messages\":"
        + " [{\"role\": \"user\", \"content\": \"Say hello (vllm-ray-cluster verify).\"}]}";
    p.add(new Probe(CHAT, curl + "-sS -m 120 " + keyHeader + "-H 'Content-Type: application/json' -d " + Shell.singleQuoted(body)
        + " -w '\\n%{http_code}' " + base + "/v1/chat/completions", stdin, Duration.ofSeconds(130)));
    return p;
  }

  /**
   * curl's options for the API on the head: the cluster's CA for a generated certificate (valid for
   * the head's address); none for plain HTTP; {@code -k} for a certificate of the user's, whose CA
   * the head need not hold (the key check is what is verified there).
   */
  static String tlsOptions(ClusterSpec spec) {
    if (!spec.vllm().https()) {
      return "";
    }
    return spec.vllm().userCertificate() ? "-k " : "--cacert " + HostContract.Tls.CA_CERT + " ";
  }

  /**
   * Lines {@code NAME CODE}: {@code invocations} (POST /invocations, vLLM's open chat/completion
   * route) and {@code metrics} without a key, and {@code plain}, plain HTTP to the API port (000
   * when refused, with curl's exit code).
   */
  static String proxy(ClusterSpec spec) {
    String base = spec.apiBaseUrl();
    String curl = "curl " + tlsOptions(spec) + "-s -m 10 -o /dev/null -w '%{http_code}' ";
    String plain = "http://" + spec.head().address() + ":" + spec.vllm().port() + "/health";
    return "echo \"invocations $(" + curl + "-X POST -H 'Content-Type: application/json' -d '{}' " + base + "/invocations)\"; "
        + "echo \"metrics $(" + curl + base + "/metrics)\"; "
        + "c=$(curl -s -m 10 -o /dev/null -w '%{http_code}' " + plain + "); echo \"plain $c $?\"";
  }

  /** An HTTP answer captured with {@code -w '\n%{http_code}'}: the body, then the code. */
  public record Http(int code, String body) {
    public static Http of(String output) {
      String t = output.stripTrailing();
      int nl = t.lastIndexOf('\n');
      String last = nl < 0 ? t : t.substring(nl + 1);
      try {
        return new Http(Integer.parseInt(last.strip()), nl < 0 ? "" : t.substring(0, nl));
      } catch (NumberFormatException e) {
        return new Http(0, t);
      }
    }
  }
}
