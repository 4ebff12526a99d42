package dev.vllmraycluster.contract;

import java.util.List;

/**
 * The names that cross the boundary between the Java side and the hosts, in one place: the
 * components under {@code modules/}, the directories and files the scripts use, the systemd
 * units, the service user, the env keys the scripts and the plan review read, and the vLLM flags
 * this tool manages. docs/host-contract.md describes the same contract in prose.
 */
public final class HostContract {
  private HostContract() {}

  /** Where {@code apply.sh} installs the modules on a host. */
  public static final String INSTALL_DIR = "/opt/vllm-ray-cluster/modules";

  /** Our configuration on a host (env and args files). */
  public static final String CONFIG_DIR = "/etc/vllm-ray-cluster";
  /** Where the secrets land on a host (directory 0711). */
  public static final String SECRETS_DIR = CONFIG_DIR + "/secrets";
  /** Our scripts on a host ({@link #INSTALL_DIR} is below it). */
  public static final String OPT_DIR = "/opt/vllm-ray-cluster";
  /** State records and the service user's home. */
  public static final String STATE_DIR = "/var/lib/vllm-ray-cluster";
  /** The system user Ray and vLLM run as. */
  public static final String SERVICE_USER = "vllm-ray";
  /** The systemd slice our services run in; the firewall closes every socket of it to outsiders. */
  public static final String SERVICE_SLICE = "vrc.slice";

  /** A part of the cluster on a node: its folder under {@code modules/} and its resource suffix. */
  public enum Component {
    FIREWALL("firewall", "firewall"),
    BOOTSTRAP("bootstrap", "bootstrap"),
    MODEL_STORE("model-store", "model"),
    RAY("ray", "ray"),
    VLLM("vllm", "vllm");

    private final String module;
    private final String stepId;

    Component(String module, String stepId) {
      this.module = module;
      this.stepId = stepId;
    }

    /** The folder under {@code modules/} (and {@code VRC_COMPONENT}, and the plan's {@code component}). */
    public String module() {
      return module;
    }

    /** The construct id, the suffix of the resource name ({@code head_model}). */
    public String stepId() {
      return stepId;
    }

    public static Component ofModule(String module) {
      for (Component c : values()) {
        if (c.module.equals(module)) {
          return c;
        }
      }
      return null;
    }
  }

  /** The folder every component's scripts share ({@code lib.sh}). */
  public static final String COMMON_MODULE = "common";

  /** systemd units our components install. */
  public static final class Units {
    private Units() {}

    /** Every unit of ours starts with this; a process in one of them is this deployment's. */
    public static final String PREFIX = "vrc-";
    public static final String FIREWALL = "vrc-firewall";
    public static final String RAY_HEAD = "vrc-ray-head";
    public static final String RAY_WORKER = "vrc-ray-worker";
    public static final String VLLM = "vrc-vllm";
  }

  /** Files in a step's staging directory that carry a secret (from an ephemeral variable). */
  public static final class SecretFiles {
    private SecretFiles() {}

    /** {@code VLLM_API_KEY=...}, read by {@code vrc-vllm.service} with {@code EnvironmentFile=}. */
    public static final String VLLM_API_KEY = "secrets/vllm.env";
    /** Ray's token; kept as {@link #RAY_TOKEN_ON_HOST}. */
    public static final String RAY_TOKEN = "secrets/ray-token";
    public static final String RAY_TOKEN_ON_HOST = SECRETS_DIR + "/ray-token";
    /** The Hugging Face token for the fetch. */
    public static final String HF_TOKEN = "secrets/hf-token";
    /** {@code user:password} of the pip mirror; kept as a root-only netrc pip reads. */
    public static final String PIP_CREDENTIALS = "secrets/pip-credentials";
    /** A hash-locked requirements file (not a secret, but uploaded the same way). */
    public static final String REQUIREMENTS_LOCK = "requirements.lock";
  }

  /** Env keys the Java side writes and the scripts, verify and the plan review read. */
  public static final class Env {
    private Env() {}

