package dev.vllmraycluster.review;

import dev.vllmraycluster.contract.HostContract.Component;
import dev.vllmraycluster.contract.HostContract.Env;
import dev.vllmraycluster.contract.HostContract.Secret;
import dev.vllmraycluster.contract.HostContract.VllmFlags;
import dev.vllmraycluster.review.Plan.Action;
import dev.vllmraycluster.review.Plan.Part;
import dev.vllmraycluster.review.Plan.Step;
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
 * What a plan says, read for a reviewer: the summary, each node's parts before and after, why a
 * step changes (the {@code triggers_replace} inputs and the env keys and flags behind them), who
 * reaches the API and the dashboard, the parallelism and the versions. Pure functions of the
 * {@link Plan}; {@link RiskRules} and {@link ReviewMarkdown} read them.
 */
final class PlanFacts {
  /** Actions after which a running service is still the same process. */
  static final Set<Action> STAYS_UP = Set.of(Action.NO_OP, Action.UPDATE, Action.NOT_PLANNED);

  private final Plan plan;
  private Set<String> removedNodes = Set.of();
  private Set<String> forgottenNodes = Set.of();

  PlanFacts(Plan plan) {
    this.plan = plan;
  }

  /** The stack's {@code removed_nodes} and {@code forgotten_nodes} (see {@link PlanReview#leavingNodes}). */
  void leavingNodes(Set<String> removed, Set<String> forgotten) {
    this.removedNodes = Set.copyOf(removed);
    this.forgottenNodes = Set.copyOf(forgotten);
  }

  boolean removedNode(String node) {
    return removedNodes.contains(node);
  }

  boolean forgottenNode(String node) {
    return forgottenNodes.contains(node);
  }

  /** A step destroyed because its node is in removed_nodes: its remove.sh runs. */
  boolean cleanedByRemovedBlock(Step s) {
    return s.removedFromConfiguration() && s.before() != null && removedNodes.contains(s.before().node());
  }

  /** A step whose resource left the configuration without anything running its remove.sh. */
  boolean leftUncleaned(Step s) {
    return s.removedFromConfiguration() && s.action() == Action.DELETE && !cleanedByRemovedBlock(s);
  }

  Plan plan() {
    return plan;
  }


  Summary summary() {
    return new Summary(count(Action.CREATE), count(Action.UPDATE), count(Action.REPLACE),
        count(Action.DELETE), count(Action.FORGET));
  }

  int count(Action action) {
    return (int) plan.steps().stream().filter(s -> s.action() == action).count();
  }

  /** Node names with a part before the plan, in cluster order. */
  Set<String> nodesBefore() {
    return nodes(s -> s.action() == Action.CREATE ? null : s.before());
  }

  /** Node names with a part after the plan, in cluster order. */
  Set<String> nodesAfter() {
    return nodes(PlanFacts::afterOf);
  }

  Set<String> nodes(Function<Step, Part> side) {
    Map<String, String> roles = new LinkedHashMap<>();
    for (Step s : plan.steps()) {
      Part p = side.apply(s);
      if (p != null && p.node() != null) {
        roles.putIfAbsent(p.node(), p.role());
      }
    }
    return roles.keySet().stream()
        .sorted(Comparator.comparing((String n) -> "head".equals(roles.get(n)) ? 0 : 1).thenComparing(PlanFacts::natural))
        .collect(Collectors.toCollection(LinkedHashSet::new));
  }

  /** The resource after the plan: its planned side, or the state's for a step a -target left out. */
  static Part afterOf(Step s) {
    if (s.action() == Action.DELETE || s.action() == Action.FORGET) {
      return null;
    }
    return s.after();
  }

  static Part beforeOf(Step s) {
    return s.action() == Action.CREATE ? null : s.before();
  }

  Optional<Step> step(String component, String role) {
    return plan.steps().stream()
        .filter(s -> s.current() != null && component.equals(s.current().component()))
        .filter(s -> role == null || role.equals(s.current().role()))
        .findFirst();
  }

  List<Step> steps(String component) {
    return plan.steps().stream()
        .filter(s -> s.current() != null && component.equals(s.current().component()))
        .sorted(Comparator.comparing((Step s) -> "head".equals(s.current().role()) ? 0 : 1)
            .thenComparing(s -> natural(s.current().node())))
        .toList();
  }

