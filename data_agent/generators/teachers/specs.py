"""Model specs for ``--teacher`` / ``--engineer`` and the teachers they build.

Accepted forms::

    symbolic                                   offline sympy teacher (no model)
    openai:gpt-4.1-mini                        OpenAI chat completions        (OPENAI_API_KEY)
    openai-batch:gpt-4.1-mini                  OpenAI Batch API               (OPENAI_API_KEY)
    anthropic:claude-sonnet-4-5                Anthropic Messages API         (ANTHROPIC_API_KEY)
    anthropic-batch:claude-sonnet-4-5          Anthropic Message Batches      (ANTHROPIC_API_KEY)
    openai-compatible:http://host:8000/v1@my-model
                                               any OpenAI-compatible server   (OPENAI_API_KEY, or a dummy key)
    vllm:/models/qwen                          in-process vLLM                (pip install 'data-agent[vllm]')
    hf:/path/or/name                           local transformers model (also hf:smollm2-135m, hf:tiny-llama)

API keys are read from the environment only, never from a spec, a config file
or the command line; a missing key is a one-line :class:`DataAgentError` that
names the variable (never a value).
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import DataAgentError
from .prices import PriceTable

__all__ = ["SPEC_FORMS", "SpecError", "TeacherSpec", "build_teacher", "parse_spec", "require_key"]

SPEC_FORMS: tuple[str, ...] = (
    "symbolic",
    "openai:<model>",
    "openai-batch:<model>",
    "anthropic:<model>",
    "anthropic-batch:<model>",
    "openai-compatible:<base_url>@<model>",
    "vllm:<model path or name>",
    "hf:<model path or name | smollm2-135m | tiny-llama>",
)

KEY_ENV: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "openai-batch": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "anthropic-batch": "ANTHROPIC_API_KEY",
    "openai-compatible": "OPENAI_API_KEY",
}
"""Which environment variable holds the key of each kind of spec."""

DUMMY_KEY = "EMPTY"
"""Key sent to an ``openai-compatible`` server when ``OPENAI_API_KEY`` is unset
(self-hosted servers such as vLLM accept any key)."""


class SpecError(DataAgentError):
    """A model spec is malformed or names an unknown kind."""


@dataclass(frozen=True)
class TeacherSpec:
    """A parsed model spec."""

    kind: str
    """``symbolic``, ``openai``, ``openai-batch``, ``anthropic``, ``anthropic-batch``,
    ``openai-compatible``, ``vllm`` or ``hf``."""
    model: str
    """Model name, path or alias (empty for ``symbolic``)."""
    base_url: str | None = None
    """Server URL (``openai-compatible`` only)."""
    raw: str = ""
    """The spec as given."""

    @property
    def is_batch(self) -> bool:
        """A provider batch API (hours of latency, half price)."""
        return self.kind.endswith("-batch")

    @property
    def is_local(self) -> bool:
        """Runs on this machine (no API, no key, no price)."""
        return self.kind in ("symbolic", "vllm", "hf")

    @property
    def key_env(self) -> str | None:
        """The environment variable holding this spec's API key, if any."""
        return KEY_ENV.get(self.kind)

    def __str__(self) -> str:
        return self.raw or (f"{self.kind}:{self.model}" if self.model else self.kind)


def _forms() -> str:
    return "; ".join(SPEC_FORMS)


def parse_spec(spec: str) -> TeacherSpec:
    """Parse a model spec (see the module docstring); raises :class:`SpecError`."""
    raw = (spec or "").strip()
    if raw == "symbolic":
        return TeacherSpec("symbolic", "", raw=raw)
    kind, sep, rest = raw.partition(":")
    kind = kind.strip().lower()
    rest = rest.strip()
    if not sep or kind not in ("openai", "openai-batch", "anthropic", "anthropic-batch", "openai-compatible",
                                "vllm", "hf"):
        raise SpecError(f"unknown model spec {raw!r}; use one of: {_forms()}")
    if not rest:
        raise SpecError(f"model spec {raw!r} names no model; use one of: {_forms()}")
    if kind == "openai-compatible":
        url, at, model = rest.rpartition("@")
        url, model = url.strip(), model.strip()
        if not at or not url or not model:
            raise SpecError(f"model spec {raw!r}: expected openai-compatible:<base_url>@<model>, "
                            "e.g. openai-compatible:http://127.0.0.1:8000/v1@my-model")
        if not url.startswith(("http://", "https://")):
            raise SpecError(f"model spec {raw!r}: the base URL must start with http:// or https://")
        return TeacherSpec(kind, model, base_url=url.rstrip("/"), raw=raw)
    return TeacherSpec(kind, rest, raw=raw)


def require_key(spec: TeacherSpec) -> str | None:
    """The API key for ``spec`` from the environment; ``None`` for local kinds.

    Raises :class:`DataAgentError` naming the variable when a required key is unset.
    """
    env = spec.key_env
    if env is None:
        return None
    value = os.environ.get(env, "").strip()
    if value:
        return value
    if spec.kind == "openai-compatible":
        return DUMMY_KEY
    raise DataAgentError(f"teacher {spec.raw or spec.kind!r} needs an API key: set the {env} environment variable")


