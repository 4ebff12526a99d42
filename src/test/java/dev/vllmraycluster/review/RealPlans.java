package dev.vllmraycluster.review;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hashicorp.cdktf.App;
import com.hashicorp.cdktf.AppConfig;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.cluster.ClusterStack;
import dev.vllmraycluster.cluster.ClusterStackProps;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.tofu.Tofu;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Real plans from real OpenTofu for the review tests, without any host.
 *
 * <p>How the state of "a cluster that is already deployed" is made: the FIRST stack is
 * synthesized as usual, and a copy of its cdk.tf.json with every {@code provisioner} block removed
 * is applied by real OpenTofu ({@code tofu apply}; a terraform_data without provisioners needs no
 * host). That state holds exactly the resources, inputs and triggers a real deploy records:
 * provisioners are not part of the state. The SECOND stack's real, unmodified cdk.tf.json is then
 * planned against that state ({@code tofu plan -out}, {@code tofu show -json}), as CI does against
 * a deployed cluster's state.
 */
final class RealPlans {
  private final Path dir;
  private final Path state;
  private int synths;

  RealPlans(Path dir) {
    this.dir = dir;
    this.state = dir.resolve("state/terraform.tfstate");
  }

  /**
   * Synthesizes a stack through a real CDKTF App, with no secret set (as in CI), and initializes
   * it against this state.
   */
  Path synth(ClusterSpec spec) {
    return synth(spec, Map.of());
  }

  /** The same, with {@code secrets} as the environment synth reads the secrets from. */
  Path synth(ClusterSpec spec, Map<String, String> secrets) {
    App app = new App(AppConfig.builder().outdir(dir.resolve("synth" + (++synths)).toString()).build());
    new ClusterStack(app, spec.name(),
        ClusterStackProps.builder().cluster(spec).layout(TestStacks.layout()).secretValues(secrets::get).build());
    app.synth();
    Path stackDir = Path.of(app.getOutdir()).resolve("stacks").resolve(spec.name());
    init(stackDir);
    return stackDir;
  }

  /** Applies the stack with its provisioners stripped: the state a deploy would leave. */
  void applyWithoutProvisioners(Path stackDir) {
    Path copy = dir.resolve("applied" + synths);
    try {
      Files.createDirectories(copy);
      ObjectNode json = (ObjectNode) TestStacks.JSON.readTree(stackDir.resolve("cdk.tf.json").toFile());
      Iterator<JsonNode> types = json.path("resource").elements();
      while (types.hasNext()) {
        Iterator<JsonNode> resources = types.next().elements();
        while (resources.hasNext()) {
          ((ObjectNode) resources.next()).remove("provisioner");
        }
      }
      TestStacks.JSON.writeValue(copy.resolve("cdk.tf.json").toFile(), json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    init(copy);
    Tofu.ok(copy, Map.of(), "apply", "-input=false", "-no-color", "-auto-approve");
  }

  /** {@code tofu plan -out} then {@code tofu show -json}: the plan's JSON. */
  String planJson(Path stackDir, Map<String, String> env, String... extra) {
    List<String> args = new ArrayList<>(List.of("plan", "-input=false", "-no-color", "-out=plan.bin"));
    args.addAll(List.of(extra));
    Tofu.ok(stackDir, env, args.toArray(String[]::new));
    return Tofu.ok(stackDir, env, "show", "-json", "plan.bin");
  }

  /** The first stack applied, the second planned against it; the review of that plan. */
  PlanReview review(ClusterSpec first, ClusterSpec second, String... extra) {
    applyWithoutProvisioners(synth(first));
    return new PlanReview(PlanParser.parse(planJson(synth(second), Map.of(), extra)), second.name(), List.of());
  }

  private void init(Path stackDir) {
    Tofu.ok(stackDir, Map.of(), "init", "-input=false", "-no-color", "-reconfigure", "-backend-config=path=" + state);
  }
}
