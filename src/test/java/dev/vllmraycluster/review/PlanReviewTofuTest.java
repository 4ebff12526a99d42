package dev.vllmraycluster.review;

import com.fasterxml.jackson.databind.JsonNode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.cli.Main;
import dev.vllmraycluster.review.Plan.Action;
import dev.vllmraycluster.review.Plan.Step;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.tofu.Tofu;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reviews of real plans made by real OpenTofu from our synthesized stacks. A plan against a
 * deployed cluster runs against a state made by applying the first stack without its
 * provisioners (see {@link RealPlans}): no host is involved.
 */
@Tag("tofu")
class PlanReviewTofuTest {
  private static final String TEST_KEY = "review-key-5b1e9d27-never-printed";

  @TempDir Path dir;

  @Test
  void firstDeployCreatesEveryPartAndShowsPortsAndParallelism() {
    RealPlans plans = new RealPlans(dir);
    ClusterSpec reference = TestStacks.loadReference().spec();
    PlanReview review = new PlanReview(PlanParser.parse(plans.planJson(plans.synth(reference), Map.of())), "reference", List.of());
    String md = review.markdown();
    assertEquals("25 to add, 0 to change, 0 to replace, 0 to destroy", review.summary().toString());
    assertTrue(md.startsWith(PlanReview.MARKER), md);
    assertTrue(md.contains("**Plan: 25 to add, 0 to change, 0 to replace, 0 to destroy.**"), md);
    assertTrue(md.contains("Planned against an empty state"), md);
    for (String node : List.of("head", "worker1", "worker2")) {
      assertTrue(md.contains("#### `" + node + "`"), node + " has its table\n" + md);
    }
    assertTrue(md.contains("| 9001 | API (proxy) | `head` | `192.168.2.0/24` |"), md);
    assertTrue(md.contains("| 8265 | Ray dashboard, Jobs API | `head` | bound to `127.0.0.1`: SSH tunnel only |"), md);
    assertTrue(md.contains("| tensor parallel × pipeline parallel | — | 2 × 1 |"), md);
    assertTrue(md.contains("| GPUs vLLM uses / GPUs declared to Ray | — | 2 / 3 |"), md);
    assertTrue(md.contains("| GPUs per node (`--num-gpus`) | — | head 1, worker1 1, worker2 1 |"), md);
    // TP 2 over 1-GPU nodes and no declared interconnect: flagged, but nothing high.
    List<Risk> risks = otherThanRevision(review);
    assertEquals(1, risks.size(), risks.toString());
    // The reference fetches the branch main: flagged as a revision that can move.
    assertTrue(review.risks().stream().anyMatch(r -> r.title().equals("Model revision `main` on `head` is not a commit")),
        review.risks().toString());
    assertTrue(risks.get(0).title().contains("Tensor parallel 2 spans nodes without a declared fast interconnect"), risks.toString());
  }

  @Test
  void aDeclaredFastInterconnectIsSeenAndNotFlagged() {
    RealPlans plans = new RealPlans(dir);
    ClusterSpec ib = TestStacks.load(dir, "ib", TestStacks.cluster(1, 1, "  tensor_parallel_size: 2\n")
        .replace("network:\n", "network:\n  interconnect: infiniband\n")).spec();
    PlanReview review = new PlanReview(PlanParser.parse(plans.planJson(plans.synth(ib), Map.of())));
    assertTrue(otherThanRevision(review).isEmpty(), otherThanRevision(review).toString());
    assertTrue(review.markdown().contains("| declared interconnect (`network.interconnect`) | — | `infiniband` |"), review.markdown());
  }