    public static final String NODE = "VRC_NODE";
    public static final String COMPONENT = "VRC_COMPONENT";
    public static final String ROLE = "VRC_ROLE";
    public static final String VENV_PATH = "VENV_PATH";
    public static final String SERVICE_USER = "SERVICE_USER";
    // bootstrap
    public static final String OS_FAMILY = "OS_FAMILY";
    public static final String PYTHON = "PYTHON";
    public static final String RAY_VERSION = "RAY_VERSION";
    public static final String VLLM_VERSION = "VLLM_VERSION";
    public static final String PIP_INDEX_URL = "PIP_INDEX_URL";
    public static final String PIP_FIND_LINKS = "PIP_FIND_LINKS";
    public static final String PIP_TRUSTED_HOST = "PIP_TRUSTED_HOST";
    public static final String PIP_ALLOW_SOURCE_BUILDS = "PIP_ALLOW_SOURCE_BUILDS";
    public static final String PIP_REQUIREMENTS_LOCK = "PIP_REQUIREMENTS_LOCK";
    public static final String PIP_CREDENTIALS = "PIP_CREDENTIALS";
    // firewall
    public static final String FIREWALL_BACKEND = "FIREWALL_BACKEND";
    public static final String CLUSTER_ADDRESSES = "CLUSTER_ADDRESSES";
    public static final String API_PORT = "API_PORT";
    public static final String API_ALLOWED_NETWORKS = "API_ALLOWED_NETWORKS";
    public static final String DASHBOARD_PORT = "DASHBOARD_PORT";
    public static final String DASHBOARD_ALLOWED_NETWORKS = "DASHBOARD_ALLOWED_NETWORKS";
    public static final String PROTECTED_TCP_PORTS = "PROTECTED_TCP_PORTS";
    public static final String PROTECTED_UDP_PORTS = "PROTECTED_UDP_PORTS";
    public static final String SERVICE_SLICE = "SERVICE_SLICE";
    public static final String FIREWALL_UNIT = "FIREWALL_UNIT";
    // model-store
    public static final String STORAGE_MODE = "STORAGE_MODE";
    public static final String STORE_ROLE = "STORE_ROLE";
    public static final String MOUNT_PATH = "MOUNT_PATH";
    public static final String MODEL_DIR = "MODEL_DIR";
    public static final String NFS_SERVER = "NFS_SERVER";
    public static final String NFS_SERVER_PATH = "NFS_SERVER_PATH";
    public static final String NFS_CLIENTS = "NFS_CLIENTS";
    public static final String NFS_MOUNT_OPTIONS = "NFS_MOUNT_OPTIONS";
    public static final String FETCH_MODEL = "FETCH_MODEL";
    public static final String MODEL_SOURCE = "MODEL_SOURCE";
    public static final String MODEL_MANIFEST = "MODEL_MANIFEST";
    public static final String HF_REPO = "HF_REPO";
    public static final String HF_REVISION = "HF_REVISION";
    public static final String HF_ENDPOINT = "HF_ENDPOINT";
    public static final String DELETE_ON_DESTROY = "DELETE_ON_DESTROY";
    // ray
    public static final String RAY_TEMP_DIR = "RAY_TEMP_DIR";
    public static final String NODE_IP = "NODE_IP";
    public static final String HEAD_ADDRESS = "HEAD_ADDRESS";
    public static final String NETWORK_INTERFACE = "NETWORK_INTERFACE";
    public static final String READINESS_TIMEOUT_SECONDS = "READINESS_TIMEOUT_SECONDS";
    public static final String EXPECTED_GPUS = "EXPECTED_GPUS";
    public static final String RAY_AUTH_MODE = "RAY_AUTH_MODE";
    public static final String AUTOSCALER_METRIC_PORT = "AUTOSCALER_METRIC_PORT";
    public static final String DASHBOARD_METRIC_PORT = "DASHBOARD_METRIC_PORT";
    // vllm
    public static final String RAY_ADDRESS = "RAY_ADDRESS";
    public static final String VLLM_HOST_IP = "VLLM_HOST_IP";
    public static final String SERVED_MODEL_NAME = "SERVED_MODEL_NAME";
    public static final String REQUIRE_API_KEY = "REQUIRE_API_KEY";
    public static final String INTERCONNECT = "INTERCONNECT";
    public static final String VLLM_PORT = "VLLM_PORT";
  }

