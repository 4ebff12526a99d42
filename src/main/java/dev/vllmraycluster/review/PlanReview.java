package dev.vllmraycluster.review;

import dev.vllmraycluster.review.Plan.Action;
import dev.vllmraycluster.review.Plan.Part;
import dev.vllmraycluster.review.Plan.Step;
import dev.vllmraycluster.review.Risk.Level;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A Markdown review of one stack's plan for a pull request: what each node adds, replaces or
 * destroys and why (the {@code triggers_replace} inputs that changed), which ports open to whom,
 * the parallelism and GPUs vLLM will use, and the risks a reviewer must see. It reads only the
 * {@link Plan}, in which sensitive values are already masked; the values of sensitive variables
 * are removed from the text once more before it is returned.
 */
public final class PlanReview {
  /** The first line of every review: lets a workflow find and update its own PR comment. */
  public static final String MARKER = "<!-- vllm-ray-cluster plan-review -->";

  static final String NOT_CLEANED =
      "OpenTofu does not run the destroy-time provisioners of resources removed from the"
          + " configuration (checked with OpenTofu 1.12.6): their remove.sh does not run";

  private static final List<String> COMPONENT_ORDER =
      List.of("firewall", "bootstrap", "model-store", "ray", "vllm");

  /** Actions after which a running service is still the same process. */
  private static final Set<Action> STAYS_UP = Set.of(Action.NO_OP, Action.UPDATE, Action.NOT_PLANNED);

  private final Plan plan;
  private final String stackName;
  private final List<String> stackWarnings;

  /**
   * @param stackName shown in the heading; null when unknown
   * @param stackWarnings the stack's validator warnings (allowed risks), may be empty
   */
  public PlanReview(Plan plan, String stackName, List<String> stackWarnings) {
    this.plan = plan;
    this.stackName = stackName;
    this.stackWarnings = List.copyOf(stackWarnings);
  }

  public PlanReview(Plan plan) {
    this(plan, null, List.of());
  }

  public Plan plan() {
    return plan;
  }

  // ------------------------------------------------------------------ facts

  /** Counts of what the plan does, as the summary line says them. */
  public record Summary(int add, int change, int replace, int destroy, int forget) {
    public boolean noChanges() {
      return add + change + replace + destroy + forget == 0;
    }

    @Override
    public String toString() {
      if (noChanges()) {
        return "No changes";
      }
      String s = add + " to add, " + change + " to change, " + replace + " to replace, " + destroy + " to destroy";
      return forget > 0 ? s + ", " + forget + " to forget" : s;
    }
  }

  public Summary summary() {
    return new Summary(count(Action.CREATE), count(Action.UPDATE), count(Action.REPLACE),
        count(Action.DELETE), count(Action.FORGET));
  }

  private int count(Action action) {
    return (int) plan.steps().stream().filter(s -> s.action() == action).count();
  }

  /** Node names with a part before the plan, in cluster order. */
  Set<String> nodesBefore() {
    return nodes(s -> s.action() == Action.CREATE ? null : s.before());
  }

  /** Node names with a part after the plan, in cluster order. */
  Set<String> nodesAfter() {
    return nodes(PlanReview::afterOf);
  }

  private Set<String> nodes(Function<Step, Part> side) {
    Map<String, String> roles = new LinkedHashMap<>();
    for (Step s : plan.steps()) {
      Part p = side.apply(s);
      if (p != null && p.node() != null) {
        roles.putIfAbsent(p.node(), p.role());
      }
    }
    return roles.keySet().stream()
        .sorted(Comparator.comparing((String n) -> "head".equals(roles.get(n)) ? 0 : 1).thenComparing(PlanReview::natural))
        .collect(Collectors.toCollection(LinkedHashSet::new));
  }

  /** The resource after the plan: its planned side, or the state's for a step a -target left out. */
  private static Part afterOf(Step s) {
    if (s.action() == Action.DELETE || s.action() == Action.FORGET) {
      return null;
    }
    return s.after();
  }

  private static Part beforeOf(Step s) {
    return s.action() == Action.CREATE ? null : s.before();
  }

  private Optional<Step> step(String component, String role) {
    return plan.steps().stream()
        .filter(s -> s.current() != null && component.equals(s.current().component()))
        .filter(s -> role == null || role.equals(s.current().role()))
        .findFirst();
  }

  private List<Step> steps(String component) {
    return plan.steps().stream()
        .filter(s -> s.current() != null && component.equals(s.current().component()))
        .sorted(Comparator.comparing((Step s) -> "head".equals(s.current().role()) ? 0 : 1)
            .thenComparing(s -> natural(s.current().node())))
        .toList();
  }

