"""vllm stand-in: the OpenAI-compatible HTTP server of `vllm serve` (vLLM 0.33.0's surface).

Routes: ``GET /health`` (200, or 503 once the engine is dead), ``GET|POST /ping``, ``GET /version``,
``GET /load``, ``GET /metrics``, ``GET /v1/models``, ``POST /v1/chat/completions`` (also streamed),
``POST /v1/completions``, ``POST /invocations`` (SageMaker's route: chat or completion by body),
``POST /tokenize``, ``POST /detokenize``, and the stand-in's own ``GET /standin/placement``.

The key rule is 0.33.0's ``AuthenticationMiddleware``: with ``--api-key`` (one or more) or else
``VLLM_API_KEY``, a request whose path starts with ``/v1``, ``/v2``, ``/inference`` or ``/cohere``
needs ``Authorization: Bearer <key>`` (scheme case-insensitive, compared by SHA-256 digest) or gets
401 ``{"error": "Unauthorized"}``; OPTIONS and every other path pass (``/invocations``,
``/tokenize``, ``/metrics`` are open, as in vLLM). ``/standin/*`` needs the key too (the stand-in's
own addition). A dead engine: ``/health`` answers 503, requests 500, and the watchdog (every 5 s)
stops the server so the process exits 0, as 0.33.0's single API server does.
"""
import hashlib
import json
import logging
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List, Optional

from vllm.version import __version__

logger = logging.getLogger("vllm.entrypoints.openai.api_server")
GUARDED_PREFIX = ("/v1", "/v2", "/inference", "/cohere")
OWNED_BY = "vllm"


def _error(message: str, err_type: str, code: int) -> dict:
    """0.33.0's ErrorResponse shape."""
    return {"error": {"message": message, "type": err_type, "param": None, "code": code}}


def _text_of(content) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content
                        if isinstance(p, dict) and p.get("type", "text") == "text")
    return str(content)


def _count_tokens(text: str) -> int:
    return len(text.split())


class Metrics:
    """The vLLM 0.33.0 metric names status, the alert rules and the dashboards read (names and
    labels from vLLM's PrometheusStatLogger), counted by the stand-in's own requests. The stand-in
    has no KV cache: vllm:kv_cache_usage_perc is the running requests' share of the 256
    sequences vLLM schedules by default (max_num_seqs)."""

    BUCKETS = (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0)

    def __init__(self, model_name: str):
        self.lock = threading.Lock()
        self.labels = f'model_name="{model_name}",engine="0"'
        self.running = 0
        self.prompt_tokens = 0
        self.generation_tokens = 0
        self.success = 0
        self.latency_sum = 0.0
        self.latency_buckets = [0] * len(self.BUCKETS)

    def start(self):
        with self.lock:
            self.running += 1

    def finish(self, prompt_tokens: int, generation_tokens: int, seconds: float):
        with self.lock:
            self.running -= 1
            self.prompt_tokens += prompt_tokens
            self.generation_tokens += generation_tokens
            self.success += 1
            self.latency_sum += seconds
            for i, b in enumerate(self.BUCKETS):
                if seconds <= b:
                    self.latency_buckets[i] += 1

    def abort(self):
        with self.lock:
            self.running -= 1

    def render(self) -> str:
        with self.lock:
            lb = self.labels
            lines = [
                "# HELP vllm:num_requests_running Number of requests in model execution batches.",
                "# TYPE vllm:num_requests_running gauge", f"vllm:num_requests_running{{{lb}}} {self.running}.0",
                "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
                "# TYPE vllm:num_requests_waiting gauge", f"vllm:num_requests_waiting{{{lb}}} 0.0",
                "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.",
                "# TYPE vllm:kv_cache_usage_perc gauge", f"vllm:kv_cache_usage_perc{{{lb}}} {self.running / 256.0}",
                "# HELP vllm:prompt_tokens_total Number of prefill tokens processed.",
                "# TYPE vllm:prompt_tokens_total counter", f"vllm:prompt_tokens_total{{{lb}}} {float(self.prompt_tokens)}",
                "# HELP vllm:generation_tokens_total Number of generation tokens processed.",
                "# TYPE vllm:generation_tokens_total counter",
                f"vllm:generation_tokens_total{{{lb}}} {float(self.generation_tokens)}",
                "# HELP vllm:request_success_total Count of successfully processed requests.",
                "# TYPE vllm:request_success_total counter",
                f'vllm:request_success_total{{{lb},finished_reason="stop"}} {float(self.success)}',
                "# HELP vllm:e2e_request_latency_seconds Histogram of e2e request latency in seconds.",
                "# TYPE vllm:e2e_request_latency_seconds histogram",
            ]
            for b, n in zip(self.BUCKETS, self.latency_buckets):
                lines.append(f'vllm:e2e_request_latency_seconds_bucket{{{lb},le="{b}"}} {float(n)}')
            lines.append(f'vllm:e2e_request_latency_seconds_bucket{{{lb},le="+Inf"}} {float(self.success)}')
            lines.append(f"vllm:e2e_request_latency_seconds_count{{{lb}}} {float(self.success)}")
            lines.append(f"vllm:e2e_request_latency_seconds_sum{{{lb}}} {self.latency_sum}")
            return "\n".join(lines) + "\n"


