package dev.vllmraycluster.e2e;

import static dev.vllmraycluster.e2e.Sandbox.assertContains;
import static dev.vllmraycluster.e2e.Sandbox.step;
import static dev.vllmraycluster.e2e.Vms.ip;
import static dev.vllmraycluster.e2e.Vms.on;
import static dev.vllmraycluster.e2e.Vms.onOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vllmraycluster.review.TofuPlans;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * modules/model-store on real kernels: sandbox VMs (qemu, TCG) head, worker1 and nfs. The
 * synthesized stack is applied with OpenTofu (the provisioners cdktf deploy runs), targeted at the
 * firewall and model-store steps and what they depend on (local checks with preflight,
 * bootstrap): Ray and vLLM are left out, they are the container tier's. The model comes through a
 * Hugging Face Hub stand-in on the VM bridge ({@code sandbox/hub-standin}), fetched on the head
 * by the real huggingface_hub client of the venv.
 *
 * <p>head_nfs: a wrong token and a wrong revision fail naming them; a fetch killed midway is
 * completed by the next apply (finished files are not fetched again); the head exports read-only
 * to the worker, which mounts with the stack's options; the model is readable as the service
 * user on both; the mount comes back after the worker reboots; NFS (2049, 111, mountd, statd,
 * lockd on their pinned ports) answers the cluster only, not the nfs VM or this machine; destroy
 * unexports, unmounts and keeps the model. external_nfs: an export made here on the nfs VM,
 * written by the head, read by the worker; destroy with delete_on_destroy deletes the model.
 */
