package dev.vllmraycluster.cli;

import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.StackLoader.Loaded;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code validate [FILE...]}: checks stack files without synthesizing anything. */
final class ValidateCommand {
  private final PrintStream out;
  private final PrintStream err;

  ValidateCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  int run(String[] args) {
    ProjectLayout layout = ProjectLayout.current();
    List<String> given = new ArrayList<>();
    for (String a : args) {
      if (!a.startsWith("--")) {
        given.add(a);
      }
    }
    List<Path> files = Stacks.files(layout.root(), given);
    Map<String, Loaded> stacks = Stacks.loadAll(layout.root(), files, err);
    if (stacks == null) {
      return ExitCodes.BAD_INPUT;
    }
    for (Map.Entry<String, Loaded> e : stacks.entrySet()) {
      out.println(
          "ok: " + e.getKey() + " (" + e.getValue().spec().nodes().size() + " nodes, "
              + e.getValue().spec().totalGpus() + " GPUs, TP "
              + e.getValue().spec().vllm().tensorParallelSize() + " × PP "
              + e.getValue().spec().vllm().pipelineParallelSize() + ")");
    }
    return ExitCodes.OK;
  }
}