  /** Parts of one component on one side (before or after), in cluster order. */
  private List<Part> side(String component, boolean after) {
    List<Part> parts = new ArrayList<>();
    for (Step s : steps(component)) {
      Part p = after ? afterOf(s) : beforeOf(s);
      if (p != null) {
        parts.add(p);
      }
    }
    return parts;
  }

  private Optional<Part> head(String component, boolean after) {
    return side(component, after).stream().filter(p -> "head".equals(p.role())).findFirst();
  }

  // ------------------------------------------------------------------ why a step changes

  /** Why a step is created, replaced, updated or destroyed: each input that changed. */
  List<String> reasons(Step s) {
    List<String> out = new ArrayList<>();
    switch (s.action()) {
      case CREATE -> out.add(s.after() != null && s.after().node() != null && !nodesBefore().contains(s.after().node())
          && !plan.priorStateEmpty() ? "new node" : "new");
      case DELETE -> out.add(s.removedFromConfiguration()
          ? "removed from the stack: remove.sh will **not** run"
          : "destroyed: remove.sh runs on the host");
      case FORGET -> out.add("forgotten: left as it is on the host");
      case REPLACE -> {
        switch (s.actionReason()) {
          case "replace_by_request" -> out.add("replacement requested (`-replace`)");
          case "replace_because_tainted" -> out.add("tainted by a failed apply: runs again");
          default -> { }
        }
        out.addAll(triggerReasons(s.before(), s.after()));
        if (out.isEmpty()) {
          out.add("replaced");
        }
      }
      case UPDATE -> {
        out.addAll(inputReasons(s.before(), s.after()));
        if (out.isEmpty()) {
          out.add("updated in place (no host action)");
        } else {
          out.add("(in place: nothing runs on the host)");
        }
      }
      default -> { }
    }
    return out;
  }

  private List<String> triggerReasons(Part before, Part after) {
    List<String> out = new ArrayList<>();
    if (before == null || after == null) {
      return out;
    }
    Set<String> keys = new TreeSet<>(Comparator.comparing(PlanReview::triggerRank).thenComparing(Comparator.naturalOrder()));
    keys.addAll(before.triggers().keySet());
    keys.addAll(after.triggers().keySet());
    for (String key : keys) {
      String b = before.triggers().get(key);
      String a = after.triggers().get(key);
      if (Objects.equals(a, b)) {
        continue;
      }
      if (key.equals("config")) {
        List<String> diff = configReasons(before, after);
        out.addAll(diff.isEmpty() ? List.of("configuration changed") : diff);
      } else if (key.equals("module")) {
        out.add("host scripts changed (`modules/" + after.component() + "` or `modules/common`)");
      } else if (key.startsWith("upload_")) {
        out.add("uploaded `" + key.substring("upload_".length()) + "` changed");
      } else if (key.startsWith("after_")) {
        String upstream = key.substring("after_".length());
        if (b == null) {
          out.add("restarts with `" + upstream + "` (new)");
        } else if (a == null) {
          out.add("`" + upstream + "` left the stack");
        } else {
          out.add("restarts with `" + upstream + "`");
        }
      } else {
        out.add(change("`" + key + "`", b, a));
      }
    }
    return out;
  }

  private static int triggerRank(String key) {
    if (key.equals("config")) {
      return 0;
    }
    if (key.equals("module")) {
      return 1;
    }
    if (key.startsWith("upload_")) {
      return 2;
    }
    return key.startsWith("after_") ? 4 : 3;
  }

  /** The env keys and arguments that differ. */
  static List<String> configReasons(Part before, Part after) {
    List<String> out = new ArrayList<>();
    Set<String> keys = new TreeSet<>(before.config().keySet());
    keys.addAll(after.config().keySet());
    for (String k : keys) {
      String b = before.config().get(k);
      String a = after.config().get(k);
      if (!Objects.equals(a, b)) {
        out.add(change("`" + k + "`", b, a));
      } else if (Part.SENSITIVE.equals(a)) {
        out.add("`" + k + "` (sensitive: not shown, may have changed)");
      }
    }
    Map<String, String> fb = Args.flags(before.args());
    Map<String, String> fa = Args.flags(after.args());
    Set<String> flags = new LinkedHashSet<>(fa.keySet());
    flags.addAll(fb.keySet());
    for (String f : flags) {
      String b = fb.get(f);
      String a = fa.get(f);
      if (!Objects.equals(a, b)) {
        out.add(change("`" + f + "`", b, a));
      }
    }
    return out;
  }

