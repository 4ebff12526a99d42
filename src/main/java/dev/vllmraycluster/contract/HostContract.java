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
  /** The service user's persistent caches (vLLM's compile cache and friends), on every node. */
  public static final String SERVICE_CACHE_DIR = STATE_DIR + "/cache";
  /** The host's download cache of uv and pip (and uv itself), kept across bootstrap replacements. */
  public static final String WHEEL_CACHE_DIR = "/var/cache/vllm-ray-cluster";
  /** The systemd slice our services run in; the firewall closes every socket of it to outsiders. */
  public static final String SERVICE_SLICE = "vrc.slice";

  /**
   * A part of the cluster on a node: its folder under {@code modules/} and its resource suffix.
   * Declared in the order a deploy brings them up; {@link #teardownOrder()} is the reverse.
   */
  public enum Component {
    /**
     * Created first and destroyed last on every node, with nothing to do at create: at destroy it
     * runs the remove.sh of every component still installed (one whose step was tainted, so that
     * OpenTofu ran no remove.sh for it) and removes any unit or secret of ours left behind.
     */
    SWEEP("sweep", "sweep"),
    FIREWALL("firewall", "firewall"),
    WHEEL_CACHE("wheel-cache", "wheel_cache"),
    BOOTSTRAP("bootstrap", "bootstrap"),
    MODEL_STORE("model-store", "model"),
    RAY("ray", "ray"),
    VLLM("vllm", "vllm", true),
    PROXY("proxy", "proxy", true),
    WATCHDOG("watchdog", "watchdog", true),
    /** Node exporter and our textfile collectors (every node, with monitoring on). */
    METRICS("metrics", "metrics"),
    /** Prometheus with our scrape targets and alert rules (one node, with monitoring on). */
    PROMETHEUS("prometheus", "prometheus");

    private final String module;
    private final String stepId;
    private final boolean headOnly;

    Component(String module, String stepId) {
      this(module, stepId, false);
    }

    Component(String module, String stepId, boolean headOnly) {
      this.module = module;
      this.stepId = stepId;
      this.headOnly = headOnly;
    }

    /** Only on the head (vLLM, the watchdog); every other component runs on every node. */
    public boolean headOnly() {
      return headOnly;
    }

    /** The folder under {@code modules/} (and {@code VRC_COMPONENT}, and the plan's {@code component}). */
    public String module() {
      return module;
    }

    /** The construct id, the suffix of the resource name ({@code head_model}). */
    public String stepId() {
      return stepId;
    }

    /**
     * The components that install something (every one but {@link #SWEEP}), in the order a
     * destroy removes them: the reverse of the deploy order. The sweep runs their remove.sh in
     * this order.
     */
    public static List<Component> teardownOrder() {
      List<Component> order = new java.util.ArrayList<>(List.of(values()));
      order.remove(SWEEP);
      java.util.Collections.reverse(order);
      return List.copyOf(order);
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
    /** HAProxy in front of vLLM's API (outside {@code vrc.slice}: clients must reach it). */
    public static final String PROXY = "vrc-proxy";
    /** The watchdog's timer (it starts {@code vrc-watchdog.service}, one probe). */
    public static final String WATCHDOG_TIMER = "vrc-watchdog.timer";
    /** prometheus-node-exporter with our collectors' directory (monitoring). */
    public static final String NODE_EXPORTER = "vrc-node-exporter";
    /** The timer that runs our textfile collectors (monitoring). */
    public static final String COLLECTORS = "vrc-collectors";
    public static final String PROMETHEUS = "vrc-prometheus";
  }

  /** TLS material of the API proxy on the head (docs/host-contract.md, proxy). */
  public static final class Tls {
    private Tls() {}

    /** The directory (0755 root): the certificates; the private keys in it are 0600 root. */
    public static final String DIR = CONFIG_DIR + "/tls";
    /** The per-cluster CA certificate clients pin (generated certificates only). */
    public static final String CA_CERT = DIR + "/ca.crt";
    /** The server certificate (chain) the proxy presents. */
    public static final String SERVER_CERT = DIR + "/server.crt";
  }

  /** Where our textfile collectors write ({@code *.prom}), read by our node exporter. */
  public static final String TEXTFILE_DIR = STATE_DIR + "/textfile";
  /** The watchdog's last probe (KEY=value lines), read by verify, by our collector and by status. */
  public static final String WATCHDOG_STATUS = STATE_DIR + "/watchdog.status";

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
    /** The proxy's key check: {@code Bearer <key>} lines HAProxy compares the Authorization header with. */
    public static final String PROXY_AUTH = "secrets/proxy-auth";
    /** A user-given certificate (chain) for the proxy (public; staged with the key). */
    public static final String TLS_CERT = "secrets/tls.crt";
    /** Its private key. */
    public static final String TLS_KEY = "secrets/tls.key";
    /** A Grafana service account token, for provisioning the dashboards. */
    public static final String GRAFANA_TOKEN = "secrets/grafana-token";
    /** A hash-locked requirements file (not a secret, but uploaded the same way). */
    public static final String REQUIREMENTS_LOCK = "requirements.lock";
  }

  /**
   * A secret the deploy machine hands to the hosts, and the components that keep it while they
   * run: when its value changes, exactly their steps are replaced (OpenTofu's {@code
   * replace_triggered_by} on the secret's fingerprint resource, {@code secret_<name>}), so that no
   * host keeps serving with the old value. A secret no running component keeps (used once by an
   * apply and deleted after it) replaces nothing: the next apply that needs it takes the new value.
   * This is the one list of which steps use which secret; a component that starts keeping a
   * secret is added here.
   */
  public enum Secret {
    /**
     * The vLLM API key ({@code vllm.api_key_env}): vLLM reads it from its env file at start, the
     * API proxy its key lines (the watchdog reads vLLM's env file at every probe).
     */
    API_KEY("api_key", "the API key", SecretFiles.VLLM_API_KEY, List.of(Component.VLLM, Component.PROXY)),
    /**
     * Ray's token ({@code ray.auth_token_env}): every Ray node reads it at start, and vLLM (a Ray
     * driver) too; all of them restart together, since nodes with different tokens cannot talk.
     */
    RAY_TOKEN("ray_token", "the Ray token", SecretFiles.RAY_TOKEN, List.of(Component.RAY, Component.VLLM)),
    /** The Hugging Face token ({@code model.hf_token_env}): used by a fetch only. */
    HF_TOKEN("hf_token", "the Hugging Face token", SecretFiles.HF_TOKEN, List.of()),
    /** The pip mirror's credentials ({@code software.pip_credentials_env}): used by pip only. */
    PIP_CREDENTIALS("pip_credentials", "the pip mirror credentials", SecretFiles.PIP_CREDENTIALS, List.of());

    private final String id;
    private final String label;
    private final String stageFile;
    private final List<Component> keptBy;

    Secret(String id, String label, String stageFile, List<Component> keptBy) {
      this.id = id;
      this.label = label;
      this.stageFile = stageFile;
      this.keptBy = keptBy;
    }

    /** {@code api_key}: the fingerprint resource is {@code secret_<id>}. */
    public String id() {
      return id;
    }

    /** For messages and plan reviews: "the API key". */
    public String label() {
      return label;
    }

    /** The resource that carries the secret's fingerprint: {@code secret_api_key}. */
    public String resourceName() {
      return "secret_" + id;
    }

    /** Where the secret lands in a step's staging directory. */
    public String stageFile() {
      return stageFile;
    }

    /** The components whose running services keep the secret: replaced when it changes. */
    public List<Component> keptBy() {
      return keptBy;
    }

    /** The secret whose fingerprint resource is {@code resourceName}, or null. */
    public static Secret ofResource(String resourceName) {
      for (Secret s : values()) {
        if (s.resourceName().equals(resourceName)) {
          return s;
        }
      }
      return null;
    }
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
    public static final String NFS_MOUNTD_PORT = "NFS_MOUNTD_PORT";
    public static final String NFS_STATD_PORT = "NFS_STATD_PORT";
    public static final String NFS_LOCKD_PORT = "NFS_LOCKD_PORT";
    public static final String FETCH_MODEL = "FETCH_MODEL";
    public static final String MODEL_SOURCE = "MODEL_SOURCE";
    public static final String MODEL_MANIFEST = "MODEL_MANIFEST";
    public static final String HF_REPO = "HF_REPO";
    public static final String HF_REVISION = "HF_REVISION";
    public static final String HF_ENDPOINT = "HF_ENDPOINT";
    /** The HF token variable's name (never its value), for the host's messages. */
    public static final String HF_TOKEN_ENV = "HF_TOKEN_ENV";
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
    public static final String VLLM_CONFIG_ROOT = "VLLM_CONFIG_ROOT";
    public static final String RAY_NON_CARRY_OVER = "RAY_NON_CARRY_OVER";
    public static final String VLLM_CACHE_ROOT = "VLLM_CACHE_ROOT";
    public static final String XDG_CACHE_HOME = "XDG_CACHE_HOME";
    public static final String TORCHINDUCTOR_CACHE_DIR = "TORCHINDUCTOR_CACHE_DIR";
    public static final String TRITON_CACHE_DIR = "TRITON_CACHE_DIR";
    // bootstrap: the installer; wheel-cache
    public static final String INSTALLER = "INSTALLER";
    public static final String INSTALLER_UV_VERSION = "INSTALLER_UV_VERSION";
    public static final String WHEEL_CACHE_DIR = "WHEEL_CACHE_DIR";
    public static final String CACHE_DIR = "CACHE_DIR";
    // proxy
    public static final String API_HOST = "API_HOST";
    public static final String BACKEND_PORT = "BACKEND_PORT";
    public static final String TLS = "TLS";
    public static final String TLS_SOURCE = "TLS_SOURCE";
    public static final String TLS_SERVER_NAMES = "TLS_SERVER_NAMES";
    public static final String API_URL = "API_URL";
    public static final String API_CA_FILE = "API_CA_FILE";
    // vllm's start order (wait-ray.sh)
    public static final String RAY_EXPECTED_NODES = "RAY_EXPECTED_NODES";
    public static final String REQUIRED_GPUS = "REQUIRED_GPUS";
    public static final String RAY_WAIT_SECONDS = "RAY_WAIT_SECONDS";
    // watchdog
    public static final String VLLM_UNIT = "VLLM_UNIT";
    public static final String INTERVAL_SECONDS = "INTERVAL_SECONDS";
    public static final String FAILURES_BEFORE_RESTART = "FAILURES_BEFORE_RESTART";
    public static final String PROBE_TIMEOUT_SECONDS = "PROBE_TIMEOUT_SECONDS";
    public static final String STARTUP_GRACE_SECONDS = "STARTUP_GRACE_SECONDS";
    public static final String EXPECTED_NODES = "EXPECTED_NODES";
    // firewall, with monitoring on (absent otherwise, so that other stacks keep their digests)
    public static final String MONITORING_PORTS = "MONITORING_PORTS";
    public static final String MONITORING_ALLOWED_NETWORKS = "MONITORING_ALLOWED_NETWORKS";
    // metrics
    public static final String NODE_EXPORTER_PORT = "NODE_EXPORTER_PORT";
    public static final String COLLECT_INTERVAL_SECONDS = "COLLECT_INTERVAL_SECONDS";
    public static final String GPUS = "GPUS";
    public static final String DCGM_EXPORTER_PORT = "DCGM_EXPORTER_PORT";
    public static final String MOUNT_REQUIRED = "MOUNT_REQUIRED";
    // prometheus
    public static final String PROMETHEUS_PORT = "PROMETHEUS_PORT";
    public static final String RETENTION_DAYS = "RETENTION_DAYS";
    public static final String GPU_NODES = "GPU_NODES";
    public static final String GRAFANA_URL = "GRAFANA_URL";
    public static final String GRAFANA_TOKEN = "GRAFANA_TOKEN";
    public static final String PROMETHEUS_URL = "PROMETHEUS_URL";
    // sweep
    /** The components whose remove.sh the sweep runs, space-separated, in teardown order. */
    public static final String SWEEP_ORDER = "SWEEP_ORDER";
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
    public static final String DATA_PARALLEL_SIZE = "--data-parallel-size";
    public static final String DATA_PARALLEL_SIZE_LOCAL = "--data-parallel-size-local";
    public static final String DATA_PARALLEL_BACKEND = "--data-parallel-backend";

    /** The options the constructs add with {@code vllm.data_parallel_size} > 1. */
    public static final List<String> DATA_PARALLEL = List.of(DATA_PARALLEL_SIZE, DATA_PARALLEL_SIZE_LOCAL, DATA_PARALLEL_BACKEND);

    /** Every option the constructs can emit (the model is {@code vllm serve}'s positional argument). */
    public static final List<String> GENERATED = List.of(SERVED_MODEL_NAME, HOST, PORT, TENSOR_PARALLEL_SIZE,
        PIPELINE_PARALLEL_SIZE, DISTRIBUTED_EXECUTOR_BACKEND, GPU_MEMORY_UTILIZATION, MAX_MODEL_LEN, DTYPE);
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
      new VllmFlag(VllmFlags.DATA_PARALLEL_SIZE, "set vllm.data_parallel_size instead"),
      new VllmFlag("-dp", "set vllm.data_parallel_size instead"),
      new VllmFlag(VllmFlags.DATA_PARALLEL_SIZE_LOCAL, "remove it: this tool places the replicas from vllm.data_parallel_size and the nodes' GPUs"),
      new VllmFlag("-dpl", "remove it: this tool places the replicas from vllm.data_parallel_size and the nodes' GPUs"),
      new VllmFlag(VllmFlags.DATA_PARALLEL_BACKEND, "remove it: with vllm.data_parallel_size this tool uses vLLM's Ray data-parallel backend"),
      new VllmFlag("-dpb", "remove it: with vllm.data_parallel_size this tool uses vLLM's Ray data-parallel backend"),
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
