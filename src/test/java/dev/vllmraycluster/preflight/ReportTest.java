package dev.vllmraycluster.preflight;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReportTest {
  static final Report REPORT = new Report("preflight", "demo", List.of("head", "worker1"), List.of(
      Row.ok("head", "ssh", "root@10.0.0.1:22, host key pinned"),
      Row.fail("head", "gpus", "nvidia-smi not found", "install the NVIDIA driver"),
      Row.warn("worker1", "shm", "/dev/shm 2.4 GiB", "enlarge it"),
      Row.fail("worker1", "ports", "in use: 6379 (ray.gcs_port) by redis-server (pid 9)", "stop it")));

  @Test
  void failsWhileAnyCheckFails() {
    assertTrue(REPORT.failed());
    assertEquals(2, REPORT.count(Status.FAIL));
    assertTrue(REPORT.ignoring(Set.of("gpus")).failed());
  }

  @Test
  void ignoredFailuresBecomeWarningsThatSaySo() {
    Report r = REPORT.ignoring(Set.of("gpus", "ports"));
    assertFalse(r.failed());
    assertEquals(3, r.count(Status.WARN));
    assertEquals("ignored (--ignore): nvidia-smi not found", r.rows().get(1).message());
    assertEquals(List.of("gpus", "ports"), r.ignored());
    assertFalse(REPORT.ignoring(Set.of("all")).failed());
    assertEquals(REPORT, REPORT.ignoring(Set.of()));
  }

  @Test
  void tableHasOneLinePerNodeAndCheckAndTheFixUnderProblems() {
    String table = ReportRenderer.table(REPORT);
    List<String> lines = List.of(table.split("\n"));
    assertEquals("NODE     CHECK  STATUS DETAIL", lines.get(0));
    assertEquals("head     ssh    ok     root@10.0.0.1:22, host key pinned", lines.get(1));
    assertEquals("head     gpus   fail   nvidia-smi not found", lines.get(2));
    assertEquals("                       fix: install the NVIDIA driver", lines.get(3));
    assertEquals("preflight demo: FAILED (2 failed, 1 warnings, 1 ok on 2 nodes)", lines.get(lines.size() - 1));
    assertTrue(ReportRenderer.table(REPORT.ignoring(Set.of("gpus", "ports"))).endsWith(
        "preflight demo: passed (0 failed, 3 warnings, 1 ok on 2 nodes); ignored: gpus,ports\n"));
  }

  @Test
  void longMessagesWrapUnderTheDetailColumn() {
    String word = "abcdefghij ";
    Report r = new Report("verify", "x", List.of("n"), List.of(Row.ok("n", "c", word.repeat(15).strip())));
    List<String> lines = List.of(ReportRenderer.table(r).split("\n"));
    assertTrue(lines.get(1).length() <= 20 + 100, lines.get(1));
    assertTrue(lines.get(2).startsWith(" ".repeat(20) + "abcdefghij"), lines.get(2));
  }

  @Test
  void jsonForCi() throws Exception {
    JsonNode json = new ObjectMapper().readTree(ReportRenderer.json(REPORT));
    assertEquals("preflight", json.get("command").asText());
    assertFalse(json.get("passed").asBoolean());
    assertEquals(2, json.at("/counts/fail").asInt());
    assertEquals(4, json.get("rows").size());
    JsonNode gpus = json.get("rows").get(1);
    assertEquals("head", gpus.get("node").asText());
    assertEquals("gpus", gpus.get("check").asText());
    assertEquals("fail", gpus.get("status").asText());
    assertEquals("install the NVIDIA driver", gpus.get("fix").asText());
    assertTrue(json.get("rows").get(0).get("fix").isNull());
  }
}