  private static List<String> inputReasons(Part before, Part after) {
    List<String> out = new ArrayList<>();
    if (before == null || after == null) {
      return out;
    }
    Set<String> keys = new TreeSet<>(before.input().keySet());
    keys.addAll(after.input().keySet());
    for (String k : keys) {
      if (!Objects.equals(before.input().get(k), after.input().get(k))) {
        out.add(change("SSH `" + k + "`", before.input().get(k), after.input().get(k)));
      }
    }
    out.addAll(configReasons(before, after));
    return out;
  }

  /** "`K`: `a` → `b`", or the tokens added and removed for space-separated lists. */
  static String change(String what, String before, String after) {
    if (before == null) {
      return what + " " + code(after) + " (added)";
    }
    if (after == null) {
      return what + " " + code(before) + " (removed)";
    }
    if ((before.contains(" ") || after.contains(" ")) && !before.isEmpty() && !after.isEmpty()) {
      List<String> b = Arrays.asList(before.trim().split("\\s+"));
      List<String> a = Arrays.asList(after.trim().split("\\s+"));
      List<String> added = a.stream().filter(t -> !b.contains(t)).toList();
      List<String> removed = b.stream().filter(t -> !a.contains(t)).toList();
      if (added.size() + removed.size() > 0 && added.size() + removed.size() < Math.max(a.size(), b.size())) {
        List<String> parts = new ArrayList<>();
        if (!added.isEmpty()) {
          parts.add("+ " + code(String.join(" ", added)));
        }
        if (!removed.isEmpty()) {
          parts.add("− " + code(String.join(" ", removed)));
        }
        return what + " " + String.join(", ", parts);
      }
    }
    return what + " " + code(before) + " → " + code(after);
  }

  // ------------------------------------------------------------------ exposure

  /** Who outside the cluster reaches the API, for one side; null when there is no API then. */
  String apiReach(boolean after) {
    Optional<Part> vllm = head("vllm", after);
    Optional<Part> fw = head("firewall", after);
    if (vllm.isEmpty() || fw.isEmpty()) {
      return null;
    }
    String host = vllm.get().arg("--host").orElse("0.0.0.0");
    if (host.startsWith("127.")) {
      return "bound to " + code(host) + ": this host only";
    }
    if (firewallOff(fw.get())) {
      return "**anyone** who reaches the head (no firewall)";
    }
    String nets = fw.get().config("API_ALLOWED_NETWORKS").orElse("");
    return nets.isBlank() ? "nobody (cluster only)" : code(nets);
  }

  String dashboardReach(boolean after) {
    Optional<Part> ray = head("ray", after);
    Optional<Part> fw = head("firewall", after);
    if (ray.isEmpty() || fw.isEmpty()) {
      return null;
    }
    if ("false".equals(ray.get().arg("--include-dashboard").orElse("true"))) {
      return "disabled";
    }
    String host = ray.get().arg("--dashboard-host").orElse("127.0.0.1");
    if (host.startsWith("127.")) {
      return "bound to " + code(host) + ": SSH tunnel only";
    }
    if (firewallOff(fw.get())) {
      return "bound to " + code(host) + ", **anyone** who reaches it (no firewall)";
    }
    String nets = fw.get().config("DASHBOARD_ALLOWED_NETWORKS").orElse("");
    return "bound to " + code(host) + ", " + (nets.isBlank() ? "cluster only" : code(nets));
  }

  private static boolean firewallOff(Part firewall) {
    return "none".equals(firewall.config("FIREWALL_BACKEND").orElse(""));
  }

  private static boolean opensToAll(String networks) {
    return networks != null && Arrays.stream(networks.trim().split("\\s+")).anyMatch(n -> n.endsWith("/0"));
  }

  // ------------------------------------------------------------------ parallelism

  /** TP, PP, GPUs per node and the link on one side of the plan. */
  record Parallelism(int tp, int pp, Map<String, Integer> gpus, String interconnect) {
    int declared() {
      return gpus.values().stream().mapToInt(Integer::intValue).sum();
    }

    int largestNode() {
      return gpus.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    }

    boolean spansNodes() {
      return largestNode() > 0 && tp > largestNode();
    }

    boolean fastLink() {
      return interconnect != null && !interconnect.isEmpty() && !"ethernet".equals(interconnect);
    }
  }

  Parallelism parallelism(boolean after) {
    Optional<Part> vllm = head("vllm", after);
    if (vllm.isEmpty()) {
      return null;
    }
    Map<String, Integer> gpus = new LinkedHashMap<>();
    for (Part ray : side("ray", after)) {
      gpus.put(ray.node(), number(ray.arg("--num-gpus").orElse("0")));
    }
    return new Parallelism(
        number(vllm.get().arg("--tensor-parallel-size").orElse("1")),
        number(vllm.get().arg("--pipeline-parallel-size").orElse("1")),
        gpus,
        vllm.get().config("INTERCONNECT").orElse(null));
  }

