package dev.vllmraycluster.spec;

import java.util.regex.Pattern;

/** An IPv4 network; {@code toString} gives the canonical form with the host bits cleared. */
public record Cidr(long network, int prefix) {
  static final Pattern IPV4 =
      Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

  public static Cidr parse(String text) {
    String[] parts = text.split("/");
    int prefix = parts.length == 2 ? Integer.parseInt(parts[1]) : 32;
    return new Cidr(toLong(parts[0]) & mask(prefix), prefix);
  }

  /** An address or CIDR in IPv4 notation ({@code 10.0.0.5}, {@code 10.0.0.0/24}). */
  public static boolean valid(String text) {
    if (text == null) {
      return false;
    }
    String[] parts = text.split("/", -1);
    if (parts.length > 2 || !IPV4.matcher(parts[0]).matches()) {
      return false;
    }
    if (parts.length == 2) {
      if (!parts[1].matches("[0-9]{1,2}")) {
        return false;
      }
      int bits = Integer.parseInt(parts[1]);
      return bits >= 0 && bits <= 32;
    }
    return true;
  }

  /** {@code 10.0.0.5} as {@code 10.0.0.5/32}, host bits cleared; an invalid text unchanged. */
  public static String canonical(String text) {
    return valid(text) ? parse(text.contains("/") ? text : text + "/32").toString() : text;
  }

  public static boolean isAddress(String text) {
    return text != null && IPV4.matcher(text).matches();
  }

  public boolean contains(String address) {
    return (toLong(address) & mask(prefix)) == network;
  }

  /** The last address of the network (its broadcast address for prefixes up to /30). */
  public long broadcast() {
    return network | (~mask(prefix) & 0xFFFFFFFFL);
  }

  private static long mask(int prefix) {
    return prefix == 0 ? 0 : (0xFFFFFFFFL << (32 - prefix)) & 0xFFFFFFFFL;
  }

  static long toLong(String address) {
    long value = 0;
    for (String octet : address.split("\\.")) {
      value = (value << 8) | Integer.parseInt(octet);
    }
    return value;
  }

  @Override
  public String toString() {
    return ((network >> 24) & 255) + "." + ((network >> 16) & 255) + "." + ((network >> 8) & 255) + "." + (network & 255) + "/" + prefix;
  }
}
