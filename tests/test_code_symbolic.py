"""The code library: every family at every difficulty, outputs re-checked by a separate run, records valid."""

from __future__ import annotations

import ast
import asyncio
import json
import subprocess
import sys

import pytest

from data_agent.domain import load_domain
from data_agent.generators import symbolic
from data_agent.generators.symbolic import generate, templates_for, topics
from data_agent.generators.symbolic.code import base as code_base
from data_agent.generators.teachers.base import TeacherRequest
from data_agent.generators.teachers.symbolic import SymbolicTeacher
from data_agent.records import Record
from data_agent.validators import InjectionValidator, LengthValidator, default_pipeline
from data_agent.validators.sandbox import SandboxResult

DOMAIN = load_domain("code")
TASK = DOMAIN.task
NAMES = [t.name for t in templates_for(domain="code")]
SEEDS = (0, 1, 2)

_RUNNER = r"""
import json, sys
jobs = json.loads(sys.stdin.read())
out = []
for code, call in jobs:
    ns = {}
    exec(code, ns)
    out.append(repr(eval(call, ns)))
print(json.dumps(out))
"""


def _problems() -> list:
    return [generate(n, s, d) for n in NAMES for d in (1, 2, 3) for s in SEEDS]


@pytest.fixture(scope="module")
def problems() -> list:
    return _problems()


def test_the_library_is_large_enough_and_grouped_into_topics() -> None:
    assert len(NAMES) >= 30
    tops = topics("code")
    assert {"string_methods", "list_ops", "dict_ops", "arithmetic", "loops_conditionals", "sorting",
            "comprehension"} <= set(tops)
    assert symbolic.library("code").task_kind == "python_literal"
    # the pack's skills are the library's topics
    assert set(DOMAIN.skills()) == set(tops)


def test_outputs_agree_with_an_independent_run(problems) -> None:
    """Each record's answer equals what a separate interpreter (one process for all) returns."""
    jobs = [[p.params["code"], p.params["call"]] for p in problems]
    cp = subprocess.run([sys.executable, "-c", _RUNNER], input=json.dumps(jobs), capture_output=True, text=True,
                        timeout=120, env={"PYTHONHASHSEED": "0"})
    assert cp.returncode == 0, cp.stderr[-2000:]
    reprs = json.loads(cp.stdout)
    for p, r in zip(problems, reprs):
        assert ast.literal_eval(p.answer) == ast.literal_eval(r), (p.template, p.difficulty, p.answer, r)


def test_problem_text_solution_and_answer(problems) -> None:
    for p in problems:
        assert p.problem == TASK.item({"id": "x", "code": p.params["code"], "input": p.params["call"][2:-1],
                                       "output": p.answer}).input
        assert p.params["code"].startswith("def f(")
        assert p.solution.endswith(TASK.final_line(p.answer))
        assert TASK.final_line_error(p.solution) == "", (p.template, p.solution)
        assert TASK.extract(p.solution) == p.answer
        assert len(p.solution.splitlines()) >= 3  # the call, at least one step, the value, the answer line
    # higher levels write longer functions (on average over the seeds)
    by_level = {d: [len(p.params["code"].splitlines()) for p in problems if p.difficulty == d] for d in (1, 2, 3)}
    mean = {d: sum(v) / len(v) for d, v in by_level.items()}
    assert mean[1] < mean[2] < mean[3], mean


def test_generation_is_deterministic() -> None:
    for n in NAMES[::5]:
        assert generate(n, 7, 2) == generate(n, 7, 2)
    assert len({generate(NAMES[0], s, 3).problem for s in range(5)}) > 1


