package dev.vllmraycluster.review;

import dev.vllmraycluster.contract.HostContract.Env;
import dev.vllmraycluster.review.Plan.Action;
import dev.vllmraycluster.review.Plan.Part;
import dev.vllmraycluster.review.Plan.Step;
import dev.vllmraycluster.review.Risk.Level;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The risks a reviewer must see in a plan, each rule on its own: a node removed without cleanup,
 * no firewall, the API open to everyone or without a key, the dashboard exposed, model data
 * deleted, tensor parallelism across nodes without a fast link, versions that differ, a model
 * revision that is not a commit, and the supply-chain risks of the bootstrap (plain-HTTP mirrors,
 * trusted hosts, source builds).
 */
final class RiskRules {
  private final PlanFacts facts;

  RiskRules(PlanFacts facts) {
    this.facts = facts;
  }

  List<Risk> all() {
    List<Risk> risks = new ArrayList<>();
    if (facts.plan().errored()) {
      risks.add(new Risk(Level.HIGH, "The plan stopped on an error",
          "OpenTofu could not finish planning: this review shows only what it planned before the error.", true));
    }
    nodeRemovalRisks(risks);
    firewallRisks(risks);
    dashboardRisk(risks);
    modelStoreRisks(risks);
    parallelismRisk(risks);
    versionRisks(risks);
    revisionRisk(risks);
    supplyChainRisks(risks);
    return risks;
  }

