package dev.vllmraycluster.contract;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The one way a value reaches a shell command line and an OpenTofu string: shell-quoted (a second
 * line of defence behind {@link dev.vllmraycluster.spec.SpecValidator}), and with OpenTofu's
 * template sequences escaped.
 */
public final class Shell {
  /** Characters that need no quoting in POSIX sh (as Python's shlex.quote leaves them). */
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

  private Shell() {}

  /**
   * A single shell word: the value itself when it has only plain characters, else single-quoted
   * ({@code '} as {@code '\''}). Validated values are plain, so they read as before.
   */
  public static String quote(String value) {
    if (value != null && PLAIN.matcher(value).matches()) {
      return value;
    }
    return singleQuoted(value);
  }

  /** Always single-quoted ({@code '} as {@code '\''}), for text that reads better quoted. */
  public static String singleQuoted(String value) {
    return "'" + (value == null ? "" : value.replace("'", "'\\''")) + "'";
  }

  /** Several words, each quoted, joined by spaces. */
  public static String words(List<String> values) {
    return String.join(" ", values.stream().map(Shell::quote).toList());
  }

  /**
   * A literal for a string in {@code cdk.tf.json}: OpenTofu reads <code>${...}</code> and
   * <code>%{...}</code> in any string as interpolation or a template directive; <code>$${</code>
   * and <code>%%{</code> are their literal forms. Used on every value that comes from a stack, never on the
   * interpolations this tool writes on purpose (<code>${self.input.host}</code>,
   * <code>${var.&lt;secret&gt;}</code>).
   */
  public static String literal(String value) {
    return value == null ? null : value.replace("${", "$${").replace("%{", "%%{");
  }
}
