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
import dev.vllmraycluster.spec.StackWriter;
import dev.vllmraycluster.staging.CliRuntime;
import dev.vllmraycluster.staging.Staging;
import dev.vllmraycluster.storage.ModelStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
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
    // The command line and the cluster as a stack file, staged beside cdk.tf.json: what the
    // deploy machine runs (preflight, api-ca) from this project, an application or a moved output.
    Staged staged = props.preflight() ? stage(this, spec) : null;
    TerraformResource checks = localChecks(this, spec, secrets, staged);
    List<ITerraformDependable> after = new ArrayList<>(props.after());
    after.add(checks);
    this.cluster = new GpuCluster(this, "cluster",
        GpuClusterProps.builder().cluster(spec).layout(props.layout()).after(after).build());
    String caFile = caFile(spec);
    if (caFile != null && staged != null) {
      fetchApiCa(this, staged, caFile, cluster);
    }
    // A rotated secret replaces exactly the steps that keep it (HostContract.Secret).
    SecretRotation.wire(this, id, spec, cluster, List.of(checks), props.secretValues());
    outputs(spec, staged == null ? null : caFile);
  }

  /**
   * Where the deploy writes the cluster's CA certificate (generated TLS only), or null: {@code
   * .vrc/<stack>/api-ca.crt} in the directory that holds the synthesized output ({@code cdktf.out}:
   * the project, where cdktf runs). A relative path, so that an output moved elsewhere plans no
   * change and holds no path of this machine; {@link #CA_FROM_STACK_DIR} is the same file from the
   * stack's directory, where OpenTofu runs the fetch.
   */
  static String caFile(ClusterSpec spec) {
    if (!spec.vllm().https() || spec.vllm().userCertificate()) {
      return null;
    }
    return ".vrc/" + spec.name() + "/api-ca.crt";
  }

  /** From {@code <output>/stacks/<stack>} (OpenTofu's directory) to the output's parent. */
  static final String CA_FROM_STACK_DIR = "../../../";

  /**
   * After the proxy step: {@code bin/vllm-ray-cluster api-ca} reads the CA certificate the head
   * made (over SSH, host key checked) into {@code caFile}, the file the {@code api_ca_certificate}
   * output names (an output cannot hold what a host made: the state only has what the plan knew).
   * Again whenever the proxy step is replaced; at destroy the file is deleted.
   */
  private static void fetchApiCa(Construct scope, Staged staged, String caFile, GpuCluster cluster) {
    TerraformResource fetch = new TerraformResource(scope, "local_api_ca",
        TerraformResourceConfig.builder().terraformResourceType("terraform_data")
            .dependsOn(List.of(cluster.proxy().resource())).build());
    fetch.overrideLogicalId("local_api_ca");
    fetch.addOverride("triggers_replace", Map.of("proxy", cluster.proxy().digest()));
    fetch.addOverride("input", Map.of("file", CA_FROM_STACK_DIR + caFile));
    String cp = Shell.literal(Shell.singleQuoted(staged.classpath()));
    String file = Shell.literal(Shell.singleQuoted(staged.stackFile()));
    Map<String, Object> create = new LinkedHashMap<>();
    create.put("command", JAVA_LOOKUP + "\"$java\" -cp " + cp + " " + CliRuntime.MAIN_CLASS + " api-ca " + file
        + " --out \"${self.input.file}\"");
    create.put("interpreter", List.of("/bin/sh", "-c"));
    Map<String, Object> destroy = new LinkedHashMap<>();
    destroy.put("command", "rm -f \"${self.input.file}\"");
    destroy.put("interpreter", List.of("/bin/sh", "-c"));
    destroy.put("when", "destroy");
    fetch.addOverride("provisioner", List.of(Map.of("local-exec", create), Map.of("local-exec", destroy)));
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
    SecretRef grafana = spec.monitoring().enabled() ? spec.monitoring().grafanaToken() : null;
    if (grafana != null && !secrets.contains(grafana)) {
      secrets.add(grafana);
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
   * <p>Preflight is this library's own command line, staged beside {@code cdk.tf.json} with the
   * cluster written as a stack file (CDKTF assets {@code vrc-cli} and {@code vrc-preflight}), and
   * run with the deploy machine's Java: the same from this project, from an application built on
   * the library, and from an output moved to another directory or machine.
   *
   * <p>It runs again only when its triggers change, so a no-change deploy stays no-change:
   * {@code secrets} and {@code nodes} (names), and {@code preflight}, a digest of what preflight
   * checks the hosts against (node addresses, SSH targets and GPUs, the software pins, the model
   * and its storage, the parallelism, the ports, the testing switches). A change of a vLLM tuning
   * flag (gpu_memory_utilization, max_model_len, extra_args, ...) replaces only the vLLM service
   * and does not re-run preflight; run {@code preflight} by hand for those.
   */
  /** What synth staged for the deploy machine: the command line's classpath and the stack file. */
  record Staged(String classpath, String stackFile) {}

  private static Staged stage(TerraformStack stack, ClusterSpec spec) {
    String name = spec.name() == null ? stack.getNode().getId() : spec.name();
    return new Staged(CliRuntime.classpath(CliRuntime.current().stage(stack)), stagedStackFile(stack, spec, name));
  }

  /** Sets {@code $java} to the deploy machine's Java, or stops naming what to install. */
  static final String JAVA_LOOKUP = "java=java\n"
      + "if [ -n \"$JAVA_HOME\" ]; then java=\"$JAVA_HOME/bin/java\"; fi\n"
      + "command -v \"$java\" >/dev/null 2>&1 || {\n"
      + "  echo \"[local] the deploy runs this library's command line on Java 17 or newer, and there is no $java here:"
      + " install one (or set JAVA_HOME).\" >&2\n"
      + "  exit 1\n"
      + "}\n";

  private static TerraformResource localChecks(
      TerraformStack stack, ClusterSpec spec, List<SecretRef> secrets, Staged staged) {
    boolean preflight = staged != null;
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
    if (preflight) {
      script.append(preflightScript(staged.classpath(), staged.stackFile()));
    }
    TerraformResource checks =
        new TerraformResource(
            stack,
            "local_checks",
            TerraformResourceConfig.builder().terraformResourceType("terraform_data").build());
    checks.overrideLogicalId("local_checks");
    Map<String, Object> triggers = new LinkedHashMap<>();
    triggers.put(
        "secrets", String.join(" ", secrets.stream().map(SecretRef::environmentVariable).toList()));
    triggers.put("nodes", String.join(" ", spec.nodes().stream().map(NodeSpec::name).toList()));
    if (preflight) {
      triggers.put("preflight", preflightDigest(spec));
    }
    checks.addOverride("triggers_replace", triggers);
    Map<String, Object> localExec = new LinkedHashMap<>();
    localExec.put("command", script.toString());
    localExec.put("interpreter", List.of("/bin/sh", "-c"));
    checks.addOverride("provisioner", List.of(Map.of("local-exec", localExec)));
    return checks;
  }

  /**
   * The cluster as a stack file ({@code <name>.yaml}, what preflight reads), staged beside {@code
   * cdk.tf.json}; its path relative to the stack's directory.
   */
  private static String stagedStackFile(TerraformStack stack, ClusterSpec spec, String name) {
    Path file = Staging.tempDirectory("vrc-preflight-").resolve(name + ".yaml");
    try {
      Files.writeString(file, StackWriter.yaml(spec, Path.of("").toAbsolutePath()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the stack file preflight reads", e);
    }
    return Staging.file(stack, PREFLIGHT_ASSET_ID, file, "stack");
  }

  /** The staged stack file's asset id: {@code assets/vrc-preflight/stack/<name>.yaml}. */
  public static final String PREFLIGHT_ASSET_ID = "vrc-preflight";

  /**
   * The shell text that runs preflight: the command line's runtime at {@code classpath} (relative
   * to the stack's directory, where OpenTofu runs local-exec), on the stack file {@code stackFile}.
   */
  static String preflightScript(String classpath, String stackFile) {
    String cp = Shell.literal(Shell.singleQuoted(classpath));
    String file = Shell.literal(Shell.singleQuoted(stackFile));
    // Plain $VAR, not ${VAR:-}: OpenTofu would read "${" as its own interpolation.
    return "if [ \"$" + SKIP_PREFLIGHT_ENV + "\" = 1 ]; then\n"
        + "  echo '[local/checks] preflight skipped (" + SKIP_PREFLIGHT_ENV + "=1)'\n"
        + "else\n"
        + "  java=java\n"
        + "  if [ -n \"$JAVA_HOME\" ]; then java=\"$JAVA_HOME/bin/java\"; fi\n"
        + "  command -v \"$java\" >/dev/null 2>&1 || {\n"
        + "    echo \"[local/checks] preflight runs on Java 17 or newer, and there is no $java here: install one (or set"
        + " JAVA_HOME), or skip preflight (" + SKIP_PREFLIGHT_ENV + "=1) at your own risk.\" >&2\n"
        + "    exit 1\n"
        + "  }\n"
        + "  \"$java\" -cp " + cp + " " + CliRuntime.MAIN_CLASS + " preflight " + file
        + " --ignore=\"$" + PREFLIGHT_IGNORE_ENV + "\""
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
    sb.append("parallel ").append(spec.vllm().tensorParallelSize()).append('x').append(spec.vllm().pipelineParallelSize());
    if (spec.vllm().replicas() > 1) {
      sb.append(" dp ").append(spec.vllm().replicas());
    }
    sb.append('\n');
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
    if (spec.vllm().proxy()) {
      sb.append("proxy backend ").append(spec.vllm().backendPort()).append('\n');
    }
    sb.append("testing TestingSpec[logicalGpus=").append(spec.testing().logicalGpus()).append("]\n");
    return ProjectLayout.digest(sb.toString()).substring(0, 16);
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  private void outputs(ClusterSpec spec, String caFile) {
    NodeSpec head = spec.head();
    output(
        "api_url",
        spec.apiBaseUrl() + "/v1",
        "The OpenAI-compatible endpoint (send the key as: Authorization: Bearer <key>).");
    String ca;
    if (!spec.vllm().https()) {
      ca = "none: plain HTTP (" + (spec.vllm().proxy() ? "vllm.tls: false" : "vllm.proxy: false") + ")";
    } else if (spec.vllm().userCertificate()) {
      ca = "the CA that signed " + spec.vllm().tlsCertPath();
    } else if (caFile != null) {
      ca = caFile;
    } else {
      ca = "bin/vllm-ray-cluster api-ca <stack file> --out FILE";
    }
    output("api_ca_certificate", ca,
        "The CA certificate clients check the API's TLS with (curl --cacert FILE): a file the deploy writes"
            + " (the head's per-cluster CA; its key never leaves the head), relative to the directory that holds"
            + " cdktf.out (the project).");
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
