package dev.vllmraycluster.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;

/**
 * A stand-in {@code nvidia-smi} for a sandbox host (which has no GPU): it prints what a real 2 ×
 * H200 host printed (the captures in {@code fixtures/gpu-host-h200x2}) for the queries our
 * collectors and status make. The utilisation query has no capture of its own: its answer is the
 * same GPUs' {@code <gpu_util>} from the {@code -q -x} capture (0 % on both).
 */
final class StandinNvidiaSmi {
  static final String H200 = "src/test/resources/fixtures/gpu-host-h200x2/";

  private StandinNvidiaSmi() {}

  static String script() {
    return "#!/bin/sh\n# Stand-in written by the e2e tests: prints what a real 2 x H200 host printed.\n"
        + "case \"$*\" in\n"
        + "  '-q -x') cat <<'EOF'\n" + fixture("nvidia-smi-q-x.xml.txt") + "EOF\n;;\n"
        + "  '--query-gpu=index,utilization.gpu --format=csv,noheader,nounits') printf '0, 0\\n1, 0\\n' ;;\n"
        + "  --query-gpu=index,uuid,*) cat <<'EOF'\n" + fixture("query-gpu.noheader-nounits.txt") + "EOF\n;;\n"
        + "  --query-compute-apps=*) ;;\n"
        + "  '') cat <<'EOF'\n" + fixture("nvidia-smi.idle.txt") + "EOF\n;;\n"
        + "  *) echo \"stand-in nvidia-smi: unsupported: $*\" >&2; exit 2 ;;\n"
        + "esac\n";
  }

  private static String fixture(String name) {
    try {
      String text = Files.readString(Sandbox.ROOT.resolve(H200 + name));
      return text.substring(text.indexOf('\n') + 1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