  private static int number(String s) {
    try {
      return Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** A software version per node on one side ({@code RAY_VERSION} or {@code VLLM_VERSION}). */
  Map<String, String> versions(String key, boolean after) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Part p : side("bootstrap", after)) {
      p.config(key).ifPresent(v -> out.put(p.node(), v));
    }
    return out;
  }

  // ------------------------------------------------------------------ risks

  public List<Risk> risks() {
    List<Risk> risks = new ArrayList<>();
    if (plan.errored()) {
      risks.add(new Risk(Level.HIGH, "The plan stopped on an error",
          "OpenTofu could not finish planning: this review shows only what it planned before the error.", true));
    }
    nodeRemovalRisks(risks);
    firewallRisks(risks);
    dashboardRisk(risks);
    modelStoreRisks(risks);
    parallelismRisk(risks);
    versionRisks(risks);
    return risks;
  }

  private void nodeRemovalRisks(List<Risk> risks) {
    Set<String> after = nodesAfter();
    boolean wholeStack = after.isEmpty() && !nodesBefore().isEmpty();
    for (String node : nodesBefore()) {
      if (after.contains(node)) {
        continue;
      }
      List<Step> gone = plan.steps().stream()
          .filter(s -> s.before() != null && node.equals(s.before().node()) && s.action().removesOld())
          .toList();
      if (gone.stream().anyMatch(Step::removedFromConfiguration)) {
        risks.add(new Risk(Level.HIGH,
            "Node `" + node + "` removed from the stack: its services will NOT be cleaned up",
            NOT_CLEANED + " (" + names(gone) + "): Ray, its systemd units, the firewall table and the"
                + " venv stay on `" + node + "`, and its Ray worker may keep its place in the cluster."
                + " Run `cdktf destroy` first, or keep the node and remove it in two steps: destroy its"
                + " parts while it is still in the stack (`tofu destroy "
                + gone.stream().map(s -> "-target=" + s.address()).collect(Collectors.joining(" "))
                + "` in `cdktf.out/stacks/<stack>`), then remove it from the stack and deploy.",
            true));
      } else if (!wholeStack) {
        risks.add(new Risk(Level.WARN, "Node `" + node + "` is destroyed",
            "remove.sh runs for " + names(gone) + "; the model directory stays unless DELETE_ON_DESTROY=true.", true));
      }
    }
    if (wholeStack) {
      risks.add(new Risk(Level.WARN, "The whole cluster is destroyed",
          "Every part's remove.sh runs; the API is gone until the next deploy.", true));
    }
    Optional<Step> vllm = step("vllm", null);
    boolean vllmStays = vllm.isPresent()
        && STAYS_UP.contains(vllm.get().action());
    if (vllmStays) {
      for (Step ray : steps("ray")) {
        if (ray.action().removesOld()) {
          risks.add(new Risk(Level.HIGH,
              "Ray on `" + ray.current().node() + "` goes away while vLLM keeps serving",
              "`" + ray.name() + "` is " + ray.action().label() + "ed but `" + vllm.get().name()
                  + "` is not restarted: the model's workers on that node are lost and requests fail"
                  + " until vLLM restarts. Restart vLLM in the same plan (e.g. `-replace="
                  + vllm.get().address() + "`).",
              true));
        }
      }
    }
  }

  private void firewallRisks(List<Risk> risks) {
    for (Step fw : steps("firewall")) {
      Part a = afterOf(fw);
      if (a != null && firewallOff(a)) {
        Part b = beforeOf(fw);
        risks.add(new Risk(Level.HIGH, "No firewall on `" + a.node() + "`",
            "`FIREWALL_BACKEND=none`: the vLLM API, the Ray dashboard (code execution) and every Ray port"
                + " answer anyone who reaches the host.", b == null || !firewallOff(b)));
      }
    }
    Optional<Part> fwAfter = head("firewall", true);
    if (fwAfter.isPresent() && opensToAll(fwAfter.get().config("API_ALLOWED_NETWORKS").orElse(""))) {
      boolean before = head("firewall", false).map(p -> opensToAll(p.config("API_ALLOWED_NETWORKS").orElse(""))).orElse(false);
      boolean noKey = head("vllm", true).map(p -> "false".equals(p.config("REQUIRE_API_KEY").orElse("true"))).orElse(false);
      risks.add(new Risk(Level.HIGH, "vLLM API open to `0.0.0.0/0`",
          "`network.api_allowed_networks` lets every address reach port "
              + fwAfter.get().config("API_PORT").orElse("?") + " on `" + fwAfter.get().node() + "`"
              + (noKey ? ", and the API needs **no key**." : "; only the API key stands in the way.")
              + " List the client networks instead.", !before));
    }
    Optional<Part> vllmAfter = head("vllm", true);
    if (vllmAfter.isPresent() && "false".equals(vllmAfter.get().config("REQUIRE_API_KEY").orElse("true"))) {
      boolean before = head("vllm", false).map(p -> "false".equals(p.config("REQUIRE_API_KEY").orElse("true"))).orElse(false);
      risks.add(new Risk(Level.WARN, "vLLM API without a key",
          "`vllm.require_api_key: false`: whoever the firewall lets through (" + apiReach(true) + ") can use the model.", !before));
    }
  }

