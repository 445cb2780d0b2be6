"""Provider-neutral pieces of the SDK teachers (OpenAI, Anthropic).

The options every SDK teacher takes (:class:`ProviderOptions`, extended by each
provider's own options class) and those of the batch teachers
(:class:`BatchOptions`); error handling (retry-after parsing, HTTP status and
SDK exception mapping, key redaction), API key resolution, JSON output checking,
cost computation, and the batch driver with its state file. The provider
modules build on these and never import each other.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import socket
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Self

from ...logging_utils import redact as redact_text
from .base import (
    FatalError,
    RetryableError,
    TeacherError,
    TeacherRequest,
    TeacherResponse,
    Usage,
    parse_json_text,
)

__all__ = ["BatchOptions", "BatchStateFile", "BatchTeacherBase", "ItemResult", "Poll", "ProviderOptions",
           "check_json_output", "compute_cost", "map_sdk_exc", "parse_retry_after", "redact", "resolve_key",
           "retryable", "status_error", "validate_json"]

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class ProviderOptions:
    """Options every SDK teacher takes; each provider's options class adds its own.

    Mappings are copied when the options are made, so changing the caller's dict
    later changes nothing.
    """

    timeout: float | None = None
    """Seconds per HTTP request; ``None``: the teacher's default (60 for online
    calls, 120 for the batch API's calls)."""
    prices: Mapping[str, float] | None = None
    """``{"input": $/Mtok, "output": $/Mtok}`` for the responses' own ``cost``
    (0 without it)."""
    accept_truncated_text: bool = False
    """Keep plain-text replies cut off at ``max_tokens`` instead of raising a
    retryable error (truncated JSON replies are always retryable)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "prices", dict(self.prices) if self.prices else None)

    def with_timeout(self, default: float) -> Self:
        """These options, with ``default`` as the timeout unless one is set."""
        return self if self.timeout is not None else replace(self, timeout=default)


@dataclass(frozen=True)
class BatchOptions:
    """How a batch teacher drives its provider's batch API."""

    poll_interval: float = 30.0
    """Seconds between two status polls of a submitted batch."""
    max_wait: float | None = None
    """Seconds one ``generate`` call waits for a batch; one still running then
    stays in the state file for a later run to pick up (``None``: until it ends)."""
    max_attempts: int = 3
    """Submissions per request at most: items that error, expire or come back
    malformed or truncated are resubmitted in a new batch (below 1 counts as 1)."""
    batch_discount: float = 0.5
    """Fraction taken off the responses' own ``cost`` (0.5 = the batch APIs' half price)."""
    api_retries: int = 8
    """Retries of one API call (submit, poll, fetch results) after a transient error."""
    retry_backoff: float = 1.0
    """Seconds before the first such retry, doubled for each next one (at most
    60, at least the provider's retry-after)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_attempts", max(1, int(self.max_attempts)))


# --------------------------------------------------------------------------- errors, keys, output checks


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


def resolve_key(api_key: str | None, env: str, base_url: str | None, provider: str) -> str:
    """``api_key``, else ``$env``, else ``"EMPTY"`` for a custom ``base_url``
    (self-hosted compatible servers such as vLLM usually need no key); raises
    :class:`FatalError` otherwise."""
    key = api_key or os.environ.get(env)
    if key:
        return key
    if base_url:
        return "EMPTY"
    raise FatalError(f"{provider}: no API key (pass api_key= or set {env})")


def _connect_failure(e: BaseException) -> str | None:
    """"connection refused" (or "host not found") when the chain of causes of
    ``e`` holds that socket error, else ``None``. The SDKs wrap it in their own
    errors; over aiohttp the wrapper even says "timed out"."""
    seen: set[int] = set()
    x: BaseException | None = e
    while x is not None and id(x) not in seen:
        seen.add(id(x))
        if isinstance(x, ConnectionRefusedError):
            return "connection refused"
        if isinstance(x, socket.gaierror):
            return "host not found"
        x = x.__cause__ or x.__context__
    return None


def _public_url(request: Any, secret: str | None) -> str:
    """The URL of ``request`` without user info, query or fragment (where keys may ride)."""
    try:
        parts = urllib.parse.urlsplit(str(request.url))
    except Exception:  # noqa: BLE001 - no request, or not a URL: say so rather than fail
        return "the server"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return redact(urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", "")), secret)


def map_sdk_exc(sdk: Any, provider: str, e: BaseException, secret: str | None,
                timeout: float | None) -> TeacherError:
    """An exception of an official SDK (``openai`` or ``anthropic``, which share
    the same error classes) as a retryable or fatal :class:`TeacherError`."""
    if isinstance(e, TeacherError):
        return e
    if isinstance(e, sdk.APIConnectionError):  # APITimeoutError included: aiohttp reports a refusal as one
        why = _connect_failure(e)
        if why:
            return RetryableError(f"{provider}: {why} at {_public_url(getattr(e, 'request', None), secret)} "
                                  f"(is the server running, and is the base URL right?)")
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
class Poll:
    """One status poll of a batch: ``terminal`` once the provider is done with it;
    ``info`` is the provider's batch object (read by ``_collect``)."""

    terminal: bool
    status: str
    info: Any = None


def _usage_add(a: Usage, b: Usage) -> Usage:
    return Usage(a.prompt_tokens + b.prompt_tokens, a.completion_tokens + b.completion_tokens)


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
    ``batch_options`` (:class:`BatchOptions`) sets polling, waiting, resubmission
    and the discount.
    """

    backend = "base"
    provider = "base"
    model = ""
    is_batch = True
    """Tells the runner to hand over whole lists (there is no ``generate_one``)."""
    max_batch_requests = 50_000
    max_batch_bytes = 190 * 1024 * 1024

    def __init__(self, *, state_path: str | os.PathLike[str], batch_options: BatchOptions | None = None):
        self.state = BatchStateFile(state_path)
        self.batch_options = batch_options or BatchOptions()

    @property
    def batch_discount(self) -> float:
        """Fraction taken off the responses' own ``cost``."""
        return self.batch_options.batch_discount

    # -- hooks -----------------------------------------------------------------------------

    def _line(self, custom_id: str, request: TeacherRequest) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    async def _submit(self, lines: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:  # pragma: no cover
        """Create the batch; return its id and extra state to record."""
        raise NotImplementedError

    async def _poll(self, batch_id: str) -> Poll:  # pragma: no cover
        raise NotImplementedError

    async def _collect(self, batch_id: str, poll: Poll) -> dict[str, ItemResult]:  # pragma: no cover
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
            if isinstance(err, FatalError) or attempt >= self.batch_options.api_retries:
                raise type(err)(f"{what}: {err}", status=err.status) from None  # type: ignore[call-arg]
            delay = min(60.0, self.batch_options.retry_backoff * (2 ** attempt))
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

    async def _wait(self, batch_id: str) -> Poll:
        start = time.monotonic()
        while True:
            poll = await self._api(f"{self.provider} batch {batch_id} status", self._poll, batch_id)
            if poll.terminal:
                return poll
            max_wait = self.batch_options.max_wait
            if max_wait is not None and time.monotonic() - start >= max_wait:
                raise asyncio.TimeoutError(f"batch {batch_id} still {poll.status} after {max_wait}s")
            await asyncio.sleep(self.batch_options.poll_interval)

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
                    and track[k].attempts < self.batch_options.max_attempts]
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
