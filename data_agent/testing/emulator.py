"""A local emulator of the OpenAI and Anthropic HTTP APIs, for tests and benchmarks.

It serves, on a loopback port, the subset of both APIs the teacher backends use:

* OpenAI: ``POST /v1/chat/completions``, ``POST /v1/files`` (multipart),
  ``GET /v1/files/{id}``, ``GET /v1/files/{id}/content``, ``POST /v1/batches``,
  ``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``.
* Anthropic: ``POST /v1/messages`` (with ``tools``/``tool_choice``),
  ``POST /v1/messages/batches``, ``GET /v1/messages/batches/{id}``,
  ``GET /v1/messages/batches/{id}/results`` (JSONL), ``POST /v1/messages/batches/{id}/cancel``.
* Housekeeping (no auth): ``GET /health`` and ``GET /_emulator/stats``.

Replies are deterministic: a ``responder(messages, schema) -> str`` callback makes
the text (``messages`` are normalized ``{"role", "content"}`` dicts, an Anthropic
``system`` parameter becoming a leading system message; ``schema`` is the requested
JSON schema or ``None``). The default derives everything from a hash of the last
user message and, when a schema is asked, returns a JSON document valid against it
(for a task's problem schema, a document whose solution ends with that task's final
answer line, :meth:`data_agent.tasks.Task.final_line`).

Faults (:class:`FaultConfig`) are deterministic: a seeded RNG drawn in request
arrival order, plus an explicit queue (:meth:`ProviderEmulator.inject`) for exact
sequences such as a burst of N consecutive 429s.

Batches (:class:`BatchConfig`) advance one step per status poll and live in a state
directory, so a new emulator over the same directory (same or another process)
still knows the in-flight batches.

Counters: :attr:`ProviderEmulator.calls` (per endpoint name, every request that
reached a route, including the ones answered with an injected fault),
:attr:`ProviderEmulator.completions` (per :func:`request_content_key`, every
billed 200 generation, online or batch item) and
:attr:`ProviderEmulator.clean_completions` (the same without injected content faults).

Run standalone with ``python -m data_agent.testing.emulator --port 8765``.
"""

from __future__ import annotations

import argparse
import collections
import datetime as _dt
import email.parser
import email.policy
import hashlib
import json
import logging
import math
import os
import random
import re
import signal
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

from ..tasks import task_for_schema

log = logging.getLogger(__name__)

Responder = Callable[[list[dict[str, str]], "dict[str, Any] | None"], str]

DEFAULT_API_KEY = "emulator-local-key"  # not shaped like a provider key: nothing mistakes it for one
ANTHROPIC_SAMPLING_FREE_VERSION = "2026-10-21"
"""From this ``anthropic-version`` on, the real API rejects temperature/top_p/top_k."""

_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_ANTHROPIC_CUSTOM_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

# Endpoint names used as keys of ``ProviderEmulator.calls``.
GENERATION_ENDPOINTS = frozenset({"openai.chat", "anthropic.messages"})


# --------------------------------------------------------------------------- config


@dataclass
class FaultConfig:
    """Per-instance fault injection. Rates are fractions in [0, 1]; HTTP faults
    (429, 5xx, timeout) and latency apply to the endpoints in ``endpoints``;
    content faults (malformed, truncated) apply to every generated reply, online
    or batch item."""

    latency: float = 0.0
    """Seconds every request to ``endpoints`` waits before it is answered."""
    latency_jitter: float = 0.0
    """Extra uniform [0, jitter) seconds, drawn from the seeded RNG."""
    rate_429: float = 0.0
    retry_after: float = 1.0
    """Value of the ``Retry-After`` header (seconds) sent with a 429."""
    send_retry_after_ms: bool = True
    """Also send ``retry-after-ms``."""
    rate_5xx: float = 0.0
    status_5xx: int = 500
    rate_timeout: float = 0.0
    timeout_sleep: float = 30.0
    """How long the server sits on a 'timed out' request before closing it
    without a reply (choose it longer than the client timeout)."""
    rate_malformed: float = 0.0
    """Fraction of replies whose content is not valid JSON although a schema was
    asked (Anthropic: a text block instead of the forced tool call)."""
    rate_truncated: float = 0.0
    """Fraction of replies cut short: ``finish_reason: "length"`` /
    ``stop_reason: "max_tokens"``."""
    burst_429: int = 0
    """Answer the first N requests to ``endpoints`` with 429 (queued at start)."""
    seed: int = 0
    endpoints: frozenset[str] = GENERATION_ENDPOINTS
    """Endpoint names the HTTP faults and latency apply to (see ``ProviderEmulator.calls``)."""


@dataclass
class BatchConfig:
    """How batches progress and fail. A batch advances one step per status poll:
    ``validating`` for ``polls_validating`` polls, then ``in_progress`` for
    ``polls_in_progress`` polls, then it ends (Anthropic shows ``in_progress`` for
    both phases). The thresholds are read at each poll, so a restarted emulator
    with other values applies them to batches created earlier."""

    polls_validating: int = 1
    polls_in_progress: int = 1
    item_error_rate: float = 0.0
    """Fraction of items answered with an error (500 / ``errored``)."""
    expire: bool = False
    """End batches as expired with ``expire_fraction`` of their items unprocessed."""
    expire_fraction: float = 0.5
    fault_batches: int | None = None
    """Apply item errors / expiry only to the first N batches of the state dir
    (``None``: to all), so that a resubmission can succeed."""
    seed: int = 0


# --------------------------------------------------------------------------- helpers


def _utcnow() -> float:
    return time.time()


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return _dt.datetime.fromtimestamp(ts, tz=_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, str):
                parts.append(p)
            elif isinstance(p, dict):
                if p.get("type") in ("text", "input_text", None) and "text" in p:
                    parts.append(str(p["text"]))
                elif p.get("type") == "tool_result":
                    parts.append(_content_text(p.get("content")))
        return "\n".join(parts)
    return str(content)


