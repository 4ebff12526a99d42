package dev.vllmraycluster.spec;

/** An IPv4 network; {@code toString} gives the canonical form with the host bits cleared. */
public record Cidr(long network, int prefix) {
  public static Cidr parse(String text) {
    String[] parts = text.split("/");
    int prefix = parts.length == 2 ? Integer.parseInt(parts[1]) : 32;
    return new Cidr(toLong(parts[0]) & mask(prefix), prefix);
  }

  public boolean contains(String address) {
    return (toLong(address) & mask(prefix)) == network;
  }

  private static long mask(int prefix) {
    return prefix == 0 ? 0 : (0xFFFFFFFFL << (32 - prefix)) & 0xFFFFFFFFL;
  }

  private static long toLong(String address) {
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
