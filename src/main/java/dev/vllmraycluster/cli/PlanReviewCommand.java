package dev.vllmraycluster.cli;

import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.review.Plan;
import dev.vllmraycluster.review.PlanParser;
import dev.vllmraycluster.review.PlanReview;
import dev.vllmraycluster.review.Risk;
import dev.vllmraycluster.review.TofuPlans;
import dev.vllmraycluster.spec.StackLoader;
import dev.vllmraycluster.spec.StackLoader.Loaded;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code plan-review <plan.json | planfile | -> [--stack stacks/x.yaml] [--out review.md]
 * [--chdir DIR]}: a Markdown review of a saved plan for a pull request. Reads the JSON of {@code
 * tofu show -json <planfile>}, or runs that itself when given the plan file (in {@code --chdir},
 * default the plan file's directory, which must be initialized).
 */
final class PlanReviewCommand {
  private final PrintStream out;
  private final PrintStream err;

  PlanReviewCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  static String usage() {
    return "  plan-review PLAN [--stack FILE] [--out FILE] [--chdir DIR]\n"
        + "                        Markdown review of a plan: PLAN is the JSON of `tofu show -json <planfile>`,\n"
        + "                        the plan file itself (then tofu show runs in --chdir, default its directory), or -";
  }

  int run(String[] args) {
    String input = null;
    String stack = null;
    String outFile = null;
    String chdir = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--stack", "--out", "--chdir" -> {
          if (i + 1 >= args.length) {
            return usageError(a + " needs a value");
          }
          String v = args[++i];
          if (a.equals("--stack")) {
            stack = v;
          } else if (a.equals("--out")) {
            outFile = v;
          } else {
            chdir = v;
          }
        }
        case "--verbose" -> { }
        default -> {
          if (a.startsWith("--") || input != null) {
            return usageError("unexpected argument '" + a + "'");
          }
          input = a;
        }
      }
    }
    if (input == null) {
      return usageError("no plan given");
    }

    ProjectLayout layout = ProjectLayout.current();
    String stackName = null;
    List<String> warnings = List.of();
    if (stack != null) {
      Map<String, Loaded> loaded = Stacks.loadAll(layout.root(), List.of(Path.of(stack)), err);
      if (loaded == null) {
        return ExitCodes.BAD_INPUT;
      }
      stackName = StackLoader.stackName(Path.of(stack));
      warnings = loaded.get(stackName).warnings();
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

  private int usageError(String message) {
    err.println("error: " + message + "\nusage:\n" + usage());
    return ExitCodes.BAD_INPUT;
  }
}
