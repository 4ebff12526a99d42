package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Check;
import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.parse.KeyValues;
import dev.vllmraycluster.spec.ClusterSpec.SoftwareSpec;
import dev.vllmraycluster.ssh.CommandResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What is already installed (the venv's Python, Ray, vLLM) against the stack's pins, and the
 * Python versions across nodes: Ray refuses nodes whose Python minor version differs.
 */
public final class VersionsCheck implements Check {
  @Override
  public String name() {
    return "versions";
  }

  @Override
  public String summary() {
    return "installed Python/Ray/vLLM against the pins, and equal across nodes";
  }

  @Override
  public List<Row> evaluate(Context ctx) {
    SoftwareSpec sw = ctx.spec().software();
    List<Row> rows = new ArrayList<>();
    Map<String, List<String>> interpreters = new LinkedHashMap<>();
    Map<String, List<String>> venvs = new LinkedHashMap<>();
    for (NodeFacts f : ctx.reachable()) {
      String node = f.node().name();
      CommandResult py = f.result(PreflightProbes.PYTHON);
      if (py != null && py.ok()) {
        String v = KeyValues.parse(py.stdout()).get("version");
        if (v != null) {
          interpreters.computeIfAbsent(PythonCheck.majorMinor(v), k -> new ArrayList<>()).add(node);
        }
      }
      CommandResult r = f.result(PreflightProbes.VENV);
      if (r == null || !r.ok()) {
        rows.add(Row.warn(node, name(), "cannot read the venv at " + sw.venvPath() + ": " + NodeFacts.why(r),
            "check " + sw.venvPath() + "/bin/python on the host"));
        continue;
      }
      Map<String, String> kv = KeyValues.parse(r.stdout());
      if ("absent".equals(kv.get("venv"))) {
        rows.add(Row.ok(node, name(), "no venv at " + sw.venvPath() + " yet: the bootstrap creates it with ray "
            + sw.rayVersion() + ", vllm " + sw.vllmVersion()));
        continue;
      }
      String python = kv.getOrDefault("python", "?");
      String ray = kv.getOrDefault("ray", "-");
      String vllm = kv.getOrDefault("vllm", "-");
      venvs.computeIfAbsent("Python " + PythonCheck.majorMinor(python), k -> new ArrayList<>()).add(node);
      String label = sw.venvPath() + ": Python " + python + ", ray " + ray + ", vllm " + vllm;
      List<String> differ = new ArrayList<>();
      if (!ray.equals(sw.rayVersion())) {
        differ.add("ray " + sw.rayVersion());
      }
      if (!vllm.equals(sw.vllmVersion())) {
        differ.add("vllm " + sw.vllmVersion());
      }
      if (differ.isEmpty()) {
        rows.add(Row.ok(node, name(), label + " (the pinned versions)"));
      } else {
        rows.add(Row.warn(node, name(), label + "; the stack pins " + String.join(", ", differ) + ": the bootstrap reinstalls",
            "nothing to do if that is intended; otherwise pin the installed versions in software.ray_version / vllm_version"));
      }
    }
    if (!interpreters.isEmpty() || !venvs.isEmpty()) {
      rows.add(across(interpreters, venvs, sw));
    }
    return rows;
  }

  private Row across(Map<String, List<String>> interpreters, Map<String, List<String>> venvs, SoftwareSpec sw) {
    if (interpreters.size() > 1) {
      return Row.fail(Row.ALL, name(), sw.python() + " differs between nodes: " + describe(interpreters)
              + "; Ray refuses to join nodes whose Python version differs",
          "install the same Python 3.x on every node and name it in software.python (e.g. python3.11)");
    }
    if (venvs.size() > 1) {
      return Row.fail(Row.ALL, name(), "the venvs at " + sw.venvPath() + " use different Pythons: " + describe(venvs),
          "remove the odd venvs (the bootstrap recreates them) or align software.python");
    }
    String python = interpreters.isEmpty() ? "unknown" : interpreters.keySet().iterator().next();
    return Row.ok(Row.ALL, name(), sw.python() + " is Python " + python + " on every reachable node; ray "
        + sw.rayVersion() + " and vllm " + sw.vllmVersion() + " pinned for all");
  }

  private static String describe(Map<String, List<String>> groups) {
    List<String> parts = new ArrayList<>();
    groups.forEach((v, nodes) -> parts.add(v + " on " + String.join(", ", nodes)));
    return String.join("; ", parts);
  }
}
