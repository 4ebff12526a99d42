package dev.vllmraycluster.cluster;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.hashicorp.cdktf.App;
import com.hashicorp.cdktf.AppConfig;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.StackLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Construct ids, {@code input}, {@code triggers_replace} and their digests are a contract with
 * every deployed cluster: an unchanged stack must plan "No changes" after an upgrade of this
 * library. This test pins the whole synthesized {@code cdk.tf.json} of {@code stacks/reference.yaml}
 * and of the stacks under {@code src/test/resources/golden/stacks/} (the sandbox's stack, README's
 * minimal one, one with nearly every key set, one with every protection turned off) against the
 * golden files next to them.
 *
 * <p>The project root is a temp directory with stub host modules of fixed content (a {@link
 * ProjectLayout} over its {@code modules/}), so the golden files do not change with every edit of
 * a host script (a script change replaces its steps on purpose; a change in Java must not). The
 * stubs are staged like the jar's modules, as assets named by their digest ({@code
 * assets/vrc-module-<component>/<digest>/}). Paths of the temp root and of the working directory
 * read {@code <root>} and {@code <cwd>}. Run with {@code -Dgolden.update=true} to rewrite the golden
 * files, and explain each difference in the commit that changes them.
 */
class GoldenSynthTest {
  private static final Path GOLDEN = TestStacks.ROOT.resolve("src/test/resources/golden");
  private static final List<String> COMPONENTS =
      List.of("common", "sweep", "bootstrap", "wheel-cache", "firewall", "model-store", "ray", "vllm", "proxy", "watchdog");
  private static final ObjectMapper PRETTY =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @TempDir Path root;

  @ParameterizedTest
  @ValueSource(strings = {"reference", "sandbox", "minimal", "everything", "open"})
  void synthesizedJsonMatchesTheGoldenFile(String stack) throws IOException {
    Path stackFile = projectWith(stack);
    JsonNode actual = synth(stack, stackFile);
    Path golden = GOLDEN.resolve(stack + ".cdk.tf.json");
    if (Boolean.getBoolean("golden.update")) {
      Files.writeString(golden, PRETTY.writeValueAsString(actual) + "\n");
    }
    assertTrue(Files.isRegularFile(golden), "no golden file " + golden + ": run with -Dgolden.update=true");
    JsonNode expected = TestStacks.JSON.readTree(golden.toFile());
    List<String> diffs = new ArrayList<>();
    diff("", expected, actual, diffs);
    if (!diffs.isEmpty()) {
      fail(stack + ": the synthesized JSON differs from " + TestStacks.ROOT.relativize(golden) + " in "
          + diffs.size() + " place(s) (a deployed cluster would be changed by this upgrade):\n  "
          + String.join("\n  ", diffs.subList(0, Math.min(diffs.size(), 25))));
    }
  }

  /**
   * A temp project: stub modules, the fixture model and the stack file. SSH key paths in the
   * golden stacks are fixed paths that need not exist (a missing key is a warning): {@code
   * local_checks} digests them, so they must not depend on where the test runs.
   */
  private Path projectWith(String stack) throws IOException {
    for (String component : COMPONENTS) {
      Path dir = Files.createDirectories(root.resolve("modules").resolve(component));
      Files.writeString(dir.resolve("apply.sh"), "# golden stub of modules/" + component + "\n");
    }
    Path model = Files.createDirectories(root.resolve(".sandbox/model/tiny-llama"));
    Path fixtureModel = TestStacks.ROOT.resolve("src/test/resources/fixtures/sandbox-bookworm/model/tiny-llama");
    try (Stream<Path> files = Files.list(fixtureModel)) {
      for (Path f : files.toList()) {
        Files.copy(f, model.resolve(f.getFileName().toString()));
      }
    }
    Path source = stack.equals("reference")
        ? TestStacks.ROOT.resolve("stacks/reference.yaml")
        : GOLDEN.resolve("stacks/" + stack + ".yaml");
    Path file = Files.createDirectories(root.resolve("stacks")).resolve(stack + ".yaml");
    Files.writeString(file, Files.readString(source).replace("<root>", root.toString()));
    return file;
  }

  private JsonNode synth(String stack, Path stackFile) {
    ProjectLayout layout = new ProjectLayout(root);
    StackLoader.Loaded loaded = new StackLoader(root).load(stackFile);
    Path outdir = root.resolve("out");
    App app = new App(AppConfig.builder().outdir(outdir.toString()).build());
    new ClusterStack(app, stack, ClusterStackProps.builder().cluster(loaded.spec()).layout(layout).secretValues(name -> null).build());
    app.synth();
    try {
      String text = Files.readString(outdir.resolve("stacks").resolve(stack).resolve("cdk.tf.json"));
      return TestStacks.JSON.readTree(
          text.replace(root.toString(), "<root>").replace(TestStacks.ROOT.toString(), "<cwd>"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every JSON pointer where the two trees differ, with both values. */
  private static void diff(String at, JsonNode expected, JsonNode actual, List<String> out) {
    if (expected.isObject() && actual.isObject()) {
      TreeSet<String> keys = new TreeSet<>();
      expected.fieldNames().forEachRemaining(keys::add);
      actual.fieldNames().forEachRemaining(keys::add);
      for (String k : keys) {
        String path = at + "/" + k;
        if (!expected.has(k)) {
          out.add(path + ": added " + actual.get(k));
        } else if (!actual.has(k)) {
          out.add(path + ": removed (was " + expected.get(k) + ")");
        } else {
          diff(path, expected.get(k), actual.get(k), out);
        }
      }
    } else if (expected.isArray() && actual.isArray() && expected.size() == actual.size()) {
      Iterator<JsonNode> e = expected.elements();
      Iterator<JsonNode> a = actual.elements();
      for (int i = 0; e.hasNext(); i++) {
        diff(at + "/" + i, e.next(), a.next(), out);
      }
    } else if (!expected.equals(actual)) {
      out.add(at + ": " + expected + " -> " + actual);
    }
  }
}
