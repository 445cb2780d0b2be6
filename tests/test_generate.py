"""From a plan to exactly N valid records: top-up, shortfall moves, the request budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data_agent.domain import load_domain
from data_agent.plan import Allocation, Plan
from data_agent.tasks.boxed_numeric import PROBLEM_SCHEMA
from data_agent.generators.teachers.base import SamplingParams, TeacherRequest, TeacherResponse
from data_agent.generators.generate import QuantityError, generate_for_plan
from data_agent.records import read_pool
from data_agent.validators import default_pipeline


def _build(topic: str, difficulty: int, attempt: int, seed: int, iteration: int) -> TeacherRequest:
    return TeacherRequest(messages=({"role": "user", "content": f"{topic} {attempt}"},),
                          params=SamplingParams(), json_schema=PROBLEM_SCHEMA,
                          metadata={"topic": topic, "attempt": attempt})


def _teacher(good):
    """A teacher whose reply to (topic, attempt) is a valid problem when
    ``good(topic, attempt)``, else garbled JSON."""
    calls: list[tuple[str, int]] = []

    async def call(requests: list[TeacherRequest]) -> list[TeacherResponse]:
        out = []
        for r in requests:
            topic, attempt = r.metadata["topic"], r.metadata["attempt"]
            calls.append((topic, attempt))
            if good(topic, attempt):
                x = 10 + attempt + 100 * len(topic)
                doc = {"problem": f"A {topic} sample number {attempt} has a mass of {x} g. What is its mass?",
                       "unit": "g", "solution": f"It is given: {x} g. The answer is therefore \\boxed{{{x:.3f}}}.",
                       "answer": x}
                out.append(TeacherResponse(text=json.dumps(doc), parsed=doc))
            else:
                out.append(TeacherResponse(text='{"problem": "cut', finish_reason="length",
                                           error="InvalidOutput: truncated"))
        return out

    return call, calls


def _plan(*allocs: tuple[str, int]) -> Plan:
    return Plan(iteration=1, n_records=sum(c for _, c in allocs), teacher="t",
                allocations=[Allocation(topic=t, count=c, difficulty=2) for t, c in allocs], rationale="test")


def test_surplus_of_one_topic_covers_a_topic_that_keeps_failing(tmp_path: Path) -> None:
    """Topic 'a' never yields; topic 'bb' over-delivers (its first reply fails,
    so its top-up asks for more than it is short). When 'a' is given up, its
    shortfall moves to 'bb', whose surplus already covers it: generation ends
    with exactly N records instead of reporting a shortage."""
    domain = load_domain("science")
    call, calls = _teacher(lambda topic, attempt: topic == "bb" and attempt > 0)
    res = generate_for_plan(_plan(("a", 1), ("bb", 2)), domain, teacher_name="t", call=call, build=_build,
                            pipeline=default_pipeline(domain), pool_path=tmp_path / "pool.jsonl", run_seed=0,
                            max_requests=100)
    assert len(res.records) == 3 and all(r.topic == "bb" for r in res.records)
    assert any("moved to other topics" in n for n in res.notes)
    assert res.requests == len(calls) == len(read_pool(tmp_path / "pool.jsonl"))


def test_request_budget_runs_out_with_a_clear_error(tmp_path: Path) -> None:
    domain = load_domain("science")
    call, calls = _teacher(lambda topic, attempt: False)
    with pytest.raises(QuantityError, match="only 0 of 2 valid records after 5 teacher requests"):
        generate_for_plan(_plan(("a", 1), ("bb", 1)), domain, teacher_name="t", call=call, build=_build,
                          pipeline=default_pipeline(domain), pool_path=tmp_path / "pool.jsonl", run_seed=0,
                          max_requests=5)
    assert len(calls) == 5 and len(read_pool(tmp_path / "pool.jsonl")) == 5  # everything asked is kept


def test_a_plan_that_over_generates_asks_for_more_and_keeps_its_count_with_its_policy(tmp_path: Path) -> None:
    """``selection.overgenerate`` 2: twice each count of valid records is
    generated and stored in the pool; the policy keeps the count. Within a
    request budget that cannot pay for the surplus, the shortfall is a note,
    not an error."""
    domain = load_domain("science")
    call, calls = _teacher(lambda topic, attempt: True)
    plan = _plan(("a", 3), ("bb", 2))
    plan.selection = {"policy": "random", "overgenerate": 2}
    res = generate_for_plan(plan, domain, teacher_name="t", call=call, build=_build,
                            pipeline=default_pipeline(domain), pool_path=tmp_path / "pool.jsonl", run_seed=0,
                            max_requests=40)
    pool = read_pool(tmp_path / "pool.jsonl")
    assert len(res.records) == 5 and sum(r.accepted for r in pool) == 10 and len(calls) == 10
    assert res.selection["policy"] == "random" and res.selection["accepted"] == 10 and res.selection["kept"] == 5
    assert sorted(r.topic for r in res.records) == ["a", "a", "a", "bb", "bb"]
    # the same plan with budget for only 7 requests: 5 kept of 7, and a note
    call, calls = _teacher(lambda topic, attempt: True)
    res = generate_for_plan(plan, domain, teacher_name="t", call=call, build=_build,
                            pipeline=default_pipeline(domain), pool_path=tmp_path / "pool2.jsonl", run_seed=0,
                            max_requests=7)
    assert len(res.records) == 5 and len(calls) == 7
    assert any("over-generation x2: 7 of 10" in n for n in res.notes)
