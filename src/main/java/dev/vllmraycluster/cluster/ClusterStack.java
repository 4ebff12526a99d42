package dev.vllmraycluster.cluster;

import com.hashicorp.cdktf.ITerraformDependable;
import com.hashicorp.cdktf.LocalBackend;
import com.hashicorp.cdktf.LocalBackendConfig;
import com.hashicorp.cdktf.S3Backend;
import com.hashicorp.cdktf.S3BackendConfig;
import com.hashicorp.cdktf.TerraformOutput;
import com.hashicorp.cdktf.TerraformOutputConfig;
import com.hashicorp.cdktf.TerraformResource;
import com.hashicorp.cdktf.TerraformResourceConfig;
import com.hashicorp.cdktf.TerraformStack;
import com.hashicorp.cdktf.TerraformVariable;
import com.hashicorp.cdktf.TerraformVariableConfig;
import dev.vllmraycluster.contract.Shell;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.HuggingFace;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.RaySpec;
import dev.vllmraycluster.spec.ClusterSpec.SoftwareSpec;
import dev.vllmraycluster.spec.ClusterSpec.StateBackend;
import dev.vllmraycluster.spec.ClusterSpec.StateSpec;
import dev.vllmraycluster.spec.ClusterSpec.StorageSpec;
import dev.vllmraycluster.spec.SecretRef;
import dev.vllmraycluster.storage.ModelStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.constructs.Construct;

/**
 * One deployment: the {@link GpuCluster}, the ephemeral variables its secrets arrive through, a
 * local check that runs before any SSH, the outputs a user needs (API URL, dashboard access,
 * served model name, nodes), and the state backend the stack declares ({@code state:}; without
 * one, CDKTF's default local file {@code terraform.<stack>.tfstate}, and Java callers may add any
 * of CDKTF's backend classes to the stack themselves).
 */
public class ClusterStack extends TerraformStack {
  private final GpuCluster cluster;

  public ClusterStack(Construct scope, String id, ClusterStackProps props) {
    super(scope, id);
    ClusterSpec spec = props.cluster();
    backend(this, spec.state());
    List<SecretRef> secrets = secrets(spec);
    for (SecretRef secret : secrets) {
      TerraformVariable variable =
          new TerraformVariable(
              this,
              secret.variableName(),
              TerraformVariableConfig.builder()
                  .type("string")
                  .sensitive(true)
                  .nullable(false)
                  .defaultValue("")
                  .description(
                      "Set through the environment variable "
                          + secret.environmentVariable()
                          + "; ephemeral: never stored in a plan or the state. Empty means unset.")
                  .build());
      variable.addOverride("ephemeral", true);
    }
    TerraformResource checks = localChecks(this, props.layout(), spec, secrets, props.stackFile());
    List<ITerraformDependable> after = new ArrayList<>(props.after());
    after.add(checks);
    this.cluster = new GpuCluster(this, "cluster",
        GpuClusterProps.builder().cluster(spec).layout(props.layout()).after(after).build());
    outputs(spec);
  }

  public GpuCluster cluster() {
    return cluster;
  }

  /**
   * The declared backend. The default adds none, so CDKTF's own default (a local file named after
   * the stack in the project root) stays exactly what it was.
   */
  private static void backend(TerraformStack stack, StateSpec state) {
    if (state.backend() == StateBackend.LOCAL) {
      if (state.path() != null) {
        new LocalBackend(stack, LocalBackendConfig.builder().path(state.path()).build());
      }
    } else {
      StateSpec s3 = state;
      S3Backend backend =
          new S3Backend(
              stack,
              S3BackendConfig.builder().bucket(s3.bucket()).key(s3.key()).region(s3.region()).build());
      // State locking by a lock object next to the state (S3 conditional writes, OpenTofu 1.10+),
      // so that two deploys of one stack cannot interleave; no DynamoDB table needed.
      backend.addOverride("use_lockfile", true);
      if (s3.endpoint() != null) {
        // An S3-compatible store: its own endpoint, path-style addressing, and none of AWS's
        // account, region or instance-metadata look-ups. OpenTofu 1.12 names these
        // endpoints.s3 / use_path_style (CDKTF 0.19's endpoint / force_path_style are deprecated).
        backend.addOverride("endpoints", Map.of("s3", s3.endpoint()));
        backend.addOverride("use_path_style", true);
        backend.addOverride("skip_credentials_validation", true);
        backend.addOverride("skip_region_validation", true);
        backend.addOverride("skip_requesting_account_id", true);
        backend.addOverride("skip_metadata_api_check", true);
      }
    }
  }

