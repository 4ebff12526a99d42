package dev.vllmraycluster.cli;

import com.hashicorp.cdktf.App;
import com.hashicorp.cdktf.AppConfig;
import dev.vllmraycluster.cluster.ClusterStack;
import dev.vllmraycluster.cluster.ClusterStackProps;
import dev.vllmraycluster.cluster.DeployedNodes;
import dev.vllmraycluster.cluster.DeployEnvironment;
import dev.vllmraycluster.cluster.SecretRotation;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.Problem;
import dev.vllmraycluster.spec.SpecException;
import dev.vllmraycluster.spec.StackLoader;
import dev.vllmraycluster.spec.StackLoader.Loaded;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code synth [--outdir DIR] [--stacks-dir DIR]}: one CDKTF stack per {@code *.yaml} in the
 * stacks directory (default {@code stacks/} of the project), named after the file. Every file is
 * validated first; if any is broken nothing is written.
 */
@Command(
    name = "synth",
    description = {
      "Synthesize one CDKTF stack per stacks/NAME.yaml (or DIR/NAME.yaml with --stacks-dir), named NAME"
          + " (cdktf.json runs this for cdktf synth, diff and deploy).",
      "Every file is validated first: if any is broken, nothing is written."
    })
final class SynthCommand implements Callable<Integer> {
  private final Io io;

  @Option(
      names = "--outdir",
      paramLabel = "DIR",
      description = "Where to write the synthesized stacks (default: CDKTF_OUTDIR, which the cdktf CLI sets,"
          + " else cdktf.out).")
  String outdir;

  @Option(
      names = "--stacks-dir",
      paramLabel = "DIR",
      description = "Where the stack files are: one stack per *.yaml in DIR (default: stacks/ of the project).")
  Path stacksDir;

  SynthCommand(Io io) {
    this.io = io;
  }

  @Override
  public Integer call() {
    ProjectLayout layout = ProjectLayout.current();
    Path dir = stacksDir == null ? layout.root().resolve("stacks") : stacksDir.toAbsolutePath().normalize();
    List<Path> files = Stacks.inDirectory(dir);
    if (files.isEmpty()) {
      io.err().println("error: no stack files in " + dir + "; add " + dir + "/<name>.yaml");
      return ExitCodes.BAD_INPUT;
    }
    Map<String, Loaded> stacks = Stacks.loadAll(layout.root(), files, io.err(), false);
    if (stacks == null) {
      io.err().println("synth stopped: nothing was written. Fix the stack files above and run it again.");
      return ExitCodes.BAD_INPUT;
    }
    // A secret set in the deploy's environment must be long enough to fingerprint (SecretRotation).
    DeployEnvironment secrets = DeployEnvironment.current();
    boolean weak = false;
    for (Map.Entry<String, Loaded> e : stacks.entrySet()) {
      for (String problem : SecretRotation.problems(e.getValue().spec(), secrets)) {
        io.err().println("error: stack " + e.getKey() + ": " + problem);
        weak = true;
      }
    }
    if (weak) {
      io.err().println("synth stopped: nothing was written. Set the secrets above to longer values and run it again.");
      return ExitCodes.BAD_INPUT;
    }
    Map<String, Path> fileOf = new HashMap<>();
    for (Path file : files) {
      fileOf.put(StackLoader.stackName(file), file);
    }
    if (!leftNodesAccountedFor(stacks, fileOf, layout.root())) {
      io.err().println("synth stopped: nothing was written. Fix the stack files above and run it again.");
      return ExitCodes.BAD_INPUT;
    }
    App app = outdir == null ? new App() : new App(AppConfig.builder().outdir(outdir).build());
    for (Map.Entry<String, Loaded> e : stacks.entrySet()) {
      // local_checks runs preflight before the deploy touches a host (ClusterStack stages it).
      // Warnings reach the cdktf CLI as CDKTF annotations (GpuCluster), not on stderr.
      new ClusterStack(app, e.getKey(), ClusterStackProps.builder().cluster(e.getValue().spec()).layout(layout)
          .secretValues(secrets).build());
    }
    app.synth();
    io.out().println("synthesized " + String.join(", ", stacks.keySet()));
    return ExitCodes.OK;
  }

  /**
   * Every node a stack's local state holds parts of is in its nodes, removed_nodes or
   * forgotten_nodes (the state is where cdktf keeps it: the working directory, or state.path).
   */
  private boolean leftNodesAccountedFor(Map<String, Loaded> stacks, Map<String, Path> fileOf, Path root) {
    boolean ok = true;
    Path here = Path.of("").toAbsolutePath();
    for (Map.Entry<String, Loaded> e : stacks.entrySet()) {
      Path state = DeployedNodes.localStateFile(e.getValue().spec(), here);
      if (state == null || !Files.isRegularFile(state)) {
        continue;
      }
      Set<String> deployed;
      try {
        deployed = DeployedNodes.inState(state);
      } catch (IOException | RuntimeException ex) {
        io.err().println("warning: " + state + " is not a state this tool can read (" + ex.getMessage()
            + "): nodes removed from the stack are not checked against it");
        continue;
      }
      Problem problem = DeployedNodes.unaccounted(e.getValue().spec(), deployed, state);
      if (problem != null) {
        Path file = fileOf.get(e.getKey());
        io.err().println("error: " + new SpecException(file.startsWith(root) ? root.relativize(file).toString() : file.toString(),
            List.of(problem)).getMessage());
        ok = false;
      }
    }
    return ok;
  }
}
