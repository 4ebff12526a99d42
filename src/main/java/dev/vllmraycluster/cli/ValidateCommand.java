package dev.vllmraycluster.cli;

import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.StackLoader.Loaded;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code validate [FILE...]}: checks stack files without synthesizing anything. */
@Command(
    name = "validate",
    description = {
      "Check stack files without synthesizing anything: every error with its path and fix; the risks a"
          + " stack allows (dashboard on 0.0.0.0, API open to 0.0.0.0/0, no API key, ...) as warnings."
    })
final class ValidateCommand implements Callable<Integer> {
  private final Io io;

  @Parameters(
      paramLabel = "FILE",
      arity = "0..*",
      description = "Stack files to check (default: every stacks/*.yaml).")
  List<String> files = new ArrayList<>();

  ValidateCommand(Io io) {
    this.io = io;
  }

  @Override
  public Integer call() {
    ProjectLayout layout = ProjectLayout.current();
    List<Path> paths = Stacks.files(layout.root(), files);
    Map<String, Loaded> stacks = Stacks.loadAll(layout.root(), paths, io.err());
    if (stacks == null) {
      return ExitCodes.BAD_INPUT;
    }
    for (Map.Entry<String, Loaded> e : stacks.entrySet()) {
      ClusterSpec spec = e.getValue().spec();
      io.out().println("ok: " + e.getKey() + " (" + spec.nodes().size() + " nodes, " + spec.totalGpus() + " GPUs, TP "
          + spec.vllm().tensorParallelSize() + " × PP " + spec.vllm().pipelineParallelSize()
          + (spec.vllm().replicas() > 1 ? " × DP " + spec.vllm().replicas() : "") + ")");
    }
    return ExitCodes.OK;
  }
}
