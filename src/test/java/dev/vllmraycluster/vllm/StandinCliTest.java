package dev.vllmraycluster.vllm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.Python;
import dev.vllmraycluster.TestStacks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The test-only vLLM stand-in (sandbox/vllm-standin) reads its options from the same fixture as
 * the validator, accepts every one of them and refuses anything else like argparse (exit 2). Runs
 * its command-line parsing only (no Ray needed); the serving side is tested on sandbox hosts.
 */
class StandinCliTest {
  static final Path STANDIN = TestStacks.ROOT.resolve("sandbox/vllm-standin");
  static final Path FIXTURE = TestStacks.ROOT.resolve("src/main/resources/dev/vllmraycluster/vllm/flags/vllm-0.33.0.flags");

  @Test
  void theStandinsOptionListIsTheFixtureOfItsRelease() throws Exception {
    assertEquals(Files.readString(FIXTURE), Files.readString(STANDIN.resolve("src/vllm/standin/vllm-serve.flags")),
        "sandbox/vllm-standin/src/vllm/standin/vllm-serve.flags must be a copy of the 0.33.0 fixture");
    String pyproject = Files.readString(STANDIN.resolve("pyproject.toml"));
    assertTrue(pyproject.contains("version = \"0.33.0+standin\""), pyproject);
    assertTrue(pyproject.contains("vllm = \"vllm.entrypoints.cli.main:main\""), "the vllm console script");
  }

  @Test
  void acceptsEveryOptionOf033AndRefusesOthersWithExitTwo() throws Exception {
    String script = """
        import sys
        from vllm.standin import args as cli
        positionals, actions, _ = cli.read_flags()
        parser = cli.build_parser()
        n = 0
        for arity, opts in actions:
            for opt in opts:
                if opt == "--config":  # a YAML file of options: refused by the stand-in (and by the validator)
                    n += 1
                    continue
                values = {"0": [], "1": ["x"], "?": [], "+": ["x", "y"], "*": []}.get(arity, ["1"] * int(arity) if arity.isdigit() else [])
                lead = [] if opt == "--model" else ["/m"]  # --model X becomes the positional model
                parser.parse_args(cli.preprocess(lead + [opt] + values))
                n += 1
        ns = parser.parse_args(cli.preprocess(["/m", "--max_num_seqs=8", "--tensor-parallel", "2", "-O3", "--compilation-config.mode", "3", "--no-enable-prefix-caching"]))
        assert ns.max_num_seqs == "8" and ns.tensor_parallel_size == "2" and ns.optimization_level == "3", ns
        assert ns.compilation_config == '{"mode": 3}' and ns.enable_prefix_caching is False, ns
        ns = parser.parse_args(cli.preprocess(["--model", "/m2", "--disable-prefix-caching"]))
        assert ns.model_tag == "/m2" and ns.enable_prefix_caching is False, ns
        print("accepted", n)
        """;
    Python.Result ok = python("-c", script);
    assertEquals(0, ok.code(), ok.output());
    assertTrue(ok.output().contains("accepted 483"), ok.output());
    Python.Result bad = python("-m", "vllm.entrypoints.cli.main", "serve", "/m", "--max-num-sqs", "8");
    assertEquals(2, bad.code(), bad.output());
    assertTrue(bad.output().contains("unrecognized arguments: --max-num-sqs"), bad.output());
    Python.Result version = python("-m", "vllm.entrypoints.cli.main", "--version");
    assertEquals("0.33.0+standin", version.output().strip());
  }

  private static Python.Result python(String... args) throws Exception {
    return Python.run(Duration.ofSeconds(60),
        Map.of("PYTHONPATH", STANDIN.resolve("src").toString(), "PYTHONDONTWRITEBYTECODE", "1"), args);
  }
}
