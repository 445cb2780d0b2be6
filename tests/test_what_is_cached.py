"""What is cached and what is not, checked by counting the work done.

* The teacher runner stores successful responses only: a request that ended
  as an error response (a fatal status, retries exhausted, a reply still
  invalid after its re-asks, a batch item that failed) is asked again by the
  next run, counted at the teacher or at the loopback emulator.
* ``evaluate_model(..., cache=True)`` (the untouched base student) generates
  once: a second evaluation of the same model, items and decoding settings
  makes no ``generate_outputs`` call.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from data_agent.domain import load_domain
from data_agent.generators.engine.cache import ResponseCache
from data_agent.generators.engine.runner import RunnerConfig, TeacherRunner
from data_agent.generators.teachers.base import (FatalError, OnlineTeacher, RetryableError, SamplingParams,
                                                 TeacherRequest, TeacherResponse, Usage)
from data_agent.generators.teachers.openai_backend import OpenAIChatTeacher
from data_agent.generators.teachers.prices import PriceTable
from data_agent.tasks.boxed_numeric import PROBLEM_SCHEMA
from data_agent.testing import ProviderEmulator
from data_agent.testing.emulator import default_responder
from data_agent.trainers import evaluate as evaluate_mod

GOOD = {"problem": "What is two plus two?", "unit": "", "solution": "Two plus two is four.", "answer": 4}
N = 6
FAILING = {1, 4}  # the requests that fail in the first run


def _req(i: int, schema: dict | None = PROBLEM_SCHEMA) -> TeacherRequest:
    return TeacherRequest(messages=({"role": "user", "content": f"q{i}"},), params=SamplingParams(max_tokens=1024),
                          json_schema=schema, metadata={"i": i})


def _qid(r: TeacherRequest) -> int:
    return int(re.match(r"q(\d+)", r.messages[0]["content"]).group(1))


def _config(**kw) -> RunnerConfig:
    return RunnerConfig(**{"max_retries": 1, "backoff_base": 0.001, "backoff_max": 0.01, "timeout": 5.0,
                           "max_reasks": 1, **kw})


def _runner(teacher, cache: ResponseCache, **kw) -> TeacherRunner:
    return TeacherRunner(teacher, _config(**kw), cache=cache, prices=PriceTable({}))


class Teacher(OnlineTeacher):
    """Answers ``GOOD`` unless the request is in ``fail`` (then it fails the
    ``how`` way); counts the requests it is sent, per id."""

    backend = "fake"
    model = "m"

    def __init__(self, fail: set[int] = frozenset(), how: str = "fatal"):
        self.fail, self.how = set(fail), how
        self.sent: list[int] = []

    async def generate_one(self, request: TeacherRequest) -> TeacherResponse:
        i = _qid(request)
        self.sent.append(i)
        if i in self.fail:
            if self.how == "fatal":
                raise FatalError("bad request", status=400)
            if self.how == "retryable":
                raise RetryableError("overloaded", status=503)
            return TeacherResponse(text='{"problem": "cut', usage=Usage(5, 5))  # "invalid": never valid
        return TeacherResponse(text=json.dumps({**GOOD, "problem": f"{GOOD['problem']} ({i})"}), usage=Usage(5, 5))


@pytest.mark.parametrize("how", ["fatal", "retryable", "invalid"])
def test_failed_requests_are_asked_again_by_the_next_run(tmp_path: Path, how: str) -> None:
    cache = ResponseCache(tmp_path / "teacher.sqlite")
    reqs = [_req(i) for i in range(N)]
    first = Teacher(FAILING, how)
    out1 = _runner(first, cache).run_sync(reqs)
    assert [i for i, r in enumerate(out1) if not r.ok] == sorted(FAILING)
    assert set(first.sent) == set(range(N))

    second = Teacher()  # the cause is fixed
    out2 = _runner(second, cache).run_sync(reqs)
    assert sorted(second.sent) == sorted(FAILING), "a failed request was served from the cache"
    assert all(r.ok for r in out2)
    assert [r.cached for r in out2] == [i not in FAILING for i in range(N)]

    third = Teacher()
    _runner(third, cache).run_sync(reqs)
    assert third.sent == []  # now every answer is a success, and cached
    cache.close()


class BatchTeacher:
    """A batch teacher (``generate`` only) whose items in ``fail`` come back as error responses."""

    backend = "fake-batch"
    model = "m"
    is_batch = True

    def __init__(self, fail: set[int] = frozenset()):
        self.fail = set(fail)
        self.sent: list[int] = []

    async def generate(self, requests: list[TeacherRequest]) -> list[TeacherResponse]:
        out = []
        for r in requests:
            i = _qid(r)
            self.sent.append(i)
            out.append(TeacherResponse(text="", error="batch item failed: server_error") if i in self.fail else
                       TeacherResponse(text=f"b{i}", usage=Usage(5, 5)))
        return out


def test_failed_batch_items_are_submitted_again(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "teacher.sqlite")
    reqs = [_req(i, schema=None) for i in range(N)]
    out1 = _runner(BatchTeacher(FAILING), cache).run_sync(reqs)
    assert [i for i, r in enumerate(out1) if not r.ok] == sorted(FAILING)
    second = BatchTeacher()
    out2 = _runner(second, cache).run_sync(reqs)
    assert sorted(second.sent) == sorted(FAILING)
    assert [r.text for r in out2] == [f"b{i}" for i in range(N)]
    cache.close()


def test_failures_at_the_emulator_are_asked_again(tmp_path: Path) -> None:
    """Over HTTP: two requests end with a 5xx, two with a garbled reply (no
    retries left). The next run sends exactly those four to the server
    again, once each, and nothing else."""
    garbled = {"q2", "q5"}

    def responder(messages, schema):
        if messages[0]["content"] in garbled:
            return '{"problem": "cut'
        return default_responder(messages, schema)

    cache_path = tmp_path / "teacher.sqlite"
    reqs = [_req(i) for i in range(N)]
    with ProviderEmulator(responder=responder) as emu:
        async def run(cfg: RunnerConfig) -> list[TeacherResponse]:
            teacher = OpenAIChatTeacher("emu-model", base_url=emu.base_url_openai, api_key="emulator-local-key")
            cache = ResponseCache(cache_path)
            try:
                return await TeacherRunner(teacher, cfg, cache=cache, prices=PriceTable({})).run(reqs)
            finally:
                await teacher.aclose()
                cache.close()

        emu.inject("5xx", 2)
        out1 = asyncio.run(run(_config(max_retries=0, max_concurrency=1)))
        failed = [i for i, r in enumerate(out1) if not r.ok]
        assert len(failed) == 4 and {2, 5} <= set(failed)
        # one call each: 2 answered with a 503, 4 with a reply, 2 of them garbled (the backend
        # makes that a retryable error, and no retry is left)
        assert emu.calls["openai.chat"] == N

        garbled.clear()  # the server is well again
        emu.reset_counters()
        out2 = asyncio.run(run(_config(max_retries=0, max_concurrency=1)))
        assert emu.calls["openai.chat"] == len(failed), "failed requests were served from the cache"
        assert all(r.ok for r in out2)
        assert [i for i, r in enumerate(out2) if not r.cached] == failed


# ------------------------------------------------------------ base student evaluations


@pytest.fixture
def fake_generation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``generate_outputs`` replaced by a counter whose outputs differ from call
    to call (so an output served from the cache is told from a regenerated
    one), a model directory, and a fresh data-agent home for the eval cache."""
    monkeypatch.setenv("DATA_AGENT_HOME", str(tmp_path / "home"))
    model = tmp_path / "base-model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    calls: list[list[str]] = []

    def generate_outputs(model_path, prompts, instruction, task, max_new_tokens=256, batch_size=16, bf16=True,
                         stop_loops=True, backend="hf", progress_cb=None, stats=None):
        calls.append(list(prompts))
        return [f"call {len(calls)}: The answer is \\boxed{{{k}}}." for k in range(len(prompts))]

    monkeypatch.setattr(evaluate_mod, "generate_outputs", generate_outputs)
    return model, calls


