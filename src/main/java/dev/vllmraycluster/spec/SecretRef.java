package dev.vllmraycluster.spec;

/**
 * A secret the deploy machine holds in an environment variable of the form {@code TF_VAR_<name>}.
 * OpenTofu reads it as the ephemeral variable {@code <name>}: it reaches the host through a
 * provisioner and is never written to cdk.tf.json, a plan or the state. This type carries only the
 * name; it has no way to hold or print a value.
 */
public record SecretRef(String environmentVariable) {
  public static final String PREFIX = "TF_VAR_";

  public SecretRef {
    if (!environmentVariable.matches("TF_VAR_[a-z][a-z0-9_]*")) {
      throw new IllegalArgumentException(
          "secret environment variable must look like TF_VAR_<lowercase_name>, got "
              + environmentVariable);
    }
  }

  /** The OpenTofu variable name. */
  public String variableName() {
    return environmentVariable.substring(PREFIX.length());
  }

  @Override
  public String toString() {
    return "secret from $" + environmentVariable;
  }
}