  private void dashboardRisk(List<Risk> risks) {
    String after = dashboardReach(true);
    if (after == null || after.equals("disabled") || after.contains("SSH tunnel only")) {
      return;
    }
    String before = dashboardReach(false);
    boolean wide = after.contains("**anyone**")
        || head("firewall", true).map(p -> opensToAll(p.config("DASHBOARD_ALLOWED_NETWORKS").orElse(""))).orElse(false);
    risks.add(new Risk(wide ? Level.HIGH : Level.WARN, "Ray dashboard exposed: " + after,
        "The dashboard's Jobs API runs code on every node for whoever reaches it (CVE-2023-48022)."
            + " Keep `ray.dashboard_host: 127.0.0.1` and use the SSH tunnel (output `dashboard`).",
        !after.equals(before)));
  }

  /**
   * A model store whose remove.sh deletes the model: the server or copy side (never an NFS client)
   * with {@code DELETE_ON_DESTROY=true}, replaced or destroyed while it is still in the stack.
   * Re-made stores that keep their data are an expected part of e.g. adding a worker (the export
   * lists the new client): they are a note, not a risk.
   */
  private void modelStoreRisks(List<Risk> risks) {
    for (Step s : steps("model-store")) {
      if (!deletesModel(s)) {
        continue;
      }
      Part b = s.before();
      risks.add(new Risk(Level.HIGH,
          "Model store on `" + b.node() + "` " + (s.action() == Action.REPLACE ? "replaced" : "destroyed") + " with its data",
          "`DELETE_ON_DESTROY=true`: remove.sh deletes " + code(b.config("MODEL_DIR").orElse("the model directory"))
              + (s.action() == Action.REPLACE ? ", and apply.sh fetches or uploads it again before vLLM can start." : "."),
          true));
    }
  }

  private static boolean deletesModel(Step s) {
    Part b = s.before();
    return s.action().removesOld() && s.action() != Action.FORGET && !s.removedFromConfiguration() && b != null
        && !"nfs_client".equals(b.config("STORE_ROLE").orElse(""))
        && "true".equals(b.config("DELETE_ON_DESTROY").orElse("false"));
  }

  private void parallelismRisk(List<Risk> risks) {
    Parallelism after = parallelism(true);
    if (after == null || !after.spansNodes() || after.fastLink()) {
      return;
    }
    Parallelism before = parallelism(false);
    boolean already = before != null && before.spansNodes() && !before.fastLink();
    risks.add(new Risk(Level.WARN,
        "Tensor parallel " + after.tp() + " spans nodes without a declared fast interconnect",
        "The largest node has " + after.largestNode() + " GPU(s), so every layer's all-reduce crosses the network"
            + (after.interconnect() == null ? " and the stack declares no `network.interconnect`" : " (`network.interconnect: ethernet`)")
            + ". vLLM advises tensor parallel = GPUs per node and pipeline parallel = nodes; declare"
            + " `network.interconnect: infiniband`, `roce` or `nvlink` if the nodes have one.",
        !already));
  }

  private void versionRisks(List<Risk> risks) {
    for (String[] kv : List.of(new String[] {"RAY_VERSION", "Ray"}, new String[] {"VLLM_VERSION", "vLLM"})) {
      Map<String, String> after = versions(kv[0], true);
      if (new LinkedHashSet<>(after.values()).size() > 1) {
        boolean targeted = plan.steps().stream().anyMatch(s -> s.action() == Action.NOT_PLANNED);
        risks.add(new Risk(Level.HIGH, kv[1] + " version differs between nodes after this plan",
            after.entrySet().stream().map(e -> "`" + e.getKey() + "` " + e.getValue()).collect(Collectors.joining(", "))
                + ". " + ("Ray".equals(kv[1]) ? "Ray refuses nodes of another version, so the cluster splits."
                    : "Ray workers import the head's vLLM code: mismatched versions fail at load time.")
                + (targeted ? " This plan leaves parts out (`-target`): plan the whole stack." : ""),
            true));
      }
    }
  }