@Tag("e2e")
@Tag("vm")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NfsVmTest {
  static final String STACK = "vmnfs";
  /** This test's own project directory: its stack file, cdktf.out, state and the hub's files. */
  static final Path WORK = Sandbox.ROOT.resolve("target/e2e/" + STACK);
  static final Path STACK_FILE = WORK.resolve("stacks/" + STACK + ".yaml");
  static final Path OUT = WORK.resolve("cdktf.out");
  static final Path STATE_FILE = WORK.resolve(STACK + ".tfstate");
  static final String REPO = "vrc-test/tiny-llama";
  static final String MODEL_DIR = "/srv/vrc-models/tiny-llama";
  static final int HUB_PORT = 8702;
  static final int WEIGHTS_BYTES = 12 << 20;
  /** The hub stalls the first download of the weights after this much: the moment to kill it. */
  static final int STALL_AFTER = 4 << 20;
  static final List<String> TARGETS =
      List.of("head_firewall", "worker1_firewall", "head_model", "worker1_model");
  static final Duration APPLY_TIMEOUT = Duration.ofMinutes(20);
  static final ObjectMapper JSON = new ObjectMapper();

  final String token = "hf_e2e_" + UUID.randomUUID().toString().replace("-", "");
  final Map<String, String> timings = new LinkedHashMap<>();
  String v1;
  String mainSha;
  String weightsSha256;
  Process hub;

  @BeforeAll
  void vmsUpAndHub() throws IOException {
    assertEquals("root", System.getProperty("user.name"), "the VM tier needs root (qemu taps, bridge)");
    // A leftover of an earlier run whose JVM was killed is this test's own: take it down first.
    stopLeftoverHub();
    Vms.tool(Duration.ofMinutes(3), "down").ok("vm down (leftovers of an earlier run)");
    long t0 = System.nanoTime();
    step("sandbox VMs up: head, worker1, nfs (qemu TCG; the image is built once and cached)");
    Vms.tool(Duration.ofMinutes(30), "up", "head", "worker1", "nfs").ok("vm up");
    timings.put("vm up (incl. image when not cached)", seconds(t0));
    for (String vm : List.of("head", "worker1", "nfs")) {
      Path boot = Vms.STATE.resolve("hosts/" + vm + "/boot-ms");
      if (Files.exists(boot)) {
        timings.put("boot " + vm + " (qemu start to SSH)", Files.readString(boot).strip() + " ms");
      }
    }
    deleteTree(WORK);
    Files.createDirectories(STACK_FILE.getParent());
    seedHub();
    startHub();
    step("nfs VM: the NFS server for the external export, and the NFS client of an outsider");
    long t1 = System.nanoTime();
    Sandbox.Result r = on("nfs", Duration.ofMinutes(10), "apt-get -q update >/dev/null && DEBIAN_FRONTEND=noninteractive "
        + "apt-get -q install -y --no-install-recommends nfs-kernel-server >/dev/null && echo installed");
    assertEquals(0, r.exitCode(), "nfs-kernel-server on the nfs VM:\n" + r.output());
    timings.put("apt install nfs-kernel-server (nfs VM)", seconds(t1));
  }

  @AfterAll
  void cleanUp() throws IOException {
    step("timings (wall, not asserted)");
    timings.forEach((k, v) -> System.out.println("[e2e] " + k + ": " + v));
    if (hub != null) {
      hub.destroy();
      try {
        hub.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      hub.destroyForcibly();
      Files.deleteIfExists(Vms.STATE.resolve("e2e-hub.pid"));
    }
    if ("1".equals(System.getenv("VRC_KEEP_VMS"))) {
      step("VRC_KEEP_VMS=1: leaving the VMs up");
      return;
    }
    step("sandbox VMs down (their disks go with them)");
    Vms.tool(Duration.ofMinutes(3), "down").ok("vm down");
    deleteTree(WORK);
  }

  @Test
  @Order(1)
  void aWrongTokenFailsNamingIt() {
    writeStack(headNfs("v1"));
    step("head_nfs, wrong token: the fetch stops and says which token");
    int before = hubLog().size();
    Sandbox.Result r = apply(Map.of("TF_VAR_hf_token", "hf_wrong_" + UUID.randomUUID()));
    assertNotEquals(0, r.exitCode(), "a deploy with a wrong token must fail");
    assertContains(r.output(), "refused the Hugging Face token from TF_VAR_hf_token", "the message names the token");
    List<JsonNode> log = hubLog().subList(before, hubLog().size());
    assertTrue(log.stream().anyMatch(e -> e.get("status").asInt() == 401 && e.get("auth").asText().equals("invalid")),
        "the hub refused an invalid token: " + log);
    assertTrue(log.stream().noneMatch(e -> e.get("path").asText().contains("/resolve/")), "no file was fetched");
    onOk("head", "test ! -e /etc/vllm-ray-cluster/secrets/hf-token");
  }

  @Test
  @Order(2)
  void aWrongRevisionFailsNamingIt() {
    writeStack(headNfs("v9-does-not-exist"));
    step("head_nfs, revision that does not exist: the fetch stops and names it");
    Sandbox.Result r = apply(Map.of("TF_VAR_hf_token", token));
    assertNotEquals(0, r.exitCode(), "a deploy of a missing revision must fail");
    assertContains(r.output(), "revision 'v9-does-not-exist' (model.revision) does not exist in " + REPO,
        "the message names the revision");
    onOk("head", "test ! -e /etc/vllm-ray-cluster/secrets/hf-token");
  }

  @Test
  @Order(3)
  void aFetchKilledMidwayIsCompletedByTheNextDeploy() throws Exception {
    writeStack(headNfs("v1"));
    step("head_nfs, pinned revision v1 with the token; the fetch is killed midway");
    int before = hubLog().size();
    long t0 = System.nanoTime();
    CompletableFuture<Sandbox.Result> first =
        CompletableFuture.supplyAsync(() -> apply(Map.of("TF_VAR_hf_token", token)));
    Path stall = WORK.resolve("hub-stall");
    long deadline = System.nanoTime() + Duration.ofMinutes(12).toNanos();
    while (!(Files.exists(stall) && Files.size(stall) > 0)) {
      assertFalse(first.isDone(), () -> "the apply ended before the weights' download stalled:\n"
          + Sandbox.tail(first.join().output(), 3000));
      assertTrue(System.nanoTime() < deadline, "the weights' download did not start within 12 minutes");
      Sandbox.sleep(500);
    }
    step("the hub stalls the weights after " + STALL_AFTER + " bytes: killing the fetch on the head");
    String pid = onOk("head", "pgrep -f -o '[b]in/hf download " + REPO + "'").strip();
    onOk("head", "kill -KILL " + pid);
    Sandbox.Result killed = first.get(APPLY_TIMEOUT.toMinutes(), TimeUnit.MINUTES);
    assertNotEquals(0, killed.exitCode(), "the apply whose fetch was killed fails");
    assertContains(killed.output(), "failed (output above)", "the fetch's failure is reported");
    onOk("head", "test ! -e " + MODEL_DIR + "/.vrc-complete");

    step("the next deploy completes the fetch");
    Sandbox.Result second = apply(Map.of("TF_VAR_hf_token", token));
    second.ok("the deploy after the killed fetch");
    timings.put("head_nfs deploy (killed fetch, then the completing apply)", seconds(t0));

    List<JsonNode> log = hubLog().subList(before, hubLog().size());
    Map<String, List<JsonNode>> gets = new LinkedHashMap<>();
    for (JsonNode e : log) {
      String path = e.get("path").asText();
      if (e.get("method").asText().equals("GET") && path.contains("/resolve/")) {
        gets.computeIfAbsent(path.substring(path.lastIndexOf('/') + 1), k -> new ArrayList<>()).add(e);
      }
    }
    System.out.println("[e2e] file GETs: " + gets.keySet() + " weights: " + gets.get("model.safetensors"));
    assertEquals(1, gets.get("config.json").size(), "config.json, finished before the kill, is not fetched again");
    assertEquals(1, gets.get("tokenizer.json").size(), "tokenizer.json is not fetched again");
    List<JsonNode> weights = gets.get("model.safetensors");
    assertEquals(2, weights.size(), "the interrupted weights are fetched once more");
    assertTrue(weights.get(0).get("bytes").asLong() < WEIGHTS_BYTES, "the first weights transfer was cut");
    assertEquals(WEIGHTS_BYTES, weights.get(1).get("bytes").asLong(), "the second is whole");
    assertTrue(log.stream().allMatch(e -> !e.get("path").asText().contains("/" + mainSha + "/")),
        "nothing of main was fetched: the revision is pinned to v1");

    step("the head holds revision v1, complete, without the token");
    assertEquals(weightsSha256, onOk("head", "sha256sum " + MODEL_DIR + "/model.safetensors").split(" ")[0]);
    assertContains(onOk("head", "cat " + MODEL_DIR + "/config.json"), "\"vrc_revision\": \"v1\"", "v1's config");
    assertEquals("huggingface:" + REPO + "@v1", onOk("head", "cat " + MODEL_DIR + "/.vrc-complete").strip());
    onOk("head", "test ! -e /etc/vllm-ray-cluster/secrets/hf-token");
    onOk("head", "test -z \"$(find " + MODEL_DIR + "/.cache -name '*.incomplete')\"");
    String leaks = Sandbox.run(Duration.ofSeconds(30), Map.of(), false, "bash", "-c",
        "grep -rlF -e '" + token + "' " + OUT + " " + STATE_FILE + "* 2>/dev/null || true").output();
    assertEquals("", leaks.strip(), "files holding the token on this machine");
    String onHead = onOk("head", "{ grep -rlF -e '" + token + "' /etc /var/lib/vllm-ray-cluster /srv /tmp /root 2>/dev/null; "
        + "journalctl --no-pager -o cat | grep -cF -e '" + token + "'; } || true");
    assertEquals("0", onHead.strip(), "files or journal lines holding the token on the head");
  }

  @Test
  @Order(4)
  void theWorkerReadsTheHeadsExportReadOnly() {
    step("head exports read-only to the worker; the worker mounts with the stack's options");
    String exports = onOk("head", "exportfs -v");
    assertContains(exports, "/srv/vrc-models", "the export");
    assertContains(exports, ip("worker1"), "exported to the worker");
    assertFalse(exports.contains(ip("nfs")), "not to the nfs VM");
    String opts = onOk("worker1", "findmnt -n -o SOURCE,FSTYPE,OPTIONS /srv/vrc-models");
    assertContains(opts, ip("head") + ":/srv/vrc-models nfs4", "an NFS 4 mount of the head's export");
    for (String o : List.of("ro,", "vers=4.2", "hard", "noatime")) {
      assertContains(opts, o, "mount option " + o);
    }
    step("the model at the same path on both, readable as the service user, not writable");
    for (String vm : List.of("head", "worker1")) {
      String sum = onOk(vm, "runuser -u vllm-ray -- sha256sum " + MODEL_DIR + "/model.safetensors").split(" ")[0];
      assertEquals(weightsSha256, sum, vm + " reads the weights as vllm-ray");
      onOk(vm, "runuser -u vllm-ray -- cat " + MODEL_DIR + "/tokenizer.json >/dev/null");
    }
    Sandbox.Result write = on("worker1", "touch " + MODEL_DIR + "/x 2>&1");
    assertNotEquals(0, write.exitCode(), "the worker cannot write the model");
    assertContains(write.output(), "Read-only file system", "read-only mount");
    onOk("worker1", "bash /opt/vllm-ray-cluster/modules/model-store/check.sh");
    onOk("head", "bash /opt/vllm-ray-cluster/modules/model-store/check.sh");
  }

  @Test
  @Order(5)
  void nfsAnswersOnlyTheCluster() {
    step("mountd, statd and lockd on their pinned ports on the head");
    String rpc = onOk("head", "rpcinfo -p");
    System.out.println(rpc);
    for (String[] service : new String[][] {{"mountd", "20048"}, {"status", "20050"}, {"nlockmgr", "20051"}}) {
      // rpcinfo -p: program vers proto port service
      assertTrue(rpc.lines().map(l -> l.strip().split("\\s+")).anyMatch(f -> f.length == 5
              && f[2].equals("tcp") && f[3].equals(service[1]) && f[4].equals(service[0])),
          service[0] + " on tcp " + service[1] + ":\n" + rpc);
    }
    String table = onOk("head", "nft list table inet vllm_ray_cluster");
    for (String port : List.of("111", "2049", "20048", "20050", "20051")) {
      assertTrue(table.contains(port), "our table names " + port + ":\n" + table);
      onOk("worker1", "timeout 10 bash -c '</dev/tcp/" + ip("head") + "/" + port + "'");
      Sandbox.Result fromNfs = on("nfs", "timeout 5 bash -c '</dev/tcp/" + ip("head") + "/" + port + "'");
      assertEquals(124, fromNfs.exitCode(), "port " + port + " from the nfs VM (outside the cluster) is dropped");
      Sandbox.Result fromHere = Sandbox.run(Duration.ofSeconds(20), Map.of(), false, "timeout", "5", "bash", "-c",
          "</dev/tcp/" + ip("head") + "/" + port);
      assertEquals(124, fromHere.exitCode(), "port " + port + " from this machine (outside the cluster) is dropped");
    }
    step("over UDP too: rpcbind and mountd answer the worker, not the nfs VM");
    for (String program : List.of("portmapper", "mountd")) {
      onOk("worker1", "timeout 30 rpcinfo -T udp " + ip("head") + " " + program);
      Sandbox.Result udp = on("nfs", "timeout 30 rpcinfo -T udp " + ip("head") + " " + program + " 2>&1");
      assertNotEquals(0, udp.exitCode(), program + " over UDP from the nfs VM:\n" + udp.output());
    }
    step("the nfs VM (outside the cluster) cannot mount the export, over NFS 4.2 or 3");
    for (String vers : List.of("4.2", "3")) {
      Sandbox.Result mount = on("nfs", Duration.ofMinutes(2), "mkdir -p /mnt/try && timeout 40 mount -t nfs -o ro,soft,retrans=1,timeo=50,nfsvers="
          + vers + " " + ip("head") + ":/srv/vrc-models /mnt/try 2>&1; rc=$?; umount /mnt/try 2>/dev/null; exit $rc");
      assertNotEquals(0, mount.exitCode(), "nfsvers=" + vers + " from the nfs VM:\n" + mount.output());
    }
    onOk("worker1", "timeout 10 bash -c '</dev/tcp/" + ip("head") + "/22'");
    onOk("nfs", "timeout 10 bash -c '</dev/tcp/" + ip("head") + "/22'");
  }

  @Test
  @Order(6)
  void theMountComesBackAfterTheWorkerReboots() {
    step("worker1 reboots; its mount comes back by itself");
    long t0 = System.nanoTime();
    Vms.tool(Duration.ofMinutes(6), "reboot", "worker1").ok("reboot worker1");
    timings.put("worker1 reboot to SSH", seconds(t0));
    String mounted = Sandbox.waitFor("the NFS mount on worker1 after the reboot", Duration.ofMinutes(3),
        () -> on("worker1", "findmnt -n -o SOURCE /srv/vrc-models"),
        r -> r.exitCode() == 0 && r.output().contains(ip("head")));
    System.out.println("[e2e] after reboot: " + mounted.strip());
    assertEquals(weightsSha256,
        onOk("worker1", "runuser -u vllm-ray -- sha256sum " + MODEL_DIR + "/model.safetensors").split(" ")[0]);
    onOk("worker1", "bash /opt/vllm-ray-cluster/modules/model-store/check.sh");
  }

  @Test
  @Order(7)
  void destroyUnexportsUnmountsAndKeepsTheModel() {
    step("destroy: unexport, unmount, remove what we installed; the model stays on the head");
    long t0 = System.nanoTime();
    destroy().ok("destroy (head_nfs)");
    timings.put("head_nfs destroy", seconds(t0));
    onOk("head", "test ! -e /etc/exports.d/vllm-ray-cluster.exports && test ! -e /etc/nfs.conf.d/vllm-ray-cluster.conf");
    onOk("head", "! systemctl is-active --quiet nfs-server");
    onOk("head", "! dpkg -s nfs-kernel-server 2>/dev/null | grep -q '^Status: install ok installed'");
    onOk("head", "! nft list table inet vllm_ray_cluster >/dev/null 2>&1");
    assertEquals("huggingface:" + REPO + "@v1", onOk("head", "cat " + MODEL_DIR + "/.vrc-complete").strip(), "the model is kept");
    onOk("worker1", "! findmnt /srv/vrc-models && test ! -e /srv/vrc-models");
    onOk("worker1", "test ! -e /etc/systemd/system/srv-vrc\\\\x2dmodels.mount");
    onOk("worker1", "! dpkg -s nfs-common 2>/dev/null | grep -q '^Status: install ok installed'");
    onOk("worker1", "test ! -e /opt/vllm-ray-cluster && test ! -e /etc/vllm-ray-cluster");
  }

  @Test
  @Order(8)
  void externalNfsIsWrittenByTheHeadAndReadByTheWorker() {
    step("external_nfs: an export on the nfs VM, read-write for the head, read-only for the worker");
    onOk("nfs", "mkdir -p /export/models /etc/exports.d && printf '%s\\n' '/export/models " + ip("head")
        + "(rw,sync,no_subtree_check,no_root_squash) " + ip("worker1") + "(ro,sync,no_subtree_check)'"
        + " >/etc/exports.d/e2e.exports && exportfs -ra && exportfs -v");
    writeStack(external());
    long t0 = System.nanoTime();
    apply(Map.of("TF_VAR_hf_token", token)).ok("deploy (external_nfs)");
    timings.put("external_nfs deploy", seconds(t0));
    assertContains(onOk("head", "findmnt -n -o SOURCE,OPTIONS /srv/vrc-ext"), ip("nfs") + ":/export/models", "head mounts the export");
    assertContains(onOk("head", "findmnt -n -o OPTIONS /srv/vrc-ext"), "rw,", "the head mounts it read-write");
    assertContains(onOk("worker1", "findmnt -n -o OPTIONS /srv/vrc-ext"), "ro,", "the worker mounts it read-only");
    assertEquals(weightsSha256, onOk("nfs", "sha256sum /export/models/tiny-llama/model.safetensors").split(" ")[0],
        "the head wrote the model into the export");
    for (String vm : List.of("head", "worker1")) {
      assertEquals(weightsSha256,
          onOk(vm, "runuser -u vllm-ray -- sha256sum /srv/vrc-ext/tiny-llama/model.safetensors").split(" ")[0],
          vm + " reads the model as vllm-ray");
      onOk(vm, "bash /opt/vllm-ray-cluster/modules/model-store/check.sh");
    }

    step("destroy with delete_on_destroy: the head deletes the model from the export, both unmount");
    long t1 = System.nanoTime();
    destroy().ok("destroy (external_nfs)");
    timings.put("external_nfs destroy", seconds(t1));
    onOk("nfs", "test -d /export/models && test ! -e /export/models/tiny-llama");
    for (String vm : List.of("head", "worker1")) {
      onOk(vm, "! findmnt /srv/vrc-ext && test ! -e /srv/vrc-ext");
    }
  }

  // --- the stack and the apply ----------------------------------------------------------

  String nodes() {
    return "nodes:\n"
        + "  - {name: head, role: head, address: " + ip("head") + ", gpus: 1, ssh_host_key: \"" + Vms.hostKey("head") + "\"}\n"
        + "  - {name: worker1, address: " + ip("worker1") + ", gpus: 1, ssh_host_key: \"" + Vms.hostKey("worker1") + "\"}\n"
        + "ssh:\n  user: root\n  private_key_path: " + Vms.STATE.resolve("id_ed25519") + "\n"
        + "network:\n  cluster_cidr: " + Vms.NET + ".0/24\n"
        + "software:\n  os_family: apt\n  python: python3.11\n  venv_path: /opt/vllm_env\n"
        + "  ray_version: 2.60.0\n  vllm_version: 0.33.0+standin\n  pip_find_links: /var/cache/vrc-wheels\n"
        + "vllm:\n  tensor_parallel_size: 2\n  pipeline_parallel_size: 1\n  extra_args: [\"--load-format\", \"dummy\"]\n"
        + "state:\n  backend: local\n  path: " + Sandbox.ROOT.relativize(STATE_FILE) + "\n"
        + "testing:\n  logical_gpus: true\n";
  }

  String model(String revision) {
    return "model:\n  huggingface_repo: " + REPO + "\n  revision: " + revision + "\n"
        + "  hf_endpoint: http://" + Vms.BRIDGE_IP + ":" + HUB_PORT + "\n  hf_token_env: TF_VAR_hf_token\n"
        + "  served_model_name: tiny-llama\n";
  }

  String headNfs(String revision) {
    return "# Written by NfsVmTest: sandbox VMs, not for production.\n" + nodes() + model(revision)
        + "storage:\n  mode: head_nfs\n  mount_path: /srv/vrc-models\n";
  }

  String external() {
    return "# Written by NfsVmTest: sandbox VMs, not for production.\n" + nodes() + model("v1")
        + "storage:\n  mode: external_nfs\n  mount_path: /srv/vrc-ext\n  nfs_server: " + ip("nfs") + "\n"
        + "  nfs_server_path: /export/models\n  delete_on_destroy: true\n";
  }

  static void writeStack(String yaml) {
    try {
      Files.writeString(STACK_FILE, yaml);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Map<String, String> tofuEnv(Map<String, String> secrets) {
    Map<String, String> env = new LinkedHashMap<>(Vms.env());
    env.put("TF_VAR_vllm_api_key", "e2e-key-" + UUID.randomUUID());
    env.put("TF_VAR_ray_auth_token", "e2e-ray-" + UUID.randomUUID());
    env.putAll(secrets);
    // The VMs are small: /dev/shm is under 1 GiB, which preflight fails for Ray's object store.
    env.put("VRC_PREFLIGHT_IGNORE", "shm");
    return env;
  }

  /** Synthesizes this test's stack into WORK, then applies its targets (and what they need). */
  Sandbox.Result apply(Map<String, String> secrets) {
    Sandbox.run(Duration.ofMinutes(5), "bin/vllm-ray-cluster", "synth", "--stacks-dir", STACK_FILE.getParent().toString(),
        "--outdir", OUT.toString()).ok("synth");
    Path dir = OUT.resolve("stacks/" + STACK);
    String tofu = TofuPlans.binary(Sandbox.ROOT);
    Sandbox.run(Duration.ofMinutes(3), Map.of(), false, tofu, "-chdir=" + dir, "init", "-input=false", "-no-color")
        .ok("tofu init");
    List<String> command = new ArrayList<>(List.of(tofu, "-chdir=" + dir, "apply", "-auto-approve", "-input=false", "-no-color"));
    TARGETS.forEach(t -> command.add("-target=terraform_data." + t));
    return Sandbox.run(APPLY_TIMEOUT, tofuEnv(secrets), true, command.toArray(String[]::new));
  }

  Sandbox.Result destroy() {
    Path dir = OUT.resolve("stacks/" + STACK);
    return Sandbox.run(APPLY_TIMEOUT, tofuEnv(Map.of("TF_VAR_hf_token", token)), true,
        TofuPlans.binary(Sandbox.ROOT), "-chdir=" + dir, "destroy", "-auto-approve", "-input=false", "-no-color");
  }

  // --- the Hub stand-in --------------------------------------------------------------------

  /** Revision v1 (pinned by the stack): config, tokenizer, 12 MiB of weights; main: another config. */
  void seedHub() throws IOException {
    Path repo = WORK.resolve("hub/" + REPO);
    Random random = new Random(14);
    v1 = hex(random, 20);
    mainSha = hex(random, 20);
    Path c1 = repo.resolve("commits/" + v1);
    Path cm = repo.resolve("commits/" + mainSha);
    Sandbox.run(Duration.ofMinutes(1), "python3", "sandbox/lib/make_model.py", c1.toString()).ok("make_model.py");
    String config = Files.readString(c1.resolve("config.json"));
    Files.writeString(c1.resolve("config.json"), config.replaceFirst("\\{", "{\n  \"vrc_revision\": \"v1\","));
    byte[] weights = new byte[WEIGHTS_BYTES];
    random.nextBytes(weights);
    Files.write(c1.resolve("model.safetensors"), weights);
    weightsSha256 = sha256(weights);
    Files.createDirectories(cm);
    Files.writeString(cm.resolve("config.json"), config.replaceFirst("\\{", "{\n  \"vrc_revision\": \"main\","));
    Files.writeString(repo.resolve("refs.json"), "{\"main\": \"" + mainSha + "\", \"v1\": \"" + v1 + "\"}\n");
    Files.writeString(repo.resolve("private"), "");
    Files.writeString(WORK.resolve("hub-tokens"), token + "\n");
  }

  void startHub() throws IOException {
    step("Hub stand-in on the VM bridge: http://" + Vms.BRIDGE_IP + ":" + HUB_PORT + "/ (" + REPO + ", private)");
    hub = new ProcessBuilder("python3", "sandbox/hub-standin/hub.py", "--bind", Vms.BRIDGE_IP, "--port",
        String.valueOf(HUB_PORT), "--root", WORK.resolve("hub").toString(), "--tokens-file",
        WORK.resolve("hub-tokens").toString(), "--stall-once-after", String.valueOf(STALL_AFTER),
        "--stall-file", WORK.resolve("hub-stall").toString(), "--log",
        WORK.resolve("hub.log").toString())
        .directory(Sandbox.ROOT.toFile()).redirectErrorStream(true)
        .redirectOutput(WORK.resolve("hub.out").toFile()).start();
    Files.createDirectories(Vms.STATE);
    Files.writeString(Vms.STATE.resolve("e2e-hub.pid"), String.valueOf(hub.pid()));
    Sandbox.waitFor("the hub stand-in", Duration.ofSeconds(30),
        () -> Sandbox.run(Duration.ofSeconds(10), Map.of(), false, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
            "http://" + Vms.BRIDGE_IP + ":" + HUB_PORT + "/api/models/" + REPO + "/revision/v1"),
        r -> r.output().strip().equals("401"));
  }

  /** The hub of an earlier run of this test (its pid file, outside WORK), if it still runs. */
  static void stopLeftoverHub() throws IOException {
    Path pidFile = Vms.STATE.resolve("e2e-hub.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    long pid = Long.parseLong(Files.readString(pidFile).strip());
    ProcessHandle.of(pid)
        .filter(p -> p.info().commandLine().orElse("").contains("sandbox/hub-standin/hub.py"))
        .ifPresent(p -> {
          step("stopping the hub stand-in of an earlier run (pid " + pid + ")");
          p.destroy();
        });
    Files.delete(pidFile);
  }

  List<JsonNode> hubLog() {
    try {
      Path log = WORK.resolve("hub.log");
      List<JsonNode> out = new ArrayList<>();
      if (Files.exists(log)) {
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
          if (!line.isBlank()) {
            out.add(JSON.readTree(line));
          }
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // --- small helpers ---------------------------------------------------------------------

  static String seconds(long startNanos) {
    return String.format("%.1f s", (System.nanoTime() - startNanos) / 1e9);
  }

  static String hex(Random random, int bytes) {
    byte[] b = new byte[bytes];
    random.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