  @Test
  void changingOneVllmFlagReplacesOnlyTheVllmService() {
    PlanReview review = review("flag", TestStacks.cluster(2, 1, ""),
        TestStacks.cluster(2, 1, "  gpu_memory_utilization: 0.85\n"));
    assertEquals(Map.of("head_vllm", Action.REPLACE), changed(review.plan()));
    assertEquals("0 to add, 0 to change, 1 to replace, 0 to destroy", review.summary().toString());
    String md = review.markdown();
    assertTrue(md.contains("Restarted (replaced): `head_vllm`."), md);
    assertTrue(md.contains("| vLLM API server | `head_vllm` | **replace** | `--gpu-memory-utilization` `0.9` → `0.85` |"), md);
    assertTrue(md.contains("| Ray head | `head_ray` | no change |  |"), md);
    assertTrue(md.contains("vLLM restarts"), md);
    assertTrue(otherThanRevision(review).isEmpty(), otherThanRevision(review).toString());
  }

  @Test
  void addingAWorkerJoinsItAndRestartsVllmForTheNewParallelism() {
    // No parallelism in the stack: PP = nodes, so a third node changes it.
    PlanReview review = review("grow", TestStacks.cluster(2, 1, ""), TestStacks.cluster(3, 1, ""));
    Map<String, Action> changed = changed(review.plan());
    assertEachPart(changed, "worker3", Action.CREATE, "firewall", "wheel_cache", "bootstrap", "model", "ray");
    assertEquals(Action.REPLACE, changed.get("head_vllm"));
    assertFalse(changed.containsKey("head_ray"), "the Ray head keeps running: " + changed);
    assertFalse(changed.containsKey("worker1_ray"), "Ray workers keep running: " + changed);
    String md = review.markdown();
    assertTrue(md.contains("#### `worker3` (worker, 10.0.0.13) — **joins the cluster**"), md);
    String vllmRow = line(md, "head_vllm");
    assertTrue(vllmRow.contains("`--pipeline-parallel-size` `3` → `4`"), vllmRow);
    assertTrue(vllmRow.contains("restarts with `worker3_ray` (new)"), vllmRow);
    assertTrue(line(md, "head_firewall").contains("`CLUSTER_ADDRESSES` + `10.0.0.13`"), md);
    assertTrue(md.contains("| tensor parallel × pipeline parallel | 1 × 3 | **1 × 4** |"), md);
    assertTrue(md.contains("| GPUs vLLM uses / GPUs declared to Ray | 3 / 3 | **4 / 4** |"), md);
    assertTrue(md.contains("Cluster nodes, which reach every port of each other: `10.0.0.10 10.0.0.11 10.0.0.12 10.0.0.13` (+ `10.0.0.13`)"), md);
    assertTrue(otherThanRevision(review).isEmpty(), otherThanRevision(review).toString());
    assertTrue(md.contains("Model stores re-made, their data kept (`head_model`, `worker1_model`, `worker2_model`)"), md);
  }

  @Test
  void openingTheApiToEveryAddressIsFlagged() {
    PlanReview review = review("open", TestStacks.cluster(1, 1, ""),
        TestStacks.cluster(1, 1, "").replace("[10.0.1.0/24]", "[0.0.0.0/0]"));
    List<Risk> risks = otherThanRevision(review);
    assertEquals(1, risks.size(), risks.toString());
    assertEquals(Risk.Level.HIGH, risks.get(0).level());
    assertTrue(risks.get(0).introduced());
    String md = review.markdown();
    assertTrue(md.contains("- **high**: vLLM API open to `0.0.0.0/0`."), md);
    assertTrue(line(md, "head_firewall").contains("`API_ALLOWED_NETWORKS` `10.0.1.0/24` → `0.0.0.0/0`"), md);
    assertTrue(md.contains("| 9001 | API (proxy) | `head` | `0.0.0.0/0` | was: `10.0.1.0/24` |"), md);
  }

