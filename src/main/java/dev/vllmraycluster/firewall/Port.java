package dev.vllmraycluster.firewall;

/** A TCP port or range, as the host firewall names it. */
public record Port(int from, int to) {
  public Port {
    if (from < 1 || to > 65535 || from > to) {
      throw new IllegalArgumentException("not a port range: " + from + "-" + to);
    }
  }

  public static Port tcp(int port) {
    return new Port(port, port);
  }

  public static Port tcpRange(int from, int to) {
    return new Port(from, to);
  }

  @Override
  public String toString() {
    return from == to ? String.valueOf(from) : from + "-" + to;
  }
}
