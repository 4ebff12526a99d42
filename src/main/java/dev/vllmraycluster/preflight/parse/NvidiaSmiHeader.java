package dev.vllmraycluster.preflight.parse;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The banner of plain {@code nvidia-smi}: driver version and the CUDA version it supports. */
public final class NvidiaSmiHeader {
  private static final Pattern DRIVER = Pattern.compile("Driver Version:\\s*([0-9][0-9.]*)");
  private static final Pattern CUDA = Pattern.compile("CUDA Version:\\s*([0-9][0-9.]*)");

  private NvidiaSmiHeader() {}

  /** {@code cuda} is null when the banner does not show it. */
  public record Versions(String driver, String cuda) {
    /** The CUDA major version, or -1 when unknown. */
    public int cudaMajor() {
      if (cuda == null) {
        return -1;
      }
      return Integer.parseInt(cuda.split("\\.")[0]);
    }
  }

  public static Versions parse(String output) {
    Matcher d = DRIVER.matcher(output);
    Matcher c = CUDA.matcher(output);
    if (!d.find()) {
      throw new ParseException("nvidia-smi: no 'Driver Version:' in its banner");
    }
    return new Versions(d.group(1), c.find() ? c.group(1) : null);
  }
}
