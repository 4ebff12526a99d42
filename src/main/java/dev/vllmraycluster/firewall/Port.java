package dev.vllmraycluster.firewall;

/** A TCP or UDP port or range, as the host firewall names it. */
public record Port(int from, int to, boolean tcp) {
  public Port {
    if (from < 1 || to > 65535 || from > to) {
      throw new IllegalArgumentException("not a port range: " + from + "-" + to);
    }
  }

  public static Port tcp(int port) {
    return new Port(port, port, true);
  }

  public static Port tcpRange(int from, int to) {
    return new Port(from, to, true);
  }

  public static Port udp(int port) {
    return new Port(port, port, false);
  }

  /** {@code 6379}, {@code 10002-19999}: the protocol is in the env key it goes to. */
  @Override
  public String toString() {
    return from == to ? String.valueOf(from) : from + "-" + to;
  }
}
