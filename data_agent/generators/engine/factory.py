"""Teacher specs -> a teacher session the loop can use.

A session bundles what generation needs from a teacher: ``call`` (answer a
list of requests), ``build`` (a request for one topic/difficulty/attempt),
``topics`` (what it can write about) and live usage counters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...domain import Domain
from .symbolic_session import SymbolicSession


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