def test_records_pass_the_validators(problems) -> None:
    checks = [LengthValidator(TASK.limits), InjectionValidator(), *TASK.validators()]
    pipe = default_pipeline(DOMAIN)
    accepted = 0
    for p in problems:
        doc = symbolic.TEMPLATES[p.template].library.document(p)
        assert TASK.check_document(doc) == ""
        inp, out, known = TASK.record_fields(doc)
        rec = Record(instruction=DOMAIN.instruction, input=inp, output=out, answer=known)
        for v in checks:
            verdict = v.check(rec)
            assert verdict.ok, (p.template, v.name, verdict.reason)
        accepted += pipe.check(rec).ok
    # the full pipeline adds dedup and decontamination; nearly every record passes them. Near-duplicates
    # are another matter: the sweep asks each template for several seeds at one difficulty, and two
    # functions of one template that differ in one constant share most word 3-grams.
    near = pipe.rejections["near_duplicate"]
    assert accepted + near >= 0.9 * len(problems), pipe.summary()
    assert near <= 0.2 * len(problems), pipe.summary()


def test_a_sandbox_failure_becomes_a_request_error_and_generation_goes_on(monkeypatch) -> None:
    real = code_base.run_python
    broken = "list_rotate"

    def flaky(code: str, call: str, **kw) -> SandboxResult:
        if "nums[k:] + nums[:k]" in code:
            return SandboxResult("timeout", error="timeout: still running after 5 s (killed)")
        return real(code, call, **kw)

    monkeypatch.setattr(code_base, "run_python", flaky)
    monkeypatch.setattr(code_base, "_RESULTS", {})
    names = ["str_slicing", broken, "dict_invert"]
    reqs = [TeacherRequest(messages=({"role": "user", "content": n},), metadata={"template": n, "seed": 3,
                                                                                 "difficulty": 2})
            for n in names]
    replies = asyncio.run(SymbolicTeacher().generate(reqs))
    assert [r.error is None for r in replies] == [True, False, True]
    assert "sandboxed run failed" in replies[1].error and "timeout" in replies[1].error
    assert TASK.extract(replies[2].parsed["solution"]) == replies[2].parsed["answer"]


def test_a_template_that_disagrees_with_the_sandbox_is_an_error(monkeypatch) -> None:
    monkeypatch.setattr(code_base, "run_python", lambda code, call, **kw: SandboxResult("ok", value="'not it'"))
    monkeypatch.setattr(code_base, "_RESULTS", {})
    with pytest.raises(RuntimeError, match="the sandbox returned 'not it'"):
        generate("str_slicing", 1, 1)


def test_a_run_goes_on_when_sandboxed_runs_fail(monkeypatch, tmp_path) -> None:
    """Through the generation loop: every list_rotate function times out in the
    sandbox (as an endless loop would), yet the plan still gets all its valid
    records, from the topic's other families; the failures are rejected, with
    the sandbox's reason, in the pool."""
    from data_agent.generators.engine.symbolic_session import SymbolicSession
    from data_agent.generators.generate import generate_for_plan
    from data_agent.plan import Allocation, Plan
    from data_agent.records import read_pool

    real = code_base.run_python
    timed_out = []

    def flaky(code: str, call: str, **kw) -> SandboxResult:
        if "nums[k:] + nums[:k]" in code:
            timed_out.append(call)
            return SandboxResult("timeout", error="timeout: still running after 5 s (killed)")
        return real(code, call, **kw)

    monkeypatch.setattr(code_base, "run_python", flaky)
    monkeypatch.setattr(code_base, "_RESULTS", {})
    session = SymbolicSession(DOMAIN)
    plan = Plan(iteration=1, n_records=12, teacher="symbolic", rationale="test",
                allocations=[Allocation(topic="list_ops", count=12, difficulty=2)])
    pool = tmp_path / "pool.jsonl"
    res = generate_for_plan(plan, DOMAIN, teacher_name="symbolic", call=session.call, build=session.build,
                            pipeline=default_pipeline(DOMAIN), pool_path=pool, run_seed=0, max_requests=60)
    assert len(res.records) == 12 and timed_out
    assert not any("nums[k:] + nums[:k]" in r.input for r in res.records)
    rejected = [r for r in read_pool(pool) if not r.accepted]
    reasons = [json.dumps(r.verdicts) for r in rejected]
    assert len(rejected) >= len(timed_out) and any("timeout" in why for why in reasons), reasons[:3]
