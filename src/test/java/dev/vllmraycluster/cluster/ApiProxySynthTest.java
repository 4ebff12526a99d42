package dev.vllmraycluster.cluster;

import static dev.vllmraycluster.cluster.SynthTest.assertContainsSequence;
import static dev.vllmraycluster.cluster.SynthTest.changedTriggers;
import static dev.vllmraycluster.cluster.SynthTest.dependsOn;
import static dev.vllmraycluster.cluster.SynthTest.names;
import static dev.vllmraycluster.cluster.SynthTest.resource;
import static dev.vllmraycluster.cluster.SynthTest.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.hashicorp.cdktf.App;
import com.hashicorp.cdktf.AppConfig;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.StackLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API proxy as synthesized: HAProxy on the head in front of vLLM on 127.0.0.1, ordered after
 * the head's firewall and beside vLLM (neither restarts the other), the key only through the
 * ephemeral variable, TLS material that never reaches the configuration or the triggers, the
 * firewall opening the proxy's port and closing vLLM's, and the switches that turn it off.
 */
class ApiProxySynthTest {
  @TempDir Path dir;

  private JsonNode synth(String vllmExtra) {
    return TestStacks.synth(TestStacks.load(dir, "p", TestStacks.cluster(1, 1, vllmExtra)).spec());
  }

  @Test
  void theProxyFrontsVllmOnTheHeadAfterItsFirewall() {
    JsonNode json = synth("");
    JsonNode proxy = resource(json, "head_proxy");
    JsonNode config = proxy.at("/input/config");
    assertEquals("proxy", proxy.at("/input/component").asText());
    assertEquals("0.0.0.0", config.get("API_HOST").asText());
    assertEquals("9001", config.get("API_PORT").asText());
    assertEquals("8000", config.get("BACKEND_PORT").asText());
    assertEquals("true", config.get("TLS").asText());
    assertEquals("generated", config.get("TLS_SOURCE").asText());
    assertEquals("10.0.0.10 127.0.0.1", config.get("TLS_SERVER_NAMES").asText());
    assertEquals("https://10.0.0.10:9001", config.get("API_URL").asText());
    assertEquals("/etc/vllm-ray-cluster/tls/ca.crt", config.get("API_CA_FILE").asText());
    assertTrue(proxy.at("/lifecycle/create_before_destroy").asBoolean(), "a replaced proxy keeps the CA clients pinned");
    // After the head's firewall and its sweep (which a destroy runs after the proxy is gone).
    assertEquals(List.of("terraform_data.local_checks", "terraform_data.head_firewall", "terraform_data.head_sweep"),
        dependsOn(json, "head_proxy"));
    assertFalse(dependsOn(json, "head_vllm").contains("terraform_data.head_proxy"), "vLLM does not wait for the proxy");
    assertTrue(names(json).stream().noneMatch(n -> n.startsWith("worker1_proxy")), names(json).toString());

    List<String> args = strings(resource(json, "head_vllm").at("/input/args"));
    assertContainsSequence(args, "--host", "127.0.0.1");
    assertContainsSequence(args, "--port", "8000");
    assertEquals("8000", resource(json, "head_vllm").at("/input/config/API_PORT").asText(), "vLLM's apply waits on its own port");

    JsonNode fw = resource(json, "head_firewall").at("/input/config");
    assertEquals("9001", fw.get("API_PORT").asText(), "the proxy's port is the one clients may reach");
    assertEquals("10.0.1.0/24", fw.get("API_ALLOWED_NETWORKS").asText());
    assertTrue(List.of(fw.get("PROTECTED_TCP_PORTS").asText().split(" ")).containsAll(List.of("9001", "8000")),
        fw.get("PROTECTED_TCP_PORTS").asText());
    assertEquals("https://10.0.0.10:9001/v1", json.at("/output/api_url/value").asText());
  }

  @Test
  void theKeyReachesTheProxyOnlyAsAnEphemeralSecretFile() {
    JsonNode json = synth("");
    List<String> secretFiles = new ArrayList<>();
    for (JsonNode p : resource(json, "head_proxy").get("provisioner")) {
      String dest = p.at("/file/destination").asText();
      if (dest.contains("/secrets/")) {
        secretFiles.add(dest.substring(dest.indexOf("/secrets/")) + " " + p.at("/file/content").asText());
      }
    }
    assertEquals(List.of("/secrets/proxy-auth Bearer ${var.vllm_api_key}\nbearer ${var.vllm_api_key}\n"), secretFiles);
    String config = resource(json, "head_proxy").get("input").toString();
    assertFalse(config.contains("var.vllm_api_key"), "the key is in no env value: " + config);
    assertTrue(json.at("/variable/vllm_api_key/ephemeral").asBoolean());
  }

  @Test
  void aVllmChangeLeavesTheProxyAndAClientNetworkChangeLeavesItToo() {
    JsonNode before = synth("");
    assertEquals(Set.of("head_vllm"), changedTriggers(before, synth("  gpu_memory_utilization: 0.8\n")));
    JsonNode wider = TestStacks.synth(TestStacks.load(dir, "p",
        TestStacks.cluster(1, 1, "").replace("[10.0.1.0/24]", "[10.0.1.0/24, 10.0.2.0/24]")).spec());
    assertEquals(Set.of("head_firewall", "worker1_firewall"), changedTriggers(before, wider));
    // local_api_ca fetches the CA again whenever the proxy step is replaced.
    assertEquals(Set.of("head_proxy", "local_api_ca"), changedTriggers(before, synth("  tls_server_names: [llm.example.org]\n")));
  }

