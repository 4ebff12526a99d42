import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Build step (pom.xml, generate-resources; run as a single-file program by the JDK): copies every
 * host module {@code modules/<component>/} into the jar's resources under {@code
 * dev/vllmraycluster/modules/<component>/} and writes {@code dev/vllmraycluster/modules/index},
 * one line per file, {@code x} or {@code -} (executable or not), a space and {@code
 * <component>/<relative path>}. A jar entry carries no mode, so the index is where the library
 * reads each file's mode bit from: it is part of the digest that drives {@code triggers_replace}.
 *
 * <p>The file set is the one the library digested from a checkout before: every regular file
 * under each directory of {@code modules/} (files directly in {@code modules/}, such as {@code
 * .shellcheckrc}, belong to no component and are left out).
 *
 * <p>Usage: {@code java tools/build/ModuleBundle.java MODULES_DIR OUTPUT_DIR}
 */
public class ModuleBundle {
  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: java ModuleBundle.java MODULES_DIR OUTPUT_DIR");
      System.exit(2);
    }
    Path modules = Path.of(args[0]).toAbsolutePath().normalize();
    Path out = Path.of(args[1]).toAbsolutePath().normalize();
    deleteTree(out);
    Files.createDirectories(out);
    List<String> index = new ArrayList<>();
    List<Path> components;
    try (Stream<Path> list = Files.list(modules)) {
      components = list.filter(Files::isDirectory).sorted().toList();
    }
    for (Path component : components) {
      List<Path> files;
      try (Stream<Path> walk = Files.walk(component)) {
        files = walk.filter(Files::isRegularFile).sorted().toList();
      }
      for (Path file : files) {
        String name = modules.relativize(file).toString();
        if (name.contains("\n") || name.contains("\r")) {
          throw new IOException("a host module file name with a line break: " + file);
        }
        Path target = out.resolve(name);
        Files.createDirectories(target.getParent());
        Files.copy(file, target);
        index.add((Files.isExecutable(file) ? "x " : "- ") + name);
      }
    }
    Files.write(out.resolve("index"), index, StandardCharsets.UTF_8);
    System.out.println("[module-bundle] " + index.size() + " files of " + components.size()
        + " host modules -> " + out);
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
