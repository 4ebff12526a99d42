package dev.vllmraycluster.proxy;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.contract.HostContract.Component;
import dev.vllmraycluster.firewall.Firewall;
import dev.vllmraycluster.node.Env;
import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.VllmSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The API as clients reach it ({@code vrc-proxy.service}, {@code modules/proxy}): HAProxy from the
 * OS packages on the head, on {@code vllm.host:vllm.port}, in front of vLLM on
 * {@code 127.0.0.1:vllm.backend_port}. It answers {@code GET /health} to anyone the firewall lets
 * through and everything else only with {@code Authorization: Bearer <key>}; with TLS (the
 * default) it speaks HTTPS only, with the user's certificate or one signed by a per-cluster CA
 * made on the head (whose private keys never leave it).
 *
 * <p>It runs outside {@code vrc.slice} (the firewall closes every socket of that slice to
 * outsiders) and does not depend on vLLM: a vLLM change restarts vLLM only, while the proxy
 * answers 503 for the moment. A replacement is created before the proxy it replaces is destroyed,
 * so that the CA clients pinned survives a change of the proxy's settings.
 */
public class ApiProxy extends HostStep {
  /**
   * @param head the head node (its scope)
   * @param id {@code proxy}: the resource is {@code <head>_proxy}
   */
  public ApiProxy(GpuNode head, String id, ApiProxyProps props) {
    super(head, id, props.layout(), props(head, props));
    createBeforeDestroy();
  }

  /** Where the generated certificate is valid: the head's address, its SSH host, 127.0.0.1, and more names given. */
  public static List<String> serverNames(ClusterSpec cluster) {
    NodeSpec head = cluster.head();
    Set<String> names = new LinkedHashSet<>();
    names.add(head.address());
    names.add(head.ssh().host());
    names.add("127.0.0.1");
    names.addAll(cluster.vllm().tlsServerNames());
    return new ArrayList<>(names);
  }

  private static Props props(GpuNode head, ApiProxyProps p) {
    ClusterSpec cluster = p.cluster();
    VllmSpec v = cluster.vllm();
    List<Upload> uploads = new ArrayList<>();
    if (v.apiKey() != null) {
      // HAProxy compares the whole header with these lines (vLLM takes the scheme in any case).
      String key = "${var." + v.apiKey().variableName() + "}";
      uploads.add(Upload.secretContent(HostContract.SecretFiles.PROXY_AUTH, "Bearer " + key + "\nbearer " + key + "\n"));
    }
    String tlsSource = "none";
    if (v.https()) {
      tlsSource = v.userCertificate() ? "given" : "generated";
      if (v.userCertificate()) {
        Path cert = Path.of(v.tlsCertPath());
        uploads.add(Upload.file(HostContract.SecretFiles.TLS_CERT, cert.toString(), ProjectLayout.fileDigest(cert)));
        // No digest of the key in the triggers (they are in the state): a new certificate comes with it.
        uploads.add(Upload.file(HostContract.SecretFiles.TLS_KEY, Path.of(v.tlsKeyPath()).toString(), null));
      }
    }
    Env env = Env.of(head.spec(), Component.PROXY.module())
        .put(HostContract.Env.OS_FAMILY, cluster.software().osFamily().name().toLowerCase(Locale.ROOT))
        .put(HostContract.Env.API_HOST, v.host())
        .put(HostContract.Env.API_PORT, v.port())
        .put(HostContract.Env.BACKEND_PORT, v.backendPort())
        .put(HostContract.Env.TLS, v.https())
        .put(HostContract.Env.TLS_SOURCE, tlsSource)
        .put(HostContract.Env.TLS_SERVER_NAMES, v.https() && !v.userCertificate() ? serverNames(cluster) : List.of())
        .put(HostContract.Env.REQUIRE_API_KEY, v.apiKey() != null)
        // For clients on the head (e.g. a watchdog): the URL and the CA to check it with (empty:
        // a user-given certificate, checked against the system's CAs).
        .put(HostContract.Env.API_URL, cluster.apiBaseUrl())
        .put(HostContract.Env.API_CA_FILE, v.https() && !v.userCertificate() ? HostContract.Tls.CA_CERT : "")
        .put(HostContract.Env.FIREWALL_UNIT, Firewall.requiredUnit(cluster));
    List<ITerraformDependable> after = new ArrayList<>(p.after());
    after.add(p.firewall().resource());
    return new Props(head.spec(), Component.PROXY.module(), env.build(), List.of(), after, List.of(), uploads);
  }
}
