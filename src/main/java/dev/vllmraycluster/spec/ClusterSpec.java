package dev.vllmraycluster.spec;

import java.util.List;

/**
 * A validated cluster description: defaults applied, every cross-field rule checked. Built by
 * {@link SpecValidator} from a stack file, or directly in Java and then checked with {@link
 * SpecValidator#check(ClusterSpec)}.
 */
public record ClusterSpec(
    String name,
    List<NodeSpec> nodes,
    NetworkSpec network,
    SoftwareSpec software,
    ModelSpec model,
    StorageSpec storage,
    RaySpec ray,
    VllmSpec vllm,
    StateSpec state,
    TestingSpec testing) {

  public ClusterSpec {
    nodes = List.copyOf(nodes);
    state = state == null ? StateSpec.DEFAULT : state;
    testing = testing == null ? TestingSpec.NONE : testing;
  }

  /** A production cluster with its state where it says: no testing switches. */
  public ClusterSpec(
      String name,
      List<NodeSpec> nodes,
      NetworkSpec network,
      SoftwareSpec software,
      ModelSpec model,
      StorageSpec storage,
      RaySpec ray,
      VllmSpec vllm,
      StateSpec state) {
    this(name, nodes, network, software, model, storage, ray, vllm, state, TestingSpec.NONE);
  }

  /** A cluster whose state stays where CDKTF puts it by default (see {@link StateSpec#DEFAULT}). */
  public ClusterSpec(
      String name,
      List<NodeSpec> nodes,
      NetworkSpec network,
      SoftwareSpec software,
      ModelSpec model,
      StorageSpec storage,
      RaySpec ray,
      VllmSpec vllm) {
    this(name, nodes, network, software, model, storage, ray, vllm, StateSpec.DEFAULT, TestingSpec.NONE);
  }

  public NodeSpec head() {
    return nodes.stream()
        .filter(n -> n.role() == Role.HEAD)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("cluster " + name + " has no head node"));
  }

  public List<NodeSpec> workers() {
    return nodes.stream().filter(n -> n.role() == Role.WORKER).toList();
  }

  public int totalGpus() {
    return nodes.stream().mapToInt(NodeSpec::gpus).sum();
  }

  /** The addresses of every node, the set that may reach any port of any other node. */
  public List<String> nodeAddresses() {
    return nodes.stream().map(NodeSpec::address).toList();
  }

  public enum Role {
    HEAD,
    WORKER;

    public String yamlName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** One GPU server and how to reach it. */
  public record NodeSpec(
      String name, Role role, String address, SshSpec ssh, int gpus, String networkInterface) {}

  /**
   * SSH access. {@code privateKeyPath} null means ssh-agent ({@code SSH_AUTH_SOCK}); {@code
   * hostKey} null means the host key is not pinned in the stack.
   */
  public record SshSpec(String host, String user, int port, String privateKeyPath, String hostKey) {}

  /**
   * Where a node's firewall rules go ({@code modules/firewall}). {@code AUTO}: firewalld if it is
   * running, else ufw if it is active, else our own nftables table. An explicit {@code FIREWALLD}
   * or {@code UFW} whose firewall is installed but not running falls back to nftables (we never
   * start or enable a host firewall). {@code NONE}: no rules (flagged).
   */
  public enum FirewallBackend {
    AUTO,
    NFTABLES,
    FIREWALLD,
    UFW,
    NONE
  }

  /**
   * The link between the nodes that tensor parallelism talks over. Declared by the stack so that
   * a tensor-parallel group spanning nodes is a choice and not an accident; {@code null} in
   * {@link NetworkSpec} means not declared (treated as plain Ethernet).
   */
  public enum Interconnect {
    /** TCP over Ethernet: fine for pipeline parallelism across nodes, slow for tensor parallelism. */
    ETHERNET,
    /** InfiniBand (NCCL over RDMA). */
    INFINIBAND,
    /** RDMA over Converged Ethernet. */
    ROCE,
    /** A multi-node NVLink domain (NVLink switch). */
    NVLINK;

    public String yamlName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Fast enough for a tensor-parallel group that spans nodes. */
    public boolean fast() {
      return this != ETHERNET;
    }
  }

  /**
   * Who may reach what. {@code clusterCidr} may be null (then only the node addresses count as
   * the cluster); {@code interconnect} may be null (not declared).
   */
  public record NetworkSpec(
      String clusterCidr,
      List<String> apiAllowedNetworks,
      List<String> dashboardAllowedNetworks,
      FirewallBackend firewallBackend,
      Interconnect interconnect) {
    public NetworkSpec {
      apiAllowedNetworks = List.copyOf(apiAllowedNetworks);
      dashboardAllowedNetworks = List.copyOf(dashboardAllowedNetworks);
    }

    /** Networks without a declared interconnect. */
    public NetworkSpec(
        String clusterCidr,
        List<String> apiAllowedNetworks,
        List<String> dashboardAllowedNetworks,
        FirewallBackend firewallBackend) {
      this(clusterCidr, apiAllowedNetworks, dashboardAllowedNetworks, firewallBackend, null);
    }
  }

  public enum OsFamily {
    AUTO,
    APT,
    DNF
  }

  /** What every node runs; empty strings mean "not set" for the pip options. */
  public record SoftwareSpec(
      OsFamily osFamily,
      String python,
      String venvPath,
      String rayVersion,
      String vllmVersion,
      String pipIndexUrl,
      String pipFindLinks,
      String pipTrustedHost) {}

  /** Where the weights come from. */
  public sealed interface ModelSource permits HuggingFace, LocalDirectory {}

  /** A Hugging Face repository, fetched on the host(s) that hold the model store. */
  public record HuggingFace(String repo, String revision, String endpoint, SecretRef token)
      implements ModelSource {}

  /** A directory on the deploy machine, uploaded over SSH. */
  public record LocalDirectory(String path) implements ModelSource {}

  public record ModelSpec(ModelSource source, String servedModelName, String directoryName) {}

  public enum StorageMode {
    HEAD_NFS,
    EXTERNAL_NFS,
    LOCAL_COPY
  }

  /** The model store: the same {@code mountPath} on every node. */
  public record StorageSpec(
      StorageMode mode,
      String mountPath,
      String nfsServer,
      String nfsServerPath,
      String nfsMountOptions,
      boolean deleteOnDestroy) {

    public String modelPath(ModelSpec model) {
      return mountPath + "/" + model.directoryName();
    }
  }

  /**
   * Ray ports are pinned so that the firewall can name every one of them. {@code authToken} null
   * means Ray's token authentication is off (Ray before 2.52, or turned off: flagged).
   */
  public record RaySpec(
      int gcsPort,
      int clientServerPort,
      int dashboardPort,
      String dashboardHost,
      boolean includeDashboard,
      int dashboardAgentPort,
      int dashboardAgentGrpcPort,
      int nodeManagerPort,
      int objectManagerPort,
      int runtimeEnvAgentPort,
      int metricsExportPort,
      int minWorkerPort,
      int maxWorkerPort,
      String tempDir,
      int readinessTimeoutSeconds,
      SecretRef authToken) {}

  /** The OpenAI-compatible server on the head. {@code apiKey} null means no key (flagged). */
  public record VllmSpec(
      int port,
      String host,
      int tensorParallelSize,
      int pipelineParallelSize,
      double gpuMemoryUtilization,
      Integer maxModelLen,
      String dtype,
      SecretRef apiKey,
      List<String> extraArgs,
      int readinessTimeoutSeconds) {
    public VllmSpec {
      extraArgs = List.copyOf(extraArgs);
    }

    public int worldSize() {
      return tensorParallelSize * pipelineParallelSize;
    }
  }

  /**
   * Where OpenTofu keeps the stack's state. Credentials are never part of it: the S3 backend
   * reads them from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, or a profile).
   */
  public sealed interface StateSpec permits LocalState, S3State {
    /** CDKTF's default: {@code terraform.<stack>.tfstate} in the project root. */
    StateSpec DEFAULT = new LocalState(null);
  }

  /** A state file on the deploy machine; {@code path} null means CDKTF's default path. */
  public record LocalState(String path) implements StateSpec {}

  /**
   * An S3 bucket, on AWS ({@code endpoint} null) or any S3-compatible store (MinIO, Ceph RGW,
   * Garage...: {@code endpoint} set, addressed path-style).
   */
  public record S3State(String bucket, String key, String region, String endpoint)
      implements StateSpec {}

  /**
   * Switches for test hosts. {@code logicalGpus}: the declared GPUs are Ray's logical resources
   * only (there is no NVIDIA GPU to find); preflight and verify report the missing GPUs as a
   * warning instead of a failure.
   */
  public record TestingSpec(boolean logicalGpus) {
    public static final TestingSpec NONE = new TestingSpec(false);
  }
}
