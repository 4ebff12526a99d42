package dev.vllmraycluster.spec;

import java.util.List;
import java.util.stream.Collectors;

/** A stack that cannot be used, with every problem found in it. */
public final class SpecException extends RuntimeException {
  private final String source;
  private final List<Problem> problems;

  public SpecException(String source, List<Problem> problems) {
    super(render(source, problems));
    this.source = source;
    this.problems = List.copyOf(problems);
  }

  public String source() {
    return source;
  }

  public List<Problem> problems() {
    return problems;
  }

  private static String render(String source, List<Problem> problems) {
    return source
        + ": "
        + problems.size()
        + (problems.size() == 1 ? " problem" : " problems")
        + "\n"
        + problems.stream().map(p -> "  " + p.render()).collect(Collectors.joining("\n"));
  }
}
