"""The Teacher seam: one async interface every backend implements.

A *request* is chat messages + sampling parameters + an optional JSON schema the
reply must satisfy. A *response* carries the text, the parsed JSON (when a schema
was given and the text parsed), token usage, the finish reason and the cost.

Backends implement only ``generate``; batching, concurrency, rate limits,
retries, caching and budgets live in one runner around this interface.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Awaitable, Callable, Protocol, runtime_checkable


@dataclass(frozen=True)
class SamplingParams:
    """Sampling parameters shared by every backend."""

    temperature: float = 0.7
    """Softmax temperature; 0 means greedy."""
    max_tokens: int = 1024
    """Upper bound on generated tokens."""
    top_p: float = 1.0
    """Nucleus sampling mass."""
    seed: int | None = None
    """Backend seed where supported (for reproducible sampling)."""
    stop: tuple[str, ...] = ()
    """Stop sequences."""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d


@dataclass(frozen=True)
class TeacherRequest:
    """One generation request."""

    messages: tuple[dict[str, str], ...]
    """Chat messages: ``{"role": "system"|"user"|"assistant", "content": str}``."""
    params: SamplingParams = field(default_factory=SamplingParams)
    json_schema: dict[str, Any] | None = None
    """If set, the reply must be a JSON document valid against this schema."""
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """Caller data carried to the response (template, topic, seed...). Part of the
    cache key only through ``key_extra``."""
    key_extra: str = ""
    """Extra text mixed into the cache key (e.g. the symbolic template + seed)."""

    def cache_key(self, backend: str, model: str) -> str:
        """Hash of everything that changes the answer."""
        payload = {
            "backend": backend,
            "model": model,
            "messages": list(self.messages),
            "params": self.params.to_dict(),
            "schema": self.json_schema,
            "extra": self.key_extra,
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class TeacherResponse:
    """One reply. ``error`` is set (and ``text`` may be empty) when the request
    failed for good; failed-but-billed usage is still reported."""

    text: str
    parsed: Any = None
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = "stop"
    cost: float = 0.0
    model: str = ""
    error: str | None = None
    cached: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TeacherResponse":
        d = dict(d)
        d["usage"] = Usage(**d.get("usage", {}))
        return cls(**d)


@runtime_checkable
class Teacher(Protocol):
    """A teacher backend. ``name`` is the spec it was built from (e.g. ``symbolic``
    or ``openai:gpt-4.1-mini``); ``model`` the model identifier."""

    backend: str
    model: str

    async def generate(self, requests: list[TeacherRequest]) -> list[TeacherResponse]:
        """Answer every request, in order. Must not raise for a single bad reply:
        return a response with ``error`` set instead."""
        ...


TeacherCall = Callable[[list[TeacherRequest]], Awaitable[list[TeacherResponse]]]
"""A session's ``call``: answer requests, in order."""
RequestBuilder = Callable[[str, int, int, int, int], TeacherRequest]
"""A session's ``build``: (topic, difficulty, attempt, seed, iteration) -> request."""


class TeacherError(Exception):
    """A request failed. Backends raise the subclasses below from ``generate_one``
    so that the runner can decide whether to retry."""


class RetryableError(TeacherError):
    """Transient failure (429, 5xx, timeout, connection error, truncated or
    malformed output). ``retry_after`` is the server's hint in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = None,
                 usage: Usage | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status
        self.usage = usage or Usage()


class FatalError(TeacherError):
    """Permanent failure (400, 401, 403, 404...): never retried."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class OnlineTeacher:
    """Base class for request/response backends: implement ``generate_one``;
    ``generate`` answers a list concurrently without any retry policy (the
    runner adds retries, limits, caching and budgets around ``generate_one``)."""

    backend: str = "base"
    model: str = ""

    async def generate_one(self, request: TeacherRequest) -> TeacherResponse:  # pragma: no cover - abstract
        raise NotImplementedError

    async def generate(self, requests: list[TeacherRequest]) -> list[TeacherResponse]:
        import asyncio

        async def one(r: TeacherRequest) -> TeacherResponse:
            try:
                resp = await self.generate_one(r)
            except TeacherError as e:
                return TeacherResponse(text="", error=f"{type(e).__name__}: {e}", model=self.model,
                                       metadata=dict(r.metadata))
            resp.metadata = {**r.metadata, **resp.metadata}
            return resp

        return list(await asyncio.gather(*(one(r) for r in requests)))

    async def aclose(self) -> None:
        """Release network clients, if any."""
        return None


_FENCE = re.compile(r"^\s*```(?:json|JSON)?\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)


def parse_json_text(text: str) -> Any:
    """Parse a JSON reply, tolerating code fences and prose around one object.
    Raises ``ValueError`` if no JSON document can be read."""
    s = (text or "").strip()
    m = _FENCE.match(s)
    if m:
        s = m.group(1).strip()
    try:
        return json.loads(s)
    except json.JSONDecodeError as first:
        for open_, close in (("{", "}"), ("[", "]")):
            i, j = s.find(open_), s.rfind(close)
            if 0 <= i < j:
                try:
                    return json.loads(s[i:j + 1])
                except json.JSONDecodeError:
                    pass
        raise ValueError(f"not valid JSON: {first.msg} at line {first.lineno} column {first.colno}") from None
