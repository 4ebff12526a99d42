package dev.vllmraycluster.staging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.contract.HostContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The modules shipped in the jar are the checkout's modules/, byte for byte and mode bit for mode
 * bit, so their digests (what triggers_replace holds) are the ones a deploy from the checkout
 * recorded: a deployed cluster plans "No changes" after the move to bundled modules.
 */
class HostModulesTest {
  @TempDir Path dir;

  private static List<String> components() {
    List<String> names = new ArrayList<>(List.of(HostContract.COMMON_MODULE));
    for (HostContract.Component c : HostContract.Component.values()) {
      names.add(c.module());
    }
    return names;
  }

  @Test
  void theBundledModulesAreTheCheckoutsWithTheSameDigests() {
    HostModules checkout = HostModules.directory(TestStacks.ROOT.resolve("modules"));
    for (String component : components()) {
      List<HostModules.ModuleFile> want = checkout.files(component);
      List<HostModules.ModuleFile> got = HostModules.bundled().files(component);
      assertEquals(want.stream().map(f -> f.path() + " " + f.executable()).toList(),
          got.stream().map(f -> f.path() + " " + f.executable()).toList(), component);
      for (int i = 0; i < want.size(); i++) {
        assertTrue(java.util.Arrays.equals(want.get(i).content(), got.get(i).content()), component + "/" + want.get(i).path());
      }
      assertEquals(checkout.digest(component), HostModules.bundled().digest(component), component);
    }
  }

  @Test
  void theExtractedCopyHasTheContentAndModeBitsTheDigestCovers() throws IOException {
    for (String component : components()) {
      Path extracted = HostModules.bundled().directoryOf(component);
      assertEquals(HostModules.bundled().digest(component), HostModules.directory(extracted.getParent()).digest(component),
          component + ": the copy synth stages is not what the digest says");
    }
  }

  @Test
  void aModeBitChangeChangesTheDigestAsItDidBefore() throws IOException {
    Path ray = Files.createDirectories(dir.resolve("modules/ray"));
    Path script = ray.resolve("apply.sh");
    Files.writeString(script, "echo hi\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
    String before = HostModules.directory(dir.resolve("modules")).digest("ray");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    String after = HostModules.directory(dir.resolve("modules")).digest("ray");
    assertNotEquals(before, after);
    // The digest as the checkout's ProjectLayout computed it before modules were bundled.
    assertEquals(legacyTreeDigest(ray), after);
  }

  @Test
  void failsOnAnUnknownComponentNamingWhereItLooked() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HostModules.bundled().files("nope"));
    assertTrue(e.getMessage().contains("no host module 'nope' in the vllm-ray-cluster jar"), e.getMessage());
    assertFalse(e.getMessage().contains(TestStacks.ROOT.toString()), e.getMessage());
  }

  /** ProjectLayout.treeDigest as it was (main before this change), kept here as the reference. */
  private static String legacyTreeDigest(Path dir) throws IOException {
    java.security.MessageDigest md = HostModules.sha256();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
        md.update(dir.relativize(file).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        md.update((byte) (Files.isExecutable(file) ? 1 : 0));
        md.update(Files.readAllBytes(file));
        md.update((byte) 0);
      }
    }
    return java.util.HexFormat.of().formatHex(md.digest());
  }
}
