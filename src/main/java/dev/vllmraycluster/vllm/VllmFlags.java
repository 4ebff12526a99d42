package dev.vllmraycluster.vllm;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The options {@code vllm serve} accepts in one vLLM release, read from the fixture that
 * {@code tools/vllm-flags/vllm_flags.py} wrote from that release's wheel
 * ({@code resources/dev/vllmraycluster/vllm/flags/vllm-<version>.flags}), and the way vLLM's
 * {@code FlexibleArgumentParser} reads a command line: {@code --a_b} is {@code --a-b} (the name up
 * to the first {@code .}), {@code --flag=value}, {@code --json-flag.key value} for one key of a JSON
 * option, {@code -O3} for {@code --optimization-level 3}, and argparse's unique-prefix
 * abbreviations ({@code --tensor-parallel} is {@code --tensor-parallel-size}).
 */
public final class VllmFlags {
  private static final String RESOURCE_DIR = "/dev/vllmraycluster/vllm/flags/";
  /** The fixtures shipped; a pinned release without one is not checked (and flagged). */
  public static final List<String> FIXTURE_VERSIONS = List.of("0.18.0", "0.33.0", "0.34.0");

  private static final Map<String, VllmFlags> CACHE = new ConcurrentHashMap<>();
  private static final Pattern NEGATIVE_NUMBER = Pattern.compile("-\\d+(\\.\\d+)?([eE][-+]?\\d+)?");

  /** One argparse action: its option strings (the first long one is canonical) and arity. */
  public record Option(String canonical, List<String> names, String arity) {
    public boolean takesValue() {
      return !arity.equals("0");
    }
  }

  /** How a command-line token reads: the action it selects, or why it selects none. */
  public sealed interface Resolution permits Resolved, Unknown, Ambiguous, Invalid {}

  /** {@code token} selects {@code option}; {@code inlineValue} is what followed {@code =}, if any. */
  public record Resolved(String token, String normalized, Option option, String inlineValue)
      implements Resolution {}

  public record Unknown(String token, String normalized, List<String> suggestions)
      implements Resolution {}

  public record Ambiguous(String token, String normalized, List<String> candidates)
      implements Resolution {}

  public record Invalid(String token, String reason) implements Resolution {}

  /** A problem in an argument list: the index of the token, what is wrong and the fix. */
  public record Finding(int index, String token, String message, String fix) {}

  /** The release's Requires-Python as 3.x minors: {@code minMinor} inclusive, {@code maxMinor} exclusive (-1: none). */
  public record PythonRange(String spec, int minMinor, int maxMinor) {
    static PythonRange parse(String spec) {
      int min = -1;
      int max = -1;
      for (String part : spec.split(",")) {
        java.util.regex.Matcher m = Pattern.compile("\\s*(>=|<|>|<=)\\s*3\\.(\\d+).*").matcher(part);
        if (m.matches()) {
          int minor = Integer.parseInt(m.group(2));
          switch (m.group(1)) {
            case ">=" -> min = minor;
            case ">" -> min = minor + 1;
            case "<" -> max = minor;
            case "<=" -> max = minor + 1;
            default -> { }
          }
        }
      }
      return new PythonRange(spec, min, max);
    }

    /** Whether Python 3.{@code minor} is inside the range. */
    public boolean allows(int minor) {
      return (minMinor < 0 || minor >= minMinor) && (maxMinor < 0 || minor < maxMinor);
    }
  }

  private final String version;
  private PythonRange python;
  private final Map<String, Option> byName;
  private final List<Option> options;
  private final String positional;

  private VllmFlags(String version, List<Option> options, String positional) {
    this.version = version;
    this.options = List.copyOf(options);
    Map<String, Option> m = new LinkedHashMap<>();
    for (Option o : options) {
      for (String n : o.names()) {
        m.put(n, o);
      }
    }
    this.byName = Collections.unmodifiableMap(m);
    this.positional = positional;
  }

  /**
   * The option list of the release {@code version} is a build of: {@code 0.33.0+standin} and
   * {@code 0.33.0+cu128} read {@code 0.33.0}'s. Empty when no fixture ships for it.
   */
  public static Optional<VllmFlags> forVersion(String version) {
    String release = VllmReleases.release(version);
    if (!FIXTURE_VERSIONS.contains(release)) {
      return Optional.empty();
    }
    return Optional.of(CACHE.computeIfAbsent(release, VllmFlags::load));
  }

