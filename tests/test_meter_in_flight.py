"""Calls in flight are on disk before they leave: a SIGKILLed process's cut
calls, which a provider still bills, are counted by the next process.

Each test fails if the meter counted a call only when its answer arrived (the
behaviour before): the file would not list the calls out at the kill.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from data_agent.generators.engine.budget import Budget, BudgetExceeded, CostMeter
from data_agent.generators.engine.runner import RunnerConfig, TeacherRunner
from data_agent.generators.teachers.base import OnlineTeacher, SamplingParams, TeacherRequest, TeacherResponse, Usage

ROOT = Path(__file__).resolve().parent.parent


def req(i: int) -> TeacherRequest:
    return TeacherRequest(messages=({"role": "user", "content": f"q{i}"},), params=SamplingParams(max_tokens=50))


class SlowTeacher(OnlineTeacher):
    """Answers after ``delay`` seconds; records how many calls are out at once."""

    backend = "fake"
    model = "m1"

    def __init__(self, delay: float):
        self.delay = delay
        self.out = 0
        self.started = 0

    async def generate_one(self, request: TeacherRequest) -> TeacherResponse:
        self.out += 1
        self.started += 1
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.out -= 1
        return TeacherResponse(text="a", usage=Usage(10, 5))


def test_a_sent_call_is_on_disk_before_its_answer(tmp_path: Path) -> None:
    path = tmp_path / "meter.json"
    meter = CostMeter(path, autosave_seconds=3600)  # no autosave: only the send-time save can put it there
    seen: list[dict] = []

    class Peek(SlowTeacher):
        async def generate_one(self, request: TeacherRequest) -> TeacherResponse:
            seen.append(json.loads(path.read_text())["total"])  # what a SIGKILL now would leave
            return await super().generate_one(request)

    TeacherRunner(Peek(0.0), RunnerConfig(max_concurrency=1, timeout=5.0), meter=meter).run_sync(
        [req(i) for i in range(3)])
    assert [(s["calls"], s["in_flight"]) for s in seen] == [(1, 1), (2, 1), (3, 1)]
    done = json.loads(path.read_text())["total"]
    assert (done["calls"], done["in_flight"], done["prompt_tokens"], done["completion_tokens"]) == (3, 0, 30, 15)


def test_the_next_process_counts_the_cut_calls_against_the_budgets(tmp_path: Path, caplog) -> None:
    """A meter file left with calls in flight (its process was killed) turns them
    into ``interrupted`` calls whose estimates the budgets count, and says so."""
    path = tmp_path / "meter.json"
    meter = CostMeter(path)
    tickets = [meter.record_sent(100.0, 0.25) for _ in range(3)]
    meter.record_call(Usage(40, 20), 0.1, sent=tickets[0])  # one answered; two cut by the "kill"
    with caplog.at_level("WARNING"):
        again = CostMeter(path)
    t = again.total
    assert (t.calls, t.in_flight, t.interrupted) == (3, 0, 2)
    assert [r.getMessage().split(" ")[0] for r in caplog.records if "in flight" in r.getMessage()] == ["2"]
    assert t.tokens == 60 + 200 and t.spent_dollars == pytest.approx(0.1 + 0.5)
    assert "interrupted 2" in again.summary()
    with pytest.raises(BudgetExceeded, match="max_calls"):
        Budget(max_calls=3).check(again)
    with pytest.raises(BudgetExceeded, match="max_total_tokens"):
        Budget(max_total_tokens=250).check(again)
    with pytest.raises(BudgetExceeded, match="max_dollars"):
        Budget(max_dollars=0.55).check(again)
    Budget(max_calls=4, max_total_tokens=261, max_dollars=0.61).check(again)  # headroom left: no raise
    again.save()
    assert CostMeter(path).total.interrupted == 2  # counted once, not again by every later process


def test_in_flight_estimates_count_against_the_budget_while_out(tmp_path: Path) -> None:
    """The budget counts the estimates of calls still out: with room for about two
    calls' estimated tokens, a third concurrent call is not launched."""
    meter = CostMeter()
    teacher = SlowTeacher(0.2)
    r = TeacherRunner(teacher, RunnerConfig(max_concurrency=8, timeout=5.0), meter=meter,
                      budget=Budget(max_total_tokens=2 * (1 + 50) + 1))
    with pytest.raises(BudgetExceeded):
        r.run_sync([req(i) for i in range(8)])
    assert teacher.started <= 3 and meter.total.calls == teacher.started


def test_cancelled_calls_count_as_interrupted() -> None:
    """Ctrl+C cancels the calls out; the provider may bill them, so they are interrupted, not lost."""
    meter = CostMeter()
    teacher = SlowTeacher(5.0)
    r = TeacherRunner(teacher, RunnerConfig(max_concurrency=4, timeout=30.0), meter=meter)

    async def go() -> None:
        task = asyncio.ensure_future(r.run([req(i) for i in range(4)]))
        while teacher.out < 4:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    t = meter.total
    assert (t.calls, t.in_flight, t.interrupted) == (4, 0, 4)


KILLED = textwrap.dedent("""
    import asyncio, sys
    from pathlib import Path
    from data_agent.generators.engine.budget import CostMeter
    from data_agent.generators.engine.runner import RunnerConfig, TeacherRunner
    from data_agent.generators.teachers.base import OnlineTeacher, SamplingParams, TeacherRequest, TeacherResponse, Usage

    class Hang(OnlineTeacher):
        backend, model = "fake", "m1"
        async def generate_one(self, request):
            n = int(request.messages[0]["content"][1:])
            if n < 2:
                return TeacherResponse(text="a", usage=Usage(10, 5))
            Path(sys.argv[2], f"out-{n}").touch()
            await asyncio.sleep(600)

    meter = CostMeter(Path(sys.argv[1]))
    reqs = [TeacherRequest(messages=({"role": "user", "content": f"q{i}"},), params=SamplingParams(max_tokens=50))
            for i in range(5)]
    TeacherRunner(Hang(), RunnerConfig(max_concurrency=3, timeout=None), meter=meter).run_sync(reqs)
""")


def test_sigkill_with_calls_in_flight(tmp_path: Path) -> None:
    """A real SIGKILL with three calls out (two were answered): the next process's meter has all five calls,
    three of them interrupted."""
    script, path, marks = tmp_path / "run.py", tmp_path / "meter.json", tmp_path / "marks"
    script.write_text(KILLED)
    marks.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script), str(path), str(marks)], env=env)
    try:
        deadline = time.monotonic() + 60
        while len(list(marks.iterdir())) < 3:
            assert proc.poll() is None and time.monotonic() < deadline, "the calls never went out"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    t = CostMeter(path).total
    assert (t.calls, t.interrupted, t.prompt_tokens, t.completion_tokens) == (5, 3, 20, 10)
