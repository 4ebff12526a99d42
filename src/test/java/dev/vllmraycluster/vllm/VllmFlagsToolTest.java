package dev.vllmraycluster.vllm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.Python;
import dev.vllmraycluster.TestStacks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tools/vllm-flags/vllm_flags.py on a small synthetic vLLM-shaped source tree
 * (tools/vllm-flags/testdata/synthetic): literal add_argument calls whose arity comes from dataclass
 * field types through **kwargs (bool, bool|str|None, list, tuple, Literal aliases, dataclasses, a
 * forward reference), the generated options of a *Args class (inheritance, super() customisation,
 * extra short flags, an 'append' action), BooleanOptionalAction with vLLM's enable/disable pairs,
 * the positional model, and an unrelated add_cli_args that must not be picked up.
 */
class VllmFlagsToolTest {
  static final Path TOOL = TestStacks.ROOT.resolve("tools/vllm-flags/vllm_flags.py");
  static final Path DATA = TestStacks.ROOT.resolve("tools/vllm-flags/testdata");

  @TempDir Path tmp;

  @Test
  void readsTheSyntheticTreeExactly() throws Exception {
    Path out = tmp.resolve("9.9.9.flags");
    Python.Result r = run("--source", DATA.resolve("synthetic").toString(), "--strict", "--out", out.toString());
    assertEquals(0, r.code(), r.output());
    assertEquals(Files.readString(DATA.resolve("expected-9.9.9.flags")), Files.readString(out));
    VllmFlags flags = VllmFlags.parse("9.9.9", Files.readString(out));
    assertEquals("1", flags.options().stream().filter(o -> o.canonical().equals("--port")).findFirst().orElseThrow().arity());
    assertTrue(flags.known("-p") && flags.known("--enable-custom-all-reduce") && flags.known("--no-trust-remote-code"));
    assertTrue(!flags.known("--not-a-serve-flag"), "an add_cli_args the serve parser never calls");
  }

  @Test
  void failsOnATreeWithoutTheServeCommand() throws Exception {
    Path empty = tmp.resolve("empty/vllm");
    Files.createDirectories(empty);
    Files.writeString(empty.resolve("__init__.py"), "");
    Python.Result r = run("--source", empty.getParent().toString(), "--version", "1.0.0");
    assertEquals(1, r.code(), r.output());
    assertTrue(r.output().contains("ServeSubcommand not found"), r.output());
  }

  @Test
  void strictRefusesAnOptionWhoseKwargsItCannotRead() throws Exception {
    Path tree = tmp.resolve("copy");
    copyTree(DATA.resolve("synthetic"), tree);
    Path serve = tree.resolve("vllm/entrypoints/cli/serve.py");
    Files.writeString(serve, Files.readString(serve).replace(
        "serve_parser.add_argument(\"--grpc\", action=\"store_true\", default=False)",
        "serve_parser.add_argument(\"--grpc\", **SOMETHING_ELSE)"));
    Python.Result r = run("--source", tree.toString(), "--strict");
    assertEquals(1, r.code(), r.output());
    assertTrue(r.output().contains("**SOMETHING_ELSE not read"), r.output());
  }

  @Test
  void shippedFixturesSayWhichWheelTheyCameFrom() throws IOException {
    for (String version : VllmFlags.FIXTURE_VERSIONS) {
      Path p = TestStacks.ROOT.resolve("src/main/resources/dev/vllmraycluster/vllm/flags/vllm-" + version + ".flags");
      String first = Files.readAllLines(p).get(0);
      assertTrue(first.matches("# vLLM " + java.util.regex.Pattern.quote(version)
          + ": the options of `vllm serve`, read from vllm-" + java.util.regex.Pattern.quote(version)
          + "-cp38-abi3-manylinux_2_\\d+_x86_64\\.whl \\(sha256 [0-9a-f]{16}\\.\\.\\.\\)"), first);
    }
  }

  private Python.Result run(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of(TOOL.toString()));
    command.addAll(List.of(args));
    return Python.run(Duration.ofSeconds(120), command.toArray(String[]::new));
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (var paths = Files.walk(from)) {
      for (Path src : paths.toList()) {
        Path dst = to.resolve(from.relativize(src).toString());
        if (Files.isDirectory(src)) {
          Files.createDirectories(dst);
        } else {
          Files.copy(src, dst);
        }
      }
    }
  }
}