def normalize_messages(messages: Any, system: Any = None) -> list[dict[str, str]]:
    """OpenAI/Anthropic messages -> ``[{"role", "content"}]`` with plain-text content."""
    out: list[dict[str, str]] = []
    if system:
        out.append({"role": "system", "content": _content_text(system)})
    for m in messages or []:
        if not isinstance(m, dict):
            continue
        role = str(m.get("role", "user"))
        if role == "developer":
            role = "system"
        out.append({"role": role, "content": _content_text(m.get("content"))})
    return out


def request_content_key(messages: Any, schema: dict[str, Any] | None = None) -> str:
    """Key of :attr:`ProviderEmulator.completions`: a hash of the normalized
    messages and the requested schema. Accepts ``TeacherRequest.messages``."""
    norm = [{"role": str(m["role"]), "content": _content_text(m["content"])} for m in messages]
    blob = json.dumps({"messages": norm, "schema": schema}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _estimate_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4)) if text else 0


_UNITS = ["m/s", "J", "N", "kg", "mol", "K", "Pa", "W", "m", "s"]


def _hash_number(h: str, salt: str = "") -> float:
    v = int(hashlib.sha256((h + salt).encode()).hexdigest()[:8], 16)
    return round((v % 999_000) / 1000 + 1.0, 3)


def _instance_for(schema: Any, h: str, name: str = "", ctx: dict[str, Any] | None = None) -> Any:
    """A deterministic instance of ``schema`` (a practical subset of JSON Schema)."""
    ctx = ctx if ctx is not None else {}
    if not isinstance(schema, dict):
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        opts = schema["enum"]
        return opts[int(h[:4], 16) % len(opts)]
    for comb in ("anyOf", "oneOf", "allOf"):
        if schema.get(comb):
            return _instance_for(schema[comb][0], h, name, ctx)
    typ = schema.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), "null")
    if typ is None:
        typ = "object" if "properties" in schema else "string"
    if typ == "object":
        props = schema.get("properties", {})
        # answer/unit first so that problem/solution can mention them
        order = sorted(props, key=lambda k: (k not in ("answer", "unit"), list(props).index(k)))
        obj: dict[str, Any] = {}
        for key in order:
            obj[key] = _instance_for(props[key], h, key, ctx)
        return {k: obj[k] for k in props}
    if typ == "array":
        n = max(1, int(schema.get("minItems", 1)))
        return [_instance_for(schema.get("items", {}), h + str(i), name, ctx) for i in range(n)]
    if typ in ("number", "integer"):
        if name == "answer" and "answer" in ctx:
            val = ctx["answer"]
        else:
            val = _hash_number(h, name)
        if typ == "integer":
            val = int(val)
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if lo is not None and val < lo:
            val = lo
        if hi is not None and val > hi:
            val = hi
        if name == "answer":
            ctx["answer"] = val
        return val
    if typ == "boolean":
        return int(h[:2], 16) % 2 == 0
    if typ == "null":
        return None
    # string
    answer = ctx.setdefault("answer", _hash_number(h, "answer"))
    unit = ctx.setdefault("unit", _UNITS[int(h[4:8], 16) % len(_UNITS)])
    if name == "unit":
        s = unit
    elif name == "problem":
        s = (f"Emulated problem {h[:8]}: a measured quantity has the value {answer} {unit}. "
             f"State its value in {unit}.")
    elif name == "solution":
        s = f"Reading the given data directly, the quantity equals {answer} {unit}."
        task = ctx.get("task")
        if task is not None:
            s += "\n" + task.final_line(str(answer))
    elif name == "answer":
        s = str(answer)
    elif name == "sympy":  # a computation that checks out (data_agent.validators.verify)
        s = str(answer)
    elif name == "python":
        s = f"answer = {answer!r}"
    else:
        s = f"{name or 'value'} {h[:12]}"
    min_len = int(schema.get("minLength", 0))
    if len(s) < min_len:
        s = s + "." * (min_len - len(s))
    if "maxLength" in schema:
        s = s[: int(schema["maxLength"])]
    return s


def default_responder(messages: list[dict[str, str]], schema: dict[str, Any] | None) -> str:
    """Deterministic reply derived from a hash of the last user message."""
    last_user = next((m["content"] for m in reversed(messages) if m.get("role") == "user"),
                     messages[-1]["content"] if messages else "")
    h = hashlib.sha256(last_user.encode("utf-8")).hexdigest()
    if schema is not None:
        return json.dumps(_instance_for(schema, h, ctx={"task": task_for_schema(schema)}), ensure_ascii=False)
    snippet = " ".join(last_user.split())[:80]
    return f"Emulated reply {h[:12]} to: {snippet}"


def _openai_error(status: int, message: str, etype: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": etype, "param": None, "code": code}}


def _anthropic_error(message: str, etype: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": etype, "message": message},
            "request_id": "req_" + uuid.uuid4().hex[:24]}


_ANTHROPIC_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                          404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
                          500: "api_error", 529: "overloaded_error"}
_OPENAI_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_error",
                       404: "invalid_request_error", 429: "requests", 500: "server_error"}


def _error_body(family: str, status: int, message: str) -> dict[str, Any]:
    if family == "anthropic":
        return _anthropic_error(message, _ANTHROPIC_ERROR_TYPES.get(status, "api_error" if status >= 500
                                                                    else "invalid_request_error"))
    code = {401: "invalid_api_key", 429: "rate_limit_exceeded"}.get(status)
    return _openai_error(status, message, _OPENAI_ERROR_TYPES.get(status, "server_error" if status >= 500
                                                                  else "invalid_request_error"), code)


class _HTTPError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class _Dropped(Exception):
    """The request is left unanswered (timeout fault)."""


# --------------------------------------------------------------------------- storage


