package dev.vllmraycluster.node;

import com.hashicorp.cdktf.ITerraformDependable;
import com.hashicorp.cdktf.TerraformResource;
import com.hashicorp.cdktf.TerraformResourceConfig;
import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.contract.Shell;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.staging.Staging;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import software.constructs.Construct;

/**
 * One part of the cluster on one node: a {@code terraform_data} resource whose SSH provisioners
 * upload {@code modules/common} and {@code modules/<component>} with the rendered configuration,
 * run {@code apply.sh}, and at destroy time run the installed {@code remove.sh}. See
 * docs/host-contract.md.
 *
 * <p>{@code triggers_replace} holds one digest per input group ({@code config}, {@code module},
 * uploads, and each upstream step this one must restart with), so a plan names why a part is
 * replaced and a change replaces only what depends on it.
 *
 * <p>Every value from the stack that lands in {@code cdk.tf.json} goes through {@link
 * Shell#literal} (so {@code ${...}} or {@code %{...}} in it is never an OpenTofu template), and
 * through {@link Shell#quote} where it is part of a command line.
 */
public abstract class HostStep extends Construct {
  public static final String INSTALL_DIR = HostContract.INSTALL_DIR;
  /**
   * Where OpenTofu uploads each remote-exec script (and leaves it, emptied, afterwards): a file in
   * the SSH user's home directory, relative to it ("./" so that it is run as a path), never a world-writable place like OpenTofu's
   * default {@code /tmp/terraform_*.sh} (made 0777 there). Root's home is 0700; for another user
   * preflight checks that nobody else can enter the home directory.
   */
  public static final String SCRIPT_PATH = "./.vrc-tf-%RAND%.sh";
  /** Per SSH user: {@code <dir>/<step>} holds a step's uploads, secrets included (tmpfs). */
  public static final String STAGE_ROOT = "/run/vrc-stage-";
  private static final Pattern SAFE_VALUE = Pattern.compile("[^'$\\\\`\\n\\r]*");
  private static final Pattern SAFE_KEY = Pattern.compile("[A-Z][A-Z0-9_]*");

  private final ProjectLayout layout;
  private final NodeSpec node;
  private final String component;
  private final String logicalId;
  private final TerraformResource resource;
  private final Map<String, String> triggers;
  private final List<String> replacedBy = new ArrayList<>();

  /**
   * @param node the node to run on
   * @param component the folder under {@code modules/}
   * @param env the component's configuration ({@code <component>.env}); never a secret
   * @param args argument lines ({@code <component>.args}), or an empty list for none
   * @param after steps this one runs after (order only)
   * @param restartsWith steps this one runs after and is replaced with
   * @param uploads extra files or directories to upload into the staging directory
   */
  public record Props(
      NodeSpec node,
      String component,
      Map<String, String> env,
      List<String> args,
      List<ITerraformDependable> after,
      List<HostStep> restartsWith,
      List<Upload> uploads) {
    public Props {
      env = new LinkedHashMap<>(env);
      args = List.copyOf(args);
      after = List.copyOf(after);
      restartsWith = List.copyOf(restartsWith);
      uploads = List.copyOf(uploads);
    }
  }

  /**
   * A file provisioner into the staging directory: a local {@code source} (file or directory,
   * digested by {@code digest}) or literal {@code content} (which may hold an ephemeral variable
   * reference, never a literal secret).
   */
  public record Upload(String stagePath, String source, String content, String digest, boolean isDirectory) {
    public static Upload directory(String stagePath, String absoluteSource, String digest) {
      return new Upload(stagePath, absoluteSource, null, digest, true);
    }

    /** One local file, uploaded as {@code stagePath} (its digest in the triggers). */
    public static Upload file(String stagePath, String absoluteSource, String digest) {
      return new Upload(stagePath, absoluteSource, null, digest, false);
    }

    public static Upload secretContent(String stagePath, String contentExpression) {
      return new Upload(stagePath, null, contentExpression, null, false);
    }

    /**
     * A file rendered at synth (never a secret): its text lands in {@code cdk.tf.json} as a
     * literal (OpenTofu's template markers escaped), its digest in the triggers.
     */
    public static Upload text(String stagePath, String text) {
      return new Upload(stagePath, null, Shell.literal(text), ProjectLayout.digest(text), false);
    }
  }

