package dev.vllmraycluster.preflight;

import java.util.Locale;

/** The outcome of one check on one node, as kubeadm's preflight words it. */
public enum Status {
  OK,
  WARN,
  FAIL;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