  @Test
  void removingANodeWarnsThatItsServicesAreNotCleanedUp() {
    PlanReview review = review("shrink", TestStacks.cluster(2, 1, ""), TestStacks.cluster(1, 1, ""));
    Map<String, Action> changed = changed(review.plan());
    assertEachPart(changed, "worker2", Action.DELETE, "firewall", "wheel_cache", "bootstrap", "model", "ray");
    assertTrue(review.plan().steps().stream().filter(s -> s.name().startsWith("worker2_")).allMatch(Step::removedFromConfiguration));
    assertEquals(Action.REPLACE, changed.get("head_vllm"));
    String md = review.markdown();
    assertTrue(md.contains("- **high**: Node `worker2` removed from the stack: its services will NOT be cleaned up."), md);
    assertTrue(md.contains("OpenTofu does not run the destroy-time provisioners of resources removed from the configuration"), md);
    assertTrue(md.contains("Move the node's entry from `nodes:` to `removed_nodes:` instead"), md);
    assertTrue(md.contains("#### `worker2` (worker, 10.0.0.12) — **leaves the cluster**"), md);
    assertTrue(line(md, "worker2_ray").contains("removed from the stack: remove.sh will **not** run"), md);
    assertTrue(line(md, "head_vllm").contains("`worker2_ray` left the stack"), md);
  }

  @Test
  void aNodeMovedToRemovedNodesIsDestroyedWithItsRemoveScriptsAndTheReviewSaysSo() throws IOException {
    ClusterSpec before = load("shrink", TestStacks.cluster(2, 1, ""));
    ClusterSpec after = load("shrink", TestStacks.cluster(1, 1, "removed_nodes:\n  - {name: worker2, address: 10.0.0.12, gpus: 1,"
        + " ssh_host_key: \"" + HOST_KEY + "\"}\n"));
    RealPlans plans = new RealPlans(dir);
    plans.applyWithoutProvisioners(plans.synth(before));
    Path stackDir = plans.synth(after);
    JsonNode removed = TestStacks.JSON.readTree(stackDir.resolve("cdk.tf.json").toFile()).get("removed");
    // sweep, wheel cache, bootstrap, firewall, model, Ray, and (not in this state: those blocks do
    // nothing) metrics, Prometheus
    assertEquals(8, removed.size(), removed.toString());
    PlanReview review = new PlanReview(PlanParser.parse(plans.planJson(stackDir, Map.of())), "shrink", List.of())
        .leavingNodes(Set.of("worker2"), Set.of());
    Map<String, Action> changed = changed(review.plan());
    assertEachPart(changed, "worker2", Action.DELETE, "firewall", "bootstrap", "model", "ray");
    assertEquals(Action.REPLACE, changed.get("head_vllm"), "vLLM restarts on the nodes that stay");
    assertEquals(Action.REPLACE, changed.get("head_firewall"), "the head's firewall drops worker2");
    String md = review.markdown();
    System.out.println(md);
    assertTrue(md.contains("- **warn**: Node `worker2` leaves the cluster (`removed_nodes`)."), md);
    assertFalse(md.contains("will NOT be cleaned up"), md);
    assertTrue(line(md, "worker2_ray").contains("node leaves the cluster (`removed_nodes`): remove.sh runs on the host, as destroy would"), md);
    assertTrue(line(md, "head_firewall").contains("`CLUSTER_ADDRESSES`"), md);
  }

  @Test
  void aForgottenNodeLeavesTheStateWithoutAConnection() {
    PlanReview review = review("gone", TestStacks.cluster(2, 1, ""),
        TestStacks.cluster(1, 1, "forgotten_nodes: [worker2]\n")).leavingNodes(Set.of(), Set.of("worker2"));
    Map<String, Action> changed = changed(review.plan());
    assertEachPart(changed, "worker2", Action.FORGET, "firewall", "bootstrap", "model", "ray");
    String md = review.markdown();
    assertTrue(md.contains("- **warn**: Node `worker2` is forgotten (`forgotten_nodes`)."), md);
    assertTrue(line(md, "worker2_bootstrap").contains("forgotten (`forgotten_nodes`): dropped from the state, the host is not contacted"), md);
  }

  /** A host key in the form the stack pins (any valid ECDSA key). */
  static final String HOST_KEY = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHRiNmPRjHvqCeth3yEQFg"
      + "+tefYDT1CsZjVLj7VP4q/YzIlOZjFEXNdqm9gbe6zsgAiiyZynrXZ0D15jznbuWlc=";