  /** When a step runs its script on the host. */
  protected enum Mode {
    /** {@code apply.sh} when the step is created, the installed {@code remove.sh} when destroyed. */
    APPLY,
    /**
     * {@code sweep.sh} (uploaded then, from the current configuration) when the step is destroyed,
     * nothing when it is created. Such a step has no {@code triggers_replace}, so it is never
     * replaced: only destroyed with its node.
     */
    AT_DESTROY
  }

  protected HostStep(Construct scope, String id, ProjectLayout layout, Props props) {
    this(scope, id, layout, props, Mode.APPLY);
  }

  /**
   * @param mode {@link Mode#AT_DESTROY} for the node's sweep only
   */
  protected HostStep(Construct scope, String id, ProjectLayout layout, Props props, Mode mode) {
    super(scope, id);
    this.layout = layout;
    this.node = props.node();
    this.component = props.component();
    this.logicalId = node.name() + "_" + id;

    String envText = renderEnv(props.env());
    String argsText = renderArgs(props.args());

    Map<String, String> triggers = new TreeMap<>();
    if (mode == Mode.APPLY) {
      triggers.putAll(triggers(layout, envText, argsText, props));
    }
    this.triggers = Map.copyOf(triggers);

    List<ITerraformDependable> dependsOn = new ArrayList<>(props.after());
    for (HostStep upstream : props.restartsWith()) {
      dependsOn.add(upstream.resource());
    }
    // Every step built in a node's scope after its sweep is created after it and destroyed before
    // it, so that the sweep finds whatever such a step left when it was tainted (GpuNode.addSweep).
    if (mode == Mode.APPLY && scope instanceof GpuNode gpuNode && gpuNode.sweep() != null) {
      dependsOn.add(gpuNode.sweep().resource());
    }

    this.resource =
        new TerraformResource(
            this,
            "resource",
            TerraformResourceConfig.builder()
                .terraformResourceType("terraform_data")
                .dependsOn(dependsOn)
                .build());
    resource.overrideLogicalId(logicalId);

    Map<String, Object> input = new LinkedHashMap<>();
    input.put("node", Shell.literal(node.name()));
    input.put("role", node.role().yamlName());
    input.put("component", component);
    input.put("host", Shell.literal(node.ssh().host()));
    input.put("port", String.valueOf(node.ssh().port()));
    input.put("user", Shell.literal(node.ssh().user()));
    input.put("private_key_path", Shell.literal(orEmpty(node.ssh().privateKeyPath())));
    input.put("host_key", Shell.literal(orEmpty(node.ssh().hostKey())));
    Map<String, String> config = new LinkedHashMap<>();
    props.env().forEach((k, v) -> config.put(k, Shell.literal(v)));
    input.put("config", config);
    if (!props.args().isEmpty()) {
      input.put("args", props.args().stream().map(Shell::literal).toList());
    }
    resource.addOverride("input", input);
    if (mode == Mode.APPLY) {
      resource.addOverride("triggers_replace", new TreeMap<>(this.triggers));
    }
    resource.addOverride("connection", connection(layout.hostKeys().connectionKey(node)));
    resource.addOverride("provisioner", mode == Mode.APPLY
        ? provisioners(envText, argsText, props)
        : destroyTimeProvisioners(envText, props));
  }

  /** One digest per input group: the rendered configuration, the scripts, uploads, upstream steps. */
  private Map<String, String> triggers(ProjectLayout layout, String envText, String argsText, Props props) {
    Map<String, String> triggers = new TreeMap<>();
    triggers.put("config", short16(ProjectLayout.digest(envText + "\u0000" + argsText)));
    triggers.put(
        "module",
        short16(
            ProjectLayout.digest(
                layout.modules().digest(HostContract.COMMON_MODULE)
                    + layout.modules().digest(component))));
    for (Upload upload : props.uploads()) {
      if (upload.digest() != null) {
        triggers.put("upload_" + upload.stagePath().replace('/', '_'), short16(upload.digest()));
      }
    }
    for (HostStep upstream : props.restartsWith()) {
      triggers.put("after_" + upstream.logicalId(), upstream.digest());
    }
    return triggers;
  }

  public TerraformResource resource() {
    return resource;
  }

