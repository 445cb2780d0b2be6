"""The one runner around every teacher.

:class:`TeacherRunner` answers a list of :class:`TeacherRequest` (in order) with
any teacher and adds, in one place:

* a response cache (hits make no call; the answers that arrive in one turn of
  the event loop are committed together, and all of them before ``run``
  returns or raises);
* for online teachers (``generate_one``): bounded concurrency, requests/min and
  tokens/min limits, retries with exponential backoff and jitter that honour
  ``Retry-After`` (and pause *every* request while the server asks to), a
  per-attempt timeout, and a circuit breaker that stops a failure storm;
* for batch teachers (``generate`` only, ``is_batch = True``): only the cache
  misses are submitted;
* structured output: replies are validated against ``request.json_schema``;
  invalid or truncated replies are re-asked (bounded), then become error
  responses — never exceptions;
* budgets (checked before every call), a cost meter and an optional ``rich``
  progress bar;
* every reply, from any teacher, is sanitised as it arrives
  (:func:`~data_agent.generators.teachers.sanitise.sanitise_response`:
  unencodable code points and NULs, configured API keys), so nothing that
  stores or reads it later sees hostile text.

A single bad request never stops the run: it gets a response with ``error``
set. The run stops early only on :class:`CircuitOpen` or
:class:`~data_agent.generators.engine.budget.BudgetExceeded`, raised after every
completed response was kept (cached); both carry the partial results as
``exc.results``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import dataclasses
import inspect
import json
import logging
import math
import random
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from ...config import RunnerSettings
from ...logging_utils import redact
from ..teachers.base import (FatalError, RetryableError, TeacherError, TeacherRequest, TeacherResponse, Usage,
                   parse_json_text)
from ..teachers.prices import PriceTable
from ..teachers.sanitise import sanitise_response
from .budget import Budget, BudgetExceeded, CostMeter
from .cache import ResponseCache

__all__ = [
    "CircuitBreaker",
    "CircuitOpen",
    "RateLimiter",
    "RunnerConfig",
    "TeacherRunner",
    "backoff_delay",
    "parse_json_text",
    "run_interruptible",
]

logger = logging.getLogger(__name__)


def run_interruptible(coro: Any) -> Any:
    """``asyncio.run(coro)`` without asyncio's own SIGINT handling (which turns
    Ctrl+C into a cancellation of the main task): on the main thread, SIGINT
    raises KeyboardInterrupt at once and is remembered
    (:func:`data_agent.ui.on_interrupt`), as it is outside the loop."""
    from ...ui import on_interrupt

    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return asyncio.run(coro)  # off the main thread, or a handler of our own is in place already
    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        return asyncio.run(coro)
    finally:
        signal.signal(signal.SIGINT, previous)


# --------------------------------------------------------------------------- config


@dataclass

class RunnerConfig(RunnerSettings):
    """How the runner drives a teacher: the settings a run chooses (concurrency,
    rate limits, retries, timeout, re-asks, cache; the fields of
    :class:`data_agent.config.RunnerSettings`, documented there) and the
    runner's own knobs below (the per-minute rate limits count per
    ``rate_window``; see :class:`RateLimiter`)."""

    rate_window: float = 60.0
    """Length in seconds of the rate-limit window (60 for per-minute limits;
    tests shrink it)."""
    rate_headroom: float = 0.01
    """Fraction of ``requests_per_minute`` left unused, so that scheduling
    jitter (calls leave their slot a few ms late) never puts one call too many
    into a provider's window."""
    chars_per_token: float = 4.0
    """Characters per token used to estimate prompt tokens before a call."""
    backoff_base: float = 1.0
    """First backoff delay in seconds; it doubles with every attempt."""
    backoff_max: float = 60.0
    """Cap on the exponential backoff delay, in seconds."""
    jitter: float = 1.0
    """Randomised fraction of the backoff delay: the delay is drawn from
    ``[(1 - jitter) * d, d]``; 1.0 is "full jitter", 0 is none. A server's
    ``retry_after`` is always waited in full."""
    max_retry_after: float = 600.0
    """A ``retry_after`` longer than this (e.g. a daily quota) is not waited
    for: the request fails instead."""
    breaker_consecutive_failures: int | None = 20
    """Open the circuit after this many failed attempts in a row; ``None`` = off."""
    breaker_window: int = 50
    """Number of recent attempts over which ``breaker_failure_rate`` is measured."""
    breaker_failure_rate: float | None = 0.8
    """Open the circuit when at least this fraction of the last ``breaker_window``
    attempts failed (checked once the window is full); ``None`` = off."""
    breaker_trip_statuses: tuple[int, ...] = (401, 403)
    """HTTP statuses that open the circuit at once (bad key or permissions fail
    every request alike)."""

    def __post_init__(self) -> None:
        super().__post_init__()  # the ranges of the run settings (a ConfigError, which is a ValueError)
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be in [0, 1]")
        if self.rate_window <= 0:
            raise ValueError("rate_window must be > 0")
        if not 0.0 <= self.rate_headroom < 1.0:
            raise ValueError("rate_headroom must be in [0, 1)")
        if self.breaker_failure_rate is not None and not 0.0 < self.breaker_failure_rate <= 1.0:
            raise ValueError("breaker_failure_rate must be in (0, 1]")
        self.breaker_trip_statuses = tuple(self.breaker_trip_statuses)


