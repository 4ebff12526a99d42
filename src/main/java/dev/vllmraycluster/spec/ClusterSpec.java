package dev.vllmraycluster.spec;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The cluster, as one typed model: a stack file maps onto it key for key (snake_case in YAML,
 * camelCase here), and Java code builds the same records with their builders. Each record
 * declares its defaults once, in its constructor (a field left null gets its default there);
 * {@link SpecValidator} then checks every field and cross-field rule on any spec, however it was
 * built, and {@link StackSchema} derives the JSON Schema and README's key table from the records
 * and their {@link Doc} annotations.
 *
 * <p>Defaults that depend on other sections are resolved here: a node's SSH settings from {@code
 * ssh:}, the parallelism from the nodes, Ray's token authentication from the pinned Ray, the S3
 * state key from the stack name.
 *
 * @param name the stack name (the file name of a stack file; not a key in it)
 */
public record ClusterSpec(
    @JsonIgnore String name,
    @Doc(value = "the GPU servers; exactly one has role: head", required = true) List<NodeSpec> nodes,
    @Doc(value = "nodes leaving the cluster: an entry moved here from `nodes` unchanged; the next deploy runs each of its parts' `remove.sh` over SSH, as destroy would ([Day-two operations](#day-two-operations))", dflt = "`[]`", type = "node entries") List<NodeSpec> removedNodes,
    @Doc(value = "names of nodes gone for good: their parts leave the state, nothing connects to them", dflt = "`[]`", type = "names") List<String> forgottenNodes,
    @Doc("SSH settings every node inherits") SshDefaults ssh,
    @Doc("who may reach what") NetworkSpec network,
    @Doc("what every node runs") SoftwareSpec software,
    @Doc(value = "where the weights come from", required = true) ModelSpec model,
    @Doc("where the model lives on the nodes") StorageSpec storage,
    @Doc("the Ray cluster") RaySpec ray,
    @Doc("vLLM's OpenAI-compatible server on the head") VllmSpec vllm,
    @Doc("the health watchdog on the head") WatchdogSpec watchdog,
    @Doc("metrics from every node, GPU health, alert rules and dashboards ([Monitoring](#monitoring)); off by default") MonitoringSpec monitoring,
    @Doc("where OpenTofu keeps the stack's state") StateSpec state,
    @Doc("switches for test hosts only") TestingSpec testing) {

  /** The first Ray release with token authentication (RAY_AUTH_MODE=token). */
  public static final int[] RAY_TOKEN_AUTH_SINCE = {2, 52};

  public ClusterSpec {
    nodes = nodes == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(nodes));
    removedNodes = removedNodes == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(removedNodes));
    forgottenNodes = forgottenNodes == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(forgottenNodes));
    watchdog = watchdog == null ? WatchdogSpec.builder().build() : watchdog;
    ssh = ssh == null ? SshDefaults.builder().build() : ssh;
    network = network == null ? NetworkSpec.builder().build() : network;
    software = software == null ? SoftwareSpec.builder().build() : software;
    storage = storage == null ? StorageSpec.builder().build() : storage;
    ray = ray == null ? RaySpec.builder().build() : ray;
    vllm = vllm == null ? VllmSpec.builder().build() : vllm;
    monitoring = monitoring == null ? MonitoringSpec.builder().build() : monitoring;
    state = state == null ? StateSpec.DEFAULT : state;
    testing = testing == null ? TestingSpec.NONE : testing;
    // Defaults that come from other sections.
    List<NodeSpec> resolved = new ArrayList<>();
    for (NodeSpec n : nodes) {
      resolved.add(n == null ? null : n.inheriting(ssh));
    }
    nodes = Collections.unmodifiableList(resolved);
    List<NodeSpec> leaving = new ArrayList<>();
    for (NodeSpec n : removedNodes) {
      leaving.add(n == null ? null : n.inheriting(ssh));
    }
    removedNodes = Collections.unmodifiableList(leaving);
    vllm = vllm.withDefaultParallelism(nodes);
    if (ray.requireAuthToken() == null) {
      ray = ray.toBuilder().requireAuthToken(atLeast(software.rayVersion(), RAY_TOKEN_AUTH_SINCE)).build();
    }
    if (state.backend() == StateBackend.S3 && state.key() == null && name != null) {
      state = state.toBuilder().key("vllm-ray-cluster/" + name + ".tfstate").build();
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return new Builder()
        .name(name).nodes(nodes).removedNodes(removedNodes).forgottenNodes(forgottenNodes).ssh(ssh).network(network)
        .software(software).model(model).storage(storage).ray(ray).vllm(vllm).watchdog(watchdog).monitoring(monitoring)
        .state(state).testing(testing);
  }

  /** The same cluster under another name. */
  public ClusterSpec withName(String newName) {
    return toBuilder().name(newName).build();
  }

  /**
   * Paths on the deploy machine made absolute: {@code ~/} is the home directory, a relative path
   * is relative to {@code root} (a stack file's paths are relative to the project root).
   */
  public ClusterSpec withPathsResolvedAgainst(Path root) {
    UnaryOperator<String> abs = p -> resolvePath(root, p);
    List<NodeSpec> ns = new ArrayList<>();
    for (NodeSpec n : nodes) {
      ns.add(n == null ? null : n.toBuilder().sshPrivateKeyPath(abs.apply(n.sshPrivateKeyPath())).build());
    }
    List<NodeSpec> removed = new ArrayList<>();
    for (NodeSpec n : removedNodes) {
      removed.add(n == null ? null : n.toBuilder().sshPrivateKeyPath(abs.apply(n.sshPrivateKeyPath())).build());
    }
    return toBuilder()
        .nodes(ns)
        .removedNodes(removed)
        .ssh(ssh.toBuilder().privateKeyPath(abs.apply(ssh.privateKeyPath())).build())
        .software(software.toBuilder().requirementsLock(abs.apply(software.requirementsLock())).build())
        .vllm(vllm.toBuilder().tlsCertPath(abs.apply(vllm.tlsCertPath())).tlsKeyPath(abs.apply(vllm.tlsKeyPath())).build())
        .model(model == null ? null : model.toBuilder().localDirectory(abs.apply(model.localDirectory()))
            .configJson(abs.apply(model.configJson())).build())
        .state(state.toBuilder().path(abs.apply(state.path())).build())
        .build();
  }

  static String resolvePath(Path root, String p) {
    if (p == null) {
      return null;
    }
    String expanded = p.startsWith("~/") ? System.getProperty("user.home") + p.substring(1) : p;
    Path path = Path.of(expanded);
    return path.isAbsolute() ? expanded : root.toAbsolutePath().normalize().resolve(path).normalize().toString();
  }

  public NodeSpec head() {
    return nodes.stream()
        .filter(n -> n != null && n.role() == Role.HEAD)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("cluster " + name + " has no head node"));
  }

  public List<NodeSpec> workers() {
    return nodes.stream().filter(n -> n != null && n.role() == Role.WORKER).toList();
  }

  public int totalGpus() {
    return nodes.stream().filter(n -> n != null && n.gpus() != null).mapToInt(NodeSpec::gpus).sum();
  }

  /**
   * Where clients reach the API: {@code https://<head address>:<vllm.port>} with the proxy's TLS,
   * else {@code http://...}; no path.
   */
  public String apiBaseUrl() {
    return (vllm.https() ? "https" : "http") + "://" + head().address() + ":" + vllm.port();
  }

  /** The addresses of every node, the set that may reach any port of any other node. */
  public List<String> nodeAddresses() {
    return nodes.stream().map(NodeSpec::address).toList();
  }

  /** True when a version's leading numbers are at least {@code min} (2.60.0 ≥ 2.52). */
  public static boolean atLeast(String version, int[] min) {
    if (version == null) {
      return false;
    }
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

  /** Builds a {@link ClusterSpec}; unset sections get their defaults. */
  public static final class Builder {
    private String name;
    private List<NodeSpec> nodes = new ArrayList<>();
    private List<NodeSpec> removedNodes = new ArrayList<>();
    private List<String> forgottenNodes = new ArrayList<>();
    private WatchdogSpec watchdog;
    private SshDefaults ssh;
    private NetworkSpec network;
    private SoftwareSpec software;
    private ModelSpec model;
    private StorageSpec storage;
    private RaySpec ray;
    private VllmSpec vllm;
    private MonitoringSpec monitoring;
    private StateSpec state;
    private TestingSpec testing;

    private Builder() {}

    /** The stack name: lowercase letters, digits and '-'. Required. */
    public Builder name(String v) {
      name = v;
      return this;
    }

    /** Every node; exactly one has {@link Role#HEAD}. Required. */
    public Builder nodes(List<NodeSpec> v) {
      nodes = v == null ? new ArrayList<>() : new ArrayList<>(v);
      return this;
    }

    public Builder node(NodeSpec v) {
      nodes.add(v);
      return this;
    }

    /** @default user root, port 22, ssh-agent */
    public Builder ssh(SshDefaults v) {
      ssh = v;
      return this;
    }

    /** @default only the nodes reach the API; the dashboard through an SSH tunnel; firewall auto */
    public Builder network(NetworkSpec v) {
      network = v;
      return this;
    }

    /** @default the pinned Ray and vLLM from PyPI into /opt/vllm_env */
    public Builder software(SoftwareSpec v) {
      software = v;
      return this;
    }

    /** Where the weights come from. Required. */
    public Builder model(ModelSpec v) {
      model = v;
      return this;
    }

    /** @default an NFS export of /srv/vllm-models on the head */
    public Builder storage(StorageSpec v) {
      storage = v;
      return this;
    }

    /** @default every port pinned (GCS 6379), dashboard on 127.0.0.1, token authentication */
    public Builder ray(RaySpec v) {
      ray = v;
      return this;
    }

    /** @default port 9001, TP = GPUs per node, PP = GPU nodes, API key required */
    public Builder vllm(VllmSpec v) {
      vllm = v;
      return this;
    }

    /** @default off: no Prometheus, no exporters, no collectors */
    public Builder monitoring(MonitoringSpec v) {
      monitoring = v;
      return this;
    }

    /** @default CDKTF's local file terraform.NAME.tfstate in the project root */
    public Builder state(StateSpec v) {
      state = v;
      return this;
    }

    /** @default no testing switch */
    public Builder testing(TestingSpec v) {
      testing = v;
      return this;
    }

    /**
     * Nodes leaving the cluster, each as it was in {@link #nodes}: the next deploy destroys their
     * parts with their remove.sh over SSH, as destroy would.
     *
     * @default none
     */
    public Builder removedNodes(List<NodeSpec> v) {
      removedNodes = v == null ? new ArrayList<>() : new ArrayList<>(v);
      return this;
    }

    /**
     * Names of nodes gone for good: their parts leave the state without a connection.
     *
     * @default none
     */
    public Builder forgottenNodes(List<String> v) {
      forgottenNodes = v == null ? new ArrayList<>() : new ArrayList<>(v);
      return this;
    }

    /** @default on: a probe every 30 s, vLLM restarted after 3 failed completions in a row */
    public Builder watchdog(WatchdogSpec v) {
      watchdog = v;
      return this;
    }

    public ClusterSpec build() {
      return new ClusterSpec(name, nodes, removedNodes, forgottenNodes, ssh, network, software, model, storage, ray, vllm,
          watchdog, monitoring, state, testing);
    }
  }

  // ------------------------------------------------------------------ nodes

  public enum Role implements YamlEnum {
    HEAD,
    WORKER
  }

  /** One GPU server and how to reach it; the {@code ssh_*} fields override {@code ssh:}. */
  public record NodeSpec(
      @Doc(value = "`[a-z][a-z0-9_-]*`; becomes the resource names (`<name>_ray`)", required = true) String name,
      @Doc("exactly one head (Ray head + vLLM API server)") Role role,
      @Doc(value = "the node's address on the cluster network (Ray, firewall, NFS); loopback, `0.0.0.0/8`, broadcast and multicast addresses are refused", type = "IPv4", required = true) String address,
      @Doc(value = "GPUs on the node, declared to Ray as `--num-gpus`", type = "int 0–16", required = true) Integer gpus,
      @Doc(value = "where SSH connects, when it differs from `address`", dflt = "`address`", type = "host/IP") String sshHost,
      @Doc(value = "per-node SSH user", dflt = "`ssh.user`") String sshUser,
      @Doc(value = "per-node SSH port; not a port the firewall protects", dflt = "`ssh.port`") Integer sshPort,
      @Doc(value = "per-node private key", dflt = "`ssh.private_key_path`") String sshPrivateKeyPath,
      @Doc(value = "pins the host key the provisioners check; without it, synth takes the node's key from this machine's `~/.ssh/known_hosts` / `/etc/ssh/ssh_known_hosts`, and a node with neither is never connected to (see [Security model](#security-model))", dflt = "from known_hosts", type = "`ecdsa-sha2-nistp256 AAAA...`") String sshHostKey,
      @Doc(value = "sets `NCCL_SOCKET_IFNAME`/`GLOO_SOCKET_IFNAME` for Ray and vLLM", dflt = "none") String networkInterface,
      @Doc(value = "memory of each GPU (nvidia-smi's `memory.total` ÷ 1024); with the model's config.json, `parallelism` and synth check that the layout fits", dflt = "unknown: memory is not planned", type = "number") Double gpuMemoryGib) {

    public NodeSpec {
      role = role == null ? Role.WORKER : role;
      if (sshHostKey != null) {
        // "type base64 [comment]" as ssh-keyscan prints it: the comment is not part of the key.
        String[] parts = sshHostKey.trim().split("\\s+");
        sshHostKey = parts.length >= 2 ? parts[0] + " " + parts[1] : sshHostKey.trim();
      }
    }

    public static Builder builder() {
      return new Builder();
    }

    public Builder toBuilder() {
      return new Builder().name(name).role(role).address(address).gpus(gpus).sshHost(sshHost).sshUser(sshUser)
          .sshPort(sshPort).sshPrivateKeyPath(sshPrivateKeyPath).sshHostKey(sshHostKey).networkInterface(networkInterface)
          .gpuMemoryGib(gpuMemoryGib);
    }

    /** How SSH reaches this node (the cluster's {@code ssh:} defaults applied). */
    public SshSpec ssh() {
      return new SshSpec(sshHost == null ? address : sshHost, sshUser, sshPort == null ? 0 : sshPort, sshPrivateKeyPath, sshHostKey);
    }

    NodeSpec inheriting(SshDefaults d) {
      return toBuilder()
          .sshUser(sshUser == null ? d.user() : sshUser)
          .sshPort(sshPort == null ? d.port() : sshPort)
          .sshPrivateKeyPath(sshPrivateKeyPath == null ? d.privateKeyPath() : sshPrivateKeyPath)
          .build();
    }

    public static final class Builder {
      private String name;
      private Role role;
      private String address;
      private Integer gpus;
      private String sshHost;
      private String sshUser;
      private Integer sshPort;
      private String sshPrivateKeyPath;
      private String sshHostKey;
      private String networkInterface;
      private Double gpuMemoryGib;

      private Builder() {}

      /** Lowercase letters, digits, '_' or '-'; part of every resource name. Required. */
      public Builder name(String v) {
        name = v;
        return this;
      }

      /** @default {@link Role#WORKER} */
      public Builder role(Role v) {
        role = v;
        return this;
      }

      /** The node's IPv4 address on the cluster network. Required. */
      public Builder address(String v) {
        address = v;
        return this;
      }

      /** GPUs on the node (0 to 16). Required. */
      public Builder gpus(Integer v) {
        gpus = v;
        return this;
      }

      /** @default the node's address */
      public Builder sshHost(String v) {
        sshHost = v;
        return this;
      }

      /** @default the cluster's {@code ssh.user} */
      public Builder sshUser(String v) {
        sshUser = v;
        return this;
      }

      /** @default the cluster's {@code ssh.port} */
      public Builder sshPort(Integer v) {
        sshPort = v;
        return this;
      }

      /** @default the cluster's {@code ssh.private_key_path} (ssh-agent when none) */
      public Builder sshPrivateKeyPath(String v) {
        sshPrivateKeyPath = v;
        return this;
      }

      /** @default none: the host key is not pinned */
      public Builder sshHostKey(String v) {
        sshHostKey = v;
        return this;
      }

      /** @default none: NCCL and Gloo pick the interface */
      public Builder networkInterface(String v) {
        networkInterface = v;
        return this;
      }

      /** Memory of each GPU in GiB, for the parallelism planner. @default unknown (memory is not planned) */
      public Builder gpuMemoryGib(Double v) {
        gpuMemoryGib = v;
        return this;
      }

      public NodeSpec build() {
        return new NodeSpec(name, role, address, gpus, sshHost, sshUser, sshPort, sshPrivateKeyPath, sshHostKey, networkInterface, gpuMemoryGib);
      }
    }
  }

  /**
   * How SSH reaches one node, resolved. {@code privateKeyPath} null means ssh-agent ({@code
   * SSH_AUTH_SOCK}); {@code hostKey} null means the host key is not pinned in the stack.
   */
  public record SshSpec(String host, String user, int port, String privateKeyPath, String hostKey) {}

  /** SSH settings every node inherits unless it overrides them ({@code nodes[].ssh_*}). */
  public record SshDefaults(
      @Doc("the SSH user; non-root users need passwordless sudo") String user,
      @Doc("the SSH port; not a port the firewall protects (Ray's, the API's, NFS on the head)") Integer port,
      @Doc(value = "the private key; absent: the provisioners use `SSH_AUTH_SOCK`", dflt = "ssh-agent", type = "path") String privateKeyPath) {
    public SshDefaults {
      user = user == null ? "root" : user;
      port = port == null ? 22 : port;
    }

    public static Builder builder() {
      return new Builder();
    }

    public Builder toBuilder() {
      return new Builder().user(user).port(port).privateKeyPath(privateKeyPath);
    }

    public static final class Builder {
      private String user;
      private Integer port;
      private String privateKeyPath;

      private Builder() {}

      /** @default root */
      public Builder user(String v) {
        user = v;
        return this;
      }

      /** @default 22 */
      public Builder port(Integer v) {
        port = v;
        return this;
      }

      /** @default none: ssh-agent */
      public Builder privateKeyPath(String v) {
        privateKeyPath = v;
        return this;
      }

      public SshDefaults build() {
        return new SshDefaults(user, port, privateKeyPath);
      }
    }
  }

  // ------------------------------------------------------------------ network

  /**
   * Where a node's firewall rules go ({@code modules/firewall}). {@code AUTO}: firewalld if it is
   * running, else ufw if it is active, else our own nftables table. An explicit {@code FIREWALLD}
   * or {@code UFW} whose firewall is installed but not running falls back to nftables (we never
   * start or enable a host firewall). {@code NONE}: no rules (flagged).
   */
  public enum FirewallBackend implements YamlEnum {
    AUTO,
    NFTABLES,
    FIREWALLD,
    UFW,
    NONE;

    @Override
    public String hint() {
      return "auto (the default) picks firewalld if it runs, else ufw if active, else nftables, per node";
    }
  }

  /**
   * The link between the nodes that tensor parallelism talks over. Declared by the stack so that
   * a tensor-parallel group spanning nodes is a choice and not an accident; {@code null} in
   * {@link NetworkSpec} means not declared (treated as plain Ethernet).
   */
  public enum Interconnect implements YamlEnum {
    /** TCP over Ethernet: fine for pipeline parallelism across nodes, slow for tensor parallelism. */
    ETHERNET,
    /** InfiniBand (NCCL over RDMA). */
    INFINIBAND,
    /** RDMA over Converged Ethernet. */
    ROCE,
    /** A multi-node NVLink domain (NVLink switch). */
    NVLINK;

    /** Fast enough for a tensor-parallel group that spans nodes. */
    public boolean fast() {
      return this != ETHERNET;
    }
  }

  /** Who may reach what. Networks are written as an address or a CIDR and kept as a CIDR. */
  public record NetworkSpec(
      @Doc(value = "every node address must be inside it", dflt = "none", type = "CIDR") String clusterCidr,
      @Doc(value = "who may reach the vLLM API port", dflt = "`[]` (cluster only)", type = "CIDR list") List<String> apiAllowedNetworks,
      @Doc(value = "who may reach the Ray dashboard", dflt = "`[]` (SSH tunnel)", type = "CIDR list") List<String> dashboardAllowedNetworks,
      @Doc("auto: firewalld if running, else ufw if active, else nftables (per node); `none` is flagged") FirewallBackend firewallBackend,
      @Doc(value = "the link tensor parallelism talks over; with a fast one declared, TP across nodes is not flagged", dflt = "not declared") Interconnect interconnect) {
    public NetworkSpec {
      clusterCidr = clusterCidr == null ? null : Cidr.canonical(clusterCidr);
      apiAllowedNetworks = canonical(apiAllowedNetworks);
      dashboardAllowedNetworks = canonical(dashboardAllowedNetworks);
      firewallBackend = firewallBackend == null ? FirewallBackend.AUTO : firewallBackend;
    }

    private static List<String> canonical(List<String> networks) {
      List<String> out = new ArrayList<>();
      if (networks != null) {
        networks.forEach(n -> out.add(n == null ? null : Cidr.canonical(n)));
      }
      return Collections.unmodifiableList(out);
    }

    public static Builder builder() {
      return new Builder();
    }

    public Builder toBuilder() {
      return new Builder().clusterCidr(clusterCidr).apiAllowedNetworks(apiAllowedNetworks)
          .dashboardAllowedNetworks(dashboardAllowedNetworks).firewallBackend(firewallBackend).interconnect(interconnect);
    }

    public static final class Builder {
      private String clusterCidr;
      private List<String> apiAllowedNetworks;
      private List<String> dashboardAllowedNetworks;
      private FirewallBackend firewallBackend;
      private Interconnect interconnect;

      private Builder() {}

      /** @default none: only the node addresses are the cluster */
      public Builder clusterCidr(String v) {
        clusterCidr = v;
        return this;
      }

      /** @default none: only the cluster reaches the API */
      public Builder apiAllowedNetworks(List<String> v) {
        apiAllowedNetworks = v;
        return this;
      }

      /** @default none: the dashboard through an SSH tunnel only */
      public Builder dashboardAllowedNetworks(List<String> v) {
        dashboardAllowedNetworks = v;
        return this;
      }

      /** @default {@link FirewallBackend#AUTO} */
      public Builder firewallBackend(FirewallBackend v) {
        firewallBackend = v;
        return this;
      }

      /** @default not declared (tensor parallelism across nodes is flagged) */
      public Builder interconnect(Interconnect v) {
        interconnect = v;
        return this;
      }

      public NetworkSpec build() {
        return new NetworkSpec(clusterCidr, apiAllowedNetworks, dashboardAllowedNetworks, firewallBackend, interconnect);
      }
    }
  }

  // ------------------------------------------------------------------ software

  public enum OsFamily implements YamlEnum {
    AUTO,
    APT,
    DNF
  }

  /** What makes the venv and installs Ray and vLLM: uv with pip as its fallback, or one of them. */
  public enum Installer implements YamlEnum {
    AUTO,
    UV,
    PIP
  }

  /** What every node runs. */
  public record SoftwareSpec(
      @Doc("package manager for `python3-dev gcc g++` / `python3-devel gcc gcc-c++`") OsFamily osFamily,
      @Doc(value = "interpreter for the venv", type = "`python3[.N]`") String python,
      @Doc(value = "the venv on every node; a system directory (`/`, `/usr`, `/opt`, ...) is refused", type = "path") String venvPath,
      @Doc(value = "Ray, pinned, the same on every node", type = "version") String rayVersion,
      @Doc(value = "vLLM, pinned, the same on every node; releases before 0.18.0 are refused (published remote-code-execution advisories), see [vLLM versions](#vllm-versions)", type = "version") String vllmVersion,
      @Doc(value = "a package index mirror (`http://` is flagged); credentials in the URL are refused (use `pip_credentials_env`)", dflt = "PyPI", type = "URL") String pipIndexUrl,
      @Doc(value = "a wheel directory or URL (installs with `--no-index`)", dflt = "none", type = "URL/path") String pipFindLinks,
      @Doc(value = "a plain-HTTP mirror's host (flagged: pip then skips TLS for it)", dflt = "none", type = "host") String pipTrustedHost,
      @Doc(value = "`TF_VAR_<name>` holding `user:password` for the mirror; delivered like the other secrets, into a root-only netrc pip reads", dflt = "none") String pipCredentialsEnv,
      @Doc("let pip build packages from source (runs their build scripts as root); off: `--only-binary=:all:`") Boolean allowSourceBuilds,
      @Doc(value = "a hash-locked requirements file on this machine, uploaded and installed with `--require-hashes`", dflt = "none", type = "path") String requirementsLock,
      @Doc("what makes the venv and installs: `auto` = uv (installed from the same index/mirror/wheelhouse, through the host's wheel cache), pip when uv cannot be had there or with `requirements_lock`") Installer installer) {
    public static final String DEFAULT_RAY_VERSION = "2.60.0";
    public static final String DEFAULT_VLLM_VERSION = dev.vllmraycluster.vllm.VllmReleases.DEFAULT;

    public SoftwareSpec {
      osFamily = osFamily == null ? OsFamily.AUTO : osFamily;
      python = python == null ? "python3" : python;
      venvPath = venvPath == null ? "/opt/vllm_env" : withoutTrailingSlash(venvPath);
      rayVersion = rayVersion == null ? DEFAULT_RAY_VERSION : rayVersion;
      vllmVersion = vllmVersion == null ? DEFAULT_VLLM_VERSION : vllmVersion;
      allowSourceBuilds = allowSourceBuilds != null && allowSourceBuilds;
      installer = installer == null ? Installer.AUTO : installer;
    }

    public static Builder builder() {
      return new Builder();
    }

    public Builder toBuilder() {
      return new Builder().osFamily(osFamily).python(python).venvPath(venvPath).rayVersion(rayVersion)
          .vllmVersion(vllmVersion).pipIndexUrl(pipIndexUrl).pipFindLinks(pipFindLinks).pipTrustedHost(pipTrustedHost)
          .pipCredentialsEnv(pipCredentialsEnv).allowSourceBuilds(allowSourceBuilds).requirementsLock(requirementsLock)
          .installer(installer);
    }

    /** The mirror credentials' secret, or null. */
    public SecretRef pipCredentials() {
      return pipCredentialsEnv == null ? null : new SecretRef(pipCredentialsEnv);
    }

    public static final class Builder {
      private OsFamily osFamily;
      private String python;
      private String venvPath;
      private String rayVersion;
      private String vllmVersion;
      private String pipIndexUrl;
      private String pipFindLinks;
      private String pipTrustedHost;
      private String pipCredentialsEnv;
      private Boolean allowSourceBuilds;
      private String requirementsLock;
      private Installer installer;

      private Builder() {}

      /** @default {@link OsFamily#AUTO} */
      public Builder osFamily(OsFamily v) {
        osFamily = v;
        return this;
      }

      /** @default python3 */
      public Builder python(String v) {
        python = v;
        return this;
      }

      /** @default /opt/vllm_env */
      public Builder venvPath(String v) {
        venvPath = v;
        return this;
      }

      /** @default {@value SoftwareSpec#DEFAULT_RAY_VERSION} */
      public Builder rayVersion(String v) {
        rayVersion = v;
        return this;
      }

      /** @default {@value SoftwareSpec#DEFAULT_VLLM_VERSION} */
      public Builder vllmVersion(String v) {
        vllmVersion = v;
        return this;
      }

      /** @default PyPI */
      public Builder pipIndexUrl(String v) {
        pipIndexUrl = v;
        return this;
      }

      /** @default none */
      public Builder pipFindLinks(String v) {
        pipFindLinks = v;
        return this;
      }

      /** @default none (flagged when set) */
      public Builder pipTrustedHost(String v) {
        pipTrustedHost = v;
        return this;
      }

      /** {@code TF_VAR_<name>} holding {@code user:password} for the mirror. @default none */
      public Builder pipCredentialsEnv(String v) {
        pipCredentialsEnv = v;
        return this;
      }

      /** @default false: pip installs wheels only ({@code --only-binary=:all:}) */
      public Builder allowSourceBuilds(Boolean v) {
        allowSourceBuilds = v;
        return this;
      }

      /** A hash-locked requirements file on the deploy machine. @default none */
      public Builder requirementsLock(String v) {
        requirementsLock = v;
        return this;
      }

      /** @default {@link Installer#AUTO}: uv, pip when uv cannot be had from the package source */
      public Builder installer(Installer v) {
        installer = v;
        return this;
      }

      public SoftwareSpec build() {
        return new SoftwareSpec(osFamily, python, venvPath, rayVersion, vllmVersion, pipIndexUrl, pipFindLinks,
            pipTrustedHost, pipCredentialsEnv, allowSourceBuilds, requirementsLock, installer);
      }
    }
  }

  // ------------------------------------------------------------------ model

  /** Where the weights come from. */
  public sealed interface ModelSource permits HuggingFace, LocalDirectory {}

  /** A Hugging Face repository, fetched on the host(s) that hold the model store. */
  public record HuggingFace(String repo, String revision, String endpoint, SecretRef token)
      implements ModelSource {}

  /** A directory on the deploy machine, uploaded over SSH. */
  public record LocalDirectory(String path) implements ModelSource {}

  /** The model: one of {@code huggingfaceRepo} or {@code localDirectory}, and its names. */
  public record ModelSpec(
      @Doc(value = "fetched on the hosts (one of this and `local_directory`)", dflt = "one required", type = "owner/name") String huggingfaceRepo,
      @Doc(value = "the branch, tag or commit to fetch (resolved to its commit first; a missing one stops the deploy naming it); not a 40-hex commit is flagged in plan reviews", dflt = "`main`") String revision,
      @Doc(value = "a Hugging Face mirror (`http://` is flagged)", dflt = "none", type = "URL") String hfEndpoint,
      @Doc(value = "the HF token as `TF_VAR_<name>`; deleted from the host once the fetch has read it; a refused token stops the deploy naming the variable", dflt = "none") String hfTokenEnv,
      @Doc(value = "uploaded from this machine (one of this and `huggingface_repo`)", dflt = "one required", type = "path") String localDirectory,
      @Doc(value = "the name clients send", dflt = "`directory_name`") String servedModelName,
      @Doc(value = "the directory under `storage.mount_path`", dflt = "repo/dir basename") String directoryName,
      @Doc(value = "the model's `config.json` on this machine, for the parallelism planner (`parallelism`, and synth's check that the layout can start)", dflt = "`local_directory`'s; none for `huggingface_repo`", type = "path") String configJson) {
    public ModelSpec {
      directoryName = directoryName != null ? directoryName : baseName(huggingfaceRepo, localDirectory);
      servedModelName = servedModelName == null ? directoryName : servedModelName;
    }

    private static String baseName(String repo, String dir) {
      if (repo != null) {
        return repo.substring(repo.indexOf('/') + 1);
      }
      if (dir != null) {
        Path name = Path.of(dir).getFileName();
        return name == null ? "model" : name.toString();
      }
      return null;
    }

    /** A model fetched from Hugging Face. */
    public static Builder huggingFace(String repo) {
      return new Builder().huggingfaceRepo(repo);
    }

    /** A model uploaded from a directory on the deploy machine. */
    public static Builder localDirectory(Path dir) {
      return new Builder().localDirectory(dir.toAbsolutePath().toString());
    }

    public static Builder builder() {
      return new Builder();
    }

    public Builder toBuilder() {
      return new Builder().huggingfaceRepo(huggingfaceRepo).revision(revision).hfEndpoint(hfEndpoint)
          .hfTokenEnv(hfTokenEnv).localDirectory(localDirectory).servedModelName(servedModelName).directoryName(directoryName)
          .configJson(configJson);
    }

    /** The branch, tag or commit to fetch (of a Hugging Face model). */
    @Override
    public String revision() {
      return revision == null && huggingfaceRepo != null ? "main" : revision;
    }

    /** The revision as given, null when left to its default. */
    String givenRevision() {
      return revision;
    }

    /** Where the weights come from (after validation: exactly one source is set). */
    public ModelSource source() {
      if (huggingfaceRepo != null) {
        return new HuggingFace(huggingfaceRepo, revision(), hfEndpoint == null ? "" : hfEndpoint,
            hfTokenEnv == null ? null : new SecretRef(hfTokenEnv));
      }
      return localDirectory == null ? null : new LocalDirectory(localDirectory);
    }

    public static final class Builder {
      private String huggingfaceRepo;
      private String revision;
      private String hfEndpoint;
      private String hfTokenEnv;
      private String localDirectory;
      private String servedModelName;
      private String directoryName;
      private String configJson;

      private Builder() {}

      /** A repository id, e.g. deepseek-ai/deepseek-llm-7b-chat (or {@link #localDirectory}). */
      public Builder huggingfaceRepo(String v) {
        huggingfaceRepo = v;
        return this;
      }

      /** @default main */
      public Builder revision(String v) {
        revision = v;
        return this;
      }

      /** @default huggingface.co */
      public Builder hfEndpoint(String v) {
        hfEndpoint = v;
        return this;
      }

      /** {@code TF_VAR_<name>} holding the token. @default none */
      public Builder hfTokenEnv(String v) {
        hfTokenEnv = v;
        return this;
      }

      /** An absolute directory on the deploy machine (or {@link #huggingfaceRepo}). */
      public Builder localDirectory(String v) {
        localDirectory = v;
        return this;
      }

      /** @default the directory name */
      public Builder servedModelName(String v) {
        servedModelName = v;
        return this;
      }

      /** @default the repository's or directory's base name */
      public Builder directoryName(String v) {
        directoryName = v;
        return this;
      }

      /** The model's config.json on this machine, for the parallelism planner. @default the local directory's */
      public Builder configJson(String v) {
        configJson = v;
        return this;
      }

      public ModelSpec build() {
        return new ModelSpec(huggingfaceRepo, revision, hfEndpoint, hfTokenEnv, localDirectory, servedModelName, directoryName, configJson);
      }
    }
  }

  // ------------------------------------------------------------------ storage

  public enum StorageMode implements YamlEnum {
    HEAD_NFS,
    EXTERNAL_NFS,
    LOCAL_COPY
  }

  /** The model store: the same {@code mountPath} on every node. */
  public record StorageSpec(
      @Doc("where the model lives") StorageMode mode,
      @Doc(value = "the same path on every node; a system directory is refused", type = "path") String mountPath,
      @Doc(value = "an existing NFS server; the head mounts its export read-write and fetches the model into it: export it `rw,no_root_squash` to the head, read-only to the others", dflt = "external_nfs only") String nfsServer,
      @Doc(value = "its exported directory", dflt = "external_nfs only", type = "path") String nfsServerPath,
      @Doc("client mount options (NFS modes); `ro` is set on every node but the one that writes the model") String nfsMountOptions,
      @Doc("destroy keeps the model unless this is true") Boolean deleteOnDestroy) {
    public static final String DEFAULT_NFS_MOUNT_OPTIONS = "ro,hard,noatime,nfsvers=4.2";

    public StorageSpec {
      mode = mode == null ? StorageMode.HEAD_NFS : mode;
      mountPath = mountPath == null ? "/srv/vllm-models" : withoutTrailingSlash(mountPath);
      deleteOnDestroy = deleteOnDestroy != null && deleteOnDestroy;
    }

    public static Builder builder() {
      return new Builder();
    }

    public Builder toBuilder() {
      return new Builder().mode(mode).mountPath(mountPath).nfsServer(nfsServer).nfsServerPath(nfsServerPath)
          .nfsMountOptions(nfsMountOptions).deleteOnDestroy(deleteOnDestroy);
    }

    @Override
    public String nfsMountOptions() {
      return nfsMountOptions == null ? DEFAULT_NFS_MOUNT_OPTIONS : nfsMountOptions;
    }

    /** The mount options as given, null when left to the default. */
    String givenNfsMountOptions() {
      return nfsMountOptions;
    }

    public String modelPath(ModelSpec model) {
      return mountPath + "/" + model.directoryName();
    }

    public static final class Builder {
      private StorageMode mode;
      private String mountPath;
      private String nfsServer;
      private String nfsServerPath;
      private String nfsMountOptions;
      private Boolean deleteOnDestroy;

      private Builder() {}

      /** @default {@link StorageMode#HEAD_NFS} */
      public Builder mode(StorageMode v) {
        mode = v;
        return this;
      }

      /** @default /srv/vllm-models */
      public Builder mountPath(String v) {
        mountPath = v;
        return this;
      }

      /** Required with {@link StorageMode#EXTERNAL_NFS}, refused otherwise. */
      public Builder nfsServer(String v) {
        nfsServer = v;
        return this;
      }

      /** Required with {@link StorageMode#EXTERNAL_NFS}, refused otherwise. */
      public Builder nfsServerPath(String v) {
        nfsServerPath = v;
        return this;
      }

      /** @default {@value StorageSpec#DEFAULT_NFS_MOUNT_OPTIONS} */
      public Builder nfsMountOptions(String v) {
        nfsMountOptions = v;
        return this;
      }

      /** @default false: destroy keeps the model */
      public Builder deleteOnDestroy(Boolean v) {
        deleteOnDestroy = v;
        return this;
      }

      public StorageSpec build() {
        return new StorageSpec(mode, mountPath, nfsServer, nfsServerPath, nfsMountOptions, deleteOnDestroy);
      }
    }
  }

  // ------------------------------------------------------------------ ray

  /** Ray, with every port pinned so that the firewall can name each one. */
  public record RaySpec(
      @Doc("GCS") Integer gcsPort,
      @Doc("Ray client server") Integer clientServerPort,
      @Doc("dashboard and Jobs API") Integer dashboardPort,
      @Doc(value = "`0.0.0.0` is flagged (CVE-2023-48022)", type = "IPv4") String dashboardHost,
      @Doc("run the dashboard") Boolean includeDashboard,
      @Doc("dashboard agent (HTTP)") Integer dashboardAgentPort,
      @Doc("dashboard agent (gRPC)") Integer dashboardAgentGrpcPort,
      @Doc("raylet") Integer nodeManagerPort,
      @Doc("object manager") Integer objectManagerPort,
      @Doc("runtime-env agent") Integer runtimeEnvAgentPort,
      @Doc("metrics export") Integer metricsExportPort,
      @Doc("first port of the Ray worker (and NCCL) range") Integer minWorkerPort,
      @Doc("last port of that range") Integer maxWorkerPort,
      @Doc(value = "Ray's temp directory on every node, kept 0700 (the service user's; Ray runs in `temp_dir/ray`); a system directory is refused", type = "path") String tempDir,
      @Doc("bounded wait for a node to join") Integer readinessTimeoutSeconds,
      @Doc(value = "Ray's token authentication", dflt = "`true` (Ray 2.52+)") Boolean requireAuthToken,
      @Doc("the token's variable (not the API key's)") String authTokenEnv) {
    public static final String DEFAULT_AUTH_TOKEN_ENV = "TF_VAR_ray_auth_token";

    public RaySpec {
      gcsPort = gcsPort == null ? 6379 : gcsPort;
      clientServerPort = clientServerPort == null ? 10001 : clientServerPort;
      dashboardPort = dashboardPort == null ? 8265 : dashboardPort;
      dashboardHost = dashboardHost == null ? "127.0.0.1" : dashboardHost;
      includeDashboard = includeDashboard == null || includeDashboard;
      dashboardAgentPort = dashboardAgentPort == null ? 52365 : dashboardAgentPort;
      dashboardAgentGrpcPort = dashboardAgentGrpcPort == null ? 52366 : dashboardAgentGrpcPort;
      nodeManagerPort = nodeManagerPort == null ? 6380 : nodeManagerPort;
      objectManagerPort = objectManagerPort == null ? 6381 : objectManagerPort;
      runtimeEnvAgentPort = runtimeEnvAgentPort == null ? 6382 : runtimeEnvAgentPort;
      metricsExportPort = metricsExportPort == null ? 6383 : metricsExportPort;
      minWorkerPort = minWorkerPort == null ? 10002 : minWorkerPort;
      maxWorkerPort = maxWorkerPort == null ? 19999 : maxWorkerPort;
      tempDir = tempDir == null ? "/tmp/ray" : withoutTrailingSlash(tempDir);
      readinessTimeoutSeconds = readinessTimeoutSeconds == null ? 180 : readinessTimeoutSeconds;
    }

    public static Builder builder() {
      return new Builder();
    }

    public Builder toBuilder() {
      return new Builder().gcsPort(gcsPort).clientServerPort(clientServerPort).dashboardPort(dashboardPort)
          .dashboardHost(dashboardHost).includeDashboard(includeDashboard).dashboardAgentPort(dashboardAgentPort)
          .dashboardAgentGrpcPort(dashboardAgentGrpcPort).nodeManagerPort(nodeManagerPort)
          .objectManagerPort(objectManagerPort).runtimeEnvAgentPort(runtimeEnvAgentPort)
          .metricsExportPort(metricsExportPort).minWorkerPort(minWorkerPort).maxWorkerPort(maxWorkerPort)
          .tempDir(tempDir).readinessTimeoutSeconds(readinessTimeoutSeconds).requireAuthToken(requireAuthToken)
          .authTokenEnv(authTokenEnv);
    }

    @Override
    public String authTokenEnv() {
      return authTokenEnv == null ? DEFAULT_AUTH_TOKEN_ENV : authTokenEnv;
    }

    /** The token variable as given, null when left to the default. */
    String givenAuthTokenEnv() {
      return authTokenEnv;
    }

    /** Ray's token, or null when token authentication is off. */
    public SecretRef authToken() {
      return Boolean.TRUE.equals(requireAuthToken) ? new SecretRef(authTokenEnv()) : null;
    }

    public static final class Builder {
      private Integer gcsPort;
      private Integer clientServerPort;
      private Integer dashboardPort;
      private String dashboardHost;
      private Boolean includeDashboard;
      private Integer dashboardAgentPort;
      private Integer dashboardAgentGrpcPort;
      private Integer nodeManagerPort;
      private Integer objectManagerPort;
      private Integer runtimeEnvAgentPort;
      private Integer metricsExportPort;
      private Integer minWorkerPort;
      private Integer maxWorkerPort;
      private String tempDir;
      private Integer readinessTimeoutSeconds;
      private Boolean requireAuthToken;
      private String authTokenEnv;

      private Builder() {}

      /** @default 6379 */
      public Builder gcsPort(Integer v) {
        gcsPort = v;
        return this;
      }

      /** @default 10001 */
      public Builder clientServerPort(Integer v) {
        clientServerPort = v;
        return this;
      }

      /** @default 8265 */
      public Builder dashboardPort(Integer v) {
        dashboardPort = v;
        return this;
      }

      /** @default 127.0.0.1: reach the dashboard through an SSH tunnel */
      public Builder dashboardHost(String v) {
        dashboardHost = v;
        return this;
      }

      /** @default true */
      public Builder includeDashboard(Boolean v) {
        includeDashboard = v;
        return this;
      }

      /** @default 52365 */
      public Builder dashboardAgentPort(Integer v) {
        dashboardAgentPort = v;
        return this;
      }

      /** @default 52366 */
      public Builder dashboardAgentGrpcPort(Integer v) {
        dashboardAgentGrpcPort = v;
        return this;
      }

      /** @default 6380 */
      public Builder nodeManagerPort(Integer v) {
        nodeManagerPort = v;
        return this;
      }

      /** @default 6381 */
      public Builder objectManagerPort(Integer v) {
        objectManagerPort = v;
        return this;
      }

      /** @default 6382 */
      public Builder runtimeEnvAgentPort(Integer v) {
        runtimeEnvAgentPort = v;
        return this;
      }

      /** @default 6383 */
      public Builder metricsExportPort(Integer v) {
        metricsExportPort = v;
        return this;
      }

      /** @default 10002 */
      public Builder minWorkerPort(Integer v) {
        minWorkerPort = v;
        return this;
      }

      /** @default 19999 */
      public Builder maxWorkerPort(Integer v) {
        maxWorkerPort = v;
        return this;
      }

      /** @default /tmp/ray */
      public Builder tempDir(String v) {
        tempDir = v;
        return this;
      }

      /** @default 180 */
      public Builder readinessTimeoutSeconds(Integer v) {
        readinessTimeoutSeconds = v;
        return this;
      }

      /** @default true where the pinned Ray has it (2.52 and later) */
      public Builder requireAuthToken(Boolean v) {
        requireAuthToken = v;
        return this;
      }

      /** @default {@value RaySpec#DEFAULT_AUTH_TOKEN_ENV} */
      public Builder authTokenEnv(String v) {
        authTokenEnv = v;
        return this;
      }

      public RaySpec build() {
        return new RaySpec(gcsPort, clientServerPort, dashboardPort, dashboardHost, includeDashboard,
            dashboardAgentPort, dashboardAgentGrpcPort, nodeManagerPort, objectManagerPort, runtimeEnvAgentPort,
            metricsExportPort, minWorkerPort, maxWorkerPort, tempDir, readinessTimeoutSeconds, requireAuthToken,
            authTokenEnv);
      }
    }
  }

  // ------------------------------------------------------------------ vllm

  /** The OpenAI-compatible server on the head. */
  public record VllmSpec(
      @Doc("the API port") Integer port,
      @Doc(value = "the address the API binds (the firewall limits who reaches it)", type = "IPv4") String host,
      @Doc(value = "given one of the two, the other defaults to 1; TP×PP ≤ declared GPUs", dflt = "GPUs per node (with `data_parallel_size` at most GPUs ÷ DP)") Integer tensorParallelSize,
      @Doc(value = "pipeline stages", dflt = "GPU nodes (1 with `data_parallel_size`)") Integer pipelineParallelSize,
      @Doc(value = "replicas of the TP×PP model behind the one API (vLLM's Ray data-parallel backend); each replica's TP×PP GPUs on one node, the head holding the first; DP×TP×PP ≤ declared GPUs", dflt = "1") Integer dataParallelSize,
      @Doc("share of each GPU's memory vLLM may use") Double gpuMemoryUtilization,
      @Doc(value = "context length in tokens", dflt = "the model's") Integer maxModelLen,
      @Doc(value = "weights' dtype", dflt = "`auto`") String dtype,
      @Doc("the API needs a key (`/v1`); off is flagged") Boolean requireApiKey,
      @Doc("the key's variable") String apiKeyEnv,
      @Doc(value = "more `vllm serve` options, checked against the pinned release's own options (read from its wheel) with \"did you mean\"; options set by typed keys, `--api-key` and `--config` (in any spelling vLLM accepts) are refused", dflt = "`[]`") List<String> extraArgs,
      @Doc("bounded wait for `/health`") Integer readinessTimeoutSeconds,
      @Doc("the API behind HAProxy on the head (`port`, `host`), which checks the key on every path but `/health`; vLLM itself on 127.0.0.1:`backend_port`; off is flagged") Boolean proxy,
      @Doc("the proxy serves HTTPS only (plain HTTP to the port is refused); off is flagged") Boolean tls,
      @Doc(value = "the proxy's certificate (PEM, chain included) on this machine, with `tls_key_path`", dflt = "a per-cluster CA and server certificate made on the head", type = "path") String tlsCertPath,
      @Doc(value = "its private key (PEM) on this machine; uploaded like a secret, never in state", dflt = "generated on the head, never leaves it", type = "path") String tlsKeyPath,
      @Doc(value = "more DNS names or IPs for the generated server certificate", dflt = "`[]` (the head's address, `ssh_host` and 127.0.0.1)") List<String> tlsServerNames,
      @Doc("vLLM's own port behind the proxy, on 127.0.0.1 (closed to everyone outside the cluster)") Integer backendPort) {
    public static final String DEFAULT_API_KEY_ENV = "TF_VAR_vllm_api_key";

    public VllmSpec {
      port = port == null ? 9001 : port;
      host = host == null ? "0.0.0.0" : host;
      gpuMemoryUtilization = gpuMemoryUtilization == null ? 0.9 : gpuMemoryUtilization;
      requireApiKey = requireApiKey == null || requireApiKey;
      extraArgs = extraArgs == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(extraArgs));
      readinessTimeoutSeconds = readinessTimeoutSeconds == null ? 900 : readinessTimeoutSeconds;
      proxy = proxy == null || proxy;
      tls = tls == null || tls;
      tlsServerNames = tlsServerNames == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(tlsServerNames));
      backendPort = backendPort == null ? 8000 : backendPort;
    }

    /** The proxy's TLS is on (a proxy without TLS, or no proxy, serves plain HTTP). */
    public boolean https() {
      return proxy && tls;
    }

    /** The port vLLM itself binds: {@code backend_port} behind the proxy, else {@code port}. */
    public int vllmPort() {
      return proxy ? backendPort : port;
    }

    /** The address vLLM itself binds: 127.0.0.1 behind the proxy, else {@code host}. */
    public String vllmHost() {
      return proxy ? "127.0.0.1" : host;
    }

    /** The user gave the certificate and key (else the head makes a per-cluster CA). */
    public boolean userCertificate() {
      return tlsCertPath != null || tlsKeyPath != null;
    }

    public static Builder builder() {
      return new Builder();
    }

    public Builder toBuilder() {
      return new Builder().port(port).host(host).tensorParallelSize(tensorParallelSize)
          .pipelineParallelSize(pipelineParallelSize).dataParallelSize(dataParallelSize).gpuMemoryUtilization(gpuMemoryUtilization).maxModelLen(maxModelLen)
          .dtype(dtype).requireApiKey(requireApiKey).apiKeyEnv(apiKeyEnv).extraArgs(extraArgs)
          .readinessTimeoutSeconds(readinessTimeoutSeconds).proxy(proxy).tls(tls).tlsCertPath(tlsCertPath)
          .tlsKeyPath(tlsKeyPath).tlsServerNames(tlsServerNames).backendPort(backendPort);
    }

    @Override
    public String apiKeyEnv() {
      return apiKeyEnv == null ? DEFAULT_API_KEY_ENV : apiKeyEnv;
    }

    /** The key variable as given, null when left to the default. */
    String givenApiKeyEnv() {
      return apiKeyEnv;
    }

    /** The API key, or null when the API takes none (flagged). */
    public SecretRef apiKey() {
      return requireApiKey ? new SecretRef(apiKeyEnv()) : null;
    }

    /** The GPUs of one replica (TP × PP). */
    public int worldSize() {
      return tensorParallelSize * pipelineParallelSize;
    }

    /** Data-parallel replicas: {@code data_parallel_size}, 1 when not given. */
    public int replicas() {
      return dataParallelSize == null ? 1 : dataParallelSize;
    }

    /** The GPUs vLLM takes: DP × TP × PP. */
    public int gpusNeeded() {
      return replicas() * worldSize();
    }

    /**
     * vLLM's guidance for several nodes: tensor parallel inside a node (the smallest GPU node),
     * pipeline parallel across the GPU nodes. Given only one of the two, the other is 1.
     */
    VllmSpec withDefaultParallelism(List<NodeSpec> nodes) {
      if (tensorParallelSize != null && pipelineParallelSize != null) {
        return this;
      }
      int tp = 1;
      int pp = 1;
      if (tensorParallelSize == null && pipelineParallelSize == null) {
        List<Integer> gpuNodes = nodes.stream().filter(n -> n != null && n.gpus() != null && n.gpus() > 0)
            .map(NodeSpec::gpus).toList();
        tp = gpuNodes.stream().mapToInt(Integer::intValue).min().orElse(1);
        pp = Math.max(1, gpuNodes.size());
        if (dataParallelSize != null && dataParallelSize > 1) {
          // Each replica on one node (vLLM's Ray DP backend): TP inside it, no pipeline.
          int total = gpuNodes.stream().mapToInt(Integer::intValue).sum();
          tp = Math.max(1, Math.min(tp, total / dataParallelSize));
          pp = 1;
        }
      }
      return toBuilder()
          .tensorParallelSize(tensorParallelSize == null ? tp : tensorParallelSize)
          .pipelineParallelSize(pipelineParallelSize == null ? pp : pipelineParallelSize)
          .build();
    }

    public static final class Builder {
      private Integer port;
      private String host;
      private Integer tensorParallelSize;
      private Integer pipelineParallelSize;
      private Integer dataParallelSize;
      private Double gpuMemoryUtilization;
      private Integer maxModelLen;
      private String dtype;
      private Boolean requireApiKey;
      private String apiKeyEnv;
      private List<String> extraArgs;
      private Integer readinessTimeoutSeconds;
      private Boolean proxy;
      private Boolean tls;
      private String tlsCertPath;
      private String tlsKeyPath;
      private List<String> tlsServerNames;
      private Integer backendPort;

      private Builder() {}

      /** @default 9001 */
      public Builder port(Integer v) {
        port = v;
        return this;
      }

      /** @default 0.0.0.0 (the firewall limits who reaches it) */
      public Builder host(String v) {
        host = v;
        return this;
      }

      /**
       * @default GPUs of the smallest GPU node (with {@code dataParallelSize} > 1 at most GPUs ÷
       *     replicas); 1 when only the pipeline size is given
       */
      public Builder tensorParallelSize(Integer v) {
        tensorParallelSize = v;
        return this;
      }

      /**
       * @default the number of GPU nodes (1 with {@code dataParallelSize} > 1); 1 when only the
       *     tensor size is given
       */
      public Builder pipelineParallelSize(Integer v) {
        pipelineParallelSize = v;
        return this;
      }

      /**
       * Replicas of the TP × PP model behind the one API (vLLM's Ray data-parallel backend), each
       * on one node.
       *
       * @default 1 (one replica)
       */
      public Builder dataParallelSize(Integer v) {
        dataParallelSize = v;
        return this;
      }

      /** @default 0.9 */
      public Builder gpuMemoryUtilization(Double v) {
        gpuMemoryUtilization = v;
        return this;
      }

      /** @default the model's */
      public Builder maxModelLen(Integer v) {
        maxModelLen = v;
        return this;
      }

      /** @default vLLM's (auto) */
      public Builder dtype(String v) {
        dtype = v;
        return this;
      }

      /** @default true */
      public Builder requireApiKey(Boolean v) {
        requireApiKey = v;
        return this;
      }

      /** @default {@value VllmSpec#DEFAULT_API_KEY_ENV} */
      public Builder apiKeyEnv(String v) {
        apiKeyEnv = v;
        return this;
      }

      /** @default none */
      public Builder extraArgs(List<String> v) {
        extraArgs = v;
        return this;
      }

      /** @default 900 */
      public Builder readinessTimeoutSeconds(Integer v) {
        readinessTimeoutSeconds = v;
        return this;
      }

      /** @default true (HAProxy in front of vLLM, checking the key on every path but /health) */
      public Builder proxy(Boolean v) {
        proxy = v;
        return this;
      }

      /** @default true (HTTPS only) */
      public Builder tls(Boolean v) {
        tls = v;
        return this;
      }

      /** @default a per-cluster CA and server certificate made on the head */
      public Builder tlsCertPath(String v) {
        tlsCertPath = v;
        return this;
      }

      /** @default generated on the head with the certificate */
      public Builder tlsKeyPath(String v) {
        tlsKeyPath = v;
        return this;
      }

      /** @default none (the head's address, ssh_host and 127.0.0.1) */
      public Builder tlsServerNames(List<String> v) {
        tlsServerNames = v;
        return this;
      }

      /** @default 8000 */
      public Builder backendPort(Integer v) {
        backendPort = v;
        return this;
      }

      public VllmSpec build() {
        return new VllmSpec(port, host, tensorParallelSize, pipelineParallelSize, dataParallelSize, gpuMemoryUtilization, maxModelLen,
            dtype, requireApiKey, apiKeyEnv, extraArgs, readinessTimeoutSeconds, proxy, tls, tlsCertPath, tlsKeyPath,
            tlsServerNames, backendPort);
      }
    }
  }

  // ------------------------------------------------------------------ monitoring

  /**
   * Observability ({@code modules/metrics} on every node, {@code modules/prometheus} on one): the
   * OS packages' {@code prometheus-node-exporter} on every node with our textfile collectors (GPU
   * health from {@code nvidia-smi}, the model store, the watchdog's last probe), and the OS
   * package's Prometheus on one node scraping them, Ray's metrics on every node and vLLM's
   * {@code /metrics}, with our alert rules. Every port of it is closed to everyone but the cluster
   * and {@code allowedNetworks}.
   */
  public record MonitoringSpec(
      @Doc("Prometheus, node exporter and our collectors on the nodes; `false` installs none of it") Boolean enabled,
      @Doc(value = "the node Prometheus runs on (a `nodes[].name`)", dflt = "the head") String prometheusNode,
      @Doc("Prometheus' port on that node") Integer prometheusPort,
      @Doc("`prometheus-node-exporter`'s port on every node") Integer nodeExporterPort,
      @Doc(value = "who besides the cluster nodes may reach Prometheus and the exporters (the admin networks)", dflt = "`[]` (cluster only: an SSH tunnel)", type = "CIDR list") List<String> allowedNetworks,
      @Doc(value = "seconds between scrapes, rule evaluations and collector runs", type = "int 5–300") Integer scrapeIntervalSeconds,
      @Doc(value = "days of metrics Prometheus keeps", type = "int 1–3650") Integer retentionDays,
      @Doc("an NVIDIA DCGM exporter's port: a GPU node where one answers there at deploy time is scraped there, instead of our `nvidia-smi` collector") Integer dcgmExporterPort,
      @Doc(value = "a Grafana you run: the dashboards under `dashboards/` (and Ray's own, when Prometheus runs on the head) and a Prometheus data source are provisioned into it through its HTTP API, from the Prometheus node", dflt = "none", type = "URL") String grafanaUrl,
      @Doc(value = "`TF_VAR_<name>` holding a Grafana service account token (role Editor); delivered like the other secrets", dflt = "none (required with `grafana_url`)") String grafanaTokenEnv) {
    public static final int DEFAULT_PROMETHEUS_PORT = 9090;
    public static final int DEFAULT_NODE_EXPORTER_PORT = 9100;
    public static final int DEFAULT_DCGM_EXPORTER_PORT = 9400;

    public MonitoringSpec {
      enabled = enabled != null && enabled;
      prometheusPort = prometheusPort == null ? DEFAULT_PROMETHEUS_PORT : prometheusPort;
      nodeExporterPort = nodeExporterPort == null ? DEFAULT_NODE_EXPORTER_PORT : nodeExporterPort;
      List<String> nets = new ArrayList<>();
      if (allowedNetworks != null) {
        allowedNetworks.forEach(n -> nets.add(n == null ? null : Cidr.canonical(n)));
      }
      allowedNetworks = Collections.unmodifiableList(nets);
      scrapeIntervalSeconds = scrapeIntervalSeconds == null ? 15 : scrapeIntervalSeconds;
      retentionDays = retentionDays == null ? 15 : retentionDays;
      dcgmExporterPort = dcgmExporterPort == null ? DEFAULT_DCGM_EXPORTER_PORT : dcgmExporterPort;
    }

    public static Builder builder() {
      return new Builder();
    }

    public Builder toBuilder() {
      return new Builder().enabled(enabled).prometheusNode(prometheusNode).prometheusPort(prometheusPort)
          .nodeExporterPort(nodeExporterPort).allowedNetworks(allowedNetworks).scrapeIntervalSeconds(scrapeIntervalSeconds)
          .retentionDays(retentionDays).dcgmExporterPort(dcgmExporterPort).grafanaUrl(grafanaUrl).grafanaTokenEnv(grafanaTokenEnv);
    }

    /** The node Prometheus runs on: {@code prometheusNode}, else the head. */
    public NodeSpec prometheusNodeOf(ClusterSpec cluster) {
      if (prometheusNode == null) {
        return cluster.head();
      }
      return cluster.nodes().stream().filter(n -> n != null && prometheusNode.equals(n.name())).findFirst()
          .orElseThrow(() -> new IllegalStateException("monitoring.prometheus_node " + prometheusNode + " is not a node"));
    }

    /** The Grafana token's secret, or null when no Grafana is named. */
    public SecretRef grafanaToken() {
      return grafanaUrl == null || grafanaTokenEnv == null ? null : new SecretRef(grafanaTokenEnv);
    }

    public static final class Builder {
      private Boolean enabled;
      private String prometheusNode;
      private Integer prometheusPort;
      private Integer nodeExporterPort;
      private List<String> allowedNetworks;
      private Integer scrapeIntervalSeconds;
      private Integer retentionDays;
      private Integer dcgmExporterPort;
      private String grafanaUrl;
      private String grafanaTokenEnv;

      private Builder() {}

      /** @default false: no monitoring is installed */
      public Builder enabled(Boolean v) {
        enabled = v;
        return this;
      }

      /** @default the head */
      public Builder prometheusNode(String v) {
        prometheusNode = v;
        return this;
      }

      /** @default {@value MonitoringSpec#DEFAULT_PROMETHEUS_PORT} */
      public Builder prometheusPort(Integer v) {
        prometheusPort = v;
        return this;
      }

      /** @default {@value MonitoringSpec#DEFAULT_NODE_EXPORTER_PORT} */
      public Builder nodeExporterPort(Integer v) {
        nodeExporterPort = v;
        return this;
      }

      /** @default none: only the cluster nodes (and an SSH tunnel) reach Prometheus and the exporters */
      public Builder allowedNetworks(List<String> v) {
        allowedNetworks = v;
        return this;
      }

      /** @default 15 */
      public Builder scrapeIntervalSeconds(Integer v) {
        scrapeIntervalSeconds = v;
        return this;
      }

      /** @default 15 */
      public Builder retentionDays(Integer v) {
        retentionDays = v;
        return this;
      }

      /** @default {@value MonitoringSpec#DEFAULT_DCGM_EXPORTER_PORT} */
      public Builder dcgmExporterPort(Integer v) {
        dcgmExporterPort = v;
        return this;
      }

      /** @default none: no Grafana is provisioned */
      public Builder grafanaUrl(String v) {
        grafanaUrl = v;
        return this;
      }

      /** {@code TF_VAR_<name>} holding the Grafana token. @default none */
      public Builder grafanaTokenEnv(String v) {
        grafanaTokenEnv = v;
        return this;
      }

      public MonitoringSpec build() {
        return new MonitoringSpec(enabled, prometheusNode, prometheusPort, nodeExporterPort, allowedNetworks,
            scrapeIntervalSeconds, retentionDays, dcgmExporterPort, grafanaUrl, grafanaTokenEnv);
      }
    }
  }

  // ------------------------------------------------------------------ state

  public enum StateBackend implements YamlEnum {
    LOCAL,
    S3;

    @Override
    public String hint() {
      return "use local (a file on the deploy machine, the default) or s3 (AWS or an S3-compatible store); for"
          + " another backend, build the stack in Java and add one of CDKTF's backend classes";
    }
  }

  /**
   * Where OpenTofu keeps the stack's state. Credentials are never part of it: the S3 backend
   * reads them from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, or a profile).
   */
  public record StateSpec(
      @Doc("where OpenTofu keeps the stack's state") StateBackend backend,
      @Doc(value = "local only; relative to the project root", dflt = "`terraform.<stack>.tfstate`", type = "path") String path,
      @Doc(value = "s3 only: the bucket", dflt = "required with s3") String bucket,
      @Doc(value = "s3 only: the object key", dflt = "`vllm-ray-cluster/<stack>.tfstate`") String key,
      @Doc(value = "s3 only: the bucket's region", dflt = "required with s3") String region,
      @Doc(value = "s3 only: an S3-compatible store (path-style); credentials only from the environment", dflt = "AWS", type = "URL") String endpoint) {
    /** CDKTF's default: {@code terraform.<stack>.tfstate} in the project root. */
    public static final StateSpec DEFAULT = new StateSpec(null, null, null, null, null, null);

    public StateSpec {
      backend = backend == null ? StateBackend.LOCAL : backend;
    }

    public static StateSpec local(String path) {
      return builder().backend(StateBackend.LOCAL).path(path).build();
    }

    public static StateSpec s3(String bucket, String key, String region, String endpoint) {
      return builder().backend(StateBackend.S3).bucket(bucket).key(key).region(region).endpoint(endpoint).build();
    }

    public static Builder builder() {
      return new Builder();
    }

    public Builder toBuilder() {
      return new Builder().backend(backend).path(path).bucket(bucket).key(key).region(region).endpoint(endpoint);
    }

    public static final class Builder {
      private StateBackend backend;
      private String path;
      private String bucket;
      private String key;
      private String region;
      private String endpoint;

      private Builder() {}

      /** @default {@link StateBackend#LOCAL} */
      public Builder backend(StateBackend v) {
        backend = v;
        return this;
      }

      /** Local only. @default CDKTF's terraform.NAME.tfstate */
      public Builder path(String v) {
        path = v;
        return this;
      }

      /** S3 only, required there. */
      public Builder bucket(String v) {
        bucket = v;
        return this;
      }

      /** S3 only. @default vllm-ray-cluster/NAME.tfstate */
      public Builder key(String v) {
        key = v;
        return this;
      }

      /** S3 only, required there. */
      public Builder region(String v) {
        region = v;
        return this;
      }

      /** S3 only. @default AWS */
      public Builder endpoint(String v) {
        endpoint = v;
        return this;
      }

      public StateSpec build() {
        return new StateSpec(backend, path, bucket, key, region, endpoint);
      }
    }
  }

  // ------------------------------------------------------------------ testing

  /**
   * Switches for test hosts. {@code logicalGpus}: the declared GPUs are Ray's logical resources
   * only (there is no NVIDIA GPU to find); preflight and verify report the missing GPUs as a
   * warning instead of a failure.
   */
  public record TestingSpec(
      @Doc("test hosts only: the declared GPUs are Ray's logical resources; preflight and verify warn instead of failing where there is no NVIDIA GPU (flagged)") Boolean logicalGpus) {
    public static final TestingSpec NONE = new TestingSpec(false);

    public TestingSpec {
      logicalGpus = logicalGpus != null && logicalGpus;
    }
  }

  // ------------------------------------------------------------------ watchdog

  /**
   * The health watchdog on the head ({@code modules/watchdog}): every {@code intervalSeconds} a
   * one-token chat completion (bounded by {@code probeTimeoutSeconds}) and Ray's alive nodes and
   * GPUs against the stack's; after {@code failuresBeforeRestart} failed completions in a row it
   * restarts vLLM.
   */
  public record WatchdogSpec(
      @Doc("the watchdog on the head; `false` is flagged") Boolean enabled,
      @Doc(value = "seconds between the end of one probe and the next", type = "int 1–3600") Integer intervalSeconds,
      @Doc(value = "failed completions in a row before it restarts vLLM", type = "int 1–100") Integer failuresBeforeRestart,
      @Doc(value = "how long one completion may take", type = "int 1–600") Integer probeTimeoutSeconds) {
    public WatchdogSpec {
      enabled = enabled == null || enabled;
      intervalSeconds = intervalSeconds == null ? 30 : intervalSeconds;
      failuresBeforeRestart = failuresBeforeRestart == null ? 3 : failuresBeforeRestart;
      probeTimeoutSeconds = probeTimeoutSeconds == null ? 60 : probeTimeoutSeconds;
    }

    public static Builder builder() {
      return new Builder();
    }

    public Builder toBuilder() {
      return new Builder().enabled(enabled).intervalSeconds(intervalSeconds).failuresBeforeRestart(failuresBeforeRestart)
          .probeTimeoutSeconds(probeTimeoutSeconds);
    }

    public static final class Builder {
      private Boolean enabled;
      private Integer intervalSeconds;
      private Integer failuresBeforeRestart;
      private Integer probeTimeoutSeconds;

      private Builder() {}

      /** @default true */
      public Builder enabled(Boolean v) {
        enabled = v;
        return this;
      }

      /** @default 30 */
      public Builder intervalSeconds(Integer v) {
        intervalSeconds = v;
        return this;
      }

      /** @default 3 */
      public Builder failuresBeforeRestart(Integer v) {
        failuresBeforeRestart = v;
        return this;
      }

      /** @default 60 */
      public Builder probeTimeoutSeconds(Integer v) {
        probeTimeoutSeconds = v;
        return this;
      }

      public WatchdogSpec build() {
        return new WatchdogSpec(enabled, intervalSeconds, failuresBeforeRestart, probeTimeoutSeconds);
      }
    }
  }

  static String withoutTrailingSlash(String path) {
    return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
  }
}
