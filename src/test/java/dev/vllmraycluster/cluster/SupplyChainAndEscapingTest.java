package dev.vllmraycluster.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vllmraycluster.TestStacks;
import dev.vllmraycluster.contract.Shell;
import dev.vllmraycluster.spec.StackLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The supply-chain switches as they reach the bootstrap step, the mirror risks flagged as
 * warnings, and the second line of defence: OpenTofu templates escaped and values shell-quoted.
 */
class SupplyChainAndEscapingTest {
  @TempDir Path dir;

  @Test
  void aStackWithoutTheSwitchesWritesNoneOfThem() {
    JsonNode config = bootstrapConfig(TestStacks.load(dir, "plain", TestStacks.cluster(1, 1, "")));
    for (String key : List.of("PIP_ALLOW_SOURCE_BUILDS", "PIP_REQUIREMENTS_LOCK", "PIP_CREDENTIALS")) {
      assertFalse(config.has(key), key + " written for a stack that does not set it: the script's default is the secure one");
    }
  }

  @Test
  void mirrorCredentialsTravelAsAnEphemeralSecretAndTheLockAsAnUploadedFile() throws Exception {
    Path lock = Files.writeString(dir.resolve("req.lock"), "ray[default]==2.60.0 --hash=sha256:00\n");
    StackLoader.Loaded loaded = TestStacks.load(dir, "mirror", TestStacks.cluster(1, 1, "")
        + "software: {pip_index_url: 'https://pypi.mirror.lan/simple', pip_credentials_env: TF_VAR_pip_mirror,"
        + " requirements_lock: " + lock + ", allow_source_builds: true}\n");
    assertTrue(loaded.warnings().stream().anyMatch(w -> w.startsWith("software.allow_source_builds")), loaded.warnings().toString());
    JsonNode json = TestStacks.synth(loaded.spec());
    assertTrue(json.at("/variable/pip_mirror/ephemeral").asBoolean());
    JsonNode head = json.at("/resource/terraform_data/head_bootstrap");
    assertEquals("true", head.at("/input/config/PIP_ALLOW_SOURCE_BUILDS").asText());
    assertEquals("requirements.lock", head.at("/input/config/PIP_REQUIREMENTS_LOCK").asText());
    assertEquals("secrets/pip-credentials", head.at("/input/config/PIP_CREDENTIALS").asText());
    assertTrue(head.at("/triggers_replace").has("upload_requirements.lock"), head.at("/triggers_replace").toString());
    List<String> uploads = new ArrayList<>();
    head.get("provisioner").forEach(p -> {
      if (p.has("file")) {
        uploads.add(p.at("/file/destination").asText() + " <- " + p.at("/file/source").asText(p.at("/file/content").asText()));
      }
    });
    assertTrue(uploads.contains("/run/vrc-stage-root/head_bootstrap/secrets/pip-credentials <- ${var.pip_mirror}"), uploads.toString());
    assertTrue(uploads.contains("/run/vrc-stage-root/head_bootstrap/requirements.lock <- " + lock), uploads.toString());
    String checks = json.at("/resource/terraform_data/local_checks/provisioner/0/local-exec/command").asText();
    assertTrue(checks.contains("test -n \"$TF_VAR_pip_mirror\""), checks);
  }

  @Test
  void plainHttpMirrorsAndTrustedHostsAreFlagged() {
    StackLoader.Loaded loaded = TestStacks.load(dir, "http", TestStacks.cluster(1, 1, "")
        .replace("huggingface_repo: deepseek-ai/deepseek-llm-7b-chat", "huggingface_repo: a/b\n  hf_endpoint: http://hf.lan")
        + "software: {pip_index_url: 'http://mirror.lan/simple', pip_trusted_host: mirror.lan}\n");
    String all = String.join("\n", loaded.warnings());
    assertTrue(all.contains("software.pip_index_url: http://mirror.lan/simple is plain HTTP"), all);
    assertTrue(all.contains("software.pip_trusted_host: mirror.lan"), all);
    assertTrue(all.contains("model.hf_endpoint: http://hf.lan is plain HTTP"), all);
  }

  @Test
  void templateSequencesInStackValuesAreLiteralInCdkTfJson() {
    StackLoader.Loaded loaded = TestStacks.load(dir, "tmpl", TestStacks.cluster(1, 1,
        "  extra_args: [\"--chat-template-content-format=%{ for x in [1] }x%{ endfor }\"]\n"));
    JsonNode json = TestStacks.synth(loaded.spec());
    JsonNode vllm = json.at("/resource/terraform_data/head_vllm");
    String arg = vllm.at("/input/args").get(vllm.at("/input/args").size() - 1).asText();
    assertEquals("--chat-template-content-format=%%{ for x in [1] }x%%{ endfor }", arg);
    String text = json.toString();
    assertFalse(text.replace("%%{", "").contains("%{"), "an unescaped template directive is left");
  }

  @Test
  void shellQuotingLeavesPlainWordsAndQuotesTheRest() {
    assertEquals("/opt/vllm_env", Shell.quote("/opt/vllm_env"));
    assertEquals("'ops; touch /tmp/pwned #'", Shell.quote("ops; touch /tmp/pwned #"));
    assertEquals("'it'\\''s'", Shell.quote("it's"));
    assertEquals("'/opt/my venv/bin/python'", Shell.quote("/opt/my venv/bin/python"));
    assertEquals("$${HOME} %%{x}", Shell.literal("${HOME} %{x}"));
  }

  private static JsonNode bootstrapConfig(StackLoader.Loaded loaded) {
    return TestStacks.synth(loaded.spec()).at("/resource/terraform_data/head_bootstrap/input/config");
  }
}
