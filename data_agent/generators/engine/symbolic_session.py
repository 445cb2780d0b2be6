"""The session of the offline symbolic teacher (``--teacher symbolic``).

It writes the problems of the domain's template library
(:mod:`data_agent.generators.symbolic`) and reports that library's topics; a
domain without a library is a one-line error naming the domains that have one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ...domain import Domain
from ...errors import DataAgentError
from ...plan import TopicInfo
from ...tasks import Task
from ..teachers.base import RequestBuilder, SamplingParams, TeacherRequest, TeacherResponse
from ..teachers.sanitise import sanitise_response
from .budget import CostMeter

__all__ = ["SymbolicSession", "symbolic_request_builder", "symbolic_topics"]


def symbolic_topics(domain: str) -> dict[str, TopicInfo]:
    """The topics of ``domain``'s template library (subject and evaluation sources
    per topic): what the symbolic teacher writes."""
    from .. import symbolic

    out: dict[str, TopicInfo] = {}
    for topic, names in sorted(symbolic.topics(domain).items()):
        ts = [symbolic.TEMPLATES[n] for n in names]
        out[topic] = TopicInfo(subject=ts[0].subject, sources=sorted({s for t in ts for s in t.sources}),
                               description=f"{len(ts)} symbolic template(s): {', '.join(sorted(names))}")
    return out


def symbolic_request_builder(templates_for_topic: Callable[[str], list[str]], task: Task) -> RequestBuilder:
    """Requests for the symbolic teacher: the template, seed and difficulty travel
    in the metadata (and in the cache key)."""

    def build(topic: str, difficulty: int, attempt: int, seed: int, iteration: int) -> TeacherRequest:
        names = templates_for_topic(topic)
        if not names:
            raise DataAgentError(f"the symbolic teacher has no template for topic {topic!r}")
        template = names[attempt % len(names)]
        meta = {"template": template, "seed": seed, "difficulty": difficulty, "topic": topic, "attempt": attempt}
        msg = f"symbolic problem: template={template} seed={seed} difficulty={difficulty}"
        return TeacherRequest(messages=({"role": "user", "content": msg},), params=SamplingParams(temperature=0.0),
                              json_schema=task.problem_schema, metadata=meta, key_extra=msg)

    return build


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

        lib = symbolic.library(domain.name)
        if lib is None:
            known = ", ".join(sorted(symbolic.LIBRARIES)) or "none"
            raise DataAgentError(f"the symbolic teacher has no template library for domain {domain.name!r} "
                                 f"(it has: {known}); use an LLM teacher (--teacher, e.g. openai:<model> or hf:<model>)")
        if lib.task_kind != domain.task.kind:
            raise DataAgentError(f"the symbolic {lib.domain} library writes {lib.task_kind} answers, but the pack "
                                 f"{domain.path} scores {domain.task.kind}")
        self.domain = domain.name
        self.teacher = SymbolicTeacher()
        self.meter = CostMeter(Path(run_dir) / "teacher" / "meter.json" if run_dir is not None else None)
        self.build = symbolic_request_builder(
            lambda topic: [t.name for t in symbolic.templates_for(topic=topic, domain=domain.name)], domain.task)

    async def call(self, requests: list[TeacherRequest]) -> list[TeacherResponse]:
        self.meter.record_requests(len(requests))
        try:
            return [sanitise_response(r) for r in await self.teacher.generate(requests)]
        finally:
            self.meter.save()

    def topics(self) -> dict[str, TopicInfo]:
        """The library's own topics (not the pack's skills: it can write only these)."""
        return symbolic_topics(self.domain)

    def note(self) -> str:
        return f"{self.meter.total.requests} requests so far"

    def usage(self) -> dict[str, Any]:
        """Run totals and the current iteration's counts (no tokens or dollars: nothing is billed)."""
        return {"teacher": "symbolic", "requests": self.meter.total.requests, "tokens": 0, "dollars": 0.0,
                "iteration": self.meter.iteration.to_dict()}

    def close(self) -> None:
        self.meter.save()
