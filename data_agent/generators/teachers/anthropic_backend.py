"""Anthropic teachers: the Messages API online and through Message Batches.

System messages go to the ``system`` parameter; JSON output uses one forced tool
whose ``input_schema`` is the request's schema. The SDK's retries are off
(``max_retries=0``): the runner retries :class:`RetryableError`.

Sampling parameters: the ``anthropic`` SDK 2.x sends API version 2026-10-21, which
rejects ``temperature``/``top_p``/``top_k`` (the SDK dropped them), so they are
not sent unless ``send_sampling_params=True`` (for older API versions or
compatible servers); they still enter the cache key.

Both teachers take their knobs as one :class:`AnthropicOptions` (the batch
teacher also a :class:`~data_agent.generators.teachers.common.BatchOptions`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
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


@dataclass(frozen=True)
class AnthropicOptions(ProviderOptions):
    """Options of the Anthropic teachers, online and batch (besides those of
    :class:`~data_agent.generators.teachers.common.ProviderOptions`)."""

    tool_name: str = "emit_json"
    """Name of the one forced tool that carries a structured reply."""
    send_sampling_params: bool = False
    """Send ``temperature`` and ``top_p`` (see the module docstring)."""
    extra_params: Mapping[str, Any] | None = None
    """Merged into every request's parameters."""

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "extra_params", dict(self.extra_params) if self.extra_params else None)


_STOP_TO_FINISH = {"end_turn": "stop", "tool_use": "stop", "stop_sequence": "stop", "max_tokens": "length",
                   "model_context_window_exceeded": "length", "refusal": "refusal", "pause_turn": "pause_turn"}


def build_message_params(request: TeacherRequest, model: str, options: AnthropicOptions) -> dict[str, Any]:
    """Messages API parameters for ``request`` (also a batch request's ``params``)."""
    system_parts: list[str] = []
    messages: list[dict[str, Any]] = []
    for m in request.messages:
        if m["role"] in ("system", "developer"):
            system_parts.append(m["content"])
        else:
            messages.append({"role": m["role"], "content": m["content"]})
    p = request.params
    params: dict[str, Any] = {"model": model, "max_tokens": p.max_tokens, "messages": messages}
    if system_parts:
        params["system"] = "\n\n".join(system_parts)
    if p.stop:
        params["stop_sequences"] = list(p.stop)
    if options.send_sampling_params:
        params["temperature"] = p.temperature
        if p.top_p != 1.0:
            params["top_p"] = p.top_p
    if request.json_schema is not None:
        params["tools"] = [{
            "name": options.tool_name,
            "description": "Return the answer as a JSON object that satisfies this input schema.",
            "input_schema": request.json_schema,
        }]
        params["tool_choice"] = {"type": "tool", "name": options.tool_name}
    if options.extra_params:
        params.update(options.extra_params)
    return params


def message_response_from_body(data: Mapping[str, Any], request: TeacherRequest, *, model: str,
                               options: AnthropicOptions, discount: float = 0.0) -> TeacherResponse:
    """A Messages API JSON body -> :class:`TeacherResponse` (cost from
    ``options.prices`` less ``discount``); raises Retryable (truncated /
    malformed) or Fatal (refusal)."""
    u = data.get("usage") or {}
    usage = Usage(int(u.get("input_tokens") or 0) + int(u.get("cache_creation_input_tokens") or 0)
                  + int(u.get("cache_read_input_tokens") or 0), int(u.get("output_tokens") or 0))
    cost = compute_cost(usage, options.prices, discount)
    stop = data.get("stop_reason") or "end_turn"
    finish = _STOP_TO_FINISH.get(stop, stop)
    blocks = data.get("content") or []
    text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
    tool_blocks = [b for b in blocks if b.get("type") == "tool_use"]
    if stop == "refusal":
        raise FatalError("anthropic: the model refused")
    if finish == "length" and (request.json_schema is not None or not options.accept_truncated_text):
        raise retryable(f"anthropic: output truncated (stop_reason={stop}, max_tokens={request.params.max_tokens})",
                        usage=usage, cost=cost)
    parsed = None
    if request.json_schema is not None:
        tb = next((b for b in tool_blocks if b.get("name") == options.tool_name),
                  tool_blocks[0] if tool_blocks else None)
        if tb is not None:
            doc = tb.get("input")
            parsed = check_json_output("", request.json_schema, usage=usage, cost=cost, provider="anthropic",
                                       doc=doc, have_doc=True)
            text = json.dumps(parsed, ensure_ascii=False)
        else:  # no tool call: accept a JSON document in the text, else retry
            parsed = check_json_output(text, request.json_schema, usage=usage, cost=cost, provider="anthropic")
    elif not text:
        raise retryable("anthropic: empty reply", usage=usage, cost=cost)
    return TeacherResponse(text=text, parsed=parsed, usage=usage, finish_reason=finish, cost=cost,
                           model=str(data.get("model") or model))


def _map_anthropic_exc(e: BaseException, secret: str | None, timeout: float | None) -> TeacherError:
    import anthropic

    return map_sdk_exc(anthropic, "anthropic", e, secret, timeout)


def _make_client(api_key: str | None, base_url: str | None, timeout: float) -> tuple[Any, str]:
    import anthropic

    key = resolve_key(api_key, "ANTHROPIC_API_KEY", base_url, "anthropic")
    client = anthropic.AsyncAnthropic(api_key=key, base_url=base_url, timeout=timeout, max_retries=0)
    return client, key


