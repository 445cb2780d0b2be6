"""OpenAI-compatible teachers: online chat completions and the Batch API.

``OpenAIChatTeacher`` works with api.openai.com and any OpenAI-compatible server
(vLLM, llama.cpp, the local emulator) through ``base_url``. The SDK's own retries
are off (``max_retries=0``): the runner retries :class:`RetryableError`.

``OpenAIBatchTeacher`` submits the requests as one or more batches, records each
batch id in a JSON state file *before* polling, and on a later run (same state
file) picks in-flight batches up again instead of resubmitting them.

Both take their knobs as one :class:`OpenAIOptions` (the batch teacher also a
:class:`~data_agent.generators.teachers.common.BatchOptions`).

The provider-neutral pieces (error mapping, key resolution, JSON output
checking, the batch driver) are in :mod:`data_agent.generators.teachers.common`.
The SDK is imported lazily, so importing this module is cheap.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass, replace
from typing import Any, Mapping

from .base import FatalError, OnlineTeacher, TeacherError, TeacherRequest, TeacherResponse, Usage
from .common import (
    BatchOptions,
    BatchTeacherBase,
    ItemResult,
    Poll,
    ProviderOptions,
    check_json_output,
    compute_cost,
    map_sdk_exc,
    redact,
    resolve_key,
    retryable,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenAIOptions(ProviderOptions):
    """Options of the OpenAI teachers, online and batch (besides those of
    :class:`~data_agent.generators.teachers.common.ProviderOptions`)."""

    max_tokens_param: str | None = None
    """The body's name for the token limit; ``None``: ``max_completion_tokens``
    on api.openai.com, ``max_tokens`` on a custom ``base_url``."""
    strict_schema: bool = False
    """Set ``json_schema.strict`` (OpenAI's strict mode rejects some keywords such
    as ``minLength``; the reply is validated with ``jsonschema`` either way)."""
    schema_name: str = "response"
    """``json_schema.name`` of structured requests."""
    extra_body: Mapping[str, Any] | None = None
    """Merged into every request body."""
    organization: str | None = None
    """OpenAI organization id sent with every request."""

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "extra_body", dict(self.extra_body) if self.extra_body else None)

    def resolved(self, *, base_url: str | None, timeout: float) -> "OpenAIOptions":
        """These options with a teacher's defaults filled in: ``timeout`` and
        ``max_tokens_param`` (which depends on ``base_url``)."""
        return replace(self.with_timeout(timeout), max_tokens_param=self.max_tokens_param or (
            "max_tokens" if base_url else "max_completion_tokens"))


# --------------------------------------------------------------------------- OpenAI body <-> response


def build_chat_body(request: TeacherRequest, model: str, options: OpenAIOptions) -> dict[str, Any]:
    """The ``/v1/chat/completions`` body for ``request`` (also a batch line's
    body); an unset ``options.max_tokens_param`` sends ``max_tokens``."""
    p = request.params
    body: dict[str, Any] = {
        "model": model,
        "messages": [dict(m) for m in request.messages],
        "temperature": p.temperature,
        options.max_tokens_param or "max_tokens": p.max_tokens,
    }
    if p.top_p != 1.0:
        body["top_p"] = p.top_p
    if p.seed is not None:
        body["seed"] = p.seed
    if p.stop:
        body["stop"] = list(p.stop)
    if request.json_schema is not None:
        body["response_format"] = {"type": "json_schema", "json_schema": {
            "name": options.schema_name, "schema": request.json_schema, "strict": bool(options.strict_schema)}}
    if options.extra_body:
        body.update(options.extra_body)
    return body


def chat_response_from_body(data: Mapping[str, Any], request: TeacherRequest, *, model: str,
                            options: OpenAIOptions, discount: float = 0.0,
                            provider: str = "openai") -> TeacherResponse:
    """A chat-completion JSON body -> :class:`TeacherResponse` (cost from
    ``options.prices`` less ``discount``); raises Retryable (truncated /
    malformed / empty) or Fatal (refusal)."""
    u = data.get("usage") or {}
    usage = Usage(int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0))
    cost = compute_cost(usage, options.prices, discount)
    choices = data.get("choices") or []
    if not choices:
        raise retryable(f"{provider}: reply has no choices", usage=usage, cost=cost)
    ch = choices[0]
    msg = ch.get("message") or {}
    text = msg.get("content") or ""
    finish = ch.get("finish_reason") or "stop"
    if msg.get("refusal"):
        raise FatalError(f"{provider}: the model refused: {str(msg['refusal'])[:200]}")
    if finish == "length" and (request.json_schema is not None or not options.accept_truncated_text):
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

    ``options`` (:class:`OpenAIOptions`) holds the timeout (default 60 s), the
    prices and the request knobs; ``default_headers`` go with every request.

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
                 options: OpenAIOptions | None = None, default_headers: Mapping[str, str] | None = None,
                 http_client: Any = None, transport: str | None = None):
        self.model = model
        self.base_url = base_url
        self.options = (options or OpenAIOptions()).resolved(base_url=base_url, timeout=60.0)
        self._secret = resolve_key(api_key, "OPENAI_API_KEY", base_url, "openai")
        self._client_kwargs: dict[str, Any] = dict(api_key=self._secret, base_url=base_url,
                                                   timeout=self.options.timeout, max_retries=0,
                                                   organization=self.options.organization,
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
            http_client = _aiohttp_http_client_class()(timeout=self.options.timeout)  # type: ignore[misc]
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
        return build_chat_body(request, self.model, self.options)

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
            raise _map_openai_exc(e, self._secret, self.options.timeout) from None
        try:
            data = json.loads(raw)
        except ValueError:
            raise retryable(f"openai: the reply body is not JSON: {redact(repr(raw[:120]), self._secret)}") from None
        if not isinstance(data, dict):
            raise retryable(f"openai: the reply body is not a JSON object: {redact(repr(raw[:120]), self._secret)}")
        return chat_response_from_body(data, request, model=self.model, options=self.options)

    async def aclose(self) -> None:
        await self.client.close()


class OpenAIBatchTeacher(BatchTeacherBase):
    """The OpenAI Batch API (``/v1/chat/completions`` lines, ``completion_window="24h"``).

    ``custom_id`` is the request's cache key. ``state_path`` (JSON) records every
    submitted batch before it is polled; a new teacher over the same file resumes
    those batches. Items that error, expire or come back malformed/truncated are
    resubmitted in a new batch, at most ``batch_options.max_attempts`` submissions
    per request. Cost is discounted by ``batch_options.batch_discount`` (0.5 = the
    Batch API's 50%). ``options`` are those of :class:`OpenAIChatTeacher`, with
    a default timeout of 120 s.
    """

    backend = "openai"
    provider = "openai"
    max_batch_requests = 50_000
    max_batch_bytes = 190 * 1024 * 1024

    def __init__(self, model: str, *, state_path: str | os.PathLike[str], api_key: str | None = None,
                 base_url: str | None = None, options: OpenAIOptions | None = None,
                 batch_options: BatchOptions | None = None):
        import openai

        super().__init__(state_path=state_path, batch_options=batch_options)
        self.model = model
        self.base_url = base_url
        self.options = (options or OpenAIOptions()).resolved(base_url=base_url, timeout=120.0)
        self._secret = resolve_key(api_key, "OPENAI_API_KEY", base_url, "openai")
        self.client = openai.AsyncOpenAI(api_key=self._secret, base_url=base_url, timeout=self.options.timeout,
                                         max_retries=0, organization=self.options.organization)

    def __repr__(self) -> str:
        return f"OpenAIBatchTeacher(model={self.model!r}, base_url={self.base_url!r})"

    def _map_exc(self, e: BaseException) -> TeacherError:
        return _map_openai_exc(e, self._secret, self.options.timeout)

    def _line(self, custom_id: str, request: TeacherRequest) -> dict[str, Any]:
        body = build_chat_body(request, self.model, self.options)
        return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}

    async def _submit(self, lines: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        data = b"".join(json.dumps(ln, ensure_ascii=False).encode("utf-8") + b"\n" for ln in lines)
        f = await self._api("openai files.create", self.client.files.create,
                            file=("batch_input.jsonl", data, "application/jsonl"), purpose="batch")
        b = await self._api("openai batches.create", self.client.batches.create, input_file_id=f.id,
                            endpoint="/v1/chat/completions", completion_window="24h",
                            metadata={"source": "data_agent"})
        return b.id, {"input_file_id": f.id}

    async def _poll(self, batch_id: str) -> Poll:
        b = await self.client.batches.retrieve(batch_id)
        terminal = b.status in ("completed", "failed", "expired", "cancelled")
        return Poll(terminal=terminal, status=b.status, info=b)

    async def _collect(self, batch_id: str, poll: Poll) -> dict[str, ItemResult]:
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
        return chat_response_from_body(payload, request, model=self.model, options=self.options,
                                       discount=self.batch_discount)

    async def cancel(self, batch_id: str) -> None:
        """Cancel a submitted batch (it stays in the state file until collected)."""
        await self._api("openai batches.cancel", self.client.batches.cancel, batch_id)

    async def aclose(self) -> None:
        await self.client.close()
