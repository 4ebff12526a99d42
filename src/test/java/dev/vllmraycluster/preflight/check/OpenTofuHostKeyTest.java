package dev.vllmraycluster.preflight.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.node.KnownHostKeys;
import org.junit.jupiter.api.Test;

/**
 * OpenTofu's SSH client asks for the host's ECDSA key first and checks only the key it was given:
 * preflight fails a node whose checked key is not the one it will be shown.
 */
class OpenTofuHostKeyTest {
  static final String ECDSA = "ecdsa-sha2-nistp256 AAAAE2VjZHNh";
  static final String ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5";

  @Test
  void theShownKeyIsTheCheckedOne() {
    assertNull(SshCheck.openTofuKeyProblem(ECDSA, ECDSA));
    assertNull(SshCheck.openTofuKeyProblem(null, ED), "not measured: nothing to say");
    assertNull(SshCheck.openTofuKeyProblem(ECDSA, KnownHostKeys.UNPINNED), "an unpinned node fails elsewhere");
  }

  @Test
  void failsWhenOpenTofuWillBeShownAnotherType() {
    String why = SshCheck.openTofuKeyProblem(ECDSA, ED);
    assertTrue(why.startsWith("OpenTofu's SSH client will be shown this host's ecdsa-sha2-nistp256 key"), why);
    assertTrue(why.contains("checks the ssh-ed25519 key"), why);
  }

  @Test
  void failsWhenTheSameTypeIsAnotherKey() {
    assertTrue(SshCheck.openTofuKeyProblem(ECDSA, ECDSA + "x").contains("is not the one OpenTofu's connection checks"));
  }

  @Test
  void namesTheKeyscanType() {
    assertEquals("ecdsa", SshCheck.keyFileType("ecdsa-sha2-nistp384"));
    assertEquals("rsa", SshCheck.keyFileType("ssh-rsa"));
    assertEquals("ed25519", SshCheck.keyFileType("ssh-ed25519"));
  }
}
