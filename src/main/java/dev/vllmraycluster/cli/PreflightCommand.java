package dev.vllmraycluster.cli;

import dev.vllmraycluster.preflight.Preflight;
import dev.vllmraycluster.preflight.Report;
import dev.vllmraycluster.preflight.ShellFactory;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code preflight STACK}: the read-only checks of every node before a deploy. */
@Command(
    name = "preflight",
    description = {
      "Read-only checks on every node over SSH before a deploy (cdktf deploy runs it first): SSH and sudo,"
          + " OS, GPUs and driver, Python, disk, /dev/shm, addresses, reachability, ports, clock, the model.",
      "Each check is ok, warn or fail; every warning and failure comes with a fix."
    })
final class PreflightCommand extends CheckCommand {
  PreflightCommand(Io io) {
    super(io);
  }

  @Override
  List<String> checkNames() {
    return Preflight.names(Preflight.CHECKS);
  }

  @Override
  String announce(ClusterSpec spec) {
    return "preflight " + spec.name() + ": checking " + spec.nodes().size() + " node(s) over SSH (read-only)...";
  }

  @Override
  Report check(ClusterSpec spec, ShellFactory shells) {
    return Preflight.run(spec, shells);
  }
}
