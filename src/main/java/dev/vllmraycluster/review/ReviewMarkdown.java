package dev.vllmraycluster.review;

import dev.vllmraycluster.contract.HostContract.Env;
import dev.vllmraycluster.contract.HostContract.Secret;
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
import java.util.function.Function;
import java.util.stream.Collectors;

/** The Markdown of a review: summary, risks, a table per node, ports, parallelism, outputs, notes. */
final class ReviewMarkdown {
  private static final List<String> COMPONENT_ORDER = PlanReview.COMPONENT_ORDER;

  private final PlanFacts facts;
  private final List<Risk> risks;
  private final String stackName;
  private final List<String> stackWarnings;

  private final List<String> layoutBudget;

  ReviewMarkdown(PlanFacts facts, List<Risk> risks, String stackName, List<String> stackWarnings, List<String> layoutBudget) {
    this.layoutBudget = layoutBudget;
    this.facts = facts;
    this.risks = risks;
    this.stackName = stackName;
    this.stackWarnings = stackWarnings;
  }

  String render() {
    StringBuilder md = new StringBuilder();
    md.append(PlanReview.MARKER).append('\n');
    md.append("## Plan review").append(stackName == null ? "" : ": `" + stackName + "`").append("\n\n");
    Summary summary = facts.summary();
    if (summary.noChanges()) {
      md.append("**No changes.** The hosts are as the stack describes them: applying this plan runs nothing.");
    } else {
      md.append("**Plan: ").append(summary).append(".**");
    }
    md.append(" OpenTofu ").append(facts.plan().tofuVersion()).append(".\n");
    List<String> replaced = facts.plan().steps().stream().filter(s -> s.action() == Action.REPLACE).map(s -> "`" + s.name() + "`").toList();
    if (!replaced.isEmpty()) {
      md.append("\nRestarted (replaced): ").append(String.join(", ", replaced)).append(".\n");
    }
    List<String> rotated = new ArrayList<>();
    for (Secret secret : facts.rotatedSecrets()) {
      List<Step> restarts = facts.replacedBy(secret);
      rotated.add(secret.label() + (restarts.isEmpty()
          ? " (no service keeps it: the next apply that needs it takes the new value)"
          : " (restarts " + PlanFacts.names(restarts) + ")"));
    }
    if (!rotated.isEmpty()) {
      md.append("\nSecrets rotated: ").append(String.join("; ", rotated)).append(".\n");
    }
    if (facts.plan().priorStateEmpty() && !summary.noChanges()) {
      md.append("\n> Planned against an empty state: every part is created, as in a first deploy. If this"
          + " cluster is already deployed, its state was not reachable from here (see `state:` in the stack).\n");
    }

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
    Set<String> before = facts.nodesBefore();
    Set<String> after = facts.nodesAfter();
    Set<String> all = new LinkedHashSet<>(facts.nodes(Step::current));
    for (String node : all) {
      List<Step> steps = facts.plan().steps().stream()
          .filter(s -> s.current() != null && node.equals(s.current().node()))
          .sorted(Comparator.comparing((Step s) -> COMPONENT_ORDER.indexOf(s.current().component())))
          .toList();
      Part any = steps.get(0).current();
      String state = !after.contains(node) ? " — **leaves the cluster**"
          : !before.contains(node) && !facts.plan().priorStateEmpty() ? " — **joins the cluster**" : "";
      md.append("\n#### `").append(node).append("` (").append(any.role()).append(", ")
          .append(any.input().getOrDefault("host", "?")).append(")").append(state).append("\n\n");
      table(md, steps);
    }
    List<Step> local = facts.plan().steps().stream().filter(s -> s.current() == null || s.current().node() == null).toList();
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
          .append(" | ").append(cell(String.join("<br>", facts.reasons(s)))).append(" |\n");
    }
  }

  private static String label(Part p) {
    if (p != null && p.input().get("secret") != null) {
      return "secret fingerprint";
    }
    if (p == null || p.component() == null) {
      return "local checks";
    }
    return switch (p.component()) {
      case "sweep" -> "sweep (at destroy)";
      case "firewall" -> "firewall";
      case "wheel-cache" -> "wheel cache";
      case "bootstrap" -> "bootstrap (packages, venv)";
      case "model-store" -> "model store";
      case "ray" -> "head".equals(p.role()) ? "Ray head" : "Ray worker";
      case "vllm" -> "vLLM API server";
      case "proxy" -> "API proxy (HAProxy)";
      case "watchdog" -> "watchdog";
      default -> p.component();
    };
  }

  private void renderPorts(StringBuilder md) {
    List<Part> firewalls = facts.side("firewall", true);
    if (firewalls.isEmpty()) {
      return;
    }
    md.append("\n### Ports and who may reach them\n\n");
    md.append("| port(s) | service | on | reachable from outside the cluster | before this plan |\n|---|---|---|---|---|\n");
    String api = facts.apiReach(true);
    Optional<Part> headFw = facts.head("firewall", true);
    String apiPort = headFw.flatMap(p -> p.config(Env.API_PORT)).orElse("");
    String dashPort = headFw.flatMap(p -> p.config(Env.DASHBOARD_PORT)).orElse("");
    boolean proxied = facts.head("proxy", true).isPresent();
    if (api != null) {
      md.append("| ").append(apiPort).append(proxied ? " | API (proxy) | `" : " | vLLM API | `").append(headFw.get().node()).append("` | ")
          .append(cell(api)).append(" | ").append(cell(was(api, facts.apiReach(false)))).append(" |\n");
    }
    String dash = facts.dashboardReach(true);
    if (dash != null) {
      md.append("| ").append(dashPort).append(" | Ray dashboard, Jobs API | `").append(headFw.get().node()).append("` | ")
          .append(cell(dash)).append(" | ").append(cell(was(dash, facts.dashboardReach(false)))).append(" |\n");
    }
    Map<String, List<String>> byPorts = new LinkedHashMap<>();
    Map<String, String> beforePorts = new LinkedHashMap<>();
    for (Step s : facts.steps("firewall")) {
      Part a = PlanFacts.afterOf(s);
      Part b = PlanFacts.beforeOf(s);
      if (b != null) {
        beforePorts.put(b.node(), otherPorts(b));
      }
      if (a != null) {
        String ports = otherPorts(a) + (PlanFacts.firewallOff(a) ? " (**not protected**: no firewall)" : "");
        byPorts.computeIfAbsent(ports, k -> new ArrayList<>()).add(a.node());
      }
    }
    for (Map.Entry<String, List<String>> e : byPorts.entrySet()) {
      List<String> nodes = e.getValue();
      String prior = nodes.stream().map(n -> beforePorts.containsKey(n) ? null : n).filter(Objects::nonNull)
          .map(n -> "`" + n + "` new").collect(Collectors.joining(", "));
      String backend = facts.head("proxy", true).flatMap(p -> p.config(Env.BACKEND_PORT)).orElse(null);
      boolean hasBackend = backend != null && Arrays.asList(e.getKey().split(" ")).contains(backend);
      md.append("| ").append(cell(e.getKey())).append(" | Ray").append(hasBackend ? ", vLLM behind the proxy" : "")
          .append(e.getKey().contains("2049") ? ", NFS" : "")
          .append(" | ").append(nodes.stream().map(n -> "`" + n + "`").collect(Collectors.joining(", ")))
          .append(" | nobody (cluster only) | ").append(facts.plan().priorStateEmpty() ? "new" : prior.isEmpty() ? "unchanged" : prior)
          .append(" |\n");
    }
    String clusterAfter = headFw.flatMap(p -> p.config(Env.CLUSTER_ADDRESSES)).orElse("");
    String clusterBefore = facts.head("firewall", false).flatMap(p -> p.config(Env.CLUSTER_ADDRESSES)).orElse(null);
    md.append("\nCluster nodes, which reach every port of each other: ").append(PlanFacts.code(clusterAfter));
    if (clusterBefore != null && !clusterBefore.equals(clusterAfter)) {
      md.append(" (").append(PlanFacts.change("was", clusterBefore, clusterAfter).substring("was ".length())).append(")");
    }
    md.append(". Firewall: ").append(headFw.flatMap(p -> p.config(Env.FIREWALL_BACKEND)).orElse("?"))
        .append(" (nftables table `inet vllm_ray_cluster`); SSH (22) is never touched.\n");
    String front = facts.apiFront(true);
    if (front != null) {
      String before = facts.apiFront(false);
      md.append("\nThe API: ").append(front)
          .append(before == null || before.equals(front) ? "." : " (was: " + before + ").").append('\n');
    }
  }

  /** The protected ports other than the API and the dashboard, as the firewall lists them. */
  private static String otherPorts(Part fw) {
    Set<String> skip = Set.of(fw.config(Env.API_PORT).orElse(""), fw.config(Env.DASHBOARD_PORT).orElse(""));
    return Arrays.stream(fw.config(Env.PROTECTED_TCP_PORTS).orElse("").trim().split("\\s+"))
        .filter(p -> !p.isEmpty() && !skip.contains(p)).collect(Collectors.joining(" "));
  }

  private String was(String now, String before) {
    if (before == null) {
      return facts.plan().priorStateEmpty() || !now.isEmpty() ? "new" : "";
    }
    return now.equals(before) ? "unchanged" : "was: " + before;
  }

  private void renderParallelism(StringBuilder md) {
    PlanFacts.Parallelism after = facts.parallelism(true);
    PlanFacts.Parallelism before = facts.parallelism(false);
    if (after == null && before == null) {
      return;
    }
    md.append("\n### Parallelism and GPUs\n\n| | before this plan | after |\n|---|---|---|\n");
    row(md, "tensor parallel × pipeline parallel", before, after, p -> p.tp() + " × " + p.pp());
    if ((before != null && before.dp() > 1) || (after != null && after.dp() > 1)) {
      row(md, "data-parallel replicas (each on one node)", before, after, p -> String.valueOf(p.dp()));
    }
    row(md, "GPUs vLLM uses / GPUs declared to Ray", before, after, p -> (p.tp() * p.pp() * p.dp()) + " / " + p.declared());
    row(md, "GPUs per node (`--num-gpus`)", before, after,
        p -> p.gpus().entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ")));
    row(md, "tensor-parallel group spans nodes", before, after,
        p -> p.spansNodes() ? "**yes** (TP " + p.tp() + " > " + p.largestNode() + " GPU(s) on the largest node)" : "no");
    row(md, "declared interconnect (`network.interconnect`)", before, after,
        p -> p.interconnect() == null ? "not declared" : PlanFacts.code(p.interconnect()));
    for (String[] kv : List.of(new String[] {Env.RAY_VERSION, "Ray"}, new String[] {Env.VLLM_VERSION, "vLLM"})) {
      String b = versionText(facts.versions(kv[0], false));
      String a = versionText(facts.versions(kv[0], true));
      md.append("| ").append(kv[1]).append(" version | ").append(b).append(" | ")
          .append(a.equals(b) || b.equals("—") ? a : "**" + a + "**").append(" |\n");
    }
    if (!layoutBudget.isEmpty()) {
      md.append("\nLayout and memory budget after this plan (the planner, `vllm-ray-cluster parallelism`, from the model's config.json):\n\n");
      for (String line : layoutBudget) {
        md.append("- ").append(line).append('\n');
      }
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

  private static void row(StringBuilder md, String what, PlanFacts.Parallelism before, PlanFacts.Parallelism after,
      Function<PlanFacts.Parallelism, String> f) {
    String b = before == null ? "—" : f.apply(before);
    String a = after == null ? "—" : f.apply(after);
    md.append("| ").append(what).append(" | ").append(cell(b)).append(" | ")
        .append(cell(a.equals(b) || before == null ? a : "**" + a.replace("**", "") + "**")).append(" |\n");
  }

  private void renderOutputs(StringBuilder md) {
    List<Plan.OutputChange> changed = facts.plan().outputs().stream()
        .filter(o -> o.action() != Action.NO_OP && !facts.plan().priorStateEmpty())
        .filter(o -> !o.name().equals("nodes")) // the node tables say it
        .toList();
    if (changed.isEmpty()) {
      return;
    }
    md.append("\n### Outputs that change\n\n");
    for (Plan.OutputChange o : changed) {
      md.append("- `").append(o.name()).append("`: ")
          .append(PlanFacts.change("", o.before(), o.after()).trim()).append('\n');
    }
  }

  private void renderNotes(StringBuilder md) {
    List<String> notes = new ArrayList<>();
    Optional<Step> vllm = facts.step("vllm", null);
    if (vllm.isPresent() && vllm.get().action() == Action.REPLACE) {
      notes.add("vLLM restarts: the API answers 503 or refuses connections until the model is loaded again (apply waits up to "
          + vllm.get().after().config(Env.READINESS_TIMEOUT_SECONDS).orElse("?") + " s for `/health`).");
    }
    List<Step> remade = facts.steps("model-store").stream()
        .filter(x -> x.action() == Action.REPLACE && !PlanFacts.deletesModel(x)).toList();
    if (!remade.isEmpty()) {
      notes.add("Model stores re-made, their data kept (" + PlanFacts.names(remade) + "): the NFS export and the"
          + " workers' mounts (or the copies) go away and come back during the apply.");
    }
    Optional<Step> rayHead = facts.step("ray", "head");
    if (rayHead.isPresent() && rayHead.get().action() == Action.REPLACE) {
      notes.add("The Ray head restarts: every Ray worker and vLLM restart with it.");
    }
    if (facts.plan().steps().stream().anyMatch(facts::leftUncleaned)) {
      notes.add(PlanReview.NOT_CLEANED + ". Destroy-time cleanup happens only for parts that are still in the stack"
          + " (`cdktf destroy`, or a replacement) or whose node is in `removed_nodes`.");
    }
    if (facts.plan().steps().stream().anyMatch(s -> PlanFacts.secretOf(s) != null)) {
      notes.add("Secrets: a plan made where they are not set (as in CI) sees no rotation and replaces nothing for them;"
          + " `cdktf deploy` with them set sees a changed one and restarts exactly what keeps it.");
    }
    if (facts.plan().steps().stream().anyMatch(s -> s.action() == Action.NOT_PLANNED)) {
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
    for (String secret : facts.plan().sensitiveValues()) {
      out = out.replace(secret, "(redacted)");
    }
    return out;
  }

  static String cell(String text) {
    return text.replace("|", "\\|").replace("\n", " ");
  }
}
