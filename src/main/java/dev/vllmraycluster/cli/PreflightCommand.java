package dev.vllmraycluster.cli;

import dev.vllmraycluster.preflight.Preflight;
import picocli.CommandLine.Command;

/** {@code preflight STACK}: the read-only checks of every node before a deploy. */
@Command(
    name = "preflight",
    description = {
      "Read-only checks on every node over SSH before a deploy (cdktf deploy runs it first): SSH and sudo,"
          + " OS, GPUs and driver, Python, disk, /dev/shm, addresses, reachability, ports, clock, the model."
    })
final class PreflightCommand extends CheckCommand {
  PreflightCommand(Io io) {
    super(io, Preflight.CHECKS, "over SSH (read-only)", Preflight::run);
  }
}
