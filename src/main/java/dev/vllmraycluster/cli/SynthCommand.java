package dev.vllmraycluster.cli;

import com.hashicorp.cdktf.App;
import com.hashicorp.cdktf.AppConfig;
import dev.vllmraycluster.cluster.ClusterStack;
import dev.vllmraycluster.cluster.ClusterStackProps;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.StackLoader;
import dev.vllmraycluster.spec.StackLoader.Loaded;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code synth [--outdir DIR] [--stacks-dir DIR]}: one CDKTF stack per {@code *.yaml} in the
 * stacks directory (default {@code stacks/} of the project), named after the file. Every file is
 * validated first; if any is broken nothing is written.
 */
final class SynthCommand {
  private final PrintStream out;
  private final PrintStream err;

  SynthCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  int run(String[] args) {
    String outdir = null;
    Path stacksDir = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--outdir") && i + 1 < args.length) {
        outdir = args[++i];
      } else if (args[i].equals("--stacks-dir") && i + 1 < args.length) {
        stacksDir = Path.of(args[++i]).toAbsolutePath().normalize();
      } else if (!args[i].equals("--verbose")) {
        err.println("error: synth takes no argument '" + args[i] + "' (options: --outdir DIR, --stacks-dir DIR)");
        return ExitCodes.BAD_INPUT;
      }
    }
    ProjectLayout layout = ProjectLayout.current();
    if (stacksDir == null) {
      stacksDir = layout.root().resolve("stacks");
    }
    List<Path> files = Stacks.inDirectory(stacksDir);
    if (files.isEmpty()) {
      err.println("error: no stack files in " + stacksDir + "; add " + stacksDir + "/<name>.yaml");
      return ExitCodes.BAD_INPUT;
    }
    Map<String, Loaded> stacks = Stacks.loadAll(layout.root(), files, err, false);
    if (stacks == null) {
      err.println("synth stopped: nothing was written. Fix the stack files above and run it again.");
      return ExitCodes.BAD_INPUT;
    }
    Map<String, Path> fileOf = new HashMap<>();
    for (Path file : files) {
      fileOf.put(StackLoader.stackName(file), file);
    }
    // Default: CDKTF_OUTDIR (set by the cdktf CLI), else cdktf.out.
    App app = outdir == null ? new App() : new App(AppConfig.builder().outdir(outdir).build());
    for (Map.Entry<String, Loaded> e : stacks.entrySet()) {
      // The stack file: local_checks runs preflight on it before the deploy touches a host.
      // Warnings reach the cdktf CLI as CDKTF annotations (GpuCluster), not on stderr.
      new ClusterStack(app, e.getKey(), ClusterStackProps.builder().cluster(e.getValue().spec()).layout(layout)
          .stackFile(fileOf.get(e.getKey())).build());
    }
    app.synth();
    out.println("synthesized " + String.join(", ", stacks.keySet()));
    return ExitCodes.OK;
  }
}
