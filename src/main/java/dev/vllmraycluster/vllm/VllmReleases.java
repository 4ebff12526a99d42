package dev.vllmraycluster.vllm;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which vLLM releases this tool deploys, and why: the default, the supported range and the
 * published advisories that refuse or flag a pin. README's "vLLM versions" section says the same.
 */
public final class VllmReleases {
  /** The default pin: the newest release checked against this tool (flags, entry point, Ray executor). */
  public static final String DEFAULT = "0.33.0";
  /**
   * The oldest release deployed: the first outside both remote-code-execution ranges below, and
   * the first that leaves Ray out of its own dependencies (the bootstrap installs Ray explicitly).
   */
  public static final String SUPPORTED_FROM = "0.18.0";

  /** A published advisory: versions {@code from} (inclusive) to {@code before} (exclusive). */
  public record Advisory(String id, String from, String before, boolean remoteCodeExecution, String what) {
    boolean covers(String release) {
      return compare(release, from) >= 0 && compare(release, before) < 0;
    }

    String range() {
      return from + " to before " + before;
    }
  }

  /** Pins inside a remote-code-execution range are refused; others are flagged. */
  public static final List<Advisory> ADVISORIES = List.of(
      new Advisory("CVE-2026-22778", "0.8.3", "0.14.1", true,
          "a malformed image's error returns a heap address to the client, the first step of a published remote-code-execution chain"),
      new Advisory("CVE-2026-27893", "0.10.1", "0.18.0", true,
          "two model implementations load sub-components with trust_remote_code=True whatever --trust-remote-code says"),
      new Advisory("CVE-2026-44223", "0.18.0", "0.20.0", false,
          "the extract_hidden_states speculative-decoding proposer crashes the engine after the first decode step"));

  /** A pin's verdict: refusals (with their fix) and warnings. */
  public record Verdict(List<String> refusals, String fix, List<String> warnings) {
    public boolean refused() {
      return !refusals.isEmpty();
    }
  }

  private static final Pattern RELEASE = Pattern.compile("(\\d+(?:\\.\\d+)*)");

  private VllmReleases() {}

  /** The release a version string is a build of: {@code 0.33.0+standin} → {@code 0.33.0}, {@code 0.33.0rc1} → {@code 0.33.0}. */
  public static String release(String version) {
    String v = version.contains("+") ? version.substring(0, version.indexOf('+')) : version;
    Matcher m = RELEASE.matcher(v);
    return m.lookingAt() ? m.group(1) : v;
  }

  /** Compares dotted releases numerically ({@code 0.9.2 < 0.18.0}); missing parts are 0. */
  public static int compare(String a, String b) {
    String[] x = release(a).split("\\.");
    String[] y = release(b).split("\\.");
    for (int i = 0; i < Math.max(x.length, y.length); i++) {
      long p = i < x.length && !x[i].isEmpty() ? Long.parseLong(x[i]) : 0;
      long q = i < y.length && !y[i].isEmpty() ? Long.parseLong(y[i]) : 0;
      if (p != q) {
        return Long.compare(p, q);
      }
    }
    return 0;
  }

  /** What pinning {@code version} means: refused below the supported range, flagged otherwise where it applies. */
  public static Verdict check(String version) {
    String release = release(version);
    List<String> refusals = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    for (Advisory a : ADVISORIES) {
      if (a.covers(release)) {
        String text = a.id() + " (vLLM " + a.range() + "): " + a.what();
        (a.remoteCodeExecution() ? refusals : warnings).add(text);
      }
    }
    if (compare(release, SUPPORTED_FROM) < 0 && refusals.isEmpty()) {
      refusals.add("older than " + SUPPORTED_FROM + ", the oldest release this tool deploys (older releases carry published remote-code-execution advisories and install Ray themselves)");
    }
    String newest = VllmFlags.FIXTURE_VERSIONS.get(VllmFlags.FIXTURE_VERSIONS.size() - 1);
    if (refusals.isEmpty() && VllmFlags.forVersion(version).isEmpty()) {
      warnings.add(compare(release, newest) > 0
          ? "vLLM " + release + " is newer than the newest release this tool has read (" + newest + "): vllm.extra_args and the generated flags are not checked against it"
          : "no flag list for vLLM " + release + " ships with this tool (it has " + String.join(", ", VllmFlags.FIXTURE_VERSIONS)
              + "): vllm.extra_args are not checked; tools/vllm-flags/vllm_flags.py " + release + " writes one");
    }
    String fix = "pin software.vllm_version: " + DEFAULT + " (the default) or another release from " + SUPPORTED_FROM + " on";
    return new Verdict(List.copyOf(refusals), fix, List.copyOf(warnings));
  }
}