  private void nodeRemovalRisks(List<Risk> risks) {
    Set<String> after = facts.nodesAfter();
    boolean wholeStack = after.isEmpty() && !facts.nodesBefore().isEmpty();
    for (String node : facts.nodesBefore()) {
      if (after.contains(node)) {
        continue;
      }
      List<Step> gone = facts.plan().steps().stream()
          .filter(s -> s.before() != null && node.equals(s.before().node()) && s.action().removesOld())
          .toList();
      if (gone.stream().anyMatch(facts::leftUncleaned)) {
        risks.add(new Risk(Level.HIGH,
            "Node `" + node + "` removed from the stack: its services will NOT be cleaned up",
            PlanReview.NOT_CLEANED + " (" + PlanFacts.names(gone) + "): Ray, its systemd units, the firewall table and the"
                + " venv stay on `" + node + "`, and its Ray worker may keep its place in the cluster."
                + " Move the node's entry from `nodes:` to `removed_nodes:` instead: the deploy then runs every"
                + " part's remove.sh on it, as destroy would (or list it in `forgotten_nodes:` if the host is gone"
                + " for good).",
            true));
      } else if (facts.removedNode(node) && !wholeStack) {
        risks.add(new Risk(Level.WARN, "Node `" + node + "` leaves the cluster (`removed_nodes`)",
            "remove.sh runs on `" + node + "` for " + PlanFacts.names(gone) + ", as destroy would: its services stop and its"
                + " units, firewall rules, mounts, venv and secrets go; the model directory stays unless"
                + " DELETE_ON_DESTROY=true. The other nodes' firewalls and the NFS export drop it, and vLLM restarts on"
                + " the nodes that stay.",
            true));
      } else if (facts.forgottenNode(node)) {
        risks.add(new Risk(Level.WARN, "Node `" + node + "` is forgotten (`forgotten_nodes`)",
            PlanFacts.names(gone) + " leave the state without any SSH connection: whatever runs on `" + node + "` stays as it is."
                + " If the host ever comes back, clean it by hand (README: Day-two operations).",
            true));
      } else if (!wholeStack) {
        risks.add(new Risk(Level.WARN, "Node `" + node + "` is destroyed",
            "remove.sh runs for " + PlanFacts.names(gone) + "; the model directory stays unless DELETE_ON_DESTROY=true.", true));
      }
    }
    if (wholeStack) {
      risks.add(new Risk(Level.WARN, "The whole cluster is destroyed",
          "Every part's remove.sh runs; the API is gone until the next deploy.", true));
    }
    Optional<Step> vllm = facts.step("vllm", null);
    boolean vllmStays = vllm.isPresent()
        && PlanFacts.STAYS_UP.contains(vllm.get().action());
    if (vllmStays) {
      for (Step ray : facts.steps("ray")) {
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
    for (Step fw : facts.steps("firewall")) {
      Part a = PlanFacts.afterOf(fw);
      if (a != null && PlanFacts.firewallOff(a)) {
        Part b = PlanFacts.beforeOf(fw);
        risks.add(new Risk(Level.HIGH, "No firewall on `" + a.node() + "`",
            "`FIREWALL_BACKEND=none`: the vLLM API, the Ray dashboard (code execution) and every Ray port"
                + " answer anyone who reaches the host.", b == null || !PlanFacts.firewallOff(b)));
      }
    }
    Optional<Part> fwAfter = facts.head("firewall", true);
    if (fwAfter.isPresent() && PlanFacts.opensToAll(fwAfter.get().config(Env.API_ALLOWED_NETWORKS).orElse(""))) {
      boolean before = facts.head("firewall", false).map(p -> PlanFacts.opensToAll(p.config(Env.API_ALLOWED_NETWORKS).orElse(""))).orElse(false);
      boolean noKey = facts.head("vllm", true).map(p -> "false".equals(p.config(Env.REQUIRE_API_KEY).orElse("true"))).orElse(false);
      risks.add(new Risk(Level.HIGH, "vLLM API open to `0.0.0.0/0`",
          "`network.api_allowed_networks` lets every address reach port "
              + fwAfter.get().config(Env.API_PORT).orElse("?") + " on `" + fwAfter.get().node() + "`"
              + (noKey ? ", and the API needs **no key**." : "; only the API key stands in the way.")
              + " List the client networks instead.", !before));
    }
    Optional<Part> vllmAfter = facts.head("vllm", true);
    if (vllmAfter.isPresent() && facts.head("proxy", true).isEmpty()) {
      boolean before = facts.head("vllm", false).isPresent() && facts.head("proxy", false).isEmpty();
      risks.add(new Risk(Level.HIGH, "No API proxy",
          "`vllm.proxy: false`: clients reach vLLM itself in plain HTTP, whose key check covers only /v1, /v2,"
              + " /inference and /cohere: `POST /invocations` (chat and completions), /tokenize, /pooling, /score,"
              + " /rerank and /metrics answer without a key.", !before));
    }
    Optional<Part> proxyAfter = facts.head("proxy", true);
    if (proxyAfter.isPresent() && "false".equals(proxyAfter.get().config(Env.TLS).orElse("true"))) {
      boolean before = facts.head("proxy", false).map(p -> "false".equals(p.config(Env.TLS).orElse("true"))).orElse(false);
      risks.add(new Risk(Level.WARN, "API in plain HTTP",
          "`vllm.tls: false`: the API key and every prompt and answer cross the client networks ("
              + facts.apiReach(true) + ") in clear text.", !before));
    }
    if (vllmAfter.isPresent() && "false".equals(vllmAfter.get().config(Env.REQUIRE_API_KEY).orElse("true"))) {
      boolean before = facts.head("vllm", false).map(p -> "false".equals(p.config(Env.REQUIRE_API_KEY).orElse("true"))).orElse(false);
      risks.add(new Risk(Level.WARN, "vLLM API without a key",
          "`vllm.require_api_key: false`: whoever the firewall lets through (" + facts.apiReach(true) + ") can use the model.", !before));
    }
  }

  private void dashboardRisk(List<Risk> risks) {
    String after = facts.dashboardReach(true);
    if (after == null || after.equals("disabled") || after.contains("SSH tunnel only")) {
      return;
    }
    String before = facts.dashboardReach(false);
    boolean wide = after.contains("**anyone**")
        || facts.head("firewall", true).map(p -> PlanFacts.opensToAll(p.config(Env.DASHBOARD_ALLOWED_NETWORKS).orElse(""))).orElse(false);
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
    for (Step s : facts.steps("model-store")) {
      if (!PlanFacts.deletesModel(s)) {
        continue;
      }
      Part b = s.before();
      risks.add(new Risk(Level.HIGH,
          "Model store on `" + b.node() + "` " + (s.action() == Action.REPLACE ? "replaced" : "destroyed") + " with its data",
          "`DELETE_ON_DESTROY=true`: remove.sh deletes " + PlanFacts.code(b.config(Env.MODEL_DIR).orElse("the model directory"))
              + (s.action() == Action.REPLACE ? ", and apply.sh fetches or uploads it again before vLLM can start." : "."),
          true));
    }
  }


  private void parallelismRisk(List<Risk> risks) {
    PlanFacts.Parallelism after = facts.parallelism(true);
    if (after == null || !after.spansNodes() || after.fastLink()) {
      return;
    }
    PlanFacts.Parallelism before = facts.parallelism(false);
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
    for (String[] kv : List.of(new String[] {Env.RAY_VERSION, "Ray"}, new String[] {Env.VLLM_VERSION, "vLLM"})) {
      Map<String, String> after = facts.versions(kv[0], true);
      if (new LinkedHashSet<>(after.values()).size() > 1) {
        boolean targeted = facts.plan().steps().stream().anyMatch(s -> s.action() == Action.NOT_PLANNED);
        risks.add(new Risk(Level.HIGH, kv[1] + " version differs between nodes after this plan",
            after.entrySet().stream().map(e -> "`" + e.getKey() + "` " + e.getValue()).collect(Collectors.joining(", "))
                + ". " + ("Ray".equals(kv[1]) ? "Ray refuses nodes of another version, so the cluster splits."
                    : "Ray workers import the head's vLLM code: mismatched versions fail at load time.")
                + (targeted ? " This plan leaves parts out (`-target`): plan the whole stack." : ""),
            true));
      }
    }
  }

  /**
   * A Hugging Face revision that is a branch or tag (not a 40-hex commit) can change under the
   * same stack: the next fetch may bring other weights, or code with {@code trust_remote_code}.
   */
  private void revisionRisk(List<Risk> risks) {
    for (Step s : facts.steps("model-store")) {
      Part a = PlanFacts.afterOf(s);
      if (a == null || !"huggingface".equals(a.config(Env.MODEL_SOURCE).orElse(""))
          || !"true".equals(a.config(Env.FETCH_MODEL).orElse("false"))) {
        continue;
      }
      String revision = a.config(Env.HF_REVISION).orElse("");
      if (!revision.matches("[0-9a-f]{40}")) {
        Part b = PlanFacts.beforeOf(s);
        boolean before = b != null && !b.config(Env.HF_REVISION).orElse("").matches("[0-9a-f]{40}");
        risks.add(new Risk(Level.WARN, "Model revision " + PlanFacts.code(revision) + " on `" + a.node() + "` is not a commit",
            "A branch or tag can move: a later fetch (a new node, a re-made store) may get other weights than the"
                + " nodes already have. Pin `model.revision` to the 40-hex commit of "
                + PlanFacts.code(a.config(Env.HF_REPO).orElse("the repository")) + ".", !before));
      }
    }
  }

  /** What every node installs as root, and from where. */
  private void supplyChainRisks(List<Risk> risks) {
    Map<String, List<String>> byIssue = new LinkedHashMap<>();
    for (Step s : facts.steps("bootstrap")) {
      Part a = PlanFacts.afterOf(s);
      if (a == null) {
        continue;
      }
      for (String key : List.of(Env.PIP_INDEX_URL, Env.PIP_FIND_LINKS)) {
        String url = a.config(key).orElse("");
        if (url.startsWith("http://")) {
          byIssue.computeIfAbsent("Packages from a plain-HTTP mirror " + PlanFacts.code(url)
              + "|Whoever is on the path can change what pip installs as root on every node. Use https://.", k -> new ArrayList<>())
              .add(a.node());
        }
      }
      String trusted = a.config(Env.PIP_TRUSTED_HOST).orElse("");
      if (!trusted.isEmpty()) {
        byIssue.computeIfAbsent("pip skips TLS checks for " + PlanFacts.code(trusted)
            + "|`software.pip_trusted_host` turns off certificate checks for that host: a machine in the middle can serve"
            + " any package. Give the mirror a certificate and remove it.", k -> new ArrayList<>()).add(a.node());
      }
      if ("true".equals(a.config(Env.PIP_ALLOW_SOURCE_BUILDS).orElse("false"))) {
        byIssue.computeIfAbsent("pip may build packages from source|`software.allow_source_builds: true`: a source"
            + " distribution runs its build scripts as root. Leave it off (wheels only) or pin hashes with"
            + " `software.requirements_lock`.", k -> new ArrayList<>()).add(a.node());
      }
    }
    for (Step s : facts.steps("model-store")) {
      Part a = PlanFacts.afterOf(s);
      String endpoint = a == null ? "" : a.config(Env.HF_ENDPOINT).orElse("");
      if (endpoint.startsWith("http://")) {
        byIssue.computeIfAbsent("Model fetched over plain HTTP from " + PlanFacts.code(endpoint)
            + "|Whoever is on the path can change the weights and the code the nodes load (and read an HF token). Use"
            + " https://.", k -> new ArrayList<>()).add(a.node());
      }
    }
    for (Map.Entry<String, List<String>> e : byIssue.entrySet()) {
      String[] parts = e.getKey().split("\\|", 2);
      risks.add(new Risk(Level.WARN, parts[0], parts[1] + " Nodes: "
          + e.getValue().stream().map(n -> "`" + n + "`").collect(Collectors.joining(", ")) + ".", true));
    }
  }
}
