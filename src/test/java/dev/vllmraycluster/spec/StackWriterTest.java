package dev.vllmraycluster.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vllmraycluster.TestStacks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The stack file synth stages for preflight says the same cluster: loading it synthesizes exactly
 * what the original spec does, for every stack file we have and for a spec built in Java.
 */
class StackWriterTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"stacks/reference.yaml", "src/test/resources/golden/stacks/sandbox.yaml",
      "src/test/resources/golden/stacks/minimal.yaml", "src/test/resources/golden/stacks/everything.yaml",
      "src/test/resources/golden/stacks/open.yaml"})
  void aWrittenStackFileLoadsAsTheSameCluster(String file) throws IOException {
    Path model = Files.createDirectories(dir.resolve(".sandbox/model/tiny-llama"));
    Files.writeString(model.resolve("config.json"), "{}");
    String yaml = Files.readString(TestStacks.ROOT.resolve(file)).replace("<root>", dir.toString());
    String name = Path.of(file).getFileName().toString().replace(".yaml", "");
    ClusterSpec spec = TestStacks.load(dir, name, yaml).spec();
    roundTrip(spec);
  }

  @Test
  void aSpecBuiltInJavaWithRelativePathsIsWrittenWithAbsoluteOnes() throws IOException {
    ClusterSpec spec = ClusterSpec.builder()
        .name("java-built")
        .node(ClusterSpec.NodeSpec.builder().name("gpu1").role(ClusterSpec.Role.HEAD).address("10.1.0.1").gpus(2).build())
        .node(ClusterSpec.NodeSpec.builder().name("gpu2").address("10.1.0.2").gpus(2).sshPrivateKeyPath("keys/id").build())
        .model(ClusterSpec.ModelSpec.huggingFace("Qwen/Qwen2.5-7B-Instruct").build())
        .build();
    String yaml = StackWriter.yaml(spec, dir);
    assertTrue(yaml.contains("ssh_private_key_path: " + dir.resolve("keys/id")), yaml);
    roundTrip(spec.withPathsResolvedAgainst(dir));
  }

  private void roundTrip(ClusterSpec spec) throws IOException {
    String written = StackWriter.yaml(spec, dir);
    Path staged = Files.createDirectories(dir.resolve("staged")).resolve(spec.name() + ".yaml");
    Files.writeString(staged, written);
    StackLoader.Loaded again = new StackLoader(dir).load(staged);
    assertEquals(written, StackWriter.yaml(again.spec(), dir), "writing the loaded file again changes it");
    JsonNode expected = TestStacks.synth(spec);
    JsonNode actual = TestStacks.synth(again.spec());
    assertEquals(expected, actual, "the staged stack file synthesizes another cluster:\n" + written);
    assertEquals(SpecValidator.check(spec), again.warnings(), "the same risks are flagged");
  }
}