  static List<SecretRef> secrets(ClusterSpec spec) {
    List<SecretRef> secrets = new ArrayList<>();
    if (spec.vllm().apiKey() != null) {
      secrets.add(spec.vllm().apiKey());
    }
    if (spec.ray().authToken() != null && !secrets.contains(spec.ray().authToken())) {
      secrets.add(spec.ray().authToken());
    }
    if (spec.model().source() instanceof HuggingFace hf
        && hf.token() != null
        && !secrets.contains(hf.token())) {
      secrets.add(hf.token());
    }
    SecretRef pip = spec.software().pipCredentials();
    if (pip != null && !secrets.contains(pip)) {
      secrets.add(pip);
    }
    return secrets;
  }

  /** Set to 1 in the environment of {@code cdktf deploy}: the deploy does not run preflight. */
  public static final String SKIP_PREFLIGHT_ENV = "VRC_SKIP_PREFLIGHT";
  /** Check names (comma-separated) whose failures the deploy's preflight reports as warnings. */
  public static final String PREFLIGHT_IGNORE_ENV = "VRC_PREFLIGHT_IGNORE";
  /** A file the deploy's preflight writes its JSON report to (for CI and tests); unset: none. */
  public static final String PREFLIGHT_REPORT_ENV = "VRC_PREFLIGHT_REPORT";

  /**
   * Runs on the deploy machine before the first SSH connection: every secret the stack needs is
   * set, then preflight on every node (unless {@value #SKIP_PREFLIGHT_ENV}=1); a failure stops
   * the deploy before any host changes.
   *
   * <p>It runs again only when its triggers change, so a no-change deploy stays no-change:
   * {@code secrets} and {@code nodes} (names), and {@code preflight}, a digest of what preflight
   * checks the hosts against (node addresses, SSH targets and GPUs, the software pins, the model
   * and its storage, the parallelism, the ports, the testing switches). A change of a vLLM tuning
   * flag (gpu_memory_utilization, max_model_len, extra_args, ...) replaces only the vLLM service
   * and does not re-run preflight; run {@code bin/vllm-ray-cluster preflight} by hand for those.
   */
  private static TerraformResource localChecks(
      Construct scope, ProjectLayout layout, ClusterSpec spec, List<SecretRef> secrets, Path stackFile) {
    StringBuilder script = new StringBuilder("missing=''\n");
    for (SecretRef secret : secrets) {
      script
          .append("test -n \"$")
          .append(secret.environmentVariable())
          .append("\" || missing=\"$missing ")
          .append(secret.environmentVariable())
          .append("\"\n");
    }
    script
        .append("if [ -n \"$missing\" ]; then\n")
        .append("  echo \"[local/checks] not set in the environment of cdktf deploy:$missing.")
        .append(" Export each (e.g. export TF_VAR_vllm_api_key=<the key clients will send>,")
        .append(" TF_VAR_ray_auth_token=<a long random string>), or turn the secret off in the stack")
        .append(" (vllm.require_api_key: false, ray.require_auth_token: false).\" >&2\n")
        .append("  exit 1\n")
        .append("fi\n")
        .append("echo '[local/checks] secrets present: ")
        .append(secrets.isEmpty() ? "none needed" : String.join(" ", secrets.stream().map(SecretRef::environmentVariable).toList()))
        .append("'\n");
    if (stackFile != null) {
      script.append(preflightScript(layout, stackFile));
    }
    TerraformResource checks =
        new TerraformResource(
            scope,
            "local_checks",
            TerraformResourceConfig.builder().terraformResourceType("terraform_data").build());
    checks.overrideLogicalId("local_checks");
    Map<String, Object> triggers = new LinkedHashMap<>();
    triggers.put(
        "secrets", String.join(" ", secrets.stream().map(SecretRef::environmentVariable).toList()));
    triggers.put("nodes", String.join(" ", spec.nodes().stream().map(NodeSpec::name).toList()));
    if (stackFile != null) {
      triggers.put("preflight", preflightDigest(spec));
    }
    checks.addOverride("triggers_replace", triggers);
    Map<String, Object> localExec = new LinkedHashMap<>();
    localExec.put("command", script.toString());
    localExec.put("interpreter", List.of("/bin/sh", "-c"));
    checks.addOverride("provisioner", List.of(Map.of("local-exec", localExec)));
    return checks;
  }

