package dev.vllmraycluster.cluster;

import com.hashicorp.cdktf.ITerraformDependable;
import com.hashicorp.cdktf.TerraformResource;
import com.hashicorp.cdktf.TerraformResourceConfig;
import dev.vllmraycluster.contract.HostContract.Component;
import dev.vllmraycluster.contract.HostContract.Secret;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.HuggingFace;
import dev.vllmraycluster.spec.SecretRef;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import software.constructs.Construct;

/**
 * Makes a rotated secret visible to OpenTofu, and restarts exactly what keeps it.
 *
 * <p>The secrets are ephemeral variables: they never reach a plan or the state, so on its own a
 * changed value plans "No changes" and the hosts would keep the old one. Synth runs at the start
 * of every {@code cdktf deploy}; it reads each secret the stack uses from the deploy's environment
 * ({@link DeployEnvironment}) and writes a fingerprint of it into a resource of its own, {@code
 * secret_<name>}: {@code sha256:} and the SHA-256 of {@code vllm-ray-cluster:<stack>:<role>:<value>},
 * marked sensitive (secrets shorter than {@value #MIN_LENGTH} characters are refused, so that the
 * fingerprint cannot be turned back into the secret by guessing). Every step whose service keeps
 * that secret ({@link Secret#keptBy()}) has {@code replace_triggered_by} on it: a new value plans
 * exactly those replacements, which a plan review shows as a rotation, and the deploy carries them
 * out.
 *
 * <p>Where synth cannot read a secret (a pull request's plan review, a {@code cdktf diff} without
 * the secrets, or a deploy machine where synth cannot see the cdktf process's environment), the
 * resource keeps the fingerprint the state has ({@code ignore_changes}). A postcondition, which
 * OpenTofu evaluates at plan time with the ephemeral value it has, then compares that value with
 * the state's fingerprint (OpenTofu computes the same SHA-256): a plan without the secret passes
 * and replaces nothing; a plan with a different one stops, naming the variable and the commands
 * that rotate it. Should the resource not exist yet, its creation stops the apply the same way,
 * before anything that keeps the secret is replaced.
 */
public final class SecretRotation {
  /** The fewest characters a secret may have (its salted SHA-256 is in the state). */
  public static final int MIN_LENGTH = 16;
  /** The fingerprint's prefix: the hash, so that a later change of it is visible. */
  public static final String SCHEME = "sha256:";
  /** What a fingerprint resource holds when synth could not read the secret. */
  public static final String NOT_SET = "not set when synthesized";

  private SecretRotation() {}

  /** Each secret the stack uses, by role (one variable may serve two roles). */
  public static Map<Secret, SecretRef> secrets(ClusterSpec spec) {
    Map<Secret, SecretRef> out = new LinkedHashMap<>();
    if (spec.vllm().apiKey() != null) {
      out.put(Secret.API_KEY, spec.vllm().apiKey());
    }
    if (spec.ray().authToken() != null) {
      out.put(Secret.RAY_TOKEN, spec.ray().authToken());
    }
    if (spec.model().source() instanceof HuggingFace hf && hf.token() != null) {
      out.put(Secret.HF_TOKEN, hf.token());
    }
    if (spec.software().pipCredentials() != null) {
      out.put(Secret.PIP_CREDENTIALS, spec.software().pipCredentials());
    }
    return out;
  }

  /**
   * What is wrong with the secrets set in {@code env} (unset ones are not checked: synth may run
   * without them): one message per secret too short to fingerprint safely, naming the variable and
   * the fix, never the value.
   */
  public static List<String> problems(ClusterSpec spec, Function<String, String> env) {
    List<String> problems = new ArrayList<>();
    for (Map.Entry<Secret, SecretRef> e : secrets(spec).entrySet()) {
      String variable = e.getValue().environmentVariable();
      String value = env.apply(variable);
      if (value != null && !value.isEmpty() && value.length() < MIN_LENGTH) {
        String problem = variable + " (" + e.getKey().label() + ") has " + value.length() + " characters; a secret needs "
            + MIN_LENGTH + " or more (its salted SHA-256 is kept in the state to detect a rotation)."
            + " Fix: export " + variable + "=\"$(head -c 24 /dev/urandom | base64)\", or another value of "
            + MIN_LENGTH + "+ random characters";
        if (!problems.contains(problem)) {
          problems.add(problem);
        }
      }
    }
    return problems;
  }

  /**
   * The fingerprint of {@code value} as {@code secret} of {@code stack}: the same value gives the
   * same fingerprint on any machine, and OpenTofu computes the same one ({@link #planTimeCheck}).
   */
  public static String fingerprint(String stack, Secret secret, String value) {
    if (value.length() < MIN_LENGTH) {
      throw new IllegalArgumentException(secret.label() + " has fewer than " + MIN_LENGTH + " characters");
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(salted(stack, secret, value).getBytes(StandardCharsets.UTF_8));
      return SCHEME + HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available in this JVM", e);
    }
  }

