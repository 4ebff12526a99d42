package dev.vllmraycluster.staging;

import com.hashicorp.cdktf.AssetType;
import com.hashicorp.cdktf.TerraformAsset;
import com.hashicorp.cdktf.TerraformAssetConfig;
import com.hashicorp.cdktf.TerraformStack;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import software.constructs.Construct;
import software.constructs.IConstruct;

/**
 * What synth copies into a stack's output directory ({@code cdktf.out/stacks/<stack>/assets/}) as
 * CDKTF assets, so that {@code cdk.tf.json} names it by a path relative to itself: the output can
 * move to another directory or machine and still finds it. OpenTofu runs provisioners in the
 * stack's directory, where these relative paths resolve.
 */
public final class Staging {
  /** The asset id prefix of a host module: {@code assets/vrc-module-<component>/<digest>}. */
  public static final String MODULE_ASSET_PREFIX = "vrc-module-";

  private Staging() {}

  /**
   * The host module {@code component} staged once per stack (every step of the stack that uploads
   * it shares the copy), in a folder named by its digest; the path relative to the stack's
   * directory.
   */
  public static String module(Construct scope, HostModules modules, String component) {
    return asset(scope, MODULE_ASSET_PREFIX + component, modules.directoryOf(component), modules.digest(component));
  }

  /**
   * A directory staged once per stack under {@code id} (the first call creates the asset, later
   * ones return its path), in a folder named {@code hash}.
   */
  static String asset(Construct scope, String id, Path source, String hash) {
    TerraformStack stack = TerraformStack.of(scope);
    IConstruct existing = stack.getNode().tryFindChild(id);
    TerraformAsset asset;
    if (existing instanceof TerraformAsset a) {
      asset = a;
    } else if (existing == null) {
      asset = new TerraformAsset(stack, id, TerraformAssetConfig.builder()
          .path(source.toAbsolutePath().toString()).type(AssetType.DIRECTORY).assetHash(hash).build());
    } else {
      throw new IllegalStateException("the stack already has a construct with the id " + id + ", which is not an asset");
    }
    return asset.getPath();
  }

  /**
   * A file staged once per stack under {@code id}, as {@code assets/<id>/<folder>/<file name>};
   * the path relative to the stack's directory.
   */
  public static String file(Construct scope, String id, Path source, String folder) {
    TerraformStack stack = TerraformStack.of(scope);
    if (stack.getNode().tryFindChild(id) != null) {
      throw new IllegalStateException("the stack already has a construct with the id " + id);
    }
    return new TerraformAsset(stack, id, TerraformAssetConfig.builder()
        .path(source.toAbsolutePath().toString()).type(AssetType.FILE).assetHash(folder).build()).getPath();
  }

  /** A private temp directory, deleted when the JVM exits. */
  public static Path tempDirectory(String prefix) {
    try {
      Path dir = Files.createTempDirectory(prefix);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(dir)));
      return dir;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot make a temp directory for synth", e);
    }
  }

  static void deleteQuietly(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | RuntimeException e) {
      // A temp directory left behind is harmless; the JVM is exiting.
    }
  }
}