def _evaluate(model: Path, items, *, cache: bool, max_new_tokens: int = 8, progress_cb=None):
    d = load_domain("science")
    return evaluate_mod.evaluate_model(model, items, d.instruction, task=d.task, max_new_tokens=max_new_tokens,
                                       batch_size=2, cache=cache, progress_cb=progress_cb)


def test_the_base_students_outputs_are_generated_once(fake_generation) -> None:
    model, calls = fake_generation
    items = load_domain("science").val_items(4)
    m1, rows1 = _evaluate(model, items, cache=True)
    assert len(calls) == 1
    seen: list[int] = []
    m2, rows2 = _evaluate(model, items, cache=True, progress_cb=seen.append)
    assert len(calls) == 1, "the cached evaluation generated again"
    assert [r["output"] for r in rows2] == [r["output"] for r in rows1]
    assert all(r["output"].startswith("call 1:") for r in rows2)
    assert m2.to_dict() == m1.to_dict() and seen == [len(items)]


def test_uncached_evaluations_and_other_settings_generate(fake_generation, tmp_path: Path) -> None:
    model, calls = fake_generation
    items = load_domain("science").val_items(4)
    _evaluate(model, items, cache=True)
    assert len(calls) == 1
    other = tmp_path / "other-model"
    other.mkdir()
    (other / "config.json").write_text("{}")
    for what, kw in [("an uncached evaluation (a trained student)", dict(model=model, items=items, cache=False)),
                     ("other items", dict(model=model, items=items[:3], cache=True)),
                     ("another decoding budget", dict(model=model, items=items, cache=True, max_new_tokens=9)),
                     ("another model", dict(model=other, items=items, cache=True))]:
        before = len(calls)
        _evaluate(**kw)
        assert len(calls) == before + 1, f"{what} was served from the eval cache"


def test_an_unreadable_eval_cache_file_is_generated_again(fake_generation, tmp_path: Path) -> None:
    model, calls = fake_generation
    items = load_domain("science").val_items(2)
    _evaluate(model, items, cache=True)
    (cache_file,) = (tmp_path / "home" / "eval-cache").glob("*.json")
    cache_file.write_text("{torn")
    _, rows = _evaluate(model, items, cache=True)
    assert len(calls) == 2 and rows[0]["output"].startswith("call 2:")
    _evaluate(model, items, cache=True)
    assert len(calls) == 2  # the rewritten file is used
