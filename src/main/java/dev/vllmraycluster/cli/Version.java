package dev.vllmraycluster.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.IVersionProvider;

/** The project version, written into the jar at build time (a filtered resource). */
final class Version implements IVersionProvider {
  static final String RESOURCE = "version.txt";

  @Override
  public String[] getVersion() throws IOException {
    return new String[] {"vllm-ray-cluster " + project()};
  }

  static String project() throws IOException {
    try (InputStream in = Version.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IOException("the build did not package " + RESOURCE + " beside " + Version.class.getName());
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
    }
  }
}
