package dev.vllmraycluster.preflight.parse;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The host's interfaces and addresses from {@code ip -j addr show} (iproute2's JSON), or only
 * the addresses from {@code hostname -I} when {@code ip} is not installed.
 */
public final class IpAddresses {
  private static final ObjectMapper JSON = new ObjectMapper();

  private IpAddresses() {}

  public record Address(String family, String local, int prefixLength, String scope) {
    public boolean ipv4() {
      return "inet".equals(family);
    }

    @Override
    public String toString() {
      return local + "/" + prefixLength;
    }
  }

  /** One interface; {@code name} is null when only {@code hostname -I} was available. */
  public record Interface(String name, boolean up, boolean loopback, List<Address> addresses) {
    public Interface {
      addresses = List.copyOf(addresses);
    }

    public List<Address> ipv4() {
      return addresses.stream().filter(Address::ipv4).toList();
    }
  }

  public static List<Interface> parseJson(String output) {
    JsonNode root;
    try {
      root = JSON.readTree(output);
    } catch (JsonProcessingException e) {
      throw new ParseException("ip -j addr: not JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isArray()) {
      throw new ParseException("ip -j addr: expected a JSON list of interfaces");
    }
    List<Interface> out = new ArrayList<>();
    for (JsonNode link : root) {
      List<String> flags = new ArrayList<>();
      link.path("flags").forEach(f -> flags.add(f.asText()));
      List<Address> addresses = new ArrayList<>();
      for (JsonNode a : link.path("addr_info")) {
        addresses.add(new Address(
            a.path("family").asText(),
            a.path("local").asText(),
            a.path("prefixlen").asInt(),
            a.path("scope").asText()));
      }
      out.add(new Interface(
          link.path("ifname").asText(),
          flags.contains("UP"),
          flags.contains("LOOPBACK") || "loopback".equals(link.path("link_type").asText()),
          addresses));
    }
    return out;
  }

  /** {@code hostname -I}: every address, no interface names. */
  public static List<Interface> parseHostnameI(String output) {
    List<Address> addresses = new ArrayList<>();
    for (String a : output.strip().split("\\s+")) {
      if (!a.isEmpty()) {
        addresses.add(new Address(a.contains(":") ? "inet6" : "inet", a, -1, "global"));
      }
    }
    return List.of(new Interface(null, true, false, addresses));
  }

  /** The interface that holds {@code address} (IPv4), if any. */
  public static Optional<Interface> holding(List<Interface> interfaces, String address) {
    return interfaces.stream()
        .filter(i -> i.ipv4().stream().anyMatch(a -> a.local().equals(address)))
        .findFirst();
  }

  /** Interfaces that are up, not loopback, and have a global IPv4 address. */
  public static List<Interface> routable(List<Interface> interfaces) {
    return interfaces.stream()
        .filter(i -> i.up() && !i.loopback())
        .filter(i -> i.ipv4().stream().anyMatch(a -> "global".equals(a.scope())))
        .toList();
  }
}
