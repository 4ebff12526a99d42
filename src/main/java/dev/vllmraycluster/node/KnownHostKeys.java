package dev.vllmraycluster.node;

import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.SshSpec;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.schmizz.sshj.transport.verification.OpenSSHKnownHosts;
import net.schmizz.sshj.transport.verification.OpenSSHKnownHosts.KnownHostEntry;

/**
 * The host key each node's SSH connection checks, decided at synth: the key pinned in the stack
 * ({@code nodes[].ssh_host_key}), else the one this machine's known_hosts files hold for the node
 * (plain or hashed entries), else none — and then nothing ever connects to the node.
 *
 * <p>OpenTofu's SSH client (Go's x/crypto/ssh) asks a server for its ECDSA key first, then RSA,
 * then Ed25519, and refuses any key of another type than the one it checks. So when known_hosts
 * holds several keys of a host, the one of the type OpenTofu will be shown is chosen.
 */
public final class KnownHostKeys {
  /**
   * The connection's host key for a node without one: not a key, so OpenTofu fails before it
   * dials (and the step's first provisioner has already stopped the run with the fix).
   */
  public static final String UNPINNED = "vrc-unpinned-host-key";

  /** Key types in the order OpenTofu's SSH client asks for them. */
  static final List<String> OPENTOFU_ORDER = List.of(
      "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa", "ssh-ed25519");

  private final List<Path> files;
  private final OpenSSHKnownHosts known;

  private KnownHostKeys(List<Path> files) {
    this.files = List.copyOf(files);
    StringBuilder all = new StringBuilder();
    List<Path> read = new ArrayList<>();
    for (Path file : files) {
      if (Files.isReadable(file)) {
        try {
          all.append(Files.readString(file, StandardCharsets.UTF_8)).append('\n');
          read.add(file);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read " + file, e);
        }
      }
    }
    try {
      this.known = new OpenSSHKnownHosts(new StringReader(all.toString()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot parse known_hosts " + read, e);
    }
  }

  /** None: only keys pinned in the stack count (for tests, and synth that must not vary by machine). */
  public static KnownHostKeys none() {
    return new KnownHostKeys(List.of());
  }

  /** The given known_hosts files (missing ones are skipped). */
  public static KnownHostKeys of(List<Path> files) {
    return new KnownHostKeys(files);
  }

  /** This user's {@code ~/.ssh/known_hosts} and the system's {@code /etc/ssh/ssh_known_hosts}. */
  public static KnownHostKeys ofThisUser() {
    return of(List.of(
        Path.of(System.getProperty("user.home"), ".ssh", "known_hosts"),
        Path.of("/etc/ssh/ssh_known_hosts")));
  }

  public List<Path> files() {
    return files;
  }

  /** The key OpenTofu's connection to {@code node} checks, or {@link #UNPINNED}. */
  public String connectionKey(NodeSpec node) {
    if (node.ssh().hostKey() != null) {
      return node.ssh().hostKey();
    }
    String found = fromKnownHosts(node.ssh());
    return found == null ? UNPINNED : found;
  }

  /** True when the node's key is neither pinned nor known here. */
  public boolean unpinned(NodeSpec node) {
    return node.ssh().hostKey() == null && fromKnownHosts(node.ssh()) == null;
  }

  /**
   * What a step on an unpinned node prints before it stops, or null when the node's key is known.
   */
  public String unpinnedMessage(NodeSpec node, String component) {
    if (!unpinned(node)) {
      return null;
    }
    SshSpec ssh = node.ssh();
    String where = ssh.port() == 22 ? ssh.host() : "[" + ssh.host() + "]:" + ssh.port();
    return "[" + node.name() + "/" + component + "/connect] ERROR: no host key for " + ssh.user() + "@"
        + ssh.host() + ":" + ssh.port() + ": not pinned in the stack (ssh_host_key of node " + node.name()
        + ") and not in known_hosts (" + String.join(", ", files.stream().map(Path::toString).toList())
        + ") when this stack was synthesized; nothing was run on the node. Check the key out of band (on"
        + " the node: ssh-keygen -lf /etc/ssh/ssh_host_ecdsa_key.pub), then pin it: the output of"
        + " ssh-keyscan -t ecdsa -p " + ssh.port() + " " + ssh.host() + " without the host name (or"
        + " -t rsa, or -t ed25519, if the node has no ECDSA key) as ssh_host_key, or add it to"
        + " ~/.ssh/known_hosts as " + where + " <type> <key>, and run again.";
  }

  /** The key known_hosts holds for the SSH target, of the type OpenTofu asks for first; or null. */
  String fromKnownHosts(SshSpec ssh) {
    String host = ssh.port() == 22 ? ssh.host() : "[" + ssh.host() + "]:" + ssh.port();
    String best = null;
    int bestRank = Integer.MAX_VALUE;
    for (KnownHostEntry entry : known.entries()) {
      String line = entry.getLine();
      if (line == null || line.startsWith("@")) {
        continue; // @cert-authority and @revoked lines are not a host's own key
      }
      try {
        if (!entry.appliesTo(host)) {
          continue;
        }
      } catch (IOException e) {
        continue;
      }
      String key = keyOf(line);
      if (key == null) {
        continue;
      }
      int rank = OPENTOFU_ORDER.indexOf(key.substring(0, key.indexOf(' ')));
      if (rank >= 0 && rank < bestRank) {
        best = key;
        bestRank = rank;
      }
    }
    return best;
  }

  /** {@code <type> <base64>} out of a known_hosts line. */
  static String keyOf(String line) {
    String[] parts = line.trim().split("\\s+");
    for (int i = 0; i + 1 < parts.length; i++) {
      if (OPENTOFU_ORDER.contains(parts[i])) {
        return parts[i] + " " + parts[i + 1];
      }
    }
    return null;
  }
}
