package dev.vllmraycluster.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.hashicorp.cdktf.App;
import com.hashicorp.cdktf.AppConfig;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.SpecException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SynthTest {
  @TempDir Path dir;

  @Test
  void referenceHasEveryPartOnEveryNodeWithReadableNames() {
    JsonNode json = TestStacks.synth(TestStacks.loadReference().spec());
    Set<String> expected = new TreeSet<>(List.of("local_checks", "head_vllm", "head_proxy", "local_api_ca", "head_watchdog",
        "secret_api_key", "secret_ray_token"));
    for (String node : List.of("head", "worker1", "worker2")) {
      for (String part : List.of("sweep", "wheel_cache", "bootstrap", "firewall", "model", "ray")) {
        expected.add(node + "_" + part);
      }
    }
    assertEquals(expected, names(json));
  }

  @Test
  void bootstrapInstallsWithUvThroughTheHostsWheelCache() {
    JsonNode json = TestStacks.synth(TestStacks.loadReference().spec());
    JsonNode config = resource(json, "worker1_bootstrap").at("/input/config");
    assertEquals("auto", config.get("INSTALLER").asText(), "uv, with pip as the fallback");
    assertEquals("0.13.9", config.get("INSTALLER_UV_VERSION").asText());
    assertEquals("/var/cache/vllm-ray-cluster", config.get("WHEEL_CACHE_DIR").asText());
    assertEquals("/var/cache/vllm-ray-cluster", resource(json, "worker1_wheel_cache").at("/input/config/CACHE_DIR").asText());
    // The cache is not replaced with the bootstrap: a new vLLM version keeps the downloaded wheels.
    JsonNode older = TestStacks.synth(TestStacks.load(dir, "v", TestStacks.cluster(1, 1, "")).spec());
    JsonNode newer = TestStacks.synth(TestStacks.load(dir, "v", TestStacks.cluster(1, 1, "") + "software: {vllm_version: 0.34.0}\n").spec());
    assertEquals(resource(older, "head_wheel_cache").get("triggers_replace"), resource(newer, "head_wheel_cache").get("triggers_replace"));
    assertNotEquals(resource(older, "head_bootstrap").get("triggers_replace"), resource(newer, "head_bootstrap").get("triggers_replace"));
    ClusterSpec pip = TestStacks.load(dir, "pip", TestStacks.cluster(1, 1, "") + "software: {installer: pip}\n").spec();
    assertEquals("pip", resource(TestStacks.synth(pip), "head_bootstrap").at("/input/config/INSTALLER").asText());
    SpecException bad = org.junit.jupiter.api.Assertions.assertThrows(SpecException.class,
        () -> TestStacks.load(dir, "bad", TestStacks.cluster(1, 1, "") + "software: {installer: conda}\n"));
    assertEquals("software.installer", bad.problems().get(0).path());
  }

  @Test
  void vllmKeepsItsSecretsFromTheRayWorkersAndItsCachesAcrossRestarts() {
    JsonNode config = resource(TestStacks.synth(TestStacks.loadReference().spec()), "head_vllm").at("/input/config");
    assertEquals("VLLM_API_KEY HF_TOKEN HUGGING_FACE_HUB_TOKEN", config.get("RAY_NON_CARRY_OVER").asText());
    assertEquals("/etc/vllm-ray-cluster/vllm-config", config.get("VLLM_CONFIG_ROOT").asText());
    assertEquals("/var/lib/vllm-ray-cluster/cache/vllm", config.get("VLLM_CACHE_ROOT").asText());
    assertEquals("/var/lib/vllm-ray-cluster/cache", config.get("XDG_CACHE_HOME").asText());
  }

  @Test
  void referenceRunsVllmLikeTheGuideOverRay() {
    JsonNode vllm = resource(TestStacks.synth(TestStacks.loadReference().spec()), "head_vllm");
    List<String> args = strings(vllm.at("/input/args"));
    assertContainsSequence(args, "--tensor-parallel-size", "2");
    assertContainsSequence(args, "--distributed-executor-backend", "ray");
    // Behind the API proxy (which clients reach on 9001): vLLM on 127.0.0.1 only.
    assertContainsSequence(args, "--host", "127.0.0.1");
    assertContainsSequence(args, "--port", "8000");
    assertContainsSequence(args, "--gpu-memory-utilization", "0.9");
    // vllm serve MODEL ...: the model directory is the positional argument, first.
    assertEquals("/data/storage/data/VLLM_MODE/deepseek-llm-7b-chat", args.get(0));
    assertFalse(args.contains("--model"), "vLLM 0.33 warns that --model goes away with vllm serve");
    assertContainsSequence(args, "--served-model-name", "deepseek-llm-7b-chat");
    assertEquals("192.168.2.221:6379", vllm.at("/input/config/RAY_ADDRESS").asText());
    assertFalse(args.contains("--api-key"), "the key is never an argument");
  }

  @Test
  void referenceBindsRayToNodeAddressesAndKeepsTheDashboardLocal() {
    JsonNode json = TestStacks.synth(TestStacks.loadReference().spec());
    List<String> head = strings(resource(json, "head_ray").at("/input/args"));
    assertTrue(head.contains("--head"));
    assertTrue(head.contains("--node-ip-address=192.168.2.221"));
    assertTrue(head.contains("--dashboard-host=127.0.0.1"));
    assertTrue(head.contains("--num-gpus=1"));
    List<String> worker = strings(resource(json, "worker2_ray").at("/input/args"));
    assertTrue(worker.contains("--address=192.168.2.221:6379"));
    assertTrue(worker.contains("--node-ip-address=192.168.2.227"));
    assertFalse(worker.contains("--head"));
  }

  @Test
  void ordersWorkersAfterTheHeadAndVllmAfterEverything() {
    JsonNode json = TestStacks.synth(TestStacks.loadReference().spec());
    assertTrue(dependsOn(json, "worker1_ray").contains("terraform_data.head_ray"));
    assertTrue(dependsOn(json, "worker1_ray").contains("terraform_data.worker1_bootstrap"));
    assertTrue(dependsOn(json, "worker1_ray").contains("terraform_data.worker1_firewall"));
    assertTrue(dependsOn(json, "worker1_model").contains("terraform_data.head_model"));
    List<String> vllm = dependsOn(json, "head_vllm");
    for (String r : List.of("head_ray", "worker1_ray", "worker2_ray", "head_model", "worker1_model", "worker2_model")) {
      assertTrue(vllm.contains("terraform_data." + r), r + " missing from " + vllm);
    }
    for (String r : names(json)) {
      if (!r.equals("local_checks") && (r.endsWith("_wheel_cache") || r.endsWith("_firewall"))) {
        assertEquals(List.of("terraform_data.local_checks"), dependsOn(json, r), r);
      }
      if (r.endsWith("_bootstrap")) {
        String node = r.substring(0, r.length() - "_bootstrap".length());
        assertEquals(List.of("terraform_data.local_checks", "terraform_data." + node + "_wheel_cache"), dependsOn(json, r), r);
      }
    }
  }

  @Test
  void everyHostStepUploadsAppliesAndRemovesOverSsh() {
    JsonNode json = TestStacks.synth(TestStacks.loadReference().spec());
    for (String name : names(json)) {
      if (name.startsWith("local_") || name.startsWith("secret_") || name.endsWith("_sweep")) {
        continue; // on the deploy machine (local_checks, local_api_ca), no host (secret_*), or at destroy only (sweep)
      }
      JsonNode r = resource(json, name);
      assertEquals("${self.input.host}", r.at("/connection/host").asText(), name);
      // The reference stack pins no key and the test layout reads no known_hosts: never connected to.
      assertEquals(dev.vllmraycluster.node.KnownHostKeys.UNPINNED, r.at("/connection/host_key").asText(), name);
      JsonNode provisioners = r.get("provisioner");
      JsonNode last = provisioners.get(provisioners.size() - 1).get("remote-exec");
      assertEquals("destroy", last.get("when").asText(), name);
      String component = r.at("/input/component").asText();
      assertTrue(last.get("inline").get(0).asText().contains("/opt/vllm-ray-cluster/modules/" + component + "/remove.sh"), name);
      // Last but one: the apply; for an unpinned node, the local stop that precedes remove.sh.
      int applyAt = provisioners.size() - (provisioners.get(provisioners.size() - 2).has("local-exec") ? 3 : 2);
      String apply = provisioners.get(applyAt).at("/remote-exec/inline/0").asText();
      assertTrue(apply.contains("/" + component + "/apply.sh"), apply);
      // The stage moved to a directory of this run only, removed whatever happens (it may hold a secret).
      assertTrue(apply.contains("mv /run/vrc-stage-root/" + name + " \"$run\"") && apply.contains("trap 'rm -rf \"$run\"' EXIT"),
          "the stage (and any secret in it) is removed: " + apply);
      assertTrue(r.get("triggers_replace").has("config") && r.get("triggers_replace").has("module"), name);
    }
  }

  @Test
  void secretsTravelOnlyThroughEphemeralVariables() {
    JsonNode json = TestStacks.synth(TestStacks.loadReference().spec());
    JsonNode variable = json.at("/variable/vllm_api_key");
    assertTrue(variable.get("ephemeral").asBoolean());
    assertTrue(variable.get("sensitive").asBoolean());
    String text = json.toString();
    // Five references: the secret files' content (vllm.env once, the proxy's key lines twice), and the
    // fingerprint's postcondition, which only tests it for empty and hashes it (SecretRotation.planTimeCheck).
    assertEquals(5, count(text, "var.vllm_api_key"), text);
    String check = resource(json, "secret_api_key").at("/lifecycle/postcondition/0/condition").asText();
    assertEquals(2, count(check, "var.vllm_api_key"), check);
    assertTrue(check.startsWith("${var.vllm_api_key == \"\" || ") && check.contains("sha256(format("), check);
    JsonNode secretUpload = null;
    for (JsonNode p : resource(json, "head_vllm").get("provisioner")) {
      if (p.has("file") && p.at("/file/destination").asText().endsWith("/secrets/vllm.env")) {
        secretUpload = p.get("file");
      }
    }
    assertEquals("VLLM_API_KEY=${var.vllm_api_key}\n", secretUpload.get("content").asText());
    JsonNode proxyUpload = null;
    for (JsonNode p : resource(json, "head_proxy").get("provisioner")) {
      if (p.has("file") && p.at("/file/destination").asText().endsWith("/secrets/proxy-auth")) {
        proxyUpload = p.get("file");
      }
    }
    assertEquals("Bearer ${var.vllm_api_key}\nbearer ${var.vllm_api_key}\n", proxyUpload.get("content").asText());
    String checks = resource(json, "local_checks").at("/provisioner/0/local-exec/command").asText();
    assertTrue(checks.contains("test -n \"$TF_VAR_vllm_api_key\""), checks);
  }

  @Test
  void rayTokenReachesEveryRayNodeOnlyThroughAnEphemeralVariable() {
    JsonNode json = TestStacks.synth(TestStacks.loadReference().spec());
    assertTrue(json.at("/variable/ray_auth_token/ephemeral").asBoolean());
    for (String ray : List.of("head_ray", "worker1_ray", "worker2_ray")) {
      JsonNode r = resource(json, ray);
      assertEquals("token", r.at("/input/config/RAY_AUTH_MODE").asText(), ray);
      boolean uploaded = false;
      for (JsonNode p : r.get("provisioner")) {
        if (p.at("/file/destination").asText().endsWith("/secrets/ray-token")) {
          assertEquals("${var.ray_auth_token}", p.at("/file/content").asText());
          uploaded = true;
        }
      }
      assertTrue(uploaded, ray + " uploads the token");
    }
    assertEquals("token", resource(json, "head_vllm").at("/input/config/RAY_AUTH_MODE").asText());
    String checks = resource(json, "local_checks").at("/provisioner/0/local-exec/command").asText();
    assertTrue(checks.contains("test -n \"$TF_VAR_ray_auth_token\""), checks);
  }

  @Test
  void firewallProtectsRayPortsAndOpensTheApiOnlyToClients() {
    JsonNode json = TestStacks.synth(TestStacks.loadReference().spec());
    JsonNode head = resource(json, "head_firewall").at("/input/config");
    assertEquals("192.168.2.221 192.168.2.226 192.168.2.227", head.get("CLUSTER_ADDRESSES").asText());
    assertEquals("192.168.2.0/24", head.get("API_ALLOWED_NETWORKS").asText());
    assertEquals("", head.get("DASHBOARD_ALLOWED_NETWORKS").asText());
    List<String> ports = List.of(head.get("PROTECTED_TCP_PORTS").asText().split(" "));
    assertTrue(ports.containsAll(List.of("9001", "8265", "6379", "10001", "52365", "10002-19999", "2049")), ports.toString());
    List<String> workerPorts = List.of(resource(json, "worker1_firewall").at("/input/config/PROTECTED_TCP_PORTS").asText().split(" "));
    assertTrue(workerPorts.containsAll(List.of("52365", "6380", "6381", "10002-19999")), workerPorts.toString());
    assertFalse(workerPorts.contains("22"));
  }

  @Test
  void anNfsHeadPinsItsRpcPortsAndTheFirewallNamesThem() {
    JsonNode json = TestStacks.synth(TestStacks.loadReference().spec());
    JsonNode store = resource(json, "head_model").at("/input/config");
    assertEquals("20048", store.get("NFS_MOUNTD_PORT").asText());
    assertEquals("20050", store.get("NFS_STATD_PORT").asText());
    assertEquals("20051", store.get("NFS_LOCKD_PORT").asText());
    List<String> ports = List.of(resource(json, "head_firewall").at("/input/config/PROTECTED_TCP_PORTS").asText().split(" "));
    assertTrue(ports.containsAll(List.of("2049", "111", "20048", "20050", "20051")), ports.toString());
    List<String> workerPorts = List.of(resource(json, "worker1_firewall").at("/input/config/PROTECTED_TCP_PORTS").asText().split(" "));
    assertFalse(workerPorts.contains("2049"), "a worker serves no NFS: " + workerPorts);
    assertEquals("true", store.get("FETCH_MODEL").asText());
    assertEquals("false", resource(json, "worker1_model").at("/input/config/FETCH_MODEL").asText());
  }

  @Test
  void externalNfsHasTheHeadWriteAndTheWorkersRead() {
    String yaml = TestStacks.cluster(1, 1, "").replaceFirst("(?m)^storage:\\n(  .*\\n)*", "")
        + "storage:\n  mode: external_nfs\n  nfs_server: 10.0.0.200\n  nfs_server_path: /export/models\n";
    JsonNode json = TestStacks.synth(TestStacks.load(dir, "ext", yaml).spec());
    JsonNode head = resource(json, "head_model").at("/input/config");
    JsonNode worker = resource(json, "worker1_model").at("/input/config");
    assertEquals("nfs_client", head.get("STORE_ROLE").asText());
    assertEquals("true", head.get("FETCH_MODEL").asText());
    assertTrue(head.get("NFS_MOUNT_OPTIONS").asText().startsWith("rw,"), head.toString());
    assertEquals("false", worker.get("FETCH_MODEL").asText());
    assertTrue(worker.get("NFS_MOUNT_OPTIONS").asText().startsWith("ro,"), worker.toString());
    List<String> ports = List.of(resource(json, "head_firewall").at("/input/config/PROTECTED_TCP_PORTS").asText().split(" "));
    assertFalse(ports.contains("2049"), "the head serves no NFS with an external server: " + ports);
  }

  @Test
  void theHfTokensVariableNameReachesTheHostNeverItsValue() {
    String yaml = TestStacks.cluster(1, 1, "").replace("huggingface_repo: ", "hf_token_env: TF_VAR_hf_token\n  huggingface_repo: ");
    JsonNode json = TestStacks.synth(TestStacks.load(dir, "tok", yaml).spec());
    assertEquals("TF_VAR_hf_token", resource(json, "head_model").at("/input/config/HF_TOKEN_ENV").asText());
    assertTrue(json.toString().contains("${var.hf_token}"), "the token comes from the ephemeral variable");
  }

  @ParameterizedTest
  @CsvSource({"auto", "nftables", "firewalld", "ufw", "none"})
  void firewallBackendReachesTheHostAndReplacesOnlyTheFirewalls(String backend) {
    String yaml = TestStacks.cluster(1, 1, "").replace("network:\n", "network:\n  firewall_backend: " + backend + "\n");
    JsonNode json = TestStacks.synth(TestStacks.load(dir, "fw", yaml).spec());
    for (String node : List.of("head", "worker1")) {
      assertEquals(backend, resource(json, node + "_firewall").at("/input/config/FIREWALL_BACKEND").asText());
    }
    if (!backend.equals("auto")) {
      JsonNode auto = TestStacks.synth(TestStacks.load(dir, "fw", TestStacks.cluster(1, 1, "")).spec());
      // Without a firewall, Ray and vLLM no longer require vrc-firewall.service: they restart too.
      Set<String> replaced = backend.equals("none")
          ? Set.of("head_firewall", "worker1_firewall", "head_ray", "worker1_ray", "head_vllm", "head_proxy",
              "local_api_ca")
          : Set.of("head_firewall", "worker1_firewall");
      assertEquals(replaced, changedTriggers(auto, json));
    }
  }

  @Test
  void everyServiceRunsInTheSliceTheFirewallClosesAndRequiresIt() {
    JsonNode json = TestStacks.synth(TestStacks.loadReference().spec());
    assertEquals("vrc.slice", resource(json, "head_firewall").at("/input/config/SERVICE_SLICE").asText());
    assertEquals("2049", resource(json, "head_firewall").at("/input/config/PROTECTED_UDP_PORTS").asText().split(" ")[0]);
    for (String step : List.of("head_ray", "worker1_ray", "head_vllm")) {
      assertEquals("vrc.slice", resource(json, step).at("/input/config/SERVICE_SLICE").asText(), step);
      assertEquals("vrc-firewall.service", resource(json, step).at("/input/config/FIREWALL_UNIT").asText(), step);
    }
    assertEquals("20100", resource(json, "head_vllm").at("/input/config/VLLM_PORT").asText());
    List<String> head = List.of(resource(json, "head_firewall").at("/input/config/PROTECTED_TCP_PORTS").asText().split(" "));
    assertTrue(head.containsAll(List.of("44217", "44227", "20100-20199")), head.toString());
    // A changed rule set never leaves a node without rules: the new step is created first.
    assertTrue(resource(json, "head_firewall").at("/lifecycle/create_before_destroy").asBoolean());
    assertTrue(resource(json, "head_firewall").get("provisioner").toString().contains("/firewall/apply.sh \\\"$run\\\" ${self.id}"),
        resource(json, "head_firewall").get("provisioner").toString());
  }

  @Test
  void changingOneVllmFlagReplacesOnlyVllm() {
    ClusterSpec before = TestStacks.load(dir, "a", TestStacks.cluster(2, 1, "  tensor_parallel_size: 2\n")).spec();
    ClusterSpec after = TestStacks.load(dir, "a", TestStacks.cluster(2, 1, "  tensor_parallel_size: 2\n  gpu_memory_utilization: 0.8\n")).spec();
    assertEquals(Set.of("head_vllm"), changedTriggers(TestStacks.synth(before), TestStacks.synth(after)));
  }

  @Test
  void addingAWorkerKeepsTheHeadRunning() {
    ClusterSpec two = TestStacks.load(dir, "a", TestStacks.cluster(2, 1, "  tensor_parallel_size: 2\n")).spec();
    ClusterSpec three = TestStacks.load(dir, "a", TestStacks.cluster(3, 1, "  tensor_parallel_size: 2\n")).spec();
    JsonNode a = TestStacks.synth(two);
    JsonNode b = TestStacks.synth(three);
    Set<String> changed = changedTriggers(a, b);
    assertTrue(changed.contains("head_vllm"), changed.toString());
    assertFalse(changed.contains("head_ray"), changed.toString());
    assertFalse(changed.contains("worker1_ray"), changed.toString());
    assertFalse(changed.contains("head_bootstrap"), changed.toString());
    assertTrue(names(b).containsAll(List.of("worker3_bootstrap", "worker3_ray", "worker3_model", "worker3_firewall")));
  }

  @Test
  void changingRayVersionRestartsRayAndVllmButKeepsTheFirewall() {
    ClusterSpec a = TestStacks.load(dir, "a", TestStacks.cluster(1, 1, "") + "software: {ray_version: 2.47.1}\n").spec();
    ClusterSpec b = TestStacks.load(dir, "a", TestStacks.cluster(1, 1, "") + "software: {ray_version: 2.48.0}\n").spec();
    Set<String> changed = changedTriggers(TestStacks.synth(a), TestStacks.synth(b));
    // local_checks too: preflight runs again when the software pins it checks against change.
    assertEquals(Set.of("local_checks", "head_bootstrap", "worker1_bootstrap", "head_ray", "worker1_ray", "head_vllm"), changed);
  }

  @ParameterizedTest(name = "{0} workers × {1} GPUs, TP {2} PP {3}")
  @CsvSource({
    "1, 1, 2, 1",
    "2, 1, 2, 1",
    "2, 4, 4, 3",
    "3, 2, 2, 4",
    "4, 8, 8, 5",
    "8, 1, 1, 9",
    "8, 2, 2, 9",
  })
  void synthesizesVariants(int workers, int gpus, int tp, int pp) {
    ClusterSpec spec = TestStacks.load(dir, "v", TestStacks.cluster(workers, gpus,
        "  tensor_parallel_size: " + tp + "\n  pipeline_parallel_size: " + pp + "\n")).spec();
    JsonNode json = TestStacks.synth(spec);
    // local_checks, head_vllm, head_proxy, local_api_ca, head_watchdog, two secret fingerprints; per node
    // sweep, wheel cache, bootstrap, firewall, model, Ray.
    assertEquals(7 + 6 * (workers + 1), names(json).size());
    List<String> args = strings(resource(json, "head_vllm").at("/input/args"));
    assertContainsSequence(args, "--tensor-parallel-size", String.valueOf(tp));
    assertContainsSequence(args, "--pipeline-parallel-size", String.valueOf(pp));
    for (int i = 1; i <= workers; i++) {
      List<String> ray = strings(resource(json, "worker" + i + "_ray").at("/input/args"));
      assertTrue(ray.contains("--num-gpus=" + gpus), ray.toString());
      assertTrue(dependsOn(json, "head_vllm").contains("terraform_data.worker" + i + "_ray"));
    }
    assertEquals(workers + 1, json.at("/output/nodes/value").size());
  }

  @Test
  void outputsTellHowToReachTheService() {
    JsonNode out = TestStacks.synth(TestStacks.loadReference().spec()).get("output");
    assertEquals("https://192.168.2.221:9001/v1", out.at("/api_url/value").asText());
    assertEquals("deepseek-llm-7b-chat", out.at("/served_model_name/value").asText());
    assertTrue(out.at("/dashboard/value").asText().startsWith("ssh -N -L 8265:127.0.0.1:8265"), out.at("/dashboard/value").asText());
    assertEquals("TF_VAR_vllm_api_key", out.at("/api_key_env/value").asText());
  }

  @Test
  void withoutAStateFieldTheBackendIsCdktfsDefaultLocalFile() throws IOException {
    // CDKTF adds its default backend when the app synthesizes (Testing.synth does not): run it.
    App app = new App(AppConfig.builder().outdir(dir.resolve("out").toString()).build());
    new ClusterStack(app, "reference", ClusterStackProps.builder().cluster(TestStacks.loadReference().spec()).layout(TestStacks.layout()).build());
    app.synth();
    JsonNode backend = TestStacks.JSON.readTree(dir.resolve("out/stacks/reference/cdk.tf.json").toFile()).at("/terraform/backend");
    assertEquals(List.of("local"), fieldNames(backend));
    assertEquals(TestStacks.ROOT.resolve("terraform.reference.tfstate").toString(), backend.at("/local/path").asText());
  }

  @Test
  void aStateFieldChoosesTheBackend() {
    JsonNode local = TestStacks.synth(TestStacks.load(dir, "local", TestStacks.cluster(1, 1, "")
        + "state: {backend: local, path: /var/lib/vrc/local.tfstate}\n").spec()).at("/terraform/backend");
    assertEquals("/var/lib/vrc/local.tfstate", local.at("/local/path").asText());
    JsonNode aws = TestStacks.synth(TestStacks.load(dir, "aws", TestStacks.cluster(1, 1, "")
        + "state: {backend: s3, bucket: vrc-state, region: eu-west-1}\n").spec()).at("/terraform/backend");
    assertEquals(List.of("s3"), fieldNames(aws));
    assertEquals("vrc-state", aws.at("/s3/bucket").asText());
    assertEquals("vllm-ray-cluster/aws.tfstate", aws.at("/s3/key").asText());
    assertEquals("eu-west-1", aws.at("/s3/region").asText());
    assertTrue(aws.at("/s3/endpoints").isMissingNode(), aws.toString());
    assertTrue(aws.at("/s3/use_lockfile").asBoolean(), "two deploys of one stack cannot interleave: " + aws);
    JsonNode minio = TestStacks.synth(TestStacks.load(dir, "minio", TestStacks.cluster(1, 1, "")
        + "state: {backend: s3, bucket: vrc-state, key: a/b.tfstate, region: us-east-1, endpoint: 'http://10.0.0.5:9000'}\n").spec())
        .at("/terraform/backend/s3");
    assertEquals("http://10.0.0.5:9000", minio.at("/endpoints/s3").asText());
    assertTrue(minio.at("/use_path_style").asBoolean(), minio.toString());
    assertTrue(minio.at("/skip_requesting_account_id").asBoolean(), minio.toString());
    assertTrue(minio.at("/access_key").isMissingNode() && minio.at("/secret_key").isMissingNode(), "credentials come from the environment");
  }

  @Test
  void aDeclaredInterconnectReachesTheVllmConfigAndOnlyThen() {
    JsonNode plain = vllmConfig(TestStacks.synth(TestStacks.loadReference().spec()));
    assertTrue(plain.path("INTERCONNECT").isMissingNode(), "undeclared: the reference's config (and digest) stays as it was");
    JsonNode ib = vllmConfig(TestStacks.synth(TestStacks.load(dir, "ib", TestStacks.cluster(1, 1, "  tensor_parallel_size: 2\n")
        .replace("network:\n", "network:\n  interconnect: infiniband\n")).spec()));
    assertEquals("infiniband", ib.path("INTERCONNECT").asText());
  }

  private static JsonNode vllmConfig(JsonNode json) {
    return json.at("/resource/terraform_data/head_vllm/input/config");
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }

  // ------------------------------------------------------------------ helpers

  static Set<String> names(JsonNode json) {
    Set<String> out = new TreeSet<>();
    json.at("/resource/terraform_data").fieldNames().forEachRemaining(out::add);
    return out;
  }

  static JsonNode resource(JsonNode json, String name) {
    JsonNode r = json.at("/resource/terraform_data/" + name);
    assertFalse(r.isMissingNode(), "no resource " + name);
    return r;
  }

  static List<String> dependsOn(JsonNode json, String name) {
    return strings(resource(json, name).get("depends_on"));
  }

  static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    if (array != null) {
      array.forEach(n -> out.add(n.asText()));
    }
    return out;
  }

  /** Resources present in both whose triggers_replace differ: what a plan would replace. */
  static Set<String> changedTriggers(JsonNode a, JsonNode b) {
    Map<String, JsonNode> before = new HashMap<>();
    a.at("/resource/terraform_data").fields().forEachRemaining(e -> before.put(e.getKey(), e.getValue().get("triggers_replace")));
    Set<String> changed = new TreeSet<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = b.at("/resource/terraform_data").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode old = before.get(e.getKey());
      if (old != null && !old.equals(e.getValue().get("triggers_replace"))) {
        changed.add(e.getKey());
      }
    }
    return changed;
  }

  static void assertContainsSequence(List<String> args, String flag, String value) {
    int i = args.indexOf(flag);
    assertNotEquals(-1, i, flag + " missing in " + args);
    assertEquals(value, args.get(i + 1), flag + " in " + args);
  }

  private static int count(String text, String needle) {
    int n = 0;
    for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
      n++;
    }
    return n;
  }
}