def _price_dict(prices: PriceTable | None, spec: TeacherSpec, backend: str) -> tuple[dict[str, float] | None, float]:
    """``({"input", "output"}, batch_discount)`` for the backend's own cost field."""
    if prices is None:
        return None, 0.5
    p = prices.lookup(f"{backend}:{spec.model}")
    if p is None:
        return None, 0.5
    return {"input": p.input, "output": p.output}, p.batch_discount


def _construct(cls: type, spec: TeacherSpec, option_classes: dict[str, type], fixed: dict[str, Any],
               options: dict[str, Any]) -> Any:
    """``cls(spec.model, ...)`` from flat keyword arguments: ``fixed`` (set by
    :func:`build_teacher`) and the caller's ``options``. A name that is a field of
    one of the ``option_classes`` (keyword of ``cls`` -> options dataclass) goes
    into that dataclass; any other name must be a keyword of ``cls``.

    Raises:
        TypeError: an option repeats a fixed argument or is unknown (one line naming it).
    """
    field_owner = {f.name: keyword for keyword, c in option_classes.items() for f in dataclasses.fields(c)}
    own = {name for name, p in inspect.signature(cls).parameters.items()
           if p.kind is p.KEYWORD_ONLY and name not in option_classes}
    for name in options:
        if name in fixed:
            raise TypeError(f"teacher {spec}: option {name!r} is set by build_teacher (from the spec, "
                            "the environment or the price table)")
        if name not in field_owner and name not in own:
            known = ", ".join(sorted((own | set(field_owner)) - set(fixed)))
            raise TypeError(f"teacher {spec}: unknown option {name!r} (known: {known})")
    grouped: dict[str, dict[str, Any]] = {keyword: {} for keyword in option_classes}
    direct: dict[str, Any] = {}
    for name, value in {**fixed, **options}.items():
        if name in field_owner:
            grouped[field_owner[name]][name] = value
        else:
            direct[name] = value
    return cls(spec.model, **direct, **{keyword: option_classes[keyword](**values)
                                        for keyword, values in grouped.items()})


def build_teacher(spec: str | TeacherSpec, *, state_dir: str | Path | None = None,
                  prices: PriceTable | None = None, **options: Any) -> Any:
    """The teacher backend for ``spec``.

    Args:
        spec: a spec string or a parsed :class:`TeacherSpec`.
        state_dir: where batch teachers keep their state file (in-flight batch
            ids, for resume); required for ``*-batch`` specs.
        prices: price table used for the backends' own cost field (the runner
            prices responses from its table either way).
        **options: the backend's keyword options (e.g. ``batch_size`` for
            ``hf``). For the OpenAI and Anthropic kinds they are split by name
            onto the backend's options dataclass (``timeout``, ``strict_schema``...),
            :class:`~data_agent.generators.teachers.common.BatchOptions` for the
            batch kinds (``poll_interval``, ``max_wait``...), and the
            constructor's own keywords (``transport`` for the OpenAI chat teacher).

    Raises:
        SpecError: malformed or unknown spec.
        DataAgentError: a required API key is missing, or ``vllm`` is not installed.
        TypeError: an unknown option.
    """
    s = spec if isinstance(spec, TeacherSpec) else parse_spec(spec)
    if s.kind == "symbolic":
        from .symbolic import SymbolicTeacher

        return SymbolicTeacher(**options)
    if s.kind == "hf":
        from .hf_backend import HFTeacher

        return HFTeacher(s.model, **options)
    if s.kind == "vllm":
        from .vllm_backend import VLLMTeacher

        return VLLMTeacher(s.model, **options)

    key = require_key(s)
    if s.kind in ("openai", "openai-compatible"):
        from .openai_backend import OpenAIChatTeacher, OpenAIOptions

        price, _ = _price_dict(prices, s, "openai")
        return _construct(OpenAIChatTeacher, s, {"options": OpenAIOptions},
                          {"api_key": key, "base_url": s.base_url, "prices": price}, options)
    if s.kind == "anthropic":
        from .anthropic_backend import AnthropicOptions, AnthropicTeacher

        price, _ = _price_dict(prices, s, "anthropic")
        return _construct(AnthropicTeacher, s, {"options": AnthropicOptions}, {"api_key": key, "prices": price},
                          options)

    # batch APIs
    if state_dir is None:
        raise DataAgentError(f"teacher {s.raw!r}: a batch teacher needs a state directory")
    state_path = Path(state_dir) / f"{s.kind}-batches.json"
    from .common import BatchOptions

    if s.kind == "openai-batch":
        from .openai_backend import OpenAIBatchTeacher, OpenAIOptions

        price, discount = _price_dict(prices, s, "openai")
        return _construct(OpenAIBatchTeacher, s, {"options": OpenAIOptions, "batch_options": BatchOptions},
                          {"state_path": state_path, "api_key": key, "prices": price, "batch_discount": discount},
                          options)
    from .anthropic_backend import AnthropicBatchTeacher, AnthropicOptions

    price, discount = _price_dict(prices, s, "anthropic")
    return _construct(AnthropicBatchTeacher, s, {"options": AnthropicOptions, "batch_options": BatchOptions},
                      {"state_path": state_path, "api_key": key, "prices": price, "batch_discount": discount},
                      options)
