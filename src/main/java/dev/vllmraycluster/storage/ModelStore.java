package dev.vllmraycluster.storage;

import com.hashicorp.cdktf.ITerraformDependable;
import dev.vllmraycluster.contract.HostContract;
import dev.vllmraycluster.contract.HostContract.Component;
import dev.vllmraycluster.node.Env;
import dev.vllmraycluster.node.GpuNode;
import dev.vllmraycluster.node.HostStep;
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

  /**
   * @param node the node it stores the model on (its scope)
   * @param id {@code model}: the resource is {@code <node>_model}
   */
  public ModelStore(GpuNode node, String id, ModelStoreProps props) {
    super(node, id, props.layout(), props(node.spec(), props.cluster(), after(props),
        props.nfsServer() == null ? List.of() : List.of(props.nfsServer())));
    this.storeRole = storeRole(props.cluster().storage(), node.spec());
  }

  private static List<ITerraformDependable> after(ModelStoreProps props) {
    List<ITerraformDependable> after = new ArrayList<>();
    after.add(props.bootstrap().resource());
    after.addAll(props.after());
    return after;
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
            .put(HostContract.Env.STORAGE_MODE, storage.mode().name().toLowerCase(Locale.ROOT))
            .put(HostContract.Env.STORE_ROLE, role.name().toLowerCase(Locale.ROOT))
            .put(HostContract.Env.MOUNT_PATH, storage.mountPath())
            .put(HostContract.Env.MODEL_DIR, storage.modelPath(cluster.model()))
            .put(HostContract.Env.NFS_SERVER, nfsServer)
            .put(HostContract.Env.NFS_SERVER_PATH, nfsServerPath)
            .put(HostContract.Env.NFS_CLIENTS, clients)
            .put(HostContract.Env.NFS_MOUNT_OPTIONS, mountOptions)
            .put(HostContract.Env.FETCH_MODEL, holdsData);
    List<Upload> uploads = new ArrayList<>();
    if (cluster.model().source() instanceof HuggingFace hf) {
      env.put(HostContract.Env.MODEL_SOURCE, "huggingface")
          .put(HostContract.Env.HF_REPO, hf.repo())
          .put(HostContract.Env.HF_REVISION, hf.revision())
          .put(HostContract.Env.HF_ENDPOINT, hf.endpoint())
          .put(HostContract.Env.MODEL_MANIFEST, manifest(cluster));
      if (hf.token() != null && holdsData) {
        // Delivered from an ephemeral variable into a root-only file; never in state or plan.
        String variable = "var." + hf.token().variableName();
        uploads.add(Upload.secretContent(HostContract.SecretFiles.HF_TOKEN, "${" + variable + "}"));
      }
    } else if (cluster.model().source() instanceof LocalDirectory dir) {
      String digest = ModelDirectory.digest(Path.of(dir.path()));
      env.put(HostContract.Env.MODEL_SOURCE, "upload")
          .put(HostContract.Env.HF_REPO, "")
          .put(HostContract.Env.HF_REVISION, "")
          .put(HostContract.Env.HF_ENDPOINT, "")
          .put(HostContract.Env.MODEL_MANIFEST, "upload:" + digest);
      if (holdsData) {
        uploads.add(Upload.directory("model", dir.path(), digest));
      }
    }
    env.put(HostContract.Env.DELETE_ON_DESTROY, storage.deleteOnDestroy())
        .put(HostContract.Env.VENV_PATH, cluster.software().venvPath())
        .put(HostContract.Env.SERVICE_USER, GpuNode.SERVICE_USER);
    return new Props(node, Component.MODEL_STORE.module(), env.build(), List.of(), after, restartsWith, uploads);
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
