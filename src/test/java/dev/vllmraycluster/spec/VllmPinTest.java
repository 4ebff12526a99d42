package dev.vllmraycluster.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.TestStacks;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** software.vllm_version and vllm.extra_args against the pinned release's real option list. */
class VllmPinTest {
  @TempDir Path dir;

  @Test
  void anExtraFlagUnknownToThePinnedReleaseFailsWithASuggestion() {
    SpecException e = fails(TestStacks.cluster(1, 1, "  extra_args: [--max-num-sqs, '64']\n"));
    Problem p = e.problems().get(0);
    assertEquals("vllm.extra_args[0]", p.path());
    assertTrue(p.message().contains("not an option of vLLM 0.33.0"), p.render());
    assertEquals("did you mean --max-num-seqs?", p.fix());
  }

  @Test
  void extraFlagsAreReadAsVllmReadsThem() {
    StackLoader.Loaded ok = TestStacks.load(dir, "ok", TestStacks.cluster(1, 1,
        "  extra_args: [--max_num_seqs=64, --enable-prefix-caching, --compilation-config.mode, '3', --kv-cache-dtype, fp8]\n"));
    assertEquals(6, ok.spec().vllm().extraArgs().size());
  }

  /** Managed options and the key are refused however vLLM would spell them (issue 9.10). */
  @ParameterizedTest
  @ValueSource(strings = {"--tensor_parallel_size=16", "--tensor-parallel=16", "-tp", "--api_key=secret", "--api-key",
      "--device-memory-utilization", "--config", "--served_model_name", "--port=1"})
  void managedOptionsAreRefusedInAnySpelling(String flag) {
    SpecException e = fails(TestStacks.cluster(1, 1, "  extra_args: ['" + flag + "', x]\n"));
    assertEquals("vllm.extra_args[0]", e.problems().get(0).path(), e.getMessage());
    assertTrue(e.problems().get(0).message().contains("set by this tool"), e.getMessage());
  }

  @Test
  void aPinInsideAPublishedRceRangeIsRefused() {
    SpecException e = fails(TestStacks.cluster(1, 1, "") + "software: {vllm_version: 0.9.2}\n");
    Problem p = e.problems().get(0);
    assertEquals("software.vllm_version", p.path());
    assertTrue(p.message().contains("CVE-2026-22778"), p.render());
    assertTrue(p.fix().contains("0.33.0"), p.render());
  }

  @Test
  void aSupportedPinWithoutAFlagListIsFlaggedAndItsExtraArgsPass() {
    StackLoader.Loaded loaded = TestStacks.load(dir, "mid", TestStacks.cluster(1, 1, "  extra_args: [--some-new-flag]\n")
        + "software: {vllm_version: 0.25.0}\n");
    assertTrue(loaded.warnings().stream().anyMatch(w -> w.contains("no flag list for vLLM 0.25.0")), loaded.warnings().toString());
    // ...but a managed option is still refused by its spelling.
    SpecException e = fails(TestStacks.cluster(1, 1, "  extra_args: [--tensor_parallel=4]\n") + "software: {vllm_version: 0.25.0}\n");
    assertTrue(e.problems().get(0).message().contains("--tensor-parallel-size"), e.getMessage());
  }

  @Test
  void theOlderShippedListChecksOlderPins() {
    // A typo is found against 0.18.0's own list too (a unique prefix would be accepted, as argparse does).
    SpecException e = fails(TestStacks.cluster(1, 1, "  extra_args: [--max-num-seqs, '8', --enable-prefx-caching]\n")
        + "software: {vllm_version: 0.18.0}\n");
    assertEquals(List.of("vllm.extra_args[2]"), e.problems().stream().map(Problem::path).toList(), e.getMessage());
  }

  private SpecException fails(String yaml) {
    return assertThrows(SpecException.class, () -> TestStacks.load(dir, "broken", yaml));
  }
}