  @Test
  void aSecondPlanOfTheSameStackHasNoChanges() {
    ClusterSpec spec = TestStacks.loadReference().spec();
    PlanReview review = new RealPlans(dir).review(spec, spec);
    assertTrue(review.summary().noChanges(), review.summary().toString());
    String md = review.markdown();
    assertTrue(md.contains("**No changes.**"), md);
    assertFalse(md.contains("Planned against an empty state"), md);
    assertFalse(md.contains("**replace**") || md.contains("**create**"), md);
  }

  @Test
  void planAndReviewOfADeployedStackSaysNoChanges() {
    // What the e2e tier calls on the sandbox after a deploy (there against the real state).
    RealPlans plans = new RealPlans(dir);
    ClusterSpec spec = TestStacks.loadReference().spec();
    plans.applyWithoutProvisioners(plans.synth(spec));
    Path stackDir = plans.synth(spec);
    PlanReview review = TofuPlans.planAndReview(Tofu.binary().toString(), stackDir, "reference", Map.of("TF_VAR_vllm_api_key", TEST_KEY));
    assertTrue(review.summary().noChanges(), review.summary().toString());
    assertTrue(review.markdown().contains("**No changes.**"), review.markdown());
    assertFalse(review.markdown().contains(TEST_KEY));
    assertFalse(Files.exists(stackDir.resolve("plan-review.tfplan")), "the plan file is not left behind");
  }

  @Test
  void aRayVersionChangedOnlyOnSomeNodesIsFlagged() {
    // A targeted plan: only the head's bootstrap; the worker keeps 2.59.0 (read from the prior state).
    PlanReview review = review("mixed", TestStacks.cluster(1, 1, "") + "software: {ray_version: '2.59.0'}\n",
        TestStacks.cluster(1, 1, "") + "software: {ray_version: '2.60.0'}\n", "-target=terraform_data.head_bootstrap");
    assertEquals(Action.REPLACE, changed(review.plan()).get("head_bootstrap"));
    String md = review.markdown();
    assertTrue(md.contains("- **high**: Ray version differs between nodes after this plan. `head` 2.60.0, `worker1` 2.59.0."), md);
    assertTrue(md.contains("`-target`"), md);
    assertTrue(md.contains("| Ray version | 2.59.0 | **head 2.60.0, worker1 2.59.0** |"), md);
  }

  @Test
  void replacingAModelStoreThatDeletesItsDataIsFlagged() {
    PlanReview review = review("store", TestStacks.cluster(1, 1, "") + "storage: {delete_on_destroy: true}\n",
        TestStacks.cluster(1, 1, "") + "storage: {delete_on_destroy: true, mount_path: /srv/models2}\n");
    String md = review.markdown();
    assertTrue(md.contains("- **high**: Model store on `head` replaced with its data. `DELETE_ON_DESTROY=true`: remove.sh deletes `/srv/vllm-models/deepseek-llm-7b-chat`"), md);
    assertFalse(md.contains("Model store on `worker1`"), "an NFS client never deletes the model\n" + md);
    assertTrue(md.contains("Model stores re-made, their data kept (`worker1_model`)"), md);
  }

  @Test
  void anExposedDashboardAndNoFirewallAreFlagged() {
    PlanReview review = review("expose", TestStacks.cluster(1, 1, ""),
        TestStacks.cluster(1, 1, "").replace("network:\n", "network:\n  firewall_backend: none\n")
        + "ray: {dashboard_host: 0.0.0.0}\n");
    String md = review.markdown();
    assertTrue(md.contains("- **high**: No firewall on `head`."), md);
    assertTrue(md.contains("- **high**: Ray dashboard exposed: bound to `0.0.0.0`, **anyone** who reaches it (no firewall)."), md);
    assertTrue(md.contains("(**not protected**: no firewall)"), md);
  }

