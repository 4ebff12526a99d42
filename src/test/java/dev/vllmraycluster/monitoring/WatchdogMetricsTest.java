package dev.vllmraycluster.monitoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.Python;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.preflight.Fixtures;
import dev.vllmraycluster.status.PromText;
import dev.vllmraycluster.status.PromText.Sample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watchdog's status file as textfile metrics ({@code modules/metrics/watchdog_metrics.py}): the
 * status a real watchdog wrote on a sandbox head (captured by the watchdog's own tests), and a
 * failing one.
 */
class WatchdogMetricsTest {
  static final Path SCRIPT = TestStacks.ROOT.resolve("modules/metrics/watchdog_metrics.py");

  @TempDir Path tmp;

  List<Sample> run(String status) throws Exception {
    Path f = tmp.resolve("watchdog.status");
    Files.writeString(f, status);
    Python.Result r = Python.run(Duration.ofSeconds(30), "-I", SCRIPT.toString(), f.toString());
    assertEquals(0, r.code(), r.output());
    return PromText.parse(r.output());
  }

  static double value(List<Sample> s, String name) {
    List<Sample> hits = s.stream().filter(x -> x.name().equals(name)).toList();
    assertEquals(1, hits.size(), name + " in " + s);
    return hits.get(0).value();
  }

  @Test
  void anAnsweringCanary() throws Exception {
    List<Sample> s = run(Fixtures.output("sandbox-bookworm/watchdog.status.ok.txt"));
    assertEquals(1, value(s, "vrc_watchdog_canary_ok"));
    assertEquals(0.015, value(s, "vrc_watchdog_canary_latency_seconds"));
    assertEquals(0, value(s, "vrc_watchdog_restarts"));
    assertEquals(1796430663L, (long) value(s, "vrc_watchdog_last_probe_timestamp_seconds"));
    assertEquals(5, value(s, "vrc_watchdog_interval_seconds"));
    assertEquals(1, s.stream().filter(x -> x.name().equals("vrc_watchdog_state") && x.labels().get("state").equals("ok"))
        .findFirst().orElseThrow().value());
  }

  @Test
  void aFailingCanaryAfterARestart() throws Exception {
    List<Sample> s = run("""
        STATE=failing
        DETAIL=completion: no answer after 30001 ms: curl: (28) Operation timed out; Ray: 3 node(s) alive of 3, 3 of 3 GPU(s)
        FAILURES=1
        RESTARTS=2
        LAST_PROBE=1796430700
        LAST_OK=1796430600
        LAST_RESTART=1796430650
        LAST_RESTART_REASON=2 failed probes in a row
        INTERVAL_SECONDS=5
        FAILURES_BEFORE_RESTART=2
        """);
    assertEquals(0, value(s, "vrc_watchdog_canary_ok"));
    assertTrue(s.stream().noneMatch(x -> x.name().equals("vrc_watchdog_canary_latency_seconds")), "no latency for a failed canary");
    assertEquals(2, value(s, "vrc_watchdog_restarts"));
    assertEquals(1, value(s, "vrc_watchdog_consecutive_failures"));
    assertEquals(1796430650L, (long) value(s, "vrc_watchdog_last_restart_timestamp_seconds"));
  }
}
