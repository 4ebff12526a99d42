package dev.vllmraycluster.cli;

import dev.vllmraycluster.preflight.Verify;
import dev.vllmraycluster.spec.ClusterSpec;
import java.io.PrintStream;
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
          + " printed), the GPU processes."
    })
final class VerifyCommand extends CheckCommand {
  VerifyCommand(Io io) {
    super(io, Verify.CHECKS, "over SSH", (spec, shells) -> Verify.run(spec, shells, apiKey(spec, io.err())));
  }

  /** The key from the stack's variable, or null (with a warning on {@code err}) when it is not set. */
  private static String apiKey(ClusterSpec spec, PrintStream err) {
    if (spec.vllm().apiKey() == null) {
      return null;
    }
    String env = spec.vllm().apiKey().environmentVariable();
    String key = System.getenv(env);
    if (key == null || key.isEmpty()) {
      err.println("warning: " + env + " is not set: /v1/models and the chat completion go without the key");
      return null;
    }
    return key;
  }
}
