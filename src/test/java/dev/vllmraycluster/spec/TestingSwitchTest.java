package dev.vllmraycluster.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.TestStacks;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code testing: {logical_gpus: true}}: test hosts without GPUs, flagged by the validator. */
class TestingSwitchTest {
  @TempDir Path dir;

  @Test
  void offByDefault() {
    StackLoader.Loaded loaded = TestStacks.load(dir, "a", TestStacks.cluster(1, 1, ""));
    assertFalse(loaded.spec().testing().logicalGpus());
    assertTrue(loaded.warnings().stream().noneMatch(w -> w.startsWith("testing.")));
  }

  @Test
  void logicalGpusAreAllowedAndFlagged() {
    StackLoader.Loaded loaded = TestStacks.load(dir, "a", TestStacks.cluster(1, 1, "") + "testing: {logical_gpus: true}\n");
    assertTrue(loaded.spec().testing().logicalGpus());
    assertTrue(loaded.warnings().stream().anyMatch(w -> w.startsWith("testing.logical_gpus: true:") && w.contains("for test hosts only")),
        loaded.warnings().toString());
  }

  @Test
  void failsOnAMistypedSwitch() {
    SpecException e = assertThrows(SpecException.class,
        () -> TestStacks.load(dir, "a", TestStacks.cluster(1, 1, "") + "testing: {logical_gpu: true}\n"));
    assertEquals("testing.logical_gpu", e.problems().get(0).path());
    assertTrue(e.problems().get(0).fix().contains("did you mean 'logical_gpus'?"), e.problems().get(0).fix());
  }
}
