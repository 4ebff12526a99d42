package dev.vllmraycluster.preflight.parse;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,driver_version
 * --format=csv,noheader,nounits}: one line per GPU, memory in MiB.
 */
public final class GpuQuery {
  /** The fields asked for, in this order. */
  public static final String FIELDS = "index,uuid,name,memory.total,memory.used,driver_version";

  public static final String COMMAND =
      "nvidia-smi --query-gpu=" + FIELDS + " --format=csv,noheader,nounits";

  private GpuQuery() {}

  /** One GPU. {@code memoryTotalMiB}/{@code memoryUsedMiB} are -1 when nvidia-smi says N/A. */
  public record Gpu(int index, String uuid, String name, long memoryTotalMiB, long memoryUsedMiB, String driver) {
    public long memoryFreeMiB() {
      return memoryTotalMiB < 0 || memoryUsedMiB < 0 ? -1 : memoryTotalMiB - memoryUsedMiB;
    }
  }

  public static List<Gpu> parse(String output) {
    List<Gpu> gpus = new ArrayList<>();
    for (String line : output.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      String[] f = line.split(",");
      if (f.length != 6) {
        throw new ParseException("nvidia-smi --query-gpu: expected 6 fields (" + FIELDS + "), got: " + line.strip());
      }
      gpus.add(new Gpu(
          Parse.integer(f[0], "GPU index"),
          f[1].strip(),
          f[2].strip(),
          Parse.mib(f[3]),
          Parse.mib(f[4]),
          f[5].strip()));
    }
    return gpus;
  }
}