class _Store:
    """Files and batches on disk (one JSON/blob per object, atomic writes)."""

    def __init__(self, root: Path):
        self.root = root
        (root / "files").mkdir(parents=True, exist_ok=True)
        (root / "batches").mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        tmp = path.with_name(path.name + f".tmp{os.getpid()}.{threading.get_ident()}")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def put_file(self, data: bytes, filename: str, purpose: str) -> dict[str, Any]:
        fid = "file-" + uuid.uuid4().hex[:24]
        meta = {"id": fid, "object": "file", "bytes": len(data), "created_at": int(_utcnow()),
                "filename": filename, "purpose": purpose, "status": "processed", "expires_at": None,
                "status_details": None}
        with self.lock:
            self._write(self.root / "files" / f"{fid}.bin", data)
            self._write(self.root / "files" / f"{fid}.json", json.dumps(meta).encode())
        return meta

    def file_meta(self, fid: str) -> dict[str, Any] | None:
        if not _ID_RE.match(fid):
            return None
        p = self.root / "files" / f"{fid}.json"
        return json.loads(p.read_text()) if p.exists() else None

    def file_bytes(self, fid: str) -> bytes | None:
        if not _ID_RE.match(fid):
            return None
        p = self.root / "files" / f"{fid}.bin"
        return p.read_bytes() if p.exists() else None

    def put_batch(self, rec: dict[str, Any]) -> None:
        with self.lock:
            self._write(self.root / "batches" / f"{rec['id']}.json", json.dumps(rec).encode())

    def get_batch(self, bid: str) -> dict[str, Any] | None:
        if not _ID_RE.match(bid):
            return None
        p = self.root / "batches" / f"{bid}.json"
        return json.loads(p.read_text()) if p.exists() else None

    def all_batches(self) -> list[dict[str, Any]]:
        recs = [json.loads(p.read_text()) for p in (self.root / "batches").glob("*.json")]
        return sorted(recs, key=lambda r: (r.get("ordinal", 0), r.get("created_ts", 0)))


# --------------------------------------------------------------------------- HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # many concurrent clients connect at once in benchmarks

    def __init__(self, addr: tuple[str, int], emulator: "ProviderEmulator"):
        self.emulator = emulator
        super().__init__(addr, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "data-agent-emulator/1.0"
    timeout = 120  # idle keep-alive connections are dropped after this
    # TCP_NODELAY: a reply is written as headers then body (two small writes). With
    # Nagle's algorithm on, the body waits for the client's delayed ACK of the
    # headers (~40 ms on Linux), which added ~40 ms to every call and capped every
    # client at concurrency / (latency + 40 ms).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("emulator: " + format, *args)  # request line and status only, never headers

    def do_GET(self) -> None:  # noqa: N802
        self.server.emulator._serve(self, "GET")  # type: ignore[attr-defined]

    def do_POST(self) -> None:  # noqa: N802
        self.server.emulator._serve(self, "POST")  # type: ignore[attr-defined]

    def do_DELETE(self) -> None:  # noqa: N802
        self.server.emulator._serve(self, "DELETE")  # type: ignore[attr-defined]

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0] or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status: int, body: Any, headers: dict[str, str] | None = None,
             content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", "req_" + uuid.uuid4().hex[:16])
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(p), n)
    for m, p, n in [
        ("GET", r"/health", "health"),
        ("GET", r"/_emulator/stats", "stats"),
        ("POST", r"/v1/chat/completions", "openai.chat"),
        ("POST", r"/v1/files", "openai.files.create"),
        ("GET", r"/v1/files/(?P<id>[^/]+)", "openai.files.retrieve"),
        ("GET", r"/v1/files/(?P<id>[^/]+)/content", "openai.files.content"),
        ("POST", r"/v1/batches", "openai.batches.create"),
        ("GET", r"/v1/batches/(?P<id>[^/]+)", "openai.batches.retrieve"),
        ("POST", r"/v1/batches/(?P<id>[^/]+)/cancel", "openai.batches.cancel"),
        ("POST", r"/v1/messages", "anthropic.messages"),
        ("POST", r"/v1/messages/batches", "anthropic.batches.create"),
        ("GET", r"/v1/messages/batches/(?P<id>[^/]+)", "anthropic.batches.retrieve"),
        ("GET", r"/v1/messages/batches/(?P<id>[^/]+)/results", "anthropic.batches.results"),
        ("POST", r"/v1/messages/batches/(?P<id>[^/]+)/cancel", "anthropic.batches.cancel"),
    ]
]


# --------------------------------------------------------------------------- emulator


