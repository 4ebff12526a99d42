package dev.vllmraycluster.preflight.parse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Listening TCP sockets from {@code ss -Htlnp} and, after a line {@code ### units}, the systemd
 * unit of each listening process ({@code <pid> <unit or ->}, from {@code /proc/<pid>/cgroup}).
 */
public final class ListeningPorts {
  public static final String UNITS_MARKER = "### units";
  private static final Pattern PROCESS = Pattern.compile("\\(\"([^\"]*)\",pid=(\\d+),fd=\\d+\\)");

  private ListeningPorts() {}

  public record Process(String name, int pid, String unit) {}

  public record Listener(String address, int port, List<Process> processes) {
    public Listener {
      processes = List.copyOf(processes);
    }
  }

  public static List<Listener> parse(String output) {
    String[] parts = output.split(Pattern.quote(UNITS_MARKER), 2);
    Map<Integer, String> units = new LinkedHashMap<>();
    if (parts.length == 2) {
      for (String line : parts[1].split("\n")) {
        String[] f = line.strip().split("\\s+");
        if (f.length == 2 && f[0].matches("\\d+")) {
          units.put(Integer.parseInt(f[0]), "-".equals(f[1]) ? null : f[1]);
        }
      }
    }
    List<Listener> out = new ArrayList<>();
    for (String line : parts[0].split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      String[] f = line.strip().split("\\s+");
      // State Recv-Q Send-Q Local:Port Peer:Port [Process]
      if (f.length < 5) {
        throw new ParseException("ss: expected state, queues and addresses, got: " + line.strip());
      }
      String local = f[3];
      int colon = local.lastIndexOf(':');
      if (colon < 0) {
        throw new ParseException("ss: no port in '" + local + "'");
      }
      int port = Parse.integer(local.substring(colon + 1), "port");
      String address = local.substring(0, colon);
      List<Process> processes = new ArrayList<>();
      Matcher m = PROCESS.matcher(line);
      while (m.find()) {
        int pid = Integer.parseInt(m.group(2));
        processes.add(new Process(m.group(1), pid, units.get(pid)));
      }
      out.add(new Listener(address, port, processes));
    }
    return out;
  }
}
