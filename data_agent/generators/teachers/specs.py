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

Each kind is one :class:`BackendKind` in :data:`BACKENDS`: how its spec is
written, which environment variable holds its key, whether it is local or a
batch API, and how its teacher is built. :data:`SPEC_FORMS`,
:func:`parse_spec`, :func:`require_key`, :func:`build_teacher` and the
properties of :class:`TeacherSpec` all read that table, so a new backend is one
entry there.

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
from typing import Any, Callable

from ...errors import DataAgentError
from .common import BatchOptions
from .prices import PriceTable

__all__ = ["BACKENDS", "SPEC_FORMS", "BackendKind", "SpecError", "TeacherSpec", "build_teacher", "parse_spec",
           "require_key"]

DUMMY_KEY = "EMPTY"
"""Key sent to an ``openai-compatible`` server when ``OPENAI_API_KEY`` is unset
(self-hosted servers such as vLLM accept any key)."""


class SpecError(DataAgentError):
    """A model spec is malformed or names an unknown kind."""


@dataclass(frozen=True)
class TeacherSpec:
    """A parsed model spec."""

    kind: str
    """The name of its :class:`BackendKind` (a key of :data:`BACKENDS`)."""
    model: str
    """Model name, path or alias (empty for ``symbolic``)."""
    base_url: str | None = None
    """Server URL (``openai-compatible`` only)."""
    raw: str = ""
    """The spec as given."""

    def __post_init__(self) -> None:
        if self.kind not in BACKENDS:
            raise SpecError(f"unknown model spec kind {self.kind!r}; use one of: {_forms()}")

    @property
    def backend(self) -> BackendKind:
        """The registration of this spec's kind."""
        return BACKENDS[self.kind]

    @property
    def is_batch(self) -> bool:
        """A provider batch API (hours of latency, half price)."""
        return self.backend.batch

    @property
    def is_local(self) -> bool:
        """Runs on this machine (no API, no key, no price)."""
        return self.backend.local

    @property
    def key_env(self) -> str | None:
        """The environment variable holding this spec's API key, if any."""
        return self.backend.key_env

    def __str__(self) -> str:
        return self.raw or (f"{self.kind}:{self.model}" if self.model else self.kind)


Builder = Callable[[TeacherSpec, dict[str, Any], dict[str, Any]], Any]
"""``build(spec, fixed, options)`` -> the teacher; ``fixed`` holds the arguments
:func:`build_teacher` sets itself, ``options`` the caller's keyword options."""


@dataclass(frozen=True)
class BackendKind:
    """One kind of model spec: how it is written, the facts about its backend
    and how its teacher is built."""

    name: str
    """The spec's prefix (``openai`` in ``openai:<model>``), or the whole spec of a
    kind that names no model (``symbolic``)."""
    form: str
    """How the spec is written, as listed in :data:`SPEC_FORMS` and error messages."""
    build: Builder
    """Builds the teacher. ``fixed`` holds ``api_key`` (kinds with a ``key_env``),
    ``base_url`` (specs that give one), ``prices`` (kinds with a
    ``price_backend``), and ``state_path`` and ``batch_discount`` (batch kinds)."""
    key_env: str | None = None
    """The environment variable holding the API key; ``None``: no key."""
    dummy_key: bool = False
    """An unset key is sent as :data:`DUMMY_KEY` instead of being an error."""
    price_backend: str | None = None
    """The ``backend`` of the price-table entries (``backend:model``) that price
    the teacher's own cost field; ``None``: the teacher has none."""
    batch: bool = False
    """A provider batch API (hours of latency, half price; needs a state directory)."""
    local: bool = False
    """Runs on this machine (no API, no key, no price)."""
    takes_model: bool = True
    """The spec is ``<name>:<model>``; ``False``: it is just ``<name>``."""
    parse_model: Callable[[str, str], tuple[str, str]] | None = None
    """``parse_model(raw, rest)`` -> ``(model, base_url)`` for a kind whose text
    after the colon is more than a model name; raises :class:`SpecError`."""


def _forms() -> str:
    return "; ".join(SPEC_FORMS)


def _url_and_model(raw: str, rest: str) -> tuple[str, str]:
    """``<base_url>@<model>`` -> ``(model, base_url)``."""
    url, at, model = rest.rpartition("@")
    url, model = url.strip(), model.strip()
    if not at or not url or not model:
        raise SpecError(f"model spec {raw!r}: expected openai-compatible:<base_url>@<model>, "
                        "e.g. openai-compatible:http://127.0.0.1:8000/v1@my-model")
    if not url.startswith(("http://", "https://")):
        raise SpecError(f"model spec {raw!r}: the base URL must start with http:// or https://")
    return model, url.rstrip("/")