  static String preflightScript(ProjectLayout layout, Path stackFile) {
    String cli = Shell.literal(Shell.singleQuoted(layout.root().resolve("bin/vllm-ray-cluster").toString()));
    String file = Shell.literal(Shell.singleQuoted(stackFile.toAbsolutePath().normalize().toString()));
    // Plain $VAR, not ${VAR:-}: OpenTofu would read "${" as its own interpolation.
    return "if [ \"$" + SKIP_PREFLIGHT_ENV + "\" = 1 ]; then\n"
        + "  echo '[local/checks] preflight skipped (" + SKIP_PREFLIGHT_ENV + "=1)'\n"
        + "else\n"
        + "  " + cli + " preflight " + file + " --ignore=\"$" + PREFLIGHT_IGNORE_ENV + "\""
        + " --report-file=\"$" + PREFLIGHT_REPORT_ENV + "\" || {\n"
        + "    echo '[local/checks] preflight failed: nothing was changed on the hosts. Fix what it reports,"
        + " or ignore named checks (" + PREFLIGHT_IGNORE_ENV + "=check,...) or skip it (" + SKIP_PREFLIGHT_ENV
        + "=1) at your own risk.' >&2\n"
        + "    exit 1\n"
        + "  }\n"
        + "fi\n";
  }

