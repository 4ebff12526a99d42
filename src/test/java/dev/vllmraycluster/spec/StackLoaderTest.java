package dev.vllmraycluster.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.spec.ClusterSpec.FirewallBackend;
import dev.vllmraycluster.spec.ClusterSpec.HuggingFace;
import dev.vllmraycluster.spec.ClusterSpec.OsFamily;
import dev.vllmraycluster.spec.ClusterSpec.Role;
import dev.vllmraycluster.spec.ClusterSpec.StorageMode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StackLoaderTest {
  @TempDir Path dir;

  @Test
  void parsesTheReferenceStack() {
    StackLoader.Loaded loaded = TestStacks.loadReference();
    ClusterSpec spec = loaded.spec();
    assertEquals("reference", spec.name());
    assertEquals(List.of("head", "worker1", "worker2"), spec.nodes().stream().map(ClusterSpec.NodeSpec::name).toList());
    assertEquals("192.168.2.221", spec.head().address());
    assertEquals(Role.HEAD, spec.head().role());
    assertEquals(2, spec.workers().size());
    assertEquals(3, spec.totalGpus());
    assertEquals(OsFamily.DNF, spec.software().osFamily());
    assertEquals("/opt/vllm_env", spec.software().venvPath());
    assertEquals("0.33.0", spec.software().vllmVersion());
    HuggingFace hf = (HuggingFace) spec.model().source();
    assertEquals("deepseek-ai/deepseek-llm-7b-chat", hf.repo());
    assertEquals("https://hf-mirror.com", hf.endpoint());
    assertEquals(StorageMode.HEAD_NFS, spec.storage().mode());
    assertEquals("/data/storage/data/VLLM_MODE/deepseek-llm-7b-chat", spec.storage().modelPath(spec.model()));
    assertEquals(2, spec.vllm().tensorParallelSize());
    assertEquals(1, spec.vllm().pipelineParallelSize());
    assertEquals(0.9, spec.vllm().gpuMemoryUtilization());
    assertEquals(9001, spec.vllm().port());
    assertEquals("TF_VAR_vllm_api_key", spec.vllm().apiKey().environmentVariable());
    // Secure defaults.
    assertEquals("127.0.0.1", spec.ray().dashboardHost());
    assertEquals(List.of(), spec.network().dashboardAllowedNetworks());
    assertNull(spec.head().ssh().privateKeyPath(), "no key path: ssh-agent");
    // TP 2 over 1-GPU nodes is the reference's choice, flagged as a cross-node risk.
    assertTrue(loaded.warnings().stream().anyMatch(w -> w.contains("spans nodes")), loaded.warnings().toString());
  }

  @Test
  void appliesDefaultsToAMinimalStack() {
    ClusterSpec spec = TestStacks.load(dir, "mini", """
        nodes:
          - {name: gpu1, role: head, address: 10.1.0.1, gpus: 2}
          - {name: gpu2, address: 10.1.0.2, gpus: 2}
        model:
          huggingface_repo: Qwen/Qwen2.5-7B-Instruct
        """).spec();
    assertEquals("root", spec.head().ssh().user());
    assertEquals(22, spec.head().ssh().port());
    assertEquals("10.1.0.1", spec.head().ssh().host());
    assertEquals(StorageMode.HEAD_NFS, spec.storage().mode());
    assertEquals("/srv/vllm-models/Qwen2.5-7B-Instruct", spec.storage().modelPath(spec.model()));
    assertEquals("Qwen2.5-7B-Instruct", spec.model().servedModelName());
    // vLLM's guidance when nothing is said: TP = GPUs per node, PP = nodes.
    assertEquals(2, spec.vllm().tensorParallelSize());
    assertEquals(2, spec.vllm().pipelineParallelSize());
    assertEquals(SpecValidator.DEFAULT_RAY_VERSION, spec.software().rayVersion());
    assertEquals(6379, spec.ray().gcsPort());
    assertEquals("main", ((HuggingFace) spec.model().source()).revision());
  }

  @Test
  void givenOnlyTensorParallelPipelineIsOne() {
    ClusterSpec spec = TestStacks.load(dir, "tp", TestStacks.cluster(3, 2, "  tensor_parallel_size: 2\n")).spec();
    assertEquals(2, spec.vllm().tensorParallelSize());
    assertEquals(1, spec.vllm().pipelineParallelSize());
  }

  @Test
  void normalizesNetworks() {
    ClusterSpec spec = TestStacks.load(dir, "nets", """
        nodes: [{name: h, role: head, address: 10.1.0.1, gpus: 1}]
        network: {api_allowed_networks: [10.2.0.7, 10.3.0.9/16]}
        model: {huggingface_repo: a/b}
        """).spec();
    assertEquals(List.of("10.2.0.7/32", "10.3.0.0/16"), spec.network().apiAllowedNetworks());
  }

  @ParameterizedTest
  @CsvSource({"auto, AUTO", "nftables, NFTABLES", "firewalld, FIREWALLD", "ufw, UFW", "none, NONE"})
  void parsesEveryFirewallBackend(String yaml, FirewallBackend expected) {
    StackLoader.Loaded loaded = TestStacks.load(dir, "fw", """
        nodes: [{name: h, role: head, address: 10.1.0.1, gpus: 1}]
        network: {firewall_backend: %s}
        model: {huggingface_repo: a/b}
        """.formatted(yaml));
    assertEquals(expected, loaded.spec().network().firewallBackend());
    assertEquals(expected == FirewallBackend.NONE,
        loaded.warnings().stream().anyMatch(w -> w.startsWith("network.firewall_backend: none")), loaded.warnings().toString());
  }

  @Test
  void failsOnUnknownFirewallBackendListingTheChoices() {
    SpecException e = fails("""
        nodes: [{name: h, role: head, address: 10.1.0.1, gpus: 1}]
        network: {firewall_backend: iptables}
        model: {huggingface_repo: a/b}
        """);
    Problem p = e.problems().get(0);
    assertEquals("network.firewall_backend", p.path());
    assertEquals("'iptables' is not one of auto, nftables, firewalld, ufw, none", p.message());
    assertTrue(p.fix().contains("auto (the default) picks firewalld if it runs, else ufw if active, else nftables"), p.fix());
  }

  @Test
  void failsOnUnknownKeyNamingPathAndSuggestion() {
    SpecException e = fails("""
        nodes:
          - {name: head, role: head, address: 10.1.0.1, gpu: 1}
        model: {huggingface_repo: a/b}
        """);
    Problem p = e.problems().get(0);
    assertEquals("nodes[0].gpu", p.path());
    assertTrue(p.message().contains("unknown key 'gpu'"), p.message());
    assertTrue(p.fix().contains("did you mean 'gpus'"), p.fix());
    assertTrue(e.getMessage().startsWith(e.source()), e.getMessage());
  }

  @Test
  void failsOnWrongTypes() {
    SpecException e = fails("""
        nodes:
          - {name: head, role: head, address: 10.1.0.1, gpus: "two"}
        model: {huggingface_repo: a/b}
        """);
    assertEquals("nodes[0].gpus", e.problems().get(0).path());
    assertTrue(e.problems().get(0).message().contains("whole number"), e.getMessage());

    SpecException quoted = fails("""
        nodes:
          - {name: head, role: head, address: 10.1.0.1, gpus: "2"}
        model: {huggingface_repo: a/b}
        """);
    assertEquals("nodes[0].gpus", quoted.problems().get(0).path());

    SpecException fraction = fails("""
        nodes:
          - {name: head, role: head, address: 10.1.0.1, gpus: 1.5}
        model: {huggingface_repo: a/b}
        """);
    assertEquals("nodes[0].gpus", fraction.problems().get(0).path());

    SpecException notAList = fails("""
        nodes:
          - {name: head, role: head, address: 10.1.0.1, gpus: 1}
        network: {api_allowed_networks: 10.0.0.0/8}
        model: {huggingface_repo: a/b}
        """);
    assertEquals("network.api_allowed_networks", notAList.problems().get(0).path());
    assertTrue(notAList.problems().get(0).message().contains("a list"), notAList.getMessage());
  }

  @Test
  void failsOnDuplicateKeys() {
    SpecException e = fails("""
        nodes:
          - {name: head, role: head, address: 10.1.0.1, gpus: 1}
        model: {huggingface_repo: a/b}
        model: {huggingface_repo: c/d}
        """);
    assertTrue(e.getMessage().contains("Duplicate field 'model'"), e.getMessage());
  }

  @Test
  void failsOnYamlSyntaxWithLine() {
    SpecException e = fails("nodes:\n  - name: head\n   address: [\n");
    assertTrue(e.problems().get(0).path().contains("line"), e.getMessage());
  }

  @Test
  void failsOnMissingFieldsAllAtOnce() {
    SpecException e = fails("""
        nodes:
          - {name: head, role: head}
        """);
    List<String> paths = e.problems().stream().map(Problem::path).toList();
    assertTrue(paths.contains("nodes[0].address"), paths.toString());
    assertTrue(paths.contains("nodes[0].gpus"), paths.toString());
    assertTrue(paths.contains("model"), paths.toString());
  }

  @Test
  void failsWhenParallelismExceedsGpus() {
    SpecException e = fails(TestStacks.cluster(2, 1, "  tensor_parallel_size: 4\n"));
    Problem p = e.problems().get(0);
    assertEquals("vllm.tensor_parallel_size", p.path());
    assertTrue(p.message().contains("needs 4 GPUs but the nodes declare 3"), p.message());
    assertTrue(p.fix().contains("tensor_parallel_size: 3"), p.fix());
  }

  @Test
  void failsOnHeadCountAndDuplicates() {
    SpecException none = fails("""
        nodes:
          - {name: a, address: 10.1.0.1, gpus: 1}
        model: {huggingface_repo: a/b}
        """);
    assertTrue(none.getMessage().contains("no node has role: head"), none.getMessage());
    SpecException dup = fails("""
        nodes:
          - {name: a, role: head, address: 10.1.0.1, gpus: 1}
          - {name: a, role: head, address: 10.1.0.1, gpus: 1}
        model: {huggingface_repo: a/b}
        """);
    List<String> paths = dup.problems().stream().map(Problem::path).toList();
    assertTrue(paths.containsAll(List.of("nodes[1].name", "nodes[1].address", "nodes")), paths.toString());
  }

  @Test
  void failsOnAddressesOutsideTheClusterAndBadNetworks() {
    SpecException e = fails("""
        nodes:
          - {name: a, role: head, address: 10.9.0.1, gpus: 1}
          - {name: b, address: gpu02.lan, gpus: 1}
        network: {cluster_cidr: 10.1.0.0/24, api_allowed_networks: [10.0.0.0/33]}
        model: {huggingface_repo: a/b}
        """);
    List<String> paths = e.problems().stream().map(Problem::path).toList();
    assertTrue(paths.contains("nodes[1].address"), paths.toString());
    assertTrue(paths.contains("network.api_allowed_networks[0]"), paths.toString());
    // Cross-field checks run once the fields themselves are valid.
    SpecException outside = fails("""
        nodes:
          - {name: a, role: head, address: 10.9.0.1, gpus: 1}
        network: {cluster_cidr: 10.1.0.0/24}
        model: {huggingface_repo: a/b}
        """);
    assertEquals("nodes[0].address", outside.problems().get(0).path());
    assertTrue(outside.problems().get(0).message().contains("outside network.cluster_cidr"), outside.getMessage());
  }

  @Test
  void failsOnManagedOrSecretFlagsInExtraArgs() {
    SpecException e = fails(TestStacks.cluster(1, 1, "  extra_args: [--api-key, abc, --tensor-parallel-size=2, \"$(reboot)\"]\n"));
    List<String> rendered = e.problems().stream().map(Problem::render).toList();
    assertTrue(rendered.get(0).contains("vllm.extra_args[0]") && rendered.get(0).contains("never pass the API key"), rendered.toString());
    assertTrue(rendered.get(1).contains("vllm.extra_args[2]") && rendered.get(1).contains("set vllm.tensor_parallel_size"), rendered.toString());
    assertTrue(rendered.get(2).contains("vllm.extra_args[3]"), rendered.toString());
  }

  @Test
  void failsOnSecretNamesOpenTofuCannotRead() {
    SpecException e = fails(TestStacks.cluster(1, 1, "  api_key_env: MY_KEY\n"));
    assertEquals("vllm.api_key_env", e.problems().get(0).path());
    assertTrue(e.problems().get(0).fix().contains("TF_VAR_"), e.getMessage());
  }

  @Test
  void failsOnPortClashes() {
    SpecException e = fails(TestStacks.cluster(1, 1, "") + "ray: {dashboard_port: 9001, gcs_port: 12000}\n");
    List<String> paths = e.problems().stream().map(Problem::path).toList();
    assertTrue(paths.contains("vllm.port"), paths.toString());
    assertTrue(paths.contains("ray.gcs_port"), paths.toString());
  }

  @Test
  void failsOnStorageFieldsOfAnotherMode() {
    SpecException e = fails(TestStacks.cluster(1, 1, "") + "storage: {mode: local_copy, nfs_server: 10.0.0.5}\n");
    assertEquals("storage.nfs_server", e.problems().get(0).path());
    SpecException missing = fails(TestStacks.cluster(1, 1, "") + "storage: {mode: external_nfs}\n");
    assertEquals(List.of("storage.nfs_server", "storage.nfs_server_path"), missing.problems().stream().map(Problem::path).toList());
    SpecException badMode = fails(TestStacks.cluster(1, 1, "") + "storage: {mode: nfs}\n");
    assertTrue(badMode.problems().get(0).fix().contains("head_nfs, external_nfs, local_copy"), badMode.getMessage());
  }

  @Test
  void failsOnMissingLocalModelDirectory() {
    SpecException e = fails("""
        nodes: [{name: h, role: head, address: 10.1.0.1, gpus: 1}]
        model: {local_directory: /nonexistent/model}
        """);
    assertEquals("model.local_directory", e.problems().get(0).path());
  }

  @Test
  void warnsAboutExposedDashboardAndOpenApi() {
    StackLoader.Loaded loaded = TestStacks.load(dir, "open", TestStacks.cluster(1, 1, "  require_api_key: false\n")
        .replace("[10.0.1.0/24]", "[0.0.0.0/0]") + "ray: {dashboard_host: 0.0.0.0}\n");
    String all = String.join("\n", loaded.warnings());
    assertTrue(all.contains("CVE-2023-48022"), all);
    assertTrue(all.contains("opens the vLLM API to every address"), all);
    assertTrue(all.contains("without a key"), all);
    assertNull(loaded.spec().vllm().apiKey());
  }

  @Test
  void turnsRayTokenAuthOnWhereThePinnedRaySupportsIt() {
    ClusterSpec current = TestStacks.load(dir, "cur", TestStacks.cluster(1, 1, "")).spec();
    assertEquals("TF_VAR_ray_auth_token", current.ray().authToken().environmentVariable());
    StackLoader.Loaded old = TestStacks.load(dir, "old", TestStacks.cluster(1, 1, "") + "software: {ray_version: 2.47.1}\n");
    assertNull(old.spec().ray().authToken());
    assertTrue(old.warnings().stream().anyMatch(w -> w.contains("no token authentication")), old.warnings().toString());
    SpecException asked = fails(TestStacks.cluster(1, 1, "") + "software: {ray_version: 2.47.1}\nray: {require_auth_token: true}\n");
    assertEquals("ray.require_auth_token", asked.problems().get(0).path());
    assertTrue(asked.problems().get(0).fix().contains("2.52.0 or later"), asked.getMessage());
    StackLoader.Loaded off = TestStacks.load(dir, "off", TestStacks.cluster(1, 1, "") + "ray: {require_auth_token: false}\n");
    assertNull(off.spec().ray().authToken());
    assertTrue(off.warnings().stream().anyMatch(w -> w.contains("without a token")), off.warnings().toString());
    assertTrue(ClusterSpec.atLeast("2.52.0", ClusterSpec.RAY_TOKEN_AUTH_SINCE));
    assertTrue(ClusterSpec.atLeast("3.0", ClusterSpec.RAY_TOKEN_AUTH_SINCE));
    assertFalse(ClusterSpec.atLeast("2.9.3", ClusterSpec.RAY_TOKEN_AUTH_SINCE));
  }

  @Test
  void failsOnUnusableFileName() {
    SpecException e = fails("Bad_Name", TestStacks.cluster(1, 1, ""));
    assertEquals("(file name)", e.problems().get(0).path());
  }

  @Test
  void secretRefNeverPrintsAValue() {
    SecretRef ref = new SecretRef("TF_VAR_vllm_api_key");
    assertEquals("vllm_api_key", ref.variableName());
    assertEquals("secret from $TF_VAR_vllm_api_key", ref.toString());
    assertThrows(IllegalArgumentException.class, () -> new SecretRef("VLLM_API_KEY"));
  }

  @Test
  void checkRejectsAJavaBuiltSpecWithTooMuchParallelism() {
    ClusterSpec ok = TestStacks.load(dir, "java", TestStacks.cluster(1, 1, "")).spec();
    ClusterSpec tooMuch = ok.toBuilder().vllm(ok.vllm().toBuilder().tensorParallelSize(8).pipelineParallelSize(1).build()).build();
    SpecException e = assertThrows(SpecException.class, () -> SpecValidator.check(tooMuch));
    assertFalse(e.problems().isEmpty());
  }

  @Test
  void aDeclaredFastInterconnectAllowsTensorParallelAcrossNodes() {
    String tpAcross = TestStacks.cluster(1, 1, "  tensor_parallel_size: 2\n");
    StackLoader.Loaded undeclared = TestStacks.load(dir, "plain", tpAcross);
    assertNull(undeclared.spec().network().interconnect());
    assertTrue(undeclared.warnings().stream().anyMatch(w -> w.contains("spans nodes") && w.contains("network.interconnect")),
        undeclared.warnings().toString());
    StackLoader.Loaded ib = TestStacks.load(dir, "ib", tpAcross.replace("network:\n", "network:\n  interconnect: infiniband\n"));
    assertEquals(ClusterSpec.Interconnect.INFINIBAND, ib.spec().network().interconnect());
    assertFalse(ib.warnings().stream().anyMatch(w -> w.contains("spans nodes")), ib.warnings().toString());
    StackLoader.Loaded eth = TestStacks.load(dir, "eth", tpAcross.replace("network:\n", "network:\n  interconnect: ethernet\n"));
    assertTrue(eth.warnings().stream().anyMatch(w -> w.contains("spans nodes")), eth.warnings().toString());
  }

  @Test
  void failsOnAnUnknownInterconnect() {
    SpecException e = fails(TestStacks.cluster(1, 1, "").replace("network:\n", "network:\n  interconnect: token-ring\n"));
    assertEquals("network.interconnect", e.problems().get(0).path());
    assertTrue(e.problems().get(0).fix().contains("infiniband"), e.getMessage());
  }

  @Test
  void stateDefaultsToCdktfsLocalFileAndTakesAPathOrAnS3Bucket() {
    assertEquals(ClusterSpec.StateSpec.DEFAULT, TestStacks.load(dir, "none", TestStacks.cluster(1, 1, "")).spec().state());
    ClusterSpec local = TestStacks.load(dir, "local", TestStacks.cluster(1, 1, "")
        + "state: {backend: local, path: state/local.tfstate}\n").spec();
    assertEquals(ClusterSpec.StateSpec.local(TestStacks.ROOT.resolve("state/local.tfstate").toString()), local.state());
    ClusterSpec s3 = TestStacks.load(dir, "shared", TestStacks.cluster(1, 1, "")
        + "state: {backend: s3, bucket: vrc-state, region: us-east-1, endpoint: 'https://minio.example.org:9000'}\n").spec();
    assertEquals(ClusterSpec.StateSpec.s3("vrc-state", "vllm-ray-cluster/shared.tfstate", "us-east-1", "https://minio.example.org:9000"),
        s3.state());
  }

  @Test
  void failsOnStateFieldsOfAnotherBackendOrMissingBucket() {
    SpecException e = fails(TestStacks.cluster(1, 1, "") + "state: {backend: s3, path: x.tfstate}\n");
    List<String> paths = e.problems().stream().map(Problem::path).toList();
    assertEquals(List.of("state.path", "state.bucket", "state.region"), paths, e.getMessage());
    SpecException other = fails(TestStacks.cluster(1, 1, "") + "state: {backend: consul}\n");
    assertEquals("state.backend", other.problems().get(0).path());
    SpecException secretKey = fails(TestStacks.cluster(1, 1, "") + "state: {backend: s3, bucket: b1b, region: r, secret_key: x}\n");
    assertTrue(secretKey.getMessage().contains("unknown key 'secret_key'"), secretKey.getMessage());
  }

  private SpecException fails(String yaml) {
    return fails("broken", yaml);
  }

  private SpecException fails(String name, String yaml) {
    return assertThrows(SpecException.class, () -> TestStacks.load(dir, name, yaml));
  }
}
