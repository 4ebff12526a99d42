package dev.vllmraycluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The command-line rules every subcommand shares: help, version, option spellings, bad input, exit codes. */
class CliTest {
  static final List<String> COMMANDS = List.of("synth", "validate", "preflight", "verify", "status", "plan-review", "api-ca", "parallelism");

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"synth", "validate", "preflight", "verify", "status", "plan-review", "api-ca", "parallelism"})
  void everyCommandHasHelpThatExitsZero(String command) {
    for (String[] args : List.of(new String[] {command, "--help"}, new String[] {command, "-h"},
        new String[] {"help", command})) {
      CliRun run = CliRun.of(args);
      assertEquals(ExitCodes.OK, run.code(), run.all());
      assertTrue(run.out().startsWith("Usage: vllm-ray-cluster " + command + " "), run.all());
      assertTrue(run.out().contains("Exit codes:\n  0   ok"), run.all());
      assertTrue(run.out().contains("  2   bad input"), run.all());
      assertTrue(run.out().contains("  3   unexpected state"), run.all());
      assertEquals("", run.err(), "help writes to stdout only");
    }
  }

  @Test
  void theRootHelpListsEveryCommandAndExitCode() {
    CliRun run = CliRun.of("--help");
    assertEquals(ExitCodes.OK, run.code(), run.all());
    for (String command : COMMANDS) {
      assertTrue(run.out().contains("\n  " + command + " "), command + " in\n" + run.out());
    }
    for (int code = 0; code <= 4; code++) {
      assertTrue(run.out().contains("\n  " + code + "   "), "exit code " + code + " in\n" + run.out());
    }
    assertEquals(run.out(), CliRun.of("help").out());
  }

  @Test
  void theCheckCommandsListTheirChecksInTheirHelp() {
    assertTrue(CliRun.of("preflight", "--help").out().contains("The checks: ssh, os, gpus, driver,"));
    assertTrue(CliRun.of("verify", "--help").out().contains("The checks: ssh, units, ray, health,"));
  }

  @Test
  void versionPrintsTheProjectVersion() {
    String expected = "vllm-ray-cluster " + System.getProperty("vrc.test.projectVersion") + "\n";
    assertFalse(expected.contains("null"), "surefire passes the pom's version as vrc.test.projectVersion");
    for (String[] args : List.of(new String[] {"--version"}, new String[] {"-V"}, new String[] {"preflight", "--version"})) {
      CliRun run = CliRun.of(args);
      assertEquals(ExitCodes.OK, run.code(), run.all());
      assertEquals(expected, run.out());
    }
  }

  @Test
  void bothOptionSpellingsBehaveTheSame() throws Exception {
    Path stack = CheckCommandsTest.closedPortStack(dir);
    CliRun spaced = CliRun.of("preflight", stack.toString(), "--ignore", "ssh", "--connect-timeout", "3");
    CliRun joined = CliRun.of("preflight", stack.toString(), "--ignore=ssh", "--connect-timeout=3");
    assertEquals(ExitCodes.OK, spaced.code(), spaced.all());
    assertEquals(spaced, joined);
    assertTrue(spaced.out().contains("passed (0 failed, 1 warnings, 0 ok on 1 node); ignored: ssh"), spaced.all());
    // the options may also come first, and --ignore may repeat
    CliRun first = CliRun.of("preflight", "--ignore", "ssh", "--ignore=clock,model", "--json", stack.toString());
    assertEquals(ExitCodes.OK, first.code(), first.all());
    assertTrue(first.out().contains("\"ignored\" : [ \"clock\", \"model\", \"ssh\" ]"), first.all());
    // what local_checks passes when VRC_PREFLIGHT_IGNORE is empty: nothing ignored
    CliRun empty = CliRun.of("preflight", stack.toString(), "--ignore=");
    assertEquals(ExitCodes.FAILED, empty.code(), empty.all());
  }

  @Test
  void unknownOptionsAreRefusedWithASuggestion() {
    CliRun typo = CliRun.of("preflight", "stacks/reference.yaml", "--ignor", "shm");
    assertEquals(ExitCodes.BAD_INPUT, typo.code(), typo.all());
    assertTrue(typo.err().startsWith("error: vllm-ray-cluster preflight: unknown option '--ignor'\n"
        + "  did you mean: --ignore?\n"
        + "usage: vllm-ray-cluster preflight "), typo.all());
    assertTrue(typo.err().endsWith("'vllm-ray-cluster preflight --help' shows every option.\n"), typo.all());
    assertEquals("", typo.out());

    CliRun strict = CliRun.of("validate", "--strcit");
    assertEquals(ExitCodes.BAD_INPUT, strict.code(), strict.all());
    assertTrue(strict.err().startsWith("error: vllm-ray-cluster validate: unknown option '--strcit'\n"
        + "  the options here are: --help, --version, --verbose\n"), strict.all());

    CliRun command = CliRun.of("prefligt", "sandbox");
    assertEquals(ExitCodes.BAD_INPUT, command.code(), command.all());
    assertTrue(command.err().startsWith("error: vllm-ray-cluster: unknown command 'prefligt'; the commands are: synth,"
        + " validate, preflight, verify, status, plan-review, api-ca, parallelism, help\n  did you mean: preflight"), command.all());
  }

  @Test
  void badValuesAndMissingArgumentsAreBadInput() {
    assertBadInput(CliRun.of(), "error: vllm-ray-cluster: which command? one of: synth, validate, preflight, verify,"
        + " status, plan-review, api-ca, parallelism, help");
    assertBadInput(CliRun.of("api-ca"), "error: vllm-ray-cluster api-ca: missing required parameter: 'STACK'");
    assertBadInput(CliRun.of("api-ca", "stacks/reference.yaml", "--connect-timeout=0"),
        "error: vllm-ray-cluster api-ca: --connect-timeout: 0 is not a timeout; give whole seconds, at least 1");
    assertBadInput(CliRun.of("status"), "error: vllm-ray-cluster status: missing required parameter: 'STACK'");
    assertBadInput(CliRun.of("status", "stacks/reference.yaml", "--watch=0"),
        "error: vllm-ray-cluster status: --watch: 0 is not an interval; give whole seconds, at least 1");
    assertBadInput(CliRun.of("status", "stacks/reference.yaml", "--connect-timeout=0"),
        "error: vllm-ray-cluster status: --connect-timeout: 0 is not a timeout; give whole seconds, at least 1");
    assertBadInput(CliRun.of("status", "no-such-stack"),
        "error: vllm-ray-cluster status: no stack file ");
    assertBadInput(CliRun.of("preflight"), "error: vllm-ray-cluster preflight: missing required parameter: 'STACK'");
    assertBadInput(CliRun.of("verify", "a.yaml", "b.yaml"), "error: vllm-ray-cluster verify: unexpected argument 'b.yaml'");
    assertBadInput(CliRun.of("preflight", "stacks/reference.yaml", "--connect-timeout", "soon"),
        "error: vllm-ray-cluster preflight: invalid value for option '--connect-timeout': 'soon' is not an int");
    assertBadInput(CliRun.of("preflight", "stacks/reference.yaml", "--connect-timeout=0"),
        "error: vllm-ray-cluster preflight: --connect-timeout: 0 is not a timeout; give whole seconds, at least 1");
    assertBadInput(CliRun.of("plan-review", "plan.json", "--out"),
        "error: vllm-ray-cluster plan-review: missing required parameter for option '--out' (FILE)");
    assertBadInput(CliRun.of("synth", "reference"), "error: vllm-ray-cluster synth: unexpected argument 'reference'");
    assertBadInput(CliRun.of("help", "deploy"), "error: vllm-ray-cluster: unknown subcommand 'deploy'");
  }

  private static void assertBadInput(CliRun run, String firstLine) {
    assertEquals(ExitCodes.BAD_INPUT, run.code(), run.all());
    assertTrue(run.err().startsWith(firstLine), run.all());
    assertTrue(run.err().contains("\nusage: vllm-ray-cluster"), run.all());
  }

  /** A command that fails the way a bug does. */
  @Command(name = "boom")
  static final class Boom implements Callable<Integer> {
    @Override
    public Integer call() {
      throw new IllegalStateException("the code took a path nobody planned for");
    }
  }

  @Test
  void anInternalErrorIsOneMessageAndExitFourWithTheTraceOnlyWhenVerbose() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Io io = new Io(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    CommandLine quiet = Cli.commandLine(io).addSubcommand(new Boom());
    assertEquals(ExitCodes.INTERNAL, quiet.execute("boom"));
    assertEquals("error: vllm-ray-cluster boom: internal error: java.lang.IllegalStateException: the code took a path"
        + " nobody planned for\n  run it again with --verbose for the stack trace, and report it\n",
        err.toString(StandardCharsets.UTF_8));

    err.reset();
    CommandLine verbose = Cli.commandLine(io).addSubcommand(new Boom());
    assertEquals(ExitCodes.INTERNAL, verbose.execute("boom", "--verbose"));
    String trace = err.toString(StandardCharsets.UTF_8);
    assertTrue(trace.contains("\tat dev.vllmraycluster.cli.CliTest$Boom.call("), trace);
    assertEquals("", out.toString(StandardCharsets.UTF_8));
  }

  @Test
  void exitCodesOfTheCheckCommands() throws Exception {
    Path stack = CheckCommandsTest.closedPortStack(dir);
    assertEquals(ExitCodes.FAILED, CliRun.of("preflight", stack.toString()).code(), "a check failed");
    assertEquals(ExitCodes.OK, CliRun.of("preflight", stack.toString(), "--ignore=all").code(), "failures ignored");
    Path notADirectory = Files.writeString(dir.resolve("a-file"), "");
    CliRun unwritable = CliRun.of("preflight", stack.toString(), "--report-file", notADirectory.resolve("r.json").toString());
    assertEquals(ExitCodes.UNEXPECTED_STATE, unwritable.code(), "the report file cannot be written: " + unwritable.all());
    assertTrue(unwritable.err().startsWith("error: cannot write the report to " + notADirectory.resolve("r.json") + ": "),
        unwritable.all());
    assertTrue(unwritable.out().contains("head  ssh    fail"), "the checks ran and were printed: " + unwritable.all());
    Path broken = dir.resolve("broken.yaml");
    Files.writeString(broken, "nodes: []\n");
    CliRun run = CliRun.of("preflight", broken.toString());
    assertEquals(ExitCodes.BAD_INPUT, run.code(), "a broken stack file");
    assertTrue(run.err().startsWith("error: ") && run.err().contains("broken.yaml: 2 problems\n  nodes: missing"), run.all());
  }
}
