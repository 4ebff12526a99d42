package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Bytes;
import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.Thresholds;
import dev.vllmraycluster.preflight.parse.DiskFree;
import dev.vllmraycluster.preflight.parse.KeyValues;
import dev.vllmraycluster.preflight.parse.ParseException;
import dev.vllmraycluster.ssh.CommandResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Free disk where the venv goes ({@code software.venv_path}) and, on the nodes that hold a copy of
 * the model, where the model goes ({@code storage.mount_path}); both on one file system add up.
 */
public final class DiskCheck extends NodeCheck {
  @Override
  public String name() {
    return "disk";
  }

  @Override
  public String summary() {
    return "free disk at the venv path and, where the model is stored, at the model path";
  }

  private record Need(String what, String path, long bytes, boolean there) {}

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    Map<String, DiskFree.Mount> mounts = new LinkedHashMap<>();
    Map<String, List<Need>> needs = new LinkedHashMap<>();
    String venv = ctx.spec().software().venvPath();
    CommandResult venvProbe = f.result(PreflightProbes.VENV);
    boolean venvThere = venvProbe != null && venvProbe.ok() && "present".equals(KeyValues.parse(venvProbe.stdout()).get("venv"));
    try {
      add(f, PreflightProbes.DISK_VENV, mounts, needs,
          new Need("venv", venv, venvThere ? Thresholds.HEADROOM_BYTES : Thresholds.VENV_BYTES, venvThere));
      if (f.result(PreflightProbes.DISK_MODEL) != null) {
        CommandResult model = f.result(PreflightProbes.MODEL);
        boolean complete = model != null && model.ok() && ctx.modelManifest() != null
            && ctx.modelManifest().equals(KeyValues.parse(model.stdout()).get("complete"));
        long size = ctx.modelSize() == null ? -1 : ctx.modelSize().bytes();
        add(f, PreflightProbes.DISK_MODEL, mounts, needs, new Need("model", ctx.spec().storage().mountPath(),
            complete ? Thresholds.HEADROOM_BYTES : size < 0 ? -1 : size + size / 20 + Thresholds.HEADROOM_BYTES, complete));
      }
    } catch (ParseException e) {
      return warn(f, "cannot read free disk space: " + e.getMessage(), "run df -P -k " + venv + " on the host");
    }
    List<String> parts = new ArrayList<>();
    List<String> tooSmall = new ArrayList<>();
    boolean unknown = false;
    for (Map.Entry<String, List<Need>> e : needs.entrySet()) {
      DiskFree.Mount m = mounts.get(e.getKey());
      long total = 0;
      List<String> what = new ArrayList<>();
      for (Need n : e.getValue()) {
        if (n.there()) {
          total += n.bytes();
          what.add(n.what() + " " + n.path() + " (in place)");
        } else if (n.bytes() < 0) {
          unknown = true;
          what.add(n.what() + " " + n.path() + " (size unknown)");
        } else {
          total += n.bytes();
          what.add(n.what() + " " + n.path() + " ~" + Bytes.human(n.bytes()));
        }
      }
      String line = m.mountedOn() + ": " + Bytes.human(m.availableBytes()) + " free; needs " + Bytes.human(total)
          + " for " + String.join(" + ", what);
      parts.add(line);
      if (m.availableBytes() < total) {
        tooSmall.add(line);
      }
    }
    if (!tooSmall.isEmpty()) {
      return fail(f, "not enough space: " + String.join("; ", tooSmall),
          "free space there, or point software.venv_path / storage.mount_path at a larger file system");
    }
    if (unknown) {
      return warn(f, String.join("; ", parts), "make sure the model fits: its size could not be estimated");
    }
    return ok(f, String.join("; ", parts));
  }

  private static void add(NodeFacts f, String probe, Map<String, DiskFree.Mount> mounts,
      Map<String, List<Need>> needs, Need need) {
    CommandResult r = f.result(probe);
    if (r == null || !r.ok()) {
      throw new ParseException(r == null ? "df not run" : r.brief());
    }
    List<DiskFree.Mount> list = DiskFree.parse(r.stdout(), 1024);
    if (list.isEmpty()) {
      throw new ParseException("df printed no file system");
    }
    DiskFree.Mount m = list.get(0);
    mounts.putIfAbsent(m.mountedOn(), m);
    needs.computeIfAbsent(m.mountedOn(), k -> new ArrayList<>()).add(need);
  }
}