  @Test
  void aCertificateOfOnesOwnIsUploadedItsKeyNeverDigested() throws IOException {
    Path cert = Files.writeString(dir.resolve("server.crt"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    Path key = dir.resolve("server.key");
    Files.writeString(key, "-----BEGIN PRIVATE KEY-----\nsecret-key-material\n-----END PRIVATE KEY-----\n");
    JsonNode json = synth("  tls_cert_path: " + cert + "\n  tls_key_path: " + key + "\n");
    JsonNode proxy = resource(json, "head_proxy");
    assertEquals("given", proxy.at("/input/config/TLS_SOURCE").asText());
    assertEquals("", proxy.at("/input/config/TLS_SERVER_NAMES").asText());
    assertEquals("", proxy.at("/input/config/API_CA_FILE").asText(), "clients check a given certificate with their own CAs");
    List<String> uploads = new ArrayList<>();
    for (JsonNode p : proxy.get("provisioner")) {
      if (p.at("/file/source").isTextual() && !p.at("/file/source").asText().endsWith("/")) {
        uploads.add(p.at("/file/source").asText() + " -> " + p.at("/file/destination").asText().replaceFirst(".*/head_proxy/", ""));
      }
    }
    assertEquals(List.of(cert + " -> secrets/tls.crt", key + " -> secrets/tls.key"), uploads);
    assertTrue(proxy.get("triggers_replace").has("upload_secrets_tls.crt"), proxy.get("triggers_replace").toString());
    assertFalse(proxy.get("triggers_replace").has("upload_secrets_tls.key"), "no digest of the private key in the state");
    assertFalse(json.toString().contains("secret-key-material"));
    assertTrue(json.at("/output/api_ca_certificate/value").asText().contains(cert.toString()));
  }

  @Test
  void tlsOffAndNoProxyAreAllowedAndFlagged() {
    StackLoader.Loaded plain = TestStacks.load(dir, "p", TestStacks.cluster(1, 1, "  tls: false\n"));
    assertTrue(plain.warnings().stream().anyMatch(w -> w.startsWith("vllm.tls: false: the API key and every prompt")),
        plain.warnings().toString());
    JsonNode plainJson = TestStacks.synth(plain.spec());
    assertEquals("false", resource(plainJson, "head_proxy").at("/input/config/TLS").asText());
    assertEquals("none", resource(plainJson, "head_proxy").at("/input/config/TLS_SOURCE").asText());
    assertEquals("http://10.0.0.10:9001/v1", plainJson.at("/output/api_url/value").asText());

    StackLoader.Loaded direct = TestStacks.load(dir, "p", TestStacks.cluster(1, 1, "  proxy: false\n  tls: false\n"));
    assertTrue(direct.warnings().stream().anyMatch(w -> w.startsWith("vllm.proxy: false: clients reach vLLM itself")),
        direct.warnings().toString());
    JsonNode json = TestStacks.synth(direct.spec());
    assertFalse(names(json).contains("head_proxy"), names(json).toString());
    assertFalse(names(json).contains("local_api_ca"));
    List<String> args = strings(resource(json, "head_vllm").at("/input/args"));
    assertContainsSequence(args, "--host", "0.0.0.0");
    assertContainsSequence(args, "--port", "9001");
    assertFalse(resource(json, "head_firewall").at("/input/config/PROTECTED_TCP_PORTS").asText().contains("8000"));
    assertTrue(json.at("/output/api_ca_certificate/value").asText().startsWith("none: plain HTTP"));
  }

  @Test
  void theDeployFetchesTheCaIntoTheFileTheOutputNames() throws IOException {
    Path stackFile = dir.resolve("p.yaml");
    Files.writeString(stackFile, TestStacks.cluster(1, 1, ""));
    ClusterSpec spec = new StackLoader(TestStacks.ROOT).load(stackFile).spec();
    App app = new App(AppConfig.builder().outdir(dir.resolve("out").toString()).build());
    new ClusterStack(app, "p", ClusterStackProps.builder().cluster(spec).layout(TestStacks.layout()).preflight(true).build());
    app.synth();
    JsonNode json = TestStacks.JSON.readTree(dir.resolve("out/stacks/p/cdk.tf.json").toFile());
    JsonNode fetch = resource(json, "local_api_ca");
    String file = json.at("/output/api_ca_certificate/value").asText();
    // Relative to the directory holding the output (the project); from out/stacks/p, where
    // OpenTofu runs the fetch, three levels up.
    assertEquals(".vrc/p/api-ca.crt", file);
    assertEquals("../../../.vrc/p/api-ca.crt", fetch.at("/input/file").asText());
    assertEquals(List.of("terraform_data.head_proxy"), dependsOn(json, "local_api_ca"));
    // The command line staged beside cdk.tf.json, on the cluster staged as a stack file (as preflight).
    String command = fetch.at("/provisioner/0/local-exec/command").asText();
    assertTrue(command.endsWith("dev.vllmraycluster.cli.Main api-ca 'assets/vrc-preflight/stack/p.yaml' --out \"${self.input.file}\""), command);
    assertTrue(command.contains("\"$java\" -cp 'assets/"), command);
    assertTrue(Files.isRegularFile(dir.resolve("out/stacks/p/assets/vrc-preflight/stack/p.yaml")), "the stack file is staged");
    assertEquals("destroy", fetch.at("/provisioner/1/local-exec/when").asText());
    assertEquals("rm -f \"${self.input.file}\"", fetch.at("/provisioner/1/local-exec/command").asText());
    assertEquals(resource(json, "head_proxy").get("triggers_replace").size() > 0, true);
    assertNull(json.at("/resource/terraform_data/local_api_ca/connection").textValue(), "runs on the deploy machine");
  }
}
