package dev.vllmraycluster.spec;

/**
 * One thing wrong with a stack: where (a path such as {@code nodes[1].gpus}), what was found and
 * how to fix it.
 */
public record Problem(String path, String message, String fix) {
  public String render() {
    return path + ": " + message + (fix == null || fix.isEmpty() ? "" : "\n    fix: " + fix);
  }
}
