package dev.vllmraycluster.ssh;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import net.schmizz.sshj.common.Buffer;
import net.schmizz.sshj.common.KeyType;
import net.schmizz.sshj.transport.verification.HostKeyVerifier;
import net.schmizz.sshj.transport.verification.OpenSSHKnownHosts;

/**
 * Host key verification. Never accepts a key it cannot check: a host whose key is neither pinned
 * in the stack ({@code ssh_host_key}) nor listed in {@code ~/.ssh/known_hosts} (or
 * {@code /etc/ssh/ssh_known_hosts}) is refused, and the verifier remembers why so that the
 * failure can say what to do.
 */
public final class HostKeys {
  private HostKeys() {}

  /** {@code ssh-ed25519 AAAA...}: the key as OpenSSH writes it. */
  public static String openSsh(PublicKey key) {
    return KeyType.fromKey(key) + " " + Base64.getEncoder().encodeToString(blob(key));
  }

  /** {@code SHA256:...}, as {@code ssh-keygen -lf} prints it. */
  public static String fingerprint(PublicKey key) {
    return fingerprint(blob(key));
  }

  static String fingerprint(byte[] blob) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(blob);
      return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] blob(PublicKey key) {
    return new Buffer.PlainBuffer().putPublicKey(key).getCompactData();
  }

  /** The host key algorithms to ask for first, so that the host offers the key we can check. */
  static List<String> algorithmsFor(String keyType) {
    if ("ssh-rsa".equals(keyType)) {
      return List.of("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa");
    }
    return List.of(keyType);
  }

  /** A verifier that records what the host presented and why it was refused. */
  public abstract static class Recording implements HostKeyVerifier {
    private volatile String presented;
    private volatile String refusal;

    /** The presented key's type and fingerprint, once the host showed one. */
    public String presented() {
      return presented;
    }

    /** Why the key was refused, or null. */
    public String refusal() {
      return refusal;
    }

    /** What to do about the refusal. */
    public abstract String fix(SshTarget target);

    protected void saw(PublicKey key) {
      presented = KeyType.fromKey(key) + " " + fingerprint(key);
    }

    protected boolean refuse(String why) {
      refusal = why;
      return false;
    }
  }

  /** The stack pins the key: exactly that key is accepted. */
  public static final class Pinned extends Recording {
    private final String type;
    private final byte[] blob;

    public Pinned(String pinned) {
      String[] parts = pinned.trim().split("\\s+");
      if (parts.length < 2) {
        throw new IllegalArgumentException("not an SSH public key: " + pinned);
      }
      this.type = parts[0];
      this.blob = Base64.getDecoder().decode(parts[1]);
    }

    @Override
    public boolean verify(String hostname, int port, PublicKey key) {
      saw(key);
      byte[] got = blob(key);
      if (MessageDigest.isEqual(got, blob)) {
        return true;
      }
      return refuse("host key " + presented() + " is not the pinned ssh_host_key (" + type + " "
          + fingerprint(blob) + ")");
    }

    @Override
    public List<String> findExistingAlgorithms(String hostname, int port) {
      return algorithmsFor(type);
    }

    @Override
    public String fix(SshTarget target) {
      return "if the host was reinstalled, check its new key out of band and pin it: ssh-keyscan -t "
          + type.replace("ssh-", "") + " -p " + target.port() + " " + target.host()
          + " (compare with ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the host); otherwise"
          + " someone else answers at this address";
    }
  }

  /** No pinned key: the user's and the system's known_hosts files decide. */
  public static final class KnownHosts extends Recording {
    private final OpenSSHKnownHosts known;
    private final List<Path> files;
    private final Outcome outcome;

    private KnownHosts(OpenSSHKnownHosts known, List<Path> files, Outcome outcome) {
      this.known = known;
      this.files = files;
      this.outcome = outcome;
    }

    /** Reads {@code ~/.ssh/known_hosts} and {@code /etc/ssh/ssh_known_hosts}, where present. */
    public static KnownHosts load() throws IOException {
      return load(List.of(
          Path.of(System.getProperty("user.home"), ".ssh", "known_hosts"),
          Path.of("/etc/ssh/ssh_known_hosts")));
    }

    public static KnownHosts load(List<Path> candidates) throws IOException {
      StringBuilder all = new StringBuilder();
      List<Path> read = new ArrayList<>();
      for (Path file : candidates) {
        if (Files.isReadable(file)) {
          all.append(Files.readString(file, StandardCharsets.UTF_8)).append('\n');
          read.add(file);
        }
      }
      Outcome outcome = new Outcome();
      OpenSSHKnownHosts known = new OpenSSHKnownHosts(new StringReader(all.toString())) {
        @Override
        protected boolean hostKeyUnverifiableAction(String hostname, PublicKey key) {
          outcome.why = "unknown";
          return false;
        }

        @Override
        protected boolean hostKeyChangedAction(String hostname, PublicKey key) {
          outcome.why = "changed";
          return false;
        }
      };
      return new KnownHosts(known, List.copyOf(read), outcome);
    }

    private static final class Outcome {
      volatile String why;
    }

    @Override
    public boolean verify(String hostname, int port, PublicKey key) {
      saw(key);
      if (known.verify(hostname, port, key)) {
        return true;
      }
      String where = files.isEmpty()
          ? "known_hosts (there is none: ~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts)"
          : String.join(", ", files.stream().map(Path::toString).toList());
      if ("changed".equals(outcome.why)) {
        return refuse("host key " + presented() + " differs from the one recorded in " + where
            + " (REMOTE HOST IDENTIFICATION HAS CHANGED)");
      }
      return refuse("host key " + presented() + " is unknown: not pinned in the stack and not in " + where);
    }

    @Override
    public List<String> findExistingAlgorithms(String hostname, int port) {
      return known.findExistingAlgorithms(hostname, port);
    }

    @Override
    public String fix(SshTarget target) {
      // OpenTofu's client asks for ECDSA first (then RSA, then Ed25519) and checks that type only.
      String keyscan = "ssh-keyscan -t ecdsa -p " + target.port() + " " + target.host();
      if ("changed".equals(outcome.why)) {
        return "if the host was reinstalled, remove the old entry (ssh-keygen -R " + target.host()
            + ") and record the new key after checking it out of band; otherwise someone else"
            + " answers at this address";
      }
      return "pin the key in the stack: nodes[].ssh_host_key: \"<type> <key>\" from " + keyscan
          + " (check its fingerprint on the host: ssh-keygen -lf /etc/ssh/ssh_host_ecdsa_key.pub; -t rsa or"
          + " -t ed25519 if the host has no ECDSA key),"
          + " or add it to ~/.ssh/known_hosts (" + keyscan + " >> ~/.ssh/known_hosts)";
    }
  }
}