  @Test
  void aRayWorkerReplacedWhileVllmKeepsServingIsFlagged() {
    // -replace of one Ray worker: its digest does not change, so vLLM is not restarted with it.
    ClusterSpec spec = load("forced", TestStacks.cluster(2, 1, ""));
    PlanReview review = new RealPlans(dir).review(spec, spec, "-replace=terraform_data.worker1_ray");
    assertEquals(Map.of("worker1_ray", Action.REPLACE), changed(review.plan()));
    String md = review.markdown();
    assertTrue(md.contains("- **high**: Ray on `worker1` goes away while vLLM keeps serving."), md);
    assertTrue(line(md, "worker1_ray").contains("replacement requested (`-replace`)"), md);
  }

  @Test
  void noSecretEverReachesTheReview() throws IOException {
    RealPlans plans = new RealPlans(dir);
    Map<String, String> env = Map.of("TF_VAR_vllm_api_key", TEST_KEY);
    String json = plans.planJson(plans.synth(TestStacks.loadReference().spec()), env);
    assertFalse(json.contains(TEST_KEY), "an ephemeral variable is not in the plan");
    String md = new PlanReview(PlanParser.parse(json), "reference", List.of()).markdown();
    assertFalse(md.contains(TEST_KEY), md);
    // Values under a *_sensitive mark are masked as they are read: mark one in this real plan.
    String marked = json.replaceFirst("\"after_sensitive\":\\{\"input\":\\{\"config\":\\{\\}",
        "\"after_sensitive\":{\"input\":{\"config\":{\"RAY_VERSION\":true}");
    assertFalse(marked.equals(json), "the plan has an after_sensitive tree to mark");
    String masked = new PlanReview(PlanParser.parse(marked)).markdown();
    assertTrue(masked.contains(Plan.Part.SENSITIVE), masked);
  }

  @Test
  void theCommandReadsAPlanFileOrItsJsonAndRefusesAnythingElse() throws IOException {
    RealPlans plans = new RealPlans(dir);
    Path stackDir = plans.synth(TestStacks.loadReference().spec());
    String json = plans.planJson(stackDir, Map.of());
    Path jsonFile = dir.resolve("plan.json");
    Files.writeString(jsonFile, json);
    Path out = dir.resolve("review/review.md");

    Result fromJson = cli("plan-review", jsonFile.toString(), "--stack", "stacks/reference.yaml", "--out", out.toString());
    assertEquals(0, fromJson.code(), fromJson.err());
    String md = Files.readString(out);
    assertTrue(md.contains("## Plan review: `reference`"), md);
    assertTrue(md.contains("Layout and memory budget after this plan") && md.contains("- layout TP 2 × PP 1 × DP 1: 2 of 3 GPUs, TP across nodes\n")
        && md.contains("- weights ≈ 6.44 GiB per GPU (12.87 GiB in all"), "the planner's lines from the reference's config.json: " + md);
    assertTrue(fromJson.err().contains("plan-review reference: 25 to add"), fromJson.err());

    Result fromPlanFile = cli("plan-review", stackDir.resolve("plan.bin").toString());
    assertEquals(0, fromPlanFile.code(), fromPlanFile.err());
    assertEquals(new PlanReview(PlanParser.parse(json)).markdown(), fromPlanFile.out());

    Path state = dir.resolve("state.json");
    Files.writeString(state, "{\"format_version\": \"1.0\", \"values\": {}}");
    Result notAPlan = cli("plan-review", state.toString());
    assertEquals(2, notAPlan.code());
    assertTrue(notAPlan.err().contains("this JSON is a state, not a plan"), notAPlan.err());
    assertEquals(2, cli("plan-review").code());
    assertEquals(2, cli("plan-review", dir.resolve("missing.json").toString()).code());
  }

  // ------------------------------------------------------------------ helpers

