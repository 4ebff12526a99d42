package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.parse.IpAddresses;
import dev.vllmraycluster.preflight.parse.ParseException;
import java.util.List;
import java.util.Optional;

/**
 * The stack's {@code address} is really on this host, and on which interface: Ray binds to it,
 * vLLM announces it (VLLM_HOST_IP), and NCCL/Gloo must use that interface
 * (NCCL_SOCKET_IFNAME/GLOO_SOCKET_IFNAME from {@code network_interface}).
 */
public final class AddressCheck extends NodeCheck {
  @Override
  public String name() {
    return "address";
  }

  @Override
  public String summary() {
    return "nodes[].address is on the host; its interface (NCCL/GLOO_SOCKET_IFNAME)";
  }

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    String address = f.node().address();
    String at = ctx.path(f.node());
    List<IpAddresses.Interface> interfaces;
    boolean namesKnown;
    try {
      String out = f.output(PreflightProbes.ADDR);
      namesKnown = !out.startsWith("### hostname -I");
      interfaces = namesKnown ? IpAddresses.parseJson(out) : IpAddresses.parseHostnameI(out.substring(out.indexOf('\n') + 1));
    } catch (ParseException e) {
      return fail(f, "cannot list the host's addresses: " + e.getMessage(), "install iproute2 (ip) on the host");
    }
    Optional<IpAddresses.Interface> holder = IpAddresses.holding(interfaces, address);
    List<IpAddresses.Interface> routable = IpAddresses.routable(interfaces);
    String has = describe(namesKnown ? routable : interfaces);
    if (holder.isEmpty()) {
      return fail(f, address + " (" + at + ".address) is not an address of this host; it has " + has,
          "set " + at + ".address to this host's address on the cluster network"
              + (routable.size() == 1 && !routable.get(0).ipv4().isEmpty() ? " (" + routable.get(0).ipv4().get(0).local() + ")" : "")
              + "; SSH may still go elsewhere with " + at + ".ssh_host");
    }
    String nic = f.node().networkInterface();
    if (!namesKnown) {
      String text = address + " is on this host (interface unknown: ip is not installed)";
      return nic == null ? ok(f, text) : warn(f, text + "; network_interface " + nic + " not checked", "install iproute2 to check it");
    }
    String iface = holder.get().name();
    if (nic != null && !nic.equals(iface)) {
      return fail(f, address + " is on " + iface + " but " + at + ".network_interface is " + nic,
          "set " + at + ".network_interface: " + iface + " (NCCL/Gloo would otherwise talk on " + nic + ")");
    }
    if (nic == null && routable.size() > 1) {
      return warn(f, address + " on " + iface + "; this host has more networks (" + has
              + "): NCCL and Gloo may pick another interface",
          "set " + at + ".network_interface: " + iface + " (sets NCCL_SOCKET_IFNAME and GLOO_SOCKET_IFNAME; VLLM_HOST_IP is already " + address + ")");
    }
    return ok(f, address + " on " + iface + (nic == null ? "" : " (network_interface " + nic + ")"));
  }

  private static String describe(List<IpAddresses.Interface> interfaces) {
    List<String> parts = interfaces.stream()
        .map(i -> (i.name() == null ? "" : i.name() + " ") + String.join(" ", i.ipv4().stream().map(Object::toString).toList()))
        .toList();
    return parts.isEmpty() ? "no IPv4 address" : String.join(", ", parts);
  }
}