  // ------------------------------------------------------------------ Markdown

  public String markdown() {
    StringBuilder md = new StringBuilder();
    md.append(MARKER).append('\n');
    md.append("## Plan review").append(stackName == null ? "" : ": `" + stackName + "`").append("\n\n");
    Summary summary = summary();
    if (summary.noChanges()) {
      md.append("**No changes.** The hosts are as the stack describes them: applying this plan runs nothing.");
    } else {
      md.append("**Plan: ").append(summary).append(".**");
    }
    md.append(" OpenTofu ").append(plan.tofuVersion()).append(".\n");
    List<String> replaced = plan.steps().stream().filter(s -> s.action() == Action.REPLACE).map(s -> "`" + s.name() + "`").toList();
    if (!replaced.isEmpty()) {
      md.append("\nRestarted (replaced): ").append(String.join(", ", replaced)).append(".\n");
    }
    if (plan.priorStateEmpty() && !summary.noChanges()) {
      md.append("\n> Planned against an empty state: every part is created, as in a first deploy. If this"
          + " cluster is already deployed, its state was not reachable from here (see `state:` in the stack).\n");
    }

    List<Risk> risks = risks();
    md.append("\n### Risks\n\n");
    if (risks.isEmpty()) {
      md.append("None found.\n");
    } else {
      for (Risk r : risks) {
        md.append("- **").append(r.level().label()).append("**")
            .append(r.introduced() ? "" : " (already so before this plan)")
            .append(": ").append(r.title()).append(". ").append(r.detail()).append('\n');
      }
    }
    if (!stackWarnings.isEmpty()) {
      md.append("\nStack warnings (`vllm-ray-cluster validate`):\n\n");
      for (String w : stackWarnings) {
        md.append("- ").append(w).append('\n');
      }
    }

    renderNodes(md);
    renderPorts(md);
    renderParallelism(md);
    renderOutputs(md);
    renderNotes(md);
    return redact(md.toString());
  }

  private void renderNodes(StringBuilder md) {
    md.append("\n### Nodes\n");
    Set<String> before = nodesBefore();
    Set<String> after = nodesAfter();
    Set<String> all = new LinkedHashSet<>(nodes(Step::current));
    for (String node : all) {
      List<Step> steps = plan.steps().stream()
          .filter(s -> s.current() != null && node.equals(s.current().node()))
          .sorted(Comparator.comparing((Step s) -> COMPONENT_ORDER.indexOf(s.current().component())))
          .toList();
      Part any = steps.get(0).current();
      String state = !after.contains(node) ? " — **leaves the cluster**"
          : !before.contains(node) && !plan.priorStateEmpty() ? " — **joins the cluster**" : "";
      md.append("\n#### `").append(node).append("` (").append(any.role()).append(", ")
          .append(any.input().getOrDefault("host", "?")).append(")").append(state).append("\n\n");
      table(md, steps);
    }
    List<Step> local = plan.steps().stream().filter(s -> s.current() == null || s.current().node() == null).toList();
    if (!local.isEmpty()) {
      md.append("\n#### deploy machine\n\n");
      table(md, local);
    }
  }

  private void table(StringBuilder md, List<Step> steps) {
    md.append("| part | resource | action | why |\n|---|---|---|---|\n");
    for (Step s : steps) {
      String action = s.action().changes() ? "**" + s.action().label() + "**" : s.action().label();
      md.append("| ").append(label(s.current())).append(" | `").append(s.name()).append("` | ").append(action)
          .append(" | ").append(cell(String.join("<br>", reasons(s)))).append(" |\n");
    }
  }

  private static String label(Part p) {
    if (p == null || p.component() == null) {
      return "local checks";
    }
    return switch (p.component()) {
      case "firewall" -> "firewall";
      case "bootstrap" -> "bootstrap (packages, venv)";
      case "model-store" -> "model store";
      case "ray" -> "head".equals(p.role()) ? "Ray head" : "Ray worker";
      case "vllm" -> "vLLM API server";
      default -> p.component();
    };
  }

