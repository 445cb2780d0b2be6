"""Tests for the teacher runner, response cache, budgets, prices and log redaction.

No network: a scripted in-test ``OnlineTeacher`` stands in for real backends.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import random
import re
import time
from collections import Counter

import pytest

from data_agent.tasks.boxed_numeric import PROBLEM_SCHEMA
from data_agent.generators.teachers.base import (
    FatalError,
    OnlineTeacher,
    RetryableError,
    SamplingParams,
    TeacherRequest,
    TeacherResponse,
    Usage,
)
from data_agent.errors import DataAgentError
from data_agent.generators.engine.budget import Budget, BudgetExceeded, CostMeter
from data_agent.generators.engine.cache import ResponseCache
from data_agent.generators.engine.runner import (
    CircuitOpen,
    RateLimiter,
    RunnerConfig,
    TeacherRunner,
    backoff_delay,
    parse_json_text,
)
from data_agent.generators.teachers.prices import ModelPrice, PriceTable
from data_agent.logging_utils import RedactingFilter, install_redaction, redact, remove_redaction

FAKE_KEY = "sk-" + "test-0123456789abcdefSECRETxyz"  # fake, assembled so scanners do not flag it
FAKE_JWT = "eyJ" + "hbGciOi.abc.def"  # a bearer token's shape, assembled likewise
GOOD = {"problem": "What is two plus two?", "unit": "", "solution": "Two plus two is four.", "answer": 4}


def req(i: int, schema: dict | None = None, **meta) -> TeacherRequest:
    return TeacherRequest(messages=({"role": "user", "content": f"q{i}"},),
                          params=SamplingParams(max_tokens=50), json_schema=schema, metadata={"id": i, **meta})


def qid(request: TeacherRequest) -> int:
    return int(re.match(r"q(\d+)", request.messages[0]["content"]).group(1))


class FakeTeacher(OnlineTeacher):
    """Scripted teacher. ``script(request, attempt, call_no)`` may raise or return
    a response; ``None`` means the default answer ``a<id>``."""

    backend = "fake"
    model = "m1"

    def __init__(self, script=None, delay=0.0):
        self.script = script
        self.delay = delay
        self.calls: list[tuple[float, TeacherRequest]] = []
        self.attempts: Counter[int] = Counter()
        self.failed = 0

    async def generate_one(self, request: TeacherRequest) -> TeacherResponse:
        i = qid(request)
        self.attempts[i] += 1
        self.calls.append((time.monotonic(), request))
        delay = self.delay(i) if callable(self.delay) else self.delay
        if delay:
            await asyncio.sleep(delay)
        if self.script is not None:
            try:
                out = self.script(request, self.attempts[i], len(self.calls))
            except Exception:
                self.failed += 1
                raise
            if out is not None:
                return out
        return TeacherResponse(text=f"a{i}", usage=Usage(10, 5))


def fast(**kw) -> RunnerConfig:
    base = dict(backoff_base=0.001, backoff_max=0.01, timeout=5.0, max_concurrency=8)
    base.update(kw)
    return RunnerConfig(**base)


PRICES = PriceTable({"fake:m1": ModelPrice(input=1.0, output=2.0, batch_discount=0.5)})


def runner(teacher, config=None, **kw) -> TeacherRunner:
    kw.setdefault("prices", PRICES)
    return TeacherRunner(teacher, config or fast(), **kw)


# ------------------------------------------------------------------------ basics


def test_order_preserved_and_metadata_carried():
    teacher = FakeTeacher(delay=lambda i: 0.02 * ((7 * i) % 5))
    out = runner(teacher).run_sync([req(i) for i in range(20)])
    assert [r.text for r in out] == [f"a{i}" for i in range(20)]
    assert [r.metadata["id"] for r in out] == list(range(20))
    assert all(r.ok and not r.cached and r.model == "m1" for r in out)
    assert out[0].cost == pytest.approx((10 * 1.0 + 5 * 2.0) / 1e6)


def test_random_failures_no_loss_no_duplicates():
    rng = random.Random(1234)

    def script(request, attempt, n):
        x = rng.random()
        if x < 0.2:
            raise RetryableError("overloaded", status=529)
        if x < 0.3:
            raise RetryableError("reset mid-reply", status=500, usage=Usage(7, 3))
        return None

    teacher = FakeTeacher(script, delay=lambda i: 0.001 * (i % 3))
    meter = CostMeter()
    r = runner(teacher, fast(max_retries=30, breaker_consecutive_failures=None, breaker_failure_rate=None),
               meter=meter)
    out = asyncio.run(r.run([req(i) for i in range(60)]))
    assert [o.text for o in out] == [f"a{i}" for i in range(60)]
    assert all(o.ok for o in out)
    assert len(teacher.calls) == 60 + teacher.failed
    assert meter.total.calls == len(teacher.calls)
    assert meter.total.failures == teacher.failed
    assert meter.total.retries == teacher.failed
    assert 0 < meter.total.billed_failures < teacher.failed
    # successes: 15 tokens each; billed failures: 10 tokens each
    assert meter.total.tokens == 60 * 15 + 10 * meter.total.billed_failures


def test_backoff_delay_honours_retry_after_and_caps():
    cfg = RunnerConfig(backoff_base=1.0, backoff_max=8.0, jitter=1.0)
    assert backoff_delay(cfg, 1, rng=lambda: 0.0) == 1.0
    assert backoff_delay(cfg, 3, rng=lambda: 0.0) == 4.0
    assert backoff_delay(cfg, 10, rng=lambda: 0.0) == 8.0  # capped
    assert backoff_delay(cfg, 3, rng=lambda: 0.5) == 2.0  # jittered
    assert backoff_delay(cfg, 1, retry_after=30.0, rng=lambda: 0.0) == 30.0  # at least retry_after
    assert backoff_delay(RunnerConfig(jitter=0.0, backoff_base=0.5), 2, rng=lambda: 0.99) == 1.0


def test_retry_waits_for_retry_after():
    def script(request, attempt, n):
        if attempt == 1:
            raise RetryableError("slow down", retry_after=0.3, status=429)

    teacher = FakeTeacher(script)
    out = runner(teacher, fast(max_concurrency=1)).run_sync([req(0)])
    assert out[0].ok and teacher.attempts[0] == 2
    (t1, _), (t2, _) = teacher.calls
    assert t2 - t1 >= 0.29


def test_retry_after_pauses_every_request():
    fail_time = []

    def script(request, attempt, n):
        if qid(request) == 0 and attempt == 1:
            fail_time.append(time.monotonic())
            raise RetryableError("rate limited", retry_after=0.3, status=429)

    teacher = FakeTeacher(script, delay=lambda i: 0 if i == 0 else 0.05)
    out = runner(teacher, fast(max_concurrency=4)).run_sync([req(i) for i in range(8)])
    assert all(o.ok for o in out)
    # the first 4 calls were in flight already; every later call waited for the pause
    later = [t for t, _ in teacher.calls[4:]]
    assert later and min(later) >= fail_time[0] + 0.29


def test_retry_after_too_long_fails_the_request():
    teacher = FakeTeacher(lambda r, a, n: (_ for _ in ()).throw(RetryableError("quota", retry_after=9999, status=429)))
    out = runner(teacher, fast(max_retry_after=60)).run_sync([req(0)])
    assert not out[0].ok and "HTTP 429" in out[0].error and teacher.attempts[0] == 1


def test_fatal_error_not_retried_and_does_not_stop_others():
    def script(request, attempt, n):
        if qid(request) == 3:
            raise FatalError("bad request: max_tokens too large", status=400)

    teacher = FakeTeacher(script)
    meter = CostMeter()
    out = runner(teacher, meter=meter).run_sync([req(i) for i in range(6)])
    assert teacher.attempts[3] == 1
    assert not out[3].ok and "HTTP 400" in out[3].error and out[3].metadata["id"] == 3
    assert [o.ok for o in out] == [True, True, True, False, True, True]
    assert meter.total.failures == 1 and meter.total.errors == 1


def test_retries_exhausted_gives_error_response():
    teacher = FakeTeacher(lambda r, a, n: (_ for _ in ()).throw(RetryableError("boom", status=503)))
    out = runner(teacher, fast(max_retries=2)).run_sync([req(0)])
    assert teacher.attempts[0] == 3
    assert not out[0].ok and "HTTP 503" in out[0].error


def test_timeout_is_retryable():
    teacher = FakeTeacher(delay=lambda i: 1.0 if i == 0 else 0.0)
    t0 = time.monotonic()
    out = runner(teacher, fast(timeout=0.05, max_retries=1)).run_sync([req(0), req(1)])
    assert time.monotonic() - t0 < 0.8
    assert teacher.attempts[0] == 2 and not out[0].ok and "no reply within" in out[0].error
    assert out[1].ok


def test_unexpected_exception_becomes_error_response():
    def script(request, attempt, n):
        if qid(request) == 1:
            raise KeyError("choices")

    out = runner(FakeTeacher(script)).run_sync([req(0), req(1)])
    assert out[0].ok and not out[1].ok and "KeyError" in out[1].error


# ---------------------------------------------------------------- circuit breaker


def test_circuit_breaker_trips_and_completed_responses_are_cached(tmp_path):
    def script(request, attempt, n):
        if n > 5:
            raise RetryableError("service unavailable", status=503)

    cache = ResponseCache(tmp_path / "c.sqlite")
    teacher = FakeTeacher(script)
    cfg = fast(max_concurrency=2, max_retries=1, breaker_consecutive_failures=5)
    reqs = [req(i) for i in range(30)]
    with pytest.raises(CircuitOpen) as info:
        runner(teacher, cfg, cache=cache).run_sync(reqs)
    exc = info.value
    assert "5 consecutive failed calls" in str(exc) and "HTTP 503" in str(exc)
    assert len(teacher.calls) < 12  # stopped launching new calls
    done = [r for r in exc.results if r is not None and r.ok]
    assert len(done) == 5 and len(cache) == 5
    assert all(r.cache_key("fake", "m1") in cache for r, o in zip(reqs, exc.results) if o is not None and o.ok)

    # rerun with a healthy teacher: the 5 come from the cache
    healthy = FakeTeacher()
    out = runner(healthy, cfg, cache=cache).run_sync(reqs)
    assert all(o.ok for o in out) and sum(o.cached for o in out) == 5
    assert len(healthy.calls) == 25


def test_failure_rate_breaker():
    rng = random.Random(0)

    def script(request, attempt, n):
        if rng.random() < 0.9:
            raise FatalError("server said no", status=422)

    cfg = fast(max_concurrency=1, breaker_consecutive_failures=None, breaker_window=10, breaker_failure_rate=0.7)
    with pytest.raises(CircuitOpen, match="of the last 10 calls failed"):
        runner(FakeTeacher(script), cfg).run_sync([req(i) for i in range(100)])


def test_401_trips_quickly_and_never_shows_the_key(monkeypatch, tmp_path):
    monkeypatch.setenv("FAKE_API_KEY", FAKE_KEY)

    def script(request, attempt, n):
        raise FatalError(f"Incorrect API key provided: {FAKE_KEY}", status=401)

    teacher = FakeTeacher(script, delay=0.01)
    cfg = fast(max_concurrency=4)
    with pytest.raises(CircuitOpen) as info:
        runner(teacher, cfg).run_sync([req(i) for i in range(50)])
    text = str(info.value) + " ".join(getattr(info.value, "__notes__", []))
    assert "HTTP 401" in text and info.value.status == 401
    assert FAKE_KEY not in text and "[REDACTED]" in text
    assert len(teacher.calls) <= cfg.max_concurrency
    errors = [r.error for r in info.value.results if r is not None]
    assert errors and all(FAKE_KEY not in e for e in errors)


def test_throttling_alone_does_not_trip_breaker():
    def script(request, attempt, n):
        if attempt == 1:
            raise RetryableError("rate limited", retry_after=0.01, status=429)

    cfg = fast(max_concurrency=8, breaker_consecutive_failures=3)
    out = runner(FakeTeacher(script), cfg).run_sync([req(i) for i in range(16)])
    assert all(o.ok for o in out)


# -------------------------------------------------------------------------- cache


def test_cache_hit_makes_no_call_and_stores_no_key(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    path = tmp_path / "cache.sqlite"
    reqs = [req(i) for i in range(5)]
    t1 = FakeTeacher()
    out1 = runner(t1, cache=ResponseCache(path)).run_sync(reqs)
    assert len(t1.calls) == 5 and not any(o.cached for o in out1)

    t2, meter = FakeTeacher(), CostMeter()
    cache = ResponseCache(path)
    out2 = runner(t2, cache=cache, meter=meter).run_sync(reqs)
    assert len(t2.calls) == 0
    assert all(o.cached for o in out2) and [o.text for o in out2] == [o.text for o in out1]
    assert [o.metadata["id"] for o in out2] == list(range(5))
    assert meter.total.cache_hits == 5 and meter.total.calls == 0
    stats = cache.stats()
    assert stats["entries"] == 5 and stats["by_model"] == {"fake:m1": 5} and stats["hits"] == 5
    cache.close()

    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("cache.sqlite"))
    assert b"a3" in blob  # the responses are there...
    assert FAKE_KEY.encode() not in blob  # ...the key is not


def test_cache_only_stores_successes(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    assert not cache.put("k1", TeacherResponse(text="", error="boom"))
    assert cache.put("k2", TeacherResponse(text="ok", parsed={"a": 1}, usage=Usage(3, 4)))
    assert "k1" not in cache and "k2" in cache
    got = cache.get("k2")
    assert got.cached and got.parsed == {"a": 1} and got.usage.total_tokens == 7
    assert cache.get("missing") is None
    failing = FakeTeacher(lambda r, a, n: (_ for _ in ()).throw(FatalError("nope", status=400)))
    runner(failing, cache=cache).run_sync([req(0)])
    assert len(cache) == 1


def test_cache_is_thread_safe(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    cache = ResponseCache(tmp_path / "c.sqlite")

    def work(t: int) -> int:
        for j in range(40):
            cache.put(f"{t}-{j}", TeacherResponse(text=f"{t}-{j}"))
            assert cache.get(f"{t}-{j}").text == f"{t}-{j}"
        return t

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(work, range(8))) == list(range(8))
    assert len(cache) == 320 and ResponseCache(tmp_path / "c.sqlite").get("7-39").text == "7-39"


def test_identical_requests_are_asked_once():
    teacher = FakeTeacher()
    reqs = [req(1, tag="a"), req(1, tag="b"), req(2)]
    out = runner(teacher).run_sync(reqs)
    assert len(teacher.calls) == 2
    assert [o.text for o in out] == ["a1", "a1", "a2"]
    assert [o.metadata["tag"] for o in out[:2]] == ["a", "b"]
    teacher2 = FakeTeacher()
    runner(teacher2, fast(use_cache=False)).run_sync(reqs)
    assert len(teacher2.calls) == 3


# ---------------------------------------------------------------- structured output


def test_reask_is_bounded_and_garbage_becomes_error():
    teacher = FakeTeacher(lambda r, a, n: TeacherResponse(text="Sure! Here is {not json", usage=Usage(5, 5)))
    meter = CostMeter()
    out = runner(teacher, fast(max_reasks=2), meter=meter).run_sync([req(0, PROBLEM_SCHEMA)])
    assert teacher.attempts[0] == 3 and meter.total.reasks == 2
    assert not out[0].ok and out[0].error.startswith("InvalidOutput") and out[0].parsed is None
    assert out[0].text.startswith("Sure!")
    # the re-ask shows the model its reply and what was wrong
    last = teacher.calls[-1][1].messages
    assert last[-2]["role"] == "assistant" and "not valid JSON" in last[-1]["content"]


def test_truncated_then_valid_and_schema_violation():
    def script(request, attempt, n):
        if qid(request) == 0:
            if attempt == 1:
                return TeacherResponse(text='{"problem": "What is', finish_reason="length")
            return TeacherResponse(text=json.dumps(GOOD))
        if qid(request) == 1:  # wrong type, then fenced valid JSON
            if attempt == 1:
                return TeacherResponse(text=json.dumps({**GOOD, "answer": "four"}))
            return TeacherResponse(text="```json\n" + json.dumps(GOOD) + "\n```")
        return TeacherResponse(text="", parsed=GOOD)  # backend already parsed

    teacher = FakeTeacher(script)
    out = runner(teacher).run_sync([req(i, PROBLEM_SCHEMA) for i in range(3)])
    assert all(o.ok and o.parsed == GOOD for o in out)
    assert teacher.attempts == Counter({0: 2, 1: 2, 2: 1})
    reask0 = [r for _, r in teacher.calls if qid(r) == 0][1]
    assert "cut off" in reask0.messages[-1]["content"] and len(reask0.messages) == 1
    reask1 = [r for _, r in teacher.calls if qid(r) == 1][1]
    assert "schema violation at answer" in reask1.messages[-1]["content"]


def test_parse_json_text():
    assert parse_json_text('```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json_text('Here you go: {"a": [1, 2]} hope it helps') == {"a": [1, 2]}
    with pytest.raises(ValueError):
        parse_json_text("no json here")


# ------------------------------------------------------------------- rate limits


def test_rate_limiter_schedule_requests_per_minute():
    now = [0.0]
    lim = RateLimiter(requests_per_window=3, window=60.0, clock=lambda: now[0])
    starts = [lim.reserve().at for _ in range(10)]
    assert starts == [20 * k for k in range(10)]  # paced evenly, no burst
    for t in starts:  # every 60 s window holds at most 3 starts, every 20 s window one
        assert sum(t <= s < t + 60 for s in starts) <= 3 and sum(t <= s < t + 20 for s in starts) == 1
    now[0] = 500.0  # idle for a while: the next start is now, not earlier
    assert lim.reserve().at == 500.0 and lim.reserve().at == 520.0
    late = lim.reserve()
    lim.cancel(late)  # a cancelled latest booking gives its turn back
    assert lim.reserve().at == late.at


def test_rate_limiter_schedule_tokens_and_correction():
    now = [0.0]
    lim = RateLimiter(tokens_per_window=100, window=10.0, clock=lambda: now[0])
    a, b = lim.reserve(40), lim.reserve(40)
    c = lim.reserve(40)
    assert (a.at, b.at, c.at) == (0, 0, 10)
    lim.correct(a, 5)  # actual usage was lower: frees room for later bookings
    now[0] = 1.0
    lim2 = lim.reserve(40)
    assert lim2.at == 10  # FIFO: never before an earlier booking
    big = RateLimiter(tokens_per_window=100, window=10.0, clock=lambda: 0.0)
    assert big.reserve(500).at == 0 and big.reserve(1).at == 10  # oversized call runs alone


def test_rate_limiter_pause():
    now = [5.0]
    lim = RateLimiter(clock=lambda: now[0])
    lim.pause(2.0)
    assert lim.pause_remaining() == 2.0
    assert lim.reserve().at == 7.0


def test_runner_respects_requests_per_window():
    teacher = FakeTeacher()
    window, rpw = 0.3, 4
    r = runner(teacher, fast(requests_per_minute=rpw, rate_window=window))
    booked = []
    reserve = r.limiter.reserve
    r.limiter.reserve = lambda tokens=0.0: booked.append(reserve(tokens)) or booked[-1]
    out = r.run_sync([req(i) for i in range(10)])
    assert all(o.ok for o in out) and len(booked) == 10
    slots = [b.at for b in booked]
    for t in slots:  # the schedule keeps every window within the limit...
        assert sum(t <= s < t + window for s in slots) <= rpw
    starts = sorted(t for t, _ in teacher.calls)  # ...and no call starts before its slot
    assert all(c >= s - 1e-6 for c, s in zip(starts, sorted(slots)))
    assert starts[-1] - starts[0] >= 2 * window - 0.01  # 10 calls at 4 per window span 3 windows


# ------------------------------------------------------------------------ budgets


def test_budget_max_calls_stops_cleanly(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    meter = CostMeter()
    teacher = FakeTeacher()
    with pytest.raises(BudgetExceeded) as info:
        runner(teacher, fast(max_concurrency=2), cache=cache, budget=Budget(max_calls=5), meter=meter).run_sync(
            [req(i) for i in range(10)])
    exc = info.value
    assert exc.scope == "run" and exc.limit == "max_calls" and "max_calls" in str(exc)
    assert len(teacher.calls) == 5 and meter.total.calls == 5 and meter.total.tokens == 75
    assert sum(r is not None for r in exc.results) == 5 and len(cache) == 5


def test_budget_dollars_and_iteration_scope():
    meter = CostMeter()
    # each call costs 10*1 + 5*2 = 20 micro-dollars
    budget = Budget(max_dollars=1.0, iteration_max_dollars=20e-6 * 3 - 1e-9)
    r = runner(FakeTeacher(), fast(max_concurrency=1), budget=budget, meter=meter)
    with pytest.raises(BudgetExceeded) as info:
        r.run_sync([req(i) for i in range(10)])
    assert info.value.scope == "iteration" and meter.iteration.calls == 3
    meter.start_iteration()
    assert meter.iteration.calls == 0 and meter.total.calls == 3
    out = r.run_sync([req(i) for i in range(10, 12)])
    assert all(o.ok for o in out) and meter.total.calls == 5
    assert meter.total.dollars == pytest.approx(5 * 20e-6)


def test_meter_file_carries_spending_to_the_next_process(tmp_path):
    """A meter with a path is saved and picked up again: a second runner (as
    after a resume) on the same file is refused once the first one's calls plus
    its own reach the run budget; the iteration scope continues under its label."""
    path = tmp_path / "teacher" / "meter.json"
    meter = CostMeter(path, autosave_seconds=3600)
    meter.start_iteration(1)
    runner(FakeTeacher(), fast(max_concurrency=1), meter=meter).run_sync([req(i) for i in range(3)])
    meter.save()
    saved = json.loads(path.read_text())
    assert saved["total"]["calls"] == 3 and saved["iteration_label"] == 1

    again = CostMeter(path)
    assert again.total.calls == 3 and again.iteration.calls == 3 and again.iteration_label == 1
    assert again.total.dollars == pytest.approx(3 * 20e-6)
    teacher = FakeTeacher()
    with pytest.raises(BudgetExceeded, match="max_calls"):
        runner(teacher, fast(max_concurrency=1), budget=Budget(max_calls=5), meter=again).run_sync(
            [req(i) for i in range(10, 20)])
    assert len(teacher.calls) == 2 and again.total.calls == 5
    again.start_iteration(2)
    assert CostMeter(path).iteration_label == 2 and CostMeter(path).iteration.calls == 0
    assert CostMeter(path).total.calls == 5


def test_meter_autosaves_while_counting(tmp_path):
    """Without an explicit save (a process killed mid-run), counts older than
    ``autosave_seconds`` are on disk."""
    path = tmp_path / "meter.json"
    meter = CostMeter(path, autosave_seconds=0.0)
    runner(FakeTeacher(), fast(max_concurrency=1), meter=meter).run_sync([req(i) for i in range(4)])
    assert CostMeter(path).total.calls == 4


def test_unreadable_meter_file_is_a_clear_error(tmp_path):
    path = tmp_path / "meter.json"
    path.write_text("{not json")
    with pytest.raises(DataAgentError, match="meter.json: unreadable spending record"):
        CostMeter(path)
    path.write_text(json.dumps({"version": 99}))
    with pytest.raises(DataAgentError, match="version-1"):
        CostMeter(path)


def test_billed_failures_count_against_budget():
    def script(request, attempt, n):
        raise RetryableError("truncated stream", status=500, usage=Usage(1000, 1000))

    meter = CostMeter()
    with pytest.raises(BudgetExceeded, match="max_total_tokens"):
        runner(FakeTeacher(script), fast(max_concurrency=1, max_retries=10), budget=Budget(max_total_tokens=5000),
               meter=meter).run_sync([req(0)])
    assert meter.total.billed_failures == 3 and meter.total.tokens == 6000 and meter.total.calls == 3
    assert meter.total.dollars == pytest.approx(3 * (1000 * 1.0 + 1000 * 2.0) / 1e6)


# -------------------------------------------------------------------------- batch


class FakeBatchTeacher:
    is_batch = True
    backend = "fake"
    model = "m1"

    def __init__(self):
        self.batches: list[list[TeacherRequest]] = []

    async def generate(self, requests):
        self.batches.append(list(requests))
        out = []
        for r in requests:
            i = qid(r)
            if r.json_schema is not None and len(r.messages) == 1 and i % 2:
                out.append(TeacherResponse(text="oops", usage=Usage(10, 5)))  # odd ids need a re-ask
            elif r.json_schema is not None:
                out.append(TeacherResponse(text=json.dumps(GOOD), usage=Usage(10, 5)))
            else:
                out.append(TeacherResponse(text=f"b{i}", usage=Usage(10, 5)))
        return out


def test_batch_teacher_gets_only_misses(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    teacher = FakeBatchTeacher()
    runner(teacher, cache=cache).run_sync([req(i) for i in range(3)])
    meter = CostMeter()
    out = runner(teacher, cache=cache, meter=meter).run_sync([req(i) for i in range(6)])
    assert [qid(r) for r in teacher.batches[-1]] == [3, 4, 5]
    assert [o.text for o in out] == [f"b{i}" for i in range(6)]
    assert [o.cached for o in out] == [True] * 3 + [False] * 3
    assert out[3].cost == pytest.approx(0.5 * 20e-6)  # batch discount
    assert meter.total.cache_hits == 3 and meter.total.calls == 3


def test_batch_teacher_reasks_invalid():
    teacher = FakeBatchTeacher()
    out = runner(teacher).run_sync([req(i, PROBLEM_SCHEMA) for i in range(4)])
    assert all(o.ok and o.parsed == GOOD for o in out)
    assert [len(b) for b in teacher.batches] == [4, 2]


# ------------------------------------------------------------------------- prices


def test_price_table_default_batch_and_override(tmp_path, caplog):
    table = PriceTable.load()
    million = Usage(1_000_000, 1_000_000)
    assert table.cost("openai:gpt-4.1-mini", million) == pytest.approx(0.40 + 1.60)
    assert table.cost("openai:gpt-4.1-mini", million, batch=True) == pytest.approx(1.0)
    assert table.cost("anthropic:claude-sonnet-4-5-20250929", million) == pytest.approx(18.0)  # snapshot
    for spec in ("openai:gpt-4.1", "openai:gpt-4o-mini", "openai:o4-mini", "anthropic:claude-haiku-4-5",
                 "anthropic:claude-opus-4-1"):
        assert spec in table

    override = tmp_path / "prices.toml"
    override.write_text('["openai:gpt-4.1-mini"]\ninput = 1.0\n\n[acme]\n"tiny" = { input = 0.5, output = 0.5 }\n')
    custom = PriceTable.load(override)
    assert custom.cost("openai:gpt-4.1-mini", million) == pytest.approx(1.0 + 1.60)  # output kept
    assert custom.cost("acme:tiny", million) == pytest.approx(1.0)

    with caplog.at_level(logging.WARNING, logger="data_agent.generators.teachers.prices"):
        assert table.cost("openai:gpt-99", million) == 0.0
        assert table.cost("openai:gpt-99", million) == 0.0
    assert sum("gpt-99" in r.getMessage() for r in caplog.records) == 1


def test_price_table_rejects_bad_entries(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('["x:new"]\ninput = 1.0\n')
    with pytest.raises(ValueError, match="needs both"):
        PriceTable.load(bad)
    bad.write_text('["x:new"]\ninput = 1.0\noutput = 1.0\nbatch_discount = 1.5\n')
    with pytest.raises(ValueError, match="batch_discount"):
        PriceTable.load(bad)


# ---------------------------------------------------------------------- redaction


def test_redaction_filter(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-very-secret-value")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        filt = install_redaction(secrets=["plain-configured-secret"])
        assert filt in handler.filters and filt in logging.getLogger("httpx").filters
        log = logging.getLogger("test.redaction")
        log.warning("key %s and %s", FAKE_KEY, {"x-api-key": "abcdefgh12345"})
        log.warning("headers: Authorization: Bearer " + FAKE_JWT + " and " + "sk-ant-" + "api03-AAAABBBBCCCCDDDD")
        log.warning("env %s / configured %s", "tok-very-secret-value", "plain-configured-secret")
        try:
            raise RuntimeError(f"failed with api_key={FAKE_KEY}")
        except RuntimeError:
            log.exception("boom")
    finally:
        root.removeHandler(handler)
        remove_redaction()
    text = stream.getvalue()
    for secret in (FAKE_KEY, "abcdefgh12345", FAKE_JWT.split(".")[0], "sk-ant-" + "api03", "tok-very-secret-value",
                   "plain-configured-secret"):
        assert secret not in text, secret
    assert "Bearer [REDACTED]" in text and "RuntimeError" in text and text.count("[REDACTED]") >= 7


def test_redact_helper(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "zzzz-not-a-pattern-1234")
    s = redact("x-api-key: zzzz-not-a-pattern-1234 / raw zzzz-not-a-pattern-1234 / max_tokens=1024")
    assert "zzzz" not in s and "max_tokens=1024" in s
    assert RedactingFilter().redact("task-1234567890abcdefghij sk-learn") == "task-1234567890abcdefghij sk-learn"


def test_backend_error_messages_use_the_same_rules():
    """Errors built by the SDK backends go through the one redaction (plus the
    client's own key, which need not look like a key) and are cut short."""
    from data_agent.generators.teachers.common import redact as backend_redact

    key = "k3y" + "-x" * 12
    msg = backend_redact(f"HTTP 401: Incorrect API key provided: {key}. Authorization: Bearer {key} " + "z" * 900,
                         key, limit=200)
    assert key not in msg and msg.count("[REDACTED]") == 2 and msg.endswith("...") and len(msg) == 203


# ------------------------------------------------------------------------ progress


def test_progress_counters():
    from rich.console import Console
    from rich.progress import Progress

    progress = Progress(console=Console(file=io.StringIO()), auto_refresh=False)
    with progress:
        runner(FakeTeacher(), progress=progress).run_sync([req(i) for i in range(4)])
    task = progress.tasks[0]
    assert task.completed == 4 and task.total == 4
    assert "calls 4" in task.description and "hits 0" in task.description


def test_run_sync_inside_running_loop():
    async def main():
        return runner(FakeTeacher()).run_sync([req(0)])

    assert asyncio.run(main())[0].text == "a0"


def test_cache_put_many_and_stored_document(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    items = [(f"k{i}", TeacherResponse(text=f"t{i}", parsed={"i": [i]}, usage=Usage(i, 1), metadata={"m": i}))
             for i in range(5)] + [("bad", TeacherResponse(text="", error="boom"))]
    assert cache.put_many(items, backend="b", model="m") == 5
    assert "bad" not in cache and len(cache) == 5
    other = ResponseCache(tmp_path / "c.sqlite")  # committed: visible to another connection
    got = other.get("k3")
    assert got.cached and got.parsed == {"i": [3]} and got.usage == Usage(3, 1) and got.metadata == {"m": 3}
    expected = dict(items[3][1].to_dict(), cached=False)
    stored = other._conn.execute("SELECT response FROM responses WHERE key = 'k3'").fetchone()[0]
    assert json.loads(stored) == expected
    assert cache.put_many([]) == 0


def test_cache_writes_are_grouped_and_committed_before_run_returns(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    batches: list[int] = []
    put_many = cache.put_many

    def spy(items, **kw):
        items = list(items)
        batches.append(len(items))
        return put_many(items, **kw)

    cache.put_many = spy  # type: ignore[method-assign]
    reqs = [req(i) for i in range(40)]
    out = runner(FakeTeacher(), fast(max_concurrency=8), cache=cache).run_sync(reqs)
    assert all(o.ok for o in out) and sum(batches) == 40 and max(batches) > 1
    other = ResponseCache(tmp_path / "c.sqlite")
    assert len(other) == 40 and all(r.cache_key("fake", "m1") in other for r in reqs)


def test_cache_write_failure_is_raised(tmp_path):
    import sqlite3

    cache = ResponseCache(tmp_path / "c.sqlite")

    def broken(items, **kw):
        raise sqlite3.OperationalError("disk I/O error")

    cache.put_many = broken  # type: ignore[method-assign]
    with pytest.raises(sqlite3.OperationalError):
        runner(FakeTeacher(), cache=cache).run_sync([req(i) for i in range(3)])


def test_responses_are_independent_copies():
    shared = TeacherResponse(text="same", parsed={"a": [1]}, usage=Usage(1, 1))
    teacher = FakeTeacher(lambda r, a, n: shared)
    out = runner(teacher).run_sync([req(0, tag="x"), req(1, tag="y")])
    assert out[0] is not out[1] and out[0].metadata["tag"] == "x" and out[1].metadata["tag"] == "y"
    out[0].parsed["a"].append(2)
    out[0].usage.prompt_tokens = 99
    assert out[1].parsed == {"a": [1]} and out[1].usage == Usage(1, 1) and shared.parsed == {"a": [1]}
