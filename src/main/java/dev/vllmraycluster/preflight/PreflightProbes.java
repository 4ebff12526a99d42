package dev.vllmraycluster.preflight;

import dev.vllmraycluster.preflight.parse.ComputeApps;
import dev.vllmraycluster.preflight.parse.GpuQuery;
import dev.vllmraycluster.preflight.parse.ListeningPorts;
import dev.vllmraycluster.contract.Shell;
import dev.vllmraycluster.spec.ClusterSpec;
import dev.vllmraycluster.spec.ClusterSpec.HuggingFace;
import dev.vllmraycluster.spec.ClusterSpec.NodeSpec;
import dev.vllmraycluster.spec.ClusterSpec.Role;
import dev.vllmraycluster.storage.ModelStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The commands preflight runs on a node, each POSIX sh, read-only: nothing on the host changes.
 * Values put into them come from the validated stack (addresses, paths, names without quotes).
 */
public final class PreflightProbes {
  public static final String SSH = "ssh";
  public static final String SUDO = "sudo";
  public static final String HOME = "home";
  public static final String OS = "os";
  public static final String GPUS = "gpus";
  public static final String SMI = "nvidia-smi";
  public static final String TOPO = "topo";
  public static final String GPU_APPS = "gpu-apps";
  public static final String PYTHON = "python";
  public static final String VENV = "venv";
  public static final String ADDR = "addr";
  public static final String DISK_VENV = "disk-venv";
  public static final String DISK_MODEL = "disk-model";
  public static final String SHM = "shm";
  public static final String PORTS = "ports";
  public static final String REACH = "reach";
  public static final String MODEL = "model";
  public static final String HF = "hf";

  static final String NO_NVIDIA_SMI =
      "command -v nvidia-smi >/dev/null 2>&1 || { echo 'nvidia-smi: command not found' >&2; exit 127; }; ";

  private PreflightProbes() {}

  public static List<Probe> forNode(ClusterSpec spec, NodeSpec node) {
    List<Probe> p = new ArrayList<>();
    p.add(Probe.of(SSH, "id -un && uname -n"));
    if (!"root".equals(node.ssh().user())) {
      p.add(Probe.of(SUDO, "sudo -n true"));
      p.add(Probe.of(HOME, "printf '%s\\n' \"$HOME\" && stat -c '%a %U %G' \"$HOME\""));
    }
    p.add(Probe.of(OS, "cat /etc/os-release"));
    p.add(Probe.of(GPUS, NO_NVIDIA_SMI + GpuQuery.COMMAND));
    p.add(Probe.of(SMI, NO_NVIDIA_SMI + "nvidia-smi"));
    if (spec.vllm().tensorParallelSize() > 1 && node.gpus() > 1) {
      p.add(Probe.of(TOPO, NO_NVIDIA_SMI + "nvidia-smi topo -m"));
    }
    p.add(Probe.of(GPU_APPS, gpuApps()));
    p.add(Probe.of(PYTHON, python(spec.software().python())));
    p.add(Probe.of(VENV, venv(spec.software().venvPath())));
    p.add(Probe.of(ADDR, "ip -j addr show 2>/dev/null || { echo '### hostname -I'; hostname -I; }"));
    p.add(Probe.of(DISK_VENV, diskAt(spec.software().venvPath())));
    if (ModelStore.holdsData(spec, node)) {
      p.add(Probe.of(DISK_MODEL, diskAt(spec.storage().mountPath())));
    }
    p.add(Probe.of(SHM, "df -P -k /dev/shm"));
    p.add(Probe.of(PORTS, ports()));
    List<String> peers = new ArrayList<>();
    for (NodeSpec other : spec.nodes()) {
      if (!other.name().equals(node.name())) {
        peers.add(other.address() + ":" + other.ssh().port());
      }
    }
    if (!peers.isEmpty()) {
      p.add(Probe.of(REACH, reach(peers)).withTimeout(Duration.ofSeconds(10L + 6L * peers.size())));
    }
    p.add(Probe.of(MODEL, model(spec.storage().modelPath(spec.model()))));
    if (spec.model().source() instanceof HuggingFace hf && ModelStore.holdsData(spec, node) && node.role() == Role.HEAD) {
      p.add(Probe.of(HF, huggingFace(hf)));
    }
    p.add(Probe.of(Gatherer.CLOCK, "date +%s%3N"));
    return p;
  }

  /** The GPU processes and, after {@code ### units}, each one's systemd unit. */
  static String gpuApps() {
    return NO_NVIDIA_SMI + ComputeApps.COMMAND + " || exit $?; echo '" + ListeningPorts.UNITS_MARKER + "'; "
        + "for p in $(" + ComputeApps.COMMAND.replace("pid,process_name,used_memory,gpu_uuid", "pid")
        + " | sort -un); do " + UNIT_OF_PID + " done";
  }

  /**
   * The service a cgroup line places a process in: its last {@code *.service} component, in any
   * slice ({@code system.slice}, our {@code vrc.slice}, a container's {@code /payload/...}), with
   * or without a sub-cgroup below it.
   */
  static final String SERVICE_OF_CGROUP = "s#^[^:]*:[^:]*:.*/\\([^/]*\\.service\\)\\(/.*\\)\\{0,1\\}$#\\1#p";

