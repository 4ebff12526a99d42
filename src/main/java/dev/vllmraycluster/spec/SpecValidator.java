package dev.vllmraycluster.spec;

import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.firewall.Exposure;
import dev.vllmraycluster.parallel.ModelConfig;
import dev.vllmraycluster.parallel.Planner;
import dev.vllmraycluster.parallel.StackPlan;
import dev.vllmraycluster.vllm.DataParallelPlacement;
import dev.vllmraycluster.vllm.VllmFlags;
import dev.vllmraycluster.vllm.VllmReleases;
import dev.vllmraycluster.spec.ClusterSpec.FirewallBackend;
import dev.vllmraycluster.spec.ClusterSpec.Interconnect;
import dev.vllmraycluster.spec.ClusterSpec.ModelSpec;
import dev.vllmraycluster.spec.ClusterSpec.MonitoringSpec;
import dev.vllmraycluster.spec.ClusterSpec.NetworkSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.RaySpec;
import dev.vllmraycluster.spec.ClusterSpec.Role;
import dev.vllmraycluster.spec.ClusterSpec.SoftwareSpec;
import dev.vllmraycluster.spec.ClusterSpec.SshDefaults;
import dev.vllmraycluster.spec.ClusterSpec.StateBackend;
import dev.vllmraycluster.spec.ClusterSpec.StateSpec;
import dev.vllmraycluster.spec.ClusterSpec.StorageMode;
import dev.vllmraycluster.spec.ClusterSpec.StorageSpec;
import dev.vllmraycluster.spec.ClusterSpec.VllmSpec;
import dev.vllmraycluster.spec.ClusterSpec.WatchdogSpec;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Every rule about a cluster, in one place, run on the typed model however it was built (a stack
 * file or Java): formats, ranges, cross-field rules, and the risks that are allowed but flagged.
 * Collects every problem before failing, so a user fixes a stack in one pass; each names the path
 * as a stack file spells it ({@code nodes[1].ssh_user}), the value and the fix.
 */
public final class SpecValidator {
  public static final String DEFAULT_RAY_VERSION = SoftwareSpec.DEFAULT_RAY_VERSION;
  public static final String DEFAULT_VLLM_VERSION = SoftwareSpec.DEFAULT_VLLM_VERSION;
  public static final String DEFAULT_API_KEY_ENV = VllmSpec.DEFAULT_API_KEY_ENV;
  public static final String DEFAULT_RAY_TOKEN_ENV = RaySpec.DEFAULT_AUTH_TOKEN_ENV;
  static final int[] RAY_TOKEN_AUTH_SINCE = ClusterSpec.RAY_TOKEN_AUTH_SINCE;

