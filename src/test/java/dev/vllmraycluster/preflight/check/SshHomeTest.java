package dev.vllmraycluster.preflight.check;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.ssh.CommandResult;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A non-root SSH user's home must be private: OpenTofu writes its 0777 scripts there. */
class SshHomeTest {
  static CommandResult home(String stat) {
    return new CommandResult(0, "/home/ops\n" + stat + "\n", "", false, Duration.ZERO);
  }

  @Test
  void privateHomesPass() {
    assertNull(SshCheck.homeProblem(home("700 ops ops"), "ops"));
    assertNull(SshCheck.homeProblem(home("750 ops ops"), "ops"), "Ubuntu's 0750 with the user's own group");
  }

  @Test
  void failsOnAHomeOthersCanEnterOrWrite() {
    assertTrue(SshCheck.homeProblem(home("755 ops ops"), "ops").contains("can be entered by other users (mode 755"));
    assertTrue(SshCheck.homeProblem(home("750 ops staff"), "ops").contains("group staff"));
    assertTrue(SshCheck.homeProblem(home("770 ops ops"), "ops").contains("writable by others"));
    assertTrue(SshCheck.homeProblem(home("700 root root"), "ops").contains("belongs to root, not ops"));
  }

  @Test
  void failsWhenTheModeCannotBeRead() {
    CommandResult failed = new CommandResult(1, "", "stat: cannot stat", false, Duration.ZERO);
    assertTrue(SshCheck.homeProblem(failed, "ops").startsWith("cannot read the mode of the home directory"));
  }
}
