package dev.vllmraycluster.cli;

import dev.vllmraycluster.TestStacks;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * preflight and verify from the command line: arguments, exit codes, JSON. The node is this
 * machine's loopback on a closed port, so SSH fails at once: no host is needed.
 */
class CheckCommandsTest {
  @TempDir Path dir;

  static CliRun main(String... args) {
    return CliRun.of(args);
  }

  /**
   * SSH goes to 127.0.0.1:1 (closed). A node's address may not be a loopback address, so it is one
   * of this machine's own: verify's /health from here stays on this machine.
   */
  Path closedPortStack() throws Exception {
    return closedPortStack(dir);
  }

  /** One node on this machine's loopback, port 1, where nothing listens. */
  static Path closedPortStack(Path dir) throws Exception {
    Path file = dir.resolve("loop.yaml");
    Files.writeString(file, """
        nodes:
          - {name: head, role: head, address: %s, ssh_host: 127.0.0.1, ssh_port: 1, gpus: 1,
             ssh_host_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFao4CFUvThOXVZG7HwxhpeByT1O0Qx4iiqvxnZwACXR"}
        ssh: {user: root}
        model: {huggingface_repo: deepseek-ai/deepseek-llm-7b-chat}
        """.formatted(TestStacks.ownAddress()));
    return file;
  }


  @Test
  void failsOnBadArguments() {
    assertEquals(ExitCodes.BAD_INPUT, main("preflight").code());
    CliRun unknown = main("preflight", "stacks/reference.yaml", "--ignore=gpu");
    assertEquals(ExitCodes.BAD_INPUT, unknown.code());
    assertTrue(unknown.err().contains("--ignore: unknown check 'gpu'; the checks are: ssh, os, gpus,"), unknown.err());
    assertEquals(ExitCodes.BAD_INPUT, main("verify", "stacks/reference.yaml", "--fast").code());
    assertEquals(ExitCodes.BAD_INPUT, main("preflight", dir.resolve("absent.yaml").toString()).code());
    assertEquals(ExitCodes.BAD_INPUT, main("preflight", "a.yaml", "b.yaml").code());
    assertEquals(ExitCodes.BAD_INPUT, main("preflight", "stacks/reference.yaml", "--ignore", "gpu").code());
  }

  @Test
  void anUnreachableNodeFailsPreflightWithExitOne() throws Exception {
    CliRun run = main("preflight", closedPortStack().toString(), "--json");
    assertEquals(ExitCodes.FAILED, run.code(), run.err());
    JsonNode json = new ObjectMapper().readTree(run.out());
    assertEquals(false, json.get("passed").asBoolean());
    JsonNode ssh = json.get("rows").get(0);
    assertEquals("ssh", ssh.get("check").asText());
    assertEquals("fail", ssh.get("status").asText());
    assertTrue(ssh.get("message").asText().startsWith("root@127.0.0.1:1: cannot connect to 127.0.0.1:1"), ssh.get("message").asText());
    assertTrue(ssh.get("fix").asText().contains("sshd listens on port 1"), ssh.get("fix").asText());
  }

  @Test
  void ignoringTheFailedCheckPasses() throws Exception {
    CliRun run = main("preflight", closedPortStack().toString(), "--ignore=ssh");
    assertEquals(ExitCodes.OK, run.code(), run.out() + run.err());
    assertTrue(run.out().contains("preflight loop: passed (0 failed, 1 warnings, 0 ok on 1 node); ignored: ssh"), run.out());
  }

  @Test
  void theReportFileHoldsTheJsonReportWhateverTheOutputFormat() throws Exception {
    Path report = dir.resolve("reports/preflight.json");
    CliRun run = main("preflight", closedPortStack().toString(), "--report-file=" + report);
    assertEquals(ExitCodes.FAILED, run.code(), run.out() + run.err());
    assertTrue(run.out().contains("head  ssh"), "the table still goes to stdout:\n" + run.out());
    JsonNode json = new ObjectMapper().readTree(Files.readString(report));
    assertEquals("preflight", json.get("command").asText());
    assertEquals(false, json.get("passed").asBoolean());
    assertEquals("fail", json.get("rows").get(0).get("status").asText());

    CliRun empty = main("verify", closedPortStack().toString(), "--report-file=");
    assertEquals(ExitCodes.FAILED, empty.code(), "an empty --report-file means none");
  }

  @Test
  void verifyReportsTheSameWay() throws Exception {
    CliRun run = main("verify", closedPortStack().toString());
    assertEquals(ExitCodes.FAILED, run.code());
    assertTrue(run.out().contains("head  ssh            fail"), run.out());
    assertTrue(run.out().contains("api-from-here  warn"), run.out());
  }
}
