"""vllm stand-in: OpenAI-compatible API server (imitates vLLM 0.9.2's).

Run exactly like vLLM:
    RAY_ADDRESS=<head>:6379 VLLM_HOST_IP=<ip> [VLLM_API_KEY=<key>] \
    python -m vllm.entrypoints.openai.api_server --model DIR --served-model-name NAME \
        --host 0.0.0.0 --port 9001 --tensor-parallel-size 2 --distributed-executor-backend ray ...

This is a STAND-IN: no model is loaded and no tokens are generated. Startup
does what vLLM's Ray executor does (placement group of TP x PP GPU bundles,
one Ray actor per bundle); chat completions are answered by those actors with
text that says it comes from the stand-in, which ranks/nodes answered, and an
echo of the last user message. HTTP: stdlib ThreadingHTTPServer. API-key rules
as vLLM 0.9.2: ``/v1/*`` need ``Authorization: Bearer <key>`` when --api-key or
VLLM_API_KEY is set, ``/health`` stays open. ``/standin/placement`` (also
key-protected) returns the placement for tests. Logs go to stdout; SIGTERM
removes the placement group and exits 0.
"""
import hmac
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

from vllm.entrypoints.openai.cli_args import (FlexibleArgumentParser, make_arg_parser,
                                              validate_parsed_serve_args)
from vllm.version import __version__

logger = logging.getLogger("vllm.entrypoints.openai.api_server")
OWNED_BY = "vllm-standin"


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(
        "%(levelname)s %(asctime)s [vllm-standin %(filename)s:%(lineno)d] %(message)s",
        datefmt="%m-%d %H:%M:%S"))
    root = logging.getLogger("vllm")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


def _error(message: str, err_type: str, code: int) -> dict:
    """vLLM 0.9.2 ErrorResponse shape."""
    return {"object": "error", "message": message, "type": err_type, "param": None, "code": code}


def _text_of(content) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return " ".join(str(p.get("text", "")) for p in content
                        if isinstance(p, dict) and p.get("type", "text") == "text")
    return str(content)


