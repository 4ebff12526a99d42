package dev.vllmraycluster.spec;

import dev.vllmraycluster.spec.ClusterSpec.FirewallBackend;
import dev.vllmraycluster.spec.ClusterSpec.HuggingFace;
import dev.vllmraycluster.spec.ClusterSpec.Interconnect;
import dev.vllmraycluster.spec.ClusterSpec.LocalDirectory;
import dev.vllmraycluster.spec.ClusterSpec.LocalState;
import dev.vllmraycluster.spec.ClusterSpec.ModelSource;
import dev.vllmraycluster.spec.ClusterSpec.ModelSpec;
import dev.vllmraycluster.spec.ClusterSpec.NetworkSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.OsFamily;
import dev.vllmraycluster.spec.ClusterSpec.RaySpec;
import dev.vllmraycluster.spec.ClusterSpec.Role;
import dev.vllmraycluster.spec.ClusterSpec.S3State;
import dev.vllmraycluster.spec.ClusterSpec.SoftwareSpec;
import dev.vllmraycluster.spec.ClusterSpec.SshSpec;
import dev.vllmraycluster.spec.ClusterSpec.StateSpec;
import dev.vllmraycluster.spec.ClusterSpec.StorageMode;
import dev.vllmraycluster.spec.ClusterSpec.StorageSpec;
import dev.vllmraycluster.spec.ClusterSpec.TestingSpec;
import dev.vllmraycluster.spec.ClusterSpec.VllmSpec;
import dev.vllmraycluster.spec.StackFile.ModelEntry;
import dev.vllmraycluster.spec.StackFile.NetworkEntry;
import dev.vllmraycluster.spec.StackFile.NodeEntry;
import dev.vllmraycluster.spec.StackFile.RayEntry;
import dev.vllmraycluster.spec.StackFile.SoftwareEntry;
import dev.vllmraycluster.spec.StackFile.SshEntry;
import dev.vllmraycluster.spec.StackFile.StateEntry;
import dev.vllmraycluster.spec.StackFile.StorageEntry;
import dev.vllmraycluster.spec.StackFile.TestingEntry;
import dev.vllmraycluster.spec.StackFile.VllmEntry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Every rule about a stack, in one place: defaults, formats and cross-field checks. Collects all
 * problems before failing, so a user fixes a stack in one pass.
 */
public final class SpecValidator {
  public static final String DEFAULT_RAY_VERSION = "2.60.0";
  public static final String DEFAULT_VLLM_VERSION = "0.9.2";
  public static final String DEFAULT_API_KEY_ENV = "TF_VAR_vllm_api_key";
  public static final String DEFAULT_RAY_TOKEN_ENV = "TF_VAR_ray_auth_token";
  /** The first Ray release with token authentication (RAY_AUTH_MODE=token). */
  static final int[] RAY_TOKEN_AUTH_SINCE = {2, 52};