  /**
   * A replacement of this step is created before the step it replaces is destroyed (OpenTofu's
   * {@code create_before_destroy}): for a part that must never be absent, like the firewall. Its
   * remove.sh must then leave alone what a newer step has claimed ({@code superseded} in
   * common/lib.sh).
   */
  protected void createBeforeDestroy() {
    resource.addOverride("lifecycle.create_before_destroy", true);
  }

  /**
   * This step is replaced whenever {@code trigger} is created or changes (OpenTofu's {@code
   * replace_triggered_by}): the fingerprint resource of a secret its service keeps while it runs,
   * so that a rotated secret restarts it with the new value.
   */
  public void replacedWhenChanged(TerraformResource trigger) {
    replacedBy.add(trigger.getTerraformResourceType() + "." + trigger.getFriendlyUniqueId());
    resource.addOverride("lifecycle.replace_triggered_by", List.copyOf(replacedBy));
  }

  /** The resources whose change replaces this step ({@link #replacedWhenChanged}). */
  public List<String> replacedBy() {
    return List.copyOf(replacedBy);
  }

  public String logicalId() {
    return logicalId;
  }

  public NodeSpec nodeSpec() {
    return node;
  }

  public String component() {
    return component;
  }

  /** A digest of every trigger of this step: what a downstream step restarts with. */
  public String digest() {
    return short16(ProjectLayout.digest(new TreeMap<>(triggers).toString()));
  }

  public Map<String, String> triggers() {
    return triggers;
  }

  /** The staging directory on the host: private to the SSH user, one per resource. */
  String stage() {
    return STAGE_ROOT + node.ssh().user() + "/" + logicalId;
  }