  /**
   * What preflight checks the hosts against; the tuning of the running service is left out. The
   * text is spelled out field by field (as the records printed it before the model had builders),
   * so that the digest of an unchanged stack stays the same; fields added since are appended only
   * when set.
   */
  static String preflightDigest(ClusterSpec spec) {
    StringBuilder sb = new StringBuilder();
    for (NodeSpec n : spec.nodes()) {
      sb.append("node ").append(n.name()).append(' ').append(n.role().name()).append(' ').append(n.address()).append(' ')
          .append(n.ssh()).append(' ').append(n.gpus()).append(' ').append(n.networkInterface()).append('\n');
    }
    SoftwareSpec sw = spec.software();
    sb.append("software SoftwareSpec[osFamily=").append(sw.osFamily().name()).append(", python=").append(sw.python())
        .append(", venvPath=").append(sw.venvPath()).append(", rayVersion=").append(sw.rayVersion())
        .append(", vllmVersion=").append(sw.vllmVersion()).append(", pipIndexUrl=").append(orEmpty(sw.pipIndexUrl()))
        .append(", pipFindLinks=").append(orEmpty(sw.pipFindLinks())).append(", pipTrustedHost=")
        .append(orEmpty(sw.pipTrustedHost()));
    if (sw.allowSourceBuilds()) {
      sb.append(", allowSourceBuilds=true");
    }
    if (sw.requirementsLock() != null) {
      sb.append(", requirementsLock=").append(ProjectLayout.fileDigest(Path.of(sw.requirementsLock())));
    }
    sb.append("]\n");
    sb.append("model ").append(ModelStore.manifest(spec)).append(' ').append(spec.model().directoryName()).append('\n');
    StorageSpec st = spec.storage();
    sb.append("storage StorageSpec[mode=").append(st.mode().name()).append(", mountPath=").append(st.mountPath())
        .append(", nfsServer=").append(st.nfsServer()).append(", nfsServerPath=").append(st.nfsServerPath())
        .append(", nfsMountOptions=").append(st.nfsMountOptions()).append(", deleteOnDestroy=")
        .append(st.deleteOnDestroy()).append("]\n");
    sb.append("parallel ").append(spec.vllm().tensorParallelSize()).append('x').append(spec.vllm().pipelineParallelSize()).append('\n');
    RaySpec r = spec.ray();
    sb.append("ports RaySpec[gcsPort=").append(r.gcsPort()).append(", clientServerPort=").append(r.clientServerPort())
        .append(", dashboardPort=").append(r.dashboardPort()).append(", dashboardHost=").append(r.dashboardHost())
        .append(", includeDashboard=").append(r.includeDashboard()).append(", dashboardAgentPort=").append(r.dashboardAgentPort())
        .append(", dashboardAgentGrpcPort=").append(r.dashboardAgentGrpcPort()).append(", nodeManagerPort=")
        .append(r.nodeManagerPort()).append(", objectManagerPort=").append(r.objectManagerPort())
        .append(", runtimeEnvAgentPort=").append(r.runtimeEnvAgentPort()).append(", metricsExportPort=")
        .append(r.metricsExportPort()).append(", minWorkerPort=").append(r.minWorkerPort()).append(", maxWorkerPort=")
        .append(r.maxWorkerPort()).append(", tempDir=").append(r.tempDir()).append(", readinessTimeoutSeconds=")
        .append(r.readinessTimeoutSeconds()).append(", authToken=").append(r.authToken()).append("] ")
        .append(spec.vllm().port()).append('\n');
    sb.append("testing TestingSpec[logicalGpus=").append(spec.testing().logicalGpus()).append("]\n");
    return ProjectLayout.digest(sb.toString()).substring(0, 16);
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  private void outputs(ClusterSpec spec) {
    NodeSpec head = spec.head();
    output(
        "api_url",
        "http://" + head.address() + ":" + spec.vllm().port() + "/v1",
        "The OpenAI-compatible endpoint (send the key as: Authorization: Bearer <key>).");
    output("served_model_name", spec.model().servedModelName(), "The model name clients send.");
    output(
        "api_key_env",
        spec.vllm().apiKey() == null ? "none (no key required)" : spec.vllm().apiKey().environmentVariable(),
        "Where the API key comes from on the deploy machine (the name only).");
    String dashboard;
    if (!spec.ray().includeDashboard()) {
      dashboard = "disabled (ray.include_dashboard: false)";
    } else if (spec.network().dashboardAllowedNetworks().isEmpty()
        && spec.ray().dashboardHost().startsWith("127.")) {
      dashboard =
          "ssh -N -L "
              + spec.ray().dashboardPort()
              + ":127.0.0.1:"
              + spec.ray().dashboardPort()
              + " -p "
              + head.ssh().port()
              + " "
              + head.ssh().user()
              + "@"
              + head.ssh().host()
              + "  # then open http://127.0.0.1:"
              + spec.ray().dashboardPort();
    } else {
      dashboard =
          "http://"
              + head.address()
              + ":"
              + spec.ray().dashboardPort()
              + " (from "
              + String.join(", ", spec.network().dashboardAllowedNetworks())
              + " and the cluster)";
    }
    output("dashboard", dashboard, "How to reach the Ray dashboard.");
    List<Map<String, Object>> nodes = new ArrayList<>();
    for (NodeSpec n : spec.nodes()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", Shell.literal(n.name()));
      m.put("role", n.role().yamlName());
      m.put("address", n.address());
      m.put("gpus", n.gpus());
      nodes.add(m);
    }
    new TerraformOutput(
        this,
        "nodes",
        TerraformOutputConfig.builder().value(nodes).description("The cluster's nodes.").build());
  }

  private void output(String id, String value, String description) {
    new TerraformOutput(
        this, id, TerraformOutputConfig.builder().value(Shell.literal(value)).description(description).build());
  }
}
