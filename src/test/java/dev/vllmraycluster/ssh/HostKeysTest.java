package dev.vllmraycluster.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Host keys are accepted only when pinned or known, and a refusal says why and what to do. */
class HostKeysTest {
  static final SshTarget TARGET = new SshTarget("10.0.0.1", 22, "root", null, null);

  @TempDir Path dir;

  static PublicKey rsa() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    return g.generateKeyPair().getPublic();
  }

  @Test
  void fingerprintLikeSshKeygen() {
    // ssh-keygen -lf of this key printed SHA256:fe+NRx9noEXjaLE6zsu7YZmMC6C7BH90k7Hof1PfdCk.
    byte[] blob = Base64.getDecoder().decode("AAAAC3NzaC1lZDI1NTE5AAAAIFao4CFUvThOXVZG7HwxhpeByT1O0Qx4iiqvxnZwACXR");
    assertEquals("SHA256:fe+NRx9noEXjaLE6zsu7YZmMC6C7BH90k7Hof1PfdCk", HostKeys.fingerprint(blob));
  }

  @Test
  void pinnedKeyAcceptsExactlyThatKey() throws Exception {
    PublicKey key = rsa();
    PublicKey other = rsa();
    HostKeys.Pinned pinned = new HostKeys.Pinned(HostKeys.openSsh(key) + " root@host");
    assertTrue(pinned.verify("10.0.0.1", 22, key));
    assertFalse(pinned.verify("10.0.0.1", 22, other));
    assertTrue(pinned.refusal().startsWith("host key ssh-rsa " + HostKeys.fingerprint(other) + " is not the pinned ssh_host_key"),
        pinned.refusal());
    assertTrue(pinned.fix(TARGET).contains("ssh-keyscan -t rsa -p 22 10.0.0.1"), pinned.fix(TARGET));
    assertEquals(List.of("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"), pinned.findExistingAlgorithms("10.0.0.1", 22));
  }

  @Test
  void knownHostsAcceptKnownAndRefuseUnknownOrChangedKeys() throws Exception {
    PublicKey key = rsa();
    Path file = dir.resolve("known_hosts");
    Files.writeString(file, "10.0.0.1 " + HostKeys.openSsh(key) + "\n[10.0.0.3]:2222 " + HostKeys.openSsh(key) + "\n");
    assertTrue(HostKeys.KnownHosts.load(List.of(file)).verify("10.0.0.1", 22, key));
    assertTrue(HostKeys.KnownHosts.load(List.of(file)).verify("10.0.0.3", 2222, key));

    HostKeys.KnownHosts unknown = HostKeys.KnownHosts.load(List.of(file));
    assertFalse(unknown.verify("10.0.0.2", 22, key));
    assertTrue(unknown.refusal().contains("is unknown: not pinned in the stack and not in " + file), unknown.refusal());
    assertTrue(unknown.fix(TARGET).startsWith("pin the key in the stack: nodes[].ssh_host_key"), unknown.fix(TARGET));

    HostKeys.KnownHosts changed = HostKeys.KnownHosts.load(List.of(file));
    assertFalse(changed.verify("10.0.0.1", 22, rsa()));
    assertTrue(changed.refusal().contains("differs from the one recorded"), changed.refusal());
    assertTrue(changed.fix(TARGET).contains("ssh-keygen -R 10.0.0.1"), changed.fix(TARGET));

    HostKeys.KnownHosts none = HostKeys.KnownHosts.load(List.of(dir.resolve("absent")));
    assertFalse(none.verify("10.0.0.1", 22, key));
    assertTrue(none.refusal().contains("there is none"), none.refusal());
  }
}
