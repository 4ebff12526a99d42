package dev.vllmraycluster.preflight;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The unit a process runs in, as the ports and GPU-process probes read it from {@code
 * /proc/<pid>/cgroup}: our services run in {@code vrc.slice}, not {@code system.slice}, so a
 * re-run of preflight on a deployed cluster (e.g. a scale-out) must still see that the ports are
 * held by our own units.
 */
class UnitOfPidTest {
  @Test
  void findsTheServiceInAnySlice() throws Exception {
    // Real lines: a sandbox head (systemd-nspawn, cgroup v1 name= hierarchy and v2), 2026-12-05.
    assertEquals("vrc-ray-head.service", unitOf("""
        9:name=systemd:/payload/vrc.slice/vrc-ray-head.service
        8:pids:/
        4:memory:/process_api/b63f228c3e94bae9db5173afbdaab118
        0::/payload/vrc.slice/vrc-ray-head.service
        """));
    assertEquals("vrc-vllm.service", unitOf("0::/vrc.slice/vrc-vllm.service\n"));
    assertEquals("ssh.service", unitOf("0::/system.slice/ssh.service\n"));
    assertEquals("foo.service", unitOf("0::/system.slice/foo.service/payload\n"));
    assertEquals("", unitOf("0::/user.slice/user-0.slice/session-1.scope\n"));
    assertEquals("", unitOf("0::/init.scope\n"));
  }

  /** What the probe's sed prints for this cgroup file, first line only. */
  private static String unitOf(String cgroup) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("sh", "-c", "sed -n '" + PreflightProbes.SERVICE_OF_CGROUP + "' | head -n 1")
        .redirectErrorStream(true).start();
    p.getOutputStream().write(cgroup.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertEquals(0, p.waitFor(), out);
    return out;
  }
}
