"""vllm stand-in: `vllm serve MODEL [options]` (vLLM 0.33.0's command, one process).

Startup: parse the command line against 0.33.0's options; connect to the Ray cluster (RAY_ADDRESS);
start the engine: the Ray executor's TP x PP workers, or with ``--data-parallel-size N``
(``--data-parallel-backend ray``) N engine actors, one per DP rank, each with its own TP x PP
workers; then listen. Real vLLM runs the engine core in another process (or Ray actors) and, with
DP, one API server process per rank behind one port; the stand-in keeps it in one process behind
the same one port.

When the engine dies (a worker's Ray node died, or its process): with DP 1, ``/health`` answers
503 and the watchdog stops the server within 5 s: the process exits 0, as 0.33.0's single API
server does (``terminate_if_errored``). With DP > 1, an engine actor's death ends the process with
status 1, as 0.33.0's API-server supervisor does (``wait_for_completion_or_failure`` raises). See
WHY.md. SIGTERM stops everything and exits 0.
"""
import json
import logging
import os
import signal
import socket
import sys
import threading
import time

from vllm.standin import args as cli
from vllm.version import __version__

logger = logging.getLogger("vllm.entrypoints.openai.api_server")
WATCHDOG_INTERVAL = 5.0


def setup_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(levelname)s %(asctime)s [vllm-standin %(filename)s:%(lineno)d] %(message)s",
                                           datefmt="%m-%d %H:%M:%S"))
    root = logging.getLogger("vllm")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


def _max_model_len(value, model_dir: str) -> int:
    n = cli.human_readable_int_or_auto(value)
    if n and n > 0:
        return n
    try:
        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        for k in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"):
            if isinstance(cfg.get(k), int):
                return cfg[k]
    except Exception:  # noqa: BLE001
        pass
    return 2048


def _wait_gcs_reachable(address: str, stop: threading.Event) -> None:
    """ray.init blocks (ignoring SIGTERM) while the GCS is unreachable: probe it first."""
    from vllm.standin.engine import StartupCancelled, StartupError
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "://" in address:
        return
    timeout = float(os.environ.get("VLLM_STANDIN_RAY_CONNECT_TIMEOUT", "60"))
    deadline = time.monotonic() + timeout
    while True:
        if stop.is_set():
            raise StartupCancelled()
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=2).close()
            return
        except OSError as e:
            if time.monotonic() >= deadline:
                raise StartupError(f"Cannot reach the Ray GCS at {address} (RAY_ADDRESS) within {timeout:g} s: {e}. "
                                   "Is the Ray head running?") from None
        time.sleep(1.0)


