package dev.vllmraycluster.vllm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The option lists read from real wheels, and vLLM's way of reading a command line. */
class VllmFlagsTest {
  private final VllmFlags v033 = VllmFlags.forVersion("0.33.0").orElseThrow();

  @Test
  void everyShippedFixtureLoadsAndKnowsItsPositionalModel() {
    for (String version : VllmFlags.FIXTURE_VERSIONS) {
      VllmFlags flags = VllmFlags.forVersion(version).orElseThrow();
      assertTrue(flags.options().size() > 200, version + ": " + flags.options().size() + " options");
      assertTrue(flags.known("--tensor-parallel-size") && flags.known("--data-parallel-size"), version);
      // vllm serve MODEL: the model is the positional argument.
      assertEquals(List.of(), flags.check(List.of("/srv/m", "--port", "9001"), true), version);
    }
    assertEquals(320, v033.options().size(), "0.33.0 has 320 argparse actions (checked against the real parser)");
  }

  @Test
  void aBuildOfAReleaseReadsThatReleasesList() {
    assertEquals("0.33.0", VllmFlags.forVersion("0.33.0+standin").orElseThrow().version());
    assertEquals("0.33.0", VllmFlags.forVersion("0.33.0+cu128").orElseThrow().version());
    assertTrue(VllmFlags.forVersion("0.25.0").isEmpty(), "no list for 0.25.0 ships");
  }

  /** The test the brief asks for: every flag the constructs generate is an option of the pinned release. */
  @Test
  void everyGeneratedFlagIsInTheFixtureOfThePinnedVersion() {
    for (String version : VllmFlags.FIXTURE_VERSIONS) {
      VllmFlags flags = VllmFlags.forVersion(version).orElseThrow();
      for (String flag : HostContract.VllmFlags.GENERATED) {
        assertTrue(flags.known(flag), "vLLM " + version + " lacks " + flag);
        assertEquals(flag, flags.canonical(flag).orElseThrow(), "the canonical spelling");
      }
    }
    // The whole argument list of real stacks, as vllm serve reads it (positional model first).
    for (String yaml : List.of(TestStacks.cluster(2, 2, "  max_model_len: 4096\n  dtype: bfloat16\n  extra_args: [--max-num-seqs, '64', --enforce-eager]\n"))) {
      ClusterSpec spec = TestStacks.load(java.nio.file.Path.of(System.getProperty("java.io.tmpdir")), "gen", yaml).spec();
      VllmFlags pinned = VllmFlags.forVersion(spec.software().vllmVersion()).orElseThrow();
      List<String> args = VllmService.args(spec);
      assertEquals(List.of(), pinned.check(args, true), String.join(" ", args));
      assertTrue(args.stream().filter(a -> a.startsWith("--")).allMatch(pinned::known));
    }
    ClusterSpec reference = TestStacks.loadReference().spec();
    assertEquals(List.of(), VllmFlags.forVersion(reference.software().vllmVersion()).orElseThrow().check(VllmService.args(reference), true));
  }

  @ParameterizedTest
  @CsvSource({
      "--max_num_seqs, --max-num-seqs",                 // _ → - as vLLM's parser does
      "--max-num-seqs=64, --max-num-seqs",               // --flag=value
      "--tensor-parallel, --tensor-parallel-size",       // argparse's unique-prefix abbreviation
      "--tensor_parallel=16, --tensor-parallel-size",
      "-tp, --tensor-parallel-size",                     // short alias
      "--compilation-config.mode, --compilation-config", // one key of a JSON option
      "--compilation_config.cudagraph_mode=FULL, --compilation-config",
      "-O3, --optimization-level",
      "--no-enable-prefix-caching, --enable-prefix-caching",
      "--disable-prefix-caching, --enable-prefix-caching", // vLLM's enable/disable pairs
      "--device-memory-utilization, --gpu-memory-utilization"})
  void readsTokensAsVllmsParserDoes(String token, String canonical) {
    assertEquals(canonical, v033.canonical(token).orElseThrow(() -> new AssertionError(token + ": " + v033.resolve(token))));
  }

  @Test
  void unknownTokensComeWithSuggestionsAndAbbreviationsMustBeUnique() {
    VllmFlags.Unknown u = assertInstanceOf(VllmFlags.Unknown.class, v033.resolve("--max-num-seq-s"));
    assertTrue(u.suggestions().contains("--max-num-seqs"), u.toString());
    u = assertInstanceOf(VllmFlags.Unknown.class, v033.resolve("--gpu-memory-utilisation"));
    assertEquals("--gpu-memory-utilization", u.suggestions().get(0), u.toString());
    VllmFlags.Ambiguous a = assertInstanceOf(VllmFlags.Ambiguous.class, v033.resolve("--enable-p"));
    assertTrue(a.candidates().size() > 1, a.toString());
    assertInstanceOf(VllmFlags.Invalid.class, v033.resolve("--enforce-eager=true"), "a flag without a value");
    // Releases differ: 0.18.0 has no --device-memory-utilization alias, 0.34.0 adds options 0.33.0 lacks.
    assertFalse(VllmFlags.forVersion("0.18.0").orElseThrow().known("--device-memory-utilization"));
    assertTrue(VllmFlags.forVersion("0.34.0").orElseThrow().known("--checkpoint-prepare-on-startup"));
    assertFalse(v033.known("--checkpoint-prepare-on-startup"));
  }

  @Test
  void checksValuesAndStrayTokensOfAnArgumentList() {
    List<VllmFlags.Finding> f = v033.check(List.of("--max-num-seqs", "64", "--foo-bar", "x", "--seed", "-1", "--enforce-eager", "oops", "--max-model-len"), false);
    assertEquals(List.of(2, 3, 7, 8), f.stream().map(VllmFlags.Finding::index).toList(), f.toString());
    assertTrue(f.get(0).message().contains("not an option of vLLM 0.33.0"), f.toString());
    assertTrue(f.get(3).message().contains("needs a value"), f.toString());
    assertEquals(List.of(), v033.check(List.of("--served-model-name", "a", "b", "--api-server-count", "1"), false), "nargs + then another option");
  }

  @ParameterizedTest
  @ValueSource(strings = {"--served-model-name", "--host", "--port", "--tensor-parallel-size", "--pipeline-parallel-size",
      "--distributed-executor-backend", "--gpu-memory-utilization", "--max-model-len", "--dtype", "--api-key", "--config"})
  void everyManagedOptionExistsIn033(String flag) {
    assertTrue(v033.known(flag), flag);
    assertTrue(HostContract.MANAGED_VLLM_FLAGS.stream().anyMatch(m -> m.flag().equals(flag)), flag);
  }

  @Test
  void eachListKeepsItsReleasesRequiresPython() {
    VllmFlags.PythonRange r033 = v033.python().orElseThrow();
    assertEquals("<3.15,>=3.11", r033.spec());
    assertTrue(r033.allows(11) && r033.allows(14));
    assertFalse(r033.allows(10) || r033.allows(15));
    VllmFlags.PythonRange r018 = VllmFlags.forVersion("0.18.0").orElseThrow().python().orElseThrow();
    assertTrue(r018.allows(10) && r018.allows(13) && !r018.allows(14));
  }

  @Test
  void levenshtein() {
    assertEquals(0, VllmFlags.distance("abc", "abc"));
    assertEquals(1, VllmFlags.distance("abc", "abd"));
    assertEquals(3, VllmFlags.distance("", "abc"));
  }
}
