package dev.vllmraycluster.e2e;

import static dev.vllmraycluster.e2e.Sandbox.assertContains;
import static dev.vllmraycluster.e2e.Sandbox.run;
import static dev.vllmraycluster.e2e.Sandbox.step;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vllmraycluster.TestStacks;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * The API behind the proxy, on sandbox hosts: {@code cdktf deploy} of a head and a worker with the
 * default {@code vllm.proxy}/{@code vllm.tls}, the outsider host listed as an API client. Every
 * route of vLLM 0.33.0's route table (the checked-in fixture read from its wheel by
 * tools/vllm-routes) answers 401 without the key and {@code /health} 200; TLS works with the CA
 * the deploy wrote into the file the {@code api_ca_certificate} output names and fails without
 * it; plain HTTP to the API port gets no HTTP answer; from the outsider, of every TCP port any
 * process listens on (from {@code ss}, on both hosts), only the proxy and SSH answer; no private
 * key and no API key in the state or the synthesized files; destroy removes the proxy, its TLS
 * material and the CA file. Its own sandbox instance ({@code e2e-proxy}).
 */
@Tag("e2e")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ApiProxySandboxTest {
  static final Path ROUTES = TestStacks.ROOT.resolve("src/test/resources/fixtures/vllm-0.33.0.routes");

  final SandboxInstance sandbox = SandboxInstance.of("e2e-proxy", 8);
  final String headIp = sandbox.ip("head");
  final String stack = sandbox.stack();
  final String apiKey = "e2e-proxy-key-" + UUID.randomUUID();
  final Map<String, String> deployEnv = Map.of("TF_VAR_vllm_api_key", apiKey,
      "TF_VAR_ray_auth_token", "e2e-proxy-ray-" + UUID.randomUUID());
  boolean deployed;
  private boolean keyHeaderWritten;

  @RegisterExtension
  final TestWatcher journalsOnFailure = sandbox.journalsOnFailure();

  @BeforeAll
  void sandboxUp() throws IOException {
    Sandbox.assertRoot();
    sandbox.up(2, "--outsider");
    // The outsider is a client the stack lets in: the proxy must be all it reaches (and SSH).
    String yaml = Files.readString(sandbox.stackFile);
    String changed = yaml.replace("api_allowed_networks: [" + sandbox.bridgeIp() + "/32]",
        "api_allowed_networks: [" + sandbox.bridgeIp() + "/32, " + sandbox.ip("outsider") + "/32]");
    assertNotEquals(yaml, changed, "the sandbox stack lists its API clients");
    Files.writeString(sandbox.stackFile, changed);
  }

  @AfterAll
  void sandboxDown() throws IOException {
    try {
      if (deployed && !"1".equals(System.getenv("VRC_KEEP_SANDBOX"))) {
        step("cleanup: cdktf destroy (a step failed before the destroy test)");
        sandbox.cdktf(deployEnv, "destroy", stack, "--auto-approve");
      }
    } finally {
      try {
        Files.deleteIfExists(keyHeaderPath());
      } finally {
        sandbox.close();
      }
    }
  }

  @Test
  @Order(1)
  void deployPutsTheApiBehindTheProxy() throws Exception {
    step("cdktf deploy (proxy and TLS on by default)");
    deployed = true;
    sandbox.cdktf(deployEnv, "deploy", stack, "--auto-approve").ok("cdktf deploy");

    step("the outputs name the CA file the deploy wrote; it is the head's CA certificate");
    Path outputs = sandbox.project.resolve("outputs.json");
    sandbox.cdktf(deployEnv, "output", stack, "--outputs-file", outputs.toString()).ok("cdktf output");
    JsonNode out = TestStacks.JSON.readTree(outputs.toFile()).get(stack);
    assertEquals("https://" + headIp + ":9001/v1", out.get("api_url").asText());
    // Relative to the project directory (where cdktf runs), as README's curl example uses it.
    Path caFile = sandbox.project.resolve(out.get("api_ca_certificate").asText());
    assertEquals(sandbox.apiCaFile(), caFile);
    String pem = Files.readString(caFile);
    X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    assertTrue(ca.getBasicConstraints() >= 0, "a CA certificate: " + ca.getSubjectX500Principal());
    assertEquals(pem, sandbox.onOk("head", "cat /etc/vllm-ray-cluster/tls/ca.crt"), "the head's CA");
    sandbox.onOk("head", "stat -c '%a %U' /etc/vllm-ray-cluster/tls/ca.key /etc/vllm-ray-cluster/tls/server.key "
        + "/etc/vllm-ray-cluster/tls/server.pem /etc/vllm-ray-cluster/secrets/proxy-auth | sort -u | grep -qx '600 root'");

    step("the proxy runs outside vrc.slice; vLLM listens on 127.0.0.1:8000 only");
    sandbox.onOk("head", "systemctl is-active vrc-proxy vrc-vllm");
    assertEquals("system.slice", sandbox.onOk("head", "systemctl show -p Slice --value vrc-proxy").strip());
    String vllmListeners = sandbox.onOk("head", "ss -Htln 'sport = :8000' | awk '{print $4}'").strip();
    assertEquals("127.0.0.1:8000", vllmListeners, "vLLM's own port");

    step("TLS with the CA from the outputs: /health without a key, /v1/models and a chat completion with it");
    String caOpt = "--cacert " + caFile;
    String base = sandbox.api();
    assertEquals("200", here("curl " + caOpt + " -s -o /dev/null -w '%{http_code}' -m 10 " + base + "/health"));
    assertEquals("200", here("curl " + caOpt + " -s -o /dev/null -w '%{http_code}' -m 10 -H @" + keyHeaderFile() + " " + base + "/v1/models"));
    String chat = here("curl " + caOpt + " -sS -m 60 -H @" + keyHeaderFile() + " -H 'Content-Type: application/json' -d "
        + "'{\"model\": \"tiny-llama\", \"messages\": [{\"role\": \"user\", \"content\": \"through the proxy\"}]}' "
        + base + "/v1/chat/completions");
    assertContains(chat, "\"chat.completion\"", "a chat completion through the proxy");

    step("without the CA the certificate is not trusted; plain HTTP to the API port gets no HTTP answer");
    Sandbox.Result untrusted = run(Duration.ofSeconds(30), Map.of(), false, "bash", "-c",
        "curl -s -o /dev/null -m 10 " + base + "/health; echo \"exit $?\"");
    assertContains(untrusted.output(), "exit 60", "curl: peer certificate cannot be authenticated");
    Sandbox.Result plain = run(Duration.ofSeconds(30), Map.of(), false, "bash", "-c",
        "curl -s -o /dev/null -w 'code %{http_code}\\n' -m 10 http://" + headIp + ":9001/health; echo \"exit $?\"");
    assertContains(plain.output(), "code 000", "no HTTP status for plain HTTP");
    assertFalse(plain.output().contains("exit 0"), "plain HTTP must fail: " + plain.output());

    step("verify: the proxy check and the API from here pass (its report file)");
    Path report = sandbox.project.resolve("verify.json");
    sandbox.cli(deployEnv, "verify", sandbox.stackFile.toString(), "--report-file=" + report).ok("verify");
    Map<String, String> rows = new TreeMap<>();
    for (JsonNode r : TestStacks.JSON.readTree(report.toFile()).get("rows")) {
      rows.put(r.get("node").asText() + "/" + r.get("check").asText(), r.get("status").asText() + " " + r.get("message").asText());
    }
    assertTrue(rows.get("head/proxy").startsWith("ok /invocations without the key: 401, /metrics without the key: 401, plain HTTP refused"),
        rows.toString());
    assertTrue(rows.get("here/api-from-here").startsWith("ok " + base + "/health: 200 from this machine, certificate checked with the cluster's CA"),
        rows.toString());
    assertTrue(rows.get("head/units").contains("vrc-proxy"), rows.toString());
  }

  @Test
  @Order(2)
  void everyRouteOfVllmNeedsTheKeyButHealth() throws Exception {
    List<String[]> routes = new ArrayList<>();
    for (String line : Files.readAllLines(ROUTES)) {
      if (!line.isBlank() && !line.startsWith("#")) {
        String[] f = line.split(" ");
        String path = f[1].replaceAll("\\{[^}]*}", "x");
        switch (f[0]) {
          case "MOUNT" -> {
            routes.add(new String[] {"GET", path, ""});
            routes.add(new String[] {"GET", path + "/x", ""});
          }
          case "WEBSOCKET" -> routes.add(new String[] {"GET", path,
              "-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='"});
          default -> routes.add(new String[] {f[0], path, ""});
        }
      }
    }
    assertTrue(routes.size() > 80, "vLLM 0.33.0 has more routes than " + routes.size());
    String pem = Files.readString(sandbox.apiCaFile());
    sandbox.onOk("outsider", "cat > /root/api-ca.crt <<'PEM'\n" + pem + "PEM\n");
    StringBuilder script = new StringBuilder("set -u\n");
    for (String[] r : routes) {
      script.append("echo \"").append(r[0]).append(' ').append(r[1]).append(" $(curl --cacert /root/api-ca.crt -s -o /dev/null -w '%{http_code}' -m 10 -X ")
          .append(r[0]).append(' ').append(r[2]).append(" 'https://").append(headIp).append(":9001").append(r[1]).append("')\"\n");
    }
    // A wrong key is no key; a scheme other than Bearer is no key either.
    for (String header : List.of("Authorization: Bearer wrong-" + UUID.randomUUID(), "Authorization: Basic " + apiKey)) {
      for (String p : List.of("/v1/models", "/invocations", "/metrics")) {
        script.append("echo \"").append(header.split(" ")[1]).append(' ').append(p).append(" $(curl --cacert /root/api-ca.crt -s -o /dev/null -w '%{http_code}' -m 10 -H '")
            .append(header).append("' -X ").append(p.equals("/invocations") ? "POST" : "GET").append(" 'https://").append(headIp).append(":9001").append(p).append("')\"\n");
      }
    }
    step("from the outsider (an API client), " + routes.size() + " requests without the key, 6 with a wrong one");
    String answers = sandbox.onOk("outsider", script.toString());
    List<String> wrong = new ArrayList<>();
    int checked = 0;
    for (String line : Sandbox.lines(answers)) {
      String[] f = line.split(" ");
      if (f.length != 3) {
        continue;
      }
      checked++;
      String expected = f[0].equals("GET") && f[1].equals("/health") ? "200" : "401";
      if (!expected.equals(f[2])) {
        wrong.add(line + " (expected " + expected + ")");
      }
    }
    assertEquals(routes.size() + 6, checked, answers);
    assertTrue(wrong.isEmpty(), "routes answered otherwise than expected:\n" + String.join("\n", wrong));

    step("with the key, a route vLLM itself leaves open reaches vLLM (not refused by the proxy)");
    String keyed = here("curl --cacert " + sandbox.apiCaFile()
        + " -s -o /dev/null -w '%{http_code}' -m 10 -H @" + keyHeaderFile() + " " + sandbox.api() + "/version");
    assertEquals("200", keyed, "/version with the key");
  }

  @Test
  @Order(3)
  void fromTheOutsiderOnlyTheProxyAndSshAnswer() {
    for (String host : sandbox.hosts()) {
      String ports = sandbox.onOk(host, "ss -Htln | awk '{print $4}' | grep -v '^127\\.' | grep -v '^\\[::1\\]' "
          + "| sed 's/.*://' | sort -un | tr '\\n' ' '").strip();
      List<String> open = new ArrayList<>();
      StringBuilder probe = new StringBuilder();
      String ip = sandbox.ip(host);
      List<String> all = new ArrayList<>(List.of(ports.split(" ")));
      if (host.equals("head")) {
        all.add("8000"); // vLLM's own port, bound to 127.0.0.1: not reachable at the head's address either
      }
      for (String port : all) {
        probe.append("timeout 3 bash -c '</dev/tcp/").append(ip).append('/').append(port).append("' 2>/dev/null; echo \"")
            .append(port).append(" $?\" &\n");
      }
      probe.append("wait\n");
      step("the outsider probes every TCP port " + host + " listens on: " + String.join(" ", all));
      for (String line : Sandbox.lines(sandbox.onOk("outsider", probe.toString()))) {
        String[] f = line.split(" ");
        if (f.length == 2 && f[1].equals("0")) {
          open.add(f[0]);
        }
      }
      java.util.Collections.sort(open);
      assertEquals(host.equals("head") ? List.of("22", "9001") : List.of("22"), open, host + ": ports the outsider reaches");
    }
  }

  @Test
  @Order(4)
  void noSecretAndNoPrivateKeyLeavesTheHead() {
    step("no API key or private key in cdktf.out, the state or the CA file; none in the proxy's config, ps or journals");
    String files = here("cd " + sandbox.project + " && grep -rlF -e '" + apiKey + "' -e 'PRIVATE KEY' . 2>/dev/null || true");
    assertEquals("", files, "files holding the key or a private key");
    String patterns = Base64.getEncoder().encodeToString((apiKey + "\n").getBytes(StandardCharsets.UTF_8));
    String leaks = sandbox.onOk("head", "{ cat /etc/vllm-ray-cluster/proxy.cfg /etc/vllm-ray-cluster/proxy.env; ps -eo args; "
        + "journalctl --no-pager -o cat; cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '; } "
        + "| grep -cF -f <(echo " + patterns + " | base64 -d) || true");
    assertEquals("0", leaks.strip(), "lines with the key in the proxy's config, ps, journals or cmdlines");
  }

  @Test
  @Order(5)
  void destroyRemovesTheProxyItsTlsAndTheCaFile() {
    step("cdktf destroy");
    sandbox.cdktf(deployEnv, "destroy", stack, "--auto-approve").ok("cdktf destroy");
    deployed = false;
    sandbox.onOk("head", "! systemctl cat vrc-proxy >/dev/null 2>&1");
    sandbox.onOk("head", "test ! -e /etc/vllm-ray-cluster/tls && test ! -e /etc/vllm-ray-cluster/proxy.cfg "
        + "&& test ! -e /etc/vllm-ray-cluster/secrets/proxy-auth && test ! -e /opt/vllm-ray-cluster/modules/proxy");
    sandbox.onOk("head", "! ss -Htln 'sport = :9001' | grep -q .");
    assertFalse(Files.exists(sandbox.apiCaFile()), "the CA file is deleted");
  }

  // ------------------------------------------------------------------ helpers

  /**
   * A file with the Authorization header (curl -H @FILE), so that the key is in no command line;
   * beside the project directory, not in it (whose files the test searches for the key).
   */
  private Path keyHeaderPath() {
    return sandbox.project.resolveSibling(sandbox.name + ".auth-header");
  }

  /**
   * That file, written afresh (root-only) the first time a run asks for it: an earlier run's file
   * holds an earlier key (a second bin/test in one checkout got 401s from it). Removed after the class.
   */
  private Path keyHeaderFile() throws IOException {
    Path f = keyHeaderPath();
    if (!keyHeaderWritten) {
      Files.deleteIfExists(f);
      Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(f, "Authorization: Bearer " + apiKey + "\n");
      keyHeaderWritten = true;
    }
    return f;
  }

  private static String here(String shell) {
    return Sandbox.onDeployMachine(Duration.ofSeconds(90), shell, shell).strip();
  }
}
