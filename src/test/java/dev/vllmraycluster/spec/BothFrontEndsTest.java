package dev.vllmraycluster.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every bad value is refused with the same problem (path, message, fix) whether the spec comes
 * from a stack file or is built in Java: both go through one validator. Each case is the YAML a
 * user would write and the Java a library user would write for the same mistake, and the
 * problem must name the field, show the value, and say how to fix it.
 */
class BothFrontEndsTest {
  @TempDir Path dir;

  /** The base: one head and one worker with one GPU each (TestStacks.cluster(1, 1, "")). */
  private static final String BASE = TestStacks.cluster(1, 1, "");

  static Stream<Arguments> badValues() {
    List<Arguments> cases = new ArrayList<>();
    // (name, YAML appended to / replacing in the base, the same change in Java, expected path, value shown)
    cases.add(of("gpus out of range", y -> y.replace("address: 10.0.0.11, gpus: 1", "address: 10.0.0.11, gpus: 17"),
        s -> node(s, 1, n -> n.gpus(17)), "nodes[1].gpus", "17"));
    cases.add(of("node name", y -> y.replace("name: worker1", "name: Worker_1"),
        s -> node(s, 1, n -> n.name("Worker_1")), "nodes[1].name", "Worker_1"));
    cases.add(address("address is a name", "gpu02.lan"));
    cases.add(address("loopback address", "127.0.0.5"));
    cases.add(address("any address", "0.0.0.0"));
    cases.add(address("broadcast address", "255.255.255.255"));
    cases.add(address("broadcast of the cluster network", "10.0.0.255"));
    cases.add(of("same SSH endpoint", y -> y.replace("address: 10.0.0.11,", "address: 10.0.0.11, ssh_host: 10.0.0.10,"),
        s -> node(s, 1, n -> n.sshHost("10.0.0.10")), "nodes[1].ssh_host", "10.0.0.10:22"));
    cases.add(of("bad network", y -> y.replace("[10.0.1.0/24]", "[10.0.0.0/33]"),
        s -> s.toBuilder().network(s.network().toBuilder().apiAllowedNetworks(List.of("10.0.0.0/33")).build()).build(),
        "network.api_allowed_networks[0]", "10.0.0.0/33"));
    cases.add(of("shell in the SSH user", y -> y + "ssh: {user: 'ops; touch /tmp/pwned #'}\n",
        s -> s.toBuilder().ssh(ClusterSpec.SshDefaults.builder().user("ops; touch /tmp/pwned #").build()).build(),
        "ssh.user", "ops; touch /tmp/pwned #"));
    cases.add(of("shell in a node's SSH user", y -> y.replace("name: worker1,", "name: worker1, ssh_user: 'a$(id)',"),
        s -> node(s, 1, n -> n.sshUser("a$(id)")), "nodes[1].ssh_user", "a$(id)"));
    cases.add(extraArgs("API key as an argument", "[--api-key, abc]", "--api-key", "--api-key", "abc"));
    cases.add(extraArgs("API key with an underscore", "[--api_key=abc]", "--api_key=", "--api_key=abc"));
    cases.add(extraArgs("API key abbreviated", "[--api-k, abc]", "--api-k", "--api-k", "abc"));
    cases.add(extraArgs("TP through extra_args", "[--tensor_parallel_size=16]", "--tensor_parallel_size=", "--tensor_parallel_size=16"));
    cases.add(extraArgs("TP short flag", "[-tp, '4']", "-tp", "-tp", "4"));
    cases.add(extraArgs("a config file", "[--config=/tmp/x.yaml]", "--config=", "--config=/tmp/x.yaml"));
    cases.add(extraArgs("shell in extra_args", "[\"$(reboot)\"]", "$(reboot)", "$(reboot)"));
    cases.add(of("secret name", y -> y + "  api_key_env: MY_KEY\n",
        s -> vllm(s, v -> v.apiKeyEnv("MY_KEY")), "vllm.api_key_env", "MY_KEY"));
    cases.add(of("Ray token is the API key", y -> y + "ray: {auth_token_env: TF_VAR_vllm_api_key}\n",
        s -> s.toBuilder().ray(s.ray().toBuilder().authTokenEnv("TF_VAR_vllm_api_key").build()).build(),
        "ray.auth_token_env", "TF_VAR_vllm_api_key"));
    cases.add(of("TLS without the proxy", y -> y + "  proxy: false\n",
        s -> vllm(s, v -> v.proxy(false)), "vllm.tls", "true"));
    cases.add(of("a certificate without its key", y -> y + "  tls_cert_path: /etc/hosts\n",
        s -> vllm(s, v -> v.tlsCertPath("/etc/hosts")), "vllm.tls_key_path", "missing"));
    cases.add(of("a key without its certificate", y -> y + "  tls_key_path: /etc/hosts\n",
        s -> vllm(s, v -> v.tlsKeyPath("/etc/hosts")), "vllm.tls_cert_path", "missing"));
    cases.add(of("a certificate that is not there", y -> y + "  tls_cert_path: /nonexistent/server.crt\n  tls_key_path: /nonexistent/server.key\n",
        s -> vllm(s, v -> v.tlsCertPath("/nonexistent/server.crt").tlsKeyPath("/nonexistent/server.key")),
        "vllm.tls_cert_path", "/nonexistent/server.crt"));
    cases.add(of("a certificate with TLS off", y -> y + "  tls: false\n  tls_cert_path: /etc/hosts\n  tls_key_path: /etc/hosts\n",
        s -> vllm(s, v -> v.tls(false).tlsCertPath("/etc/hosts").tlsKeyPath("/etc/hosts")), "vllm.tls_cert_path", "only applies"));
    cases.add(of("a server name with shell", y -> y + "  tls_server_names: ['a;b']\n",
        s -> vllm(s, v -> v.tlsServerNames(List.of("a;b"))), "vllm.tls_server_names[0]", "a;b"));
    cases.add(of("server names for a certificate of one's own", y -> y + "  tls_cert_path: /etc/hosts\n  tls_key_path: /etc/hosts\n  tls_server_names: [llm.example.org]\n",
        s -> vllm(s, v -> v.tlsCertPath("/etc/hosts").tlsKeyPath("/etc/hosts").tlsServerNames(List.of("llm.example.org"))),
        "vllm.tls_server_names[0]", "only applies"));
    cases.add(of("the backend on the API port", y -> y + "  backend_port: 9001\n",
        s -> vllm(s, v -> v.backendPort(9001)), "vllm.backend_port", "9001"));
    cases.add(of("the backend on Ray's GCS port", y -> y + "  backend_port: 6379\n",
        s -> vllm(s, v -> v.backendPort(6379)), "vllm.backend_port", "6379"));
    cases.add(of("too much parallelism", y -> y + "  tensor_parallel_size: 4\n",
        s -> vllm(s, v -> v.tensorParallelSize(4).pipelineParallelSize(1)), "vllm.tensor_parallel_size", "4"));
    cases.add(of("more replicas than GPUs", y -> y + "  data_parallel_size: 3\n  tensor_parallel_size: 1\n",
        s -> vllm(s, v -> v.dataParallelSize(3).tensorParallelSize(1).pipelineParallelSize(1)), "vllm.data_parallel_size", "data_parallel_size 3"));
    cases.add(of("replicas of two pipeline stages beyond the GPUs", y -> y + "  data_parallel_size: 2\n  tensor_parallel_size: 1\n  pipeline_parallel_size: 2\n",
        s -> vllm(s, v -> v.dataParallelSize(2).tensorParallelSize(1).pipelineParallelSize(2)), "vllm.data_parallel_size", "needs 4 GPUs"));
    cases.add(extraArgs("DP through extra_args", "[--data-parallel-size, '2']", "--data-parallel-size", "--data-parallel-size", "2"));
    cases.add(extraArgs("DP backend through extra_args", "[--data_parallel_backend=mp]", "--data_parallel_backend=", "--data_parallel_backend=mp"));
    cases.add(extraArgs("DP short flag", "[-dpl, '1']", "-dpl", "-dpl", "1"));
    cases.add(of("bad dtype", y -> y + "  dtype: fp7\n", s -> vllm(s, v -> v.dtype("fp7")), "vllm.dtype", "fp7"));
    cases.add(of("port clash", y -> y + "ray: {dashboard_port: 9001}\n",
        s -> s.toBuilder().ray(s.ray().toBuilder().dashboardPort(9001).build()).build(), "vllm.port", "9001"));
    for (String dir : List.of("/etc", "/./etc", "/var", "/", "/home", "/usr/", "/etc/vllm-ray-cluster", "/opt")) {
      cases.add(of("mount_path " + dir, y -> y + "storage: {mount_path: '" + dir + "'}\n",
          s -> s.toBuilder().storage(s.storage().toBuilder().mountPath(dir).build()).build(), "storage.mount_path",
          dir.equals("/usr/") ? "/usr" : dir));
    }
    cases.add(of("temp_dir /", y -> y + "ray: {temp_dir: /}\n",
        s -> s.toBuilder().ray(s.ray().toBuilder().tempDir("/").build()).build(), "ray.temp_dir", "/"));
    cases.add(of("temp_dir /tmp/../etc", y -> y + "ray: {temp_dir: /tmp/../etc}\n",
        s -> s.toBuilder().ray(s.ray().toBuilder().tempDir("/tmp/../etc").build()).build(), "ray.temp_dir", "/etc"));
    cases.add(of("venv_path /usr", y -> y + "software: {venv_path: /usr}\n",
        s -> software(s, b -> b.venvPath("/usr")), "software.venv_path", "/usr"));
    cases.add(of("pip_find_links /", y -> y + "software: {pip_find_links: /}\n",
        s -> software(s, b -> b.pipFindLinks("/")), "software.pip_find_links", "/"));
    cases.add(of("credentials in a mirror URL", y -> y + "software: {pip_index_url: 'http://user:pass@mirror.lan/simple'}\n",
        s -> software(s, b -> b.pipIndexUrl("http://user:pass@mirror.lan/simple")), "software.pip_index_url", "mirror.lan"));
    cases.add(of("credentials in find_links", y -> y + "software: {pip_find_links: 'https://u:p@wheels.lan/'}\n",
        s -> software(s, b -> b.pipFindLinks("https://u:p@wheels.lan/")), "software.pip_find_links", "wheels.lan"));
    cases.add(of("credentials in hf_endpoint", y -> y.replace("huggingface_repo: deepseek-ai/deepseek-llm-7b-chat",
            "huggingface_repo: deepseek-ai/deepseek-llm-7b-chat\n  hf_endpoint: 'https://tok@hf.lan'"),
        s -> s.toBuilder().model(s.model().toBuilder().hfEndpoint("https://tok@hf.lan").build()).build(), "model.hf_endpoint", "hf.lan"));
    cases.add(of("SSH on the GCS port", y -> y + "ssh: {port: 6379}\n",
        s -> node(node(s.toBuilder().ssh(ClusterSpec.SshDefaults.builder().port(6379).build()).build(), 0, n -> n.sshPort(null)),
            1, n -> n.sshPort(null)), "ssh.port", "6379"));
    cases.add(of("SSH in the worker range", y -> y.replace("name: worker1,", "name: worker1, ssh_port: 15000,"),
        s -> node(s, 1, n -> n.sshPort(15000)), "nodes[1].ssh_port", "15000"));
    cases.add(of("SSH on NFS of the head", y -> y.replace("role: head,", "role: head, ssh_port: 2049,"),
        s -> node(s, 0, n -> n.sshPort(2049)), "nodes[0].ssh_port", "2049"));
    cases.add(of("nfs_server in local_copy", y -> y + "storage: {mode: local_copy, nfs_server: 10.0.0.5}\n",
        s -> s.toBuilder().storage(s.storage().toBuilder().mode(ClusterSpec.StorageMode.LOCAL_COPY).nfsServer("10.0.0.5").build()).build(),
        "storage.nfs_server", "mode: external_nfs"));
    cases.add(of("pip credentials without a mirror", y -> y + "software: {pip_credentials_env: TF_VAR_pip}\n",
        s -> software(s, b -> b.pipCredentialsEnv("TF_VAR_pip")), "software.pip_credentials_env", "mirror"));
    cases.add(of("requirements lock missing", y -> y + "software: {requirements_lock: /nonexistent/req.txt}\n",
        s -> software(s, b -> b.requirementsLock("/nonexistent/req.txt")), "software.requirements_lock", "/nonexistent/req.txt"));
    // The other refusals of StackLoaderTest (those a Java spec can express at all).
    cases.add(of("missing address and gpus", y -> y.replace("address: 10.0.0.11, gpus: 1", "gpus: null"),
        s -> node(s, 1, n -> n.address(null).gpus(null)), "nodes[1].address", "missing"));
    cases.add(of("no head", y -> y.replace("role: head, ", ""),
        s -> node(s, 0, n -> n.role(ClusterSpec.Role.WORKER)), "nodes", "role: head"));
    cases.add(of("two nodes, one name", y -> y.replace("name: worker1", "name: head"),
        s -> node(s, 1, n -> n.name("head")), "nodes[1].name", "head"));
    cases.add(address("outside the cluster network", "10.9.0.11"));
    cases.add(of("external NFS without a server", y -> y + "storage: {mode: external_nfs}\n",
        s -> s.toBuilder().storage(s.storage().toBuilder().mode(ClusterSpec.StorageMode.EXTERNAL_NFS).build()).build(),
        "storage.nfs_server", "missing"));
    cases.add(of("no local model directory", y -> y.replace("huggingface_repo: deepseek-ai/deepseek-llm-7b-chat", "local_directory: /nonexistent/model"),
        s -> s.toBuilder().model(ClusterSpec.ModelSpec.localDirectory(Path.of("/nonexistent/model")).build()).build(),
        "model.local_directory", "/nonexistent/model"));
    cases.add(of("s3 state with a path", y -> y + "state: {backend: s3, path: /tmp/x.tfstate}\n",
        s -> s.toBuilder().state(ClusterSpec.StateSpec.builder().backend(ClusterSpec.StateBackend.S3).path("/tmp/x.tfstate").build()).build(),
        "state.path", "backend: local"));
    cases.add(of("a Ray token with an old Ray", y -> y + "software: {ray_version: 2.47.1}\nray: {require_auth_token: true}\n",
        s -> software(s, b -> b.rayVersion("2.47.1")).toBuilder().ray(s.ray().toBuilder().requireAuthToken(true).build()).build(),
        "ray.require_auth_token", "2.47.1"));
    // monitoring:
    cases.add(monitoringOn("Prometheus on an unknown node", "prometheus_node: gpu9",
        b -> b.prometheusNode("gpu9"), "monitoring.prometheus_node", "gpu9"));
    cases.add(monitoringOn("node exporter on the API port", "node_exporter_port: 9001",
        b -> b.nodeExporterPort(9001), "monitoring.node_exporter_port", "9001"));
    cases.add(monitoringOn("Prometheus in the worker range", "prometheus_port: 12000",
        b -> b.prometheusPort(12000), "monitoring.prometheus_port", "12000"));
    cases.add(of("SSH on the node exporter's port", y -> y + "ssh: {port: 9100}\nmonitoring: {enabled: true}\n",
        s -> monitoring(node(node(s.toBuilder().ssh(ClusterSpec.SshDefaults.builder().port(9100).build()).build(), 0, n -> n.sshPort(null)),
            1, n -> n.sshPort(null)), b -> b.enabled(true)), "ssh.port", "9100"));
    cases.add(monitoringOn("scrape interval too short", "scrape_interval_seconds: 1",
        b -> b.scrapeIntervalSeconds(1), "monitoring.scrape_interval_seconds", "1"));
    cases.add(monitoringOn("bad admin network", "allowed_networks: [10.0.9.0/99]",
        b -> b.allowedNetworks(List.of("10.0.9.0/99")), "monitoring.allowed_networks[0]", "10.0.9.0/99"));
    cases.add(monitoringOn("Grafana without a token", "grafana_url: 'https://grafana.lan'",
        b -> b.grafanaUrl("https://grafana.lan"), "monitoring.grafana_token_env", "grafana_url"));
    cases.add(monitoringOn("credentials in the Grafana URL", "grafana_url: 'https://admin:pass@grafana.lan', grafana_token_env: TF_VAR_grafana_token",
        b -> b.grafanaUrl("https://admin:pass@grafana.lan").grafanaTokenEnv("TF_VAR_grafana_token"), "monitoring.grafana_url", "grafana.lan"));
    cases.add(monitoringOn("Grafana token is the API key", "grafana_url: 'https://grafana.lan', grafana_token_env: TF_VAR_vllm_api_key",
        b -> b.grafanaUrl("https://grafana.lan").grafanaTokenEnv("TF_VAR_vllm_api_key"), "monitoring.grafana_token_env", "TF_VAR_vllm_api_key"));
    return cases.stream();
  }