  /**
   * The SSH connection every provisioner of the step uses. The host key is always checked: the
   * key pinned in the stack or found in this machine's known_hosts at synth, written here as a
   * literal (create- and destroy-time provisioners alike); a node with neither gets {@link
   * KnownHostKeys#UNPINNED}, which OpenTofu cannot parse, so no connection is ever made to it (and
   * the step's first provisioner stops the run with the fix before that).
   */
  private static Map<String, Object> connection(String hostKey) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("type", "ssh");
    c.put("host", "${self.input.host}");
    c.put("port", "${self.input.port}");
    c.put("user", "${self.input.user}");
    c.put(
        "private_key",
        "${self.input.private_key_path == \"\" ? null : file(self.input.private_key_path)}");
    c.put("agent", "${self.input.private_key_path == \"\"}");
    c.put("host_key", hostKey);
    c.put("script_path", SCRIPT_PATH);
    c.put("timeout", "2m");
    return c;
  }

  private List<Map<String, Object>> provisioners(String envText, String argsText, Props props) {
    List<Map<String, Object>> list = new ArrayList<>();
    // 0. A node whose host key is unknown is never connected to: stop with the fix first.
    String unpinned = layout.hostKeys().unpinnedMessage(node, component);
    if (unpinned != null) {
      list.add(stopLocally(unpinned, false));
    }
    // 1.-3. Staging, uploads, apply.sh.
    list.addAll(run(envText, argsText, props, "apply.sh"));
    // 4. At destroy: the installed remove.sh, which reads its installed configuration.
    list.addAll(destroyProvisioners(unpinned, node, component, null));
    return list;
  }

  /**
   * The destroy-time provisioners of a step of {@code node} that has left the configuration (a
   * {@code removed {}} block: OpenTofu runs no provisioner of a resource that is simply gone):
   * the same as the step's own, with the connection inside the provisioner, where a removed block
   * takes it.
   */
  public static List<Map<String, Object>> removedStepProvisioners(ProjectLayout layout, NodeSpec node, String component) {
    return destroyProvisioners(
        layout.hostKeys().unpinnedMessage(node, component), node, component, connection(layout.hostKeys().connectionKey(node)));
  }

  /**
   * A stop on the deploy machine first for a node whose host key is unknown, then the installed
   * remove.sh over SSH ({@code connection} null: the resource's own).
   */
  private static List<Map<String, Object>> destroyProvisioners(
      String unpinned, NodeSpec node, String component, Map<String, Object> connection) {
    List<Map<String, Object>> list = new ArrayList<>();
    if (unpinned != null) {
      list.add(stopLocally(unpinned, true));
    }
    String remove = Shell.quote(INSTALL_DIR + "/" + component + "/remove.sh");
    Map<String, Object> destroy = new LinkedHashMap<>();
    destroy.put(
        "inline",
        List.of(
            "if [ -f " + remove + " ]; then " + asRoot(node.ssh().user()) + " " + remove + " ${self.id}; else echo "
                + Shell.quote("[" + node.name() + "/" + component + "/remove] not installed, nothing to remove") + "; fi"));
    destroy.put("when", "destroy");
    if (connection != null) {
      destroy.put("connection", connection);
    }
    list.add(Map.of("remote-exec", destroy));
    return list;
  }

  /**
   * A step that acts only when it is destroyed ({@link Mode#AT_DESTROY}): the same staging, uploads
   * and run as an apply, of {@code <component>/<component>.sh}, every provisioner with {@code when
   * = destroy}. Nothing runs when it is created.
   */
  private List<Map<String, Object>> destroyTimeProvisioners(String envText, Props props) {
    List<Map<String, Object>> list = new ArrayList<>();
    String unpinned = layout.hostKeys().unpinnedMessage(node, component);
    if (unpinned != null) {
      list.add(stopLocally(unpinned, true));
    }
    for (Map<String, Object> p : run(envText, renderArgs(props.args()), props, component + ".sh")) {
      Map.Entry<String, Object> only = p.entrySet().iterator().next();
      @SuppressWarnings("unchecked")
      Map<String, Object> body = new LinkedHashMap<>((Map<String, Object>) only.getValue());
      body.put("when", "destroy");
      list.add(Map.of(only.getKey(), body));
    }
    return list;
  }

  /** Staging directory, uploads, then {@code <component>/<script>} as root; the stage removed after. */
  private List<Map<String, Object>> run(String envText, String argsText, Props props, String script) {
    String stage = stage();
    String asRoot = asRoot(node.ssh().user());
    List<Map<String, Object>> list = new ArrayList<>();
    // 1. A fresh staging directory on tmpfs, private to the SSH user (made by root, owned by the
    //    user, checked before use); old emptied provisioner scripts of ours are tidied away.
    String stageRoot = STAGE_ROOT + node.ssh().user();
    String sudo = "root".equals(node.ssh().user()) ? "" : "sudo -n ";
    list.add(
        remoteExec(
            List.of(
                "set -eu",
                "umask 077",
                sudo + "install -d -m 0700 -o \"$(id -u)\" -g \"$(id -g)\" " + Shell.quote(stageRoot),
                "test -O " + Shell.quote(stageRoot) + " || { echo " + Shell.quote("staging directory not owned by " + node.ssh().user())
                    + " >&2; exit 1; }",
                "rm -rf " + Shell.quote(stage),
                // A run's own copy of the stage (step 3) whose process is gone (killed before its
                // trap ran) may hold a secret: removed. A live one belongs to a run still going.
                "for d in " + Shell.quote(stage) + ".run-*; do [ -d \"$d\" ] || continue; kill -0 \"$(echo \"$d\" | sed 's/.*\\.run-//')\""
                    + " 2>/dev/null || rm -rf \"$d\"; done",
                "mkdir -p " + Shell.words(stageDirs(props)),
                "find \"$HOME\" -maxdepth 1 -name '.vrc-tf-*.sh' -type f -empty -mmin +10 -delete 2>/dev/null || true",
                "echo " + Shell.quote("[" + node.name() + "/" + component + "/upload] staging in " + stage))));
    // 2. The scripts and the configuration.
    list.add(fileDir(HostContract.COMMON_MODULE));
    list.add(fileDir(component));
    list.add(fileContent(stage + "/" + component + ".env", Shell.literal(envText)));
    if (!props.args().isEmpty()) {
      list.add(fileContent(stage + "/" + component + ".args", Shell.literal(argsText)));
    }
    for (Upload upload : props.uploads()) {
      Map<String, Object> file = new LinkedHashMap<>();
      if (upload.source() != null) {
        file.put("source", Shell.literal(upload.source() + (upload.isDirectory() ? "/" : "")));
      } else {
        file.put("content", upload.content());
      }
      file.put("destination", Shell.literal(stage + "/" + upload.stagePath()));
      list.add(Map.of("file", file));
    }
    // 3. Apply, and remove the staging directory whatever happened (it may hold a secret), also
    //    when the deploy is killed (its SSH session ends, the pty hangs up). The stage is first
    //    moved to a directory of this run only: a killed deploy's step may still be running when
    //    the next deploy stages the same step anew, and its exit must not remove that. The
    //    resource's id lets a replacement created before its predecessor is destroyed claim the
    //    component (claim_step in common/lib.sh), so that the old one's remove.sh leaves it be.
    String quotedStage = Shell.quote(stage);
    list.add(
        remoteExec(
            List.of(
                "run=" + quotedStage + ".run-$$; mv " + quotedStage + " \"$run\" || exit 1; trap 'rm -rf \"$run\"' EXIT;"
                    + " trap 'exit 129' HUP INT TERM; rc=0; " + asRoot + " \"$run\"/" + Shell.quote(component + "/" + script)
                    + " \"$run\" ${self.id} || rc=$?; exit $rc")));
    return list;
  }

  private Map<String, Object> fileDir(String module) {
    Map<String, Object> file = new LinkedHashMap<>();
    // The module staged beside cdk.tf.json (a path relative to the stack's directory, where
    // OpenTofu runs); a trailing slash uploads the directory's contents into the destination.
    file.put("source", Shell.literal(Staging.module(this, layout.modules(), module) + "/"));
    file.put("destination", Shell.literal(stage() + "/" + module));
    return Map.of("file", file);
  }

  /** Directories the file provisioners upload into; created first so uploads land inside. */
  private List<String> stageDirs(Props props) {
    List<String> dirs = new ArrayList<>();
    dirs.add(stage() + "/secrets");
    dirs.add(stage() + "/common");
    dirs.add(stage() + "/" + component);
    for (Upload upload : props.uploads()) {
      if (upload.source() != null && upload.isDirectory()) {
        dirs.add(stage() + "/" + upload.stagePath());
      }
    }
    return dirs;
  }

  private static Map<String, Object> fileContent(String destination, String content) {
    Map<String, Object> file = new LinkedHashMap<>();
    file.put("content", content);
    file.put("destination", Shell.literal(destination));
    return Map.of("file", file);
  }

  /** A local-exec that prints {@code message} and fails (at create, or at destroy). */
  private static Map<String, Object> stopLocally(String message, boolean atDestroy) {
    Map<String, Object> local = new LinkedHashMap<>();
    local.put("command", "echo " + shellQuote(message) + " >&2; exit 1");
    local.put("interpreter", List.of("/bin/sh", "-c"));
    if (atDestroy) {
      local.put("when", "destroy");
    }
    return Map.of("local-exec", local);
  }

  /** A single-quoted shell word; also keeps OpenTofu from reading {@code ${} or {@code %{}. */
  static String shellQuote(String s) {
    return "'" + s.replace("'", "'\\''").replace("${", "$${").replace("%{", "%%{") + "'";
  }

  private static Map<String, Object> remoteExec(List<String> inline) {
    return Map.of("remote-exec", Map.of("inline", inline));
  }

  /** Root runs scripts with bash; anyone else through passwordless sudo (checked by preflight). */
  static String asRoot(String user) {
    return "root".equals(user) ? "bash" : "sudo -n bash";
  }

  static String renderEnv(Map<String, String> env) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : env.entrySet()) {
      if (!SAFE_KEY.matcher(e.getKey()).matches()
          || e.getValue() == null
          || !SAFE_VALUE.matcher(e.getValue()).matches()) {
        throw new IllegalArgumentException(
            "cannot render " + e.getKey() + " safely into an env file: " + e.getValue());
      }
      sb.append(e.getKey()).append("='").append(e.getValue()).append("'\n");
    }
    return sb.toString();
  }

  static String renderArgs(List<String> args) {
    StringBuilder sb = new StringBuilder();
    for (String arg : args) {
      if (arg.contains("\n") || arg.contains("\r")) {
        throw new IllegalArgumentException("argument has a line break: " + arg);
      }
      sb.append(arg).append('\n');
    }
    return sb.toString();
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }

  private static String short16(String hex) {
    return hex.substring(0, 16);
  }
}
