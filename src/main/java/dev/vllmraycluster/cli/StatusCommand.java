package dev.vllmraycluster.cli;

import dev.vllmraycluster.preflight.ShellFactory;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.status.ClusterStatus;
import dev.vllmraycluster.status.Status;
import dev.vllmraycluster.status.StatusRenderer;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code status STACK}: one screen with each node (SSH, Ray, GPUs used by Ray, GPU utilisation and
 * memory, the model store, our units), the API (health, running and waiting requests, KV cache,
 * tokens/s from vLLM's /metrics), the watchdog (state, restarts, canary latency); exit 1 when the
 * cluster is degraded.
 */
@Command(
    name = "status",
    description = {
      "One screen with the state of a deployed cluster, gathered over SSH (read-only): each node (reachable,"
          + " Ray alive, GPUs used by Ray, GPU utilisation and memory, the model store, our units), the API"
          + " (/health, running and waiting requests, KV-cache usage, tokens/s from vLLM's /metrics), and the"
          + " watchdog (state, restarts, canary latency).",
      "Exit code 1 when the cluster is degraded; each reason is listed."
    })
final class StatusCommand implements Callable<Integer> {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);
  private final Io io;

  @Mixin StackArgument stack;

  @Option(names = "--json", description = "Print the status as JSON (one object; one per line with --watch).")
  boolean json;

  @Option(names = "--watch", arity = "0..1", fallbackValue = "5", paramLabel = "SECONDS",
      description = "Refresh every SECONDS (default 5 when given without a value) until interrupted.")
  Integer watch;

  @Option(names = "--connect-timeout", paramLabel = "SECONDS", defaultValue = "10",
      description = "How long to wait for each node's SSH server (default: ${DEFAULT-VALUE}).")
  int connectTimeoutSeconds;

  @Spec CommandSpec command;

  StatusCommand(Io io) {
    this.io = io;
  }

  @Override
  public Integer call() {
    Duration connectTimeout = Stacks.connectTimeout(connectTimeoutSeconds, command.commandLine());
    if (watch != null && watch < 1) {
      throw new ParameterException(command.commandLine(), "--watch: " + watch + " is not an interval; give whole"
          + " seconds, at least 1, e.g. --watch=5");
    }
    ClusterSpec spec = stack.load(io.err(), true);
    if (spec == null) {
      return ExitCodes.BAD_INPUT;
    }
    ShellFactory shells = ShellFactory.ssh(connectTimeout);
    while (true) {
      ClusterStatus s = Status.run(spec, shells);
      if (json) {
        io.out().print(StatusRenderer.json(s));
      } else {
        if (watch != null) {
          io.out().print("\033[H\033[2J");
        }
        io.out().println("status " + spec.name() + ": " + spec.nodes().size() + " node(s), " + TIME.format(Instant.now()));
        io.out().print(StatusRenderer.table(s));
      }
      io.out().flush();
      if (watch == null) {
        return s.degraded() ? ExitCodes.FAILED : ExitCodes.OK;
      }
      try {
        Thread.sleep(watch * 1000L);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return s.degraded() ? ExitCodes.FAILED : ExitCodes.OK;
      }
    }
  }
}
