package dev.vllmraycluster.spec;

import java.util.List;

/**
 * A stack file exactly as written: every field optional here so that {@link SpecValidator} can
 * apply defaults and report every missing or wrong field at once, naming its path. Keys are
 * snake_case in YAML ({@code ssh_port}), camelCase here.
 */
public record StackFile(
    List<NodeEntry> nodes,
    SshEntry ssh,
    NetworkEntry network,
    SoftwareEntry software,
    ModelEntry model,
    StorageEntry storage,
    RayEntry ray,
    VllmEntry vllm,
    StateEntry state,
    TestingEntry testing) {

  /** One GPU server. */
  public record NodeEntry(
      String name,
      String role,
      String address,
      String sshHost,
      String sshUser,
      Integer sshPort,
      String sshPrivateKeyPath,
      String sshHostKey,
      Integer gpus,
      String networkInterface) {}

  /** SSH defaults for every node. */
  public record SshEntry(String user, Integer port, String privateKeyPath) {}

  public record NetworkEntry(
      String clusterCidr,
      List<String> apiAllowedNetworks,
      List<String> dashboardAllowedNetworks,
      String firewallBackend,
      String interconnect) {}

  public record SoftwareEntry(
      String osFamily,
      String python,
      String venvPath,
      String rayVersion,
      String vllmVersion,
      String pipIndexUrl,
      String pipFindLinks,
      String pipTrustedHost) {}

  public record ModelEntry(
      String huggingfaceRepo,
      String revision,
      String hfEndpoint,
      String hfTokenEnv,
      String localDirectory,
      String servedModelName,
      String directoryName) {}

  public record StorageEntry(
      String mode,
      String mountPath,
      String nfsServer,
      String nfsServerPath,
      String nfsMountOptions,
      Boolean deleteOnDestroy) {}

  public record RayEntry(
      Integer gcsPort,
      Integer clientServerPort,
      Integer dashboardPort,
      String dashboardHost,
      Boolean includeDashboard,
      Integer dashboardAgentPort,
      Integer dashboardAgentGrpcPort,
      Integer nodeManagerPort,
      Integer objectManagerPort,
      Integer runtimeEnvAgentPort,
      Integer metricsExportPort,
      Integer minWorkerPort,
      Integer maxWorkerPort,
      String tempDir,
      Integer readinessTimeoutSeconds,
      Boolean requireAuthToken,
      String authTokenEnv) {}

  public record VllmEntry(
      Integer port,
      String host,
      Integer tensorParallelSize,
      Integer pipelineParallelSize,
      Double gpuMemoryUtilization,
      Integer maxModelLen,
      String dtype,
      Boolean requireApiKey,
      String apiKeyEnv,
      List<String> extraArgs,
      Integer readinessTimeoutSeconds) {}

  /** Where OpenTofu keeps this stack's state: {@code local} (default) or {@code s3}. */
  public record StateEntry(
      String backend, String path, String bucket, String key, String region, String endpoint) {}

  /** Switches for test hosts only. */
  public record TestingEntry(Boolean logicalGpus) {}
}
