package dev.vllmraycluster.review;

/**
 * Something a reviewer must look at before approving a plan.
 *
 * @param level how bad it is
 * @param title one line, Markdown
 * @param detail why it matters and what to do, Markdown
 * @param introduced true when this plan brings it in, false when the cluster already has it
 */
public record Risk(Level level, String title, String detail, boolean introduced) {
  public enum Level {
    HIGH("high"),
    WARN("warn");

    private final String label;

    Level(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }
}
