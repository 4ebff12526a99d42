package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Check;
import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.ssh.CommandResult;
import java.util.ArrayList;
import java.util.List;

/** SSH login with the stack's key and host key, and passwordless sudo for a non-root user. */
public final class SshCheck implements Check {
  @Override
  public String name() {
    return "ssh";
  }

  @Override
  public String summary() {
    return "SSH login (key, host key) and passwordless sudo";
  }

  @Override
  public List<Row> evaluate(Context ctx) {
    List<Row> rows = new ArrayList<>();
    for (var node : ctx.spec().nodes()) {
      NodeFacts f = ctx.facts(node);
      if (f == null) {
        continue;
      }
      if (!f.reachable()) {
        rows.add(Row.fail(node.name(), name(), f.login() + ": " + f.sshError() + "; no other check ran on this node", f.sshFix()));
        continue;
      }
      String how = node.ssh().hostKey() != null ? "host key pinned" : "host key from known_hosts";
      CommandResult id = f.result(PreflightProbes.SSH);
      String host = "";
      if (id != null && id.ok()) {
        String[] lines = id.stdout().strip().split("\n");
        host = lines.length > 1 ? " (" + lines[1].strip() + ")" : "";
      } else if (id != null) {
        rows.add(Row.fail(node.name(), name(), f.login() + ": logged in but a first command failed: " + id.brief(),
            "check the login shell and account of " + node.ssh().user()));
        continue;
      }
      if ("root".equals(node.ssh().user())) {
        rows.add(Row.ok(node.name(), name(), f.login() + host + ", " + how));
        continue;
      }
      CommandResult sudo = f.result(PreflightProbes.SUDO);
      if (sudo != null && sudo.ok()) {
        rows.add(Row.ok(node.name(), name(), f.login() + host + ", " + how + ", passwordless sudo"));
      } else {
        rows.add(Row.fail(node.name(), name(),
            f.login() + host + ": no passwordless sudo (" + (sudo == null ? "not checked" : sudo.brief()) + ")",
            "the provisioners run sudo -n: add '" + node.ssh().user() + " ALL=(ALL) NOPASSWD: ALL' in"
                + " /etc/sudoers.d/vllm-ray-cluster on the host, or log in as root (ssh.user: root)"));
      }
    }
    return rows;
  }
}
