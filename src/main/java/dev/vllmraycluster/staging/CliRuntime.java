package dev.vllmraycluster.staging;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The command line's runtime (this library and the jars it runs with), staged beside a stack so
 * that {@code local_checks} runs {@code preflight} with nothing but Java 17 on the deploy
 * machine: not a checkout's {@code bin/vllm-ray-cluster}, not a Maven repository, not the path
 * the app was built in. The output can move to another directory or machine and still run it.
 *
 * <p>The build lists the runtime's artifacts by name ({@code cli-runtime.txt}, written by Maven's
 * dependency plugin); synth finds each on the classpath it runs with (whatever version the app
 * resolved), plus this library's own jar or classes directory. A required one that is missing
 * stops synth with its name; the optional ones (SLF4J's providers, which a library user picks) are
 * staged when present.
 */
public final class CliRuntime {
  /** The staged asset's id: {@code assets/vrc-cli/<digest>/}. */
  public static final String ASSET_ID = "vrc-cli";
  /** The CLI's entry point. */
  public static final String MAIN_CLASS = "dev.vllmraycluster.cli.Main";
  private static final String LIST_DIR = "/dev/vllmraycluster/staging/";
  /** {@code name-1.2.3.jar}: the artifact name ends before the first "-digit". */
  private static final Pattern ARTIFACT = Pattern.compile("(.+?)(-\\d.*)?\\.jar");

  private static volatile CliRuntime current;

  /**
   * The staged folder's name ({@code assets/vrc-cli/runtime/}): fixed, so that the command in
   * {@code cdk.tf.json} does not change with every build of a dependency (synth replaces the
   * folder's content on every run, as CDKTF does with every asset).
   */
  static final String FOLDER = "runtime";

  private final Path directory;

  private CliRuntime(Path directory) {
    this.directory = directory;
  }

  /** The runtime of this JVM, assembled once (a directory of links to its jars). */
  public static CliRuntime current() {
    CliRuntime r = current;
    if (r == null) {
      synchronized (CliRuntime.class) {
        if (current == null) {
          current = assemble();
        }
        r = current;
      }
    }
    return r;
  }

  /**
   * Stages the runtime in the stack of {@code scope} (once per stack); the path of its directory
   * relative to the stack's directory. It holds {@code lib/*.jar} and, when this library runs from
   * a classes directory (its own tests), {@code classes/}.
   */
  public String stage(software.constructs.Construct scope) {
    return Staging.asset(scope, ASSET_ID, directory, FOLDER);
  }

  /** The {@code java -cp} value for a runtime staged at {@code stagedPath}. */
  public static String classpath(String stagedPath) {
    return stagedPath + "/lib/*:" + stagedPath + "/classes";
  }

  private static CliRuntime assemble() {
    Map<String, Path> onClasspath = classpathJars();
    List<Path> jars = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (String name : listed("cli-runtime.txt")) {
      Path jar = onClasspath.get(name);
      if (jar == null) {
        missing.add(name);
      } else {
        jars.add(jar);
      }
    }
    for (String name : listed("cli-runtime-optional.txt")) {
      Path jar = onClasspath.get(name);
      if (jar != null) {
        jars.add(jar);
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException("cannot stage the vllm-ray-cluster command line for local_checks: "
          + String.join(", ", missing) + " not found on the classpath synth runs with; run synth with the"
          + " library's runtime dependencies on the classpath (mvn exec:java, or java -cp with all of them)");
    }
    Path own = ownLocation();
    try {
      Path dir = Files.createTempDirectory("vrc-cli-");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> Staging.deleteQuietly(dir)));
      Path lib = Files.createDirectories(dir.resolve("lib"));
      List<Path> all = new ArrayList<>(jars);
      if (Files.isRegularFile(own)) {
        all.add(own);
      }
      for (Path jar : all) {
        // Links: synth copies what they point to into the stack's output.
        Files.createSymbolicLink(lib.resolve(jar.getFileName()), jar);
      }
      if (Files.isDirectory(own)) {
        Files.createSymbolicLink(dir.resolve("classes"), own);
      }
      return new CliRuntime(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot assemble the command line's runtime for local_checks", e);
    }
  }

  /** Artifact names the build listed ({@code lib/name.jar:lib/other.jar}). */
  private static List<String> listed(String resource) {
    try (InputStream in = CliRuntime.class.getResourceAsStream(LIST_DIR + resource)) {
      if (in == null) {
        throw new IllegalStateException("the library's runtime list " + resource
            + " is missing from the classpath: build it with mvn package");
      }
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
      List<String> names = new ArrayList<>();
      for (String entry : text.isEmpty() ? new String[0] : text.split(":")) {
        String file = entry.substring(entry.lastIndexOf('/') + 1);
        names.add(artifactName(file));
      }
      return names;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every jar on the classpath this class was loaded with, by artifact name. */
  static Map<String, Path> classpathJars() {
    Map<String, Path> jars = new LinkedHashMap<>();
    try {
      ClassLoader loader = CliRuntime.class.getClassLoader();
      for (URL url : Collections.list(loader.getResources("META-INF/MANIFEST.MF"))) {
        Path jar = jarOf(url);
        if (jar != null) {
          jars.putIfAbsent(artifactName(jar.getFileName().toString()), jar);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the classpath", e);
    }
    for (String entry : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
      if (entry.endsWith(".jar") && Files.isRegularFile(Path.of(entry))) {
        Path jar = Path.of(entry).toAbsolutePath();
        jars.putIfAbsent(artifactName(jar.getFileName().toString()), jar);
      }
    }
    return jars;
  }

  /** {@code jar:file:/x/y.jar!/META-INF/MANIFEST.MF} → {@code /x/y.jar}; null for anything else. */
  private static Path jarOf(URL url) {
    if (!"jar".equals(url.getProtocol())) {
      return null;
    }
    String spec = url.getPath();
    int bang = spec.indexOf("!/");
    if (bang < 0 || !spec.startsWith("file:")) {
      return null;
    }
    try {
      return Path.of(new URL(spec.substring(0, bang)).toURI());
    } catch (IOException | URISyntaxException | IllegalArgumentException e) {
      return null;
    }
  }

  static String artifactName(String fileName) {
    Matcher m = ARTIFACT.matcher(fileName);
    return m.matches() ? m.group(1) : fileName;
  }

  /** This library's jar, or its classes directory. */
  private static Path ownLocation() {
    CodeSource source = CliRuntime.class.getProtectionDomain().getCodeSource();
    try {
      return Path.of(source.getLocation().toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("cannot tell where the vllm-ray-cluster library was loaded from", e);
    }
  }
}