class AnthropicTeacher(OnlineTeacher):
    """Messages API through ``anthropic.AsyncAnthropic`` (``max_retries=0``).

    JSON output: a single forced tool ``options.tool_name`` with the request's
    schema as ``input_schema``; the tool input is validated with ``jsonschema``.
    ``options`` (:class:`AnthropicOptions`) holds the timeout (default 60 s),
    the prices and the request knobs.
    """

    backend = "anthropic"

    def __init__(self, model: str, *, api_key: str | None = None, base_url: str | None = None,
                 options: AnthropicOptions | None = None):
        self.model = model
        self.base_url = base_url
        self.options = (options or AnthropicOptions()).with_timeout(60.0)
        self.client, self._secret = _make_client(api_key, base_url, self.options.timeout)

    def __repr__(self) -> str:
        return f"AnthropicTeacher(model={self.model!r}, base_url={self.base_url!r})"

    def build_params(self, request: TeacherRequest) -> dict[str, Any]:
        return build_message_params(request, self.model, self.options)

    async def generate_one(self, request: TeacherRequest) -> TeacherResponse:
        params = self.build_params(request)
        # Keys the SDK 2.x signature no longer has travel in the raw body.
        extra = {k: params.pop(k) for k in ("temperature", "top_p", "top_k") if k in params}
        try:
            msg = await self.client.messages.create(**params, extra_body=extra or None)
        except Exception as e:  # noqa: BLE001 - mapped to the runner's two error kinds
            raise _map_anthropic_exc(e, self._secret, self.options.timeout) from None
        return message_response_from_body(msg.to_dict(), request, model=self.model, options=self.options)

    async def aclose(self) -> None:
        await self.client.close()


class AnthropicBatchTeacher(BatchTeacherBase):
    """Message Batches, driven by
    :class:`~data_agent.generators.teachers.common.BatchTeacherBase` (the same
    state/resume/resubmission rules as the OpenAI Batch API teacher;
    ``custom_id`` = cache key, which fits Anthropic's ``^[a-zA-Z0-9_-]{1,64}$``)."""

    backend = "anthropic"
    provider = "anthropic"
    max_batch_requests = 100_000
    max_batch_bytes = 250 * 1024 * 1024

    def __init__(self, model: str, *, state_path: str | os.PathLike[str], api_key: str | None = None,
                 base_url: str | None = None, options: AnthropicOptions | None = None,
                 batch_options: BatchOptions | None = None):
        super().__init__(state_path=state_path, batch_options=batch_options)
        self.model = model
        self.base_url = base_url
        self.options = (options or AnthropicOptions()).with_timeout(120.0)
        self.client, self._secret = _make_client(api_key, base_url, self.options.timeout)

    def __repr__(self) -> str:
        return f"AnthropicBatchTeacher(model={self.model!r}, base_url={self.base_url!r})"

    def _map_exc(self, e: BaseException) -> TeacherError:
        return _map_anthropic_exc(e, self._secret, self.options.timeout)

    def _line(self, custom_id: str, request: TeacherRequest) -> dict[str, Any]:
        params = build_message_params(request, self.model, self.options)
        return {"custom_id": custom_id, "params": params}

    async def _submit(self, lines: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        b = await self._api("anthropic messages.batches.create", self.client.messages.batches.create,
                            requests=lines)
        return b.id, {}

    async def _poll(self, batch_id: str) -> Poll:
        b = await self.client.messages.batches.retrieve(batch_id)
        return Poll(terminal=b.processing_status == "ended", status=b.processing_status, info=b)

    async def _results(self, batch_id: str) -> list[dict[str, Any]]:
        decoder = await self.client.messages.batches.results(batch_id)
        return [item.to_dict() async for item in decoder]

    async def _collect(self, batch_id: str, poll: Poll) -> dict[str, ItemResult]:
        items = await self._api(f"anthropic batch {batch_id} results", self._results, batch_id)
        out: dict[str, ItemResult] = {}
        for item in items:
            cid = item.get("custom_id")
            res = item.get("result") or {}
            kind = res.get("type")
            if not cid:
                continue
            if kind == "succeeded":
                out[cid] = ItemResult("ok", res.get("message") or {})
            elif kind == "errored":
                err = ((res.get("error") or {}).get("error") or {})
                etype = err.get("type") or "api_error"
                msg = f"anthropic batch item errored ({etype}): {redact(str(err.get('message', '')))}"
                fatal = etype in ("invalid_request_error", "authentication_error", "permission_error",
                                  "not_found_error", "request_too_large")
                out[cid] = ItemResult("fatal" if fatal else "retry", message=msg)
            else:  # expired / canceled
                out[cid] = ItemResult("retry", message=f"anthropic batch item {kind}")
        return out

    def _item_response(self, payload: Any, request: TeacherRequest) -> TeacherResponse:
        return message_response_from_body(payload, request, model=self.model, options=self.options,
                                          discount=self.batch_discount)

    async def cancel(self, batch_id: str) -> None:
        """Cancel a submitted batch (it stays in the state file until collected)."""
        await self._api("anthropic messages.batches.cancel", self.client.messages.batches.cancel, batch_id)

    async def aclose(self) -> None:
        await self.client.close()
