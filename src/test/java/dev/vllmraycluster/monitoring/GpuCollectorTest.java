package dev.vllmraycluster.monitoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.preflight.Fixtures;
import dev.vllmraycluster.preflight.parse.GpuQuery;
import dev.vllmraycluster.status.PromText;
import dev.vllmraycluster.status.PromText.Sample;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU textfile collector ({@code modules/metrics/gpu_metrics.py}, run with this machine's
 * python3 as the nodes run it with the venv's) on the real 2 × H200 capture of {@code nvidia-smi
 * -q -x}, cross-checked with what preflight's parser reads from the same host's {@code
 * --query-gpu} capture: the same GPUs, in the same order, with the same memory.
 */
class GpuCollectorTest {
  static final Path COLLECTOR = TestStacks.ROOT.resolve("modules/metrics/gpu_metrics.py");

  @TempDir Path tmp;

  record Run(int exitCode, String stdout) {}

  Run collect(String xml, String xidLog) throws IOException, InterruptedException {
    Path x = tmp.resolve("q.xml");
    Files.writeString(x, xml);
    List<String> cmd = new ArrayList<>(List.of("python3", "-I", COLLECTOR.toString(), "--xml", x.toString()));
    if (xidLog != null) {
      Path l = tmp.resolve("xid.log");
      Files.writeString(l, xidLog);
      cmd.addAll(List.of("--xid-log", l.toString()));
    }
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the collector did not finish");
    return new Run(p.exitValue(), out);
  }

  static double value(List<Sample> samples, String name, Map<String, String> labels) {
    List<Sample> hits = samples.stream().filter(s -> s.name().equals(name)
        && labels.entrySet().stream().allMatch(e -> e.getValue().equals(s.labels().get(e.getKey())))).toList();
    assertEquals(1, hits.size(), name + labels + " in " + samples.stream().filter(s -> s.name().equals(name)).toList());
    return hits.get(0).value();
  }

  @Test
  void readsTheRealH200CaptureAsPreflightDoes() throws Exception {
    Run run = collect(Fixtures.output("gpu-host-h200x2/nvidia-smi-q-x.xml.txt"), null);
    assertEquals(0, run.exitCode(), run.stdout());
    List<Sample> s = PromText.parse(run.stdout());
    assertEquals(2, value(s, "vrc_gpu_count", Map.of()));
    assertEquals(1, value(s, "vrc_gpu_collector_success", Map.of()));
    // Preflight's parser on the same host's --query-gpu capture: same order, UUIDs, names, memory.
    List<GpuQuery.Gpu> gpus = GpuQuery.parse(Fixtures.output("gpu-host-h200x2/query-gpu.noheader-nounits.txt"));
    assertEquals(2, gpus.size());
    for (GpuQuery.Gpu g : gpus) {
      Map<String, String> ids = Map.of("gpu", String.valueOf(g.index()), "uuid", g.uuid(), "name", g.name());
      assertEquals(g.memoryTotalMiB() * 1024 * 1024, value(s, "vrc_gpu_memory_total_bytes", ids), "memory total of GPU " + g.index());
      assertEquals(g.memoryUsedMiB() * 1024 * 1024, value(s, "vrc_gpu_memory_used_bytes", ids), "memory used of GPU " + g.index());
      assertEquals(1, value(s, "vrc_gpu_info", Map.of("gpu", String.valueOf(g.index()), "uuid", g.uuid(), "driver", g.driver())));
    }
    Map<String, String> gpu0 = Map.of("gpu", "0");
    Map<String, String> gpu1 = Map.of("gpu", "1");
    // What the XML says for each GPU (its <utilization>, <temperature>, <gpu_power_readings>, ...).
    assertEquals(0.0, value(s, "vrc_gpu_utilization_ratio", gpu0));
    assertEquals(33, value(s, "vrc_gpu_temperature_celsius", gpu0));
    assertEquals(35, value(s, "vrc_gpu_temperature_celsius", gpu1));
    assertEquals(36, value(s, "vrc_gpu_memory_temperature_celsius", gpu0));
    assertEquals(77.72, value(s, "vrc_gpu_power_draw_watts", gpu0));
    assertEquals(77.02, value(s, "vrc_gpu_power_draw_watts", gpu1));
    assertEquals(700, value(s, "vrc_gpu_power_limit_watts", gpu1));
    assertEquals(616 * 1024 * 1024, value(s, "vrc_gpu_memory_reserved_bytes", gpu0));
    assertEquals(1, value(s, "vrc_gpu_ecc_enabled", gpu0));
    for (String counter : List.of("volatile", "aggregate")) {
      for (String severity : List.of("corrected", "uncorrected")) {
        assertEquals(0, value(s, "vrc_gpu_ecc_errors", Map.of("gpu", "1", "counter", counter, "type", severity)));
      }
    }
    assertEquals(0, value(s, "vrc_gpu_remapped_rows", Map.of("gpu", "0", "kind", "uncorrectable")));
    assertEquals(0, value(s, "vrc_gpu_remapped_rows_pending", gpu0));
    assertEquals(0, value(s, "vrc_gpu_remapped_rows_failure", gpu1));
    // Retired pages are N/A on Hopper (row remapping instead): left out, never written as 0.
    assertTrue(s.stream().noneMatch(x -> x.name().equals("vrc_gpu_retired_pages")), "N/A values are left out");
    assertTrue(s.stream().noneMatch(x -> x.name().equals("vrc_gpu_xid_errors")), "no Xid lines, no Xid series");
  }

  @Test
  void countsXidLinesPerGpuAndXid() throws Exception {
    // The driver's kernel log format (NVIDIA's Xid documentation), written here: no real capture.
    String log = """
        Nov 28 09:20:01 gpu kernel: NVRM: Xid (PCI:0000:00:07): 79, pid=1234, name=python3, GPU has fallen off the bus.
        Nov 28 09:21:11 gpu kernel: NVRM: Xid (PCI:0000:00:07): 79, pid=1234, name=python3, GPU has fallen off the bus.
        Nov 28 09:22:00 gpu kernel: NVRM: Xid (PCI:0000:00:06): 48, pid=694, name=python3, An uncorrectable double bit error
        Nov 28 09:22:01 gpu kernel: nvidia-nvlink: something else
        """;
    List<Sample> s = PromText.parse(collect(Fixtures.output("gpu-host-h200x2/nvidia-smi-q-x.xml.txt"), log).stdout());
    assertEquals(2, value(s, "vrc_gpu_xid_errors", Map.of("gpu", "1", "xid", "79", "uuid", "GPU-61d9fe91-cef1-a5d8-d21e-c3feef8dfdfa")));
    assertEquals(1, value(s, "vrc_gpu_xid_errors", Map.of("gpu", "0", "xid", "48")));
  }

  @Test
  void reportsFailureWhenNvidiaSmiPrintsWhatItCannotRead() throws Exception {
    Run run = collect("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", null);
    assertEquals(1, run.exitCode());
    assertEquals(0, value(PromText.parse(run.stdout()), "vrc_gpu_collector_success", Map.of()));
  }
}