# ------------------------------------------------------------------------ errors


class CircuitOpen(RuntimeError):
    """The circuit breaker stopped the run after a failure storm. Completed
    responses were kept (and cached); ``results`` holds them (``None`` for the
    requests not answered); ``status`` is the last failure's HTTP status."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status
        self.results: list[TeacherResponse | None] | None = None


class _Stopped(Exception):
    """Internal: the run is stopping; this request is left unanswered."""


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "status", None)


def _describe(exc: BaseException) -> str:
    """``HTTP 503 RetryableError: message`` with secrets redacted."""
    status = _status(exc)
    prefix = f"HTTP {status} " if status else ""
    return redact(f"{prefix}{type(exc).__name__}: {exc}")[:500]


def _is_throttle(exc: BaseException) -> bool:
    return isinstance(exc, RetryableError) and (exc.status == 429 or exc.retry_after is not None)


def backoff_delay(config: RunnerConfig, attempt: int, retry_after: float | None = None,
                  rng: Callable[[], float] = random.random) -> float:
    """Delay before retry number ``attempt`` (1 = first retry): exponential
    ``backoff_base * 2**(attempt-1)`` capped at ``backoff_max``, jittered by
    ``jitter``, and never shorter than ``retry_after``."""
    base = min(config.backoff_max, config.backoff_base * 2 ** max(0, attempt - 1))
    delay = base * (1.0 - config.jitter * rng())
    if retry_after is not None:
        delay = max(delay, float(retry_after))
    return delay


# --------------------------------------------------------------------- rate limit


@dataclass
class _Slot:
    at: float
    tokens: float


class RateLimiter:
    """Limits requests and tokens per ``window`` seconds, with a shared pause
    (``Retry-After``) that holds back every caller.

    * Requests are paced: one start every ``window / requests_per_window``
      seconds, never a burst. Providers enforce a per-minute limit over shorter
      periods too (600/min may be checked as 10/s), so a minute's worth of
      requests sent at once draws 429s; an even pace uses the whole limit and
      keeps every window, of any length, within it. ``headroom`` (a fraction)
      widens the spacing a little: a call leaves its booked time a few
      milliseconds late, and unevenly, and without headroom that could put one
      call too many into a provider's window.
    * Tokens use a sliding window: a call may start when the tokens booked in
      the ``window`` before it, plus its own estimate, fit the limit; the
      estimate is corrected to the reported usage when the call returns.

    Scheduling is pure arithmetic on ``clock()`` (so it can be tested without
    sleeping): :meth:`reserve` books the earliest start time at which the
    constraints hold, first come first served.
    """

    def __init__(self, requests_per_window: float | None = None, tokens_per_window: float | None = None,
                 window: float = 60.0, clock: Callable[[], float] = time.monotonic, *, headroom: float = 0.0):
        self.rpw = requests_per_window
        self.headroom = headroom
        self.tpw = tokens_per_window
        self.window = window
        self.clock = clock
        self._slots: deque[_Slot] = deque()
        self._pause_until = 0.0
        self._next_at = -math.inf  # earliest start of the next request under the pace

    @property
    def enabled(self) -> bool:
        return bool(self.rpw) or bool(self.tpw)

    @property
    def spacing(self) -> float:
        """Seconds between request starts (0 without a request limit)."""
        return self.window / self.rpw * (1.0 + self.headroom) if self.rpw else 0.0

    def reserve(self, tokens: float = 0.0) -> _Slot:
        """Book a start time for a call of ``tokens`` (estimated) tokens."""
        now = self.clock()
        while self._slots and self._slots[0].at <= now - self.window:
            self._slots.popleft()
        t = max(now, self._pause_until, self._slots[-1].at if self._slots else now)
        if self.tpw:
            tokens = min(tokens, self.tpw)  # a huge call still runs, alone in its window
        if self.rpw:
            t = max(t, self._next_at)
        if self.tpw:
            while True:
                live = [s for s in self._slots if s.at > t - self.window]
                used = sum(s.tokens for s in live)
                if used + tokens <= self.tpw:
                    break
                for s in live:  # drop the oldest until it fits
                    used -= s.tokens
                    if used + tokens <= self.tpw:
                        t = s.at + self.window
                        break
        slot = _Slot(t, tokens)
        if self.enabled:
            self._slots.append(slot)
        if self.rpw:
            self._next_at = t + self.spacing
        return slot

    def delay(self, slot: _Slot) -> float:
        """Seconds until ``slot`` may start."""
        return max(0.0, slot.at - self.clock())

    def cancel(self, slot: _Slot) -> None:
        """Give a booked slot back (the call did not happen)."""
        try:
            self._slots.remove(slot)
        except ValueError:
            return
        if self.rpw and self._next_at == slot.at + self.spacing:  # the latest booking gives its turn back
            self._next_at = slot.at

    def correct(self, slot: _Slot, tokens: float) -> None:
        """Replace a slot's token estimate by the reported usage."""
        slot.tokens = min(tokens, self.tpw) if self.tpw else tokens

    def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (a server's ``Retry-After``)."""
        self._pause_until = max(self._pause_until, self.clock() + seconds)

    def pause_remaining(self) -> float:
        return max(0.0, self._pause_until - self.clock())


# ----------------------------------------------------------------- circuit breaker


class CircuitBreaker:
    """Opens on ``consecutive`` failures in a row, on a failure rate of at least
    ``rate`` over the last ``window`` attempts, or at once on a status in
    ``trip_statuses``."""

    def __init__(self, consecutive: int | None = 20, window: int = 50, rate: float | None = 0.8,
                 trip_statuses: Sequence[int] = (401, 403)):
        self.consecutive_limit = consecutive
        self.rate = rate
        self.trip_statuses = tuple(trip_statuses)
        self.outcomes: deque[bool] = deque(maxlen=max(1, window))
        self.consecutive = 0
        self.reason: str | None = None
        self.last_status: int | None = None

    @property
    def open(self) -> bool:
        return self.reason is not None

    def record_success(self) -> None:
        self.consecutive = 0
        self.outcomes.append(True)

    def record_failure(self, exc: BaseException) -> str | None:
        """Count a failure; returns the reason if this failure opened the circuit."""
        self.consecutive += 1
        self.outcomes.append(False)
        if self.open:
            return None
        status = _status(exc)
        self.last_status = status
        what = _describe(exc)
        if status is not None and status in self.trip_statuses:
            hint = (" The API key or its permissions are rejected for every request: check the key's"
                    " environment variable and the model name (the key itself is never logged).")
            self.reason = f"HTTP {status} from the teacher ({what}).{hint}"
        elif self.consecutive_limit and self.consecutive >= self.consecutive_limit:
            self.reason = f"{self.consecutive} consecutive failed calls (last: {what})."
        elif (self.rate is not None and len(self.outcomes) == self.outcomes.maxlen
              and self.outcomes.count(False) / len(self.outcomes) >= self.rate):
            self.reason = (f"{self.outcomes.count(False)} of the last {len(self.outcomes)} calls failed "
                           f"(last: {what}).")
        return self.reason


# ------------------------------------------------------------------ JSON checking




def _reask_request(request: TeacherRequest, response: TeacherResponse, problem: str) -> TeacherRequest:
    """The original request plus a note asking for a corrected reply."""
    messages = [dict(m) for m in request.messages]
    if response.finish_reason == "length":
        note = ("Your previous reply was cut off at the length limit before the JSON document was complete. "
                "Reply again with only the JSON document, more concisely.")
        if messages and messages[-1].get("role") == "user":
            messages[-1]["content"] = f"{messages[-1]['content']}\n\n{note}"
        else:
            messages.append({"role": "user", "content": note})
    else:
        if response.text.strip():
            messages.append({"role": "assistant", "content": response.text})
        messages.append({"role": "user", "content": (
            f"That reply is not acceptable: {problem}. Reply with only a JSON document that satisfies "
            "the required schema, with no prose or code fences.")})
    return dataclasses.replace(request, messages=tuple(messages))


# -------------------------------------------------------------------------- runner


class _RunState:
    """Per-run state (asyncio objects must belong to the running loop)."""

    def __init__(self, config: RunnerConfig, total: int):
        self.sem = asyncio.Semaphore(config.max_concurrency)
        self.stop_event = asyncio.Event()
        self.stop_exc: BaseException | None = None
        self.breaker = CircuitBreaker(config.breaker_consecutive_failures, config.breaker_window,
                                      config.breaker_failure_rate, config.breaker_trip_statuses)
        self.total = total
        self.done = 0
        self.progress_task: Any = None
        self.to_store: list[tuple[str, TeacherResponse]] = []
        self.store_scheduled = False
        self.store_error: BaseException | None = None

    def stop(self, exc: BaseException) -> None:
        if self.stop_exc is None:
            self.stop_exc = exc
            self.stop_event.set()

    def raise_if_stopped(self) -> None:
        if self.stop_exc is not None:
            raise _Stopped()

    async def sleep(self, seconds: float) -> None:
        """Sleep, but wake up at once when the run stops."""
        if seconds <= 0 or self.stop_exc is not None:
            await asyncio.sleep(0)
            return
        try:
            await asyncio.wait_for(self.stop_event.wait(), timeout=seconds)
        except TimeoutError:
            pass


@dataclass
class _Pending:
    """A batch-teacher request across re-ask rounds."""

    key: str
    indices: list[int]
    request: TeacherRequest
    send: TeacherRequest
    last: TeacherResponse | None = None
    problem: str | None = None


class TeacherRunner:
    """Runs requests through a teacher with caching, limits, retries and budgets.

    Args:
        teacher: an ``OnlineTeacher`` (anything with ``generate_one``), or a batch
            teacher (``is_batch = True``, or only ``generate(requests)``).
        config: the :class:`RunnerConfig` (defaults if ``None``).
        cache: a :class:`ResponseCache`, or ``None`` for no caching.
        budget: limits checked before every call (unlimited if ``None``).
        meter: the :class:`CostMeter` to update (a new one if ``None``; pass the
            same meter to every runner of a run to share run-scope totals).
        progress: a started ``rich.progress.Progress``; one task per run is added
            and advanced per answered request, with live counters.
        prices: the :class:`PriceTable` used to cost responses (``PriceTable.load()``
            if ``None``). A response's ``cost`` is filled in when the backend left
            it at 0; it is the cost of the call that produced it.
        clock: monotonic clock of the rate limiter (tests may inject one).
    """

    def __init__(self, teacher: Any, config: RunnerConfig | None = None, cache: ResponseCache | None = None,
                 budget: Budget | None = None, meter: CostMeter | None = None, progress: Any = None, *,
                 prices: PriceTable | None = None, clock: Callable[[], float] = time.monotonic,
                 wire_audit: Any = None):
        self.teacher = teacher
        self.wire_audit = wire_audit
        """A :class:`~data_agent.generators.engine.wire_audit.WireAudit` that sees every request before it is
        sent (or answered from the cache), or ``None``."""
        self.config = config or RunnerConfig()
        self.cache = cache
        self.budget = budget or Budget()
        self.meter = meter if meter is not None else CostMeter()
        self.progress = progress
        self.prices = prices if prices is not None else PriceTable.load()
        self.backend: str = getattr(teacher, "backend", "") or type(teacher).__name__
        self.model: str = getattr(teacher, "model", "") or ""
        self.model_spec = f"{self.backend}:{self.model}"
        self.online = not getattr(teacher, "is_batch", False) and callable(getattr(teacher, "generate_one", None))
        cfg = self.config
        self.limiter = RateLimiter(cfg.requests_per_minute, cfg.tokens_per_minute, cfg.rate_window, clock,
                                   headroom=cfg.rate_headroom)
        self._validators: dict[str, Any] = {}

    # ---------------------------------------------------------------- public API

    async def run(self, requests: Sequence[TeacherRequest]) -> list[TeacherResponse]:
        """Answer every request, in input order.

        Raises:
            CircuitOpen: a failure storm stopped the run (``exc.results`` holds
                what completed; completed responses are cached).
            BudgetExceeded: a budget limit was reached (same).
        """
        requests = list(requests)
        if self.wire_audit is not None:  # before anything leaves the process; raises WireAuditError
            self.wire_audit.check_all(requests)
        cfg = self.config
        st = _RunState(cfg, len(requests))
        results: list[TeacherResponse | None] = [None] * len(requests)
        for req in requests:
            if req.json_schema is not None:
                self._validator(req.json_schema)  # a broken schema is a bug: fail before any call
        if self.progress is not None:
            st.progress_task = self.progress.add_task(self._progress_text(), total=len(requests))

        groups: dict[str, list[int]] = {}
        for i, req in enumerate(requests):
            if not cfg.use_cache:  # no lookup, no merging: the key would be unused
                groups[f"#{i}"] = [i]
                continue
            key = req.cache_key(self.backend, self.model)
            hit = self.cache.get(key) if self.cache is not None else None
            if hit is not None:
                self.meter.record_cache_hit()
                # Cleaned again on the way out: an entry stored by an older version, or by a run
                # configured with other keys, gets today's cleaning (idempotent for the rest).
                results[i] = sanitise_response(self._deliver(hit, req, cached=True))
                self._advance(st, 1)
                continue
            groups.setdefault(key, []).append(i)

        if groups:
            try:
                if self.online:
                    await self._run_online(requests, groups, results, st)
                else:
                    await self._run_batch(requests, groups, results, st)
            finally:
                self._flush_store(st)  # every answer is committed before anyone sees it
            if st.store_error is not None:
                raise st.store_error

        if st.stop_exc is not None:
            exc = st.stop_exc
            done = sum(r is not None for r in results)
            exc.results = results  # type: ignore[attr-defined]
            exc.add_note(f"{done} of {len(requests)} requests have a response (kept in exc.results"
                         f"{' and the cache' if self.cache is not None else ''}); spent so far: "
                         f"{self.meter.summary()}.")
            raise exc
        return results  # type: ignore[return-value]

    def run_sync(self, requests: Sequence[TeacherRequest]) -> list[TeacherResponse]:
        """Blocking :meth:`run` (runs in a worker thread if a loop is already running)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            loop_running = False
        else:
            loop_running = True
        if not loop_running:
            return run_interruptible(self.run(requests))
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self.run(requests)).result()

    # ------------------------------------------------------------------- helpers

    def _deliver(self, response: TeacherResponse, request: TeacherRequest, *, cached: bool) -> TeacherResponse:
        # Each caller gets its own object (identical requests share one answer;
        # a teacher may hand out the same object twice). Only the mutable fields
        # are copied: text, reasons and numbers are immutable.
        r = copy.copy(response)
        r.usage = copy.copy(response.usage)
        if r.parsed is not None:
            r.parsed = copy.deepcopy(r.parsed)
        r.cached = cached
        r.metadata = {**request.metadata, **r.metadata}
        if not r.model:
            r.model = self.model
        return r

    def _error_response(self, request: TeacherRequest, error: str, base: TeacherResponse | None = None) -> TeacherResponse:
        if base is not None:
            r = copy.deepcopy(base)
            r.parsed = None
            r.error = error
        else:
            r = TeacherResponse(text="", error=error, model=self.model)
        self.meter.record_error()
        return r

    def _store(self, st: _RunState, key: str, response: TeacherResponse) -> None:
        """Queue a response for the cache. The answers that arrive in one turn of
        the event loop are committed together (one transaction) in a callback
        at the start of the next turn, and whatever is left is committed before
        ``run`` returns or raises: a response is on disk before any caller sees
        it, at the cost of one commit per turn instead of one per response."""
        if self.cache is None or not self.config.use_cache:
            return
        st.to_store.append((key, response))
        if not st.store_scheduled:
            st.store_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_store, st)

    def _flush_store(self, st: _RunState) -> None:
        st.store_scheduled = False
        items, st.to_store = st.to_store, []
        if not items or self.cache is None:
            return
        try:
            self.cache.put_many(items, backend=self.backend, model=self.model)
        except Exception as e:  # raised by run() once every call has finished
            logger.error("could not store %d responses in the cache: %s", len(items), e)
            if st.store_error is None:
                st.store_error = e

    def _estimate(self, request: TeacherRequest) -> tuple[float, float]:
        """(prompt, completion) token estimate before a call."""
        chars = sum(len(str(m.get("content") or "")) for m in request.messages)
        if request.json_schema is not None:
            chars += len(json.dumps(request.json_schema))
        prompt = chars / self.config.chars_per_token + 4 * len(request.messages)
        return prompt, float(request.params.max_tokens)

    def _price(self, usage: Usage, batch: bool = False) -> float:
        if usage.total_tokens <= 0:
            return 0.0
        return self.prices.cost(self.model_spec, usage, batch=batch)

    def _validator(self, schema: dict[str, Any]) -> Any:
        k = json.dumps(schema, sort_keys=True, default=str)
        v = self._validators.get(k)
        if v is None:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            v = self._validators[k] = cls(schema)
        return v

    def _check(self, request: TeacherRequest, response: TeacherResponse) -> str | None:
        """Why a structured reply is unacceptable, or ``None`` (then ``parsed`` is set)."""
        if request.json_schema is None:
            return None
        if response.finish_reason == "length":
            return "the reply was truncated at max_tokens (finish_reason=length)"
        data = response.parsed
        if data is None:
            try:
                data = parse_json_text(response.text)
            except ValueError as e:
                return str(e)
        error = jsonschema.exceptions.best_match(self._validator(request.json_schema).iter_errors(data))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            return f"schema violation at {where}: {error.message[:300]}"
        response.parsed = data
        sanitise_response(response)  # the parsed strings too: a JSON escape may hide a surrogate or a key
        return None

    def _progress_text(self) -> str:
        c = self.meter.total
        tok = f"{c.tokens / 1000:.1f}k" if c.tokens >= 1000 else str(c.tokens)
        return (f"{self.model_spec} · calls {c.calls} · tok {tok} · ${c.spent_dollars:.4f}"
                f" · hits {c.cache_hits} · fail {c.failures}")

    def _advance(self, st: _RunState, n: int) -> None:
        st.done += n
        if self.progress is not None and st.progress_task is not None:
            self.progress.update(st.progress_task, advance=n, description=self._progress_text())

    def _record_failure(self, st: _RunState, exc: BaseException) -> None:
        reason = st.breaker.record_failure(exc)
        if reason is not None:
            msg = (f"Circuit breaker open for {self.model_spec}: {reason} Stopped launching new calls; "
                   "fix the cause and rerun (cached responses are not asked again).")
            logger.error(msg)
            st.stop(CircuitOpen(msg, status=st.breaker.last_status))

    # -------------------------------------------------------------------- online

    async def _run_online(self, requests: list[TeacherRequest], groups: dict[str, list[int]],
                          results: list[TeacherResponse | None], st: _RunState) -> None:
        async def one(key: str, indices: list[int]) -> None:
            try:
                response = await self._solve(requests[indices[0]], key, st)
            except _Stopped:
                return
            for i in indices:
                results[i] = self._deliver(response, requests[i], cached=False)
            self._advance(st, len(indices))

        tasks = [asyncio.create_task(one(k, idx)) for k, idx in groups.items()]
        try:
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            for t in tasks:
                if not t.done():
                    t.cancel()
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _solve(self, request: TeacherRequest, key: str, st: _RunState) -> TeacherResponse:
        """One request through retries and re-asks; always returns a response
        (error responses included) unless the run stops."""
        send = request
        problem = ""
        last: TeacherResponse | None = None
        for ask in range(self.config.max_reasks + 1):
            if ask:
                self.meter.record_reask()
            try:
                response = await self._call_with_retries(send, st)
            except RetryableError as e:  # retries exhausted, or retry_after too long
                if _is_throttle(e):
                    self._record_failure(st, e)
                return self._error_response(request, _describe(e), base=None)
            except FatalError as e:
                return self._error_response(request, _describe(e), base=None)
            problem = self._check(request, response)
            if problem is None:
                self._store(st, key, response)
                return response
            last = response
            logger.debug("invalid structured reply from %s (%s); re-asking", self.model_spec, problem)
            send = _reask_request(request, response, problem)
        return self._error_response(
            request, f"InvalidOutput: {problem} (after {self.config.max_reasks} re-asks)", base=last)

    async def _call_with_retries(self, request: TeacherRequest, st: _RunState) -> TeacherResponse:
        """``_attempt`` retried on ``RetryableError``: at most ``max_retries + 1``
        attempts, ``backoff_delay`` between them (never shorter than the
        server's ``retry_after``; a ``retry_after`` above ``max_retry_after`` is
        not waited for). Other exceptions propagate at once. (A plain loop: the
        same policy as a tenacity ``AsyncRetrying``, without building one per
        request on the hot path.)"""
        cfg = self.config
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(request, st)
            except RetryableError as exc:
                if attempt > cfg.max_retries or (exc.retry_after is not None
                                                 and exc.retry_after > cfg.max_retry_after):
                    raise
                delay = backoff_delay(cfg, attempt, exc.retry_after)
                self.meter.record_retry()
                logger.debug("retrying %s in %.2fs after %s", self.model_spec, delay, _describe(exc))
            await st.sleep(delay)

    async def _attempt(self, request: TeacherRequest, st: _RunState) -> TeacherResponse:
        """One call: wait for the shared pause and a rate slot, check the budget,
        call, meter."""
        prompt_est, completion_est = self._estimate(request)
        est_tokens = prompt_est + completion_est
        async with st.sem:
            while True:
                st.raise_if_stopped()
                while (pause := self.limiter.pause_remaining()) > 0:
                    await st.sleep(pause)
                    st.raise_if_stopped()
                slot = self.limiter.reserve(est_tokens)
                wait = self.limiter.delay(slot)
                if wait <= 0:  # nothing awaited since the checks above: start now
                    break
                await st.sleep(wait)
                st.raise_if_stopped()
                if self.limiter.pause_remaining() > 0:  # a Retry-After arrived meanwhile
                    self.limiter.cancel(slot)
                    continue
                break
            est_dollars = self._price(Usage(int(prompt_est), int(completion_est)))
            try:  # the meter counts its calls in flight (record_sent below)
                self.budget.check(self.meter)
            except BudgetExceeded as e:
                self.limiter.cancel(slot)
                logger.warning("%s", e)
                st.stop(e)
                raise _Stopped() from e
            # Counted (and saved) before the request leaves: a call cut by a SIGKILL is billed by
            # the provider, so the next process must find it in the meter.
            sent = self.meter.record_sent(est_tokens, est_dollars)
            try:
                response = await self._invoke(request)
            except RetryableError as e:
                self.meter.record_failure(e.usage, self._price(e.usage), sent=sent)
                if e.retry_after is not None and e.retry_after <= self.config.max_retry_after:
                    self.limiter.pause(e.retry_after)
                if not _is_throttle(e):
                    self._record_failure(st, e)
                raise
            except FatalError as e:
                self.meter.record_failure(sent=sent)
                self._record_failure(st, e)
                raise
            except BaseException:  # cancelled (Ctrl+C, a stopped run): the call is out, its answer is not read
                self.meter.record_interrupted(sent)
                raise
        sanitise_response(response)  # before it is checked, re-asked with, cached or handed on
        if not response.cost:
            response.cost = self._price(response.usage)
        if not response.model:
            response.model = self.model
        self.meter.record_call(response.usage, response.cost, sent=sent)
        if response.usage.total_tokens > 0:
            self.limiter.correct(slot, response.usage.total_tokens)
        st.breaker.record_success()
        return response

    async def _invoke(self, request: TeacherRequest) -> TeacherResponse:
        """``generate_one`` with the timeout; anything unexpected becomes a
        ``FatalError`` for this request only."""
        timeout = self.config.timeout
        try:
            if timeout is None:
                return await self.teacher.generate_one(request)
            async with asyncio.timeout(timeout):  # in this task: no extra task per call, unlike wait_for
                return await self.teacher.generate_one(request)
        except (RetryableError, FatalError):
            raise
        except TimeoutError as e:
            raise RetryableError(f"no reply within {timeout:g}s") from e
        except TeacherError as e:
            raise FatalError(str(e), status=_status(e)) from e
        except Exception as e:  # a backend bug must not crash the whole run
            logger.warning("unexpected %s from %s.generate_one", type(e).__name__, self.model_spec, exc_info=True)
            raise FatalError(f"unexpected {type(e).__name__}: {e}") from e

    # --------------------------------------------------------------------- batch

    async def _run_batch(self, requests: list[TeacherRequest], groups: dict[str, list[int]],
                         results: list[TeacherResponse | None], st: _RunState) -> None:
        pending = [_Pending(k, idx, requests[idx[0]], requests[idx[0]]) for k, idx in groups.items()]

        def finish(item: _Pending, response: TeacherResponse) -> None:
            for i in item.indices:
                results[i] = self._deliver(response, requests[i], cached=False)
            self._advance(st, len(item.indices))

        for ask in range(self.config.max_reasks + 1):
            if not pending or st.stop_exc is not None:
                break
            if ask:
                self.meter.record_reask(len(pending))
            allowed: list[_Pending] = []
            tokens = dollars = 0.0
            for item in pending:
                try:
                    self.budget.check(self.meter, pending_calls=len(allowed) + 1, pending_tokens=tokens,
                                      pending_dollars=dollars)
                except BudgetExceeded as e:
                    logger.warning("%s", e)
                    st.stop(e)
                    break
                p, c = self._estimate(item.send)
                tokens += p + c
                dollars += self._price(Usage(int(p), int(c)), batch=True)
                allowed.append(item)
            if not allowed:
                break
            responses = await self._call_batch([it.send for it in allowed])
            next_pending: list[_Pending] = []
            for item, response in zip(allowed, responses):
                sanitise_response(response)  # before it is checked, re-asked with, cached or handed on
                if not response.cost:
                    response.cost = self._price(response.usage, batch=True)
                if not response.model:
                    response.model = self.model
                if not response.ok:
                    self.meter.record_failure(response.usage, response.cost)
                    response.error = redact(response.error or "")
                    self.meter.record_error()
                    finish(item, response)
                    continue
                self.meter.record_call(response.usage, response.cost)
                problem = self._check(item.request, response)
                if problem is None:
                    self._store(st, item.key, response)
                    finish(item, response)
                else:
                    item.last, item.problem = response, problem
                    item.send = _reask_request(item.request, response, problem)
                    next_pending.append(item)
            pending = next_pending
        if st.stop_exc is None:
            for item in pending:
                finish(item, self._error_response(
                    item.request, f"InvalidOutput: {item.problem} (after {self.config.max_reasks} re-asks)",
                    base=item.last))

    async def _call_batch(self, batch: list[TeacherRequest]) -> list[TeacherResponse]:
        """``teacher.generate`` (sync or async), retried as a whole on
        ``RetryableError``; a ``FatalError`` turns every request into an error."""
        cfg = self.config

        async def call() -> list[TeacherResponse]:
            out = self.teacher.generate(batch)
            if inspect.isawaitable(out):
                out = await out
            return list(out)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(cfg.max_retries + 1),
            wait=lambda s: backoff_delay(cfg, s.attempt_number,
                                         getattr(s.outcome.exception() if s.outcome else None, "retry_after", None)),
            retry=retry_if_exception(lambda e: isinstance(e, RetryableError)),
            before_sleep=lambda s: self.meter.record_retry(),
            reraise=True,
        )
        try:
            responses = await retrying(call)
        except (RetryableError, FatalError) as e:
            return [TeacherResponse(text="", error=_describe(e), model=self.model) for _ in batch]
        if len(responses) != len(batch):
            raise RuntimeError(f"{self.model_spec}: generate() returned {len(responses)} responses "
                               f"for {len(batch)} requests")
        return responses