def parse_spec(spec: str) -> TeacherSpec:
    """Parse a model spec (see the module docstring); raises :class:`SpecError`."""
    raw = (spec or "").strip()
    if raw in BACKENDS and not BACKENDS[raw].takes_model:
        return TeacherSpec(raw, "", raw=raw)
    name, sep, rest = raw.partition(":")
    name = name.strip().lower()
    rest = rest.strip()
    kind = BACKENDS.get(name)
    if not sep or kind is None or not kind.takes_model:
        raise SpecError(f"unknown model spec {raw!r}; use one of: {_forms()}")
    if not rest:
        raise SpecError(f"model spec {raw!r} names no model; use one of: {_forms()}")
    if kind.parse_model is not None:
        model, base_url = kind.parse_model(raw, rest)
        return TeacherSpec(name, model, base_url=base_url, raw=raw)
    return TeacherSpec(name, rest, raw=raw)


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
    if spec.backend.dummy_key:
        return DUMMY_KEY
    raise DataAgentError(f"teacher {spec.raw or spec.kind!r} needs an API key: set the {env} environment variable")


def _price_arguments(prices: PriceTable | None, spec: TeacherSpec) -> dict[str, Any]:
    """``prices`` (``{"input", "output"}`` or ``None``) and, for a batch kind,
    ``batch_discount`` for the backend's own cost field, from the table."""
    p = prices.lookup(f"{spec.backend.price_backend}:{spec.model}") if prices is not None else None
    out: dict[str, Any] = {"prices": {"input": p.input, "output": p.output} if p is not None else None}
    if spec.is_batch:
        out["batch_discount"] = p.batch_discount if p is not None else BatchOptions.batch_discount
    return out


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


# --------------------------------------------------------------------------- builders (backends import lazily)


def _build_symbolic(spec: TeacherSpec, fixed: dict[str, Any], options: dict[str, Any]) -> Any:
    from .symbolic import SymbolicTeacher

    return SymbolicTeacher(**options)


def _build_hf(spec: TeacherSpec, fixed: dict[str, Any], options: dict[str, Any]) -> Any:
    from .hf_backend import HFTeacher

    return HFTeacher(spec.model, **options)


def _build_vllm(spec: TeacherSpec, fixed: dict[str, Any], options: dict[str, Any]) -> Any:
    from .vllm_backend import VLLMTeacher

    return VLLMTeacher(spec.model, **options)


def _build_openai(spec: TeacherSpec, fixed: dict[str, Any], options: dict[str, Any]) -> Any:
    from .openai_backend import OpenAIChatTeacher, OpenAIOptions

    return _construct(OpenAIChatTeacher, spec, {"options": OpenAIOptions}, fixed, options)


def _build_openai_batch(spec: TeacherSpec, fixed: dict[str, Any], options: dict[str, Any]) -> Any:
    from .openai_backend import OpenAIBatchTeacher, OpenAIOptions

    return _construct(OpenAIBatchTeacher, spec, {"options": OpenAIOptions, "batch_options": BatchOptions},
                      fixed, options)


def _build_anthropic(spec: TeacherSpec, fixed: dict[str, Any], options: dict[str, Any]) -> Any:
    from .anthropic_backend import AnthropicOptions, AnthropicTeacher

    return _construct(AnthropicTeacher, spec, {"options": AnthropicOptions}, fixed, options)


def _build_anthropic_batch(spec: TeacherSpec, fixed: dict[str, Any], options: dict[str, Any]) -> Any:
    from .anthropic_backend import AnthropicBatchTeacher, AnthropicOptions

    return _construct(AnthropicBatchTeacher, spec, {"options": AnthropicOptions, "batch_options": BatchOptions},
                      fixed, options)


BACKENDS: dict[str, BackendKind] = {kind.name: kind for kind in (
    BackendKind("symbolic", "symbolic", _build_symbolic, local=True, takes_model=False),
    BackendKind("openai", "openai:<model>", _build_openai, key_env="OPENAI_API_KEY", price_backend="openai"),
    BackendKind("openai-batch", "openai-batch:<model>", _build_openai_batch, key_env="OPENAI_API_KEY",
                price_backend="openai", batch=True),
    BackendKind("anthropic", "anthropic:<model>", _build_anthropic, key_env="ANTHROPIC_API_KEY",
                price_backend="anthropic"),
    BackendKind("anthropic-batch", "anthropic-batch:<model>", _build_anthropic_batch, key_env="ANTHROPIC_API_KEY",
                price_backend="anthropic", batch=True),
    BackendKind("openai-compatible", "openai-compatible:<base_url>@<model>", _build_openai,
                key_env="OPENAI_API_KEY", dummy_key=True, price_backend="openai", parse_model=_url_and_model),
    BackendKind("vllm", "vllm:<model path or name>", _build_vllm, local=True),
    BackendKind("hf", "hf:<model path or name | smollm2-135m | tiny-llama>", _build_hf, local=True),
)}
"""Every kind of model spec, in the order :data:`SPEC_FORMS` lists them."""

SPEC_FORMS: tuple[str, ...] = tuple(kind.form for kind in BACKENDS.values())
"""How each kind of spec is written (for help texts and error messages)."""


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
    kind = s.backend
    fixed: dict[str, Any] = {}
    if kind.key_env is not None:
        fixed["api_key"] = require_key(s)
    if s.base_url is not None:
        fixed["base_url"] = s.base_url
    if kind.price_backend is not None:
        fixed.update(_price_arguments(prices, s))
    if kind.batch:
        if state_dir is None:
            raise DataAgentError(f"teacher {s.raw!r}: a batch teacher needs a state directory")
        fixed["state_path"] = Path(state_dir) / f"{s.kind}-batches.json"
    return kind.build(s, fixed, options)
