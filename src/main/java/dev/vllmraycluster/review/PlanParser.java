package dev.vllmraycluster.review;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vllmraycluster.review.Plan.Action;
import dev.vllmraycluster.review.Plan.OutputChange;
import dev.vllmraycluster.review.Plan.Part;
import dev.vllmraycluster.review.Plan.Step;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads the JSON that {@code tofu show -json <planfile>} prints (format 1.x) into a {@link Plan}.
 * Only {@code terraform_data} resources are kept: that is all a stack of ours holds. Every value
 * under a path OpenTofu marks sensitive ({@code before_sensitive}/{@code after_sensitive}, {@code
 * sensitive_values} in the prior state) becomes {@link Part#SENSITIVE} while it is read, and
 * variable values are never read at all.
 */
public final class PlanParser {
  private static final ObjectMapper JSON = new ObjectMapper();

  private PlanParser() {}

  /** Thrown when the text is not a plan in the JSON format OpenTofu prints. */
  public static final class NotAPlanException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotAPlanException(String message) {
      super(message);
    }
  }

  public static Plan parse(String json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new NotAPlanException("not JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject() || !root.has("format_version")) {
      throw new NotAPlanException(
          "not the JSON of a plan (no format_version): make it with tofu show -json <planfile>");
    }
    if (!root.path("format_version").asText().startsWith("1.")) {
      throw new NotAPlanException(
          "plan JSON format " + root.path("format_version").asText() + " is not 1.x");
    }
    if (!root.has("resource_changes") && !root.has("planned_values")) {
      throw new NotAPlanException(
          "this JSON is a state, not a plan (no resource_changes): run tofu show -json on a plan file");
    }

    Map<String, Step> steps = new LinkedHashMap<>();
    for (JsonNode rc : root.path("resource_changes")) {
      if (!"managed".equals(rc.path("mode").asText()) || !"terraform_data".equals(rc.path("type").asText())) {
        continue;
      }
      JsonNode change = rc.path("change");
      List<String> actions = new ArrayList<>();
      change.path("actions").forEach(a -> actions.add(a.asText()));
      Action action = Action.of(actions);
      Part before = part(change.path("before"), change.path("before_sensitive"), null);
      Part after = action == Action.DELETE || action == Action.FORGET ? null
          : part(change.path("after"), change.path("after_sensitive"), change.path("after_unknown"));
      String address = rc.path("address").asText();
      steps.put(address, new Step(address, rc.path("name").asText(), action,
          rc.path("action_reason").asText(""), before, after));
    }

    boolean priorEmpty = true;
    List<JsonNode> prior = new ArrayList<>();
    collect(root.path("prior_state").path("values").path("root_module"), prior);
    for (JsonNode r : prior) {
      if (!"managed".equals(r.path("mode").asText())) {
        continue;
      }
      priorEmpty = false;
      String address = r.path("address").asText();
      if (!"terraform_data".equals(r.path("type").asText()) || steps.containsKey(address)) {
        continue;
      }
      Part p = part(r.path("values"), r.path("sensitive_values"), null);
      steps.put(address, new Step(address, r.path("name").asText(), Action.NOT_PLANNED, "", p, p));
    }

    List<OutputChange> outputs = new ArrayList<>();
    Iterator<Map.Entry<String, JsonNode>> it = root.path("output_changes").fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode c = e.getValue();
      List<String> actions = new ArrayList<>();
      c.path("actions").forEach(a -> actions.add(a.asText()));
      outputs.add(new OutputChange(e.getKey(), Action.of(actions),
          outputValue(c.path("before"), c.path("before_sensitive"), null),
          outputValue(c.path("after"), c.path("after_sensitive"), c.path("after_unknown"))));
    }

    return new Plan(
        root.path("terraform_version").asText("unknown"),
        root.path("errored").asBoolean(false),
        new ArrayList<>(steps.values()),
        priorEmpty,
        outputs,
        sensitiveVariableValues(root));
  }

  private static void collect(JsonNode module, List<JsonNode> into) {
    module.path("resources").forEach(into::add);
    module.path("child_modules").forEach(child -> collect(child, into));
  }

  /** One side of a terraform_data: null when that side does not exist. */
  private static Part part(JsonNode values, JsonNode sensitive, JsonNode unknown) {
    if (values == null || values.isMissingNode() || values.isNull()) {
      return null;
    }
    JsonNode input = values.path("input");
    JsonNode inputSensitive = child(sensitive, "input");
    JsonNode inputUnknown = child(unknown, "input");
    Map<String, String> fields = new TreeMap<>();
    Map<String, String> config = new TreeMap<>();
    List<String> args = new ArrayList<>();
    if (input.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> it = input.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getValue().isValueNode()) {
          fields.put(e.getKey(), text(e.getValue(), child(inputSensitive, e.getKey()), child(inputUnknown, e.getKey())));
        }
      }
      JsonNode configSensitive = child(inputSensitive, "config");
      JsonNode configUnknown = child(inputUnknown, "config");
      Iterator<Map.Entry<String, JsonNode>> c = input.path("config").fields();
      while (c.hasNext()) {
        Map.Entry<String, JsonNode> e = c.next();
        config.put(e.getKey(), text(e.getValue(), child(configSensitive, e.getKey()), child(configUnknown, e.getKey())));
      }
      JsonNode argsSensitive = child(inputSensitive, "args");
      JsonNode argsUnknown = child(inputUnknown, "args");
      JsonNode argList = input.path("args");
      for (int i = 0; i < argList.size(); i++) {
        args.add(text(argList.get(i), child(argsSensitive, i), child(argsUnknown, i)));
      }
      if (isTrue(argsSensitive) && argList.size() == 0) {
        args.add(Part.SENSITIVE);
      }
    }
    Map<String, String> triggers = new TreeMap<>();
    JsonNode trig = values.path("triggers_replace");
    JsonNode trigSensitive = child(sensitive, "triggers_replace");
    JsonNode trigUnknown = child(unknown, "triggers_replace");
    Iterator<Map.Entry<String, JsonNode>> t = trig.fields();
    while (t.hasNext()) {
      Map.Entry<String, JsonNode> e = t.next();
      triggers.put(e.getKey(), text(e.getValue(), child(trigSensitive, e.getKey()), child(trigUnknown, e.getKey())));
    }
    return new Part(fields.get("node"), fields.get("role"), fields.get("component"), fields, config, args, triggers);
  }

  /**
   * The child of a sensitivity or unknown mask. A {@code true} anywhere above a value marks the
   * whole subtree, so a boolean is passed down as it is.
   */
  private static JsonNode child(JsonNode mask, String key) {
    if (mask == null || mask.isMissingNode() || mask.isNull()) {
      return null;
    }
    return mask.isBoolean() ? mask : mask.get(key);
  }

  private static JsonNode child(JsonNode mask, int index) {
    if (mask == null || mask.isMissingNode() || mask.isNull()) {
      return null;
    }
    return mask.isBoolean() ? mask : mask.get(index);
  }

  private static boolean isTrue(JsonNode mask) {
    return mask != null && mask.isBoolean() && mask.asBoolean();
  }

  private static String text(JsonNode value, JsonNode sensitive, JsonNode unknown) {
    if (isTrue(sensitive)) {
      return Part.SENSITIVE;
    }
    if (isTrue(unknown)) {
      return Part.UNKNOWN;
    }
    if (value == null || value.isNull() || value.isMissingNode()) {
      return "";
    }
    return value.isValueNode() ? value.asText() : value.toString();
  }

  private static String outputValue(JsonNode value, JsonNode sensitive, JsonNode unknown) {
    if (sensitive != null && !sensitive.isMissingNode() && !(sensitive.isBoolean() && !sensitive.asBoolean())) {
      // Sensitive as a whole or in part: none of it is shown.
      return Part.SENSITIVE;
    }
    if (unknown != null && !unknown.isMissingNode() && !(unknown.isBoolean() && !unknown.asBoolean())) {
      return Part.UNKNOWN;
    }
    if (value == null || value.isMissingNode() || value.isNull()) {
      return null;
    }
    return value.isValueNode() ? value.asText() : value.toString();
  }

  /**
   * Values of the variables the configuration declares sensitive, if the plan holds any (an
   * ephemeral variable's never is). Only so that the renderer can make sure they are nowhere in
   * its output; they are never shown.
   */
  private static List<String> sensitiveVariableValues(JsonNode root) {
    Set<String> values = new LinkedHashSet<>();
    JsonNode declared = root.path("configuration").path("root_module").path("variables");
    Iterator<Map.Entry<String, JsonNode>> it = root.path("variables").fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      boolean sensitive = declared.path(e.getKey()).path("sensitive").asBoolean(false);
      JsonNode v = e.getValue().path("value");
      if (sensitive && v.isValueNode() && v.asText().length() >= 4) {
        values.add(v.asText());
      }
    }
    return new ArrayList<>(values);
  }
}
