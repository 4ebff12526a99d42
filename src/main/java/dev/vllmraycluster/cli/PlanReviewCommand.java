package dev.vllmraycluster.cli;

import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.review.Plan;
import dev.vllmraycluster.review.PlanParser;
import dev.vllmraycluster.review.PlanReview;
import dev.vllmraycluster.review.Risk;
import dev.vllmraycluster.review.TofuPlans;
import dev.vllmraycluster.spec.StackLoader;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.StackLoader.Loaded;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code plan-review PLAN [--stack FILE] [--out FILE] [--chdir DIR]}: a Markdown review of a saved
 * plan for a pull request. Reads the JSON of {@code tofu show -json <planfile>}, or runs that
 * itself when given the plan file (in {@code --chdir}, default the plan file's directory, which
 * must be initialized).
 */
@Command(
    name = "plan-review",
    description = {
      "Write a Markdown review of a saved plan for a pull request: what is replaced on each node and why,"
          + " the ports exposed before and after, the parallelism, the risks. Never prints a variable's value."
    })
final class PlanReviewCommand implements Callable<Integer> {
  private final Io io;

  @Parameters(
      index = "0",
      paramLabel = "PLAN",
      description = "The JSON of `tofu show -json <planfile>`, the plan file itself (then tofu show runs in"
          + " --chdir), or - for the JSON on standard input.")
  String input;

  @Option(names = "--stack", paramLabel = "FILE", description = "The stack file of the plan: its name and warnings"
      + " go into the review.")
  String stack;

  @Option(names = "--out", paramLabel = "FILE", description = "Write the review here (default: standard output).")
  String outFile;

  @Option(names = "--chdir", paramLabel = "DIR", description = "Where tofu show runs for a plan file (default: the"
      + " plan file's directory, which must be initialized).")
  String chdir;

  PlanReviewCommand(Io io) {
    this.io = io;
  }

  @Override
  public Integer call() {
    PrintStream out = io.out();
    PrintStream err = io.err();
    ProjectLayout layout = ProjectLayout.current();
    String stackName = null;
    List<String> warnings = List.of();
    ClusterSpec spec = null;
    if (stack != null) {
      Loaded loaded = Stacks.loadOne(Path.of(stack), err, true);
      if (loaded == null) {
        return ExitCodes.BAD_INPUT;
      }
      stackName = StackLoader.stackName(Path.of(stack));
      warnings = loaded.warnings();
      spec = loaded.spec();
    }

    String json;
    try {
      json = readPlanJson(input, chdir, layout.root());
    } catch (IOException e) {
      err.println("error: cannot read " + input + ": " + e.getMessage());
      return ExitCodes.BAD_INPUT;
    } catch (TofuPlans.TofuException e) {
      err.println("error: " + e.getMessage());
      return ExitCodes.FAILED;
    }

    Plan plan;
    try {
      plan = PlanParser.parse(json);
    } catch (PlanParser.NotAPlanException e) {
      err.println("error: " + input + ": " + e.getMessage());
      return ExitCodes.BAD_INPUT;
    }
    PlanReview review = new PlanReview(plan, stackName, warnings);
    if (spec != null) {
      review.leavingNodes(spec.removedNodes().stream().map(NodeSpec::name).collect(Collectors.toSet()),
          Set.copyOf(spec.forgottenNodes()));
      review.layoutBudget(dev.vllmraycluster.parallel.PlanText.budget(spec));
    }
    String markdown = review.markdown();
    if (outFile == null) {
      out.print(markdown);
    } else {
      try {
        Path target = Path.of(outFile);
        if (target.toAbsolutePath().getParent() != null) {
          Files.createDirectories(target.toAbsolutePath().getParent());
        }
        Files.writeString(target, markdown);
      } catch (IOException e) {
        err.println("error: cannot write " + outFile + ": " + e.getMessage());
        return ExitCodes.FAILED;
      }
    }
    List<Risk> risks = review.risks();
    long high = risks.stream().filter(r -> r.level() == Risk.Level.HIGH).count();
    err.println("plan-review" + (stackName == null ? "" : " " + stackName) + ": " + review.summary() + "; "
        + risks.size() + " risk(s), " + high + " high" + (outFile == null ? "" : " -> " + outFile));
    return ExitCodes.OK;
  }

  /** The plan's JSON: the file itself, stdin, or tofu show -json of a binary plan file. */
  private static String readPlanJson(String input, String chdir, Path root) throws IOException {
    byte[] bytes;
    if (input.equals("-")) {
      try (InputStream in = System.in) {
        bytes = in.readAllBytes();
      }
    } else {
      bytes = Files.readAllBytes(Path.of(input));
    }
    boolean zip = bytes.length >= 2 && bytes[0] == 'P' && bytes[1] == 'K';
    if (!zip) {
      return new String(bytes, StandardCharsets.UTF_8);
    }
    if (input.equals("-")) {
      throw new IOException("a binary plan file cannot come on stdin: give its path, or pipe tofu show -json");
    }
    Path planFile = Path.of(input).toAbsolutePath();
    Path dir = chdir != null ? Path.of(chdir) : planFile.getParent();
    return TofuPlans.showJson(TofuPlans.binary(root), dir, planFile, Map.of());
  }
}
