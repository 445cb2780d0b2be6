"""Teacher specs -> a teacher session the loop can use.

A session bundles what generation needs from a teacher: ``call`` (answer a
list of requests), ``build`` (a request for one topic/difficulty/attempt),
``topics`` (what it can write about) and live usage counters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...domain import Domain
from ...plan import TopicInfo
from ..teachers.base import TeacherRequest, TeacherResponse
from .budget import CostMeter
from ..generate import symbolic_request_builder


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


def make_teacher_session(spec: str, domain: Domain, run_dir: Path, teachers: Any = None):
    """The session for a teacher spec: ``symbolic`` -> :class:`SymbolicSession`;
    any other spec (``openai:...``, ``hf:...``, see
    :mod:`data_agent.generators.teachers.specs`) -> an
    :class:`~data_agent.generators.engine.llm_session.LLMSession` configured from
    ``teachers`` (a :class:`data_agent.config.TeacherConfig`). A malformed spec or
    a missing API key raises :class:`DataAgentError`."""
    if spec == "symbolic":
        return SymbolicSession(domain, run_dir)
    from ..teachers.prices import PriceTable
    from .budget import Budget
    from .llm_session import LLMSession, default_runner_config
    from ..teachers.specs import parse_spec

    if teachers is None:
        return LLMSession(spec, domain, run_dir)
    rc = default_runner_config(parse_spec(spec))
    rc.max_concurrency = teachers.max_concurrency
    rc.requests_per_minute = teachers.requests_per_minute
    rc.tokens_per_minute = teachers.tokens_per_minute
    rc.max_retries = teachers.max_retries
    if rc.timeout is not None:
        rc.timeout = teachers.timeout
    if rc.max_reasks:  # local models keep 0: a small model rarely fixes a garbled reply
        rc.max_reasks = teachers.max_reasks
    rc.use_cache = teachers.use_cache
    budget = Budget(max_calls=teachers.max_calls, max_tokens=teachers.max_total_tokens,
                    max_dollars=teachers.max_dollars, iteration_max_calls=teachers.iteration_max_calls,
                    iteration_max_tokens=teachers.iteration_max_tokens,
                    iteration_max_dollars=teachers.iteration_max_dollars)
    return LLMSession(spec, domain, run_dir, runner_config=rc, budget=budget, cache_dir=teachers.cache_dir,
                      use_cache=teachers.use_cache, prices=PriceTable.load(teachers.prices),
                      temperature=teachers.temperature, max_tokens=teachers.max_tokens)
