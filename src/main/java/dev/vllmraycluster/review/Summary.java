package dev.vllmraycluster.review;

/** Counts of what the plan does, as the summary line says them. */
public record Summary(int add, int change, int replace, int destroy, int forget) {
  public boolean noChanges() {
    return add + change + replace + destroy + forget == 0;
  }

  @Override
  public String toString() {
    if (noChanges()) {
      return "No changes";
    }
    String s = add + " to add, " + change + " to change, " + replace + " to replace, " + destroy + " to destroy";
    return forget > 0 ? s + ", " + forget + " to forget" : s;
  }
}
