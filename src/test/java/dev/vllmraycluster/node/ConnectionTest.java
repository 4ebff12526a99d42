package dev.vllmraycluster.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.hashicorp.cdktf.App;
import com.hashicorp.cdktf.Testing;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.cluster.ClusterStack;
import dev.vllmraycluster.cluster.ClusterStackProps;
import dev.vllmraycluster.spec.ClusterSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SSH connection of every host step: the host key is always checked (pinned, else from
 * known_hosts at synth, else nothing connects and the step stops first with the fix), scripts go
 * to the SSH user's home and never to /tmp, staging is on /run.
 */
class ConnectionTest {
  static final String ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFao4CFUvThOXVZG7HwxhpeByT1O0Qx4iiqvxnZwACXR";
  static final String ECDSA = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBP+hG/sQaxCixL+q2UB8"
      + "KZqKQ5W4/jVnOhw1y5Kg6MClVdoexDKywdc+lR13tqFyhYMVgApZcSKDda10cDm/aHs=";

  @TempDir Path dir;

  String stack(String headKey) {
    return "nodes:\n"
        + "  - {name: head, role: head, address: 10.0.0.10, gpus: 1"
        + (headKey == null ? "" : ", ssh_host_key: \"" + headKey + "\"") + "}\n"
        + "  - {name: worker1, address: 10.0.0.11, ssh_port: 2222, gpus: 1}\n"
        + "model: {huggingface_repo: deepseek-ai/deepseek-llm-7b-chat}\n";
  }

  JsonNode synth(ClusterSpec spec, KnownHostKeys keys) {
    App app = Testing.app();
    ClusterStack s = new ClusterStack(app, spec.name(), ClusterStackProps.builder().cluster(spec).layout(new ProjectLayout(TestStacks.ROOT, keys)).build());
    try {
      return TestStacks.JSON.readTree(Testing.synth(s));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  static JsonNode resource(JsonNode json, String name) {
    return json.at("/resource/terraform_data/" + name);
  }

  @Test
  void aPinnedKeyIsTheConnectionsKeyAndScriptsNeverGoToTmp() {
    ClusterSpec spec = TestStacks.load(dir, "pinned", stack(ED)).spec();
    JsonNode json = synth(spec, KnownHostKeys.none());
    for (String step : List.of("head_bootstrap", "head_firewall", "head_model", "head_ray", "head_vllm")) {
      JsonNode c = resource(json, step).get("connection");
      assertEquals(ED, c.get("host_key").asText(), step);
      assertEquals("./.vrc-tf-%RAND%.sh", c.get("script_path").asText(), step);
      String all = resource(json, step).get("provisioner").toString();
      assertFalse(all.contains("/tmp/vrc") || all.contains("/tmp/terraform"), step + " stages in /tmp: " + all);
      assertTrue(all.contains("/run/vrc-stage-root/" + step), step + " stages on /run");
      assertFalse(all.contains("local-exec"), "a pinned node needs no guard: " + all);
    }
  }

  @Test
  void anUnpinnedNodeWithoutKnownHostsEntryIsNeverConnectedTo() {
    ClusterSpec spec = TestStacks.load(dir, "unpinned", stack(ED)).spec();
    JsonNode json = synth(spec, KnownHostKeys.of(List.of(dir.resolve("no-such-known_hosts"))));
    JsonNode step = resource(json, "worker1_ray");
    assertEquals(KnownHostKeys.UNPINNED, step.at("/connection/host_key").asText(),
        "a key OpenTofu cannot parse: it fails before it dials");
    JsonNode provisioners = step.get("provisioner");
    JsonNode first = provisioners.get(0).get("local-exec");
    assertTrue(first != null && first.get("when") == null, "the first create-time provisioner stops locally: " + provisioners);
    String message = first.get("command").asText();
    assertTrue(message.contains("[worker1/ray/connect] ERROR: no host key for root@10.0.0.11:2222"), message);
    assertTrue(message.contains("ssh-keyscan -t ecdsa -p 2222 10.0.0.11"), message);
    assertTrue(message.endsWith("exit 1"), message);
    // At destroy too: the local stop comes before the remote-exec that would run remove.sh.
    List<String> destroyKinds = new ArrayList<>();
    for (JsonNode p : provisioners) {
      String kind = p.fieldNames().next();
      if ("destroy".equals(p.get(kind).path("when").asText())) {
        destroyKinds.add(kind);
      }
    }
    assertEquals(List.of("local-exec", "remote-exec"), destroyKinds);
    // The head is pinned in the stack: untouched by the guard.
    assertEquals(ED, resource(json, "head_ray").at("/connection/host_key").asText());
  }

  @Test
  void anUnpinnedNodeTakesItsKeyFromKnownHostsPreferringWhatOpenTofuAsksFor() throws Exception {
    Path known = dir.resolve("known_hosts");
    // Hashed entry for [10.0.0.11]:2222 (ssh-keygen -H format) with both an Ed25519 and an ECDSA key.
    String hashed = hashedHost("[10.0.0.11]:2222");
    Files.writeString(known, "10.0.0.99 " + ED + "\n" + hashed + " " + ED + "\n" + hashed + " " + ECDSA + "\n");
    KnownHostKeys keys = KnownHostKeys.of(List.of(known));
    ClusterSpec spec = TestStacks.load(dir, "known", stack(ED)).spec();
    JsonNode json = synth(spec, keys);
    assertEquals(ECDSA, resource(json, "worker1_ray").at("/connection/host_key").asText(),
        "OpenTofu's client asks for ECDSA before Ed25519");
    assertFalse(resource(json, "worker1_ray").get("provisioner").toString().contains("local-exec"));
    assertNull(keys.unpinnedMessage(spec.nodes().get(1), "ray"));
    // The state's input keeps only what the stack says (no diff between machines with and without known_hosts).
    assertEquals("", resource(json, "worker1_ray").at("/input/host_key").asText());
  }

  @Test
  void aKnownHostsEntryOnAnotherPortDoesNotCount() throws Exception {
    Path known = dir.resolve("known_hosts");
    Files.writeString(known, "10.0.0.11 " + ED + "\n");
    ClusterSpec spec = TestStacks.load(dir, "port", stack(ED)).spec();
    assertTrue(KnownHostKeys.of(List.of(known)).unpinned(spec.nodes().get(1)), "worker1 listens on 2222");
  }

  @Test
  void shellQuotingKeepsOpenTofuTemplatesOut() {
    assertEquals("'a'\\''b $${x} %%{y}'", HostStep.shellQuote("a'b ${x} %{y}"));
  }

  /** A known_hosts host field hashed like {@code ssh-keygen -H}: |1|salt|HMAC-SHA1(salt, host). */
  static String hashedHost(String host) throws Exception {
    byte[] salt = new byte[20];
    for (int i = 0; i < salt.length; i++) {
      salt[i] = (byte) (i * 7 + 3);
    }
    Mac mac = Mac.getInstance("HmacSHA1");
    mac.init(new SecretKeySpec(salt, "HmacSHA1"));
    byte[] hash = mac.doFinal(host.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return "|1|" + Base64.getEncoder().encodeToString(salt) + "|" + Base64.getEncoder().encodeToString(hash);
  }
}
