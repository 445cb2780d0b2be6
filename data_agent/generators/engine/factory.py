"""Teacher specs -> a teacher session the loop can use.

A session bundles what generation needs from a teacher: ``call`` (answer a
list of requests), ``build`` (a request for one topic/difficulty/attempt),
``topics`` (what it can write about) and live usage counters. LLM sessions get
their runner from the one client factory (:mod:`~data_agent.generators.engine.client`).
"""

from __future__ import annotations

from pathlib import Path

from ...config import BudgetSettings, TeacherConfig
from ...domain import Domain
from ..teachers.prices import PriceTable
from .budget import Budget
from .client import default_runner_config, values_of
from .symbolic_session import SymbolicSession


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
                      budget=Budget(**values_of(BudgetSettings, teachers)), cache_dir=teachers.cache_dir,
                      use_cache=teachers.use_cache, prices=PriceTable.load(teachers.prices),
                      temperature=teachers.temperature, max_tokens=teachers.max_tokens, verify=teachers.verify)
