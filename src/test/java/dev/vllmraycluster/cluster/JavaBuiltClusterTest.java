package dev.vllmraycluster.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.hashicorp.cdktf.App;
import com.hashicorp.cdktf.AppConfig;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.ModelSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.Role;
import dev.vllmraycluster.spec.SpecException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README's Java example, run: the cluster built with the model's builders synthesizes exactly
 * what README's minimal stack file does, and a bad value fails synth like a stack file would.
 */
class JavaBuiltClusterTest {
  @TempDir Path dir;

  @Test
  void theReadmeExampleSynthesizesWhatTheMinimalStackFileDoes() throws IOException {
    App app = new App(AppConfig.builder().outdir(dir.resolve("java").toString()).build());
    // README:begin
    ClusterSpec spec = ClusterSpec.builder()
        .name("gpu-prod")
        .node(NodeSpec.builder().name("gpu1").role(Role.HEAD).address("10.1.0.1").gpus(2).build())
        .node(NodeSpec.builder().name("gpu2").address("10.1.0.2").gpus(2).build())
        .model(ModelSpec.huggingFace("Qwen/Qwen2.5-7B-Instruct").build())
        .build();
    new ClusterStack(app, spec.name(), ClusterStackProps.builder().cluster(spec).layout(TestStacks.layout()).build());
    // README:end
    app.synth();
    JsonNode fromJava = TestStacks.JSON.readTree(dir.resolve("java/stacks/gpu-prod/cdk.tf.json").toFile());

    String readme = Files.readString(TestStacks.ROOT.resolve("README.md"));
    String yaml = TestStacks.yamlBlocks(readme).get(0);
    ClusterSpec fromFile = TestStacks.load(dir, "gpu-prod", yaml).spec();
    App yamlApp = new App(AppConfig.builder().outdir(dir.resolve("yaml").toString()).build());
    new ClusterStack(yamlApp, "gpu-prod", ClusterStackProps.builder().cluster(fromFile).layout(TestStacks.layout()).build());
    yamlApp.synth();
    JsonNode fromYaml = TestStacks.JSON.readTree(dir.resolve("yaml/stacks/gpu-prod/cdk.tf.json").toFile());
    assertEquals(fromYaml.get("resource"), fromJava.get("resource"));
    assertEquals(fromYaml.get("output"), fromJava.get("output"));

    String snippet = snippet();
    assertTrue(readme.contains(snippet.replace(".layout(TestStacks.layout())", "")),
        "README's Java example is not the code of this test:\n" + snippet);
  }

  @Test
  void failsSynthOnABadValueWithThePathValueAndFix() {
    App app = new App(AppConfig.builder().outdir(dir.toString()).build());
    ClusterSpec spec = ClusterSpec.builder()
        .name("bad")
        .node(NodeSpec.builder().name("gpu1").role(Role.HEAD).address("10.1.0.1").gpus(2).sshUser("ops; touch /tmp/pwned #").build())
        .model(ModelSpec.huggingFace("Qwen/Qwen2.5-7B-Instruct").build())
        .build();
    SpecException e = assertThrows(SpecException.class,
        () -> new ClusterStack(app, spec.name(), ClusterStackProps.builder().cluster(spec).layout(TestStacks.layout()).build()));
    assertEquals("nodes[0].ssh_user: 'ops; touch /tmp/pwned #' is not a user name\n    fix: use e.g. root or ubuntu",
        e.problems().get(0).render());
  }

  /** The lines between the README markers above, as README shows them (indented 4 less). */
  private static String snippet() throws IOException {
    List<String> lines = Files.readAllLines(TestStacks.ROOT.resolve("src/test/java/dev/vllmraycluster/cluster/JavaBuiltClusterTest.java"));
    int begin = lines.indexOf("    // README:begin");
    int end = lines.indexOf("    // README:end");
    return lines.subList(begin + 1, end).stream().map(l -> l.substring(4)).collect(Collectors.joining("\n"));
  }
}