  private void renderPorts(StringBuilder md) {
    List<Part> firewalls = side("firewall", true);
    if (firewalls.isEmpty()) {
      return;
    }
    md.append("\n### Ports and who may reach them\n\n");
    md.append("| port(s) | service | on | reachable from outside the cluster | before this plan |\n|---|---|---|---|---|\n");
    String api = apiReach(true);
    Optional<Part> headFw = head("firewall", true);
    String apiPort = headFw.flatMap(p -> p.config("API_PORT")).orElse("");
    String dashPort = headFw.flatMap(p -> p.config("DASHBOARD_PORT")).orElse("");
    if (api != null) {
      md.append("| ").append(apiPort).append(" | vLLM API | `").append(headFw.get().node()).append("` | ")
          .append(cell(api)).append(" | ").append(cell(was(api, apiReach(false)))).append(" |\n");
    }
    String dash = dashboardReach(true);
    if (dash != null) {
      md.append("| ").append(dashPort).append(" | Ray dashboard, Jobs API | `").append(headFw.get().node()).append("` | ")
          .append(cell(dash)).append(" | ").append(cell(was(dash, dashboardReach(false)))).append(" |\n");
    }
    Map<String, List<String>> byPorts = new LinkedHashMap<>();
    Map<String, String> beforePorts = new LinkedHashMap<>();
    for (Step s : steps("firewall")) {
      Part a = afterOf(s);
      Part b = beforeOf(s);
      if (b != null) {
        beforePorts.put(b.node(), otherPorts(b));
      }
      if (a != null) {
        String ports = otherPorts(a) + (firewallOff(a) ? " (**not protected**: no firewall)" : "");
        byPorts.computeIfAbsent(ports, k -> new ArrayList<>()).add(a.node());
      }
    }
    for (Map.Entry<String, List<String>> e : byPorts.entrySet()) {
      List<String> nodes = e.getValue();
      String prior = nodes.stream().map(n -> beforePorts.containsKey(n) ? null : n).filter(Objects::nonNull)
          .map(n -> "`" + n + "` new").collect(Collectors.joining(", "));
      md.append("| ").append(cell(e.getKey())).append(" | Ray").append(e.getKey().contains("2049") ? ", NFS" : "")
          .append(" | ").append(nodes.stream().map(n -> "`" + n + "`").collect(Collectors.joining(", ")))
          .append(" | nobody (cluster only) | ").append(plan.priorStateEmpty() ? "new" : prior.isEmpty() ? "unchanged" : prior)
          .append(" |\n");
    }
    String clusterAfter = headFw.flatMap(p -> p.config("CLUSTER_ADDRESSES")).orElse("");
    String clusterBefore = head("firewall", false).flatMap(p -> p.config("CLUSTER_ADDRESSES")).orElse(null);
    md.append("\nCluster nodes, which reach every port of each other: ").append(code(clusterAfter));
    if (clusterBefore != null && !clusterBefore.equals(clusterAfter)) {
      md.append(" (").append(change("was", clusterBefore, clusterAfter).substring("was ".length())).append(")");
    }
    md.append(". Firewall: ").append(headFw.flatMap(p -> p.config("FIREWALL_BACKEND")).orElse("?"))
        .append(" (nftables table `inet vllm_ray_cluster`); SSH (22) is never touched.\n");
  }

  /** The protected ports other than the API and the dashboard, as the firewall lists them. */
  private static String otherPorts(Part fw) {
    Set<String> skip = Set.of(fw.config("API_PORT").orElse(""), fw.config("DASHBOARD_PORT").orElse(""));
    return Arrays.stream(fw.config("PROTECTED_TCP_PORTS").orElse("").trim().split("\\s+"))
        .filter(p -> !p.isEmpty() && !skip.contains(p)).collect(Collectors.joining(" "));
  }

  private String was(String now, String before) {
    if (before == null) {
      return plan.priorStateEmpty() || !now.isEmpty() ? "new" : "";
    }
    return now.equals(before) ? "unchanged" : "was: " + before;
  }

