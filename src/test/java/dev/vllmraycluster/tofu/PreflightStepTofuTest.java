package dev.vllmraycluster.tofu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hashicorp.cdktf.App;
import com.hashicorp.cdktf.AppConfig;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.cluster.ClusterStack;
import dev.vllmraycluster.cluster.ClusterStackProps;
import dev.vllmraycluster.spec.ClusterSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local_checks step with preflight, as synthesized from a stack file, is valid OpenTofu. */
@Tag("tofu")
class PreflightStepTofuTest {
  @TempDir Path dir;

  @Test
  void localChecksWithPreflightValidatesAndPlans() throws IOException {
    ClusterSpec spec = TestStacks.load(dir, "pf", TestStacks.cluster(1, 1, "")).spec();
    App app = new App(AppConfig.builder().outdir(dir.resolve("cdktf.out").toString()).build());
    new ClusterStack(app, spec.name(), ClusterStackProps.builder().cluster(spec).layout(TestStacks.layout()).build());
    app.synth();
    Path stackDir = Path.of(app.getOutdir()).resolve("stacks").resolve(spec.name());
    Tofu.ok(stackDir, Map.of(), "init", "-input=false", "-no-color", "-backend-config=path=" + dir.resolve("state"));
    Tofu.ok(stackDir, Map.of(), "validate", "-no-color");
    String plan = Tofu.ok(stackDir, Map.of(), "plan", "-input=false", "-lock=false", "-no-color");
    assertTrue(plan.contains("terraform_data.local_checks will be created"), plan);
  }
}
