"""OpenAI-compatible teachers: online chat completions and the Batch API.

``OpenAIChatTeacher`` works with api.openai.com and any OpenAI-compatible server
(vLLM, llama.cpp, the local emulator) through ``base_url``. The SDK's own retries
are off (``max_retries=0``): the runner retries :class:`RetryableError`.

``OpenAIBatchTeacher`` submits the requests as one or more batches, records each
batch id in a JSON state file *before* polling, and on a later run (same state
file) picks in-flight batches up again instead of resubmitting them.

This module also holds the provider-neutral pieces shared with
:mod:`data_agent.generators.teachers.anthropic_backend` (retry-after parsing, key
redaction, JSON output checking, the batch state file and the batch driver).
The SDKs are imported lazily, so importing this module is cheap.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ...logging_utils import redact as redact_text
from .base import (
    FatalError,
    OnlineTeacher,
    RetryableError,
    TeacherError,
    TeacherRequest,
    TeacherResponse,
    Usage,
    parse_json_text,
)

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- shared helpers

def redact(text: str, *secrets: str | None, limit: int = 600) -> str:
    """``text`` redacted by :func:`data_agent.logging_utils.redact` (the given
    secrets too) and cut to ``limit`` characters, for error messages."""
    out = redact_text(str(text), [s for s in secrets if s])
    if len(out) > limit:
        out = out[:limit] + "..."
    return out


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            v = float(ms) / 1000.0
            return v if v >= 0 else None
    except (TypeError, ValueError):
        pass
    ra = headers.get("retry-after")
    if ra is None:
        return None
    try:
        v = float(ra)
        return v if v >= 0 else None
    except (TypeError, ValueError):
        pass
    try:
        dt = email.utils.parsedate_to_datetime(ra)
    except (TypeError, ValueError):
        return None
    if dt is None:
        return None
    return max(0.0, dt.timestamp() - time.time())


def compute_cost(usage: Usage, prices: Mapping[str, float] | None, discount: float = 0.0) -> float:
    """Dollars for ``usage`` with ``prices = {"input": $/Mtok, "output": $/Mtok}``."""
    if not prices:
        return 0.0
    c = (usage.prompt_tokens * float(prices.get("input", 0.0))
         + usage.completion_tokens * float(prices.get("output", 0.0))) / 1e6
    return c * (1.0 - discount)


def retryable(message: str, *, usage: Usage | None = None, cost: float = 0.0, status: int | None = None,
              retry_after: float | None = None) -> RetryableError:
    """A :class:`RetryableError` that also carries the billed ``cost`` (attribute ``cost``)."""
    err = RetryableError(message, retry_after=retry_after, status=status, usage=usage)
    err.cost = cost  # type: ignore[attr-defined]
    return err


def status_error(provider: str, status: int, headers: Mapping[str, str] | None, message: str,
                 secret: str | None = None) -> TeacherError:
    """Map an HTTP error status to Retryable (408/409/429/5xx) or Fatal (other 4xx)."""
    msg = f"{provider} HTTP {status}: {redact(message, secret)}"
    if status in (408, 409, 429) or status >= 500:
        return RetryableError(msg, retry_after=parse_retry_after(headers), status=status)
    return FatalError(msg, status=status)


_VALIDATORS: dict[str, Any] = {}


def validate_json(doc: Any, schema: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``doc`` satisfies ``schema``."""
    import jsonschema

    key = json.dumps(schema, sort_keys=True)
    v = _VALIDATORS.get(key)
    if v is None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        v = _VALIDATORS[key] = cls(schema)
    v.validate(doc)


def check_json_output(text: str, schema: dict[str, Any], *, usage: Usage, cost: float, provider: str,
                      doc: Any = None, have_doc: bool = False) -> Any:
    """Parse (unless ``have_doc``) and validate; a bad document is retryable and
    carries the billed usage."""
    import jsonschema

    if not have_doc:
        try:
            doc = parse_json_text(text)
        except ValueError as e:
            raise retryable(f"{provider}: output is not valid JSON ({e}): {text[:120]!r}", usage=usage,
                            cost=cost) from None
    try:
        validate_json(doc, schema)
    except jsonschema.ValidationError as e:
        path = "/".join(str(p) for p in e.absolute_path) or "<root>"
        raise retryable(f"{provider}: output violates the schema at {path}: {e.message[:200]}", usage=usage,
                        cost=cost) from None
    return doc