  private void renderParallelism(StringBuilder md) {
    Parallelism after = parallelism(true);
    Parallelism before = parallelism(false);
    if (after == null && before == null) {
      return;
    }
    md.append("\n### Parallelism and GPUs\n\n| | before this plan | after |\n|---|---|---|\n");
    row(md, "tensor parallel × pipeline parallel", before, after, p -> p.tp() + " × " + p.pp());
    row(md, "GPUs vLLM uses / GPUs declared to Ray", before, after, p -> (p.tp() * p.pp()) + " / " + p.declared());
    row(md, "GPUs per node (`--num-gpus`)", before, after,
        p -> p.gpus().entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ")));
    row(md, "tensor-parallel group spans nodes", before, after,
        p -> p.spansNodes() ? "**yes** (TP " + p.tp() + " > " + p.largestNode() + " GPU(s) on the largest node)" : "no");
    row(md, "declared interconnect (`network.interconnect`)", before, after,
        p -> p.interconnect() == null ? "not declared" : code(p.interconnect()));
    for (String[] kv : List.of(new String[] {"RAY_VERSION", "Ray"}, new String[] {"VLLM_VERSION", "vLLM"})) {
      String b = versionText(versions(kv[0], false));
      String a = versionText(versions(kv[0], true));
      md.append("| ").append(kv[1]).append(" version | ").append(b).append(" | ")
          .append(a.equals(b) || b.equals("—") ? a : "**" + a + "**").append(" |\n");
    }
  }

  private static String versionText(Map<String, String> versions) {
    Set<String> distinct = new LinkedHashSet<>(versions.values());
    if (distinct.isEmpty()) {
      return "—";
    }
    if (distinct.size() == 1) {
      return distinct.iterator().next();
    }
    return versions.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
  }

  private static void row(StringBuilder md, String what, Parallelism before, Parallelism after,
      Function<Parallelism, String> f) {
    String b = before == null ? "—" : f.apply(before);
    String a = after == null ? "—" : f.apply(after);
    md.append("| ").append(what).append(" | ").append(cell(b)).append(" | ")
        .append(cell(a.equals(b) || before == null ? a : "**" + a.replace("**", "") + "**")).append(" |\n");
  }

  private void renderOutputs(StringBuilder md) {
    List<Plan.OutputChange> changed = plan.outputs().stream()
        .filter(o -> o.action() != Action.NO_OP && !plan.priorStateEmpty())
        .filter(o -> !o.name().equals("nodes")) // the node tables say it
        .toList();
    if (changed.isEmpty()) {
      return;
    }
    md.append("\n### Outputs that change\n\n");
    for (Plan.OutputChange o : changed) {
      md.append("- `").append(o.name()).append("`: ")
          .append(change("", o.before(), o.after()).trim()).append('\n');
    }
  }

  private void renderNotes(StringBuilder md) {
    List<String> notes = new ArrayList<>();
    Optional<Step> vllm = step("vllm", null);
    if (vllm.isPresent() && vllm.get().action() == Action.REPLACE) {
      notes.add("vLLM restarts: the API answers 503 or refuses connections until the model is loaded again (apply waits up to "
          + vllm.get().after().config("READINESS_TIMEOUT_SECONDS").orElse("?") + " s for `/health`).");
    }
    List<Step> remade = steps("model-store").stream()
        .filter(x -> x.action() == Action.REPLACE && !deletesModel(x)).toList();
    if (!remade.isEmpty()) {
      notes.add("Model stores re-made, their data kept (" + names(remade) + "): the NFS export and the"
          + " workers' mounts (or the copies) go away and come back during the apply.");
    }
    Optional<Step> rayHead = step("ray", "head");
    if (rayHead.isPresent() && rayHead.get().action() == Action.REPLACE) {
      notes.add("The Ray head restarts: every Ray worker and vLLM restart with it.");
    }
    if (plan.steps().stream().anyMatch(Step::removedFromConfiguration)) {
      notes.add(NOT_CLEANED + ". Destroy-time cleanup happens only for parts that are still in the stack"
          + " (`cdktf destroy`, or a replacement).");
    }
    if (plan.steps().stream().anyMatch(s -> s.action() == Action.NOT_PLANNED)) {
      notes.add("This plan was made with `-target`: parts marked \"not in this plan\" are shown as the state has them.");
    }
    notes.add("Made by `vllm-ray-cluster plan-review` from `tofu show -json` of a saved plan. Values of"
        + " variables and anything OpenTofu marks sensitive are never shown.");
    md.append("\n### Notes\n\n");
    for (String n : notes) {
      md.append("- ").append(n).append('\n');
    }
  }

  /** Sensitive variable values, should a plan hold any, never leave this class. */
  private String redact(String text) {
    String out = text;
    for (String secret : plan.sensitiveValues()) {
      out = out.replace(secret, "(redacted)");
    }
    return out;
  }

  // ------------------------------------------------------------------ small helpers

  private static String names(List<Step> steps) {
    return steps.stream().map(s -> "`" + s.name() + "`").collect(Collectors.joining(", "));
  }

  static String code(String value) {
    if (value == null) {
      return "(none)";
    }
    if (value.isEmpty()) {
      return "(empty)";
    }
    if (value.equals(Part.SENSITIVE) || value.equals(Part.UNKNOWN)) {
      return value;
    }
    return "`" + value.replace('`', '\'') + "`";
  }

  private static String cell(String text) {
    return text.replace("|", "\\|").replace("\n", " ");
  }

  /** A sort key that puts worker2 before worker10: the trailing number zero-padded. */
  private static String natural(String a) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(.*?)(\\d+)$").matcher(a);
    return m.matches() ? m.group(1) + String.format("%09d", Long.parseLong(m.group(2).length() > 9 ? "999999999" : m.group(2))) : a;
  }
}