def _count_tokens(text: str) -> int:
    return len(text.split())


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, state, family):
        self.address_family = family
        super().__init__(addr, Handler, bind_and_activate=False)
        self.state = state


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vllm-standin/" + __version__

    def version_string(self):
        return self.server_version

    # ---------------------------------------------------------------- plumbing
    def log_message(self, fmt, *args):  # uvicorn-like access log, no headers
        if not self.server.state["access_log"]:
            return
        logger.info('%s:%s - "%s" %s', self.client_address[0], self.client_address[1],
                    self.requestline, args[1] if len(args) > 1 else "")

    def _send_json(self, status: int, obj) -> None:
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_empty(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            return json.loads(raw or b"null")
        except ValueError as e:
            raise ValueError(f"Invalid JSON body: {e}") from None

    def _authorized(self) -> bool:
        key = self.server.state["api_key"]
        if not key:
            return True
        got = self.headers.get("Authorization") or ""
        return hmac.compare_digest(got.encode(), f"Bearer {key}".encode())

    def _path(self) -> str:
        return self.path.split("?", 1)[0]

    def _guard(self) -> bool:
        """vLLM's AuthenticationMiddleware (/v1*) plus our /standin/*; False if answered 401."""
        p = self._path()
        if (p.startswith("/v1") or p.startswith("/standin")) and not self._authorized():
            self._send_json(401, {"error": "Unauthorized"})
            return False
        return True

    # ---------------------------------------------------------------- routing
    GET_ROUTES = {"/health": "_health", "/ping": "_health", "/version": "_version",
                  "/v1/models": "_models", "/standin/placement": "_placement"}
    POST_ROUTES = {"/v1/chat/completions": "_chat", "/v1/completions": "_completions",
                   "/ping": "_health"}

    def _dispatch(self, routes, other_routes) -> None:
        if not self._guard():
            return
        p = self._path()
        name = routes.get(p)
        if name is None:
            if p in other_routes:
                self._send_json(405, {"detail": "Method Not Allowed"})
            else:
                self._send_json(404, {"detail": "Not Found"})
            return
        try:
            getattr(self, name)()
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # noqa: BLE001
            logger.exception("Error handling %s", p)
            self._send_json(500, _error(f"{type(e).__name__}: {e}", "InternalServerError", 500))

    def do_GET(self):  # noqa: N802
        self._dispatch(self.GET_ROUTES, self.POST_ROUTES)

    def do_POST(self):  # noqa: N802
        self._dispatch(self.POST_ROUTES, self.GET_ROUTES)

    def do_OPTIONS(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Allow", "GET, POST, OPTIONS")
        self.send_header("Content-Length", "0")
        self.end_headers()

    # ---------------------------------------------------------------- endpoints
    def _health(self):
        self._send_empty(200 if self.server.state["healthy"] else 500)

    def _version(self):
        self._send_json(200, {"version": __version__})

    def _models(self):
        st = self.server.state
        now = int(time.time())
        data = [{
            "id": name, "object": "model", "created": now, "owned_by": OWNED_BY,
            "root": st["model"], "parent": None, "max_model_len": st["max_model_len"],
            "permission": [{
                "id": f"standin-modelperm-{uuid.uuid4().hex}", "object": "model_permission",
                "created": now, "allow_create_engine": False, "allow_sampling": True,
                "allow_logprobs": True, "allow_search_indices": False, "allow_view": True,
                "allow_fine_tuning": False, "organization": "*", "group": None,
                "is_blocking": False}],
        } for name in st["served_model_names"]]
        self._send_json(200, {"object": "list", "data": data})

    def _placement(self):
        self._send_json(200, self.server.state["engine"].placement_json())

    def _check_request(self, body) -> Optional[str]:
        """Returns the model name to answer with, or None after sending an error."""
        if not isinstance(body, dict):
            self._send_json(400, _error("Request body must be a JSON object", "BadRequestError", 400))
            return None
        st = self.server.state
        model = body.get("model")
        if model and model not in st["served_model_names"]:
            self._send_json(404, _error(f"The model `{model}` does not exist.", "NotFoundError", 404))
            return None
        return model or st["served_model_names"][0]

    def _answer(self, request_id: str, prompt: str) -> str:
        st = self.server.state
        engine = st["engine"]
        parts = engine.generate(request_id, prompt)
        nodes = sorted({p["node_ip"] for p in parts})
        return (f"[vllm stand-in, not a real model] {len(parts)} rank(s) answered on "
                f"{len(nodes)} node(s) {', '.join(nodes)} (tensor_parallel_size={engine.tp}, "
                f"pipeline_parallel_size={engine.pp}): " +
                "; ".join(p["fragment"] for p in parts) + f". You said: {prompt}")

    def _read_request(self):
        """The JSON body and its checked model name, or None when an error was already sent."""
        try:
            body = self._read_json()
        except ValueError as e:
            self._send_json(400, _error(str(e), "BadRequestError", 400))
            return None
        model = self._check_request(body)
        return None if model is None else (body, model)

    def _chat(self):
        request = self._read_request()
        if request is None:
            return
        body, model = request
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or \
                not all(isinstance(m, dict) for m in messages):
            self._send_json(400, _error("'messages' must be a non-empty list of message objects",
                                        "BadRequestError", 400))
            return
        last_user = ""
        for m in messages:
            if m.get("role") == "user":
                last_user = _text_of(m.get("content"))
        prompt_tokens = sum(_count_tokens(_text_of(m.get("content"))) for m in messages)
        rid = f"standin-chatcmpl-{uuid.uuid4().hex}"
        content = self._answer(rid, last_user)
        completion_tokens = _count_tokens(content)
        created = int(time.time())
        role = self.server.state["response_role"]
        usage = {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens + completion_tokens,
                 "completion_tokens": completion_tokens, "prompt_tokens_details": None}
        if body.get("stream"):
            base = {"id": rid, "object": "chat.completion.chunk", "created": created, "model": model}
            chunks = [
                {**base, "choices": [{"index": 0, "delta": {"role": role, "content": ""},
                                      "logprobs": None, "finish_reason": None}]},
                {**base, "choices": [{"index": 0, "delta": {"content": content},
                                      "logprobs": None, "finish_reason": None}]},
                {**base, "choices": [{"index": 0, "delta": {"content": ""}, "logprobs": None,
                                      "finish_reason": "stop", "stop_reason": None}]},
            ]
            if (body.get("stream_options") or {}).get("include_usage"):
                chunks.append({**base, "choices": [], "usage": usage})
            self._stream(chunks)
            return
        self._send_json(200, {
            "id": rid, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0,
                         "message": {"role": role, "reasoning_content": None,
                                     "content": content, "tool_calls": []},
                         "logprobs": None, "finish_reason": "stop", "stop_reason": None}],
            "usage": usage, "prompt_logprobs": None, "kv_transfer_params": None})

    def _completions(self):
        request = self._read_request()
        if request is None:
            return
        body, model = request
        prompt = body.get("prompt")
        if isinstance(prompt, list):
            prompt = " ".join(str(p) for p in prompt)
        if not isinstance(prompt, str):
            self._send_json(400, _error("'prompt' is required", "BadRequestError", 400))
            return
        rid = f"standin-cmpl-{uuid.uuid4().hex}"
        text = self._answer(rid, prompt)
        pt, ct = _count_tokens(prompt), _count_tokens(text)
        self._send_json(200, {
            "id": rid, "object": "text_completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": "stop",
                         "stop_reason": None, "prompt_logprobs": None}],
            "usage": {"prompt_tokens": pt, "total_tokens": pt + ct, "completion_tokens": ct,
                      "prompt_tokens_details": None}})

    def _stream(self, chunks) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for c in chunks:
            self.wfile.write(f"data: {json.dumps(c)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def _max_model_len(args, model_dir: str) -> int:
    if args.max_model_len:
        return int(args.max_model_len)
    try:
        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        for k in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"):
            if isinstance(cfg.get(k), int):
                return cfg[k]
    except Exception:  # noqa: BLE001
        pass
    return 2048


def _redacted_args(args) -> dict:
    d = dict(vars(args))
    if d.get("api_key"):
        d["api_key"] = "<redacted>"
    return d


def run_server(args) -> int:
    world = args.tensor_parallel_size * args.pipeline_parallel_size
    if args.tensor_parallel_size < 1 or args.pipeline_parallel_size < 1:
        logger.error("tensor_parallel_size and pipeline_parallel_size must be >= 1")
        return 1
    if world > 1 and args.distributed_executor_backend != "ray":
        logger.error(
            "vllm stand-in: tensor_parallel_size (%d) x pipeline_parallel_size (%d) = %d > 1 "
            "requires --distributed-executor-backend ray (got %r); the stand-in implements "
            "only the Ray executor.", args.tensor_parallel_size, args.pipeline_parallel_size,
            world, args.distributed_executor_backend)
        return 1
    if args.data_parallel_size != 1:
        logger.error("vllm stand-in: --data-parallel-size other than 1 is not supported")
        return 1
    model = args.model
    if not os.path.isdir(model) or not os.path.isfile(os.path.join(model, "config.json")):
        logger.error("--model %s: not a local directory containing config.json (the vllm "
                     "stand-in serves only local model directories, at the same path on every "
                     "node).", model)
        return 1
    model = os.path.abspath(model)
    served = args.served_model_name or [args.model]
    api_key = args.api_key or os.environ.get("VLLM_API_KEY") or None
    max_len = _max_model_len(args, model)

    logger.info("vLLM API server version %s (STAND-IN: not real vLLM; no weights are loaded, "
                "no tokens are generated)", __version__)
    logger.info("args: %s", _redacted_args(args))
    logger.info("API key %s", "required for /v1/* (from --api-key or VLLM_API_KEY)"
                if api_key else "not set: /v1/* are open")

    host = args.host or "0.0.0.0"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    from vllm.standin.engine import StandinEngine, StartupCancelled, StartupError  # imports ray
    engine = StandinEngine(model, served, args.tensor_parallel_size,
                           args.pipeline_parallel_size, max_len)
    state = {"engine": engine, "api_key": api_key, "served_model_names": served,
             "model": model, "max_model_len": max_len, "healthy": True,
             "response_role": args.response_role or "assistant",
             "access_log": not args.disable_uvicorn_access_log}
    # Bind early (like vLLM) so a busy port fails fast; listen only once ready.
    httpd = StandinServer((host, args.port), state, family)
    try:
        httpd.server_bind()
    except OSError as e:
        logger.error("Cannot bind %s:%d: %s", host, args.port, e)
        httpd.server_close()
        return 1

    stop = threading.Event()
    exit_code = {"code": 0}

    def on_signal(signum, _frame):
        # Only set flags here: raising inside Ray's Cython calls gives SystemError.
        logger.info("Received %s, shutting down the vllm stand-in",
                    signal.Signals(signum).name)
        stop.set()
        engine.stop_event.set()

    def install_signal_handlers():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    install_signal_handlers()

    serve_thread = None
    try:
        try:
            engine.start(after_connect=install_signal_handlers)
        except StartupError as e:
            logger.error("%s", e)
            return 1
        except StartupCancelled:
            raise
        except Exception as e:  # noqa: BLE001 - e.g. Ray cluster unreachable
            logger.error("vllm stand-in startup failed: %s: %s", type(e).__name__, e)
            return 1
        httpd.server_activate()
        serve_thread = threading.Thread(target=httpd.serve_forever, name="http", daemon=True)
        serve_thread.start()
        logger.info("Serving model %s as %s (max_model_len=%d) on http://%s:%d "
                    "(ranks on nodes %s)", model, served, max_len, host, args.port,
                    engine.nodes())
        logger.info("Application startup complete.")
        interval = float(os.environ.get("VLLM_STANDIN_HEALTH_INTERVAL", "10"))
        next_check = time.monotonic() + interval
        while not stop.wait(0.5):
            if interval > 0 and time.monotonic() >= next_check:
                try:
                    engine.check_health(timeout=max(interval, 5.0))
                except Exception as e:  # noqa: BLE001
                    state["healthy"] = False
                    logger.error("Engine is dead: a vllm stand-in worker did not answer "
                                 "(%s: %s); shutting down.", type(e).__name__, e)
                    exit_code["code"] = 1
                    break
                next_check = time.monotonic() + interval
    except StartupCancelled:
        pass
    finally:
        if serve_thread is not None:
            httpd.shutdown()
        httpd.server_close()
        engine.shutdown()
        logger.info("vllm stand-in stopped.")
    return exit_code["code"]


def main(argv=None) -> int:
    _setup_logging()
    parser = make_arg_parser(FlexibleArgumentParser(
        description="vLLM OpenAI-Compatible RESTful API server (vllm stand-in)."))
    args = parser.parse_args(argv)
    validate_parsed_serve_args(args)
    return run_server(args)


if __name__ == "__main__":
    sys.exit(main())
