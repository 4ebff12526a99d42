package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.VerifyProbes;
import dev.vllmraycluster.spec.ClusterSpec.Role;
import dev.vllmraycluster.ssh.CommandResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Verify: the API proxy on the head guards what vLLM's own key check leaves open ({@code POST
 * /invocations} reaches chat and completions, {@code /metrics}): both answer 401 without the key;
 * with TLS, plain HTTP to the API port gets no HTTP answer.
 */
public final class ProxyCheck extends NodeCheck {
  @Override
  public String name() {
    return "proxy";
  }

  @Override
  public String summary() {
    return "the API proxy: /invocations and /metrics need the key, plain HTTP is refused (TLS)";
  }

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    if (f.node().role() != Role.HEAD || !ctx.spec().vllm().proxy()) {
      return null;
    }
    CommandResult r = f.result(VerifyProbes.PROXY);
    if (r == null) {
      return null;
    }
    Map<String, String[]> lines = new LinkedHashMap<>();
    for (String line : r.stdout().split("\n")) {
      String[] p = line.strip().split("\\s+");
      if (p.length >= 2) {
        lines.put(p[0], p);
      }
    }
    String fix = "journalctl -u vrc-proxy -n 50 on " + f.node().name() + "; cdktf deploy again to repair";
    List<String> wrong = new ArrayList<>();
    List<String> good = new ArrayList<>();
    boolean keyed = ctx.spec().vllm().apiKey() != null;
    for (String route : List.of("invocations", "metrics")) {
      String[] p = lines.get(route);
      String code = p == null ? "no answer" : p[1];
      String path = "/" + route;
      if (!keyed) {
        good.add(path + " " + code + " (no key required)");
      } else if ("401".equals(code)) {
        good.add(path + " without the key: 401");
      } else {
        wrong.add(path + " without the key: " + ("000".equals(code) ? "no answer" : "HTTP " + code) + ", expected 401");
      }
    }
    if (ctx.spec().vllm().https()) {
      String[] p = lines.get("plain");
      if (p != null && "000".equals(p[1])) {
        good.add("plain HTTP refused" + (p.length > 2 ? " (curl exit " + p[2] + ")" : ""));
      } else {
        wrong.add("plain HTTP to port " + ctx.spec().vllm().port() + " got " + (p == null ? "nothing recorded" : "HTTP " + p[1])
            + ", expected no answer");
      }
    }
    if (!wrong.isEmpty()) {
      return fail(f, String.join("; ", wrong), fix);
    }
    return ok(f, String.join(", ", good));
  }
}