  // ------------------------------------------------------------------ vLLM flags

  /** A vLLM flag this tool renders itself, and what to set instead. */
  public record VllmFlag(String flag, String fix) {}

  /** The vLLM flags the constructs render from typed fields ({@code VllmService.args}). */
  public static final class VllmFlags {
    private VllmFlags() {}

    public static final String MODEL = "--model";
    public static final String SERVED_MODEL_NAME = "--served-model-name";
    public static final String HOST = "--host";
    public static final String PORT = "--port";
    public static final String TENSOR_PARALLEL_SIZE = "--tensor-parallel-size";
    public static final String PIPELINE_PARALLEL_SIZE = "--pipeline-parallel-size";
    public static final String DISTRIBUTED_EXECUTOR_BACKEND = "--distributed-executor-backend";
    public static final String GPU_MEMORY_UTILIZATION = "--gpu-memory-utilization";
    public static final String MAX_MODEL_LEN = "--max-model-len";
    public static final String DTYPE = "--dtype";
  }

  /**
   * Flags the constructs render from typed fields (or must never be given: the API key, which
   * would land in argv, the plan and the state; a config file, which could set any of them).
   */
  public static final List<VllmFlag> MANAGED_VLLM_FLAGS = List.of(
      new VllmFlag(VllmFlags.MODEL, "set model (and storage.mount_path) instead"),
      new VllmFlag(VllmFlags.SERVED_MODEL_NAME, "set model.served_model_name instead"),
      new VllmFlag(VllmFlags.HOST, "set vllm.host instead"),
      new VllmFlag(VllmFlags.PORT, "set vllm.port instead"),
      new VllmFlag(VllmFlags.TENSOR_PARALLEL_SIZE, "set vllm.tensor_parallel_size instead"),
      new VllmFlag("-tp", "set vllm.tensor_parallel_size instead"),
      new VllmFlag(VllmFlags.PIPELINE_PARALLEL_SIZE, "set vllm.pipeline_parallel_size instead"),
      new VllmFlag("-pp", "set vllm.pipeline_parallel_size instead"),
      new VllmFlag(VllmFlags.DISTRIBUTED_EXECUTOR_BACKEND, "remove it: this tool always runs vLLM on the Ray cluster (ray)"),
      new VllmFlag(VllmFlags.GPU_MEMORY_UTILIZATION, "set vllm.gpu_memory_utilization instead"),
      new VllmFlag(VllmFlags.MAX_MODEL_LEN, "set vllm.max_model_len instead"),
      new VllmFlag(VllmFlags.DTYPE, "set vllm.dtype instead"),
      new VllmFlag("--api-key", "never pass the API key as an argument: it is read from vllm.api_key_env into a root-only file"),
      new VllmFlag("--config", "remove it: a config file could set any flag this tool manages (and the API key); give the flags in extra_args"));

  /**
   * The flag name of an argument as vLLM's {@code FlexibleArgumentParser} (0.33) reads it: the
   * part before {@code =}, for {@code --} flags the part before the first {@code .} (a JSON
   * field), with {@code _} turned into {@code -}; null for a value (no leading {@code -}).
   */
  public static String vllmFlagName(String arg) {
    if (arg == null || !arg.startsWith("-") || arg.equals("-") || arg.equals("--")) {
      return null;
    }
    String key = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
    if (key.startsWith("--")) {
      int dot = key.indexOf('.');
      key = "--" + (dot < 0 ? key.substring(2) : key.substring(2, dot)).replace('_', '-');
    }
    return key;
  }

  /**
   * The managed flag an argument sets, or null. argparse (vLLM keeps its {@code allow_abbrev})
   * also takes a unique prefix of a flag, so every prefix of a managed flag counts as that flag.
   */
  public static VllmFlag managedVllmFlag(String arg) {
    String name = vllmFlagName(arg);
    if (name == null) {
      return null;
    }
    boolean longFlag = name.startsWith("--");
    if (longFlag ? name.length() < 3 : name.length() < 2) {
      return null;
    }
    for (VllmFlag f : MANAGED_VLLM_FLAGS) {
      if (f.flag().startsWith("--") == longFlag && f.flag().startsWith(name)) {
        return f;
      }
    }
    return null;
  }
}
