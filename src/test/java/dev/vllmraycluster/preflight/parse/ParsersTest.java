package dev.vllmraycluster.preflight.parse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.preflight.Fixtures;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every parser on real captured output: a 2 × H200 host, and sandbox-style Debian hosts. */
class ParsersTest {
  @Test
  void gpuQueryReadsBothH200s() {
    List<GpuQuery.Gpu> gpus = GpuQuery.parse(Fixtures.output("gpu-host-h200x2/query-gpu.noheader-nounits.txt"));
    assertEquals(2, gpus.size());
    GpuQuery.Gpu g0 = gpus.get(0);
    assertEquals(0, g0.index());
    assertEquals("GPU-c095689f-a602-4866-c19d-755f008bd021", g0.uuid());
    assertEquals("NVIDIA H200", g0.name());
    assertEquals(143771, g0.memoryTotalMiB());
    assertEquals(0, g0.memoryUsedMiB());
    assertEquals("580.159.04", g0.driver());
    assertEquals(1, gpus.get(1).index());
  }

  @Test
  void failsOnAnotherFieldList() {
    // The same host queried for 7 other fields: refused, not misread.
    ParseException e = assertThrows(ParseException.class,
        () -> GpuQuery.parse(Fixtures.output("gpu-host-h200x2/query-gpu-free-cc.noheader-nounits.txt")));
    assertTrue(e.getMessage().contains("expected 6 fields"), e.getMessage());
  }

  @Test
  void gpuQueryReadsNotAvailableAsUnknown() {
    GpuQuery.Gpu g = GpuQuery.parse("0, GPU-x, NVIDIA T4, [N/A], [N/A], 535.1\n").get(0);
    assertEquals(-1, g.memoryTotalMiB());
    assertEquals(-1, g.memoryFreeMiB());
  }

  @Test
  void bannerGivesDriverAndCuda() {
    for (String f : List.of("nvidia-smi.idle.txt", "nvidia-smi.busy.txt")) {
      NvidiaSmiHeader.Versions v = NvidiaSmiHeader.parse(Fixtures.output("gpu-host-h200x2/" + f));
      assertEquals("580.159.04", v.driver());
      assertEquals("13.0", v.cuda());
      assertEquals(13, v.cudaMajor());
    }
  }

  @Test
  void topologyShowsNvlinkThroughTheTerminalUnderline() {
    String out = Fixtures.output("gpu-host-h200x2/nvidia-smi-topo-m.txt");
    assertTrue(out.contains("\u001B[4m"), "the capture has nvidia-smi's escape codes");
    GpuTopology t = GpuTopology.parse(out);
    assertEquals(List.of("GPU0", "GPU1"), t.gpus());
    assertEquals("NV18", t.link(0, 1));
    assertEquals("NV18", t.link(1, 0));
    assertEquals("X", t.link(0, 0));
    assertTrue(t.nvlink(0, 1));
    assertNull(t.link(0, 2));
  }

  @Test
  void topologyOfPciePairIsNotNvlink() {
    GpuTopology t = GpuTopology.parse("\tGPU0\tGPU1\tCPU Affinity\n GPU0\t X \tPHB\t0-15\nGPU1\tPHB\t X \t0-15\n\nLegend:\n");
    assertEquals("PHB", t.link(0, 1));
    assertFalse(t.nvlink(0, 1));
  }

  @Test
  void computeAppsOfTheBusyHost() {
    List<ComputeApps.App> apps = ComputeApps.parse(Fixtures.output("gpu-host-h200x2/query-compute-apps.busy.noheader-nounits.txt"));
    assertEquals(2, apps.size());
    assertEquals(new ComputeApps.App(694, "python3", 19592, "GPU-c095689f-a602-4866-c19d-755f008bd021"), apps.get(0));
    assertEquals(8148, apps.get(1).usedMiB());
    assertEquals(List.of(), ComputeApps.parse(""));
    assertEquals("ray::RayWorkerWrapper, tp0", ComputeApps.parse("12, ray::RayWorkerWrapper, tp0, 900, GPU-1\n").get(0).processName());
  }

  @Test
  void dfInBothLayouts() {
    List<DiskFree.Mount> gnu = DiskFree.parse(Fixtures.output("gpu-host-h200x2/df-shm-root.txt"), 1);
    assertEquals("/dev/shm", gnu.get(0).mountedOn());
    assertEquals(274877906944L, gnu.get(0).availableBytes());
    assertEquals(-1, gnu.get(0).sizeBytes());
    assertEquals("/", gnu.get(1).mountedOn());

    List<DiskFree.Mount> posix = DiskFree.parse(Fixtures.output("sandbox-bookworm/df-P-k.head.txt"), 1);
    assertEquals("/", posix.get(0).mountedOn());
    assertEquals(74676580L * 1024, posix.get(0).availableBytes());
    assertEquals("/dev/shm", posix.get(1).mountedOn());
    assertEquals(2468412L * 1024, posix.get(1).sizeBytes());
  }

