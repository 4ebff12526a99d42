package dev.vllmraycluster.staging;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The host-side units ({@code modules/<component>/}: apply.sh, check.sh, remove.sh, unit
 * templates) a step uploads to its node, and the digest that ties a step to exactly those bytes.
 *
 * <p>{@link #bundled()} reads them from this library's jar, where the build put them with an index
 * of each file's mode bit; {@link #directory(Path)} reads a {@code modules/} directory (a checkout,
 * or a test's stub modules). Either way the digest of a component is the same function of the
 * same files: SHA-256 over every file's relative path, whether it is executable, and its content,
 * in path order. So a cluster deployed from a checkout plans "No changes" when deployed from the
 * jar built from that checkout.
 *
 * <p>Synth stages a component into the stack's output directory as a CDKTF asset ({@link
 * Staging#module}), so that {@code cdk.tf.json} names it by a path relative to itself.
 */
public abstract class HostModules {
  /** Where the build puts the modules inside the jar (tools/build/ModuleBundle.java). */
  static final String RESOURCE_DIR = "/dev/vllmraycluster/modules/";

  private static volatile HostModules bundled;

  private final Map<String, String> digests = new ConcurrentHashMap<>();

  HostModules() {}

  /** The modules shipped inside this library's jar. */
  public static HostModules bundled() {
    HostModules b = bundled;
    if (b == null) {
      synchronized (HostModules.class) {
        if (bundled == null) {
          bundled = new Bundled();
        }
        b = bundled;
      }
    }
    return b;
  }

  /** The modules of a {@code modules/} directory: one sub-directory per component. */
  public static HostModules directory(Path modulesDir) {
    return new Directory(modulesDir.toAbsolutePath().normalize());
  }

  /** One file of a component: its path inside the component, whether it is executable, its bytes. */
  public record ModuleFile(String path, boolean executable, byte[] content) {}

  /**
   * Every file of {@code component}, in path order.
   *
   * @throws IllegalArgumentException when there is no such component
   */
  public abstract List<ModuleFile> files(String component);

  /**
   * A directory on this machine holding exactly {@link #files} with their mode bits, for synth to
   * copy into the stack's output (it exists while this JVM runs).
   */
  public abstract Path directoryOf(String component);

  /** Where the modules come from, for messages. */
  public abstract String describe();

  /** The component's digest (hex SHA-256; see the class comment). */
  public String digest(String component) {
    return digests.computeIfAbsent(component, c -> digest(files(c)));
  }

  static String digest(List<ModuleFile> files) {
    MessageDigest md = sha256();
    for (ModuleFile file : files) {
      md.update(file.path().getBytes(StandardCharsets.UTF_8));
      md.update((byte) (file.executable() ? 1 : 0));
      md.update(file.content());
      md.update((byte) 0);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static IllegalArgumentException noComponent(String component, String where) {
    return new IllegalArgumentException("no host module '" + component + "' in " + where);
  }

  /** A {@code modules/} directory on this machine. */
  private static final class Directory extends HostModules {
    private final Path root;

    Directory(Path root) {
      this.root = root;
    }

    @Override
    public List<ModuleFile> files(String component) {
      Path dir = directoryOf(component);
      List<ModuleFile> out = new ArrayList<>();
      try (Stream<Path> walk = Files.walk(dir)) {
        // The order a checkout's digest always had: paths compared as the file system names them.
        for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
          out.add(new ModuleFile(dir.relativize(file).toString(), Files.isExecutable(file), Files.readAllBytes(file)));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + dir, e);
      }
      return out;
    }

    @Override
    public Path directoryOf(String component) {
      Path dir = root.resolve(component);
      if (!Files.isDirectory(dir)) {
        throw noComponent(component, root.toString());
      }
      return dir;
    }

    @Override
    public String describe() {
      return root.toString();
    }
  }

  /**
   * The jar's modules: the index lists every file with its mode bit; each component is written
   * once into a private temp directory (deleted when the JVM exits) for synth to copy from.
   */
  private static final class Bundled extends HostModules {
    private final Map<String, List<ModuleFile>> components;
    private final Map<String, Path> extracted = new ConcurrentHashMap<>();
    private volatile Path tempRoot;

    Bundled() {
      this.components = read();
    }

    private static Map<String, List<ModuleFile>> read() {
      Map<String, List<ModuleFile>> byComponent = new LinkedHashMap<>();
      String index = resourceText(RESOURCE_DIR + "index");
      for (String line : index.split("\n")) {
        if (line.isBlank()) {
          continue;
        }
        if (line.length() < 3 || line.charAt(1) != ' ' || "x-".indexOf(line.charAt(0)) < 0 || !line.substring(2).contains("/")) {
          throw new IllegalStateException("the jar's host module index has a bad line: " + line);
        }
        String name = line.substring(2);
        int slash = name.indexOf('/');
        byte[] content = resourceBytes(RESOURCE_DIR + name);
        byComponent.computeIfAbsent(name.substring(0, slash), c -> new ArrayList<>())
            .add(new ModuleFile(name.substring(slash + 1), line.charAt(0) == 'x', content));
      }
      // Sorted as the file system's paths are (the build wrote them so; kept explicit here).
      byComponent.values().forEach(files -> files.sort((a, b) -> Path.of(a.path()).compareTo(Path.of(b.path()))));
      return byComponent;
    }

    @Override
    public List<ModuleFile> files(String component) {
      List<ModuleFile> files = components.get(component);
      if (files == null) {
        throw noComponent(component, describe() + " (it has: " + String.join(", ", components.keySet()) + ")");
      }
      return files;
    }

    @Override
    public Path directoryOf(String component) {
      List<ModuleFile> files = files(component);
      return extracted.computeIfAbsent(component, c -> extract(c, files));
    }

    private Path extract(String component, List<ModuleFile> files) {
      try {
        Path dir = Files.createDirectories(tempRoot().resolve(component));
        for (ModuleFile file : files) {
          Path target = dir.resolve(file.path());
          Files.createDirectories(target.getParent());
          Files.write(target, file.content());
          Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(file.executable() ? "rwxr-xr-x" : "rw-r--r--"));
        }
        return dir;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write the host module " + component + " for synth", e);
      }
    }

    private synchronized Path tempRoot() throws IOException {
      if (tempRoot == null) {
        tempRoot = Files.createTempDirectory("vrc-modules-");
        Path root = tempRoot;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> Staging.deleteQuietly(root)));
      }
      return tempRoot;
    }

    @Override
    public String describe() {
      return "the vllm-ray-cluster jar (" + RESOURCE_DIR.substring(1) + ")";
    }

    private static String resourceText(String name) {
      return new String(resourceBytes(name), StandardCharsets.UTF_8);
    }

    private static byte[] resourceBytes(String name) {
      try (InputStream in = HostModules.class.getResourceAsStream(name)) {
        if (in == null) {
          throw new IllegalStateException("the host modules are missing from the classpath (" + name.substring(1)
              + "): build the library with mvn package, which bundles modules/ into the jar");
        }
        return in.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + name, e);
      }
    }
  }
}