def _usage_add(a: Usage, b: Usage) -> Usage:
    return Usage(a.prompt_tokens + b.prompt_tokens, a.completion_tokens + b.completion_tokens)


# --------------------------------------------------------------------------- OpenAI body <-> response


def build_chat_body(request: TeacherRequest, model: str, *, max_tokens_param: str = "max_tokens",
                    strict_schema: bool = False, schema_name: str = "response",
                    extra_body: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``/v1/chat/completions`` body for ``request`` (also a batch line's body)."""
    p = request.params
    body: dict[str, Any] = {
        "model": model,
        "messages": [dict(m) for m in request.messages],
        "temperature": p.temperature,
        max_tokens_param: p.max_tokens,
    }
    if p.top_p != 1.0:
        body["top_p"] = p.top_p
    if p.seed is not None:
        body["seed"] = p.seed
    if p.stop:
        body["stop"] = list(p.stop)
    if request.json_schema is not None:
        body["response_format"] = {"type": "json_schema", "json_schema": {
            "name": schema_name, "schema": request.json_schema, "strict": bool(strict_schema)}}
    if extra_body:
        body.update(extra_body)
    return body


def chat_response_from_body(data: Mapping[str, Any], request: TeacherRequest, *, model: str,
                            prices: Mapping[str, float] | None, discount: float = 0.0,
                            accept_truncated_text: bool = False, provider: str = "openai") -> TeacherResponse:
    """A chat-completion JSON body -> :class:`TeacherResponse`; raises
    Retryable (truncated / malformed / empty) or Fatal (refusal)."""
    u = data.get("usage") or {}
    usage = Usage(int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0))
    cost = compute_cost(usage, prices, discount)
    choices = data.get("choices") or []
    if not choices:
        raise retryable(f"{provider}: reply has no choices", usage=usage, cost=cost)
    ch = choices[0]
    msg = ch.get("message") or {}
    text = msg.get("content") or ""
    finish = ch.get("finish_reason") or "stop"
    if msg.get("refusal"):
        raise FatalError(f"{provider}: the model refused: {str(msg['refusal'])[:200]}")
    if finish == "length" and (request.json_schema is not None or not accept_truncated_text):
        raise retryable(f"{provider}: output truncated (finish_reason=length, "
                        f"max_tokens={request.params.max_tokens})", usage=usage, cost=cost)
    if finish == "content_filter":
        raise FatalError(f"{provider}: output blocked by the content filter")
    parsed = None
    if request.json_schema is not None:
        parsed = check_json_output(text, request.json_schema, usage=usage, cost=cost, provider=provider)
    elif not text:
        raise retryable(f"{provider}: empty reply", usage=usage, cost=cost)
    return TeacherResponse(text=text, parsed=parsed, usage=usage, finish_reason=finish, cost=cost,
                           model=str(data.get("model") or model))


def _resolve_key(api_key: str | None, env: str, base_url: str | None, provider: str) -> str:
    key = api_key or os.environ.get(env)
    if key:
        return key
    if base_url:  # self-hosted compatible servers (vLLM...) usually need no key
        return "EMPTY"
    raise FatalError(f"{provider}: no API key (pass api_key= or set {env})")


def map_sdk_exc(sdk: Any, provider: str, e: BaseException, secret: str | None,
                timeout: float | None) -> TeacherError:
    """An exception of an official SDK (``openai`` or ``anthropic``, which share
    the same error classes) as a retryable or fatal :class:`TeacherError`."""
    if isinstance(e, TeacherError):
        return e
    if isinstance(e, sdk.APITimeoutError):
        return RetryableError(f"{provider}: request timed out (timeout={timeout}s)")
    if isinstance(e, sdk.APIConnectionError):
        return RetryableError(f"{provider}: connection error: {redact(str(e), secret)}")
    if isinstance(e, sdk.APIStatusError):
        return status_error(provider, e.status_code, e.response.headers, e.message, secret)
    if isinstance(e, sdk.APIError):
        return RetryableError(f"{provider}: {type(e).__name__}: {redact(str(e), secret)}")
    if isinstance(e, (asyncio.TimeoutError, OSError)):
        return RetryableError(f"{provider}: {type(e).__name__}: {redact(str(e), secret)}")
    return FatalError(f"{provider}: unexpected {type(e).__name__}: {redact(str(e), secret)}")


def _map_openai_exc(e: BaseException, secret: str | None, timeout: float | None) -> TeacherError:
    import openai

    return map_sdk_exc(openai, "openai", e, secret, timeout)


_AIOHTTP_CLIENT: Any = None


def _aiohttp_http_client_class() -> Any:
    """``openai.DefaultAioHttpClient`` when the ``openai[aiohttp]`` extra is
    installed (an httpx-compatible client over aiohttp), else ``None``."""
    global _AIOHTTP_CLIENT
    if _AIOHTTP_CLIENT is None:
        cls: Any = False
        try:
            import aiohttp  # noqa: F401
            import openai

            candidate = getattr(openai, "DefaultAioHttpClient", None)
            # Without the extra the SDK exports a stub that raises on construction.
            if candidate is not None and "Missing" not in candidate.__name__:
                cls = candidate
        except ImportError:
            pass
        _AIOHTTP_CLIENT = cls
    return _AIOHTTP_CLIENT or None


def _chat_post_options() -> dict[str, Any]:
    """Request options of ``chat.completions.create`` for ``client.post``: the
    SDKs that know auth schemes per endpoint get bearer auth only (as
    ``create`` does), so no other credential rides along."""
    try:
        from openai._models import FinalRequestOptions

        fields = getattr(FinalRequestOptions, "model_fields", None) or getattr(FinalRequestOptions, "__fields__", {})
    except ImportError:
        fields = {}
    return {"security": {"bearer_auth": True}} if "security" in fields else {}


class OpenAIChatTeacher(OnlineTeacher):
    """Chat completions through ``openai.AsyncOpenAI`` (``max_retries=0``).

    ``prices`` is ``{"input": $/Mtok, "output": $/Mtok}`` (cost 0 without it).
    ``max_tokens_param`` defaults to ``max_completion_tokens`` on api.openai.com and
    ``max_tokens`` on a custom ``base_url``. ``strict_schema`` sets
    ``json_schema.strict`` (OpenAI's strict mode rejects some keywords such as
    ``minLength``; the reply is validated with ``jsonschema`` either way).
    Truncated plain-text replies are retryable unless ``accept_truncated_text``.

    HTTP: ``transport="auto"`` (default; or ``$DATA_AGENT_OPENAI_TRANSPORT``)
    uses the SDK's aiohttp transport (``openai.DefaultAioHttpClient``, the
    ``openai[aiohttp]`` extra) when it is installed, else the SDK's default
    httpx client; ``"aiohttp"`` / ``"httpx"`` force one. An ``http_client``
    (an ``httpx``/``httpx2`` ``AsyncClient``) is passed to the SDK as is.
    Under concurrency the aiohttp transport takes about 40% less CPU per call
    than the httpx connection pool, whose request assignment scans every pooled
    connection (measured with ``scripts/bench_teacher.py``).
    """

    backend = "openai"

    def __init__(self, model: str, *, api_key: str | None = None, base_url: str | None = None,
                 timeout: float = 60.0, prices: Mapping[str, float] | None = None,
                 max_tokens_param: str | None = None, strict_schema: bool = False,
                 schema_name: str = "response", accept_truncated_text: bool = False,
                 extra_body: Mapping[str, Any] | None = None, organization: str | None = None,
                 default_headers: Mapping[str, str] | None = None, http_client: Any = None,
                 transport: str | None = None):
        self.model = model
        self.base_url = base_url
        self.timeout = timeout
        self.prices = dict(prices) if prices else None
        self.max_tokens_param = max_tokens_param or ("max_tokens" if base_url else "max_completion_tokens")
        self.strict_schema = strict_schema
        self.schema_name = schema_name
        self.accept_truncated_text = accept_truncated_text
        self.extra_body = dict(extra_body) if extra_body else None
        self._secret = _resolve_key(api_key, "OPENAI_API_KEY", base_url, "openai")
        self._client_kwargs: dict[str, Any] = dict(api_key=self._secret, base_url=base_url, timeout=timeout,
                                                   max_retries=0, organization=organization,
                                                   default_headers=default_headers)
        self._user_http_client = http_client
        transport = transport or os.environ.get("DATA_AGENT_OPENAI_TRANSPORT") or "auto"
        if transport not in ("auto", "aiohttp", "httpx"):
            raise ValueError(f"transport must be 'auto', 'aiohttp' or 'httpx', not {transport!r}")
        if http_client is not None:
            self.transport = "custom"
        elif transport == "httpx" or (transport == "auto" and _aiohttp_http_client_class() is None):
            self.transport = "httpx"
        else:
            if _aiohttp_http_client_class() is None:
                raise FatalError("openai: transport='aiohttp' needs the openai[aiohttp] extra (pip install aiohttp)")
            self.transport = "aiohttp"
        self._post_options = _chat_post_options()
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self.client = self._new_client()

    def __repr__(self) -> str:
        return f"OpenAIChatTeacher(model={self.model!r}, base_url={self.base_url!r})"

    def _new_client(self) -> Any:
        import openai

        http_client = self._user_http_client
        if http_client is None and self.transport == "aiohttp":
            http_client = _aiohttp_http_client_class()(timeout=self.timeout)  # type: ignore[misc]
        return openai.AsyncOpenAI(http_client=http_client, **self._client_kwargs)

    def _bind_loop(self) -> None:
        """The SDK's connection pool belongs to the event loop that first used
        it; a teacher reused under another loop (a second ``asyncio.run``) gets
        a fresh client of its own instead of dead connections."""
        loop = asyncio.get_running_loop()
        if loop is self._client_loop:
            return
        if self._client_loop is not None and self._user_http_client is None:
            # The old client's sockets belong to a loop that is closed (or busy
            # elsewhere): it cannot be closed from here; it is dropped.
            self.client = self._new_client()
        self._client_loop = loop

    def build_body(self, request: TeacherRequest) -> dict[str, Any]:
        return build_chat_body(request, self.model, max_tokens_param=self.max_tokens_param,
                               strict_schema=self.strict_schema, schema_name=self.schema_name,
                               extra_body=self.extra_body)

    async def generate_one(self, request: TeacherRequest) -> TeacherResponse:
        # The body is built (and typed) by build_chat_body and posted through the
        # SDK's public ``post`` (same auth, headers, error mapping as
        # ``chat.completions.create``), skipping only its per-call TypedDict
        # transform and pydantic model construction: the JSON reply is parsed
        # with json.loads and checked field by field in chat_response_from_body.
        body = self.build_body(request)
        if asyncio.get_running_loop() is not self._client_loop:
            self._bind_loop()
        try:
            raw = await self.client.post("/chat/completions", body=body, cast_to=bytes, options=self._post_options)
        except Exception as e:  # noqa: BLE001 - mapped to the runner's two error kinds
            raise _map_openai_exc(e, self._secret, self.timeout) from None
        try:
            data = json.loads(raw)
        except ValueError:
            raise retryable(f"openai: the reply body is not JSON: {redact(repr(raw[:120]), self._secret)}") from None
        if not isinstance(data, dict):
            raise retryable(f"openai: the reply body is not a JSON object: {redact(repr(raw[:120]), self._secret)}")
        return chat_response_from_body(data, request, model=self.model, prices=self.prices,
                                       accept_truncated_text=self.accept_truncated_text)

    async def aclose(self) -> None:
        await self.client.close()


# --------------------------------------------------------------------------- batch state + driver


class BatchStateFile:
    """In-flight batches, persisted atomically as JSON::

        {"version": 1, "batches": {"<batch id>": {"provider": "openai", "model": "...",
            "custom_ids": [...], "attempt": 1, "submitted_at": 1700000000.0, ...}}}

    One process at a time per file; concurrent ``generate`` calls in one process
    are serialized by an asyncio lock around each read-modify-write.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._lock = asyncio.Lock()

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": 1, "batches": {}}
        except ValueError as e:
            raise FatalError(f"batch state file {self.path} is corrupt: {e}") from None
        data.setdefault("batches", {})
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    async def add(self, batch_id: str, record: dict[str, Any]) -> None:
        async with self._lock:
            data = self.load()
            data["batches"][batch_id] = record
            self._save(data)

    async def remove(self, batch_ids: list[str]) -> None:
        if not batch_ids:
            return
        async with self._lock:
            data = self.load()
            for b in batch_ids:
                data["batches"].pop(b, None)
            self._save(data)

    def batches(self) -> dict[str, dict[str, Any]]:
        return dict(self.load()["batches"])


@dataclass
class ItemResult:
    """One request's outcome inside a finished batch."""

    kind: str
    """``ok`` (payload is the reply body), ``retry`` or ``fatal`` (message set)."""
    payload: Any = None
    message: str = ""


@dataclass
class _Poll:
    terminal: bool
    status: str
    info: Any = None


@dataclass
class _Track:
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0
    attempts: int = 0
    last_error: str = ""
    batch_ids: list[str] = field(default_factory=list)


class BatchTeacherBase:
    """Provider-neutral batch driver (resume, bounded resubmission, state file).

    Subclasses implement ``_submit``, ``_poll``, ``_collect``, ``_item_response``
    and ``_map_exc``. ``generate`` never raises for individual failures: those
    requests get a response with ``error`` set (and their billed usage/cost).
    The usage and cost of a response include any earlier failed-but-billed
    attempts of the same request; ``metadata`` gets ``batch_id`` and ``batch_attempts``.
    """

    backend = "base"
    provider = "base"
    model = ""
    is_batch = True
    """Tells the runner to hand over whole lists (there is no ``generate_one``)."""
    max_batch_requests = 50_000
    max_batch_bytes = 190 * 1024 * 1024

    def __init__(self, *, state_path: str | os.PathLike[str], poll_interval: float = 30.0,
                 max_wait: float | None = None, max_attempts: int = 3, batch_discount: float = 0.5,
                 api_retries: int = 8, retry_backoff: float = 1.0):
        self.state = BatchStateFile(state_path)
        self.poll_interval = poll_interval
        self.max_wait = max_wait
        self.max_attempts = max(1, int(max_attempts))
        self.batch_discount = batch_discount
        self.api_retries = api_retries
        self.retry_backoff = retry_backoff
        self._secret: str | None = None
        self.timeout: float | None = None

    # -- hooks -----------------------------------------------------------------------------

    def _line(self, custom_id: str, request: TeacherRequest) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    async def _submit(self, lines: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:  # pragma: no cover
        """Create the batch; return its id and extra state to record."""
        raise NotImplementedError

    async def _poll(self, batch_id: str) -> _Poll:  # pragma: no cover
        raise NotImplementedError

    async def _collect(self, batch_id: str, poll: _Poll) -> dict[str, ItemResult]:  # pragma: no cover
        raise NotImplementedError

    def _item_response(self, payload: Any, request: TeacherRequest) -> TeacherResponse:  # pragma: no cover
        raise NotImplementedError

    def _map_exc(self, e: BaseException) -> TeacherError:  # pragma: no cover
        raise NotImplementedError

    # -- plumbing --------------------------------------------------------------------------

    async def _api(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Call the SDK, retrying transient errors (bounded, honouring retry-after)."""
        attempt = 0
        while True:
            try:
                return await fn(*args, **kwargs)
            except Exception as e:  # noqa: BLE001
                err = self._map_exc(e)
            if isinstance(err, FatalError) or attempt >= self.api_retries:
                raise type(err)(f"{what}: {err}", status=err.status) from None  # type: ignore[call-arg]
            delay = min(60.0, self.retry_backoff * (2 ** attempt))
            if isinstance(err, RetryableError) and err.retry_after is not None:
                delay = max(delay, err.retry_after)
            log.warning("%s: %s; retrying in %.2fs", what, err, delay)
            attempt += 1
            await asyncio.sleep(delay)

    def _chunks(self, lines: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        out: list[list[dict[str, Any]]] = []
        cur: list[dict[str, Any]] = []
        size = 0
        for ln in lines:
            n = len(json.dumps(ln, ensure_ascii=False).encode("utf-8")) + 1
            if cur and (len(cur) >= self.max_batch_requests or size + n > self.max_batch_bytes):
                out.append(cur)
                cur, size = [], 0
            cur.append(ln)
            size += n
        if cur:
            out.append(cur)
        return out

    async def _wait(self, batch_id: str) -> _Poll:
        start = time.monotonic()
        while True:
            poll = await self._api(f"{self.provider} batch {batch_id} status", self._poll, batch_id)
            if poll.terminal:
                return poll
            if self.max_wait is not None and time.monotonic() - start >= self.max_wait:
                raise asyncio.TimeoutError(f"batch {batch_id} still {poll.status} after {self.max_wait}s")
            await asyncio.sleep(self.poll_interval)

    def custom_id(self, request: TeacherRequest) -> str:
        return request.cache_key(self.backend, self.model)

    # -- the driver ------------------------------------------------------------------------

    async def generate(self, requests: list[TeacherRequest]) -> list[TeacherResponse]:
        if not requests:
            return []
        keys = [self.custom_id(r) for r in requests]
        by_key: dict[str, TeacherRequest] = {}
        for k, r in zip(keys, requests):
            by_key.setdefault(k, r)
        track: dict[str, _Track] = defaultdict(_Track)
        done: dict[str, TeacherResponse] = {}
        stopped: set[str] = set()  # given up on in this call
        keep_in_state: set[str] = set()   # batches still running (max_wait) or holding others' results
        drop_from_state: set[str] = set()

        # Resume: in-flight batches of this provider/model that hold some of our requests.
        in_flight: dict[str, list[str]] = {}
        for bid, rec in self.state.batches().items():
            if rec.get("provider") != self.provider or rec.get("model") != self.model:
                continue
            mine = [k for k in rec.get("custom_ids", []) if k in by_key and k not in in_flight]
            if not mine:
                continue
            if any(k not in by_key for k in rec.get("custom_ids", [])):
                keep_in_state.add(bid)
            in_flight[bid] = mine
            for k in mine:
                track[k].attempts = max(track[k].attempts, int(rec.get("attempt", 1)))
                track[k].batch_ids.append(bid)
            log.info("%s: resuming batch %s (%d requests)", self.provider, bid, len(mine))
        if in_flight:  # a key may sit in two recorded batches: poll it in one only
            claimed: set[str] = set()
            for bid in list(in_flight):
                in_flight[bid] = [k for k in in_flight[bid] if k not in claimed]
                claimed.update(in_flight[bid])

        while True:
            covered = {k for ks in in_flight.values() for k in ks}
            todo = [k for k in by_key if k not in done and k not in stopped and k not in covered
                    and track[k].attempts < self.max_attempts]
            if todo:
                lines = [self._line(k, by_key[k]) for k in todo]
                for chunk in self._chunks(lines):
                    ids = [ln["custom_id"] for ln in chunk]
                    attempt = 1 + max(track[k].attempts for k in ids)
                    try:
                        bid, extra = await self._submit(chunk)
                    except TeacherError as e:
                        for k in ids:
                            track[k].last_error = f"{type(e).__name__}: {e}"
                            track[k].attempts += 1
                            if isinstance(e, FatalError):
                                stopped.add(k)
                        continue
                    await self.state.add(bid, {"provider": self.provider, "model": self.model,
                                               "custom_ids": ids, "attempt": attempt,
                                               "submitted_at": time.time(), **extra})
                    log.info("%s: submitted batch %s (%d requests, attempt %d)", self.provider, bid,
                             len(ids), attempt)
                    in_flight[bid] = ids
                    for k in ids:
                        track[k].attempts += 1
                        track[k].batch_ids.append(bid)
            if not in_flight:
                break
            outcomes = await asyncio.gather(*(self._finish(bid) for bid in in_flight), return_exceptions=True)
            for (bid, ids), res in zip(in_flight.items(), outcomes):
                if isinstance(res, BaseException):
                    if isinstance(res, asyncio.CancelledError):
                        raise res
                    if isinstance(res, asyncio.TimeoutError):  # max_wait reached: leave it for a later run
                        reason, resubmit, keep = f"still running: {res}", False, True
                    else:
                        err = res if isinstance(res, TeacherError) else self._map_exc(res)
                        # 404: the provider does not know the batch (any more) -> forget it, resubmit.
                        # Otherwise (auth, polling kept failing) keep it recorded for a later resume.
                        gone = isinstance(err, FatalError) and err.status == 404
                        reason, resubmit, keep = f"{type(err).__name__}: {err}", gone, not gone
                    (keep_in_state if keep else drop_from_state).add(bid)
                    for k in ids:
                        track[k].last_error = reason
                        if not resubmit:
                            stopped.add(k)
                    continue
                drop_from_state.add(bid)
                for k in ids:
                    item = res.get(k)
                    t = track[k]
                    if item is None:
                        t.last_error = f"batch {bid}: no result for this request"
                        continue
                    if item.kind == "ok":
                        try:
                            resp = self._item_response(item.payload, by_key[k])
                        except TeacherError as e:
                            t.last_error = f"{type(e).__name__}: {e}"
                            t.usage = _usage_add(t.usage, getattr(e, "usage", None) or Usage())
                            t.cost += float(getattr(e, "cost", 0.0) or 0.0)
                            if isinstance(e, FatalError):
                                stopped.add(k)
                            continue
                        resp.usage = _usage_add(resp.usage, t.usage)
                        resp.cost += t.cost
                        resp.metadata = {**resp.metadata, "batch_id": bid, "batch_attempts": t.attempts}
                        done[k] = resp
                    else:
                        t.last_error = item.message
                        if item.kind == "fatal":
                            stopped.add(k)
            in_flight = {}

        await self.state.remove(sorted(drop_from_state - keep_in_state))
        out: list[TeacherResponse] = []
        for k, r in zip(keys, requests):
            if k in done:
                resp = done[k]
                out.append(TeacherResponse(text=resp.text, parsed=resp.parsed, usage=resp.usage,
                                           finish_reason=resp.finish_reason, cost=resp.cost, model=resp.model,
                                           metadata={**r.metadata, **resp.metadata}))
            else:
                t = track[k]
                out.append(TeacherResponse(
                    text="", error=f"batch request failed after {t.attempts} attempt(s): {t.last_error}",
                    usage=t.usage, cost=t.cost, model=self.model,
                    metadata={**r.metadata, "batch_attempts": t.attempts}))
        return out

    async def _finish(self, batch_id: str) -> dict[str, ItemResult]:
        poll = await self._wait(batch_id)
        return await self._collect(batch_id, poll)

    async def aclose(self) -> None:
        return None


class OpenAIBatchTeacher(BatchTeacherBase):
    """The OpenAI Batch API (``/v1/chat/completions`` lines, ``completion_window="24h"``).

    ``custom_id`` is the request's cache key. ``state_path`` (JSON) records every
    submitted batch before it is polled; a new teacher over the same file resumes
    those batches. Items that error, expire or come back malformed/truncated are
    resubmitted in a new batch, at most ``max_attempts`` submissions per request.
    Cost is discounted by ``batch_discount`` (0.5 = the Batch API's 50%).
    """

    backend = "openai"
    provider = "openai"
    max_batch_requests = 50_000
    max_batch_bytes = 190 * 1024 * 1024

    def __init__(self, model: str, *, state_path: str | os.PathLike[str], api_key: str | None = None,
                 base_url: str | None = None, timeout: float = 120.0, prices: Mapping[str, float] | None = None,
                 poll_interval: float = 30.0, max_wait: float | None = None, max_attempts: int = 3,
                 batch_discount: float = 0.5, api_retries: int = 8, retry_backoff: float = 1.0,
                 max_tokens_param: str | None = None, strict_schema: bool = False, schema_name: str = "response",
                 accept_truncated_text: bool = False, extra_body: Mapping[str, Any] | None = None,
                 organization: str | None = None):
        import openai

        super().__init__(state_path=state_path, poll_interval=poll_interval, max_wait=max_wait,
                         max_attempts=max_attempts, batch_discount=batch_discount, api_retries=api_retries,
                         retry_backoff=retry_backoff)
        self.model = model
        self.base_url = base_url
        self.timeout = timeout
        self.prices = dict(prices) if prices else None
        self.max_tokens_param = max_tokens_param or ("max_tokens" if base_url else "max_completion_tokens")
        self.strict_schema = strict_schema
        self.schema_name = schema_name
        self.accept_truncated_text = accept_truncated_text
        self.extra_body = dict(extra_body) if extra_body else None
        self._secret = _resolve_key(api_key, "OPENAI_API_KEY", base_url, "openai")
        self.client = openai.AsyncOpenAI(api_key=self._secret, base_url=base_url, timeout=timeout, max_retries=0,
                                         organization=organization)

    def __repr__(self) -> str:
        return f"OpenAIBatchTeacher(model={self.model!r}, base_url={self.base_url!r})"

    def _map_exc(self, e: BaseException) -> TeacherError:
        return _map_openai_exc(e, self._secret, self.timeout)

    def _line(self, custom_id: str, request: TeacherRequest) -> dict[str, Any]:
        body = build_chat_body(request, self.model, max_tokens_param=self.max_tokens_param,
                               strict_schema=self.strict_schema, schema_name=self.schema_name,
                               extra_body=self.extra_body)
        return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}

    async def _submit(self, lines: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        data = b"".join(json.dumps(ln, ensure_ascii=False).encode("utf-8") + b"\n" for ln in lines)
        f = await self._api("openai files.create", self.client.files.create,
                            file=("batch_input.jsonl", data, "application/jsonl"), purpose="batch")
        b = await self._api("openai batches.create", self.client.batches.create, input_file_id=f.id,
                            endpoint="/v1/chat/completions", completion_window="24h",
                            metadata={"source": "data_agent"})
        return b.id, {"input_file_id": f.id}

    async def _poll(self, batch_id: str) -> _Poll:
        b = await self.client.batches.retrieve(batch_id)
        terminal = b.status in ("completed", "failed", "expired", "cancelled")
        return _Poll(terminal=terminal, status=b.status, info=b)

    async def _collect(self, batch_id: str, poll: _Poll) -> dict[str, ItemResult]:
        b = poll.info
        results: dict[str, ItemResult] = {}
        if b.status == "failed":
            errs = [f"{e.code}: {e.message}" for e in ((b.errors.data or []) if b.errors else [])]
            log.warning("openai batch %s failed: %s", batch_id, "; ".join(errs)[:300])
            return results  # every request counts as missing -> resubmitted (bounded)
        for fid in (b.output_file_id, b.error_file_id):
            if not fid:
                continue
            content = await self._api(f"openai files.content {fid}", self.client.files.content, fid)
            for raw in content.text.splitlines():
                if not raw.strip():
                    continue
                try:
                    item = json.loads(raw)
                except ValueError:
                    continue
                cid = item.get("custom_id")
                if not cid:
                    continue
                results[cid] = self._classify(item)
        return results

    @staticmethod
    def _classify(item: Mapping[str, Any]) -> ItemResult:
        resp = item.get("response") or None
        err = item.get("error") or None
        if resp and int(resp.get("status_code") or 0) == 200:
            return ItemResult("ok", resp.get("body") or {})
        if resp:
            status = int(resp.get("status_code") or 0)
            body = resp.get("body") or {}
            msg = ((body.get("error") or {}).get("message") if isinstance(body, dict) else None) or str(body)[:200]
            kind = "retry" if status in (408, 409, 429) or status >= 500 else "fatal"
            return ItemResult(kind, message=f"openai batch item HTTP {status}: {redact(msg)}")
        code = (err or {}).get("code") or "unknown"
        return ItemResult("retry", message=f"openai batch item {code}: {redact(str((err or {}).get('message')))}")

    def _item_response(self, payload: Any, request: TeacherRequest) -> TeacherResponse:
        return chat_response_from_body(payload, request, model=self.model, prices=self.prices,
                                       discount=self.batch_discount,
                                       accept_truncated_text=self.accept_truncated_text)

    async def cancel(self, batch_id: str) -> None:
        """Cancel a submitted batch (it stays in the state file until collected)."""
        await self._api("openai batches.cancel", self.client.batches.cancel, batch_id)

    async def aclose(self) -> None:
        await self.client.close()