  private static final Pattern STACK_NAME = Pattern.compile("[a-z][a-z0-9-]{0,40}");
  private static final Pattern NODE_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,30}");
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
  private static final Pattern SECRET_ENV = Pattern.compile("TF_VAR_[a-z][a-z0-9_]*");
  private static final Set<String> DTYPES =
      Set.of("auto", "half", "float16", "bfloat16", "float", "float32");
  /**
   * Directories a script of ours must never chmod, export, mount over or delete: the system's
   * own, and the parents of everything else.
   */
  private static final Set<String> SYSTEM_DIRS = Set.of(
      "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt",
      "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/usr/bin",
      "/usr/lib", "/usr/lib64", "/usr/local", "/usr/local/bin", "/usr/local/lib", "/usr/sbin", "/usr/share",
      "/var/lib", "/var/log", "/var/tmp", "/var/run", "/var/cache", "/var/spool", "/etc/systemd",
      HostContract.CONFIG_DIR, HostContract.OPT_DIR, HostContract.STATE_DIR);

  private final List<Problem> problems = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();

  /** False for the planner itself, which shows a layout that cannot start rather than refusing the stack. */
  private final boolean checkLayout;

  private SpecValidator(boolean checkLayout) {
    this.checkLayout = checkLayout;
  }

  /** Every problem and warning of a spec; nothing thrown. */
  public record Result(List<Problem> problems, List<String> warnings) {
    public Result {
      problems = List.copyOf(problems);
      warnings = List.copyOf(warnings);
    }

    public boolean ok() {
      return problems.isEmpty();
    }
  }

  /** Runs every rule on a spec, however it was built. */
  public static Result validate(ClusterSpec spec) {
    return validate(spec, true);
  }

  /**
   * As {@link #validate(ClusterSpec)}; {@code checkLayout} false leaves out only the planner's
   * refusal of a layout that cannot start (for {@code parallelism}, which prints the plan instead).
   */
  public static Result validate(ClusterSpec spec, boolean checkLayout) {
    SpecValidator v = new SpecValidator(checkLayout);
    v.all(spec);
    return new Result(v.problems, v.warnings);
  }

  /**
   * Checks a spec, however it was built.
   *
   * @throws SpecException listing every problem
   * @return the warnings (allowed risks)
   */
  public static List<String> check(ClusterSpec spec) {
    return check(spec, "cluster " + spec.name());
  }

  /** As {@link #check(ClusterSpec)}, naming {@code source} (e.g. the stack file) in the error. */
  public static List<String> check(ClusterSpec spec, String source) {
    return check(spec, source, true);
  }

  /** As {@link #check(ClusterSpec, String)}; see {@link #validate(ClusterSpec, boolean)}. */
  public static List<String> check(ClusterSpec spec, String source, boolean checkLayout) {
    Result r = validate(spec, checkLayout);
    if (!r.ok()) {
      throw new SpecException(source, r.problems());
    }
    return r.warnings();
  }

  private void problem(String path, String message, String fix) {
    problems.add(new Problem(path, message, fix));
  }

  private void all(ClusterSpec spec) {
    if (spec.name() == null || !STACK_NAME.matcher(spec.name()).matches()) {
      problem("name", "'" + spec.name() + "' is not usable as a stack id",
          "lowercase letters, digits and '-', starting with a letter (a stack file's name: stacks/gpu-prod.yaml)");
    }
    int before = problems.size();
    sshDefaults(spec.ssh());
    nodes(spec);
    network(spec.network());
    software(spec.software());
    model(spec.model(), spec.storage());
    storage(spec.storage());
    ray(spec.ray(), spec.software().rayVersion());
    vllm(spec.vllm(), spec.software().vllmVersion());
    watchdog(spec.watchdog());
    monitoring(spec.monitoring(), spec.nodes(), spec.vllm());
    state(spec.state());
    leavingNodes(spec);
    if (spec.testing().logicalGpus()) {
      warnings.add("testing.logical_gpus: true: the declared GPUs are not checked against the hardware (preflight"
          + " and verify warn instead of failing when a node has no NVIDIA GPU); for test hosts only");
    }
    // Cross-field rules read fields the rules above have accepted.
    if (problems.size() == before) {
      crossChecks(spec);
    }
  }

  // ---------------------------------------------------------------- nodes

  private void sshDefaults(SshDefaults ssh) {
    if (!USER.matcher(ssh.user()).matches()) {
      problem("ssh.user", "'" + ssh.user() + "' is not a user name", "use e.g. root or ubuntu");
    }
    bounded("ssh.port", ssh.port(), 1, 65535, null);
    deployMachinePath("ssh.private_key_path", ssh.privateKeyPath(), true);
  }

  private void nodes(ClusterSpec spec) {
    List<NodeSpec> nodes = spec.nodes();
    if (nodes.isEmpty()) {
      problem("nodes", "missing: a cluster needs at least one node",
          "add nodes: with one entry per GPU server, e.g. - {name: head, role: head, address: 10.0.0.1, gpus: 1}");
      return;
    }
    for (int i = 0; i < nodes.size(); i++) {
      node("nodes[" + i + "]", nodes.get(i), spec.ssh());
    }
    unique(nodes, NodeSpec::name, "name", "give every node its own name");
    unique(nodes, NodeSpec::address, "address", "every node needs its own address");
    uniqueSshEndpoints(nodes);
    long heads = nodes.stream().filter(n -> n != null && n.role() == Role.HEAD).count();
    if (heads == 0) {
      problem("nodes", "no node has role: head", "mark exactly one node with role: head (it runs the Ray head and vLLM's API server)");
    } else if (heads > 1) {
      problem("nodes", heads + " nodes have role: head", "keep role: head on one node; the others are workers (the default)");
    }
  }

  /** One node entry at {@code at} ({@code nodes[i]} or {@code removed_nodes[i]}). */
  private void node(String at, NodeSpec n, SshDefaults d) {
    if (n == null) {
      problem(at, "empty node entry", "give the node a name, address and gpus");
      return;
    }
    if (required(at + ".name", n.name(), "e.g. name: worker1") && !NODE_NAME.matcher(n.name()).matches()) {
      problem(at + ".name", "'" + n.name() + "' is not a usable node name (it becomes part of resource names)",
          "use lowercase letters, digits, '_' or '-', starting with a letter, at most 31 characters, e.g. worker1");
    }
    if (required(at + ".address", n.address(), "the node's IPv4 address on the cluster network, e.g. 10.0.0.11")) {
      nodeAddress(at + ".address", n.address());
    }
    if (n.sshHost() != null && !HOSTNAME.matcher(n.sshHost()).matches() && !Cidr.isAddress(n.sshHost())) {
      problem(at + ".ssh_host", "'" + n.sshHost() + "' is not a host name or IPv4 address", "e.g. gpu01.example.org");
    }
    // Inherited values were checked under ssh: already.
    if (!n.sshUser().equals(d.user()) && !USER.matcher(n.sshUser()).matches()) {
      problem(at + ".ssh_user", "'" + n.sshUser() + "' is not a user name", "use e.g. root or ubuntu");
    }
    if (!n.sshPort().equals(d.port())) {
      bounded(at + ".ssh_port", n.sshPort(), 1, 65535, null);
    }
    if (n.sshPrivateKeyPath() != null && !n.sshPrivateKeyPath().equals(d.privateKeyPath())) {
      deployMachinePath(at + ".ssh_private_key_path", n.sshPrivateKeyPath(), true);
    }
    if (n.sshHostKey() != null && !HOST_KEY.matcher(n.sshHostKey()).matches()) {
      problem(at + ".ssh_host_key", "not an SSH public host key",
          "copy the host key OpenTofu's SSH client is shown (ECDSA if the host has one, else RSA, else"
              + " Ed25519), e.g. the output of: ssh-keyscan -t ecdsa " + (n.address() == null ? "<host>" : n.address())
              + " (without the host name)");
    }
    if (n.gpus() == null) {
      problem(at + ".gpus", "missing", "the number of GPUs on this node, e.g. gpus: 1 (0 for a CPU-only node)");
    } else {
      bounded(at + ".gpus", n.gpus(), 0, 16, "the number of GPUs on this node");
    }
    if (n.gpuMemoryGib() != null && !(n.gpuMemoryGib() > 0 && n.gpuMemoryGib() <= 1024)) {
      problem(at + ".gpu_memory_gib", "is " + n.gpuMemoryGib() + ", expected more than 0 and at most 1024",
          "each GPU's memory in GiB: nvidia-smi's memory.total in MiB ÷ 1024, e.g. 140.4 for an H200 (143771 MiB)");
    }
    if (n.networkInterface() != null && !INTERFACE.matcher(n.networkInterface()).matches()) {
      problem(at + ".network_interface", "'" + n.networkInterface() + "' is not an interface name", "e.g. eth0 or ens1f0");
    }
  }

  // ---------------------------------------------------------------- day two: nodes leaving

  /**
   * Nodes leaving the cluster ({@code removed_nodes}: each entry as it was under {@code nodes:},
   * so the next deploy can reach the host and run every part's remove.sh) and nodes gone for good
   * ({@code forgotten_nodes}: names only). A name is in one of nodes, removed_nodes and
   * forgotten_nodes; the head cannot leave on its own.
   */
  private void leavingNodes(ClusterSpec spec) {
    Map<String, String> where = new HashMap<>();
    for (int i = 0; i < spec.nodes().size(); i++) {
      NodeSpec n = spec.nodes().get(i);
      if (n != null && n.name() != null) {
        where.putIfAbsent(n.name(), "nodes[" + i + "]");
      }
    }
    for (int i = 0; i < spec.removedNodes().size(); i++) {
      String at = "removed_nodes[" + i + "]";
      NodeSpec n = spec.removedNodes().get(i);
      node(at, n, spec.ssh());
      if (n == null || n.name() == null) {
        continue;
      }
      if (n.role() == Role.HEAD) {
        problem(at + ".role", "the head cannot leave the cluster on its own (it runs the Ray head and vLLM)",
            "to move the head, cdktf destroy the stack and deploy it with the new head; remove role: head from this entry if it was a worker");
      }
      String other = where.putIfAbsent(n.name(), at);
      if (other != null) {
        problem(at + ".name", "'" + n.name() + "' is also " + other,
            other.startsWith("nodes") ? "a node is either in the cluster (nodes:) or leaving it (removed_nodes:): keep one entry"
                : "give every removed node its own entry");
      }
    }
    for (int i = 0; i < spec.forgottenNodes().size(); i++) {
      String at = "forgotten_nodes[" + i + "]";
      String name = spec.forgottenNodes().get(i);
      if (name == null || !NODE_NAME.matcher(name).matches()) {
        problem(at, "'" + name + "' is not a node name", "the name the node had under nodes:, e.g. worker2");
        continue;
      }
      String other = where.putIfAbsent(name, at);
      if (other != null) {
        problem(at, "'" + name + "' is also " + other,
            "forget a node only once it is out of nodes: (a host that is gone for good); a node that can still be reached belongs in removed_nodes: (cleaned as destroy would)");
      }
    }
  }

  private void watchdog(WatchdogSpec w) {
    bounded("watchdog.interval_seconds", w.intervalSeconds(), 1, 3600, "seconds between probes, e.g. 30");
    bounded("watchdog.failures_before_restart", w.failuresBeforeRestart(), 1, 100, "failed probes in a row before vLLM is restarted, e.g. 3");
    bounded("watchdog.probe_timeout_seconds", w.probeTimeoutSeconds(), 1, 600, "how long one completion may take, e.g. 60");
    if (!w.enabled()) {
      warnings.add("watchdog.enabled: false: nothing restarts a vLLM that runs but no longer answers (a hung server, a lost rank with /health still 200)");
    }
  }

  /** A node's own address: IPv4, and not one that cannot be a host's address on a network. */
  private void nodeAddress(String path, String address) {
    if (!Cidr.isAddress(address)) {
      problem(path, "'" + address + "' is not an IPv4 address (Ray, the firewall and NCCL need the node's own address, not a name)",
          "write the node's address on the cluster network, e.g. 192.168.2.221; put a DNS name for SSH in ssh_host");
      return;
    }
    long a = Cidr.toLong(address);
    String why = null;
    if ((a >>> 24) == 127) {
      why = "a loopback address (127.0.0.0/8): other nodes cannot reach it";
    } else if ((a >>> 24) == 0) {
      why = "not a host's address (0.0.0.0/8 means 'this host' or 'any')";
    } else if (a == 0xFFFFFFFFL) {
      why = "the broadcast address";
    } else if ((a >>> 28) == 0xE) {
      why = "a multicast address (224.0.0.0/4)";
    } else if ((a >>> 28) == 0xF) {
      why = "a reserved address (240.0.0.0/4)";
    }
    if (why != null) {
      problem(path, address + " is " + why, "write the node's own address on the cluster network, e.g. 10.0.0.11");
    }
  }

  private void unique(List<NodeSpec> nodes, Function<NodeSpec, String> field, String key, String fix) {
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      String value = nodes.get(i) == null ? null : field.apply(nodes.get(i));
      if (value == null) {
        continue;
      }
      Integer first = seen.putIfAbsent(value, i);
      if (first != null) {
        problem("nodes[" + i + "]." + key, "'" + value + "' is also nodes[" + first + "]." + key, fix);
      }
    }
  }

  /** Two entries with one SSH endpoint (host and port) are one server twice. */
  private void uniqueSshEndpoints(List<NodeSpec> nodes) {
    Map<String, Integer> seen = new HashMap<>();
    Set<String> addresses = new java.util.HashSet<>();
    for (int i = 0; i < nodes.size(); i++) {
      NodeSpec n = nodes.get(i);
      if (n == null || n.address() == null || !addresses.add(n.address())) {
        continue; // a repeated address is reported as such
      }
      String endpoint = n.ssh().host() + ":" + n.sshPort();
      Integer first = seen.putIfAbsent(endpoint, i);
      if (first != null) {
        problem("nodes[" + i + "].ssh_host", "SSH endpoint " + endpoint + " is also that of nodes[" + first + "]: both"
            + " entries would deploy to the same server", "give each node its own ssh_host (or ssh_port)");
      }
    }
  }

  // ---------------------------------------------------------------- network

  private void network(NetworkSpec n) {
    if (n.clusterCidr() != null) {
      cidr("network.cluster_cidr", n.clusterCidr());
    }
    cidrs("network.api_allowed_networks", n.apiAllowedNetworks());
    cidrs("network.dashboard_allowed_networks", n.dashboardAllowedNetworks());
    for (String api : n.apiAllowedNetworks()) {
      if (Cidr.valid(api) && Cidr.parse(api).prefix() == 0) {
        warnings.add("network.api_allowed_networks: " + api + " opens the vLLM API to every address");
      }
    }
    if (n.firewallBackend() == FirewallBackend.NONE) {
      warnings.add("network.firewall_backend: none: Ray's ports (6379, 8265, 10001, worker ports) are not protected by this tool; anyone who reaches them runs code on the cluster");
    }
  }

  private void cidrs(String path, List<String> values) {
    for (int i = 0; i < values.size(); i++) {
      cidr(path + "[" + i + "]", values.get(i));
    }
  }

  private void cidr(String path, String value) {
    if (!Cidr.valid(value)) {
      problem(path, "'" + value + "' is not an IPv4 network", "write an address or a CIDR, e.g. 10.0.0.0/24 or 10.0.0.5");
    }
  }

  // ---------------------------------------------------------------- software

  private void software(SoftwareSpec s) {
    if (!PYTHON.matcher(s.python()).matches()) {
      problem("software.python", "'" + s.python() + "' is not a Python 3 interpreter name", "e.g. python3, python3.10 or python3.11");
    }
    hostPath("software.venv_path", s.venvPath(), "e.g. /opt/vllm_env");
    version("software.ray_version", s.rayVersion());
    version("software.vllm_version", s.vllmVersion());
    if (VERSION.matcher(s.vllmVersion()).matches()) {
      VllmReleases.Verdict verdict = VllmReleases.check(s.vllmVersion());
      if (verdict.refused()) {
        problem("software.vllm_version", "vLLM " + s.vllmVersion() + " is refused: " + String.join("; ", verdict.refusals()), verdict.fix());
      }
      verdict.warnings().forEach(w -> warnings.add("software.vllm_version " + s.vllmVersion() + ": " + w));
    }
    if (s.installer() == ClusterSpec.Installer.UV && s.requirementsLock() != null) {
      problem("software.installer", "uv with software.requirements_lock: uv itself is not in the lock, so it cannot be installed hash-checked",
          "use installer: auto (pip installs the locked set) or remove the lock");
    }
    if (s.pipIndexUrl() != null) {
      mirrorUrl("software.pip_index_url", s.pipIndexUrl(), "pip_credentials_env");
    }
    if (s.pipFindLinks() != null) {
      if (s.pipFindLinks().startsWith("/")) {
        hostPath("software.pip_find_links", s.pipFindLinks(), "e.g. /srv/wheels");
      } else {
        mirrorUrl("software.pip_find_links", s.pipFindLinks(), "pip_credentials_env");
      }
    }
    if (s.pipIndexUrl() != null && s.pipFindLinks() != null) {
      problem("software.pip_find_links", "set together with software.pip_index_url",
          "choose one: a package index (pip_index_url) or a wheel directory/URL (pip_find_links, installs with --no-index)");
    }
    if (s.pipTrustedHost() != null) {
      if (!HOSTNAME.matcher(s.pipTrustedHost()).matches() && !Cidr.isAddress(s.pipTrustedHost())) {
        problem("software.pip_trusted_host", "'" + s.pipTrustedHost() + "' is not a host name", "the host of your plain-HTTP mirror, e.g. mirror.internal");
      } else {
        warnings.add("software.pip_trusted_host: " + s.pipTrustedHost() + ": pip accepts that host without TLS"
            + " verification, so whoever is on the path can serve the packages every node installs as root");
      }
    }
    if (s.pipCredentialsEnv() != null) {
      secretName("software.pip_credentials_env", s.pipCredentialsEnv(), "TF_VAR_pip_mirror_credentials");
      if (s.pipIndexUrl() == null && (s.pipFindLinks() == null || s.pipFindLinks().startsWith("/"))) {
        problem("software.pip_credentials_env", "set without a mirror URL to send it to",
            "set software.pip_index_url (or an http(s) pip_find_links), or remove pip_credentials_env");
      }
    }
    if (s.requirementsLock() != null) {
      String at = "software.requirements_lock";
      if (deployMachinePath(at, s.requirementsLock(), false) && !Files.isRegularFile(Path.of(s.requirementsLock()))) {
        problem(at, s.requirementsLock() + " is not a file on this machine",
            "point it at a requirements file with --hash lines, e.g. made by: pip-compile --generate-hashes");
      }
    }
    if (s.allowSourceBuilds()) {
      warnings.add("software.allow_source_builds: true: pip may build packages from source, which runs their"
          + " build scripts as root on every node");
    }
  }

  /** A mirror: http(s), no credentials in it (they would land in files, the plan and the state). */
  private void mirrorUrl(String path, String value, String credentialsKey) {
    if (!url(path, value)) {
      return;
    }
    URI uri = uri(value);
    if (uri != null && uri.getRawUserInfo() != null) {
      problem(path, "'" + redactUserInfo(value) + "' has credentials in the URL: they would be written into cdk.tf.json,"
          + " the plan, the state and an env file on every node",
          "remove user:password@ from the URL and give them as a secret: software." + credentialsKey
              + ": TF_VAR_<name>, with TF_VAR_<name>=user:password in the environment of cdktf deploy");
      return;
    }
    if (value.startsWith("http://")) {
      warnings.add(path + ": " + value + " is plain HTTP: whoever is on the path can change what every node"
          + " installs as root; use https://");
    }
  }

  private static URI uri(String value) {
    try {
      return new URI(value);
    } catch (URISyntaxException e) {
      return null;
    }
  }

  private static String redactUserInfo(String value) {
    return value.replaceFirst("//[^/@]*@", "//(credentials)@");
  }

  // ---------------------------------------------------------------- model

  private void model(ModelSpec m, StorageSpec storage) {
    if (m == null) {
      problem("model", "missing", "say where the weights come from: model: {huggingface_repo: deepseek-ai/deepseek-llm-7b-chat} or model: {local_directory: /path/to/model}");
      return;
    }
    if (m.huggingfaceRepo() != null && m.localDirectory() != null) {
      problem("model", "both huggingface_repo and local_directory are set", "keep one: the repository to fetch on the hosts, or the directory on this machine to upload");
    } else if (m.huggingfaceRepo() != null) {
      if (!HF_REPO.matcher(m.huggingfaceRepo()).matches()) {
        problem("model.huggingface_repo", "'" + m.huggingfaceRepo() + "' is not a repository id", "write owner/name, e.g. deepseek-ai/deepseek-llm-7b-chat");
      }
      if (!REVISION.matcher(m.revision()).matches()) {
        problem("model.revision", "'" + m.revision() + "' is not a branch, tag or commit", "e.g. main or a commit hash");
      }
      if (m.hfEndpoint() != null && url("model.hf_endpoint", m.hfEndpoint())) {
        URI uri = uri(m.hfEndpoint());
        if (uri != null && uri.getRawUserInfo() != null) {
          problem("model.hf_endpoint", "'" + redactUserInfo(m.hfEndpoint()) + "' has credentials in the URL",
              "remove user:password@ from the URL; give a token as a secret instead (model.hf_token_env: TF_VAR_<name>)");
        } else if (m.hfEndpoint().startsWith("http://")) {
          warnings.add("model.hf_endpoint: " + m.hfEndpoint() + " is plain HTTP: whoever is on the path can change the"
              + " weights and code the nodes load (and read the HF token); use https://");
        }
      }
      if (m.hfTokenEnv() != null) {
        secretName("model.hf_token_env", m.hfTokenEnv(), "TF_VAR_hf_token");
      }
    } else if (m.localDirectory() != null) {
      if (m.givenRevision() != null) {
        problem("model.revision", "only applies to huggingface_repo", "remove it, or fetch from Hugging Face instead of local_directory");
      }
      if (m.hfEndpoint() != null) {
        problem("model.hf_endpoint", "only applies to huggingface_repo", "remove it, or fetch from Hugging Face instead of local_directory");
      }
      if (m.hfTokenEnv() != null) {
        problem("model.hf_token_env", "only applies to huggingface_repo", "remove it, or fetch from Hugging Face instead of local_directory");
      }
      String abs = m.localDirectory();
      if (deployMachinePath("model.local_directory", abs, false)) {
        Path dir = Path.of(abs);
        if (!Files.isDirectory(dir)) {
          problem("model.local_directory", abs + " is not a directory on this machine", "point it at the model directory (the one holding config.json)");
        } else if (!Files.isRegularFile(dir.resolve("config.json"))) {
          problem("model.local_directory", abs + " has no config.json", "point it at the model directory itself (the one holding config.json and the weights)");
        }
      }
      if (storage.mode() == StorageMode.EXTERNAL_NFS) {
        problem("model.local_directory", "cannot be uploaded into an external NFS server this tool does not manage",
            "copy the model to the NFS export yourself and drop model: local_directory, or use storage.mode: head_nfs or local_copy");
      }
    } else {
      problem("model", "no source", "set huggingface_repo (fetched on the hosts) or local_directory (uploaded from this machine)");
    }
    if (m.configJson() != null && deployMachinePath("model.config_json", m.configJson(), false)
        && !Files.isRegularFile(Path.of(m.configJson()))) {
      // Planning input only (the hosts never read it): a stack synthesized elsewhere still deploys.
      warnings.add("model.config_json: " + m.configJson() + " is not a file on this machine: the layout is not checked"
          + " against the model (parallelism needs it)");
    }
    if (m.directoryName() != null && (!DIR_NAME.matcher(m.directoryName()).matches() || m.directoryName().matches("\\.+"))) {
      problem("model.directory_name", "'" + m.directoryName() + "' is not a directory name", "letters, digits, '.', '_', '-'");
    }
    if (m.servedModelName() != null && !SERVED_NAME.matcher(m.servedModelName()).matches()) {
      problem("model.served_model_name", "'" + m.servedModelName() + "' has characters clients cannot send as a model name", "letters, digits, '.', '_', '-', ':', '/'");
    }
  }

  // ---------------------------------------------------------------- storage

  private void storage(StorageSpec s) {
    hostPath("storage.mount_path", s.mountPath(), "use a directory of its own, e.g. /srv/vllm-models");
    if (s.mode() == StorageMode.EXTERNAL_NFS) {
      if (required("storage.nfs_server", s.nfsServer(), "the NFS server's address, e.g. 10.0.0.5")
          && !HOSTNAME.matcher(s.nfsServer()).matches() && !Cidr.isAddress(s.nfsServer())) {
        problem("storage.nfs_server", "'" + s.nfsServer() + "' is not a host name or address", "e.g. 10.0.0.5 or nas.internal");
      }
      if (required("storage.nfs_server_path", s.nfsServerPath(), "the exported directory, e.g. /export/models")) {
        absPath("storage.nfs_server_path", s.nfsServerPath());
      }
    } else {
      if (s.nfsServer() != null) {
        problem("storage.nfs_server", "only applies to mode: external_nfs", "remove it, or set mode: external_nfs");
      }
      if (s.nfsServerPath() != null) {
        problem("storage.nfs_server_path", "only applies to mode: external_nfs", "remove it, or set mode: external_nfs");
      }
    }
    if (!MOUNT_OPTIONS.matcher(s.nfsMountOptions()).matches()) {
      problem("storage.nfs_mount_options", "'" + s.nfsMountOptions() + "' is not a mount option list", "comma-separated, e.g. ro,hard,noatime");
    }
    if (s.mode() == StorageMode.LOCAL_COPY && s.givenNfsMountOptions() != null) {
      problem("storage.nfs_mount_options", "only applies to NFS modes", "remove it, or use mode: head_nfs or external_nfs");
    }
    if (s.deleteOnDestroy()) {
      warnings.add("storage.delete_on_destroy: true: cdktf destroy deletes the model directory on the hosts");
    }
  }

  // ---------------------------------------------------------------- ray

  private void ray(RaySpec r, String rayVersion) {
    if (!Cidr.isAddress(r.dashboardHost())) {
      problem("ray.dashboard_host", "'" + r.dashboardHost() + "' is not an IPv4 address", "127.0.0.1 (default, reach it through an SSH tunnel) or the head's address");
    } else if ("0.0.0.0".equals(r.dashboardHost())) {
      warnings.add("ray.dashboard_host: 0.0.0.0 exposes the Ray dashboard and Jobs API on every interface of the head: whoever reaches it runs code on the cluster (CVE-2023-48022); the firewall still limits it to the cluster and network.dashboard_allowed_networks");
    }
    Map<String, Integer> ports = rayPorts(r);
    ports.put("ray.min_worker_port", r.minWorkerPort());
    ports.put("ray.max_worker_port", r.maxWorkerPort());
    ports.forEach((path, port) -> bounded(path, port, 1, 65535, null));
    hostPath("ray.temp_dir", r.tempDir(), "e.g. /tmp/ray");
    bounded("ray.readiness_timeout_seconds", r.readinessTimeoutSeconds(), 10, 3600, null);
    boolean supported = ClusterSpec.atLeast(rayVersion, RAY_TOKEN_AUTH_SINCE);
    if (Boolean.TRUE.equals(r.requireAuthToken())) {
      if (!supported) {
        problem("ray.require_auth_token", "Ray " + rayVersion + " has no token authentication (it came in Ray 2.52)",
            "pin software.ray_version 2.52.0 or later, or set ray.require_auth_token: false");
      } else {
        secretName("ray.auth_token_env", r.authTokenEnv(), DEFAULT_RAY_TOKEN_ENV);
      }
    } else if (r.givenAuthTokenEnv() != null) {
      if (supported) {
        problem("ray.auth_token_env", "set while ray.require_auth_token is false", "remove one of them");
      } else {
        problem("ray.require_auth_token", "Ray " + rayVersion + " has no token authentication (it came in Ray 2.52)",
            "pin software.ray_version 2.52.0 or later, or remove ray.auth_token_env");
      }
    } else if (supported) {
      warnings.add("ray.require_auth_token: false: Ray's GCS, dashboard and Jobs API accept requests without a token; only the firewall keeps outsiders from running code on the cluster");
    } else {
      warnings.add("software.ray_version " + rayVersion + " has no token authentication (Ray 2.52+): only the firewall keeps outsiders from Ray's ports");
    }
  }

  private static Map<String, Integer> rayPorts(RaySpec r) {
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
    return ports;
  }

  // ---------------------------------------------------------------- vllm

  private void vllm(VllmSpec v, String vllmVersion) {
    bounded("vllm.port", v.port(), 1, 65535, null);
    if (!Cidr.isAddress(v.host())) {
      problem("vllm.host", "'" + v.host() + "' is not an IPv4 address to bind", "0.0.0.0 (default; the firewall limits who reaches it) or the head's address");
    }
    bounded("vllm.tensor_parallel_size", v.tensorParallelSize(), 1, 128, null);
    bounded("vllm.pipeline_parallel_size", v.pipelineParallelSize(), 1, 64, null);
    if (v.dataParallelSize() != null) {
      bounded("vllm.data_parallel_size", v.dataParallelSize(), 1, 256, null);
    }
    double util = v.gpuMemoryUtilization();
    if (!(util > 0 && util <= 1)) {
      problem("vllm.gpu_memory_utilization", "is " + util + ", expected more than 0 and at most 1", "the share of each GPU's memory vLLM may use, e.g. 0.9");
    }
    Integer maxLen = v.maxModelLen();
    if (maxLen != null && (maxLen < 16 || maxLen > 10_000_000)) {
      problem("vllm.max_model_len", "is " + maxLen + ", expected 16 or more", "the context length in tokens, e.g. 4096, or leave it out to use the model's");
    }
    if (v.dtype() != null && !DTYPES.contains(v.dtype())) {
      problem("vllm.dtype", "'" + v.dtype() + "' is not a vLLM dtype", "one of " + String.join(", ", DTYPES.stream().sorted().toList()));
    }
    if (v.requireApiKey()) {
      secretName("vllm.api_key_env", v.apiKeyEnv(), DEFAULT_API_KEY_ENV);
    } else {
      if (v.givenApiKeyEnv() != null) {
        problem("vllm.api_key_env", "set while require_api_key is false", "remove one of them");
      }
      warnings.add("vllm.require_api_key: false: the API answers anyone the firewall lets through, without a key");
    }
    List<String> extra = v.extraArgs();
    for (int i = 0; i < extra.size(); i++) {
      String arg = extra.get(i);
      String at = "vllm.extra_args[" + i + "]";
      if (arg == null || !SAFE_ARG.matcher(arg).matches()) {
        problem(at, "'" + arg + "' has characters this tool does not pass through (quotes, $, \\, newlines)", "use plain flags and values, e.g. --max-num-seqs, 64");
        continue;
      }
      HostContract.VllmFlag managed = HostContract.managedVllmFlag(arg);
      if (managed == null) {
        managed = managedByAlias(arg, vllmVersion);
      }
      if (managed != null) {
        String spelled = HostContract.vllmFlagName(arg);
        problem(at, "'" + arg.replaceFirst("=.*", "=…") + "' is " + (spelled.equals(managed.flag()) ? "" : managed.flag() + " as vLLM reads it, ")
            + "set by this tool", managed.fix());
      }
    }
    // Against the pinned release's own options (read from its wheel): unknown ones with "did you
    // mean", values missing or stray, as vllm serve would refuse them on the head.
    VllmFlags.forVersion(vllmVersion).ifPresent(flags -> {
      if (extra.stream().allMatch(a -> a != null && SAFE_ARG.matcher(a).matches())) {
        for (VllmFlags.Finding f : flags.check(extra, false)) {
          problem("vllm.extra_args[" + f.index() + "]", f.message(), f.fix());
        }
      }
    });
    bounded("vllm.readiness_timeout_seconds", v.readinessTimeoutSeconds(), 10, 7200, null);
    proxy(v);
  }

  /**
   * The API proxy and its TLS: a user-given certificate needs its key (and the reverse), both on
   * this machine; TLS is the proxy's, so {@code proxy: false} needs {@code tls: false}. Both off
   * are allowed and flagged.
   */
  private void proxy(VllmSpec v) {
    bounded("vllm.backend_port", v.backendPort(), 1, 65535, null);
    if (!v.proxy()) {
      if (v.tls()) {
        problem("vllm.tls", "is true (the default) but vllm.proxy is false: TLS is served by the proxy",
            "keep the proxy (remove proxy: false), or also set tls: false (plain HTTP, flagged)");
      }
      warnings.add("vllm.proxy: false: clients reach vLLM itself, whose key check guards only /v1, /v2, /inference and"
          + " /cohere: /invocations (chat and completions), /tokenize, /pooling, /score, /rerank, /metrics and /docs"
          + " answer without a key, in plain HTTP");
    } else if (!v.tls()) {
      warnings.add("vllm.tls: false: the API key and every prompt and answer cross the client networks in clear text");
    }
    boolean usesTls = v.https();
    if (v.tlsCertPath() != null || v.tlsKeyPath() != null) {
      if (!usesTls) {
        problem(v.tlsCertPath() != null ? "vllm.tls_cert_path" : "vllm.tls_key_path", "only applies with the proxy's TLS on",
            "remove it, or remove tls: false / proxy: false");
      } else if (v.tlsCertPath() == null || v.tlsKeyPath() == null) {
        problem(v.tlsCertPath() == null ? "vllm.tls_cert_path" : "vllm.tls_key_path",
            "missing: a certificate and its key come together",
            "give both tls_cert_path and tls_key_path (PEM files on this machine), or neither to have the head make a per-cluster CA");
      } else {
        if (deployMachinePath("vllm.tls_cert_path", v.tlsCertPath(), false) && !Files.isRegularFile(Path.of(v.tlsCertPath()))) {
          problem("vllm.tls_cert_path", v.tlsCertPath() + " is not a file on this machine",
              "the server certificate (PEM, with its chain) the proxy presents");
        }
        deployMachinePath("vllm.tls_key_path", v.tlsKeyPath(), true);
      }
    }
    List<String> names = v.tlsServerNames();
    for (int i = 0; i < names.size(); i++) {
      String n = names.get(i);
      if (n == null || !(HOSTNAME.matcher(n).matches() || Cidr.isAddress(n))) {
        problem("vllm.tls_server_names[" + i + "]", "'" + n + "' is not a DNS name or an IPv4 address", "e.g. llm.example.org or 192.0.2.10");
      } else if (!usesTls || v.userCertificate()) {
        problem("vllm.tls_server_names[" + i + "]", "only applies to the certificate the head makes",
            v.userCertificate() ? "put the name into your certificate (tls_cert_path) instead" : "remove it, or turn TLS on");
        break;
      }
    }
  }

  /**
   * A managed flag {@code arg} selects under another of its names in the pinned release (e.g.
   * 0.33's {@code --device-memory-utilization} for {@code --gpu-memory-utilization}), or null.
   */
  private static HostContract.VllmFlag managedByAlias(String arg, String vllmVersion) {
    return VllmFlags.forVersion(vllmVersion)
        .map(flags -> flags.resolve(arg) instanceof VllmFlags.Resolved r ? r.option().names() : List.<String>of())
        .flatMap(names -> HostContract.MANAGED_VLLM_FLAGS.stream().filter(m -> names.contains(m.flag())).findFirst())
        .orElse(null);
  }

  // ---------------------------------------------------------------- state

  /** Where the state lives; credentials never do (the S3 backend reads them from the environment). */
  private void state(StateSpec s) {
    if (s.backend() == StateBackend.LOCAL) {
      onlyFor("s3", "bucket", s.bucket());
      onlyFor("s3", "key", s.key());
      onlyFor("s3", "region", s.region());
      onlyFor("s3", "endpoint", s.endpoint());
      if (s.path() != null) {
        deployMachinePath("state.path", s.path(), false);
      }
      return;
    }
    onlyFor("local", "path", s.path());
    if (required("state.bucket", s.bucket(), "the bucket that holds the state, e.g. bucket: vllm-ray-cluster-state")
        && !BUCKET.matcher(s.bucket()).matches()) {
      problem("state.bucket", "'" + s.bucket() + "' is not an S3 bucket name", "3 to 63 lowercase letters, digits, '.' and '-', e.g. vllm-ray-cluster-state");
    }
    if (s.key() != null && !STATE_KEY.matcher(s.key()).matches()) {
      problem("state.key", "'" + s.key() + "' is not an object key this tool writes", "letters, digits, '.', '_', '-' and '/', not starting with '/', e.g. vllm-ray-cluster/<stack>.tfstate");
    }
    if (required("state.region", s.region(), "the bucket's region, e.g. region: eu-west-1 (any name, e.g. us-east-1, for most S3-compatible stores)")
        && !REGION.matcher(s.region()).matches()) {
      problem("state.region", "'" + s.region() + "' is not a region name", "e.g. eu-west-1");
    }
    if (s.endpoint() != null && url("state.endpoint", s.endpoint())) {
      URI uri = uri(s.endpoint());
      if (uri != null && uri.getRawUserInfo() != null) {
        problem("state.endpoint", "'" + redactUserInfo(s.endpoint()) + "' has credentials in the URL",
            "remove them: the S3 backend reads AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or a profile) from the environment");
      }
    }
  }

  private void onlyFor(String backend, String key, String value) {
    if (value != null) {
      problem("state." + key, "only applies to backend: " + backend, "remove it, or set backend: " + backend);
    }
  }

  // ---------------------------------------------------------------- monitoring

  private void monitoring(MonitoringSpec m, List<NodeSpec> nodes, VllmSpec vllm) {
    if (!m.enabled()) {
      return;
    }
    NodeSpec promNode = m.prometheusNode() == null ? null
        : nodes.stream().filter(n -> n != null && m.prometheusNode().equals(n.name())).findFirst().orElse(null);
    if (promNode != null && promNode.role() != ClusterSpec.Role.HEAD && Boolean.TRUE.equals(vllm.proxy())) {
      // Behind the proxy vLLM listens on the head's 127.0.0.1 only, and the proxy wants the key on
      // /metrics: a Prometheus elsewhere could not scrape it.
      problem("monitoring.prometheus_node", "'" + m.prometheusNode() + "' is a worker, but vLLM's /metrics is reachable only"
              + " on the head's 127.0.0.1 behind the API proxy (vllm.proxy: true)",
          "leave monitoring.prometheus_node out (Prometheus on the head), or set vllm.proxy: false");
    }
    if (m.prometheusNode() != null && nodes.stream().noneMatch(n -> n != null && m.prometheusNode().equals(n.name()))) {
      problem("monitoring.prometheus_node", "'" + m.prometheusNode() + "' is not the name of a node",
          "name one of: " + String.join(", ", nodes.stream().filter(n -> n != null).map(NodeSpec::name).toList())
              + " (or leave it out: the head)");
    }
    bounded("monitoring.prometheus_port", m.prometheusPort(), 1, 65535, null);
    bounded("monitoring.node_exporter_port", m.nodeExporterPort(), 1, 65535, null);
    bounded("monitoring.dcgm_exporter_port", m.dcgmExporterPort(), 1, 65535, null);
    bounded("monitoring.scrape_interval_seconds", m.scrapeIntervalSeconds(), 5, 300, "e.g. 15");
    bounded("monitoring.retention_days", m.retentionDays(), 1, 3650, "e.g. 15");
    cidrs("monitoring.allowed_networks", m.allowedNetworks());
    for (String net : m.allowedNetworks()) {
      if (net != null && Cidr.valid(net) && Cidr.parse(net).prefix() == 0) {
        warnings.add("monitoring.allowed_networks: " + net + " opens Prometheus and the node exporters to every address");
      }
    }
    if (m.grafanaUrl() != null) {
      if (url("monitoring.grafana_url", m.grafanaUrl())) {
        URI uri = uri(m.grafanaUrl());
        if (uri != null && uri.getRawUserInfo() != null) {
          problem("monitoring.grafana_url", "'" + redactUserInfo(m.grafanaUrl()) + "' has credentials in the URL: they would be"
              + " written into cdk.tf.json, the plan and the state", "remove user:password@ and give a service account token"
              + " in monitoring.grafana_token_env instead");
        } else if (m.grafanaUrl().startsWith("http://")) {
          warnings.add("monitoring.grafana_url: " + m.grafanaUrl() + " is plain HTTP: the Grafana token crosses the network in clear; use https://");
        }
      }
      if (m.grafanaTokenEnv() == null) {
        problem("monitoring.grafana_token_env", "missing while monitoring.grafana_url is set",
            "name the variable holding a Grafana service account token (role Editor), e.g. TF_VAR_grafana_token");
      } else {
        secretName("monitoring.grafana_token_env", m.grafanaTokenEnv(), "TF_VAR_grafana_token");
      }
    } else if (m.grafanaTokenEnv() != null) {
      problem("monitoring.grafana_token_env", "set without monitoring.grafana_url", "name the Grafana (grafana_url), or remove the token");
    }
  }

  // ---------------------------------------------------------------- cross-field rules

  /**
   * With the model's config.json on this machine ({@code model.config_json} or the local
   * directory's): the stack's layout as vLLM would refuse it at start (heads not divisible, more
   * stages than layers), and with every GPU node's {@code gpu_memory_gib} also the weights per GPU
   * and the KV cache against {@code max_model_len} ({@link Planner}).
   */
  private void layoutStarts(ClusterSpec spec) {
    Path config = StackPlan.configPath(spec);
    if (config == null || !Files.isRegularFile(config)) {
      return;
    }
    boolean given = spec.model().configJson() != null;
    ModelConfig model;
    try {
      model = ModelConfig.read(config, spec.vllm().dtype());
    } catch (java.io.IOException | IllegalArgumentException e) {
      if (given) {
        problem("model.config_json", config + ": " + e.getMessage(), "point it at the model's config.json from its repository (hidden_size, num_hidden_layers, num_attention_heads, vocab_size, ...)");
      } else {
        warnings.add("model.local_directory: " + config + " cannot be planned (" + e.getMessage() + "); the layout is not checked against the model");
      }
      return;
    }
    Planner.Plan plan = StackPlan.plan(spec, model, null, null);
    Planner.Row chosen = plan.chosen();
    String fix = plan.recommended() != null
        ? "use " + plan.recommended().layout() + " (" + plan.reason() + "); bin/vllm-ray-cluster parallelism " + spec.name() + " lists the layouts"
        : "bin/vllm-ray-cluster parallelism " + spec.name() + " lists the layouts and what each needs";
    for (String p : chosen.problems()) {
      String path = p.startsWith("KV cache") ? "vllm.max_model_len"
          : p.contains("pipeline stages") ? "vllm.pipeline_parallel_size"
          : p.startsWith("weights") ? "vllm.gpu_memory_utilization"
          : "vllm.tensor_parallel_size";
      String f = fix;
      if (path.equals("vllm.max_model_len") && chosen.kvTokens() >= 16) {
        f = "max_model_len: " + chosen.kvTokens() + " or less (what the KV cache holds), or " + fix;
      }
      problem(path, chosen.layout() + " of " + config.getFileName() + ": " + p + " (weights ≈ "
          + String.format(Locale.ROOT, "%.2f GiB", chosen.weightsPerGpu() / (double) (1L << 30)) + " per GPU)", f);
    }
  }

  /**
   * {@code data_parallel_size} > 1: DP × TP × PP GPUs declared, and the replicas placeable as
   * vLLM's Ray data-parallel backend places them (each replica's TP × PP GPUs on one node, the
   * head holding the first; {@link DataParallelPlacement}).
   */
  private void dataParallel(ClusterSpec spec, VllmSpec v, int gpus) {
    int dp = v.replicas();
    int world = v.worldSize();
    String layout = "data_parallel_size " + dp + " × tensor_parallel_size " + v.tensorParallelSize()
        + " × pipeline_parallel_size " + v.pipelineParallelSize();
    List<Integer> nodeGpus = spec.nodes().stream().filter(n -> n != null && n.gpus() != null).map(NodeSpec::gpus).toList();
    int capacity = DataParallelPlacement.capacity(world, nodeGpus);
    int maxPerNode = nodeGpus.stream().mapToInt(Integer::intValue).max().orElse(0);
    if (dp * world > gpus) {
      problem("vllm.data_parallel_size", layout + " needs " + dp * world + " GPUs but the nodes declare " + gpus,
          capacity >= 1
              ? "use data_parallel_size: " + capacity + " (as many replicas of " + world + " GPU(s) as the nodes hold), or add GPUs (nodes[].gpus)"
              : "lower tensor_parallel_size × pipeline_parallel_size to the GPUs of one node (at most " + maxPerNode + "), or add GPUs");
      return;
    }
    if (world > maxPerNode) {
      problem("vllm.data_parallel_size", layout + ": each replica's " + world + " GPUs must sit on one node (vLLM's Ray"
              + " data-parallel backend packs a replica onto one node) but no node declares more than " + maxPerNode,
          "use tensor_parallel_size × pipeline_parallel_size ≤ " + maxPerNode + " (e.g. tensor_parallel_size: " + maxPerNode
              + ", pipeline_parallel_size: 1), or remove data_parallel_size and let TP × PP span the nodes");
      return;
    }
    NodeSpec head = spec.nodes().stream().filter(n -> n != null && n.role() == Role.HEAD).findFirst().orElse(null);
    if (head == null || head.gpus() == null) {
      return;
    }
    List<Integer> others = spec.nodes().stream().filter(n -> n != null && n != head && n.gpus() != null).map(NodeSpec::gpus).toList();
    if (head.gpus() < world) {
      problem("vllm.data_parallel_size", layout + ": the head (the DP master) holds the first replica but declares "
              + head.gpus() + " GPU(s), fewer than a replica's " + world,
          "give the head at least " + world + " GPU(s), or remove data_parallel_size");
    } else if (DataParallelPlacement.sizeLocal(dp, world, head.gpus(), others).isEmpty()) {
      problem("vllm.data_parallel_size", layout + ": vLLM places the same number of replicas on the head and on every"
              + " other node it uses, and no such number reaches " + dp + " on these nodes (" + capacity + " replica(s) fit in all)",
          "use a data_parallel_size that fits, e.g. " + (1 + others.stream().filter(g -> g >= world).count()) + " (one replica per node)");
    }
  }

  private void crossChecks(ClusterSpec spec) {
    if (spec.network().clusterCidr() != null) {
      Cidr cluster = Cidr.parse(spec.network().clusterCidr());
      for (int i = 0; i < spec.nodes().size(); i++) {
        NodeSpec n = spec.nodes().get(i);
        if (!cluster.contains(n.address())) {
          problem("nodes[" + i + "].address", n.address() + " is outside network.cluster_cidr " + cluster, "fix the address, or widen cluster_cidr to include every node");
        } else if (cluster.prefix() <= 30 && (Cidr.toLong(n.address()) == cluster.broadcast() || Cidr.toLong(n.address()) == cluster.network())) {
          problem("nodes[" + i + "].address", n.address() + " is the " + (Cidr.toLong(n.address()) == cluster.network() ? "network" : "broadcast")
              + " address of network.cluster_cidr " + cluster, "write the node's own address, e.g. " + Cidr.canonical(cluster.toString()).replaceFirst("\\.\\d+/.*", ".11"));
        }
      }
    }
    int gpus = spec.totalGpus();
    VllmSpec v = spec.vllm();
    if (v.replicas() > 1) {
      dataParallel(spec, v, gpus);
    } else if (v.worldSize() > gpus) {
      problem("vllm.tensor_parallel_size",
          "tensor_parallel_size " + v.tensorParallelSize() + " × pipeline_parallel_size " + v.pipelineParallelSize() + " needs " + v.worldSize() + " GPUs but the nodes declare " + gpus,
          "lower the parallelism to fit (e.g. tensor_parallel_size: " + Math.max(1, gpus) + ", pipeline_parallel_size: 1), or add GPUs (nodes[].gpus)"
              + (spec.removedNodes().isEmpty() && spec.forgottenNodes().isEmpty() ? ""
                  : "; the nodes in removed_nodes/forgotten_nodes no longer count"));
    }
    int maxPerNode = spec.nodes().stream().mapToInt(NodeSpec::gpus).max().orElse(0);
    Interconnect link = spec.network().interconnect();
    if (v.replicas() == 1 && v.tensorParallelSize() > maxPerNode && maxPerNode > 0 && (link == null || !link.fast())) {
      warnings.add("vllm.tensor_parallel_size " + v.tensorParallelSize() + " spans nodes (at most " + maxPerNode + " GPUs on one node): every layer then talks across the network; vLLM advises tensor_parallel_size = GPUs per node and pipeline_parallel_size = nodes unless the nodes have a fast interconnect"
          + (link == null ? " (if they do, declare it: network.interconnect: infiniband, roce or nvlink)" : " (network.interconnect: ethernet)"));
    }
    if (checkLayout && v.gpusNeeded() <= gpus) {
      layoutStarts(spec);
    }
    VllmFlags.forVersion(spec.software().vllmVersion()).ifPresent(flags -> {
      List<String> generated = new ArrayList<>(HostContract.VllmFlags.GENERATED);
      if (v.replicas() > 1) {
        generated.addAll(HostContract.VllmFlags.DATA_PARALLEL);
      }
      for (String flag : generated) {
        if (!flags.known(flag)) {
          problem("software.vllm_version", "vLLM " + spec.software().vllmVersion() + " has no " + flag + " option, which this tool passes to vllm serve",
              "pin software.vllm_version: " + VllmReleases.DEFAULT + " (the default) or another release from " + VllmReleases.SUPPORTED_FROM + " on");
        }
      }
    });
    RaySpec r = spec.ray();
    Map<String, Integer> ports = rayPorts(r);
    ports.put("vllm.port", v.port());
    if (v.proxy()) {
      ports.put("vllm.backend_port", v.backendPort());
    }
    if (spec.monitoring().enabled()) {
      ports.put("monitoring.prometheus_port", spec.monitoring().prometheusPort());
      ports.put("monitoring.node_exporter_port", spec.monitoring().nodeExporterPort());
    }
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
    sshPortsOutsideProtected(spec);
    secretsDistinct(spec);
  }

  /**
   * An SSH port the firewall protects would lock the deployer out after the first apply. What it
   * protects on a node is {@link Exposure#of}, the list the firewall itself is made from.
   */
  private void sshPortsOutsideProtected(ClusterSpec spec) {
    for (int i = 0; i < spec.nodes().size(); i++) {
      NodeSpec n = spec.nodes().get(i);
      int port = n.sshPort();
      String at = n.sshPort().equals(spec.ssh().port()) ? "ssh.port" : "nodes[" + i + "].ssh_port";
      for (Exposure.Service service : Exposure.of(spec, n)) {
        if (service.port().tcp() && port >= service.port().from() && port <= service.port().to()) {
          problem(at, "SSH port " + port + " of " + n.name() + " is " + service.name() + " (" + service.port()
              + "), which the firewall closes to everyone outside the cluster: the deploy machine would lock itself out"
              + " after the first apply", "move the clashing port, or SSH to another port");
          if (at.equals("ssh.port")) {
            return;
          }
          break;
        }
      }
    }
  }

  private void secretsDistinct(ClusterSpec spec) {
    String grafana = spec.monitoring().grafanaTokenEnv();
    if (spec.monitoring().enabled() && grafana != null
        && ((spec.vllm().requireApiKey() && grafana.equals(spec.vllm().apiKeyEnv()))
            || (Boolean.TRUE.equals(spec.ray().requireAuthToken()) && grafana.equals(spec.ray().authTokenEnv())))) {
      problem("monitoring.grafana_token_env", "'" + grafana + "' is also the API key's or Ray's token variable",
          "give the Grafana token a variable of its own, e.g. TF_VAR_grafana_token");
    }
    if (spec.vllm().requireApiKey() && Boolean.TRUE.equals(spec.ray().requireAuthToken())
        && spec.vllm().apiKeyEnv().equals(spec.ray().authTokenEnv())) {
      problem("ray.auth_token_env", "'" + spec.ray().authTokenEnv() + "' is also vllm.api_key_env: every client that"
          + " holds the API key could then join and command the Ray cluster", "give Ray's token a variable of its own, e.g. " + DEFAULT_RAY_TOKEN_ENV);
    }
  }

  // ---------------------------------------------------------------- small helpers

  private boolean required(String path, String value, String fix) {
    if (value == null || value.isBlank()) {
      problem(path, "missing", fix);
      return false;
    }
    return true;
  }

  private void bounded(String path, Integer value, int min, int max, String fix) {
    if (value != null && (value < min || value > max)) {
      problem(path, "is " + value + ", expected " + min + " to " + max, fix);
    }
  }

  private void secretName(String path, String env, String example) {
    if (env == null || !SECRET_ENV.matcher(env).matches()) {
      problem(path, "'" + env + "' is not an OpenTofu variable environment name",
          "name a variable TF_VAR_<lowercase_name> (e.g. " + example + "): OpenTofu reads it as an ephemeral variable, so the secret never lands in a file, plan or state");
    }
  }

  /** An absolute path in the form a shell and OpenTofu take without quoting. */
  private boolean absPath(String path, String value) {
    if (!ABS_PATH.matcher(value).matches() || !normalized(value).equals(value)) {
      problem(path, "'" + value + "' is not an absolute path this tool can use",
          "start with /, use letters, digits, '.', '_', '-', without '.', '..' or '//' segments"
              + (ABS_PATH.matcher(value).matches() ? " (here: " + normalized(value) + ")" : "") + ", e.g. /opt/vllm_env");
      return false;
    }
    return true;
  }

  /**
   * A directory on the hosts that a script of ours creates, chmods, exports, mounts or deletes:
   * absolute, normalized, and neither a system directory nor one of ours.
   */
  private void hostPath(String path, String value, String fix) {
    if (!absPath(path, value)) {
      return;
    }
    if (SYSTEM_DIRS.contains(value)) {
      problem(path, "is " + value + ", a system directory: our scripts change the owner or mode of this directory, export,"
          + " mount over or delete it", fix.startsWith("use") ? fix : "use a directory of its own, " + fix);
    }
  }

  /** A path on the deploy machine: absolute (a stack file's are resolved against the project root). */
  private boolean deployMachinePath(String path, String value, boolean warnIfUnreadable) {
    if (value == null) {
      return false;
    }
    if (!ABS_PATH.matcher(value).matches()) {
      problem(path, "'" + value + "' has characters this tool does not pass to a shell, or is not absolute",
          "use an absolute path of letters, digits, '.', '_', '-', '/'");
      return false;
    }
    if (warnIfUnreadable && !Files.isReadable(Path.of(value))) {
      warnings.add(path + ": " + value + " is not readable on this machine; deploy will fail until it is (plan works without it)");
    }
    return true;
  }

  static String normalized(String path) {
    String n = Path.of(path).normalize().toString();
    return n.length() > 1 && n.endsWith("/") ? n.substring(0, n.length() - 1) : n;
  }

  private boolean url(String path, String value) {
    if (!URL.matcher(value).matches()) {
      problem(path, "'" + value + "' is not an http(s) URL", "e.g. https://mirror.example.org/simple");
      return false;
    }
    return true;
  }

  private void version(String path, String value) {
    if (!VERSION.matcher(value).matches()) {
      problem(path, "'" + value + "' is not a version", "pin an exact release, e.g. 2.47.1 (quote it if YAML would read it as a number)");
    }
  }

  /** The lowercase choices of an enum, as a stack file writes them. */
  public static <E extends Enum<E>> String choices(Class<E> type) {
    List<String> names = new ArrayList<>();
    for (E c : type.getEnumConstants()) {
      names.add(c instanceof YamlEnum y ? y.yamlName() : c.name().toLowerCase(Locale.ROOT));
    }
    return String.join(", ", names);
  }
}
