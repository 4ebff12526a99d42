package dev.vllmraycluster.preflight.parse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code nvidia-smi topo -m}: how each pair of GPUs is connected ({@code NV18}: 18 bonded
 * NVLinks; {@code PIX}/{@code PXB}/{@code PHB}/{@code NODE}/{@code SYS}: PCIe paths). NIC rows
 * and columns are left out.
 */
public final class GpuTopology {
  private final List<String> gpus;
  private final Map<String, Map<String, String>> links;

  private GpuTopology(List<String> gpus, Map<String, Map<String, String>> links) {
    this.gpus = gpus;
    this.links = links;
  }

  public static GpuTopology parse(String output) {
    List<String> columns = null;
    List<String> gpus = new ArrayList<>();
    Map<String, Map<String, String>> links = new LinkedHashMap<>();
    for (String raw : Parse.stripAnsi(output).split("\n")) {
      if (raw.isBlank()) {
        if (columns != null && !gpus.isEmpty()) {
          break; // the legend follows
        }
        continue;
      }
      String[] cells = raw.split("\t");
      if (columns == null) {
        if (raw.strip().startsWith("GPU0")) {
          columns = new ArrayList<>();
          for (String c : cells) {
            if (!c.isBlank()) {
              columns.add(c.strip());
            }
          }
        }
        continue;
      }
      String row = cells[0].strip();
      if (!row.matches("GPU[0-9]+")) {
        continue;
      }
      gpus.add(row);
      Map<String, String> rowLinks = new LinkedHashMap<>();
      for (int i = 1; i < cells.length && i - 1 < columns.size(); i++) {
        String column = columns.get(i - 1);
        if (column.matches("GPU[0-9]+")) {
          rowLinks.put(column, cells[i].strip());
        }
      }
      links.put(row, rowLinks);
    }
    if (columns == null || gpus.isEmpty()) {
      throw new ParseException("nvidia-smi topo -m: no GPU matrix in its output");
    }
    return new GpuTopology(List.copyOf(gpus), links);
  }

  public List<String> gpus() {
    return gpus;
  }

  /** The link between GPU {@code a} and GPU {@code b} (e.g. {@code NV18}, {@code PHB}), or null. */
  public String link(int a, int b) {
    Map<String, String> row = links.get("GPU" + a);
    return row == null ? null : row.get("GPU" + b);
  }

  public boolean nvlink(int a, int b) {
    String l = link(a, b);
    return l != null && l.startsWith("NV");
  }
}
