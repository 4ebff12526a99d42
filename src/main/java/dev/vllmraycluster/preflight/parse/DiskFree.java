package dev.vllmraycluster.preflight.parse;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code df} output, read by its header: the POSIX form ({@code df -P -k PATH}: Filesystem,
 * 1024-blocks, Used, Available, Capacity, Mounted on) and GNU's {@code --output=target,avail}.
 * Sizes in bytes; -1 when a column is absent.
 */
public final class DiskFree {
  private static final Pattern BLOCKS = Pattern.compile("(\\d+)-blocks");

  private DiskFree() {}

  public record Mount(String filesystem, long sizeBytes, long availableBytes, String mountedOn) {}

  /**
   * @param blockBytes the unit of the numbers when the header does not say it (GNU df with
   *     {@code -B1} and {@code --output}); the POSIX header names it ({@code 1024-blocks})
   */
  public static List<Mount> parse(String output, long blockBytes) {
    String[] lines = output.strip().split("\n");
    if (lines.length == 0 || lines[0].isBlank()) {
      throw new ParseException("df: no output");
    }
    String header = lines[0];
    Matcher m = BLOCKS.matcher(header);
    long unit = m.find() ? Long.parseLong(m.group(1)) : blockBytes;
    // "Mounted on" is two words: make it one so that columns split on blanks.
    List<String> columns = List.of(header.replace("Mounted on", "Mounted_on").strip().split("\\s+"));
    int fs = index(columns, "filesystem");
    int size = indexMatching(columns, "-blocks", "size");
    int avail = index(columns, "available", "avail");
    int target = index(columns, "mounted_on");
    if (avail < 0 || target < 0) {
      throw new ParseException("df: header without Available and Mounted on: " + header.strip());
    }
    List<Mount> out = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      if (lines[i].isBlank()) {
        continue;
      }
      String[] cells = lines[i].strip().split("\\s+");
      if (cells.length != columns.size()) {
        throw new ParseException("df: expected " + columns.size() + " columns, got: " + lines[i].strip());
      }
      out.add(new Mount(
          fs < 0 ? null : cells[fs],
          size < 0 ? -1 : number(cells[size]) * unit,
          number(cells[avail]) * unit,
          cells[target]));
    }
    return out;
  }

  private static long number(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new ParseException("df: '" + s + "' is not a number");
    }
  }

  private static int index(List<String> columns, String... names) {
    for (int i = 0; i < columns.size(); i++) {
      String c = columns.get(i).toLowerCase(Locale.ROOT);
      for (String n : names) {
        if (c.equals(n)) {
          return i;
        }
      }
    }
    return -1;
  }

  private static int indexMatching(List<String> columns, String suffix, String name) {
    for (int i = 0; i < columns.size(); i++) {
      String c = columns.get(i).toLowerCase(Locale.ROOT);
      if (c.endsWith(suffix) || c.equals(name)) {
        return i;
      }
    }
    return -1;
  }
}
