package dev.vllmraycluster.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import dev.vllmraycluster.staging.HostModules;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Where a synth takes its inputs from on this machine: the project root (a stack file's relative
 * paths are relative to it), the host modules steps upload ({@link HostModules}: the jar's own by
 * default, or a checkout's {@code modules/}), and the known_hosts files synth takes unpinned
 * nodes' host keys from. Nothing of it is written into {@code cdk.tf.json} as a path: host modules
 * are staged as CDKTF assets beside it.
 */
public final class ProjectLayout {
  private final Path root;
  private final HostModules modules;
  private final KnownHostKeys hostKeys;

  /**
   * A project whose host modules are its own {@code modules/} directory and whose nodes' host keys
   * come from the stack only (no known_hosts file is read): a checkout under test.
   */
  public ProjectLayout(Path root) {
    this(root, KnownHostKeys.none());
  }

  /** A project whose host modules are its own {@code modules/} directory. */
  public ProjectLayout(Path root, KnownHostKeys hostKeys) {
    this(root, HostModules.directory(root.resolve("modules")), hostKeys);
  }

  /**
   * @param root the project root
   * @param modules the host modules steps upload
   * @param hostKeys where a node's host key comes from when the stack does not pin it
   */
  public ProjectLayout(Path root, HostModules modules, KnownHostKeys hostKeys) {
    this.root = root.toAbsolutePath().normalize();
    this.modules = modules;
    this.hostKeys = hostKeys;
  }

  /**
   * The project root (the system property {@code vrc.root}, else the working directory), the host
   * modules shipped in this library's jar, and this user's known_hosts files for nodes whose key
   * the stack does not pin: what a synth uses, from this project or from an application of its own.
   */
  public static ProjectLayout current() {
    return new ProjectLayout(
        Path.of(System.getProperty("vrc.root", ".")), HostModules.bundled(), KnownHostKeys.ofThisUser());
  }

  /** Where a node's host key comes from when the stack does not pin it. */
  public KnownHostKeys hostKeys() {
    return hostKeys;
  }

  public Path root() {
    return root;
  }

  /** The host modules steps upload. */
  public HostModules modules() {
    return modules;
  }

  /**
   * SHA-256 over every file's relative path, mode bit and content under {@code dir} (a directory
   * of the project a step uploads as it is, e.g. {@code dashboards/}).
   */
  public String treeDigest(Path dir) {
    MessageDigest md = sha256();
    try (java.util.stream.Stream<Path> walk = Files.walk(dir)) {
      for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
        md.update(dir.relativize(file).toString().getBytes(StandardCharsets.UTF_8));
        md.update((byte) (Files.isExecutable(file) ? 1 : 0));
        md.update(Files.readAllBytes(file));
        md.update((byte) 0);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir, e);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** SHA-256 of a file's bytes, hex. */
  public static String fileDigest(Path file) {
    try {
      return HexFormat.of().formatHex(sha256().digest(Files.readAllBytes(file)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** SHA-256 of a text, hex. */
  public static String digest(String text) {
    return HexFormat.of().formatHex(sha256().digest(text.getBytes(StandardCharsets.UTF_8)));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
