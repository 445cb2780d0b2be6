"""In-process vLLM teacher (``vllm:<model>``).

The whole request list goes to one ``vllm.LLM.chat`` call (vLLM batches and
schedules internally), with one ``SamplingParams`` per request. A request's
JSON schema becomes guided decoding: ``StructuredOutputsParams(json=...)`` on
current vLLM, ``GuidedDecodingParams(json=...)`` on releases before the
``structured_outputs`` API. The reply is validated by the runner like any other.

vLLM is imported lazily; without it, building the teacher raises a
:class:`DataAgentError` telling how to install it. The request -> vLLM
arguments mapping is the pure function :func:`vllm_request_args`, testable
without vLLM.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import threading
from typing import Any, Mapping, Sequence

from ...errors import DataAgentError
from .base import FatalError, TeacherRequest, TeacherResponse, Usage

__all__ = ["VLLMTeacher", "make_sampling_params", "response_from_vllm_output", "vllm_request_args",
           "VLLM_INSTALL_HINT"]

VLLM_INSTALL_HINT = "vLLM is not installed: install data-agent[vllm] (pip install 'data-agent[vllm]', needs a GPU)"


def vllm_request_args(request: TeacherRequest) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """``(messages, SamplingParams keyword arguments)`` for one request.

    The keyword arguments are plain data: a JSON schema appears as
    ``structured_outputs={"json": schema}`` and is turned into vLLM's params
    object by :func:`make_sampling_params`.
    """
    p = request.params
    kwargs: dict[str, Any] = {"temperature": float(p.temperature), "top_p": float(p.top_p),
                              "max_tokens": int(p.max_tokens)}
    if p.seed is not None:
        kwargs["seed"] = int(p.seed)
    if p.stop:
        kwargs["stop"] = list(p.stop)
    if request.json_schema is not None:
        kwargs["structured_outputs"] = {"json": request.json_schema}
    messages = [{"role": str(m["role"]), "content": str(m["content"])} for m in request.messages]
    return messages, kwargs


def make_sampling_params(kwargs: Mapping[str, Any], sampling_module: Any) -> Any:
    """``vllm.SamplingParams`` from :func:`vllm_request_args` keyword arguments.

    ``sampling_module`` is ``vllm.sampling_params`` (or a stand-in with
    ``SamplingParams`` and ``StructuredOutputsParams`` or ``GuidedDecodingParams``).
    """
    kw = dict(kwargs)
    structured = kw.pop("structured_outputs", None)
    if structured is not None:
        if hasattr(sampling_module, "StructuredOutputsParams"):
            kw["structured_outputs"] = sampling_module.StructuredOutputsParams(**structured)
        elif hasattr(sampling_module, "GuidedDecodingParams"):
            kw["guided_decoding"] = sampling_module.GuidedDecodingParams(**structured)
        else:
            raise DataAgentError("this vLLM has neither StructuredOutputsParams nor GuidedDecodingParams: "
                                 "upgrade vllm for JSON-schema guided decoding")
    return sampling_module.SamplingParams(**kw)


def response_from_vllm_output(output: Any, model: str) -> TeacherResponse:
    """A ``vllm.RequestOutput`` -> :class:`TeacherResponse` (text as generated;
    the runner validates JSON)."""
    completions = getattr(output, "outputs", None) or []
    if not completions:
        return TeacherResponse(text="", error="vllm: no completion returned", model=model)
    c = completions[0]
    usage = Usage(len(getattr(output, "prompt_token_ids", None) or []), len(getattr(c, "token_ids", None) or []))
    finish = getattr(c, "finish_reason", None) or "stop"
    return TeacherResponse(text=str(getattr(c, "text", "") or ""), usage=usage,
                           finish_reason="length" if finish == "length" else "stop", model=model)


class VLLMTeacher:
    """A batch teacher on an in-process ``vllm.LLM`` (built on first use).

    Args:
        model: model path or hub name passed to ``vllm.LLM(model=...)``.
        llm_kwargs: extra ``vllm.LLM`` arguments (``dtype``, ``max_model_len``,
            ``gpu_memory_utilization``, ``tensor_parallel_size``...).
        chat_template_kwargs: passed to ``LLM.chat`` (e.g. ``{"enable_thinking": False}``).
        llm: an already built engine (or a stand-in with ``chat``), mainly for tests.
        sampling_module: ``vllm.sampling_params`` stand-in, mainly for tests.
    """

    backend = "vllm"
    is_batch = True

    def __init__(self, model: str, *, llm_kwargs: Mapping[str, Any] | None = None,
                 chat_template_kwargs: Mapping[str, Any] | None = None, llm: Any = None,
                 sampling_module: Any = None):
        if (llm is None or sampling_module is None) and importlib.util.find_spec("vllm") is None:
            raise DataAgentError(VLLM_INSTALL_HINT)
        self.model = model
        self.llm_kwargs = dict(llm_kwargs or {})
        self.chat_template_kwargs = dict(chat_template_kwargs) if chat_template_kwargs else None
        self._llm = llm
        self._sampling = sampling_module
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"VLLMTeacher(model={self.model!r})"

    def _engine(self) -> tuple[Any, Any]:
        with self._lock:
            if self._sampling is None:
                self._sampling = importlib.import_module("vllm.sampling_params")
            if self._llm is None:
                import vllm

                try:
                    self._llm = vllm.LLM(model=self.model, **self.llm_kwargs)
                except Exception as e:  # noqa: BLE001 - a config problem: one clear line
                    raise DataAgentError(f"vllm cannot load {self.model!r}: {type(e).__name__}: "
                                         f"{str(e).splitlines()[0] if str(e) else ''}") from None
            return self._llm, self._sampling

    def generate_sync(self, requests: Sequence[TeacherRequest]) -> list[TeacherResponse]:
        """Answer every request with one ``LLM.chat`` call (blocking)."""
        if not requests:
            return []
        llm, sampling = self._engine()
        conversations, params = [], []
        for r in requests:
            messages, kwargs = vllm_request_args(r)
            conversations.append(messages)
            params.append(make_sampling_params(kwargs, sampling))
        extra: dict[str, Any] = {"use_tqdm": False}
        if self.chat_template_kwargs:
            extra["chat_template_kwargs"] = self.chat_template_kwargs
        try:
            outputs = llm.chat(conversations, sampling_params=params, **extra)
        except Exception as e:  # noqa: BLE001 - every request of this call fails, the run goes on
            raise FatalError(f"vllm: {type(e).__name__}: {str(e)[:300]}") from None
        out = [response_from_vllm_output(o, self.model) for o in outputs]
        if len(out) != len(requests):
            raise FatalError(f"vllm returned {len(out)} outputs for {len(requests)} requests")
        for r, resp in zip(requests, out):
            resp.metadata = dict(r.metadata)
        return out

    async def generate(self, requests: list[TeacherRequest]) -> list[TeacherResponse]:
        """:meth:`generate_sync` in a worker thread."""
        return await asyncio.to_thread(self.generate_sync, requests)

    async def aclose(self) -> None:
        return None