  /** Prints "{@code <pid> <unit>}" (or "-") for {@code $p}, from its cgroup. */
  static final String UNIT_OF_PID =
      "u=$(sed -n '" + SERVICE_OF_CGROUP + "' /proc/$p/cgroup 2>/dev/null | head -n 1);"
          + " echo \"$p ${u:--}\";";

  static String python(String interpreter) {
    interpreter = Shell.quote(interpreter);
    return "command -v " + interpreter + " >/dev/null 2>&1 || { echo found=no; "
        + "echo \"default=$(python3 --version 2>&1 || echo none)\"; exit 0; }; echo found=yes; "
        + interpreter + " -c 'import sys, sysconfig, os; inc = sysconfig.get_paths()[\"include\"]; "
        + "print(\"version=\" + sys.version.split()[0]); "
        + "print(\"python_h=\" + (\"yes\" if os.path.exists(os.path.join(inc, \"Python.h\")) else \"no\"))'; "
        + interpreter + " -c 'import ensurepip, venv' >/dev/null 2>&1 && echo venv=yes || echo venv=no; "
        + "for t in gcc g++; do command -v $t >/dev/null 2>&1 && echo $t=yes || echo $t=no; done";
  }

  static String venv(String venvPath) {
    String python = Shell.quote(venvPath + "/bin/python");
    return "if [ ! -x " + python + " ]; then echo venv=absent; exit 0; fi; echo venv=present; "
        + python + " -c 'import sys, importlib.metadata as m\n"
        + "print(\"python=\" + sys.version.split()[0])\n"
        + "for d in (\"ray\", \"vllm\"):\n"
        + "    try:\n"
        + "        print(d + \"=\" + m.version(d))\n"
        + "    except m.PackageNotFoundError:\n"
        + "        print(d + \"=-\")'";
  }

  /** {@code df -P -k} of the nearest existing directory at or above {@code path}. */
  static String diskAt(String path) {
    return "p=" + Shell.quote(path) + "; while [ ! -e \"$p\" ]; do p=$(dirname \"$p\"); done; df -P -k \"$p\"";
  }

  static String ports() {
    return "if [ \"$(id -u)\" = 0 ]; then s=; else s='sudo -n'; fi; "
        + "command -v ss >/dev/null 2>&1 || { echo 'ss: command not found (iproute2)' >&2; exit 127; }; "
        + "$s ss -Htlnp || exit $?; echo '" + ListeningPorts.UNITS_MARKER + "'; "
        + "for p in $($s ss -Htlnp | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -un); do " + UNIT_OF_PID + " done";
  }

  /**
   * Per peer "{@code <address> icmp|tcp|refused|none}": ping first, else a TCP connection to the
   * peer's SSH port (refused still proves the address answers).
   */
  static String reach(List<String> peers) {
    return "for t in " + Shell.words(peers) + "; do a=${t%:*}; port=${t#*:}; "
        + "if command -v ping >/dev/null 2>&1 && ping -n -c 1 -W 2 \"$a\" >/dev/null 2>&1; then echo \"$a icmp\"; continue; fi; "
        + "if ! command -v bash >/dev/null 2>&1; then echo \"$a none no-ping-no-bash\"; continue; fi; "
        + "out=$(timeout 4 bash -c \"exec 3<>/dev/tcp/$a/$port\" 2>&1); rc=$?; "
        + "if [ $rc -eq 0 ]; then echo \"$a tcp\"; "
        + "elif echo \"$out\" | grep -qi refused; then echo \"$a refused\"; "
        + "elif [ $rc -eq 124 ]; then echo \"$a none timeout\"; "
        + "else echo \"$a none $(echo \"$out\" | tail -n 1 | sed 's/.*: //' | tr ' ' '_')\"; fi; done";
  }

  static String model(String modelDir) {
    return "d=" + Shell.quote(modelDir) + "; if [ ! -d \"$d\" ]; then echo present=no; exit 0; fi; echo present=yes; "
        + "[ -f \"$d/.vrc-complete\" ] && echo \"complete=$(cat \"$d/.vrc-complete\")\"; "
        + "echo \"weights=$(find \"$d\" -maxdepth 2 -type f \\( -name '*.safetensors' -o -name '*.bin' -o -name '*.pt'"
        + " -o -name '*.pth' -o -name '*.gguf' \\) -printf '%s\\n' 2>/dev/null | awk '{s += $1} END {printf \"%d\", s}')\"";
  }

  static String huggingFace(HuggingFace hf) {
    String endpoint = hf.endpoint() == null || hf.endpoint().isEmpty() ? "https://huggingface.co" : hf.endpoint();
    endpoint = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
    String url = endpoint + "/api/models/" + hf.repo() + "/revision/" + hf.revision();
    return "command -v curl >/dev/null 2>&1 || { echo 'curl: command not found' >&2; exit 127; }; "
        + "curl -sS -m 10 -o /dev/null -w '%{http_code}' " + Probe.quote(url);
  }
}
