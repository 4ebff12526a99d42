package dev.vllmraycluster.cli;

import dev.vllmraycluster.preflight.Preflight;
import dev.vllmraycluster.preflight.Report;
import dev.vllmraycluster.preflight.ShellFactory;
import dev.vllmraycluster.preflight.Verify;
import dev.vllmraycluster.spec.ClusterSpec;
import java.util.List;
import picocli.CommandLine.Command;

/**
 * {@code verify STACK}: after a deploy, checks that the cluster serves. The API key comes from the
 * stack's {@code vllm.api_key_env} variable and is never printed.
 */
@Command(
    name = "verify",
    description = {
      "After a deploy: the units are active, ray status shows the declared nodes and GPUs, /health,"
          + " /v1/models, a chat completion (the key from the stack's vllm.api_key_env variable, never"
          + " printed), the GPU processes.",
      "Each check is ok, warn or fail; every warning and failure comes with a fix."
    })
final class VerifyCommand extends CheckCommand {
  VerifyCommand(Io io) {
    super(io);
  }

  @Override
  List<String> checkNames() {
    return Preflight.names(Verify.CHECKS);
  }

  @Override
  String announce(ClusterSpec spec) {
    return "verify " + spec.name() + ": checking " + spec.nodes().size() + " node(s) over SSH...";
  }

  @Override
  Report check(ClusterSpec spec, ShellFactory shells) {
    return Verify.run(spec, shells, apiKey(spec));
  }

  /** The key from the stack's variable, or null (with a warning) when it is not set. */
  private String apiKey(ClusterSpec spec) {
    if (spec.vllm().apiKey() == null) {
      return null;
    }
    String env = spec.vllm().apiKey().environmentVariable();
    String key = System.getenv(env);
    if (key == null || key.isEmpty()) {
      io.err().println("warning: " + env + " is not set: /v1/models and the chat completion go without the key");
      return null;
    }
    return key;
  }
}