  private static final Pattern NODE_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,30}");
  private static final Pattern IPV4 =
      Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
  private static final Pattern HOSTNAME =
      Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*");
  private static final Pattern USER = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
  private static final Pattern HOST_KEY =
      Pattern.compile("(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}");
  private static final Pattern ABS_PATH = Pattern.compile("/[A-Za-z0-9._/+@-]*");
  private static final Pattern URL = Pattern.compile("https?://[A-Za-z0-9._~:/?#\\[\\]@!&()*+,;=%-]+");
  private static final Pattern VERSION = Pattern.compile("[0-9]+(\\.[0-9]+)*([A-Za-z0-9.+!-]*)");
  private static final Pattern PYTHON = Pattern.compile("python3(\\.[0-9]{1,2})?");
  private static final Pattern HF_REPO = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*");
  private static final Pattern REVISION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,99}");
  private static final Pattern SERVED_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}");
  private static final Pattern DIR_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,14}");
  private static final Pattern MOUNT_OPTIONS = Pattern.compile("[A-Za-z0-9_=.,-]+");
  private static final Pattern SAFE_ARG = Pattern.compile("[A-Za-z0-9._:/=,+@%{}\\[\\]\" -]*");
  private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
  private static final Pattern STATE_KEY = Pattern.compile("[A-Za-z0-9._-][A-Za-z0-9._/-]{0,1023}");
  private static final Pattern REGION = Pattern.compile("[a-z0-9][a-z0-9-]{0,49}");
  private static final Set<String> DTYPES =
      Set.of("auto", "half", "float16", "bfloat16", "float", "float32");

  /** vLLM flags this tool renders from typed fields; extra_args may not repeat them. */
  private static final Map<String, String> MANAGED_VLLM_FLAGS = managedFlags();

  private final Path projectRoot;
  private final List<Problem> problems = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();

  public SpecValidator(Path projectRoot) {
    this.projectRoot = projectRoot.toAbsolutePath().normalize();
  }

  /**
   * Checks a cluster built in Java (the rules a stack file also goes through after parsing).
   *
   * @throws SpecException listing every problem
   * @return the warnings (allowed risks)
   */
  public static List<String> check(ClusterSpec spec) {
    SpecValidator v = new SpecValidator(Path.of("."));
    v.crossChecks(spec);
    v.failIfProblems("cluster " + spec.name());
    return List.copyOf(v.warnings);
  }

  StackLoader.Loaded resolve(String source, String name, StackFile raw) {
    List<NodeSpec> nodes = nodes(raw.nodes(), raw.ssh());
    NetworkSpec network = network(raw.network());
    SoftwareSpec software = software(raw.software());
    ModelSpec model = model(raw.model());
    StorageSpec storage = storage(raw.storage());
    RaySpec ray = ray(raw.ray(), software.rayVersion());
    VllmSpec vllm = vllm(raw.vllm(), nodes);
    StateSpec state = state(raw.state(), name);
    TestingSpec testing = testing(raw.testing());
    failIfProblems(source);
    ClusterSpec spec = new ClusterSpec(name, nodes, network, software, model, storage, ray, vllm, state, testing);
    crossChecks(spec);
    failIfProblems(source);
    return new StackLoader.Loaded(spec, List.copyOf(warnings));
  }

  private void failIfProblems(String source) {
    if (!problems.isEmpty()) {
      throw new SpecException(source, problems);
    }
  }

  private void problem(String path, String message, String fix) {
    problems.add(new Problem(path, message, fix));
  }

  // ---------------------------------------------------------------- nodes

  private List<NodeSpec> nodes(List<NodeEntry> entries, SshEntry sshDefaults) {
    if (entries == null || entries.isEmpty()) {
      problem(
          "nodes",
          "missing: a cluster needs at least one node",
          "add nodes: with one entry per GPU server, e.g. - {name: head, role: head, address:"
              + " 10.0.0.1, gpus: 1}");
      return List.of();
    }
    SshEntry defaults = sshDefaults == null ? new SshEntry(null, null, null) : sshDefaults;
    String defaultUser = text(defaults.user(), "root");
    if (!USER.matcher(defaultUser).matches()) {
      problem("ssh.user", "'" + defaultUser + "' is not a user name", "use e.g. root or ubuntu");
    }
    int defaultPort = port("ssh.port", defaults.port(), 22);
    String defaultKey = keyPath("ssh.private_key_path", defaults.privateKeyPath());

    List<NodeSpec> nodes = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      NodeEntry e = entries.get(i);
      String at = "nodes[" + i + "]";
      if (e == null) {
        problem(at, "empty node entry", "give the node a name, address and gpus");
        continue;
      }
      String name = required(at + ".name", e.name(), "e.g. name: worker1");
      if (name != null && !NODE_NAME.matcher(name).matches()) {
        problem(
            at + ".name",
            "'" + name + "' is not a usable node name (it becomes part of resource names)",
            "use lowercase letters, digits, '_' or '-', starting with a letter, at most 31"
                + " characters, e.g. worker1");
      }
      Role role = Role.WORKER;
      if (e.role() != null) {
        role = enumValue(at + ".role", e.role(), Role.class, Role.WORKER);
      }
      String address = required(at + ".address", e.address(), "the node's IPv4 address on the cluster network, e.g. 10.0.0.11");
      if (address != null && !IPV4.matcher(address).matches()) {
        problem(
            at + ".address",
            "'" + address + "' is not an IPv4 address (Ray, the firewall and NCCL need the"
                + " node's own address, not a name)",
            "write the node's address on the cluster network, e.g. 192.168.2.221; put a DNS name"
                + " for SSH in ssh_host");
      }
      String sshHost = text(e.sshHost(), address);
      if (e.sshHost() != null && !HOSTNAME.matcher(e.sshHost()).matches() && !IPV4.matcher(e.sshHost()).matches()) {
        problem(at + ".ssh_host", "'" + e.sshHost() + "' is not a host name or IPv4 address", "e.g. gpu01.example.org");
      }
      String user = text(e.sshUser(), defaultUser);
      if (e.sshUser() != null && !USER.matcher(user).matches()) {
        problem(at + ".ssh_user", "'" + user + "' is not a user name", "use e.g. root or ubuntu");
      }
      int sshPort = e.sshPort() == null ? defaultPort : port(at + ".ssh_port", e.sshPort(), 22);
      String key = e.sshPrivateKeyPath() == null ? defaultKey : keyPath(at + ".ssh_private_key_path", e.sshPrivateKeyPath());
      String hostKey = e.sshHostKey() == null ? null : e.sshHostKey().trim();
      if (hostKey != null) {
        String[] parts = hostKey.split("\\s+");
        String keyOnly = parts.length >= 2 ? parts[0] + " " + parts[1] : hostKey;
        if (!HOST_KEY.matcher(keyOnly).matches()) {
          problem(
              at + ".ssh_host_key",
              "not an SSH public host key",
              "copy the host's key, e.g. the output of: ssh-keyscan -t ed25519 " + (address == null ? "<host>" : address) + " (without the host name)");
        }
        hostKey = keyOnly;
      }
      Integer gpus = e.gpus();
      if (gpus == null) {
        problem(at + ".gpus", "missing", "the number of GPUs on this node, e.g. gpus: 1 (0 for a CPU-only node)");
        gpus = 0;
      } else if (gpus < 0 || gpus > 16) {
        problem(at + ".gpus", "is " + gpus + ", expected 0 to 16", "the number of GPUs on this node");
      }
      String nic = e.networkInterface();
      if (nic != null && !INTERFACE.matcher(nic).matches()) {
        problem(at + ".network_interface", "'" + nic + "' is not an interface name", "e.g. eth0 or ens1f0");
      }
      nodes.add(new NodeSpec(name, role, address, new SshSpec(sshHost, user, sshPort, key, hostKey), gpus, nic));
    }
    unique(nodes, NodeSpec::name, "name", "give every node its own name");
    unique(nodes, NodeSpec::address, "address", "every node needs its own address");
    long heads = nodes.stream().filter(n -> n.role() == Role.HEAD).count();
    if (heads == 0) {
      problem("nodes", "no node has role: head", "mark exactly one node with role: head (it runs the Ray head and vLLM's API server)");
    } else if (heads > 1) {
      problem("nodes", heads + " nodes have role: head", "keep role: head on one node; the others are workers (the default)");
    }
    return nodes;
  }

  private void unique(List<NodeSpec> nodes, Function<NodeSpec, String> field, String key, String fix) {
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      String value = field.apply(nodes.get(i));
      if (value == null) {
        continue;
      }
      Integer first = seen.putIfAbsent(value, i);
      if (first != null) {
        problem("nodes[" + i + "]." + key, "'" + value + "' is also nodes[" + first + "]." + key, fix);
      }
    }
  }

  private String keyPath(String path, String value) {
    if (value == null) {
      return null;
    }
    String expanded = value.startsWith("~/") ? System.getProperty("user.home") + value.substring(1) : value;
    Path p = Path.of(expanded);
    if (!p.isAbsolute()) {
      p = projectRoot.resolve(p).normalize();
    }
    String abs = p.toString();
    if (!ABS_PATH.matcher(abs).matches()) {
      problem(path, "'" + value + "' has characters this tool does not pass to a shell", "use a path of letters, digits, '.', '_', '-', '/'");
    } else if (!Files.isReadable(p)) {
      warnings.add(path + ": " + abs + " is not readable on this machine; deploy will fail until it is (plan works without it)");
    }
    return abs;
  }

  // ---------------------------------------------------------------- network

  private NetworkSpec network(NetworkEntry e) {
    NetworkEntry n = e == null ? new NetworkEntry(null, null, null, null, null) : e;
    String cidr = n.clusterCidr() == null ? null : cidr("network.cluster_cidr", n.clusterCidr());
    List<String> api = cidrs("network.api_allowed_networks", n.apiAllowedNetworks());
    List<String> dashboard = cidrs("network.dashboard_allowed_networks", n.dashboardAllowedNetworks());
    FirewallBackend backend = n.firewallBackend() == null ? FirewallBackend.AUTO
        : enumValue("network.firewall_backend", n.firewallBackend(), FirewallBackend.class, FirewallBackend.AUTO,
            "use one of " + choices(FirewallBackend.class) + "; auto (the default) picks firewalld if it runs, else ufw if"
                + " active, else nftables, per node");
    Interconnect interconnect = n.interconnect() == null ? null
        : enumValue("network.interconnect", n.interconnect(), Interconnect.class, null);
    return new NetworkSpec(cidr, api, dashboard, backend, interconnect);
  }

  private List<String> cidrs(String path, List<String> values) {
    List<String> out = new ArrayList<>();
    if (values == null) {
      return out;
    }
    for (int i = 0; i < values.size(); i++) {
      String c = values.get(i) == null ? null : cidr(path + "[" + i + "]", values.get(i));
      if (c != null) {
        out.add(c);
      }
    }
    return out;
  }

  /** Normalizes "10.0.0.5" to "10.0.0.5/32"; null when invalid (a problem is recorded). */
  private String cidr(String path, String value) {
    String[] parts = value.split("/", -1);
    boolean ok = parts.length <= 2 && IPV4.matcher(parts[0]).matches();
    int bits = 32;
    if (ok && parts.length == 2) {
      try {
        bits = Integer.parseInt(parts[1]);
        ok = bits >= 0 && bits <= 32;
      } catch (NumberFormatException ex) {
        ok = false;
      }
    }
    if (!ok) {
      problem(path, "'" + value + "' is not an IPv4 network", "write an address or a CIDR, e.g. 10.0.0.0/24 or 10.0.0.5");
      return null;
    }
    return Cidr.parse(parts[0] + "/" + bits).toString();
  }

  // ---------------------------------------------------------------- software

  private SoftwareSpec software(SoftwareEntry e) {
    SoftwareEntry s = e == null ? new SoftwareEntry(null, null, null, null, null, null, null, null) : e;
    OsFamily family = s.osFamily() == null ? OsFamily.AUTO : enumValue("software.os_family", s.osFamily(), OsFamily.class, OsFamily.AUTO);
    String python = text(s.python(), "python3");
    if (!PYTHON.matcher(python).matches()) {
      problem("software.python", "'" + python + "' is not a Python 3 interpreter name", "e.g. python3, python3.10 or python3.11");
    }
    String venv = absPath("software.venv_path", text(s.venvPath(), "/opt/vllm_env"));
    String ray = version("software.ray_version", text(s.rayVersion(), DEFAULT_RAY_VERSION));
    String vllm = version("software.vllm_version", text(s.vllmVersion(), DEFAULT_VLLM_VERSION));
    String index = s.pipIndexUrl() == null ? "" : url("software.pip_index_url", s.pipIndexUrl());
    String findLinks = "";
    if (s.pipFindLinks() != null) {
      findLinks = s.pipFindLinks().startsWith("/") ? absPath("software.pip_find_links", s.pipFindLinks())
          : url("software.pip_find_links", s.pipFindLinks());
    }
    if (!index.isEmpty() && !findLinks.isEmpty()) {
      problem("software.pip_find_links", "set together with software.pip_index_url", "choose one: a package index (pip_index_url) or a wheel directory/URL (pip_find_links, installs with --no-index)");
    }
    String trusted = "";
    if (s.pipTrustedHost() != null) {
      trusted = s.pipTrustedHost();
      if (!HOSTNAME.matcher(trusted).matches() && !IPV4.matcher(trusted).matches()) {
        problem("software.pip_trusted_host", "'" + trusted + "' is not a host name", "the host of your plain-HTTP mirror, e.g. mirror.internal");
      }
    }
    return new SoftwareSpec(family, python, venv, ray, vllm, index, findLinks, trusted);
  }

  // ---------------------------------------------------------------- model

  private ModelSpec model(ModelEntry e) {
    if (e == null) {
      problem("model", "missing", "say where the weights come from: model: {huggingface_repo: deepseek-ai/deepseek-llm-7b-chat} or model: {local_directory: /path/to/model}");
      return null;
    }
    ModelSource source = null;
    String baseName = null;
    if (e.huggingfaceRepo() != null && e.localDirectory() != null) {
      problem("model", "both huggingface_repo and local_directory are set", "keep one: the repository to fetch on the hosts, or the directory on this machine to upload");
    } else if (e.huggingfaceRepo() != null) {
      String repo = e.huggingfaceRepo();
      if (!HF_REPO.matcher(repo).matches()) {
        problem("model.huggingface_repo", "'" + repo + "' is not a repository id", "write owner/name, e.g. deepseek-ai/deepseek-llm-7b-chat");
      }
      String revision = text(e.revision(), "main");
      if (!REVISION.matcher(revision).matches()) {
        problem("model.revision", "'" + revision + "' is not a branch, tag or commit", "e.g. main or a commit hash");
      }
      String endpoint = e.hfEndpoint() == null ? "" : url("model.hf_endpoint", e.hfEndpoint());
      SecretRef token = e.hfTokenEnv() == null ? null : secret("model.hf_token_env", e.hfTokenEnv());
      source = new HuggingFace(repo, revision, endpoint, token);
      baseName = repo.substring(repo.indexOf('/') + 1);
    } else if (e.localDirectory() != null) {
      for (String key : List.of("revision", "hf_endpoint", "hf_token_env")) {
        Object v = switch (key) {
          case "revision" -> e.revision();
          case "hf_endpoint" -> e.hfEndpoint();
          default -> e.hfTokenEnv();
        };
        if (v != null) {
          problem("model." + key, "only applies to huggingface_repo", "remove it, or fetch from Hugging Face instead of local_directory");
        }
      }
      Path dir = Path.of(e.localDirectory().replaceFirst("^~/", System.getProperty("user.home") + "/"));
      if (!dir.isAbsolute()) {
        dir = projectRoot.resolve(dir).normalize();
      }
      String abs = absPath("model.local_directory", dir.toString());
      if (!Files.isDirectory(dir)) {
        problem("model.local_directory", abs + " is not a directory on this machine", "point it at the model directory (the one holding config.json)");
      } else if (!Files.isRegularFile(dir.resolve("config.json"))) {
        problem("model.local_directory", abs + " has no config.json", "point it at the model directory itself (the one holding config.json and the weights)");
      }
      source = new LocalDirectory(abs);
      baseName = dir.getFileName() == null ? "model" : dir.getFileName().toString();
    } else {
      problem("model", "no source", "set huggingface_repo (fetched on the hosts) or local_directory (uploaded from this machine)");
    }
    String directory = text(e.directoryName(), baseName);
    if (directory != null && !DIR_NAME.matcher(directory).matches()) {
      problem("model.directory_name", "'" + directory + "' is not a directory name", "letters, digits, '.', '_', '-'");
    }
    String served = text(e.servedModelName(), directory);
    if (served != null && !SERVED_NAME.matcher(served).matches()) {
      problem("model.served_model_name", "'" + served + "' has characters clients cannot send as a model name", "letters, digits, '.', '_', '-', ':', '/'");
    }
    return new ModelSpec(source, served, directory);
  }

  private SecretRef secret(String path, String env) {
    if (!env.matches("TF_VAR_[a-z][a-z0-9_]*")) {
      problem(path, "'" + env + "' is not an OpenTofu variable environment name",
          "name a variable TF_VAR_<lowercase_name> (e.g. TF_VAR_vllm_api_key): OpenTofu reads it as an ephemeral variable, so the secret never lands in a file, plan or state");
      return null;
    }
    return new SecretRef(env);
  }

  // ---------------------------------------------------------------- storage

  private StorageSpec storage(StorageEntry e) {
    StorageEntry s = e == null ? new StorageEntry(null, null, null, null, null, null) : e;
    StorageMode mode = s.mode() == null ? StorageMode.HEAD_NFS : enumValue("storage.mode", s.mode(), StorageMode.class, StorageMode.HEAD_NFS);
    String mount = absPath("storage.mount_path", text(s.mountPath(), "/srv/vllm-models"));
    if ("/".equals(mount)) {
      problem("storage.mount_path", "is /", "use a directory of its own, e.g. /srv/vllm-models");
    }
    String server = null;
    String serverPath = null;
    if (mode == StorageMode.EXTERNAL_NFS) {
      server = required("storage.nfs_server", s.nfsServer(), "the NFS server's address, e.g. 10.0.0.5");
      if (server != null && !HOSTNAME.matcher(server).matches() && !IPV4.matcher(server).matches()) {
        problem("storage.nfs_server", "'" + server + "' is not a host name or address", "e.g. 10.0.0.5 or nas.internal");
      }
      serverPath = absPath("storage.nfs_server_path", required("storage.nfs_server_path", s.nfsServerPath(), "the exported directory, e.g. /export/models"));
    } else {
      if (s.nfsServer() != null) {
        problem("storage.nfs_server", "only applies to mode: external_nfs", "remove it, or set mode: external_nfs");
      }
      if (s.nfsServerPath() != null) {
        problem("storage.nfs_server_path", "only applies to mode: external_nfs", "remove it, or set mode: external_nfs");
      }
    }
    String options = text(s.nfsMountOptions(), "ro,hard,noatime,nfsvers=4.2");
    if (!MOUNT_OPTIONS.matcher(options).matches()) {
      problem("storage.nfs_mount_options", "'" + options + "' is not a mount option list", "comma-separated, e.g. ro,hard,noatime");
    }
    if (mode == StorageMode.LOCAL_COPY && s.nfsMountOptions() != null) {
      problem("storage.nfs_mount_options", "only applies to NFS modes", "remove it, or use mode: head_nfs or external_nfs");
    }
    boolean delete = s.deleteOnDestroy() != null && s.deleteOnDestroy();
    if (delete) {
      warnings.add("storage.delete_on_destroy: true: cdktf destroy deletes the model directory on the hosts");
    }
    return new StorageSpec(mode, mount, server, serverPath, options, delete);
  }

  // ---------------------------------------------------------------- ray

  private RaySpec ray(RayEntry e, String rayVersion) {
    RayEntry r = e == null ? new RayEntry(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null) : e;
    String host = text(r.dashboardHost(), "127.0.0.1");
    if (!IPV4.matcher(host).matches()) {
      problem("ray.dashboard_host", "'" + host + "' is not an IPv4 address", "127.0.0.1 (default, reach it through an SSH tunnel) or the head's address");
    } else if ("0.0.0.0".equals(host)) {
      warnings.add("ray.dashboard_host: 0.0.0.0 exposes the Ray dashboard and Jobs API on every interface of the head: whoever reaches it runs code on the cluster (CVE-2023-48022); the firewall still limits it to the cluster and network.dashboard_allowed_networks");
    }
    int timeout = r.readinessTimeoutSeconds() == null ? 180 : bounded("ray.readiness_timeout_seconds", r.readinessTimeoutSeconds(), 10, 3600);
    SecretRef token = rayToken(r, rayVersion);
    return new RaySpec(
        port("ray.gcs_port", r.gcsPort(), 6379),
        port("ray.client_server_port", r.clientServerPort(), 10001),
        port("ray.dashboard_port", r.dashboardPort(), 8265),
        host,
        r.includeDashboard() == null || r.includeDashboard(),
        port("ray.dashboard_agent_port", r.dashboardAgentPort(), 52365),
        port("ray.dashboard_agent_grpc_port", r.dashboardAgentGrpcPort(), 52366),
        port("ray.node_manager_port", r.nodeManagerPort(), 6380),
        port("ray.object_manager_port", r.objectManagerPort(), 6381),
        port("ray.runtime_env_agent_port", r.runtimeEnvAgentPort(), 6382),
        port("ray.metrics_export_port", r.metricsExportPort(), 6383),
        port("ray.min_worker_port", r.minWorkerPort(), 10002),
        port("ray.max_worker_port", r.maxWorkerPort(), 19999),
        absPath("ray.temp_dir", text(r.tempDir(), "/tmp/ray")),
        timeout,
        token);
  }

  /** Token authentication: on by default where the pinned Ray has it (2.52 and later). */
  private SecretRef rayToken(RayEntry r, String rayVersion) {
    boolean supported = atLeast(rayVersion, RAY_TOKEN_AUTH_SINCE);
    boolean asked = r.requireAuthToken() == null || r.requireAuthToken();
    if (!asked) {
      if (r.authTokenEnv() != null) {
        problem("ray.auth_token_env", "set while ray.require_auth_token is false", "remove one of them");
      }
      warnings.add("ray.require_auth_token: false: Ray's GCS, dashboard and Jobs API accept requests without a token; only the firewall keeps outsiders from running code on the cluster");
      return null;
    }
    if (!supported) {
      if (r.requireAuthToken() != null || r.authTokenEnv() != null) {
        problem("ray.require_auth_token", "Ray " + rayVersion + " has no token authentication (it came in Ray 2.52)",
            "pin software.ray_version 2.52.0 or later, or set ray.require_auth_token: false");
      } else {
        warnings.add("software.ray_version " + rayVersion + " has no token authentication (Ray 2.52+): only the firewall keeps outsiders from Ray's ports");
      }
      return null;
    }
    return secret("ray.auth_token_env", text(r.authTokenEnv(), DEFAULT_RAY_TOKEN_ENV));
  }

  /** True when a version's leading numbers are at least {@code min} (2.60.0 ≥ 2.52). */
  static boolean atLeast(String version, int[] min) {
    String[] parts = version.split("[^0-9]+");
    for (int i = 0; i < min.length; i++) {
      int have;
      try {
        have = i < parts.length ? Integer.parseInt(parts[i]) : 0;
      } catch (NumberFormatException e) {
        return false;
      }
      if (have != min[i]) {
        return have > min[i];
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- vllm

  private VllmSpec vllm(VllmEntry e, List<NodeSpec> nodes) {
    VllmEntry v = e == null ? new VllmEntry(null, null, null, null, null, null, null, null, null, null, null) : e;
    int port = port("vllm.port", v.port(), 9001);
    String host = text(v.host(), "0.0.0.0");
    if (!IPV4.matcher(host).matches()) {
      problem("vllm.host", "'" + host + "' is not an IPv4 address to bind", "0.0.0.0 (default; the firewall limits who reaches it) or the head's address");
    }
    // vLLM's guidance for several nodes: tensor parallel inside a node, pipeline parallel across.
    List<Integer> gpuNodes = nodes.stream().map(NodeSpec::gpus).filter(g -> g > 0).toList();
    int defaultTp = gpuNodes.isEmpty() ? 1 : gpuNodes.stream().mapToInt(Integer::intValue).min().orElse(1);
    int defaultPp = Math.max(1, gpuNodes.size());
    // Given only one of the two, the other is 1: the stack's parallelism is what it says.
    if (v.tensorParallelSize() != null || v.pipelineParallelSize() != null) {
      defaultTp = 1;
      defaultPp = 1;
    }
    int tp = v.tensorParallelSize() == null ? defaultTp : bounded("vllm.tensor_parallel_size", v.tensorParallelSize(), 1, 128);
    int pp = v.pipelineParallelSize() == null ? defaultPp : bounded("vllm.pipeline_parallel_size", v.pipelineParallelSize(), 1, 64);
    double util = v.gpuMemoryUtilization() == null ? 0.9 : v.gpuMemoryUtilization();
    if (!(util > 0 && util <= 1)) {
      problem("vllm.gpu_memory_utilization", "is " + util + ", expected more than 0 and at most 1", "the share of each GPU's memory vLLM may use, e.g. 0.9");
    }
    Integer maxLen = v.maxModelLen();
    if (maxLen != null && (maxLen < 16 || maxLen > 10_000_000)) {
      problem("vllm.max_model_len", "is " + maxLen + ", expected 16 or more", "the context length in tokens, e.g. 4096, or leave it out to use the model's");
    }
    String dtype = v.dtype();
    if (dtype != null && !DTYPES.contains(dtype)) {
      problem("vllm.dtype", "'" + dtype + "' is not a vLLM dtype", "one of " + String.join(", ", DTYPES.stream().sorted().toList()));
    }
    boolean requireKey = v.requireApiKey() == null || v.requireApiKey();
    SecretRef key = null;
    if (requireKey) {
      key = secret("vllm.api_key_env", text(v.apiKeyEnv(), DEFAULT_API_KEY_ENV));
    } else {
      if (v.apiKeyEnv() != null) {
        problem("vllm.api_key_env", "set while require_api_key is false", "remove one of them");
      }
      warnings.add("vllm.require_api_key: false: the API answers anyone the firewall lets through, without a key");
    }
    List<String> extra = v.extraArgs() == null ? List.of() : v.extraArgs();
    for (int i = 0; i < extra.size(); i++) {
      String arg = extra.get(i);
      String at = "vllm.extra_args[" + i + "]";
      if (arg == null || !SAFE_ARG.matcher(arg).matches()) {
        problem(at, "'" + arg + "' has characters this tool does not pass through (quotes, $, \\, newlines)", "use plain flags and values, e.g. --max-num-seqs, 64");
        continue;
      }
      String flag = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
      String field = MANAGED_VLLM_FLAGS.get(flag);
      if (field != null) {
        problem(at, "'" + flag + "' is set by this tool", field.equals("secret") ? "never pass the API key as an argument: it is read from vllm.api_key_env into a root-only file" : "set " + field + " instead");
      }
    }
    int timeout = v.readinessTimeoutSeconds() == null ? 900 : bounded("vllm.readiness_timeout_seconds", v.readinessTimeoutSeconds(), 10, 7200);
    return new VllmSpec(port, host, tp, pp, util, maxLen, dtype, key, extra, timeout);
  }

  // ---------------------------------------------------------------- state

  /** Where the state lives; credentials never do (the S3 backend reads them from the environment). */
  private StateSpec state(StateEntry e, String stackName) {
    if (e == null) {
      return StateSpec.DEFAULT;
    }
    String backend = text(e.backend(), "local");
    switch (backend) {
      case "local" -> {
        onlyFor("s3", "bucket", e.bucket());
        onlyFor("s3", "key", e.key());
        onlyFor("s3", "region", e.region());
        onlyFor("s3", "endpoint", e.endpoint());
        if (e.path() == null) {
          return StateSpec.DEFAULT;
        }
        Path p = Path.of(e.path().replaceFirst("^~/", System.getProperty("user.home") + "/"));
        if (!p.isAbsolute()) {
          p = projectRoot.resolve(p).normalize();
        }
        return new LocalState(absPath("state.path", p.toString()));
      }
      case "s3" -> {
        onlyFor("local", "path", e.path());
        String bucket = required("state.bucket", e.bucket(), "the bucket that holds the state, e.g. bucket: vllm-ray-cluster-state");
        if (bucket != null && !BUCKET.matcher(bucket).matches()) {
          problem("state.bucket", "'" + bucket + "' is not an S3 bucket name", "3 to 63 lowercase letters, digits, '.' and '-', e.g. vllm-ray-cluster-state");
        }
        String key = text(e.key(), "vllm-ray-cluster/" + stackName + ".tfstate");
        if (!STATE_KEY.matcher(key).matches()) {
          problem("state.key", "'" + key + "' is not an object key this tool writes", "letters, digits, '.', '_', '-' and '/', not starting with '/', e.g. vllm-ray-cluster/" + stackName + ".tfstate");
        }
        String region = required("state.region", e.region(), "the bucket's region, e.g. region: eu-west-1 (any name, e.g. us-east-1, for most S3-compatible stores)");
        if (region != null && !REGION.matcher(region).matches()) {
          problem("state.region", "'" + region + "' is not a region name", "e.g. eu-west-1");
        }
        String endpoint = e.endpoint() == null ? null : url("state.endpoint", e.endpoint());
        return new S3State(bucket, key, region, endpoint);
      }
      default -> {
        problem("state.backend", "'" + backend + "' is not one of local, s3",
            "use local (a file on the deploy machine, the default) or s3 (AWS or an S3-compatible store); for another backend, build the stack in Java and add one of CDKTF's backend classes");
        return StateSpec.DEFAULT;
      }
    }
  }

  private void onlyFor(String backend, String key, String value) {
    if (value != null) {
      problem("state." + key, "only applies to backend: " + backend, "remove it, or set backend: " + backend);
    }
  }

  // ---------------------------------------------------------------- testing

  private TestingSpec testing(TestingEntry e) {
    if (e == null || e.logicalGpus() == null || !e.logicalGpus()) {
      return TestingSpec.NONE;
    }
    warnings.add("testing.logical_gpus: true: the declared GPUs are not checked against the hardware (preflight"
        + " and verify warn instead of failing when a node has no NVIDIA GPU); for test hosts only");
    return new TestingSpec(true);
  }

  // ---------------------------------------------------------------- cross-field rules

  private void crossChecks(ClusterSpec spec) {
    if (spec.network().clusterCidr() != null) {
      Cidr cluster = Cidr.parse(spec.network().clusterCidr());
      for (int i = 0; i < spec.nodes().size(); i++) {
        NodeSpec n = spec.nodes().get(i);
        if (n.address() != null && IPV4.matcher(n.address()).matches() && !cluster.contains(n.address())) {
          problem("nodes[" + i + "].address", n.address() + " is outside network.cluster_cidr " + cluster, "fix the address, or widen cluster_cidr to include every node");
        }
      }
    }
    for (String api : spec.network().apiAllowedNetworks()) {
      if (Cidr.parse(api).prefix() == 0) {
        warnings.add("network.api_allowed_networks: " + api + " opens the vLLM API to every address");
      }
    }
    if (spec.network().firewallBackend() == FirewallBackend.NONE) {
      warnings.add("network.firewall_backend: none: Ray's ports (6379, 8265, 10001, worker ports) are not protected by this tool; anyone who reaches them runs code on the cluster");
    }
    int gpus = spec.totalGpus();
    VllmSpec v = spec.vllm();
    if (v.worldSize() > gpus) {
      problem("vllm.tensor_parallel_size",
          "tensor_parallel_size " + v.tensorParallelSize() + " × pipeline_parallel_size " + v.pipelineParallelSize() + " needs " + v.worldSize() + " GPUs but the nodes declare " + gpus,
          "lower the parallelism to fit (e.g. tensor_parallel_size: " + Math.max(1, gpus) + ", pipeline_parallel_size: 1), or add GPUs (nodes[].gpus)");
    }
    int maxPerNode = spec.nodes().stream().mapToInt(NodeSpec::gpus).max().orElse(0);
    Interconnect link = spec.network().interconnect();
    if (v.tensorParallelSize() > maxPerNode && maxPerNode > 0 && (link == null || !link.fast())) {
      warnings.add("vllm.tensor_parallel_size " + v.tensorParallelSize() + " spans nodes (at most " + maxPerNode + " GPUs on one node): every layer then talks across the network; vLLM advises tensor_parallel_size = GPUs per node and pipeline_parallel_size = nodes unless the nodes have a fast interconnect"
          + (link == null ? " (if they do, declare it: network.interconnect: infiniband, roce or nvlink)" : " (network.interconnect: ethernet)"));
    }
    RaySpec r = spec.ray();
    Map<String, Integer> ports = new LinkedHashMap<>();
    ports.put("ray.gcs_port", r.gcsPort());
    ports.put("ray.client_server_port", r.clientServerPort());
    ports.put("ray.dashboard_port", r.dashboardPort());
    ports.put("ray.dashboard_agent_port", r.dashboardAgentPort());
    ports.put("ray.dashboard_agent_grpc_port", r.dashboardAgentGrpcPort());
    ports.put("ray.node_manager_port", r.nodeManagerPort());
    ports.put("ray.object_manager_port", r.objectManagerPort());
    ports.put("ray.runtime_env_agent_port", r.runtimeEnvAgentPort());
    ports.put("ray.metrics_export_port", r.metricsExportPort());
    ports.put("vllm.port", v.port());
    Map<Integer, String> byPort = new HashMap<>();
    for (Map.Entry<String, Integer> p : ports.entrySet()) {
      String other = byPort.putIfAbsent(p.getValue(), p.getKey());
      if (other != null) {
        problem(p.getKey(), "port " + p.getValue() + " is also " + other, "give each service its own port");
      }
      if (p.getValue() >= r.minWorkerPort() && p.getValue() <= r.maxWorkerPort()) {
        problem(p.getKey(), "port " + p.getValue() + " is inside the Ray worker port range " + r.minWorkerPort() + "-" + r.maxWorkerPort(), "move it, or narrow ray.min_worker_port/ray.max_worker_port");
      }
      if (p.getValue() == 22) {
        problem(p.getKey(), "port 22 is SSH", "pick another port");
      }
    }
    if (r.minWorkerPort() >= r.maxWorkerPort()) {
      problem("ray.min_worker_port", r.minWorkerPort() + " is not below ray.max_worker_port " + r.maxWorkerPort(), "e.g. 10002 and 19999");
    }
    if (spec.storage().mode() == StorageMode.EXTERNAL_NFS && spec.model() != null && spec.model().source() instanceof LocalDirectory) {
      problem("model.local_directory", "cannot be uploaded into an external NFS server this tool does not manage", "copy the model to the NFS export yourself and drop model: local_directory, or use storage.mode: head_nfs or local_copy");
    }
  }

  // ---------------------------------------------------------------- small helpers

  private String required(String path, String value, String fix) {
    if (value == null || value.isBlank()) {
      problem(path, "missing", fix);
      return null;
    }
    return value;
  }

  private static String text(String value, String fallback) {
    return value == null ? fallback : value;
  }

  private int port(String path, Integer value, int fallback) {
    if (value == null) {
      return fallback;
    }
    return bounded(path, value, 1, 65535);
  }

  private int bounded(String path, int value, int min, int max) {
    if (value < min || value > max) {
      problem(path, "is " + value + ", expected " + min + " to " + max, null);
    }
    return value;
  }

  private String absPath(String path, String value) {
    if (value == null) {
      return null;
    }
    if (!ABS_PATH.matcher(value).matches() || value.contains("//") || value.contains("/../") || value.endsWith("/..")) {
      problem(path, "'" + value + "' is not an absolute path this tool can use", "start with /, use letters, digits, '.', '_', '-', e.g. /opt/vllm_env");
      return value;
    }
    return value.length() > 1 && value.endsWith("/") ? value.substring(0, value.length() - 1) : value;
  }

  private String url(String path, String value) {
    if (!URL.matcher(value).matches()) {
      problem(path, "'" + value + "' is not an http(s) URL", "e.g. https://mirror.example.org/simple");
    }
    return value;
  }

  private String version(String path, String value) {
    if (!VERSION.matcher(value).matches()) {
      problem(path, "'" + value + "' is not a version", "pin an exact release, e.g. 2.47.1 (quote it if YAML would read it as a number)");
    }
    return value;
  }

  private <E extends Enum<E>> E enumValue(String path, String value, Class<E> type, E fallback) {
    return enumValue(path, value, type, fallback, "use one of " + choices(type));
  }

  private <E extends Enum<E>> E enumValue(String path, String value, Class<E> type, E fallback, String fix) {
    for (E constant : type.getEnumConstants()) {
      if (constant.name().toLowerCase(Locale.ROOT).equals(value)) {
        return constant;
      }
    }
    problem(path, "'" + value + "' is not one of " + choices(type), fix);
    return fallback;
  }

  private static <E extends Enum<E>> String choices(Class<E> type) {
    return String.join(", ", Arrays.stream(type.getEnumConstants()).map(c -> c.name().toLowerCase(Locale.ROOT)).toList());
  }

  private static Map<String, String> managedFlags() {
    Map<String, String> m = new HashMap<>();
    m.put("--model", "model / storage.mount_path");
    m.put("--served-model-name", "model.served_model_name");
    m.put("--host", "vllm.host");
    m.put("--port", "vllm.port");
    m.put("--tensor-parallel-size", "vllm.tensor_parallel_size");
    m.put("-tp", "vllm.tensor_parallel_size");
    m.put("--pipeline-parallel-size", "vllm.pipeline_parallel_size");
    m.put("-pp", "vllm.pipeline_parallel_size");
    m.put("--distributed-executor-backend", "nothing: this tool always runs vLLM on the Ray cluster (ray)");
    m.put("--gpu-memory-utilization", "vllm.gpu_memory_utilization");
    m.put("--max-model-len", "vllm.max_model_len");
    m.put("--dtype", "vllm.dtype");
    m.put("--api-key", "secret");
    return Map.copyOf(m);
  }
}
