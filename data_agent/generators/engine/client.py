"""The one client factory behind every LLM caller.

:class:`TeacherClient` assembles what calls a model: the teacher (wrapped in
:class:`ContentTolerantTeacher` when online), the response cache, the cost
meter, the budget and the :class:`~data_agent.generators.engine.runner.TeacherRunner`.
Teacher sessions (:class:`~data_agent.generators.engine.llm_session.LLMSession`)
and the LLM engineer both get theirs from it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...config import RunnerSettings, TeacherConfig, home_dir
from ..teachers.base import RetryableError, TeacherRequest, TeacherResponse
from ..teachers.prices import ModelPrice, PriceTable
from .budget import Budget, CostMeter
from .cache import ResponseCache
from .runner import RunnerConfig, TeacherRunner

if TYPE_CHECKING:
    from ..teachers.specs import TeacherSpec

__all__ = ["ContentTolerantTeacher", "TeacherClient", "default_runner_config", "is_content_error", "values_of"]


_CONTENT_PHRASES = ("not valid JSON", "violates the schema", "output truncated", "empty reply", "no choices")


def is_content_error(exc: BaseException) -> bool:
    """A retryable failure caused by the reply's content (the server answered,
    billed, but the text is not a valid document), not by the transport."""
    if not isinstance(exc, RetryableError) or exc.status is not None:
        return False
    billed = exc.usage.total_tokens > 0 or float(getattr(exc, "cost", 0.0) or 0.0) > 0
    return billed or any(p in str(exc) for p in _CONTENT_PHRASES)


class ContentTolerantTeacher:
    """Wraps an online teacher so that a garbled reply comes back as a (billed)
    response instead of a retryable error.

    The backends raise ``RetryableError`` for invalid JSON; the runner would
    retry it as is, with exponential backoff, and count it towards the circuit
    breaker, so a model that garbles some prompts every time would stall the
    run and trip the breaker. As a response, the runner's structured-output
    check re-asks it with the problem stated (bounded by ``max_reasks``), then
    returns an error response: a counted rejection downstream. Transport
    failures (429, 5xx, timeouts) are untouched. ``backend`` and ``model`` are
    the wrapped teacher's, so cache keys do not change.
    """

    def __init__(self, inner: Any):
        self.inner = inner
        self.backend = inner.backend
        self.model = inner.model

    def __repr__(self) -> str:
        return f"ContentTolerantTeacher({self.inner!r})"

    async def generate_one(self, request: TeacherRequest) -> TeacherResponse:
        try:
            return await self.inner.generate_one(request)
        except RetryableError as e:
            if not is_content_error(e):
                raise
            truncated = "truncated" in str(e)
            return TeacherResponse(text="", usage=e.usage, cost=float(getattr(e, "cost", 0.0) or 0.0),
                                   finish_reason="length" if truncated else "stop", model=self.model,
                                   metadata={"content_error": str(e)[:300]})

    async def aclose(self) -> None:
        aclose = getattr(self.inner, "aclose", None)
        if aclose is not None:
            await aclose()



_LOCAL_RUNNER: dict[str, dict[str, Any]] = {"hf": {"max_reasks": 0, "timeout": None}, "vllm": {"timeout": None}}
"""Runner settings that local teachers keep, whatever the configuration says:
no timeout (a call may have to load the model first), and no re-asks of a
transformers model (a small model rarely fixes a garbled reply; it becomes a
counted rejection instead)."""


def values_of(section: type, obj: Any) -> dict[str, Any]:
    """``obj``'s values of the fields of the dataclass ``section``."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(section)}


def default_runner_config(spec: TeacherSpec, teachers: TeacherConfig | None = None) -> RunnerConfig:
    """The runner settings of ``teachers`` (the defaults if ``None``) for the kind
    of teacher ``spec`` names: its values of the :class:`RunnerSettings` fields,
    with the settings local teachers keep (:data:`_LOCAL_RUNNER`)."""
    values = values_of(RunnerSettings, teachers if teachers is not None else TeacherConfig())
    return RunnerConfig(**{**values, **_LOCAL_RUNNER.get(spec.kind, {})})


class TeacherClient:
    """A model spec with everything the runner needs around it.

    Args:
        spec: a parsed model spec (not ``symbolic``).
        config: the runner settings (its ``use_cache`` is turned off when ``use_cache`` is false).
        meter_path: the JSON file of the cost meter, so that the next process
            continues its counts; kept in memory if ``None``.
        budget: spending limits (unlimited if ``None``).
        cache_dir: folder of ``teacher.sqlite`` (default ``$DATA_AGENT_HOME/cache``).
        use_cache: look up and store responses in the response cache.
        prices: price table (``PriceTable.load()`` if ``None``); a local model costs no dollars.
    """

    def __init__(self, spec: TeacherSpec, config: RunnerConfig, *, meter_path: str | Path | None = None,
                 budget: Budget | None = None, cache_dir: str | Path | None = None, use_cache: bool = True,
                 prices: PriceTable | None = None):
        self.spec = spec
        self.config = config if use_cache else dataclasses.replace(config, use_cache=False)
        self.prices = prices if prices is not None else PriceTable.load()
        if spec.is_local:  # a local model costs no dollars (and needs no price warning)
            self.prices = PriceTable(dict(self.prices.prices))
            self.prices.prices.setdefault(f"{spec.kind}:*", ModelPrice(0.0, 0.0))
        self.cache: ResponseCache | None = None
        if use_cache:
            self.cache = ResponseCache(Path(cache_dir if cache_dir is not None else home_dir() / "cache")
                                       / "teacher.sqlite")
        self.meter = CostMeter(meter_path)
        self.wire_audit: Any = None
        """Checks every request before it is sent (set by the loop: :mod:`data_agent.generators.engine.wire_audit`)."""
        self.budget = budget or Budget()

    def build_teacher(self, **options: Any) -> Any:
        """The spec's backend, built with this client's prices and ``options``
        (backend constructor arguments, e.g. ``state_dir``, ``timeout``), as
        :meth:`wrap` returns it."""
        from ..teachers.specs import build_teacher

        return self.wrap(build_teacher(self.spec, prices=self.prices, **options))

    @staticmethod
    def wrap(teacher: Any) -> Any:
        """``teacher`` as the runner drives it: an online one is wrapped in
        ``ContentTolerantTeacher``, so that a garbled reply is re-asked instead of
        retried as a transport failure."""
        if not getattr(teacher, "is_batch", False) and callable(getattr(teacher, "generate_one", None)):
            return ContentTolerantTeacher(teacher)
        return teacher

    def runner(self, teacher: Any) -> TeacherRunner:
        """The runner of ``teacher`` with this client's settings, cache, budget, meter and prices."""
        return TeacherRunner(teacher, self.config, self.cache, self.budget, self.meter, prices=self.prices,
                             wire_audit=self.wire_audit)

    def close(self) -> None:
        """Save the meter and close the cache."""
        self.meter.save()
        if self.cache is not None:
            self.cache.close()
            self.cache = None
