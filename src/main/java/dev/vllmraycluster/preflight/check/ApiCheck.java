package dev.vllmraycluster.preflight.check;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vllmraycluster.preflight.Context;
import dev.vllmraycluster.preflight.NodeCheck;
import dev.vllmraycluster.preflight.NodeFacts;
import dev.vllmraycluster.preflight.Row;
import dev.vllmraycluster.preflight.VerifyProbes;
import dev.vllmraycluster.preflight.VerifyProbes.Http;
import dev.vllmraycluster.spec.ClusterSpec.Role;
import dev.vllmraycluster.ssh.CommandResult;

/** Verify: vLLM's API on the head: {@code /health}, {@code /v1/models}, one chat completion. */
public abstract class ApiCheck extends NodeCheck {
  static final ObjectMapper JSON = new ObjectMapper();

  @Override
  protected Row check(Context ctx, NodeFacts f) {
    if (f.node().role() != Role.HEAD) {
      return null;
    }
    CommandResult r = f.result(probe());
    if (r == null) {
      return null;
    }
    Http http = Http.of(r.stdout());
    if (http.code() == 0) {
      return fail(f, "no answer from " + url(ctx) + ": " + r.brief(),
          journalFix(f) + (ctx.spec().vllm().proxy() ? "; journalctl -u vrc-proxy -n 50" : "") + "; is vllm.port "
              + ctx.spec().vllm().port() + " right?");
    }
    return judge(ctx, f, http);
  }

  String url(Context ctx) {
    return ctx.spec().apiBaseUrl() + path();
  }

  abstract String probe();

  abstract String path();

  abstract Row judge(Context ctx, NodeFacts f, Http http);

  Row unauthorized(Context ctx, NodeFacts f, Http http) {
    String env = ctx.spec().vllm().apiKey() == null ? "the key" : ctx.spec().vllm().apiKey().environmentVariable();
    CommandResult key = ctx.local().get(VerifyProbes.API_KEY);
    boolean set = key != null && key.ok();
    return fail(f, url(ctx) + ": HTTP " + http.code() + (set ? " with the key from " + env : " (" + env + " is not set here)"),
        set ? "the server has another key: deploy again with the same " + env
            : "export " + env + " with the key clients send, then verify again");
  }

  static String journalFix(NodeFacts f) {
    return "journalctl -u vrc-vllm -n 50 on " + f.node().name();
  }

  static JsonNode json(String body) {
    try {
      return JSON.readTree(body);
    } catch (Exception e) {
      return null;
    }
  }

  /** The first 160 characters of a body, on one line. */
  static String brief(String body) {
    String b = body.replaceAll("\\s+", " ").strip();
    return b.length() > 160 ? b.substring(0, 160) + "..." : b;
  }

  /** {@code /health}: 200 once the engine is up; no key needed. */
  public static final class Health extends ApiCheck {
    @Override
    public String name() {
      return "health";
    }

    @Override
    public String summary() {
      return "vLLM /health answers 200 (from the head)";
    }

    @Override
    String probe() {
      return VerifyProbes.HEALTH;
    }

    @Override
    String path() {
      return "/health";
    }

    @Override
    Row judge(Context ctx, NodeFacts f, Http http) {
      return http.code() == 200 ? ok(f, url(ctx) + ": 200")
          : fail(f, url(ctx) + ": HTTP " + http.code(), journalFix(f));
    }
  }

  /**
   * An endpoint behind the API key: a refused key, or anything but 200 with a JSON body, fails the
   * same way for each; {@link #judgeJson} judges the rest.
   */
  abstract static class KeyedApiCheck extends ApiCheck {
    @Override
    final Row judge(Context ctx, NodeFacts f, Http http) {
      if (http.code() == 401 || http.code() == 403) {
        return unauthorized(ctx, f, http);
      }
      JsonNode root = json(http.body());
      if (http.code() != 200 || root == null) {
        return fail(f, url(ctx) + ": HTTP " + http.code() + " " + brief(http.body()), journalFix(f));
      }
      return judgeJson(ctx, f, http, root);
    }

    abstract Row judgeJson(Context ctx, NodeFacts f, Http http, JsonNode root);
  }

  /** {@code /v1/models} lists the served model name. */
  public static final class Models extends KeyedApiCheck {
    @Override
    public String name() {
      return "models";
    }

    @Override
    public String summary() {
      return "/v1/models lists model.served_model_name (with the API key)";
    }

    @Override
    String probe() {
      return VerifyProbes.MODELS;
    }

    @Override
    String path() {
      return "/v1/models";
    }

    @Override
    Row judgeJson(Context ctx, NodeFacts f, Http http, JsonNode root) {
      String want = ctx.spec().model().servedModelName();
      for (JsonNode m : root.path("data")) {
        if (want.equals(m.path("id").asText())) {
          return ok(f, url(ctx) + ": 200, serves " + want);
        }
      }
      return fail(f, url(ctx) + ": 200 but " + want + " is not listed: " + brief(http.body()),
          "model.served_model_name must match what clients send; deploy again");
    }
  }

  /** One chat completion with the key: the whole path through Ray to the workers. */
  public static final class Chat extends KeyedApiCheck {
    @Override
    public String name() {
      return "chat";
    }

    @Override
    public String summary() {
      return "one chat completion with the API key";
    }

    @Override
    String probe() {
      return VerifyProbes.CHAT;
    }

    @Override
    String path() {
      return "/v1/chat/completions";
    }

    @Override
    Row judgeJson(Context ctx, NodeFacts f, Http http, JsonNode root) {
      String content = root.path("choices").path(0).path("message").path("content").asText("");
      if (!"chat.completion".equals(root.path("object").asText()) || content.isBlank()) {
        return fail(f, url(ctx) + ": 200 without a completion: " + brief(http.body()), journalFix(f));
      }
      int tokens = root.path("usage").path("completion_tokens").asInt(-1);
      return ok(f, "200, " + (tokens >= 0 ? tokens + " tokens: " : "") + "\"" + brief(content) + "\"");
    }
  }
}
