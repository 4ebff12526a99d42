package dev.vllmraycluster.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code modules/firewall} against real firewalld, ufw and nftables hosts, probed from outside
 * ({@code sandbox/firewall-lab/lab.sh}: its own bridge and throwaway containers): every backend
 * value on each host, each row of the matrix read from the results file the lab writes. A
 * listener in {@code vrc.slice} on a port no rule names shows the ownership rule in each backend.
 */
@Tag("e2e")
class FirewallLabTest {
  static final Path LAB = Sandbox.ROOT.resolve("sandbox/firewall-lab/lab.sh");
  static final Path RESULTS = Sandbox.ROOT.resolve(".sandbox/firewall-lab/results.tsv");

  @Test
  void everyBackendKeepsOutsidersOutAndLeavesTheHostAsItWas() throws IOException {
    Sandbox.assertRoot();
    Sandbox.step("sandbox prepare (the lab overlays the sandbox's rootfs)");
    Sandbox.run(Duration.ofMinutes(15), "sandbox/sandbox", "prepare").ok("sandbox prepare");
    try {
      Sandbox.step("firewall lab: up");
      Sandbox.run(Duration.ofMinutes(15), Map.of(), true, LAB.toString(), "up").ok("lab.sh up");
      Files.deleteIfExists(RESULTS);
      Sandbox.step("firewall lab: run (every backend value on each host)");
      Sandbox.run(Duration.ofMinutes(30), Map.of(), true, LAB.toString(), "run").ok("lab.sh run");
      List<String[]> rows = new ArrayList<>();
      for (String line : Files.readAllLines(RESULTS)) {
        if (!line.isBlank() && !line.startsWith("host\t")) {
          rows.add(line.split("\t", -1));
        }
      }
      assertEquals(8, rows.size(), "one row per case: " + rows.size());
      for (String[] r : rows) {
        String c = r[0] + "/" + r[1];
        assertFalse(r[2].contains("WANTED"), c + ": chose " + r[2]);
        assertEquals("0/0", r[3], c + ": apply exit codes");
        assertEquals("yes", r[4], c + ": a second apply changes nothing");
        assertEquals("0", r[5], c + ": check");
        assertEquals("ok", r[6], c + ": the outsider reaches nothing of ours (" + r[6] + ")");
        assertEquals("ok", r[7], c + ": an API client reaches the API only (" + r[7] + ")");
        assertEquals("ok", r[8], c + ": a cluster peer reaches everything (" + r[8] + ")");
        assertEquals("7777=open", r[9], c + ": a reply to the host's own connection passes");
        assertEquals("yes", r[10], c + ": the SSH session survived the apply");
        assertEquals("0/0", r[11], c + ": remove exit codes");
        assertEquals("yes", r[12], c + ": after remove the host is as before");
      }
      assertTrue(rows.stream().anyMatch(r -> r[2].startsWith("firewalld")), "a firewalld host was tested");
      assertTrue(rows.stream().anyMatch(r -> r[2].startsWith("ufw")), "a ufw host was tested");
    } finally {
      Sandbox.step("firewall lab: down");
      Sandbox.run(Duration.ofMinutes(5), Map.of(), true, LAB.toString(), "down").ok("lab.sh down");
    }
  }
}
