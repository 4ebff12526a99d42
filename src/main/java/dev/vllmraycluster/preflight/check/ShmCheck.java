package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Bytes;
import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.Thresholds;
import dev.vllmraycluster.preflight.parse.DiskFree;
import dev.vllmraycluster.preflight.parse.ParseException;
import java.util.List;

/** The size of /dev/shm: NCCL's shared-memory transport and Ray's object store live there. */
public final class ShmCheck extends NodeCheck {
  private static final String FIX = "enlarge it: mount -o remount,size=32G /dev/shm (and the same size in /etc/fstab);"
      + " in a container run with --ipc=host or --shm-size=32g";

  @Override
  public String name() {
    return "shm";
  }

  @Override
  public String summary() {
    return "/dev/shm size (NCCL, Ray object store)";
  }

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    DiskFree.Mount shm;
    try {
      List<DiskFree.Mount> mounts = DiskFree.parse(f.output(PreflightProbes.SHM), 1024);
      if (mounts.isEmpty()) {
        throw new ParseException("df printed no file system");
      }
      shm = mounts.get(0);
    } catch (ParseException e) {
      return fail(f, "cannot read /dev/shm: " + e.getMessage(), "mount a tmpfs at /dev/shm; " + FIX);
    }
    if (!"/dev/shm".equals(shm.mountedOn())) {
      return warn(f, "/dev/shm is not a mount of its own (it is on " + shm.mountedOn() + ")", "mount a tmpfs at /dev/shm; " + FIX);
    }
    long size = shm.sizeBytes() >= 0 ? shm.sizeBytes() : shm.availableBytes();
    String text = "/dev/shm " + Bytes.human(size) + " (" + Bytes.human(shm.availableBytes()) + " free)";
    if (size < Thresholds.SHM_FAIL_BYTES) {
      return fail(f, text + ": NCCL and Ray fail or fall back to slow paths below " + Bytes.human(Thresholds.SHM_FAIL_BYTES), FIX);
    }
    if (size < Thresholds.SHM_WARN_BYTES) {
      return warn(f, text + ": small for Ray's object store and NCCL (under " + Bytes.human(Thresholds.SHM_WARN_BYTES) + ")", FIX);
    }
    return ok(f, text);
  }
}
