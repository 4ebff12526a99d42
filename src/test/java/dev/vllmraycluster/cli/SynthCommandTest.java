package dev.vllmraycluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.TestStacks;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The synth command end to end in-process: all stacks or nothing. */
class SynthCommandTest {
  @TempDir Path root;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeEach
  void projectInTempDir() throws IOException {
    // The host modules are read from the project; the stacks from the temp project.
    Files.createDirectories(root.resolve("stacks"));
    Files.createSymbolicLink(root.resolve("modules"), TestStacks.ROOT.resolve("modules"));
    System.setProperty("vrc.root", root.toString());
  }

  @AfterEach
  void restore() throws IOException {
    System.clearProperty("vrc.root");
    Files.deleteIfExists(root.resolve("modules")); // the link only, before JUnit cleans up
  }

  @Test
  void synthesizesOneStackPerFile() throws IOException {
    Files.writeString(root.resolve("stacks/alpha.yaml"), TestStacks.cluster(1, 1, ""));
    Files.writeString(root.resolve("stacks/beta.yaml"), TestStacks.cluster(2, 1, ""));
    Path outdir = root.resolve("out");
    assertEquals(ExitCodes.OK, run("synth", "--outdir", outdir.toString()), text(err));
    assertTrue(Files.isRegularFile(outdir.resolve("stacks/alpha/cdk.tf.json")));
    assertTrue(Files.isRegularFile(outdir.resolve("stacks/beta/cdk.tf.json")));
    assertTrue(text(out).contains("synthesized alpha, beta"), text(out));
  }

  @Test
  void synthesizesTheStacksOfAnotherDirectory() throws IOException {
    Path elsewhere = Files.createDirectories(root.resolve("elsewhere"));
    Files.writeString(elsewhere.resolve("gamma.yaml"), TestStacks.cluster(1, 1, ""));
    Files.writeString(root.resolve("stacks/alpha.yaml"), TestStacks.cluster(1, 1, ""));
    Path outdir = root.resolve("out");
    assertEquals(ExitCodes.OK, run("synth", "--stacks-dir", elsewhere.toString(), "--outdir=" + outdir), text(err));
    assertTrue(Files.isRegularFile(outdir.resolve("stacks/gamma/cdk.tf.json")));
    assertFalse(Files.exists(outdir.resolve("stacks/alpha")), "only the stacks of --stacks-dir");
    assertTrue(text(out).contains("synthesized gamma"), text(out));
    assertEquals(ExitCodes.BAD_INPUT, run("synth", "--stacks-dir=" + root.resolve("none")));
    assertTrue(text(err).contains("error: no stack files in " + root.resolve("none")), text(err));
  }

  @Test
  void failsOnAMalformedStackAndWritesNothing() throws IOException {
    Files.writeString(root.resolve("stacks/good.yaml"), TestStacks.cluster(1, 1, ""));
    Files.writeString(root.resolve("stacks/bad.yaml"), TestStacks.cluster(1, 1, "  tensor_parallel_size: 9\n"));
    Path outdir = root.resolve("out");
    assertEquals(ExitCodes.BAD_INPUT, run("synth", "--outdir", outdir.toString()));
    String message = text(err);
    assertTrue(message.contains("stacks/bad.yaml"), message);
    assertTrue(message.contains("vllm.tensor_parallel_size"), message);
    assertTrue(message.contains("fix:"), message);
    assertTrue(message.contains("nothing was written"), message);
    assertFalse(Files.exists(outdir), "synth wrote " + outdir);
  }

  @Test
  void warningsBecomeCdktfAnnotationsNotStderr() throws IOException {
    // The cdktf CLI shows whatever the app writes to stderr as "[ERROR] default - ...", and
    // annotations of level @cdktf/warn as "WARN [path]: ...".
    Files.writeString(root.resolve("stacks/open.yaml"), TestStacks.cluster(1, 1, "  require_api_key: false\n"));
    Path outdir = root.resolve("out");
    assertEquals(ExitCodes.OK, run("synth", "--outdir", outdir.toString()), text(err));
    assertFalse(text(err).contains("require_api_key"), "a warning on stderr: " + text(err));
    com.fasterxml.jackson.databind.JsonNode annotations =
        TestStacks.JSON.readTree(outdir.resolve("manifest.json").toFile()).at("/stacks/open/annotations");
    List<String> warnings = new java.util.ArrayList<>();
    annotations.forEach(a -> warnings.add(a.get("level").asText() + " " + a.get("constructPath").asText() + " " + a.get("message").asText()));
    assertTrue(warnings.stream().anyMatch(w -> w.startsWith("@cdktf/warn open/cluster vllm.require_api_key: false")), warnings.toString());
    assertTrue(warnings.stream().allMatch(w -> w.startsWith("@cdktf/warn ")), warnings.toString());
    // validate still prints them: it is our own command, not run by the cdktf CLI.
    assertEquals(ExitCodes.OK, run("validate"));
    assertTrue(text(err).contains("warning: stacks/open.yaml: vllm.require_api_key: false"), text(err));
  }

  @Test
  void validateReportsEveryStack() throws IOException {
    Files.writeString(root.resolve("stacks/good.yaml"), TestStacks.cluster(1, 1, ""));
    assertEquals(ExitCodes.OK, run("validate"));
    assertTrue(text(out).contains("ok: good (2 nodes, 2 GPUs"), text(out));
    assertEquals(ExitCodes.BAD_INPUT, run("frobnicate"));
  }

  private int run(String... argv) {
    return Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private static String text(ByteArrayOutputStream s) {
    return s.toString(StandardCharsets.UTF_8);
  }
}