  @Test
  void osReleaseOfUbuntuAndDebian() {
    OsRelease.Os ubuntu = OsRelease.parse(Fixtures.output("gpu-host-h200x2/os-release.txt"));
    assertEquals("ubuntu", ubuntu.id());
    assertEquals(List.of("ubuntu", "debian"), ubuntu.family());
    assertEquals("24.04", ubuntu.versionId());
    assertEquals("Ubuntu 24.04.3 LTS", ubuntu.prettyName());
    OsRelease.Os debian = OsRelease.parse(Fixtures.output("sandbox-bookworm/preflight-deployed/head/os.out"));
    assertEquals("debian", debian.id());
    assertEquals("12", debian.versionId());
  }

  @Test
  void ipAddressesFindTheInterfaceOfAnAddress() {
    List<IpAddresses.Interface> head = IpAddresses.parseJson(Fixtures.output("sandbox-bookworm/ip-j-addr.head.txt"));
    assertEquals("host0", IpAddresses.holding(head, "10.215.0.11").orElseThrow().name());
    assertTrue(IpAddresses.holding(head, "10.215.0.99").isEmpty());
    assertEquals(List.of("host0"), IpAddresses.routable(head).stream().map(IpAddresses.Interface::name).toList());

    List<IpAddresses.Interface> multi = IpAddresses.parseJson(Fixtures.output("sandbox-bookworm/ip-j-addr.worker1-multihomed.txt"));
    assertEquals(List.of("host0", "vrcpf-x0"), IpAddresses.routable(multi).stream().map(IpAddresses.Interface::name).toList());

    List<IpAddresses.Interface> plain = IpAddresses.parseHostnameI("10.215.0.11 fe80::1 \n");
    assertTrue(IpAddresses.holding(plain, "10.215.0.11").isPresent());
    assertNull(plain.get(0).name());
    assertThrows(ParseException.class, () -> IpAddresses.parseJson("Usage: ip [ OPTIONS ] OBJECT"));
  }

  @Test
  void listeningPortsWithTheirProcessesAndUnits() {
    List<ListeningPorts.Listener> plain = ListeningPorts.parse(Fixtures.output("sandbox-bookworm/ss-Htlnp.head-deployed.txt"));
    ListeningPorts.Listener gcs = plain.stream().filter(l -> l.port() == 6379).findFirst().orElseThrow();
    assertEquals("*", gcs.address());
    assertEquals(new ListeningPorts.Process("gcs_server", 724, null), gcs.processes().get(0));
    assertTrue(plain.stream().anyMatch(l -> l.port() == 10001 && l.address().equals("[::ffff:127.0.0.1]")));

    List<ListeningPorts.Listener> withUnits = ListeningPorts.parse(Fixtures.output("sandbox-bookworm/preflight-deployed/head/ports.out"));
    ListeningPorts.Listener api = withUnits.stream().filter(l -> l.port() == 9001).findFirst().orElseThrow();
    assertEquals("vrc-vllm.service", api.processes().get(0).unit());
    ListeningPorts.Listener ssh = withUnits.stream().filter(l -> l.port() == 22).findFirst().orElseThrow();
    assertEquals("ssh.service", ssh.processes().get(0).unit());
  }

  @Test
  void rayStatusCountsNodesAndGpus() {
    RayStatus.Status up = RayStatus.parse(Fixtures.output("sandbox-bookworm/ray-status.deployed.txt"));
    assertEquals(3, up.activeNodes());
    assertEquals(3.0, up.total("GPU"));
    assertEquals("2.0", up.resources().get("GPU").used());
    assertEquals(6.0, up.total("CPU"));
    assertEquals("47.02GiB", up.resources().get("memory").total());
    assertEquals(List.of(), up.pending());
    assertEquals(List.of(), up.failures());

    RayStatus.Status down = RayStatus.parse(Fixtures.output("sandbox-bookworm/ray-status.worker2-stopped.txt"));
    assertEquals(2, down.activeNodes());
    assertEquals(2.0, down.total("GPU"));
    assertThrows(ParseException.class, () -> RayStatus.parse("ConnectionError: could not connect to GCS"));
  }
}
