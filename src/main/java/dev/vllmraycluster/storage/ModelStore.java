package dev.vllmraycluster.storage;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.node.Env;
import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.node.HostStep;
import dev.vllmraycluster.node.ProjectLayout;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.HuggingFace;
import dev.vllmraycluster.spec.ClusterSpec.LocalDirectory;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.Role;
import dev.vllmraycluster.spec.ClusterSpec.StorageMode;
import dev.vllmraycluster.spec.ClusterSpec.StorageSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The model store on one node ({@code modules/model-store}): the same model path on every node,
 * served by an NFS export on the head ({@code head_nfs}, the default), mounted from an existing
 * NFS server ({@code external_nfs}), or copied to each node ({@code local_copy}). The node that
 * holds the data fetches the model from Hugging Face or receives the uploaded local directory.
 * Destroy unmounts and unexports but keeps the model unless {@code storage.delete_on_destroy}.
 */
public class ModelStore extends HostStep {
  /** Which part this node plays in the store. */
  public enum StoreRole {
    NFS_SERVER,
    NFS_CLIENT,
    LOCAL
  }

  private final StoreRole storeRole;

  public ModelStore(
      GpuNode node,
      ProjectLayout layout,
      ClusterSpec cluster,
      List<ITerraformDependable> after,
      List<HostStep> restartsWith) {
    super(node, "model", layout, props(node.spec(), layout, cluster, after, restartsWith));
    this.storeRole = storeRole(cluster.storage(), node.spec());
  }

  public StoreRole storeRole() {
    return storeRole;
  }

  /** True when this node writes the model into the store (fetch or upload). */
  public static boolean holdsData(ClusterSpec cluster, NodeSpec node) {
    return switch (cluster.storage().mode()) {
      case LOCAL_COPY -> true;
      case HEAD_NFS, EXTERNAL_NFS -> node.role() == Role.HEAD;
    };
  }

  /**
   * What a complete copy of the model records in {@code .vrc-complete}: the Hugging Face repo and
   * revision, or the uploaded directory's digest (see docs/host-contract.md, MODEL_MANIFEST).
   */
  public static String manifest(ClusterSpec cluster) {
    if (cluster.model().source() instanceof HuggingFace hf) {
      return "huggingface:" + hf.repo() + "@" + hf.revision();
    }
    LocalDirectory dir = (LocalDirectory) cluster.model().source();
    return "upload:" + ModelDirectory.digest(Path.of(dir.path()));
  }

  static StoreRole storeRole(StorageSpec storage, NodeSpec node) {
    return switch (storage.mode()) {
      case LOCAL_COPY -> StoreRole.LOCAL;
      case HEAD_NFS -> node.role() == Role.HEAD ? StoreRole.NFS_SERVER : StoreRole.NFS_CLIENT;
      case EXTERNAL_NFS -> StoreRole.NFS_CLIENT;
    };
  }

  private static Props props(
      NodeSpec node,
      ProjectLayout layout,
      ClusterSpec cluster,
      List<ITerraformDependable> after,
      List<HostStep> restartsWith) {
    StorageSpec storage = cluster.storage();
    StoreRole role = storeRole(storage, node);
    boolean holdsData = holdsData(cluster, node);
    String nfsServer = "";
    String nfsServerPath = "";
    String mountOptions = "";
    if (storage.mode() == StorageMode.HEAD_NFS && role == StoreRole.NFS_CLIENT) {
      nfsServer = cluster.head().address();
      nfsServerPath = storage.mountPath();
      mountOptions = storage.nfsMountOptions();
    } else if (storage.mode() == StorageMode.EXTERNAL_NFS) {
      nfsServer = storage.nfsServer();
      nfsServerPath = storage.nfsServerPath();
      // The head writes the fetched model into the export; workers only read it.
      mountOptions = holdsData ? readWrite(storage.nfsMountOptions()) : storage.nfsMountOptions();
    }
    List<String> clients =
        role == StoreRole.NFS_SERVER
            ? cluster.workers().stream().map(NodeSpec::address).toList()
            : List.of();

    Env env =
        Env.of(node, "model-store")
            .put("STORAGE_MODE", storage.mode().name().toLowerCase(Locale.ROOT))
            .put("STORE_ROLE", role.name().toLowerCase(Locale.ROOT))
            .put("MOUNT_PATH", storage.mountPath())
            .put("MODEL_DIR", storage.modelPath(cluster.model()))
            .put("NFS_SERVER", nfsServer)
            .put("NFS_SERVER_PATH", nfsServerPath)
            .put("NFS_CLIENTS", clients)
            .put("NFS_MOUNT_OPTIONS", mountOptions)
            .put("NFS_MOUNTD_PORT", NfsPorts.MOUNTD)
            .put("NFS_STATD_PORT", NfsPorts.STATD)
            .put("NFS_LOCKD_PORT", NfsPorts.LOCKD)
            .put("FETCH_MODEL", holdsData);
    List<Upload> uploads = new ArrayList<>();
    if (cluster.model().source() instanceof HuggingFace hf) {
      env.put("MODEL_SOURCE", "huggingface")
          .put("HF_REPO", hf.repo())
          .put("HF_REVISION", hf.revision())
          .put("HF_ENDPOINT", hf.endpoint())
          .put("MODEL_MANIFEST", manifest(cluster));
      // The variable's name (never its value), for the host's messages about a refused token.
      env.put("HF_TOKEN_ENV", hf.token() == null ? "" : hf.token().environmentVariable());
      if (hf.token() != null && holdsData) {
        // Delivered from an ephemeral variable into a root-only file; never in state or plan.
        String variable = "var." + hf.token().variableName();
        uploads.add(Upload.secretContent("secrets/hf-token", "${" + variable + "}"));
      }
    } else if (cluster.model().source() instanceof LocalDirectory dir) {
      String digest = ModelDirectory.digest(Path.of(dir.path()));
      env.put("MODEL_SOURCE", "upload")
          .put("HF_REPO", "")
          .put("HF_REVISION", "")
          .put("HF_ENDPOINT", "")
          .put("MODEL_MANIFEST", "upload:" + digest);
      if (holdsData) {
        uploads.add(Upload.directory("model", dir.path(), digest));
      }
    }
    env.put("DELETE_ON_DESTROY", storage.deleteOnDestroy())
        .put("VENV_PATH", cluster.software().venvPath())
        .put("SERVICE_USER", GpuNode.SERVICE_USER);
    return new Props(node, "model-store", env.build(), List.of(), after, restartsWith, uploads);
  }

  private static String readWrite(String options) {
    List<String> out = new ArrayList<>();
    for (String option : options.split(",")) {
      out.add(option.equals("ro") ? "rw" : option);
    }
    if (!out.contains("rw")) {
      out.add(0, "rw");
    }
    return String.join(",", out);
  }
}