  /** worker1's address, refused at nodes[1].address, which shows it. */
  private static Arguments address(String name, String address) {
    return of(name, y -> y.replace("address: 10.0.0.11", "address: " + address),
        s -> node(s, 1, n -> n.address(address)), "nodes[1].address", address);
  }

  /** vllm.extra_args, {@code yamlList} in the stack file and {@code args} in Java, refused at its first entry. */
  private static Arguments extraArgs(String name, String yamlList, String shown, String... args) {
    return of(name, y -> y + "  extra_args: " + yamlList + "\n",
        s -> vllm(s, v -> v.extraArgs(List.of(args))), "vllm.extra_args[0]", shown);
  }

  /** Monitoring turned on with {@code fields} in the stack file and {@code change} in Java. */
  private static Arguments monitoringOn(String name, String fields, UnaryOperator<ClusterSpec.MonitoringSpec.Builder> change,
      String path, String shown) {
    return of(name, y -> y + "monitoring: {enabled: true, " + fields + "}\n",
        s -> monitoring(s, b -> change.apply(b.enabled(true))), path, shown);
  }

  private static ClusterSpec monitoring(ClusterSpec s, UnaryOperator<ClusterSpec.MonitoringSpec.Builder> change) {
    return s.toBuilder().monitoring(change.apply(s.monitoring().toBuilder()).build()).build();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badValues")
  void refusesTheSameWayFromYamlAndFromJava(
      String name, UnaryOperator<String> yaml, UnaryOperator<ClusterSpec> java, String path, String shown) {
    ClusterSpec base = TestStacks.load(dir, "base", BASE).spec();
    SpecException fromYaml = assertThrows(SpecException.class, () -> TestStacks.load(dir, "bad", yaml.apply(BASE)), name);
    SpecException fromJava = assertThrows(SpecException.class, () -> SpecValidator.check(java.apply(base.withName("bad"))), name);
    List<String> yamlProblems = fromYaml.problems().stream().map(Problem::render).toList();
    assertEquals(yamlProblems, fromJava.problems().stream().map(Problem::render).toList(), name);
    Problem p = fromYaml.problems().stream().filter(x -> x.path().equals(path)).findFirst().orElse(null);
    assertNotNull(p, name + ": no problem at " + path + " in " + yamlProblems);
    assertTrue(p.message().contains(shown) || p.fix().contains(shown), name + ": the value is not shown: " + p.render());
    assertNotNull(p.fix(), name + ": no fix: " + p.render());
    assertFalse(p.fix().isBlank(), name);
    assertFalse(p.render().contains("pass@") || p.render().contains("u:p@") || p.render().contains("tok@"),
        "credentials are not repeated in the message: " + p.render());
  }

  private static Arguments of(String name, UnaryOperator<String> yaml, UnaryOperator<ClusterSpec> java, String path, String shown) {
    return Arguments.of(name, yaml, java, path, shown);
  }

  private static ClusterSpec node(ClusterSpec s, int index, UnaryOperator<NodeSpec.Builder> change) {
    List<NodeSpec> nodes = new ArrayList<>(s.nodes());
    nodes.set(index, change.apply(nodes.get(index).toBuilder()).build());
    return s.toBuilder().nodes(nodes).build();
  }

  private static ClusterSpec vllm(ClusterSpec s, UnaryOperator<ClusterSpec.VllmSpec.Builder> change) {
    return s.toBuilder().vllm(change.apply(s.vllm().toBuilder()).build()).build();
  }

  private static ClusterSpec software(ClusterSpec s, UnaryOperator<ClusterSpec.SoftwareSpec.Builder> change) {
    return s.toBuilder().software(change.apply(s.software().toBuilder()).build()).build();
  }
}
