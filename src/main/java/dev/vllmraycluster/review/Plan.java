package dev.vllmraycluster.review;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a saved OpenTofu plan says about one stack, reduced to what a reviewer needs: every
 * {@code terraform_data} step with its action and both sides of its input and triggers. Built by
 * {@link PlanParser} from {@code tofu show -json}; values OpenTofu marks sensitive are already
 * replaced by {@link Part#SENSITIVE} here, so nothing downstream can print them.
 *
 * @param tofuVersion the OpenTofu version that made the plan
 * @param errored the plan stopped on an error (the review is then partial)
 * @param steps every step in the plan, and the ones in the prior state a targeted plan left out
 * @param priorStateEmpty the plan was made against a state with no resources
 * @param outputs output changes (name, action, before, after; sensitive values masked)
 * @param sensitiveValues values of sensitive variables, should a plan hold any: the renderer
 *     removes them from its output whatever happens
 */
public record Plan(
    String tofuVersion,
    boolean errored,
    List<Step> steps,
    boolean priorStateEmpty,
    List<OutputChange> outputs,
    List<String> sensitiveValues) {

  public Plan {
    steps = List.copyOf(steps);
    outputs = List.copyOf(outputs);
    sensitiveValues = List.copyOf(sensitiveValues);
  }

  /** What OpenTofu will do to a resource. */
  public enum Action {
    CREATE("create"),
    UPDATE("update in place"),
    REPLACE("replace"),
    DELETE("destroy"),
    FORGET("forget (kept on the host)"),
    READ("read"),
    NO_OP("no change"),
    /** In the prior state but not in this plan (a plan with {@code -target}). */
    NOT_PLANNED("not in this plan (-target)");

    private final String label;

    Action(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }

    /** Whether the step's remove.sh and then apply.sh, or just one of them, run on the host. */
    public boolean changes() {
      return this == CREATE || this == UPDATE || this == REPLACE || this == DELETE || this == FORGET;
    }

    /** The resource as it is now goes away (destroyed or replaced). */
    public boolean removesOld() {
      return this == REPLACE || this == DELETE || this == FORGET;
    }

    static Action of(List<String> actions) {
      if (actions.contains("delete") && actions.contains("create")) {
        return REPLACE;
      }
      if (actions.size() != 1) {
        throw new IllegalArgumentException("unknown action list " + actions);
      }
      return switch (actions.get(0)) {
        case "create" -> CREATE;
        case "update" -> UPDATE;
        case "delete" -> DELETE;
        case "forget" -> FORGET;
        case "read" -> READ;
        case "no-op" -> NO_OP;
        default -> throw new IllegalArgumentException("unknown action " + actions.get(0));
      };
    }
  }

  /**
   * One resource of the stack.
   *
   * @param address e.g. {@code terraform_data.head_vllm}
   * @param name e.g. {@code head_vllm}
   * @param actionReason OpenTofu's reason, e.g. {@code replace_by_triggers}, {@code
   *     delete_because_no_resource_config}; empty when it gives none
   * @param before the resource as the state has it (null when it does not exist yet)
   * @param after the resource as it will be (null when it is destroyed)
   */
  public record Step(
      String address, String name, Action action, String actionReason, Part before, Part after) {

    /** The side that describes the resource: after, or before for a destroyed one. */
    public Part current() {
      return after != null ? after : before;
    }

    public boolean removedFromConfiguration() {
      return "delete_because_no_resource_config".equals(actionReason);
    }
  }

  /**
   * One side of a step. Our host steps carry {@code node}, {@code role}, {@code component},
   * {@code config} and {@code args} in their {@code input}; {@code local_checks} has only
   * triggers. Strings may be {@link #SENSITIVE} or {@link #UNKNOWN}.
   */
  public record Part(
      String node,
      String role,
      String component,
      Map<String, String> input,
      Map<String, String> config,
      List<String> args,
      Map<String, String> triggers) {
    public static final String SENSITIVE = "(sensitive)";
    public static final String UNKNOWN = "(known after apply)";

    public Part {
      input = Map.copyOf(input);
      config = Map.copyOf(config);
      args = List.copyOf(args);
      triggers = Map.copyOf(triggers);
    }

    public Optional<String> config(String key) {
      return Optional.ofNullable(config.get(key));
    }

    /** The value of {@code --flag=value} or {@code --flag value} in the arguments. */
    public Optional<String> arg(String flag) {
      return Optional.ofNullable(Args.flags(args).get(flag));
    }
  }

  /** An output of the stack; values already masked when sensitive. */
  public record OutputChange(String name, Action action, String before, String after) {}
}
