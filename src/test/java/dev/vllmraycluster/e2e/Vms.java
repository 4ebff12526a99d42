package dev.vllmraycluster.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The sandbox VMs ({@code sandbox/vm/vm}) of one network index, for the NFS tier: commands on the
 * VMs over SSH with their pinned host keys, and the tool itself. {@code VRC_VM_INDEX} (default 0)
 * picks the bridge {@code vrcvm<N>} and the subnet 10.220.N.0/24, so that runs do not meet.
 */
final class Vms {
  static final String INDEX = System.getenv().getOrDefault("VRC_VM_INDEX", "0");
  static final String NET = "10.220." + INDEX;
  static final String BRIDGE_IP = NET + ".1";
  static final Path STATE = Sandbox.ROOT.resolve(".sandbox-vm/i" + INDEX);

  private Vms() {}

  static String ip(String name) {
    return switch (name) {
      case "head" -> NET + ".11";
      case "nfs" -> NET + ".100";
      case "outsider" -> NET + ".200";
      default -> NET + "." + (11 + Integer.parseInt(name.substring("worker".length())));
    };
  }

  static Map<String, String> env() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("VRC_VM_INDEX", INDEX);
    return env;
  }

  /** {@code sandbox/vm/vm ARGS...}, echoed. */
  static Sandbox.Result tool(Duration timeout, String... args) {
    String[] command = new String[args.length + 1];
    command[0] = "sandbox/vm/vm";
    System.arraycopy(args, 0, command, 1, args.length);
    return Sandbox.run(timeout, env(), true, command);
  }

  /** A shell command on a VM as root over SSH (not echoed; bounded by {@code timeout}). */
  static Sandbox.Result on(String vm, Duration timeout, String shellCommand) {
    return Sandbox.run(timeout, env(), false, "sandbox/vm/vm", "ssh", vm, shellCommand);
  }

  static Sandbox.Result on(String vm, String shellCommand) {
    return on(vm, Duration.ofMinutes(2), shellCommand);
  }

  static String onOk(String vm, String shellCommand) {
    Sandbox.Result r = on(vm, shellCommand);
    assertEquals(0, r.exitCode(), vm + ": " + shellCommand + " failed:\n" + r.output());
    return r.output();
  }

  static String hostKey(String vm) {
    try {
      String pub = java.nio.file.Files.readString(STATE.resolve("hosts/" + vm + "/ssh_host_ed25519_key.pub"));
      String[] parts = pub.strip().split(" ");
      return parts[0] + " " + parts[1];
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