class State:
    def __init__(self, engine, api_keys: List[str], served: List[str], model: str, max_model_len: int,
                 response_role: str, access_log: bool):
        self.engine = engine
        self.api_tokens = [hashlib.sha256(k.encode("utf-8")).digest() for k in api_keys]
        self.served = served
        self.model = model
        self.max_model_len = max_model_len
        self.response_role = response_role
        self.access_log = access_log
        self.engine_dead = False
        self.requests = 0
        self.metrics = Metrics(served[0])


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, state: State, family):
        self.address_family = family
        super().__init__(addr, Handler, bind_and_activate=False)
        self.state = state


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "uvicorn"

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        if self.server.state.access_log:
            logger.info('%s:%s - "%s" %s', self.client_address[0], self.client_address[1], self.requestline,
                        args[1] if len(args) > 1 else "")

    # ---------------------------------------------------------------- plumbing
    def _send_json(self, status: int, obj) -> None:
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_text(self, status: int, text: str, ctype: str = "text/plain; charset=utf-8") -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _path(self) -> str:
        return self.path.split("?", 1)[0]

    def _verify_token(self) -> bool:
        header = self.headers.get("Authorization")
        if not header:
            return False
        scheme, _, param = header.partition(" ")
        if scheme.lower() != "bearer":
            return False
        digest = hashlib.sha256(param.encode("utf-8")).digest()
        match = False
        for token in self.server.state.api_tokens:
            match |= secrets.compare_digest(digest, token)
        return match

    def _guard(self) -> bool:
        st = self.server.state
        p = self._path()
        guarded = p.startswith(GUARDED_PREFIX) or p.startswith("/standin")
        if st.api_tokens and guarded and not self._verify_token():
            self._send_json(401, {"error": "Unauthorized"})
            return False
        return True

    def _read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            return json.loads(raw or b"null")
        except ValueError as e:
            raise ValueError(f"Invalid JSON body: {e}") from None

    # ---------------------------------------------------------------- routing
    GET_ROUTES = {"/health": "_health", "/ping": "_ping", "/version": "_version", "/load": "_load",
                  "/metrics": "_metrics", "/v1/models": "_models", "/standin/placement": "_placement"}
    POST_ROUTES = {"/v1/chat/completions": "_chat", "/v1/completions": "_completions", "/ping": "_ping",
                   "/invocations": "_invocations", "/tokenize": "_tokenize", "/detokenize": "_detokenize"}

    def _dispatch(self, routes, others) -> None:
        if not self._guard():
            return
        p = self._path()
        name = routes.get(p)
        if name is None:
            self._send_json(405 if p in others else 404,
                            {"detail": "Method Not Allowed" if p in others else "Not Found"})
            return
        try:
            getattr(self, name)()
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # noqa: BLE001
            from vllm.standin.engine import EngineDeadError
            if isinstance(e, EngineDeadError):
                self.server.state.engine_dead = True
                self._send_json(500, _error(str(e), "EngineDeadError", 500))
                return
            logger.exception("Error handling %s", p)
            self._send_json(500, _error(f"{type(e).__name__}: {e}", "InternalServerError", 500))

    def do_GET(self):  # noqa: N802
        self._dispatch(self.GET_ROUTES, self.POST_ROUTES)

    def do_POST(self):  # noqa: N802
        self._dispatch(self.POST_ROUTES, self.GET_ROUTES)

    def do_OPTIONS(self):  # noqa: N802 - CORS preflight passes the key check, as in vLLM
        self.send_response(200)
        self.send_header("Allow", "GET, POST, OPTIONS")
        self.send_header("Content-Length", "0")
        self.end_headers()

    # ---------------------------------------------------------------- endpoints
    def _health(self):
        self._send_text(503 if self.server.state.engine_dead else 200, "")

    def _ping(self):
        self._health()

    def _version(self):
        self._send_json(200, {"version": __version__})

    def _load(self):
        self._send_json(200, {"server_load": 0})

    def _metrics(self):
        """vLLM 0.33.0's metric names (what status, the alert rules and the dashboards read)."""
        st = self.server.state
        self._send_text(200, st.metrics.render() + f"vllm_standin_requests_total {st.requests}\n",
                        "text/plain; version=0.0.4; charset=utf-8")

    def _models(self):
        st = self.server.state
        now = int(time.time())
        self._send_json(200, {"object": "list", "data": [{
            "id": name, "object": "model", "created": now, "owned_by": OWNED_BY, "root": st.model,
            "parent": None, "max_model_len": st.max_model_len,
            "permission": [{"id": f"modelperm-{uuid.uuid4().hex}", "object": "model_permission", "created": now,
                            "allow_create_engine": False, "allow_sampling": True, "allow_logprobs": True,
                            "allow_search_indices": False, "allow_view": True, "allow_fine_tuning": False,
                            "organization": "*", "group": None, "is_blocking": False}]}
            for name in st.served]})

    def _placement(self):
        st = self.server.state
        self._send_json(200, {"standin": True, "model": st.model, "served_model_name": st.served,
                              **st.engine.placement_json()})

    def _check_request(self, body) -> Optional[str]:
        if not isinstance(body, dict):
            self._send_json(400, _error("Request body must be a JSON object", "BadRequestError", 400))
            return None
        model = body.get("model")
        if model and model not in self.server.state.served:
            self._send_json(404, _error(f"The model `{model}` does not exist.", "NotFoundError", 404))
            return None
        return model or self.server.state.served[0]

    def _read_request(self):
        try:
            body = self._read_json()
        except ValueError as e:
            self._send_json(400, _error(str(e), "BadRequestError", 400))
            return None
        model = self._check_request(body)
        return None if model is None else (body, model)

    def _answer(self, request_id: str, prompt: str) -> str:
        st = self.server.state
        st.requests += 1
        st.metrics.start()
        t0 = time.monotonic()
        try:
            parts = st.engine.generate(request_id, prompt)
        except BaseException:
            st.metrics.abort()
            raise
        nodes = sorted({p["node_ip"] for p in parts})
        dp = f"data-parallel rank {parts[0].get('dp_rank', 0)} of {st.engine.cfg.get('dp', 1)}, " \
            if st.engine.cfg.get("dp", 1) > 1 else ""
        text = (f"[vllm stand-in, not a real model] {len(parts)} rank(s) answered on {len(nodes)} node(s) "
                f"{', '.join(nodes)} ({dp}tensor_parallel_size={st.engine.cfg['tp']}, "
                f"pipeline_parallel_size={st.engine.cfg['pp']}): " +
                "; ".join(p["fragment"] for p in parts) + f". You said: {prompt}")
        st.metrics.finish(_count_tokens(prompt), _count_tokens(text), time.monotonic() - t0)
        return text

    def _chat(self, request=None):
        request = request or self._read_request()
        if request is None:
            return
        body, model = request
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
            self._send_json(400, _error("'messages' must be a non-empty list of message objects", "BadRequestError", 400))
            return
        last_user = ""
        for m in messages:
            if m.get("role") == "user":
                last_user = _text_of(m.get("content"))
        prompt_tokens = sum(_count_tokens(_text_of(m.get("content"))) for m in messages)
        rid = f"chatcmpl-{uuid.uuid4().hex}"
        content = self._answer(rid, last_user)
        completion_tokens = _count_tokens(content)
        created = int(time.time())
        role = self.server.state.response_role
        usage = {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens + completion_tokens,
                 "completion_tokens": completion_tokens, "prompt_tokens_details": None}
        if body.get("stream"):
            base = {"id": rid, "object": "chat.completion.chunk", "created": created, "model": model}
            chunks = [
                {**base, "choices": [{"index": 0, "delta": {"role": role, "content": ""}, "logprobs": None, "finish_reason": None}]},
                {**base, "choices": [{"index": 0, "delta": {"content": content}, "logprobs": None, "finish_reason": None}]},
                {**base, "choices": [{"index": 0, "delta": {"content": ""}, "logprobs": None, "finish_reason": "stop", "stop_reason": None}]},
            ]
            if (body.get("stream_options") or {}).get("include_usage"):
                chunks.append({**base, "choices": [], "usage": usage})
            self._stream(chunks)
            return
        self._send_json(200, {
            "id": rid, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": {"role": role, "content": content, "tool_calls": []},
                         "logprobs": None, "finish_reason": "stop", "stop_reason": None}],
            "usage": usage, "prompt_logprobs": None, "kv_transfer_params": None})

    def _completions(self, request=None):
        request = request or self._read_request()
        if request is None:
            return
        body, model = request
        prompt = body.get("prompt")
        if isinstance(prompt, list):
            prompt = " ".join(str(p) for p in prompt)
        if not isinstance(prompt, str):
            self._send_json(400, _error("'prompt' is required", "BadRequestError", 400))
            return
        rid = f"cmpl-{uuid.uuid4().hex}"
        text = self._answer(rid, prompt)
        pt, ct = _count_tokens(prompt), _count_tokens(text)
        self._send_json(200, {
            "id": rid, "object": "text_completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": "stop", "stop_reason": None,
                         "prompt_logprobs": None}],
            "usage": {"prompt_tokens": pt, "total_tokens": pt + ct, "completion_tokens": ct, "prompt_tokens_details": None}})

    def _invocations(self):
        """SageMaker's route (open, as in vLLM 0.33.0): a chat completion when the body has messages."""
        request = self._read_request()
        if request is None:
            return
        if "messages" in request[0]:
            self._chat(request)
        else:
            self._completions(request)

    def _tokenize(self):
        request = self._read_request()
        if request is None:
            return
        text = request[0].get("prompt") or " ".join(_text_of(m.get("content")) for m in request[0].get("messages") or [])
        tokens = [abs(hash(w)) % 32000 for w in str(text).split()]
        self._send_json(200, {"count": len(tokens), "max_model_len": self.server.state.max_model_len, "tokens": tokens,
                              "token_strs": None})

    def _detokenize(self):
        request = self._read_request()
        if request is None:
            return
        self._send_json(200, {"prompt": " ".join(f"<{t}>" for t in request[0].get("tokens") or [])})

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


def start_http(httpd: StandinServer) -> threading.Thread:
    httpd.server_activate()
    t = threading.Thread(target=httpd.serve_forever, name="http", daemon=True)
    t.start()
    return t
