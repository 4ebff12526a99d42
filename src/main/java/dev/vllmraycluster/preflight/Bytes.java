package dev.vllmraycluster.preflight;

import java.util.Locale;

/** Sizes for people: GiB with one decimal, MiB below one GiB. */
public final class Bytes {
  private Bytes() {}

  public static String human(long bytes) {
    if (bytes < 0) {
      return "unknown";
    }
    if (bytes >= 1L << 30) {
      return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }
    return String.format(Locale.ROOT, "%.0f MiB", bytes / (double) (1L << 20));
  }

  public static String mib(long mib) {
    return human(mib << 20);
  }
}
