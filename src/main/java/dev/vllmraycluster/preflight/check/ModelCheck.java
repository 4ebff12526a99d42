package dev.vllmraycluster.preflight.check;

import dev.vllmraycluster.preflight.Bytes;
import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.PreflightProbes;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.parse.KeyValues;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.HuggingFace;
import dev.vllmraycluster.spec.ClusterSpec.LocalDirectory;
import dev.vllmraycluster.spec.ClusterSpec.StorageMode;
import dev.vllmraycluster.ssh.CommandResult;
import dev.vllmraycluster.storage.ModelStore;
import java.util.Map;

/**
 * Where each node's model comes from, and whether that can work: already complete there, uploaded
 * from this machine, fetched by the head (which must reach the Hugging Face endpoint), or mounted
 * from NFS.
 */
public final class ModelCheck extends NodeCheck {
  @Override
  public String name() {
    return "model";
  }

  @Override
  public String summary() {
    return "the model is on the node, or the deploy can put it there (upload, HF reachable, NFS)";
  }

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    ClusterSpec spec = ctx.spec();
    String dir = spec.storage().modelPath(spec.model());
    CommandResult r = f.result(PreflightProbes.MODEL);
    Map<String, String> kv = r == null || !r.ok() ? Map.of() : KeyValues.parse(r.stdout());
    String complete = kv.get("complete");
    if (complete != null && complete.equals(ctx.modelManifest())) {
      long weights = parseLong(kv.get("weights"));
      return ok(f, dir + " complete (" + complete + (weights > 0 ? ", " + Bytes.human(weights) + " of weights" : "") + ")");
    }
    String stale = complete == null ? "" : " (it holds " + complete + ", the stack wants " + ctx.modelManifest() + ")";
    boolean holds = ModelStore.holdsData(spec, f.node());
    if (!holds) {
      String server = spec.storage().mode() == StorageMode.EXTERNAL_NFS
          ? spec.storage().nfsServer() + ":" + spec.storage().nfsServerPath() : spec.head().name() + "'s export";
      return ok(f, "mounts " + dir + " from " + server + " during the deploy" + stale);
    }
    if (spec.model().source() instanceof LocalDirectory local) {
      String size = ctx.modelSize() == null ? "" : " (" + Bytes.human(ctx.modelSize().bytes()) + " of weights)";
      return ok(f, "not here yet" + stale + ": the deploy uploads " + local.path() + size + " to " + dir);
    }
    HuggingFace hf = (HuggingFace) spec.model().source();
    CommandResult probe = f.result(PreflightProbes.HF);
    if (probe == null) {
      return ok(f, "not here yet" + stale + ": the deploy fetches " + hf.repo() + "@" + hf.revision());
    }
    String endpoint = hf.endpoint() == null || hf.endpoint().isEmpty() ? "https://huggingface.co" : hf.endpoint();
    String code = probe.stdout().strip();
    String fetch = "not here yet" + stale + "; the deploy fetches " + hf.repo() + "@" + hf.revision() + " from " + endpoint;
    if ((!probe.ok() && !code.matches("\\d{3}")) || "000".equals(code)) {
      return fail(f, fetch + ", which this host cannot reach (" + probe.brief() + ")",
          "give the head a way out (proxy, or model.hf_endpoint: a mirror it reaches), or upload the model from this machine (model.local_directory)");
    }
    if ("200".equals(code)) {
      return ok(f, fetch + " (reachable: HTTP 200)");
    }
    if ("401".equals(code) || "403".equals(code)) {
      return hf.token() != null
          ? warn(f, fetch + ": HTTP " + code + " without a token (the deploy sends " + hf.token().environmentVariable() + ")",
              "make sure that token has access to " + hf.repo())
          : fail(f, fetch + ": HTTP " + code + " (gated or private repository)",
              "accept the model's licence on Hugging Face and set model.hf_token_env (e.g. TF_VAR_hf_token)");
    }
    if ("404".equals(code)) {
      return fail(f, fetch + ": HTTP 404 (no such repository or revision)", "fix model.huggingface_repo / model.revision");
    }
    return warn(f, fetch + ": HTTP " + code, "check the endpoint from the head: curl -I " + endpoint);
  }

  private static long parseLong(String s) {
    try {
      return s == null ? -1 : Long.parseLong(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