class ProviderEmulator:
    """Loopback OpenAI + Anthropic API emulator (see module docstring).

    Use as a context manager (``with ProviderEmulator(...) as emu:``) or call
    :meth:`start` / :meth:`close`. ``api_key=None`` disables the auth check.
    ``state_dir`` keeps files and batches across instances; without it a
    temporary directory is used and removed on close.
    """

    def __init__(self, *, api_key: str | None = DEFAULT_API_KEY, host: str = "127.0.0.1", port: int = 0,
                 state_dir: str | os.PathLike[str] | None = None, responder: Responder | None = None,
                 faults: FaultConfig | None = None, batch: BatchConfig | None = None,
                 strict_anthropic_sampling: bool = True):
        self.api_key = api_key
        self.host = host
        self._requested_port = port
        self.responder: Responder = responder or default_responder
        self.faults = faults or FaultConfig()
        self.batch = batch or BatchConfig()
        self.strict_anthropic_sampling = strict_anthropic_sampling
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="emulator-state-")
            state_dir = self._tmp.name
        self.state_dir = Path(state_dir)
        self._store = _Store(self.state_dir)
        self._lock = threading.Lock()
        self._rng = random.Random(self.faults.seed)
        self._forced_http: collections.deque[str] = collections.deque()
        self._forced_content: collections.deque[str] = collections.deque()
        if self.faults.burst_429:
            self._forced_http.extend(["429"] * int(self.faults.burst_429))
        self.calls: collections.Counter[str] = collections.Counter()
        self.completions: collections.Counter[str] = collections.Counter()
        self.clean_completions: collections.Counter[str] = collections.Counter()
        self.faults_served: collections.Counter[str] = collections.Counter()
        self._stop = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> "ProviderEmulator":
        if self._server is not None:
            return self
        self._stop.clear()
        self._server = _Server((self.host, self._requested_port), self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="provider-emulator", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "ProviderEmulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("emulator not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url_openai(self) -> str:
        return self.base_url + "/v1"

    @property
    def base_url_anthropic(self) -> str:
        return self.base_url

    # ---------------------------------------------------------------- test API

    def inject(self, kind: str, count: int = 1) -> None:
        """Queue ``count`` faults, served before any random ones: ``"429"``,
        ``"5xx"``, ``"timeout"`` (next requests to fault endpoints) or
        ``"malformed"``, ``"truncated"`` (next generated replies)."""
        if kind in ("429", "5xx", "timeout"):
            with self._lock:
                self._forced_http.extend([kind] * count)
        elif kind in ("malformed", "truncated"):
            with self._lock:
                self._forced_content.extend([kind] * count)
        else:
            raise ValueError(f"unknown fault kind {kind!r}")

    def completion_count(self, messages: Any, schema: dict[str, Any] | None = None, *, clean: bool = False) -> int:
        """Billed (or, with ``clean``, fault-free) completions for this content."""
        key = request_content_key(messages, schema)
        with self._lock:
            return (self.clean_completions if clean else self.completions)[key]

    def reset_counters(self) -> None:
        with self._lock:
            self.calls.clear()
            self.completions.clear()
            self.clean_completions.clear()
            self.faults_served.clear()

    def batches(self, provider: str | None = None) -> list[dict[str, Any]]:
        """Stored batch records (all instances over this state dir), oldest first;
        each has ``provider``, ``size`` (number of requests) and the public fields."""
        recs = self._store.all_batches()
        return [r for r in recs if provider is None or r.get("provider") == provider]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": dict(self.calls),
                "completions_total": sum(self.completions.values()),
                "completions_distinct": len(self.completions),
                "clean_completions_total": sum(self.clean_completions.values()),
                "max_completions_per_content": max(self.completions.values(), default=0),
                "faults_served": dict(self.faults_served),
                "batches": len(self._store.all_batches()),
            }

    # ---------------------------------------------------------------- dispatch

    def _serve(self, h: _Handler, method: str) -> None:
        path = h.path.split("?", 1)[0].rstrip("/") or "/"
        family = "anthropic" if path.startswith("/v1/messages") else "openai"
        try:
            try:
                body = h.read_body()
                name, params = self._route(method, path)
                if name == "health":
                    h.send(200, {"status": "ok"})
                    return
                if name == "stats":
                    h.send(200, self.stats())
                    return
                with self._lock:
                    self.calls[name] += 1
                self._check_auth(h)
                if name in self.faults.endpoints:
                    self._http_faults(name)
                getattr(self, "_h_" + name.replace(".", "_"))(h, body, **params)
            except _HTTPError as e:
                h.send(e.status, _error_body(family, e.status, e.message), headers=e.headers)
        except _Dropped:
            h.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            h.close_connection = True
        except Exception as e:  # pragma: no cover - emulator bug: answer 500 rather than hang
            log.exception("emulator: unhandled error on %s %s", method, path)
            try:
                h.send(500, _error_body(family, 500, f"emulator error: {type(e).__name__}"))
            except OSError:
                h.close_connection = True

    @staticmethod
    def _route(method: str, path: str) -> tuple[str, dict[str, str]]:
        path_matched = False
        for m, pat, name in _ROUTES:
            mt = pat.fullmatch(path)
            if mt:
                path_matched = True
                if m == method:
                    return name, mt.groupdict()
        if path_matched:
            raise _HTTPError(405, f"method {method} not allowed on {path}")
        raise _HTTPError(404, f"unknown path {path}")

    def _check_auth(self, h: _Handler) -> None:
        if self.api_key is None:
            return
        auth = h.headers.get("Authorization") or ""
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        xkey = h.headers.get("x-api-key")
        if token != self.api_key and xkey != self.api_key:
            with self._lock:
                self.faults_served["401"] += 1
            raise _HTTPError(401, "Invalid API key (emulated): the key provided was not accepted.")

    def _http_faults(self, name: str) -> None:
        f = self.faults
        with self._lock:
            kind = self._forced_http.popleft() if self._forced_http else None
            r429, r5xx, rto, rj = self._rng.random(), self._rng.random(), self._rng.random(), self._rng.random()
            if kind is None:
                if r429 < f.rate_429:
                    kind = "429"
                elif r5xx < f.rate_5xx:
                    kind = "5xx"
                elif rto < f.rate_timeout:
                    kind = "timeout"
            if kind:
                self.faults_served[kind] += 1
        if kind == "429":
            headers = {"Retry-After": _fmt_seconds(f.retry_after)}
            if f.send_retry_after_ms:
                headers["retry-after-ms"] = str(int(round(f.retry_after * 1000)))
            raise _HTTPError(429, "Rate limit reached (emulated). Please retry after the indicated delay.",
                             headers)
        if kind == "5xx":
            raise _HTTPError(int(f.status_5xx), "The server had an error while processing your request (emulated).")
        if kind == "timeout":
            self._stop.wait(f.timeout_sleep)
            raise _Dropped()
        delay = f.latency + (rj * f.latency_jitter if f.latency_jitter else 0.0)
        if delay > 0:
            self._stop.wait(delay)

    # ---------------------------------------------------------------- generation core

    def _content_fault(self) -> str | None:
        f = self.faults
        with self._lock:
            if self._forced_content:
                kind: str | None = self._forced_content.popleft()
            else:
                rm, rt = self._rng.random(), self._rng.random()
                kind = "malformed" if rm < f.rate_malformed else ("truncated" if rt < f.rate_truncated else None)
            if kind:
                self.faults_served[kind] += 1
        return kind

    def _generate(self, norm: list[dict[str, str]], schema: dict[str, Any] | None,
                  max_tokens: int) -> dict[str, Any]:
        """Text + finish + token counts for one reply; counts the completion."""
        text = full = self.responder(norm, schema)
        fault = self._content_fault()
        truncated = False
        malformed = False
        if fault == "malformed" and schema is not None:
            malformed = True
            text = "Sure! Here is the JSON you asked for: " + text[: max(1, len(text) // 2)]
        elif fault == "truncated":
            truncated = True
            text = text[: max(1, len(text) // 2)]
        completion_tokens = _estimate_tokens(text)
        if truncated:
            completion_tokens = max(completion_tokens, int(max_tokens))
        elif completion_tokens > max_tokens:  # a genuine overrun of the client's limit
            truncated = True
            text = text[: max(0, int(max_tokens) * 4)]
            completion_tokens = int(max_tokens)
        prompt_tokens = sum(_estimate_tokens(m["content"]) + 4 for m in norm)
        if schema is not None:
            prompt_tokens += _estimate_tokens(json.dumps(schema))
        key = request_content_key(norm, schema)
        with self._lock:
            self.completions[key] += 1
            if fault is None and not truncated:
                self.clean_completions[key] += 1
        return {"text": text, "full": full, "truncated": truncated, "malformed": malformed,
                "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}

    def _openai_chat_reply(self, body: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict):
            return 400, _error_body("openai", 400, "request body must be a JSON object")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return 400, _error_body("openai", 400, "'messages' must be a non-empty array")
        if not body.get("model"):
            return 400, _error_body("openai", 400, "'model' is required")
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or 4096
        schema = None
        rf = body.get("response_format")
        if isinstance(rf, dict):
            if rf.get("type") == "json_schema":
                js = rf.get("json_schema") or {}
                if not isinstance(js, dict) or not js.get("name"):
                    return 400, _error_body("openai", 400, "response_format.json_schema.name is required")
                schema = js.get("schema") or {"type": "object"}
            elif rf.get("type") == "json_object":
                schema = {"type": "object"}
        norm = normalize_messages(messages)
        g = self._generate(norm, schema, int(max_tokens))
        payload = {
            "id": "chatcmpl-" + uuid.uuid4().hex[:24],
            "object": "chat.completion",
            "created": int(_utcnow()),
            "model": body["model"],
            "system_fingerprint": "fp_emulator",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": g["text"], "refusal": None},
                "logprobs": None,
                "finish_reason": "length" if g["truncated"] else "stop",
            }],
            "usage": {"prompt_tokens": g["prompt_tokens"], "completion_tokens": g["completion_tokens"],
                      "total_tokens": g["prompt_tokens"] + g["completion_tokens"]},
        }
        return 200, payload

    def _anthropic_message_reply(self, body: Any, version: str | None) -> tuple[int, dict[str, Any]]:
        def bad(msg: str) -> tuple[int, dict[str, Any]]:
            return 400, _anthropic_error(msg, "invalid_request_error")

        if not isinstance(body, dict):
            return bad("request body must be a JSON object")
        for k in ("model", "max_tokens", "messages"):
            if k not in body:
                return bad(f"{k}: Field required")
        if not isinstance(body["messages"], list) or not body["messages"]:
            return bad("messages: must be a non-empty list")
        if (self.strict_anthropic_sampling and version and version >= ANTHROPIC_SAMPLING_FREE_VERSION):
            for k in ("temperature", "top_p", "top_k"):
                if k in body:
                    return bad(f"{k}: Extra inputs are not permitted")
        if any(m.get("role") == "system" for m in body["messages"] if isinstance(m, dict)):
            return bad("messages: Unexpected role \"system\". Use the top-level `system` parameter.")
        tools = body.get("tools") or []
        choice = body.get("tool_choice") or {}
        tool = None
        if tools and choice.get("type") != "none":
            if choice.get("type") == "tool":
                tool = next((t for t in tools if t.get("name") == choice.get("name")), None)
                if tool is None:
                    return bad(f"tool_choice: tool {choice.get('name')!r} not found in tools")
            else:
                tool = tools[0]
        schema = tool.get("input_schema") if tool else None
        if tool is not None and not isinstance(schema, dict):
            return bad("tools.0.input_schema: Field required")
        norm = normalize_messages(body["messages"], body.get("system"))
        g = self._generate(norm, schema, int(body["max_tokens"]))
        content: list[dict[str, Any]]
        stop_reason = "max_tokens" if g["truncated"] else "end_turn"
        doc = None
        if tool is not None and not g["malformed"]:
            try:
                doc = json.loads(g["full"])
            except ValueError:
                doc = None
        if tool is not None and isinstance(doc, dict):
            if g["truncated"]:  # cut mid tool call: only the first field made it
                first = next(iter(doc), None)
                doc = {first: doc[first]} if first is not None else {}
            content = [{"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:24], "name": tool["name"],
                        "input": doc}]
            if not g["truncated"]:
                stop_reason = "tool_use"
        else:
            content = [{"type": "text", "text": g["text"]}]
        payload = {
            "id": "msg_" + uuid.uuid4().hex[:24],
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": g["prompt_tokens"], "output_tokens": g["completion_tokens"],
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
        }
        return 200, payload

    # ---------------------------------------------------------------- handlers: online

    @staticmethod
    def _json(body: bytes) -> Any:
        try:
            return json.loads(body or b"null")
        except ValueError:
            raise _HTTPError(400, "request body is not valid JSON") from None

    def _h_openai_chat(self, h: _Handler, body: bytes) -> None:
        status, payload = self._openai_chat_reply(self._json(body))
        h.send(status, payload)

    def _h_anthropic_messages(self, h: _Handler, body: bytes) -> None:
        status, payload = self._anthropic_message_reply(self._json(body), h.headers.get("anthropic-version"))
        h.send(status, payload)

    # ---------------------------------------------------------------- handlers: files

    def _h_openai_files_create(self, h: _Handler, body: bytes) -> None:
        ctype = h.headers.get("Content-Type") or ""
        if "multipart/form-data" not in ctype:
            raise _HTTPError(400, "expected multipart/form-data")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body)
        fields: dict[str, Any] = {}
        filename = "upload.jsonl"
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            payload = part.get_payload(decode=True) or b""
            if name == "file":
                filename = part.get_filename() or filename
            fields[str(name)] = payload
        if "file" not in fields:
            raise _HTTPError(400, "missing 'file' field")
        purpose = fields.get("purpose", b"").decode("utf-8", "replace")
        if purpose not in ("batch", "fine-tune", "assistants", "user_data", "evals", "vision"):
            raise _HTTPError(400, f"invalid purpose {purpose!r}")
        meta = self._store.put_file(fields["file"], filename, purpose)
        h.send(200, meta)

    def _h_openai_files_retrieve(self, h: _Handler, body: bytes, id: str) -> None:  # noqa: A002
        meta = self._store.file_meta(id)
        if meta is None:
            raise _HTTPError(404, f"No such File object: {id}")
        h.send(200, meta)

    def _h_openai_files_content(self, h: _Handler, body: bytes, id: str) -> None:  # noqa: A002
        data = self._store.file_bytes(id)
        if data is None:
            raise _HTTPError(404, f"No such File object: {id}")
        h.send(200, data, content_type="application/octet-stream")

    # ---------------------------------------------------------------- handlers: OpenAI batches

    def _faulty(self, rec: dict[str, Any]) -> bool:
        n = self.batch.fault_batches
        return n is None or int(rec.get("ordinal", 0)) < n

    def _item_faults(self, rec: dict[str, Any], n: int, cancelled: bool) -> tuple[set[int], set[int]]:
        """Indices of a batch's ``n`` items that expire (the tail) and that fail
        with a server error (a seeded sample), per :class:`BatchConfig`; none
        for a cancelled batch or one past ``fault_batches``."""
        if cancelled or not self._faulty(rec):
            return set(), set()
        expired_idx: set[int] = set()
        if self.batch.expire:
            done = int(round(n * (1.0 - self.batch.expire_fraction)))
            expired_idx = set(range(done, n))
        error_idx: set[int] = set()
        if self.batch.item_error_rate > 0:
            rng = random.Random(f"{self.batch.seed}:{rec['id']}")
            cands = [i for i in range(n) if i not in expired_idx]
            m = min(len(cands), int(round(self.batch.item_error_rate * n)))
            error_idx = set(rng.sample(cands, m))
        return expired_idx, error_idx

    def _h_openai_batches_create(self, h: _Handler, body: bytes) -> None:
        req = self._json(body)
        if not isinstance(req, dict):
            raise _HTTPError(400, "request body must be a JSON object")
        if req.get("endpoint") != "/v1/chat/completions":
            raise _HTTPError(400, f"unsupported endpoint {req.get('endpoint')!r} (emulator: /v1/chat/completions)")
        if req.get("completion_window") != "24h":
            raise _HTTPError(400, "completion_window must be '24h'")
        fid = str(req.get("input_file_id") or "")
        meta = self._store.file_meta(fid)
        if meta is None:
            raise _HTTPError(400, f"input file {fid!r} not found")
        if meta.get("purpose") != "batch":
            raise _HTTPError(400, "input file purpose must be 'batch'")
        now = _utcnow()
        data = self._store.file_bytes(fid) or b""
        size = sum(1 for line in data.splitlines() if line.strip())
        with self._store.lock:
            rec = {
                "id": "batch_" + uuid.uuid4().hex[:24], "object": "batch", "endpoint": req["endpoint"],
                "errors": None, "input_file_id": fid, "completion_window": "24h", "status": "validating",
                "output_file_id": None, "error_file_id": None, "created_at": int(now),
                "in_progress_at": None, "expires_at": int(now + 86400), "finalizing_at": None,
                "completed_at": None, "failed_at": None, "expired_at": None, "cancelling_at": None,
                "cancelled_at": None, "request_counts": {"total": size, "completed": 0, "failed": 0},
                "metadata": req.get("metadata") or None,
                # internal
                "provider": "openai", "size": size, "polls": 0, "created_ts": now,
                "ordinal": len(self._store.all_batches()), "cancel_requested": False,
            }
            self._store.put_batch(rec)
        h.send(200, self._openai_view(rec))

    @staticmethod
    def _openai_view(rec: dict[str, Any]) -> dict[str, Any]:
        internal = {"provider", "size", "polls", "created_ts", "ordinal", "cancel_requested"}
        return {k: v for k, v in rec.items() if k not in internal}

    def _h_openai_batches_retrieve(self, h: _Handler, body: bytes, id: str) -> None:  # noqa: A002
        with self._store.lock:
            rec = self._store.get_batch(id)
            if rec is None or rec.get("provider") != "openai":
                raise _HTTPError(404, f"No batch found with id '{id}'")
            self._advance_openai(rec)
        h.send(200, self._openai_view(rec))

    def _h_openai_batches_cancel(self, h: _Handler, body: bytes, id: str) -> None:  # noqa: A002
        with self._store.lock:
            rec = self._store.get_batch(id)
            if rec is None or rec.get("provider") != "openai":
                raise _HTTPError(404, f"No batch found with id '{id}'")
            if rec["status"] in ("completed", "failed", "expired", "cancelled"):
                raise _HTTPError(409, f"Cannot cancel a batch with status '{rec['status']}'")
            rec["cancel_requested"] = True
            rec["status"] = "cancelling"
            rec["cancelling_at"] = int(_utcnow())
            self._store.put_batch(rec)
        h.send(200, self._openai_view(rec))

    def _advance_openai(self, rec: dict[str, Any]) -> None:
        if rec["status"] in ("completed", "failed", "expired", "cancelled"):
            return
        rec["polls"] = int(rec.get("polls", 0)) + 1
        pv, pi = int(self.batch.polls_validating), int(self.batch.polls_in_progress)
        now = int(_utcnow())
        if rec.get("cancel_requested"):
            self._process_openai(rec, cancelled=True)
        elif rec["polls"] <= pv:
            rec["status"] = "validating"
        elif rec["polls"] <= pv + pi:
            rec["status"] = "in_progress"
            rec["in_progress_at"] = rec.get("in_progress_at") or now
        else:
            rec["in_progress_at"] = rec.get("in_progress_at") or now
            self._process_openai(rec, cancelled=False)
        self._store.put_batch(rec)

    def _process_openai(self, rec: dict[str, Any], *, cancelled: bool) -> None:
        now = int(_utcnow())
        data = self._store.file_bytes(rec["input_file_id"]) or b""
        lines: list[dict[str, Any]] = []
        seen: set[str] = set()
        problem = None
        for i, raw in enumerate(data.splitlines()):
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
            except ValueError:
                problem = (i + 1, "invalid_json", "Line is not valid JSON.")
                break
            cid = item.get("custom_id") if isinstance(item, dict) else None
            if not isinstance(cid, str) or not cid:
                problem = (i + 1, "missing_required_parameter", "Missing custom_id.")
                break
            if cid in seen:
                problem = (i + 1, "duplicate_custom_id", f"The custom_id '{cid}' is duplicated.")
                break
            if item.get("method") != "POST" or item.get("url") != rec["endpoint"]:
                problem = (i + 1, "invalid_url", "The URL provided for this request does not match the batch endpoint.")
                break
            seen.add(cid)
            lines.append(item)
        if problem is not None or not lines:
            line, code, msg = problem or (None, "empty_file", "The input file is empty.")
            rec.update(status="failed", failed_at=now,
                       errors={"object": "list", "data": [{"code": code, "message": msg, "param": None,
                                                           "line": line}]})
            return
        n = len(lines)
        expired_idx, error_idx = self._item_faults(rec, n, cancelled)
        outputs, errors = [], []
        for i, item in enumerate(lines):
            base = {"id": "batch_req_" + uuid.uuid4().hex[:24], "custom_id": item["custom_id"]}
            if cancelled:
                errors.append({**base, "response": None,
                               "error": {"code": "batch_cancelled", "message": "This request was cancelled."}})
            elif i in expired_idx:
                errors.append({**base, "response": None, "error": {
                    "code": "batch_expired",
                    "message": "This request could not be executed before the completion window expired."}})
            elif i in error_idx:
                errors.append({**base, "error": None, "response": {
                    "status_code": 500, "request_id": "req_" + uuid.uuid4().hex[:16],
                    "body": _error_body("openai", 500, "The server had an error processing your request (emulated).")}})
            else:
                status, payload = self._openai_chat_reply(item.get("body"))
                entry = {**base, "error": None, "response": {
                    "status_code": status, "request_id": "req_" + uuid.uuid4().hex[:16], "body": payload}}
                (outputs if status == 200 else errors).append(entry)
        if outputs:
            rec["output_file_id"] = self._store.put_file(_jsonl(outputs), f"{rec['id']}_output.jsonl",
                                                         "batch_output")["id"]
        if errors:
            rec["error_file_id"] = self._store.put_file(_jsonl(errors), f"{rec['id']}_error.jsonl",
                                                        "batch_output")["id"]
        rec["request_counts"] = {"total": n, "completed": len(outputs), "failed": len(errors)}
        if cancelled:
            rec.update(status="cancelled", cancelled_at=now)
        elif expired_idx:
            rec.update(status="expired", expired_at=now)
        else:
            rec.update(status="completed", finalizing_at=now, completed_at=now)

    # ---------------------------------------------------------------- handlers: Anthropic batches

    def _h_anthropic_batches_create(self, h: _Handler, body: bytes) -> None:
        req = self._json(body)
        reqs = req.get("requests") if isinstance(req, dict) else None
        if not isinstance(reqs, list) or not reqs:
            raise _HTTPError(400, "requests: must be a non-empty list")
        seen: set[str] = set()
        for i, r in enumerate(reqs):
            cid = r.get("custom_id") if isinstance(r, dict) else None
            if not isinstance(cid, str) or not _ANTHROPIC_CUSTOM_ID_RE.match(cid):
                raise _HTTPError(400, f"requests.{i}.custom_id: must match ^[a-zA-Z0-9_-]{{1,64}}$")
            if cid in seen:
                raise _HTTPError(400, f"requests.{i}.custom_id: duplicate custom_id {cid!r}")
            if not isinstance(r.get("params"), dict):
                raise _HTTPError(400, f"requests.{i}.params: Field required")
            seen.add(cid)
        now = _utcnow()
        fid = self._store.put_file(_jsonl(reqs), "anthropic_batch_requests.jsonl", "anthropic_batch_input")["id"]
        with self._store.lock:
            rec = {
                "id": "msgbatch_" + uuid.uuid4().hex[:24], "type": "message_batch",
                "processing_status": "in_progress",
                "request_counts": {"processing": len(reqs), "succeeded": 0, "errored": 0, "canceled": 0,
                                   "expired": 0},
                "ended_at": None, "created_at": _iso(now), "expires_at": _iso(now + 86400),
                "cancel_initiated_at": None, "archived_at": None, "results_url": None,
                # internal
                "provider": "anthropic", "size": len(reqs), "polls": 0, "created_ts": now,
                "ordinal": len(self._store.all_batches()), "cancel_requested": False,
                "requests_file": fid, "results_file": None,
                "anthropic_version": h.headers.get("anthropic-version"),
            }
            self._store.put_batch(rec)
        h.send(200, self._anthropic_view(rec, h))

    def _anthropic_view(self, rec: dict[str, Any], h: _Handler) -> dict[str, Any]:
        internal = {"provider", "size", "polls", "created_ts", "ordinal", "cancel_requested", "requests_file",
                    "results_file", "anthropic_version"}
        view = {k: v for k, v in rec.items() if k not in internal}
        if rec["processing_status"] == "ended":
            host = h.headers.get("Host") or f"{self.host}:{self.port}"
            view["results_url"] = f"http://{host}/v1/messages/batches/{rec['id']}/results"
        return view

    def _h_anthropic_batches_retrieve(self, h: _Handler, body: bytes, id: str) -> None:  # noqa: A002
        with self._store.lock:
            rec = self._store.get_batch(id)
            if rec is None or rec.get("provider") != "anthropic":
                raise _HTTPError(404, f"No message batch found with id '{id}'")
            self._advance_anthropic(rec)
        h.send(200, self._anthropic_view(rec, h))

    def _h_anthropic_batches_cancel(self, h: _Handler, body: bytes, id: str) -> None:  # noqa: A002
        with self._store.lock:
            rec = self._store.get_batch(id)
            if rec is None or rec.get("provider") != "anthropic":
                raise _HTTPError(404, f"No message batch found with id '{id}'")
            if rec["processing_status"] == "in_progress":
                rec["cancel_requested"] = True
                rec["processing_status"] = "canceling"
                rec["cancel_initiated_at"] = _iso(_utcnow())
                self._store.put_batch(rec)
        h.send(200, self._anthropic_view(rec, h))

    def _h_anthropic_batches_results(self, h: _Handler, body: bytes, id: str) -> None:  # noqa: A002
        rec = self._store.get_batch(id)
        if rec is None or rec.get("provider") != "anthropic":
            raise _HTTPError(404, f"No message batch found with id '{id}'")
        if rec["processing_status"] != "ended" or not rec.get("results_file"):
            raise _HTTPError(400, f"Message batch {id} is still processing; results are not available yet.")
        data = self._store.file_bytes(rec["results_file"]) or b""
        h.send(200, data, content_type="application/x-jsonl")

    def _advance_anthropic(self, rec: dict[str, Any]) -> None:
        if rec["processing_status"] == "ended":
            return
        rec["polls"] = int(rec.get("polls", 0)) + 1
        pv, pi = int(self.batch.polls_validating), int(self.batch.polls_in_progress)
        if rec.get("cancel_requested"):
            self._process_anthropic(rec, cancelled=True)
        elif rec["polls"] > pv + pi:
            self._process_anthropic(rec, cancelled=False)
        self._store.put_batch(rec)

    def _process_anthropic(self, rec: dict[str, Any], *, cancelled: bool) -> None:
        data = self._store.file_bytes(rec["requests_file"]) or b""
        reqs = [json.loads(line) for line in data.splitlines() if line.strip()]
        n = len(reqs)
        expired_idx, error_idx = self._item_faults(rec, n, cancelled)
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        out = []
        for i, r in enumerate(reqs):
            if cancelled:
                result: dict[str, Any] = {"type": "canceled"}
                counts["canceled"] += 1
            elif i in expired_idx:
                result = {"type": "expired"}
                counts["expired"] += 1
            elif i in error_idx:
                result = {"type": "errored", "error": _anthropic_error("Internal server error (emulated).",
                                                                       "api_error")}
                counts["errored"] += 1
            else:
                status, payload = self._anthropic_message_reply(r["params"], rec.get("anthropic_version"))
                if status == 200:
                    result = {"type": "succeeded", "message": payload}
                    counts["succeeded"] += 1
                else:
                    result = {"type": "errored", "error": payload}
                    counts["errored"] += 1
            out.append({"custom_id": r["custom_id"], "result": result})
        rec["results_file"] = self._store.put_file(_jsonl(out), f"{rec['id']}_results.jsonl",
                                                   "anthropic_batch_results")["id"]
        rec["request_counts"] = counts
        rec["processing_status"] = "ended"
        rec["ended_at"] = _iso(_utcnow())


def _jsonl(items: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(it, ensure_ascii=False).encode("utf-8") + b"\n" for it in items)


def _fmt_seconds(s: float) -> str:
    return str(int(s)) if float(s).is_integer() else f"{s:g}"


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m data_agent.testing.emulator",
                                description="Local OpenAI/Anthropic API emulator (loopback only by default).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = any free port")
    p.add_argument("--api-key", default=DEFAULT_API_KEY, help=f"required key (default {DEFAULT_API_KEY})")
    p.add_argument("--no-auth", action="store_true", help="accept any key")
    p.add_argument("--state-dir", default=None, help="persist files and batches here")
    p.add_argument("--latency", type=float, default=0.0)
    p.add_argument("--latency-jitter", type=float, default=0.0)
    p.add_argument("--rate-429", type=float, default=0.0)
    p.add_argument("--retry-after", type=float, default=1.0)
    p.add_argument("--rate-5xx", type=float, default=0.0)
    p.add_argument("--status-5xx", type=int, default=500)
    p.add_argument("--rate-timeout", type=float, default=0.0)
    p.add_argument("--timeout-sleep", type=float, default=30.0)
    p.add_argument("--rate-malformed", type=float, default=0.0)
    p.add_argument("--rate-truncated", type=float, default=0.0)
    p.add_argument("--burst-429", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--polls-validating", type=int, default=1)
    p.add_argument("--polls-in-progress", type=int, default=1)
    p.add_argument("--batch-error-rate", type=float, default=0.0)
    p.add_argument("--batch-expire", action="store_true")
    p.add_argument("--batch-expire-fraction", type=float, default=0.5)
    p.add_argument("--batch-fault-batches", type=int, default=None)
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if a.verbose else logging.WARNING)
    faults = FaultConfig(latency=a.latency, latency_jitter=a.latency_jitter, rate_429=a.rate_429,
                         retry_after=a.retry_after, rate_5xx=a.rate_5xx, status_5xx=a.status_5xx,
                         rate_timeout=a.rate_timeout, timeout_sleep=a.timeout_sleep,
                         rate_malformed=a.rate_malformed, rate_truncated=a.rate_truncated,
                         burst_429=a.burst_429, seed=a.seed)
    batch = BatchConfig(polls_validating=a.polls_validating, polls_in_progress=a.polls_in_progress,
                        item_error_rate=a.batch_error_rate, expire=a.batch_expire,
                        expire_fraction=a.batch_expire_fraction, fault_batches=a.batch_fault_batches, seed=a.seed)
    emu = ProviderEmulator(api_key=None if a.no_auth else a.api_key, host=a.host, port=a.port,
                           state_dir=a.state_dir, faults=faults, batch=batch)
    emu.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"emulator listening on {emu.base_url}", flush=True)
    print(f"OPENAI_BASE_URL={emu.base_url_openai}", flush=True)
    print(f"ANTHROPIC_BASE_URL={emu.base_url_anthropic}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        print(json.dumps(emu.stats()), flush=True)
        emu.close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