  private ClusterSpec load(String name, String yaml) {
    try {
      Path sub = Files.createTempDirectory(dir, "stack");
      return TestStacks.load(sub, name, yaml).spec();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** The review of the plan from stack {@code name} as {@code before} (applied) to it as {@code after}. */
  private PlanReview review(String name, String before, String after, String... extra) {
    return new RealPlans(dir).review(load(name, before), load(name, after), extra);
  }

  /** Each of {@code node}'s steps {@code parts} is planned as {@code action}. */
  private static void assertEachPart(Map<String, Action> changed, String node, Action action, String... parts) {
    for (String part : parts) {
      assertEquals(action, changed.get(node + "_" + part), part);
    }
  }

  /** Steps that change, by name. */
  private static Map<String, Action> changed(Plan plan) {
    Map<String, Action> out = new TreeMap<>();
    for (Step s : plan.steps()) {
      if (s.action().changes()) {
        out.put(s.name(), s.action());
      }
    }
    return out;
  }

  /** The node table's row of one resource. */
  private static String line(String md, String resource) {
    return md.lines().filter(l -> l.contains("| `" + resource + "` |")).findFirst()
        .orElseThrow(() -> new AssertionError("no table row for " + resource + " in\n" + md));
  }

  record Result(int code, String out, String err) {}

  private static Result cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aModelRevisionThatIsNotACommitIsFlaggedAndAPinnedOneIsNot() {
    RealPlans plans = new RealPlans(dir);
    String sha = "0123456789abcdef0123456789abcdef01234567";
    ClusterSpec pinned = TestStacks.load(dir, "pinned", TestStacks.cluster(1, 2, "")
        .replace("huggingface_repo: deepseek-ai/deepseek-llm-7b-chat", "huggingface_repo: deepseek-ai/deepseek-llm-7b-chat\n  revision: " + sha)).spec();
    PlanReview review = new PlanReview(PlanParser.parse(plans.planJson(plans.synth(pinned), Map.of())));
    assertTrue(review.risks().isEmpty(), review.risks().toString());
    ClusterSpec tag = TestStacks.load(dir, "tag", TestStacks.cluster(1, 2, "")
        .replace("huggingface_repo: deepseek-ai/deepseek-llm-7b-chat", "huggingface_repo: deepseek-ai/deepseek-llm-7b-chat\n  revision: v1.0")).spec();
    List<Risk> risks = new PlanReview(PlanParser.parse(plans.planJson(plans.synth(tag), Map.of()))).risks();
    assertEquals(1, risks.size(), risks.toString());
    assertEquals("Model revision `v1.0` on `head` is not a commit", risks.get(0).title());
    assertTrue(risks.get(0).detail().contains("Pin `model.revision` to the 40-hex commit"), risks.get(0).detail());
  }

  @Test
  void plainHttpMirrorsTrustedHostsAndSourceBuildsAreFlagged() {
    RealPlans plans = new RealPlans(dir);
    ClusterSpec http = TestStacks.load(dir, "http", TestStacks.cluster(1, 2, "")
        .replace("huggingface_repo: deepseek-ai/deepseek-llm-7b-chat",
            "huggingface_repo: deepseek-ai/deepseek-llm-7b-chat\n  revision: 0123456789abcdef0123456789abcdef01234567\n  hf_endpoint: http://hf.lan")
        + "software: {pip_index_url: 'http://mirror.lan/simple', pip_trusted_host: mirror.lan, allow_source_builds: true}\n").spec();
    List<String> titles = new PlanReview(PlanParser.parse(plans.planJson(plans.synth(http), Map.of()))).risks().stream()
        .map(Risk::title).toList();
    assertEquals(List.of("Packages from a plain-HTTP mirror `http://mirror.lan/simple`", "pip skips TLS checks for `mirror.lan`",
        "pip may build packages from source", "Model fetched over plain HTTP from `http://hf.lan`"), titles);
  }

  /** The risks, less the moving model revision every stack of TestStacks.cluster has. */
  private static List<Risk> otherThanRevision(PlanReview review) {
    return review.risks().stream().filter(r -> !r.title().startsWith("Model revision")).toList();
  }
}
