package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.parse.OsRelease;
import dev.vllmraycluster.preflight.parse.ParseException;
import dev.vllmraycluster.spec.ClusterSpec.OsFamily;
import java.util.List;
import java.util.Map;

/** The OS family (apt or dnf) and a supported version. */
public final class OsCheck extends NodeCheck {
  /** Oldest major version per distribution that the bootstrap's packages exist on. */
  private static final Map<String, Double> MINIMUM =
      Map.of("debian", 11.0, "ubuntu", 20.04, "rhel", 8.0, "rocky", 8.0, "almalinux", 8.0, "centos", 8.0, "fedora", 38.0);

  @Override
  public String name() {
    return "os";
  }

  @Override
  public String summary() {
    return "OS family (apt/dnf) matches software.os_family, version supported";
  }

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    OsRelease.Os os;
    try {
      os = OsRelease.parse(f.output(PreflightProbes.OS));
    } catch (ParseException e) {
      return fail(f, "cannot read /etc/os-release: " + e.getMessage(),
          "the bootstrap needs a Debian/Ubuntu (apt) or RHEL-family (dnf) system with /etc/os-release");
    }
    OsFamily found = family(os.family());
    OsFamily wanted = ctx.spec().software().osFamily();
    String label = os.prettyName() + " (" + (found == null ? "unknown family" : found.name().toLowerCase()) + ")";
    if (found == null) {
      return fail(f, label + ": neither apt- nor dnf-based",
          "run the nodes on Debian/Ubuntu or a RHEL-family system; the bootstrap installs packages with apt or dnf");
    }
    if (wanted != OsFamily.AUTO && wanted != found) {
      return fail(f, label + " but software.os_family is " + wanted.name().toLowerCase(),
          "set software.os_family: " + found.name().toLowerCase() + " (or auto)");
    }
    Double min = MINIMUM.get(os.id());
    if (min != null && version(os.versionId()) < min) {
      return warn(f, label + " is older than the tested minimum " + os.id() + " " + min,
          "the pinned Ray/vLLM wheels need a recent glibc; upgrade the OS if the install fails");
    }
    return ok(f, label);
  }

  static OsFamily family(List<String> ids) {
    for (String id : ids) {
      switch (id) {
        case "debian", "ubuntu" -> {
          return OsFamily.APT;
        }
        case "rhel", "fedora", "centos", "rocky", "almalinux" -> {
          return OsFamily.DNF;
        }
        default -> {
          // look at the next id
        }
      }
    }
    return null;
  }

  private static double version(String v) {
    try {
      String[] parts = v.split("\\.");
      return Double.parseDouble(parts.length > 1 ? parts[0] + "." + parts[1] : parts[0]);
    } catch (NumberFormatException e) {
      return Double.MAX_VALUE;
    }
  }
}
