"""Verified answers: the teacher's computation recomputed (sympy without eval, Python in the sandbox), the
code task's own program run, self-consistency voting; and what each record's lineage says about it."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from data_agent.domain import load_domain
from data_agent.records import Record, read_pool
from data_agent.tasks import get_task
from data_agent.validators import Pipeline, default_pipeline
from data_agent.validators.verify import (ComputationError, ComputationValidator, SelfConsistencyValidator,
                                          evaluate_expression)


@pytest.mark.parametrize("expr, value", [
    ("2 + 2", 4.0), ("3*sqrt(2)", 3 * 2 ** 0.5), ("2^10", 1024.0), ("log(8, 2)", 3.0), ("exp(1) - E", 0.0),
    ("sin(pi/6)", 0.5), ("-(7 // 2) + 7 % 2", -2.0), ("binomial(10, 3) / factorial(3)", 20.0),
    ("1.5e3 * 2", 3000.0), ("max(1, 4, 2) - abs(-3)", 1.0), ("Rational(1, 3) * 3", 1.0), ("atan2(1, 1)*4", 3.14159265),
])
def test_expressions_evaluate_to_their_value(expr, value):
    assert evaluate_expression(expr) == pytest.approx(value, rel=1e-7, abs=1e-12)


@pytest.mark.parametrize("expr, why", [
    ("x + 1", "unknown name 'x'"), ("__import__('os')", "function '__import__' is not allowed"),
    ("__import__('os').system('true')", "calling Attribute is not allowed"),
    ("(1).__class__", "Attribute is not allowed"), ("(lambda: 1)()", "not allowed"), ("9**9**9", "exponent"),
    ("factorial(10**6)", "factorial argument"), ("'a' * 3", "is not a number"), ("sqrt(-1)", "not a finite real"),
    ("1/0", "division by zero"), ("[1, 2]", "List is not allowed"), ("2 +", "not an expression"),
    ("log(0)", "not a finite real"), ("1 if 1 else 2", "IfExp is not allowed"), ("", "empty expression"),
    ("sqrt(2, 3)", "sqrt takes 1 argument"), ("round(2.5)", "function 'round' is not allowed"),
])
def test_anything_but_arithmetic_is_refused_quickly(expr, why):
    t0 = time.perf_counter()
    with pytest.raises(ComputationError, match=re.escape(why)):
        evaluate_expression(expr)
    assert time.perf_counter() - t0 < 2.0


def _science_record(answer: float, **computation) -> Record:
    return Record(instruction="i", input="A body of 2 kg gets 2 J more. What is its energy in J?",
                  output=f"So it is {answer:.3f} J.\nThe answer is therefore \\boxed{{{answer:.3f}}}.", id="r1",
                  answer=answer, computation=computation or None)


def test_a_computation_that_disagrees_with_the_answer_rejects_the_record_with_that_reason():
    v = ComputationValidator(get_task("boxed_numeric"))
    rec = _science_record(5.0, sympy="2 + 2")
    verdict = v.check(rec)
    assert not verdict.ok and verdict.kind == "disagrees with its computation"
    assert verdict.reason == "verification: the sympy computation gives 4, but the answer is 5"
    assert rec.verification == {"status": "failed", "method": "sympy", "value": 4.0}
    rec = _science_record(4.0, sympy="2 + 2", python="answer = 2 * 2")
    assert v.check(rec).ok and rec.verification["status"] == "verified" and rec.verification["method"] == "sympy+python"
    rec = _science_record(4.0, sympy="2 + 2", python="answer = 5")  # every computation given must agree
    assert "the python computation gives 5" in v.check(rec).reason
    rec = _science_record(4.0)
    assert v.check(rec).ok and rec.verification["status"] == "unverified"
    strict = ComputationValidator(get_task("boxed_numeric"), required=True)
    verdict = strict.check(_science_record(4.0))
    assert not verdict.ok and "verification is required" in verdict.reason
    # the symbolic teacher's exact answers are verified already: nothing is recomputed
    rec = _science_record(4.0, sympy="1")
    rec.verification = {"status": "verified", "method": "symbolic"}
    assert v.check(rec).ok


def test_snippets_that_loop_allocate_or_open_a_socket_are_stopped_and_the_run_goes_on():
    task = get_task("boxed_numeric")
    snippets = {
        "loop": "while True:\n    pass\nanswer = 4",
        "good1": "answer = 2 + 2",
        "memory": "x = [0] * (10 ** 10)\nanswer = 4",
        "socket": "import socket\nsocket.create_connection(('127.0.0.1', 9))\nanswer = 4",
        "good2": "import math\nanswer = math.sqrt(16)",
        "write": "open('/tmp/outside-the-sandbox', 'w').write('x')\nanswer = 4",
    }
    pipe = Pipeline([ComputationValidator(task, timeout_s=2.0, memory_mb=128)])
    t0 = time.perf_counter()
    verdicts = {}
    for name, code in snippets.items():
        rec = _science_record(4.0, python=code)
        verdicts[name] = (pipe.check(rec), rec.verification)
    assert time.perf_counter() - t0 < 30
    assert verdicts["good1"][0].ok and verdicts["good2"][0].ok and pipe.accepted == 2
    assert "(timeout" in verdicts["loop"][0].reason
    assert "(memory" in verdicts["memory"][0].reason
    assert "(forbidden" in verdicts["socket"][0].reason and "(forbidden" in verdicts["write"][0].reason
    for name in ("loop", "memory", "socket", "write"):
        assert verdicts[name][1]["status"] == "failed" and verdicts[name][1]["method"] == "python"
    assert pipe.reasons["verification: computation failed"] == 4


def test_the_code_tasks_own_program_checks_its_answer():
    task = get_task("python_literal")
    v = ComputationValidator(task, timeout_s=2.0)

    def rec(code, call, answer):
        inp = f"```python\n{code}\n```\nWhat is the output of f({call})?"
        return Record(instruction="i", input=inp, output=f"trace\n[ANSWER] {answer} [/ANSWER]", answer=answer)

    good = rec("def f(xs):\n    return sorted(set(xs))", "[3, 1, 3]", "[1, 3]")
    assert v.check(good).ok and good.verification["method"] == "program"
    wrong = rec("def f(xs):\n    return sorted(set(xs))", "[3, 1, 3]", "[3, 1]")
    verdict = v.check(wrong)
    assert not verdict.ok and verdict.reason == "verification: the program computation gives '[1, 3]', but the answer is '[3, 1]'"
    looping = rec("def f(n):\n    while n:\n        n += 1\n    return n", "1", "0")
    verdict = v.check(looping)
    assert not verdict.ok and "the problem's function was stopped (timeout" in verdict.reason
    plain = Record(instruction="i", input="no program here", output="[ANSWER] 1 [/ANSWER]", answer="1")
    assert v.check(plain).ok and plain.verification["status"] == "unverified"


def test_math_verify_decides_expression_answers():
    task = get_task("exact_match")
    v = ComputationValidator(task)
    rec = Record(instruction="i", input="q", output="s\nANSWER: 2\\sqrt{3}", answer="2\\sqrt{3}",
                 computation={"sympy": "2*sqrt(3)"})
    assert v.check(rec).ok and rec.verification["status"] == "verified"
    rec = Record(instruction="i", input="q", output="s\nANSWER: 2\\sqrt{3}", answer="2\\sqrt{3}",
                 computation={"sympy": "3*sqrt(2)"})
    assert not v.check(rec).ok


def _votes(others):
    calls = []

    def solve(records, n):
        calls.append((len(records), n))
        return [list(others) for _ in records]

    return solve, calls


def test_self_consistency_accepts_over_a_disagreeing_minority_and_rejects_a_minority_answer():
    task = get_task("boxed_numeric")
    solve, calls = _votes([5.0, 5.0004, 7.0, None])  # 5.0004 rounds to the same boxed answer
    v = SelfConsistencyValidator(task, solve, k=5, agreement=0.5)
    rec = _science_record(5.0)
    v.prepare([rec, _science_record(5.0)])
    assert calls == [(2, 4)]  # one batch for the whole pool
    verdict = v.check(rec)
    assert verdict.ok and rec.verification["status"] == "agreed" and rec.verification["agree"] == 3
    assert rec.verification["answers"] == [5.0, 5.0004, 7.0, None]

    solve, _ = _votes([7.0, 7.0, 7.0, 5.0])
    rec = _science_record(5.0)
    verdict = SelfConsistencyValidator(task, solve, k=5).check(rec)
    assert not verdict.ok and verdict.kind == "minority answer"
    assert verdict.reason == ("self_consistency: 2 of 5 solutions give the answer 5 (needs 50%); the majority "
                              "answer is 7 (3 of 5)")
    solve, _ = _votes([7.0, 9.0, None, 5.0])
    verdict = SelfConsistencyValidator(task, solve, k=5, agreement=0.6).check(_science_record(5.0))
    assert not verdict.ok and verdict.kind == "below the agreement threshold"
    with pytest.raises(ValueError):
        SelfConsistencyValidator(task, solve, k=1)


def test_a_teacher_reply_whose_computation_disagrees_is_rejected_in_generation(tmp_path: Path):
    """Through generate_for_plan: the reply's computation travels with the
    record, the disagreeing one is rejected with its reason in pool.jsonl, and
    the verified one keeps its verification in the lineage."""
    from data_agent.generators.generate import generate_for_plan
    from data_agent.generators.teachers.base import SamplingParams, TeacherRequest, TeacherResponse
    from data_agent.plan import Allocation, Plan
    from data_agent.tasks.boxed_numeric import PROBLEM_SCHEMA
    from data_agent.validators.verify import with_computation

    domain = load_domain("science")

    def build(topic, difficulty, attempt, seed, iteration):
        return TeacherRequest(messages=({"role": "user", "content": f"{topic} {attempt}"},), params=SamplingParams(),
                              json_schema=with_computation(PROBLEM_SCHEMA), metadata={"attempt": attempt})

    async def call(requests):
        out = []
        for r in requests:
            k = r.metadata["attempt"]
            x = 40 + 7 * k
            doc = {"problem": f"A crate number {k} holds {x} kg of sand plus nothing else. What mass is in it?",
                   "unit": "kg", "solution": f"It holds {x} kg. The answer is therefore \\boxed{{{x:.3f}}}.",
                   "answer": x, "computation": {"sympy": f"{x} + {1 if k == 1 else 0}"}}
            out.append(TeacherResponse(text=json.dumps(doc), parsed=doc))
        return out

    plan = Plan(iteration=1, n_records=2, teacher="t", allocations=[Allocation(topic="a", count=2, difficulty=1)],
                rationale="r")
    res = generate_for_plan(plan, domain, teacher_name="t", call=call, build=build, pipeline=default_pipeline(domain),
                            pool_path=tmp_path / "pool.jsonl", run_seed=0, max_requests=8)
    pool = read_pool(tmp_path / "pool.jsonl")
    bad = [r for r in pool if not r.accepted]
    assert len(bad) == 1 and bad[0].attempt == 1 and bad[0].computation == {"sympy": "47 + 1"}
    assert bad[0].verdicts[-1]["reason"] == "verification: the sympy computation gives 48, but the answer is 47"
    assert all(r.verification["status"] == "verified" for r in res.records)
    assert res.pipeline["rejected_by_kind"] == {"verification: disagrees with its computation": 1}
    # a garbled computation object is a garbled reply
    from data_agent.generators.generate import parse_problem_reply

    doc = {"problem": "A crate holds 4 kg of sand and nothing else.", "unit": "kg",
           "solution": "It holds 4 kg. The answer is therefore \\boxed{4.000}.", "answer": 4, "computation": {"js": "4"}}
    got, why = parse_problem_reply(TeacherResponse(text=json.dumps(doc), parsed=doc), domain.task)
    assert got is None and why.startswith("garbled reply: computation:")


def test_self_consistency_through_the_teacher_rejects_problems_its_solutions_contradict(tmp_path, da_home,
                                                                                      monkeypatch):
    """A smoke run with an emulated LLM teacher and ``teachers.self_consistency``
    3: every new problem is solved twice more (the solver sees the problem,
    never the answer); where both solutions contradict the record's answer the
    record is rejected as a minority answer, and accepted records carry both
    their computation check and the vote in the lineage."""
    import dataclasses
    import hashlib

    from conftest import emulated_smoke_run
    from data_agent.config import load_config
    from data_agent.testing.emulator import default_responder

    task = get_task("boxed_numeric")
    solver_prompts = []

    def responder(messages, schema):
        if schema and set(schema.get("properties", {})) == {"solution"}:
            user = next(m["content"] for m in messages if m["role"] == "user")
            solver_prompts.append(user)
            m = re.search(r"has the value (-?[0-9.]+)", user)
            value = float(m.group(1)) if m else 0.0
            if int(hashlib.sha256(user.encode()).hexdigest(), 16) % 3 == 0:
                value += 1.0  # this problem's solutions disagree with its author
            return json.dumps({"solution": f"Reading the data, {value}.\n{task.final_line(f'{value:.3f}')}"})
        return default_responder(messages, schema)

    teachers = dataclasses.replace(load_config("smoke").teachers, self_consistency=3)
    run_dir, cfg, _ = emulated_smoke_run(tmp_path, monkeypatch, "sk-" + "test-self-consistency", responder,
                                         cache_dir=tmp_path / "cache", teachers=teachers, iterations=1)
    pool = read_pool(run_dir / "iter-01" / "pool.jsonl")
    minority = [r for r in pool if not r.accepted and r.verdicts[-1]["validator"] == "self_consistency"]
    assert minority, "no record was contradicted by its solutions"
    assert all(r.verdicts[-1]["kind"] == "minority answer" for r in minority)
    assert all("the majority answer is" in r.verdicts[-1]["reason"] for r in minority)
    lineage = json.loads((run_dir / "iter-01" / "lineage.json").read_text())
    assert len(lineage) == cfg.n_records
    for e in lineage:
        v = e["verification"]
        assert v["status"] == "verified" and v["method"] == "sympy+python", v
        assert v["self_consistency"]["k"] == 3 and v["self_consistency"]["agree"] == 3
    # the solver saw each problem, never its answer or its solution
    assert solver_prompts and not any("Reading the given data directly" in p for p in solver_prompts)
    assert all("Emulated problem" in p for p in solver_prompts)
    gen = json.loads((run_dir / "iter-01" / "generation.json").read_text())
    assert gen["validation"]["rejected_by_kind"]["self_consistency: minority answer"] == len(minority)
