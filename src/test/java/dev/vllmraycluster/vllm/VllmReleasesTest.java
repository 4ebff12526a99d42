package dev.vllmraycluster.vllm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which pins are refused, flagged or taken, and why. */
class VllmReleasesTest {
  @Test
  void theDefaultIsTakenWithoutWarnings() {
    VllmReleases.Verdict v = VllmReleases.check(VllmReleases.DEFAULT);
    assertFalse(v.refused(), v.toString());
    assertEquals(java.util.List.of(), v.warnings());
    assertFalse(VllmReleases.check("0.33.0+standin").refused());
  }

  @Test
  void pinsInsideARemoteCodeExecutionRangeAreRefusedNamingTheAdvisory() {
    VllmReleases.Verdict old = VllmReleases.check("0.9.2");
    assertTrue(old.refused());
    assertTrue(String.join("\n", old.refusals()).contains("CVE-2026-22778"), old.toString());
    VllmReleases.Verdict both = VllmReleases.check("0.12.0");
    assertEquals(2, both.refusals().size(), both.toString());
    VllmReleases.Verdict trc = VllmReleases.check("0.17.1");
    assertTrue(trc.refusals().get(0).contains("CVE-2026-27893"), trc.toString());
    assertTrue(trc.fix().contains(VllmReleases.DEFAULT), trc.fix());
    assertTrue(VllmReleases.check("0.7.3").refused(), "older than the supported range");
  }

  @Test
  void supportedPinsAreFlaggedForAdvisoriesAndMissingFlagLists() {
    VllmReleases.Verdict floor = VllmReleases.check("0.18.0");
    assertFalse(floor.refused());
    assertTrue(floor.warnings().get(0).contains("CVE-2026-44223"), floor.toString());
    VllmReleases.Verdict between = VllmReleases.check("0.25.0");
    assertTrue(between.warnings().get(0).contains("no flag list for vLLM 0.25.0"), between.toString());
    VllmReleases.Verdict newer = VllmReleases.check("0.40.1");
    assertTrue(newer.warnings().get(0).contains("newer than the newest release"), newer.toString());
  }

  @Test
  void comparesReleasesNumerically() {
    assertTrue(VllmReleases.compare("0.9.2", "0.18.0") < 0);
    assertEquals(0, VllmReleases.compare("0.33.0+standin", "0.33"));
    assertEquals("0.33.0", VllmReleases.release("0.33.0rc1"));
  }
}
