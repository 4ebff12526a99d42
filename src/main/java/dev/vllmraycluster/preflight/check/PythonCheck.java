package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.Thresholds;
import dev.vllmraycluster.preflight.parse.KeyValues;
import dev.vllmraycluster.ssh.CommandResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The interpreter named by {@code software.python}: present and of a supported version; its
 * headers (Python.h), the venv module and the compilers the bootstrap otherwise installs.
 */
public final class PythonCheck extends NodeCheck {
  @Override
  public String name() {
    return "python";
  }

  @Override
  public String summary() {
    return "software.python present, version supported, Python.h / venv / gcc";
  }

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    String python = ctx.spec().software().python();
    CommandResult r = f.result(PreflightProbes.PYTHON);
    if (r == null || !r.ok()) {
      return fail(f, "cannot check " + python + ": " + NodeFacts.why(r), "run " + python + " --version on the host");
    }
    Map<String, String> kv = KeyValues.parse(r.stdout());
    if ("no".equals(kv.get("found"))) {
      String other = kv.getOrDefault("default", "none");
      return fail(f, python + " not found (software.python); python3 here: " + other,
          "install " + python + " on the host (apt install " + python + " " + python + "-venv " + python
              + "-dev, or dnf install " + python + " " + python + "-devel), or set software.python to the interpreter this host has");
    }
    String version = kv.getOrDefault("version", "?");
    int minor = minor(version);
    if (minor >= 0 && minor < Thresholds.PYTHON_MIN_MINOR) {
      return fail(f, python + " is " + version + ": Ray and vLLM need 3." + Thresholds.PYTHON_MIN_MINOR + " or newer",
          "install a newer Python (e.g. python3.11) and set software.python to it");
    }
    List<String> missing = new ArrayList<>();
    if (!"yes".equals(kv.get("python_h"))) {
      missing.add("Python.h (python3-dev / python3-devel)");
    }
    if (!"yes".equals(kv.get("venv"))) {
      missing.add("the venv module (python3-venv)");
    }
    for (String tool : List.of("gcc", "g++")) {
      if (!"yes".equals(kv.get(tool))) {
        missing.add(tool);
      }
    }
    if (!missing.isEmpty()) {
      return warn(f, python + " " + version + " lacks " + String.join(", ", missing)
              + ": the bootstrap installs them (Ray and vLLM build native code with them)",
          "make sure the host reaches its package mirror (apt/dnf), or install them beforehand");
    }
    String vllm = ctx.spec().software().vllmVersion();
    java.util.Optional<dev.vllmraycluster.vllm.VllmFlags.PythonRange> range =
        dev.vllmraycluster.vllm.VllmFlags.forVersion(vllm).flatMap(dev.vllmraycluster.vllm.VllmFlags::python);
    if (minor >= 0 && range.isPresent() && !range.get().allows(minor)) {
      return fail(f, python + " is " + version + ": vLLM " + vllm + " installs on Python " + range.get().spec() + " only (its Requires-Python)",
          "set software.python to an interpreter in that range (e.g. python3.11), or pin a vLLM release for Python " + version);
    }
    if (minor >= Thresholds.PYTHON_WARN_MINOR && range.isEmpty()) {
      return warn(f, python + " " + version + ": vLLM " + ctx.spec().software().vllmVersion() + " may publish no wheels for it",
          "check PyPI for vllm " + ctx.spec().software().vllmVersion() + " on Python " + version + ", or use 3.10-3.12");
    }
    return ok(f, python + " " + version + ", Python.h, venv, gcc, g++");
  }

  static int minor(String version) {
    String[] parts = version.split("\\.");
    try {
      return parts.length > 1 && "3".equals(parts[0]) ? Integer.parseInt(parts[1]) : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** "3.11" of "3.11.2", or the text itself. */
  static String majorMinor(String version) {
    String[] parts = version.split("\\.");
    return parts.length > 1 ? parts[0] + "." + parts[1] : version;
  }
}
