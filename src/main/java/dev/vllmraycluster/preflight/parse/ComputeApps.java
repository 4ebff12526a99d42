package dev.vllmraycluster.preflight.parse;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code nvidia-smi --query-compute-apps=pid,process_name,used_memory,gpu_uuid
 * --format=csv,noheader,nounits}: the processes holding GPU memory. Empty output: none.
 */
public final class ComputeApps {
  public static final String COMMAND =
      "nvidia-smi --query-compute-apps=pid,process_name,used_memory,gpu_uuid --format=csv,noheader,nounits";

  private ComputeApps() {}

  public record App(int pid, String processName, long usedMiB, String gpuUuid) {}

  public static List<App> parse(String output) {
    List<App> apps = new ArrayList<>();
    for (String line : output.split("\n")) {
      if (line.isBlank() || line.contains("No running processes")) {
        continue;
      }
      // The name may contain commas: pid is first, memory and uuid are last.
      int first = line.indexOf(',');
      int last = line.lastIndexOf(',');
      int beforeLast = first < 0 ? -1 : line.lastIndexOf(',', last - 1);
      if (first < 0 || beforeLast <= first) {
        throw new ParseException("nvidia-smi --query-compute-apps: expected pid, name, memory, uuid, got: " + line.strip());
      }
      apps.add(new App(
          Parse.integer(line.substring(0, first), "pid"),
          line.substring(first + 1, beforeLast).strip(),
          Parse.mib(line.substring(beforeLast + 1, last)),
          line.substring(last + 1).strip()));
    }
    return apps;
  }
}