  /** Parts of one component on one side (before or after), in cluster order. */
  List<Part> side(String component, boolean after) {
    List<Part> parts = new ArrayList<>();
    for (Step s : steps(component)) {
      Part p = after ? afterOf(s) : beforeOf(s);
      if (p != null) {
        parts.add(p);
      }
    }
    return parts;
  }

  Optional<Part> head(String component, boolean after) {
    return side(component, after).stream().filter(p -> "head".equals(p.role())).findFirst();
  }

  /**
   * How clients reach the API before or after the plan, in a reviewer's words: through the proxy
   * (HTTPS with a generated CA or the user's certificate, or plain HTTP), or vLLM itself (no
   * proxy); null when the plan has no vLLM on that side.
   */
  String apiFront(boolean after) {
    Optional<Part> vllm = head("vllm", after);
    if (vllm.isEmpty()) {
      return null;
    }
    Optional<Part> proxy = head("proxy", after);
    if (proxy.isEmpty()) {
      return "vLLM itself, plain HTTP, no proxy (its key check covers only /v1, /v2, /inference, /cohere)";
    }
    Part p = proxy.get();
    String tls = switch (p.config(Env.TLS_SOURCE).orElse("none")) {
      case "generated" -> "HTTPS, certificate from a per-cluster CA made on the head (clients pin it: output `api_ca_certificate`)";
      case "given" -> "HTTPS, the stack's certificate (`vllm.tls_cert_path`)";
      default -> "**plain HTTP** (`vllm.tls: false`)";
    };
    String key = "true".equals(p.config(Env.REQUIRE_API_KEY).orElse("true"))
        ? "the key checked on every path but `/health`" : "**no key checked**";
    return "HAProxy on `" + p.node() + "`, " + tls + ", " + key + "; vLLM itself on 127.0.0.1:"
        + p.config(Env.BACKEND_PORT).orElse("?");
  }

  // ------------------------------------------------------------------ why a step changes

  // ------------------------------------------------------------------ secrets

  /** The secret a fingerprint resource ({@code secret_<name>}) stands for; null for other steps. */
  static Secret secretOf(Step s) {
    Part p = s.current();
    return p == null || p.input().get("secret") == null ? null : Secret.ofResource(s.name());
  }

  /** Secrets whose value changed since the state was written: their fingerprint resource is updated. */
  List<Secret> rotatedSecrets() {
    List<Secret> out = new ArrayList<>();
    for (Step s : plan.steps()) {
      Secret secret = secretOf(s);
      if (secret != null && (s.action() == Action.UPDATE || s.action() == Action.REPLACE)) {
        out.add(secret);
      }
    }
    return out;
  }

  /** The steps replaced because {@code secret} was rotated (they keep it while they run). */
  List<Step> replacedBy(Secret secret) {
    return plan.steps().stream()
        .filter(s -> s.action() == Action.REPLACE && s.current() != null && s.current().component() != null)
        .filter(s -> keeps(s, secret))
        .toList();
  }

  private static boolean keeps(Step s, Secret secret) {
    Component c = Component.ofModule(s.current().component());
    return c != null && secret.keptBy().contains(c);
  }

  private List<String> secretReasons(Step s) {
    List<String> out = new ArrayList<>();
    if ("replace_by_triggers".equals(s.actionReason())) {
      for (Secret secret : rotatedSecrets()) {
        if (keeps(s, secret)) {
          out.add(secret.label() + " changed (rotation): restarts with the new value");
        }
      }
    }
    return out;
  }

