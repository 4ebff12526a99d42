package dev.vllmraycluster.preflight;

import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.HuggingFace;
import dev.vllmraycluster.spec.ClusterSpec.LocalDirectory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * How many bytes of weights the model has: measured (the local directory, or a complete copy
 * already on a node), else estimated from a parameter count in its name ("7b", "8x7B") at the
 * bytes per parameter its name or dtype suggests. Unknown when neither works.
 */
public final class ModelSize {
  private static final Pattern WEIGHTS = Pattern.compile(".*\\.(safetensors|bin|pt|pth|gguf)$");
  private static final Pattern MOE = Pattern.compile("(?i)(?<![a-z0-9.])(\\d+)x(\\d+(?:\\.\\d+)?)b(?![a-z])");
  private static final Pattern PARAMS = Pattern.compile("(?i)(?<![a-z0-9.])(\\d+(?:\\.\\d+)?)b(?![a-z])");

  private ModelSize() {}

  /** {@code bytes} of weights; {@code how} says whether measured or estimated, and from what. */
  public record Estimate(long bytes, String how) {
    public String gib() {
      return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }
  }

  /** From the stack alone (no host): the local directory's weight files, or the repository name. */
  public static Estimate fromSpec(ClusterSpec spec) {
    if (spec.model().source() instanceof LocalDirectory dir) {
      return new Estimate(weightBytes(Path.of(dir.path())), "measured in " + dir.path());
    }
    if (spec.model().source() instanceof HuggingFace hf) {
      return fromName(hf.repo(), spec.vllm().dtype());
    }
    return null;
  }

  /** Parameters from the name ("deepseek-llm-7b-chat": 7e9), times bytes per parameter; null if none. */
  public static Estimate fromName(String repo, String dtype) {
    String name = repo.substring(repo.indexOf('/') + 1);
    double params;
    Matcher moe = MOE.matcher(name);
    if (moe.find()) {
      params = Integer.parseInt(moe.group(1)) * Double.parseDouble(moe.group(2)) * 1e9;
    } else {
      Matcher m = PARAMS.matcher(name);
      if (!m.find()) {
        return null;
      }
      params = Double.parseDouble(m.group(1)) * 1e9;
    }
    String lower = name.toLowerCase(Locale.ROOT);
    double perParam = 2;
    String why = "16-bit weights";
    if (lower.matches(".*(awq|gptq|int4|4bit|w4a16|q4).*")) {
      perParam = 0.5;
      why = "4-bit weights (from the name)";
    } else if (lower.matches(".*(fp8|int8|8bit|w8a8|q8).*")) {
      perParam = 1;
      why = "8-bit weights (from the name)";
    } else if ("float32".equals(dtype) || "float".equals(dtype)) {
      perParam = 4;
      why = "float32 (vllm.dtype)";
    }
    return new Estimate((long) (params * perParam), String.format(Locale.ROOT,
        "estimated from the name: %.3g B parameters × %s bytes, %s", params / 1e9,
        perParam == (long) perParam ? String.valueOf((long) perParam) : String.valueOf(perParam), why));
  }

  static long weightBytes(Path dir) {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> walk = Files.walk(dir, 2)) {
      return walk.filter(Files::isRegularFile)
          .filter(p -> WEIGHTS.matcher(p.getFileName().toString()).matches())
          .mapToLong(p -> {
            try {
              return Files.size(p);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          })
          .sum();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir, e);
    }
  }
}
