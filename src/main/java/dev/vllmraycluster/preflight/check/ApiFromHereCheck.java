package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Check;
import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.VerifyProbes;
import dev.vllmraycluster.ssh.CommandResult;
import java.util.List;

/**
 * Verify: the API as a client on this machine sees it. Only a warning when it does not answer:
 * the firewall lets in only {@code network.api_allowed_networks}, which need not include this
 * machine.
 */
public final class ApiFromHereCheck implements Check {
  /** The node column of rows about this machine. */
  public static final String HERE = "here";

  @Override
  public String name() {
    return "api-from-here";
  }

  @Override
  public String summary() {
    return "the API answers this machine (warning only: the firewall may not allow it)";
  }

  @Override
  public List<Row> evaluate(Context ctx) {
    CommandResult r = ctx.local().get(VerifyProbes.API_FROM_HERE);
    if (r == null) {
      return List.of();
    }
    String url = ctx.spec().apiBaseUrl() + "/health";
    if (r.ok() && "200".equals(r.stdout().strip())) {
      return List.of(Row.ok(HERE, name(), url + ": 200 from this machine" + (ctx.spec().vllm().https()
          ? (ctx.spec().vllm().userCertificate() ? ", certificate checked with this machine's CAs" : ", certificate checked with the cluster's CA")
          : "")));
    }
    return List.of(Row.warn(HERE, name(), url + " from this machine: " + (r.ok() ? "HTTP " + r.stdout().strip() : r.brief()),
        "expected unless this machine is in network.api_allowed_networks (" + String.join(", ", ctx.spec().network().apiAllowedNetworks())
            + "); clients there should reach it"));
  }
}