  private static String salted(String stack, Secret secret, String value) {
    return "vllm-ray-cluster:" + stack + ":" + secret.id() + ":" + value;
  }

  /**
   * The postcondition of {@code secret_<name>}: the secret OpenTofu has (an ephemeral variable,
   * which a condition may read) is unset, or its fingerprint is the one planned. With the
   * fingerprint synth wrote, that always holds; with the state's (synth could not read the secret),
   * it fails exactly when the secret changed. A planned {@link #NOT_SET} is no deployed value: such
   * a resource is being created, and its creation stops the apply (its local-exec) with the fix.
   */
  static Map<String, Object> planTimeCheck(String stack, Secret secret, SecretRef ref) {
    // The stack name ([a-z][a-z0-9-]*) and the role id need no escaping in an HCL string.
    String var = "var." + ref.variableName();
    Map<String, Object> check = new LinkedHashMap<>();
    check.put("condition", "${" + var + " == \"\" || self.input.fingerprint == \"" + NOT_SET + "\" || format(\"" + SCHEME + "%s\", sha256(format(\"vllm-ray-cluster:%s:%s:%s\", \""
        + stack + "\", \"" + secret.id() + "\", " + var + "))) == self.input.fingerprint}");
    check.put("error_message", ref.environmentVariable() + " (" + secret.label() + ") is not the value deployed (its fingerprint"
        + " in the state differs), and synth could not read it to rotate it (synth reads the secrets from its own environment,"
        + " or on Linux from the cdktf process that runs it). To rotate it: run bin/vllm-ray-cluster synth in this environment"
        + " (with the options of the app in cdktf.json), then cdktf deploy " + stack + " --skip-synth. To keep the deployed"
        + " value, export it again.");
    return check;
  }

  /**
   * Declares {@code secret_<name>} for each secret of the stack and makes every step of {@code
   * cluster} that keeps it replaced when it changes.
   *
   * @param after what the fingerprint resources are created after (the local checks)
   * @param env where the secrets' values are read (the deploy's environment)
   */
  static Map<Secret, TerraformResource> wire(
      Construct scope, String stack, ClusterSpec spec, GpuCluster cluster, List<ITerraformDependable> after,
      Function<String, String> env) {
    List<String> problems = problems(spec, env);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("\n", problems));
    }
    Map<Secret, TerraformResource> resources = new LinkedHashMap<>();
    for (Map.Entry<Secret, SecretRef> e : secrets(spec).entrySet()) {
      Secret secret = e.getKey();
      String variable = e.getValue().environmentVariable();
      String value = env.apply(variable);
      boolean set = value != null && !value.isEmpty();
      TerraformResource r = new TerraformResource(scope, secret.resourceName(),
          TerraformResourceConfig.builder().terraformResourceType("terraform_data").dependsOn(after).build());
      r.overrideLogicalId(secret.resourceName());
      Map<String, Object> input = new LinkedHashMap<>();
      input.put("secret", secret.id());
      // The fingerprint's characters need no escaping ([a-z0-9:-] or the fixed NOT_SET text).
      input.put("fingerprint", "${sensitive(\"" + (set ? fingerprint(stack, secret, value) : NOT_SET) + "\")}");
      r.addOverride("input", input);
      r.addOverride("lifecycle.postcondition", List.of(planTimeCheck(stack, secret, e.getValue())));
      if (!set) {
        // Not read here (a plan review, a diff, a synth that cannot see the deploy's environment):
        // keep what the state has, which the postcondition compares with the secret OpenTofu has;
        // and should the resource not exist yet, stop before anything that keeps it is replaced.
        r.addOverride("lifecycle.ignore_changes", List.of("input"));
        Map<String, Object> stop = new LinkedHashMap<>();
        stop.put("command", "if [ -z \"$" + variable + "\" ]; then echo '[local/secrets] " + variable + " (" + secret.label()
            + ") is not set in the environment of this deploy: export it and run the deploy again' >&2; else echo '[local/secrets] "
            + variable + " (" + secret.label() + ") is set, but synth could not read it to record its fingerprint: run"
            + " bin/vllm-ray-cluster synth in this environment (with the options of the app in cdktf.json), then cdktf deploy "
            + stack + " --skip-synth' >&2; fi; exit 1");
        stop.put("interpreter", List.of("/bin/sh", "-c"));
        r.addOverride("provisioner", List.of(Map.of("local-exec", stop)));
      }
      resources.put(secret, r);
      for (HostStep step : cluster.steps()) {
        Component component = Component.ofModule(step.component());
        if (component != null && secret.keptBy().contains(component)) {
          step.replacedWhenChanged(r);
        }
      }
    }
    return resources;
  }
}
