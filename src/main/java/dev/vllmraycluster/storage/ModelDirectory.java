package dev.vllmraycluster.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A fingerprint of a local model directory that is cheap on multi-GB weights: every file's
 * relative path and size, plus the full content of the small files (config, tokenizer) that a
 * model change always touches.
 */
public final class ModelDirectory {
  static final long SMALL_FILE_BYTES = 4L * 1024 * 1024;

  private ModelDirectory() {}

  public static String digest(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      List<Path> files = walk.filter(Files::isRegularFile).sorted().toList();
      for (Path file : files) {
        long size = Files.size(file);
        md.update(dir.relativize(file).toString().getBytes(StandardCharsets.UTF_8));
        md.update(Long.toString(size).getBytes(StandardCharsets.UTF_8));
        if (size <= SMALL_FILE_BYTES) {
          md.update(Files.readAllBytes(file));
        }
        md.update((byte) 0);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read model directory " + dir, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
