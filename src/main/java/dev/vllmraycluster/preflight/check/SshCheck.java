package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.node.KnownHostKeys;
import dev.vllmraycluster.preflight.Check;
import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.ssh.CommandResult;
import java.util.ArrayList;
import java.util.List;

/**
 * SSH login with the stack's key and host key; for a non-root user, passwordless sudo and a home
 * directory nobody else can enter (OpenTofu uploads each remote-exec script there, mode 0777,
 * before it runs it as that user).
 */
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
      String mismatch = openTofuKeyProblem(f.keyShownToOpenTofu(), KnownHostKeys.ofThisUser().connectionKey(node));
      if (mismatch != null) {
        String type = f.keyShownToOpenTofu().split(" ")[0];
        rows.add(Row.fail(node.name(), name(), f.login() + host + ": " + mismatch,
            "pin the key OpenTofu is shown, after checking it on the host (ssh-keygen -lf /etc/ssh/ssh_host_"
                + keyFileType(type) + "_key.pub): the output of ssh-keyscan -t " + keyFileType(type) + " -p "
                + node.ssh().port() + " " + node.ssh().host() + " without the host name, as ssh_host_key"));
        continue;
      }
      if ("root".equals(node.ssh().user())) {
        rows.add(Row.ok(node.name(), name(), f.login() + host + ", " + how));
        continue;
      }
      CommandResult sudo = f.result(PreflightProbes.SUDO);
      String homeProblem = homeProblem(f.result(PreflightProbes.HOME), node.ssh().user());
      if (sudo != null && sudo.ok() && homeProblem != null) {
        rows.add(Row.fail(node.name(), name(), f.login() + host + ": " + homeProblem,
            "make it private: chmod 0700 on it (as " + node.ssh().user() + "), or log in as root (ssh.user: root)"));
      } else if (sudo != null && sudo.ok()) {
        rows.add(Row.ok(node.name(), name(), f.login() + host + ", " + how + ", passwordless sudo, private home"));
      } else {
        rows.add(Row.fail(node.name(), name(),
            f.login() + host + ": no passwordless sudo (" + (sudo == null ? "not checked" : sudo.brief()) + ")",
            "the provisioners run sudo -n: add '" + node.ssh().user() + " ALL=(ALL) NOPASSWD: ALL' in"
                + " /etc/sudoers.d/vllm-ray-cluster on the host, or log in as root (ssh.user: root)"));
      }
    }
    return rows;
  }

  /**
   * Why OpenTofu's provisioners would refuse the host, or null: OpenTofu's SSH client asks for the
   * host's ECDSA key first (then RSA, then Ed25519) and compares it with the one key its
   * connection checks; a key of another type fails every step with "key mismatch".
   */
  static String openTofuKeyProblem(String shown, String checked) {
    if (shown == null || checked == null || checked.equals(KnownHostKeys.UNPINNED)) {
      return null;
    }
    String shownType = shown.split(" ")[0];
    String checkedType = checked.split(" ")[0];
    if (shown.equals(checked)) {
      return null;
    }
    if (!shownType.equals(checkedType)) {
      return "OpenTofu's SSH client will be shown this host's " + shownType + " key (it asks for ECDSA, then RSA,"
          + " then Ed25519) but its connection checks the " + checkedType + " key: every deploy step would"
          + " fail with 'key mismatch'";
    }
    return "the host's " + shownType + " key is not the one OpenTofu's connection checks: every deploy step"
        + " would fail with 'key mismatch'";
  }

  /** ssh-keyscan's -t name of a key type: ecdsa, rsa or ed25519. */
  static String keyFileType(String type) {
    if (type.startsWith("ecdsa")) {
      return "ecdsa";
    }
    return type.equals("ssh-ed25519") ? "ed25519" : "rsa";
  }

  /**
   * Why the SSH user's home is not private enough for OpenTofu's scripts, or null: others may not
   * enter it, nor may a group that is not the user's own.
   */
  static String homeProblem(CommandResult home, String user) {
    if (home == null || !home.ok()) {
      return "cannot read the mode of the home directory (" + (home == null ? "not checked" : home.brief()) + ")";
    }
    String[] lines = home.stdout().strip().split("\n");
    String[] stat = lines.length > 1 ? lines[1].strip().split("\\s+") : new String[0];
    if (stat.length < 3 || !stat[0].matches("[0-7]{3,4}")) {
      return "cannot read the mode of the home directory (" + home.stdout().strip() + ")";
    }
    int mode = Integer.parseInt(stat[0], 8);
    String dir = lines[0].strip();
    if (!stat[1].equals(user)) {
      return "home directory " + dir + " belongs to " + stat[1] + ", not " + user
          + ": OpenTofu's scripts would be written where another user controls them";
    }
    if ((mode & 0002) != 0 || (mode & 0020) != 0) {
      return "home directory " + dir + " is writable by others (mode " + stat[0]
          + "): OpenTofu's scripts (0777) would be exposed there";
    }
    if ((mode & 0001) != 0 || ((mode & 0010) != 0 && !stat[2].equals(user))) {
      return "home directory " + dir + " can be entered by other users (mode " + stat[0] + ", group " + stat[2]
          + "): OpenTofu uploads each remote-exec script there as a 0777 file before it runs it";
    }
    return null;
  }
}
