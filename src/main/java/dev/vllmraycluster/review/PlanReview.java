package dev.vllmraycluster.review;

import java.util.List;
import java.util.Set;

/**
 * A Markdown review of one stack's plan for a pull request: what each node adds, replaces or
 * destroys and why (the {@code triggers_replace} inputs that changed), which ports open to whom,
 * the parallelism and GPUs vLLM will use, and the risks a reviewer must see. It reads only the
 * {@link Plan}, in which sensitive values are already masked; the values of sensitive variables
 * are removed from the text once more before it is returned. The facts ({@link PlanFacts}), the
 * risk rules ({@link RiskRules}) and the rendering ({@link ReviewMarkdown}) are separate classes.
 */
public final class PlanReview {
  /** The first line of every review: lets a workflow find and update its own PR comment. */
  public static final String MARKER = "<!-- vllm-ray-cluster plan-review -->";

  static final String NOT_CLEANED =
      "OpenTofu does not run the destroy-time provisioners of resources removed from the"
          + " configuration (checked with OpenTofu 1.12.6): their remove.sh does not run";

  static final List<String> COMPONENT_ORDER =
      List.of("firewall", "wheel-cache", "bootstrap", "sweep", "model-store", "ray", "vllm", "proxy", "watchdog", "metrics",
          "prometheus");

  private final PlanFacts facts;
  private final String stackName;
  private final List<String> stackWarnings;
  private List<String> layoutBudget = List.of();

  /**
   * @param stackName shown in the heading; null when unknown
   * @param stackWarnings the stack's validator warnings (allowed risks), may be empty
   */
  public PlanReview(Plan plan, String stackName, List<String> stackWarnings) {
    this.facts = new PlanFacts(plan);
    this.stackName = stackName;
    this.stackWarnings = List.copyOf(stackWarnings);
  }

  public PlanReview(Plan plan) {
    this(plan, null, List.of());
  }

  public Plan plan() {
    return facts.plan();
  }

  /**
   * The stack's nodes that leave the cluster: {@code removed_nodes} (their parts are destroyed
   * with their remove.sh by the stack's {@code removed {}} blocks) and {@code forgotten_nodes}
   * (dropped from the state, never contacted). The plan itself does not tell them apart from a
   * node simply deleted from the stack; without them every node gone from the stack is flagged.
   */
  public PlanReview leavingNodes(Set<String> removed, Set<String> forgotten) {
    facts.leavingNodes(removed, forgotten);
    return this;
  }

  /** Counts of what the plan does, as the summary line says them. */
  public Summary summary() {
    return facts.summary();
  }

  public List<Risk> risks() {
    return new RiskRules(facts).all();
  }

  public String markdown() {
    return new ReviewMarkdown(facts, risks(), stackName, stackWarnings, layoutBudget).render();
  }

  /**
   * The stack's layout and its memory budget as the parallelism planner sees it (lines under the
   * parallelism table); none when the stack gives no config.json.
   */
  public PlanReview layoutBudget(List<String> lines) {
    layoutBudget = List.copyOf(lines);
    return this;
  }

  /** "`K`: `a` → `b`", or the tokens added and removed for space-separated lists. */
  static String change(String what, String before, String after) {
    return PlanFacts.change(what, before, after);
  }
}
