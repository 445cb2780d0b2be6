"""Teacher specs -> a teacher session the loop can use, and the one client
factory behind every LLM caller.

A session bundles what generation needs from a teacher: ``call`` (answer a
list of requests), ``build`` (a request for one topic/difficulty/attempt),
``topics`` (what it can write about) and live usage counters.

:class:`TeacherClient` assembles what calls a model: the teacher (wrapped in
:class:`~data_agent.generators.engine.llm_session.ContentTolerantTeacher` when
online), the response cache, the cost meter, the budget and the
:class:`~data_agent.generators.engine.runner.TeacherRunner`. Teacher sessions
and the LLM engineer both get theirs from it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...config import BudgetSettings, RunnerSettings, TeacherConfig, home_dir
from ...domain import Domain
from ...plan import TopicInfo
from ..teachers.base import TeacherRequest, TeacherResponse
from .budget import Budget, CostMeter, ModelPrice, PriceTable
from .cache import ResponseCache
from .runner import RunnerConfig, TeacherRunner
from ..generate import symbolic_request_builder

if TYPE_CHECKING:
    from ..teachers.specs import TeacherSpec


def symbolic_topics() -> dict[str, TopicInfo]:
    """The topic list of the symbolic library (subject and SciBench sources per
    topic): what the symbolic teacher writes, and what LLM teachers are asked for."""
    from .. import symbolic

    out: dict[str, TopicInfo] = {}
    for topic, names in sorted(symbolic.topics().items()):
        ts = [symbolic.TEMPLATES[n] for n in names]
        out[topic] = TopicInfo(subject=ts[0].subject, sources=sorted({s for t in ts for s in t.sources}))
    return out


class SymbolicSession:
    """The offline default: sympy-computed problems with exact answers.

    Requests are counted like an LLM session's, in a
    :class:`~data_agent.generators.engine.budget.CostMeter` kept in
    ``run_dir/teacher/meter.json`` (in memory without ``run_dir``), so a
    resumed run's counts continue where they stopped.
    """

    def __init__(self, domain: Domain, run_dir: Path | None = None):
        from .. import symbolic
        from ..teachers.symbolic import SymbolicTeacher

        self.teacher = SymbolicTeacher()
        self.meter = CostMeter(Path(run_dir) / "teacher" / "meter.json" if run_dir is not None else None)
        self.build = symbolic_request_builder(lambda topic: [t.name for t in symbolic.templates_for(topic=topic)])

    async def call(self, requests: list[TeacherRequest]) -> list[TeacherResponse]:
        self.meter.record_requests(len(requests))
        try:
            return await self.teacher.generate(requests)
        finally:
            self.meter.save()

    def topics(self) -> dict[str, TopicInfo]:
        return symbolic_topics()

    def note(self) -> str:
        return f"{self.meter.total.requests} requests so far"

    def usage(self) -> dict[str, Any]:
        """Run totals and the current iteration's counts (no tokens or dollars: nothing is billed)."""
        return {"teacher": "symbolic", "requests": self.meter.total.requests, "tokens": 0, "dollars": 0.0,
                "iteration": self.meter.iteration.to_dict()}

    def close(self) -> None:
        self.meter.save()


_LOCAL_RUNNER: dict[str, dict[str, Any]] = {"hf": {"max_reasks": 0, "timeout": None}, "vllm": {"timeout": None}}
"""Runner settings that local teachers keep, whatever the configuration says:
no timeout (a call may have to load the model first), and no re-asks of a
transformers model (a small model rarely fixes a garbled reply; it becomes a
counted rejection instead)."""


def _values(section: type, obj: Any) -> dict[str, Any]:
    """``obj``'s values of the fields of the dataclass ``section``."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(section)}


def default_runner_config(spec: TeacherSpec, teachers: TeacherConfig | None = None) -> RunnerConfig:
    """The runner settings of ``teachers`` (the defaults if ``None``) for the kind
    of teacher ``spec`` names: its values of the :class:`RunnerSettings` fields,
    with the settings local teachers keep (:data:`_LOCAL_RUNNER`)."""
    values = _values(RunnerSettings, teachers if teachers is not None else TeacherConfig())
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
        from .llm_session import ContentTolerantTeacher

        if not getattr(teacher, "is_batch", False) and callable(getattr(teacher, "generate_one", None)):
            return ContentTolerantTeacher(teacher)
        return teacher

    def runner(self, teacher: Any) -> TeacherRunner:
        """The runner of ``teacher`` with this client's settings, cache, budget, meter and prices."""
        return TeacherRunner(teacher, self.config, self.cache, self.budget, self.meter, prices=self.prices)

    def close(self) -> None:
        """Save the meter and close the cache."""
        self.meter.save()
        if self.cache is not None:
            self.cache.close()
            self.cache = None


def make_teacher_session(spec: str, domain: Domain, run_dir: Path, teachers: TeacherConfig | None = None):
    """The session for a teacher spec: ``symbolic`` -> :class:`SymbolicSession`;
    any other spec (``openai:...``, ``hf:...``, see
    :mod:`data_agent.generators.teachers.specs`) -> an
    :class:`~data_agent.generators.engine.llm_session.LLMSession` configured from
    ``teachers`` (the defaults if ``None``): its runner settings, budgets,
    cache, prices and request settings. A malformed spec or a missing API key
    raises :class:`DataAgentError`."""
    if spec == "symbolic":
        return SymbolicSession(domain, run_dir)
    from .llm_session import LLMSession
    from ..teachers.specs import parse_spec

    teachers = teachers if teachers is not None else TeacherConfig()
    return LLMSession(spec, domain, run_dir, runner_config=default_runner_config(parse_spec(spec), teachers),
                      budget=Budget(**_values(BudgetSettings, teachers)), cache_dir=teachers.cache_dir,
                      use_cache=teachers.use_cache, prices=PriceTable.load(teachers.prices),
                      temperature=teachers.temperature, max_tokens=teachers.max_tokens)