def run(argv) -> int:
    setup_logging()
    args = cli.parse_serve_args(argv)  # exits 2 on an unknown option, like argparse in vLLM
    model = args.model_tag
    tp = cli.int_opt(args, "tensor_parallel_size", 1)
    pp = cli.int_opt(args, "pipeline_parallel_size", 1)
    dp = cli.int_opt(args, "data_parallel_size", 1)
    dp_backend = args.data_parallel_backend or "mp"
    executor_backend = args.distributed_executor_backend
    if model is None:
        logger.error("vllm stand-in: no model given (vllm serve MODEL); the stand-in serves a local directory only")
        return 1
    if min(tp, pp, dp) < 1:
        logger.error("tensor_parallel_size, pipeline_parallel_size and data_parallel_size must be >= 1")
        return 1
    if dp > 1 and dp_backend != "ray":
        logger.error("vllm stand-in: --data-parallel-size %d needs --data-parallel-backend ray here: the stand-in "
                     "implements only vLLM's Ray data-parallel backend (got %r)", dp, dp_backend)
        return 1
    if tp * pp > 1 and dp == 1 and executor_backend != "ray":
        logger.error("vllm stand-in: tensor_parallel_size (%d) x pipeline_parallel_size (%d) > 1 needs "
                     "--distributed-executor-backend ray: the stand-in implements only the Ray executor (got %r)",
                     tp, pp, executor_backend)
        return 1
    if not os.path.isdir(model) or not os.path.isfile(os.path.join(model, "config.json")):
        logger.error("%s: not a local directory containing config.json (the vllm stand-in serves only local model "
                     "directories, at the same path on every node).", model)
        return 1
    model = os.path.abspath(model)
    dp_local = cli.int_opt(args, "data_parallel_size_local", dp)
    served = args.served_model_name or [args.model_tag]
    keys = [k for k in (args.api_key or [os.environ.get("VLLM_API_KEY")]) if k]
    max_len = _max_model_len(args.max_model_len, model)
    host = args.host or "0.0.0.0"
    port = int(args.port or 8000)

    logger.info("vLLM API server version %s (STAND-IN for vLLM 0.33.0: no weights are loaded, no tokens are "
                "generated)", __version__)
    logger.info("non-default args: %s", {k: ("<redacted>" if k == "api_key" else v)
                                          for k, v in sorted(vars(args).items()) if v is not None})
    logger.info("API key %s", "required for /v1, /v2, /inference, /cohere (from --api-key or VLLM_API_KEY)"
                if keys else "not set: every route is open")
    if args.api_server_count and int(args.api_server_count) > 1:
        logger.info("vllm stand-in: --api-server-count %s: the stand-in answers with one process", args.api_server_count)

    from vllm.standin import server as http
    from vllm.standin.engine import DataParallel, Executor, StartupCancelled, StartupError, new_instance_id
    import ray  # noqa: PLC0415 - after argument checks, as vLLM imports it late

    stop = threading.Event()
    exit_code = {"code": 0}
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    cfg = {"model": model, "tp": tp, "pp": pp, "dp": dp, "dp_local": dp_local, "dtype": args.dtype,
           "instance_id": new_instance_id()}
    state = http.State(None, keys, served, model, max_len, args.response_role or "assistant",
                       access_log=args.disable_uvicorn_access_log is not True)
    httpd = http.StandinServer((host, port), state, family)
    try:
        httpd.server_bind()  # bind early, like vLLM: a busy port fails fast
    except OSError as e:
        logger.error("Cannot bind %s:%d: %s", host, port, e)
        httpd.server_close()
        return 1

    def on_signal(signum, _frame):
        logger.info("[shutdown] API server: shutdown triggered (%s)", signal.Signals(signum).name)
        stop.set()

    def install_handlers():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    install_handlers()
    engine = None
    serving = False
    try:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        address = os.environ.get("RAY_ADDRESS", "auto")
        logger.info("Connecting to Ray cluster at %s", address)
        _wait_gcs_reachable(address, stop)
        ray.init(address=os.environ.get("RAY_ADDRESS"), logging_level=logging.WARNING)
        install_handlers()  # ray.init replaces the SIGTERM handler
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        logger.info("Ray cluster: %d alive node(s) %s, %g GPU(s) in total", len(nodes),
                    sorted(n["NodeManagerAddress"] for n in nodes), ray.cluster_resources().get("GPU", 0))
        if dp > 1:
            cfg["dp_master_ip"] = args.data_parallel_address or os.environ.get("VLLM_HOST_IP") or ray.util.get_node_ip_address()
            logger.info("Using host IP %s as ray-based data parallel address", cfg["dp_master_ip"])
            engine = DataParallel(cfg, stop)
        else:
            engine = Executor(cfg, stop_event=stop)
        state.engine = engine

        def engine_died():
            if dp > 1:
                exit_code["code"] = 1
                stop.set()
            else:
                state.engine_dead = True
                logger.error("EngineCore encountered a fatal error: the executor failed. /health answers 503 from now on.")

        engine.failure_callback = engine_died
        engine.start()
        http.start_http(httpd)
        serving = True
        logger.info("Serving %s as %s (max_model_len=%d) on http://%s:%d (ranks on nodes %s)", model, served, max_len,
                    host, port, engine.nodes())
        logger.info("Application startup complete.")
        while not stop.wait(WATCHDOG_INTERVAL):
            if state.engine_dead:  # terminate_if_errored: the watchdog stops uvicorn; the process returns
                logger.info("[shutdown] API server: the engine is dead; stopping the HTTP server")
                break
    except StartupCancelled:
        pass
    except StartupError as e:
        logger.error("%s", e)
        exit_code["code"] = 1
    except Exception as e:  # noqa: BLE001 - e.g. the Ray cluster went away during startup
        logger.error("vllm stand-in startup failed: %s: %s", type(e).__name__, e)
        exit_code["code"] = 1
    finally:
        if serving:
            httpd.shutdown()
        httpd.server_close()
        if engine is not None:
            try:
                engine.shutdown()
            except Exception:  # noqa: BLE001
                pass
        try:
            ray.shutdown()
        except Exception:  # noqa: BLE001
            pass
        logger.info("vllm stand-in stopped (exit status %d).", exit_code["code"])
    return exit_code["code"]
