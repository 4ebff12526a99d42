package dev.vllmraycluster.preflight.parse;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code /etc/os-release}: the distribution's id, the ids it is like, its version. */
public final class OsRelease {
  private OsRelease() {}

  public record Os(String id, List<String> idLike, String versionId, String prettyName) {
    public Os {
      idLike = List.copyOf(idLike);
    }

    /** {@code id} followed by {@code idLike}. */
    public List<String> family() {
      List<String> all = new ArrayList<>();
      all.add(id);
      all.addAll(idLike);
      return all;
    }
  }

  public static Os parse(String output) {
    Map<String, String> kv = Parse.keyValues(output);
    String id = unquote(kv.get("ID"));
    if (id == null || id.isEmpty()) {
      throw new ParseException("/etc/os-release: no ID=");
    }
    String like = unquote(kv.get("ID_LIKE"));
    List<String> idLike = like == null || like.isBlank() ? List.of() : List.of(like.strip().split("\\s+"));
    String version = unquote(kv.get("VERSION_ID"));
    String pretty = unquote(kv.get("PRETTY_NAME"));
    return new Os(id, idLike, version == null ? "" : version, pretty == null ? id + " " + version : pretty);
  }

  private static String unquote(String v) {
    if (v == null) {
      return null;
    }
    String t = v.strip();
    if (t.length() >= 2 && (t.startsWith("\"") && t.endsWith("\"") || t.startsWith("'") && t.endsWith("'"))) {
      t = t.substring(1, t.length() - 1);
    }
    return t;
  }
}