  private static VllmFlags load(String release) {
    String resource = RESOURCE_DIR + "vllm-" + release + ".flags";
    try (InputStream in = VllmFlags.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("fixture " + resource + " is missing from the build");
      }
      return parse(release, new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads a fixture's text (the format {@code tools/vllm-flags/vllm_flags.py} writes). */
  public static VllmFlags parse(String version, String text) {
    List<Option> options = new ArrayList<>();
    String positional = null;
    String requiresPython = null;
    int n = 0;
    try (BufferedReader r = new BufferedReader(new java.io.StringReader(text))) {
      for (String line; (line = r.readLine()) != null; ) {
        n++;
        String t = line.strip();
        if (t.startsWith("# requires-python:")) {
          requiresPython = t.substring("# requires-python:".length()).strip();
        }
        if (t.isEmpty() || t.startsWith("#")) {
          continue;
        }
        String[] parts = t.split("\\s+");
        if (parts[0].equals("positional")) {
          positional = parts.length > 1 ? parts[1] : "model_tag";
          continue;
        }
        if (parts.length < 2 || !parts[0].matches("[0-9]+|[?+*]") || !parts[1].startsWith("-")) {
          throw new IllegalArgumentException("vLLM " + version + " flag list line " + n + " is not 'ARITY OPTION...': " + line);
        }
        List<String> names = List.of(parts).subList(1, parts.length);
        options.add(new Option(names.get(0), names, parts[0]));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    VllmFlags flags = new VllmFlags(version, options, positional);
    flags.python = requiresPython == null ? null : PythonRange.parse(requiresPython);
    return flags;
  }

  /** The Python versions the release's wheels install on (its METADATA's Requires-Python), when recorded. */
  public Optional<PythonRange> python() {
    return Optional.ofNullable(python);
  }

  public String version() {
    return version;
  }

  public List<Option> options() {
    return options;
  }

  /** Every option string this release accepts, sorted. */
  public Set<String> names() {
    return Collections.unmodifiableSet(new TreeSet<>(byName.keySet()));
  }

  /** True when {@code token} (any spelling vLLM accepts, with or without {@code =value}) is an option of this release. */
  public boolean known(String token) {
    return resolve(token) instanceof Resolved;
  }

  /** The canonical option {@code token} selects, if it selects exactly one. */
  public Optional<String> canonical(String token) {
    return resolve(token) instanceof Resolved r ? Optional.of(r.option().canonical()) : Optional.empty();
  }

  /** The closest option strings to {@code token} (normalised), best first; at most three. */
  public List<String> suggest(String token) {
    String n = normalize(token);
    String bare = n.startsWith("--") ? n.substring(2) : n.replaceFirst("^-+", "");
    record Scored(String name, int score) {}
    List<Scored> scored = new ArrayList<>();
    for (String name : byName.keySet()) {
      if (!name.startsWith("--")) {
        continue;
      }
      String b = name.substring(2);
      int d = distance(bare, b);
      int limit = Math.max(2, Math.min(bare.length(), b.length()) / 3);
      boolean contains = bare.length() >= 4 && (b.contains(bare) || bare.contains(b));
      if (d <= limit || contains) {
        scored.add(new Scored(name, contains ? Math.min(d, limit) : d));
      }
    }
    scored.sort(Comparator.comparingInt(Scored::score).thenComparing(Scored::name));
    return scored.stream().limit(3).map(Scored::name).toList();
  }

  /**
   * vLLM's spelling of a token before argparse sees it: {@code --a_b=x} → {@code --a-b}, the part
   * up to the first {@code .} only; {@code -O3}/{@code -O=3} → {@code --optimization-level}.
   */
  public static String normalize(String token) {
    String flag = token.contains("=") ? token.substring(0, token.indexOf('=')) : token;
    if (flag.startsWith("--")) {
      int dot = flag.indexOf('.');
      String head = dot < 0 ? flag : flag.substring(0, dot);
      String tail = dot < 0 ? "" : flag.substring(dot);
      return "--" + head.substring(2).replace('_', '-') + tail;
    }
    if (token.startsWith("-O")) {
      return "--optimization-level";
    }
    return flag;
  }

  /** What {@code token} means to this release's parser (it must start with {@code -}). */
  public Resolution resolve(String token) {
    if (!token.startsWith("-") || token.equals("-") || token.equals("--")) {
      return new Invalid(token, "not an option");
    }
    String normalized = normalize(token);
    String inline = token.contains("=") ? token.substring(token.indexOf('=') + 1) : null;
    if (token.startsWith("-O") && !token.startsWith("--")) {
      inline = token.equals("-O") ? null : token.startsWith("-O=") ? token.substring(3) : token.substring(2);
    }
    String lookup = normalized;
    boolean dotted = normalized.startsWith("--") && normalized.indexOf('.') > 0;
    if (dotted) {
      // --json-option.key value: vLLM folds these into one JSON value of --json-option.
      lookup = normalized.substring(0, normalized.indexOf('.'));
      if (lookup.endsWith("+")) {
        lookup = lookup.substring(0, lookup.length() - 1);
      }
    }
    Option exact = byName.get(lookup);
    if (exact != null) {
      return checked(token, normalized, exact, inline, dotted);
    }
    if (lookup.startsWith("--")) {
      // argparse's abbreviations: a unique prefix of the option strings selects that option.
      List<String> matches = new ArrayList<>();
      for (String name : byName.keySet()) {
        if (name.startsWith("--") && name.startsWith(lookup)) {
          matches.add(name);
        }
      }
      if (matches.size() == 1) {
        return checked(token, normalized, byName.get(matches.get(0)), inline, dotted);
      }
      if (matches.size() > 1) {
        return new Ambiguous(token, normalized, matches);
      }
    }
    return new Unknown(token, normalized, suggest(token));
  }

  private Resolution checked(String token, String normalized, Option o, String inline, boolean dotted) {
    if (dotted && !o.takesValue()) {
      return new Invalid(token, o.canonical() + " takes no value, so it has no JSON keys to set");
    }
    if (inline != null && !o.takesValue()) {
      return new Invalid(token, o.canonical() + " takes no value (argparse: ignored explicit argument '" + inline + "')");
    }
    return new Resolved(token, normalized, o, inline);
  }

  /**
   * Checks an argument list as {@code vllm serve} would read it (options, their values, the one
   * optional positional model), returning every problem. {@code positionalAllowed}: whether a
   * leading positional argument (the model) is expected.
   */
  public List<Finding> check(List<String> args, boolean positionalAllowed) {
    List<Finding> findings = new ArrayList<>();
    boolean positionalSeen = !positionalAllowed || positional == null;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (!a.startsWith("-") || NEGATIVE_NUMBER.matcher(a).matches()) {
        if (!positionalSeen) {
          positionalSeen = true;
          continue;
        }
        findings.add(new Finding(i, a, "'" + a + "' is neither a vLLM " + version + " option nor the value of one",
            "give each value right after its option, e.g. --max-num-seqs, 64"));
        continue;
      }
      Resolution r = resolve(a);
      if (r instanceof Resolved res) {
        if (res.inlineValue() == null && res.option().takesValue()) {
          i = consumeValues(args, i, res.option().arity(), findings, res.option().canonical());
        }
      } else if (r instanceof Unknown u) {
        findings.add(new Finding(i, a,
            "'" + a + "' is not an option of vLLM " + version + (u.normalized().equals(a) ? "" : " (read as " + u.normalized() + ")"),
            u.suggestions().isEmpty()
                ? "check the option against `vllm serve --help=all` of vLLM " + version
                : "did you mean " + String.join(" or ", u.suggestions()) + "?"));
      } else if (r instanceof Ambiguous amb) {
        findings.add(new Finding(i, a,
            "'" + a + "' abbreviates several options of vLLM " + version + ": " + String.join(", ", amb.candidates()),
            "write the option in full"));
      } else if (r instanceof Invalid inv) {
        findings.add(new Finding(i, a, "'" + a + "': " + inv.reason(), "remove the value, or use the option's --no- form"));
      }
    }
    return findings;
  }

  private int consumeValues(List<String> args, int i, String arity, List<Finding> findings, String option) {
    boolean hasNext = i + 1 < args.size() && isValue(args.get(i + 1));
    switch (arity) {
      case "1" -> {
        if (!hasNext) {
          findings.add(new Finding(i, args.get(i), option + " needs a value", "put the value right after it, or write " + option + "=VALUE"));
          return i;
        }
        return i + 1;
      }
      case "?" -> {
        return hasNext ? i + 1 : i;
      }
      case "+", "*" -> {
        if (!hasNext && arity.equals("+")) {
          findings.add(new Finding(i, args.get(i), option + " needs at least one value", "put the values right after it"));
        }
        int j = i;
        while (j + 1 < args.size() && isValue(args.get(j + 1))) {
          j++;
        }
        return j;
      }
      default -> {
        int count = Integer.parseInt(arity);
        int j = i;
        while (j - i < count && j + 1 < args.size() && isValue(args.get(j + 1))) {
          j++;
        }
        if (j - i < count) {
          findings.add(new Finding(i, args.get(i), option + " needs " + count + " values", "put them right after it"));
        }
        return j;
      }
    }
  }

  private static boolean isValue(String token) {
    return !token.startsWith("-") || NEGATIVE_NUMBER.matcher(token).matches() || token.equals("-");
  }

  /** Levenshtein distance ({@link dev.vllmraycluster.spec.EditDistance}). */
  static int distance(String a, String b) {
    return dev.vllmraycluster.spec.EditDistance.between(a, b);
  }
}