  /** Why a step is created, replaced, updated or destroyed: each input that changed. */
  List<String> reasons(Step s) {
    List<String> out = new ArrayList<>();
    Secret secret = secretOf(s);
    if (secret != null) {
      switch (s.action()) {
        case CREATE -> out.add("new: the fingerprint of " + secret.label() + ", to see a rotation (the value is never stored)");
        case UPDATE, REPLACE -> out.add(secret.label() + " changed: rotated"
            + (secret.keptBy().isEmpty() ? "; no service keeps it" : "; restarts what keeps it"));
        case DELETE -> out.add("the stack no longer uses " + secret.label());
        default -> { }
      }
      return out;
    }
    if ("sweep".equals(s.current() == null ? null : s.current().component())) {
      switch (s.action()) {
        case CREATE -> out.add("new: runs nothing now; at destroy, after the node's services and before its bootstrap and"
            + " firewall, it removes what a tainted part left (units, secrets, processes)");
        case DELETE -> out.add("destroyed after the node's services: removes what a tainted part left");
        case UPDATE -> out.add("updated in place (no host action)");
        default -> { }
      }
      return out;
    }
    switch (s.action()) {
      case CREATE -> out.add(s.after() != null && s.after().node() != null && !nodesBefore().contains(s.after().node())
          && !plan.priorStateEmpty() ? "new node" : "new");
      case DELETE -> out.add(cleanedByRemovedBlock(s)
          ? "node leaves the cluster (`removed_nodes`): remove.sh runs on the host, as destroy would"
          : s.removedFromConfiguration()
              ? "removed from the stack: remove.sh will **not** run"
              : "destroyed: remove.sh runs on the host");
      case FORGET -> out.add(s.before() != null && forgottenNodes.contains(s.before().node())
          ? "forgotten (`forgotten_nodes`): dropped from the state, the host is not contacted"
          : "forgotten: left as it is on the host");
      case REPLACE -> {
        switch (s.actionReason()) {
          case "replace_by_request" -> out.add("replacement requested (`-replace`)");
          case "replace_because_tainted" -> out.add("tainted by a failed apply: runs again");
          default -> { }
        }
        out.addAll(secretReasons(s));
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

  List<String> triggerReasons(Part before, Part after) {
    List<String> out = new ArrayList<>();
    if (before == null || after == null) {
      return out;
    }
    Set<String> keys = new TreeSet<>(Comparator.comparing(PlanFacts::triggerRank).thenComparing(Comparator.naturalOrder()));
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

  static int triggerRank(String key) {
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

  static List<String> inputReasons(Part before, Part after) {
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
    // Behind the proxy, clients reach the proxy's address (vLLM itself binds 127.0.0.1).
    Optional<Part> proxy = head("proxy", after);
    String host = proxy.isPresent() ? proxy.get().config(Env.API_HOST).orElse("0.0.0.0")
        : vllm.get().arg(VllmFlags.HOST).orElse("0.0.0.0");
    if (host.startsWith("127.")) {
      return "bound to " + code(host) + ": this host only";
    }
    if (firewallOff(fw.get())) {
      return "**anyone** who reaches the head (no firewall)";
    }
    String nets = fw.get().config(Env.API_ALLOWED_NETWORKS).orElse("");
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
    String nets = fw.get().config(Env.DASHBOARD_ALLOWED_NETWORKS).orElse("");
    return "bound to " + code(host) + ", " + (nets.isBlank() ? "cluster only" : code(nets));
  }

  static boolean firewallOff(Part firewall) {
    return "none".equals(firewall.config(Env.FIREWALL_BACKEND).orElse(""));
  }

  static boolean opensToAll(String networks) {
    return networks != null && Arrays.stream(networks.trim().split("\\s+")).anyMatch(n -> n.endsWith("/0"));
  }

  // ------------------------------------------------------------------ parallelism

  /** TP, PP, GPUs per node and the link on one side of the plan. */
  record Parallelism(int tp, int pp, int dp, Map<String, Integer> gpus, String interconnect) {
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
        number(vllm.get().arg(VllmFlags.TENSOR_PARALLEL_SIZE).orElse("1")),
        number(vllm.get().arg(VllmFlags.PIPELINE_PARALLEL_SIZE).orElse("1")),
        number(vllm.get().arg(VllmFlags.DATA_PARALLEL_SIZE).orElse("1")),
        gpus,
        vllm.get().config(Env.INTERCONNECT).orElse(null));
  }

  static int number(String s) {
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

  // ------------------------------------------------------------------ small helpers

  static String names(List<Step> steps) {
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

  static String cell(String text) {
    return text.replace("|", "\\|").replace("\n", " ");
  }

  /** A sort key that puts worker2 before worker10: the trailing number zero-padded. */
  static String natural(String a) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(.*?)(\\d+)$").matcher(a);
    return m.matches() ? m.group(1) + String.format("%09d", Long.parseLong(m.group(2).length() > 9 ? "999999999" : m.group(2))) : a;
  }

  static boolean deletesModel(Step s) {
    Part b = s.before();
    return s.action().removesOld() && s.action() != Action.FORGET && !s.removedFromConfiguration() && b != null
        && !"nfs_client".equals(b.config(Env.STORE_ROLE).orElse(""))
        && "true".equals(b.config(Env.DELETE_ON_DESTROY).orElse("false"));
  }
}
