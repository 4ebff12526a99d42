package dev.vllmraycluster.preflight;

/** The limits the checks apply, in one place (README "Preflight and verify" lists them). */
public final class Thresholds {
  /** Free space a new venv with torch, vLLM and Ray needs (CUDA wheels are several GB). */
  public static final long VENV_BYTES = 10L << 30;
  /** Free space left over when the venv is already there. */
  public static final long HEADROOM_BYTES = 1L << 30;
  /** /dev/shm below this: NCCL's shared-memory transport and Ray's object store fail. */
  public static final long SHM_FAIL_BYTES = 1L << 30;
  /** /dev/shm below this: works for small models, warned. */
  public static final long SHM_WARN_BYTES = 8L << 30;
  /** Clock offset (ms) against this machine beyond which logs and TLS-validity get confusing. */
  public static final long CLOCK_WARN_MILLIS = 2_000;
  /** Clock offset (ms) beyond which certificate checks (model downloads) can fail. */
  public static final long CLOCK_FAIL_MILLIS = 300_000;
  /** Share of vLLM's GPU memory budget the weights may take before the KV cache gets tight. */
  public static final double WEIGHTS_WARN_SHARE = 0.8;
  /** Oldest Python the pinned Ray and vLLM support. */
  public static final int PYTHON_MIN_MINOR = 9;
  /** First Python minor vLLM 0.9.x publishes no wheels for (warned, not failed). */
  public static final int PYTHON_WARN_MINOR = 13;
  /** CUDA major version vLLM's PyPI wheels are built for. */
  public static final int CUDA_MAJOR = 12;

  private Thresholds() {}
}
