package dev.vllmraycluster.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Where the host-side units live on the deploy machine ({@code modules/<component>/}), the
 * digests that tie a resource to exactly the bytes it uploads, and the known_hosts files synth
 * takes unpinned nodes' host keys from.
 */
public final class ProjectLayout {
  private final Path root;
  private final KnownHostKeys hostKeys;
  private final Map<Path, String> treeDigests = new ConcurrentHashMap<>();

  /** A project whose nodes' host keys come from the stack only (no known_hosts file is read). */
  public ProjectLayout(Path root) {
    this(root, KnownHostKeys.none());
  }

  public ProjectLayout(Path root, KnownHostKeys hostKeys) {
    this.root = root.toAbsolutePath().normalize();
    this.hostKeys = hostKeys;
  }

  /**
   * The project root (the system property {@code vrc.root}, else the working directory), with this
   * user's known_hosts files for nodes whose key the stack does not pin.
   */
  public static ProjectLayout current() {
    return new ProjectLayout(Path.of(System.getProperty("vrc.root", ".")), KnownHostKeys.ofThisUser());
  }

  /** Where a node's host key comes from when the stack does not pin it. */
  public KnownHostKeys hostKeys() {
    return hostKeys;
  }

  public Path root() {
    return root;
  }

  public Path module(String component) {
    Path dir = root.resolve("modules").resolve(component);
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException(
          "host module " + dir + " is missing: run from the project root (or set -Dvrc.root)");
    }
    return dir;
  }

  /** SHA-256 over every file's relative path, mode bit and content under {@code dir}. */
  public String treeDigest(Path dir) {
    return treeDigests.computeIfAbsent(dir.toAbsolutePath().normalize(), ProjectLayout::digestTree);
  }

  private static String digestTree(Path dir) {
    MessageDigest md = sha256();
    try (Stream<Path> walk = Files.walk(dir)) {
      List<Path> files = walk.filter(Files::isRegularFile).sorted().toList();
      for (Path file : files) {
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
