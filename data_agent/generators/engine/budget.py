"""Budgets and cost metering.

* :class:`Budget` — limits on calls, tokens and dollars, for the whole run and
  for the current iteration (``None`` = unlimited).
* :class:`CostMeter` — what was spent: calls, prompt/completion tokens, dollars,
  failures (and failed-but-billed calls), cache hits, retries and re-asks, both
  in total and since :meth:`CostMeter.start_iteration`. Given a ``path``, the
  meter is kept in a JSON file and picked up again by the next process, so a
  resumed run's budgets count what the interrupted one already spent. An
  online call is counted when it is *sent* (:meth:`CostMeter.record_sent`,
  saved before the request leaves, with its estimated tokens and dollars as
  "in flight") and settled when its answer or error arrives; so a call cut by
  a SIGKILL, which the provider still bills, is in the file, and the next
  process counts it as ``interrupted`` (its estimate stands in for its
  unknown usage in the budgets).

The price table the runner costs responses with is
:class:`data_agent.generators.teachers.prices.PriceTable`.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from ...config import BudgetSettings
from ...errors import DataAgentError
from ...records import atomic_write_json
from ..teachers.base import Usage

logger = logging.getLogger(__name__)

__all__ = ["Budget", "BudgetExceeded", "CostMeter", "Counters"]


# --------------------------------------------------------------------------- meter


@dataclass
class Counters:
    """Spending counters for one scope."""

    requests: int = 0
    """Requests submitted (answered by a call or from the cache)."""
    calls: int = 0
    """Requests sent to the teacher (every attempt: retries and re-asks count)."""
    prompt_tokens: int = 0
    """Billed prompt tokens, including failed-but-billed attempts."""
    completion_tokens: int = 0
    """Billed completion tokens, including failed-but-billed attempts."""
    dollars: float = 0.0
    """Estimated spend from the price table."""
    failures: int = 0
    """Attempts that failed (retryable or fatal), whether retried or not."""
    billed_failures: int = 0
    """Failed attempts that still reported (and were charged) token usage."""
    errors: int = 0
    """Requests that ended with an error response (after retries/re-asks)."""
    cache_hits: int = 0
    """Requests answered from the cache (no call)."""
    retries: int = 0
    """Retries scheduled after a retryable failure."""
    reasks: int = 0
    """Re-asks after invalid or truncated structured output."""
    in_flight: int = 0
    """Calls sent and not yet answered (non-zero on disk while a process runs, or after it was killed)."""
    in_flight_tokens: float = 0.0
    """Estimated tokens of the calls in flight."""
    in_flight_dollars: float = 0.0
    """Estimated dollars of the calls in flight."""
    interrupted: int = 0
    """Calls that were in flight when their process stopped (SIGKILL, power loss): the
    provider may have billed them, their answers were lost, a resume asks again."""
    interrupted_tokens: float = 0.0
    """Estimated tokens of the interrupted calls (counted in :attr:`tokens`)."""
    interrupted_dollars: float = 0.0
    """Estimated dollars of the interrupted calls (counted in :attr:`spent_dollars`)."""

    @property
    def tokens(self) -> int:
        """Billed tokens plus the estimates of interrupted calls (what the budgets count)."""
        return self.prompt_tokens + self.completion_tokens + int(round(self.interrupted_tokens))

    @property
    def spent_dollars(self) -> float:
        """Estimated spend plus the estimates of interrupted calls (what the budgets count)."""
        return self.dollars + self.interrupted_dollars

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "tokens": self.tokens}


class CostMeter:
    """Counts spending in two scopes: ``total`` (the run) and ``iteration``
    (reset by :meth:`start_iteration`). Thread-safe.

    Args:
        path: a JSON file holding the counters across processes: loaded when it
            exists, written (atomically) at most ``autosave_seconds`` apart as
            counts change and on :meth:`save`. A process killed mid-run loses at
            most the last ``autosave_seconds`` of counts. ``None``: in memory only.
        autosave_seconds: minimum time between automatic saves.

    Raises:
        DataAgentError: ``path`` exists but is not a meter file.
    """

    VERSION = 1

    def __init__(self, path: str | Path | None = None, *, autosave_seconds: float = 1.0) -> None:
        self.total = Counters()
        self.iteration = Counters()
        self.iteration_label: Any = None
        """What the ``iteration`` scope counts (e.g. the iteration number), or ``None``."""
        self.path = Path(path) if path is not None else None
        self.autosave_seconds = autosave_seconds
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()
        self._last_save = 0.0
        self._dirty = False
        if self.path is not None and self.path.exists():
            self._load(self.path)

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("version") != self.VERSION:
                raise ValueError(f"expected a version-{self.VERSION} meter object")
            names = {f.name for f in fields(Counters)}
            total, iteration = (Counters(**{k: v for k, v in dict(data[scope]).items() if k in names})
                                for scope in ("total", "iteration"))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise DataAgentError(f"{path}: unreadable spending record ({e}); delete it to count this run's "
                                 f"spending from zero") from None
        self.total, self.iteration, self.iteration_label = total, iteration, data.get("iteration_label")
        lost = total.in_flight
        for c in (total, iteration):  # the process that saved this is gone: its calls in flight were cut
            c.interrupted += c.in_flight
            c.interrupted_tokens += c.in_flight_tokens
            c.interrupted_dollars += c.in_flight_dollars
            c.in_flight, c.in_flight_tokens, c.in_flight_dollars = 0, 0.0, 0.0
        if lost:
            self._dirty = True
            logger.warning("%d teacher call(s) were in flight when the previous process stopped: the provider may "
                           "have billed them (their estimates count against the budgets); they are asked again",
                           lost)

    def start_iteration(self, label: Any = None) -> None:
        """Begin a new iteration scope labelled ``label`` (run totals are kept)."""
        with self._lock:
            self.iteration = Counters()
            self.iteration_label = label
            self._dirty = True
        self.save()

    def ensure_iteration(self, label: Any) -> None:
        """Count into the iteration scope ``label``: a new scope unless the
        current one (possibly loaded from ``path``) already has that label."""
        if label != self.iteration_label:
            self.start_iteration(label)

    def save(self) -> None:
        """Write the counters to ``path`` now (no-op without a path or changes)."""
        if self.path is None:
            return
        with self._save_lock:
            with self._lock:
                if not self._dirty:
                    return
                data = {"version": self.VERSION, "iteration_label": self.iteration_label,
                        "total": self.total.to_dict(), "iteration": self.iteration.to_dict()}
                self._dirty = False
                self._last_save = time.monotonic()
            atomic_write_json(self.path, data)

    def _add(self, **deltas: float) -> None:
        with self._lock:
            for scope in (self.total, self.iteration):
                for name, value in deltas.items():
                    setattr(scope, name, getattr(scope, name) + value)
            self._dirty = True
            due = self.path is not None and time.monotonic() - self._last_save >= self.autosave_seconds
        if due:
            self.save()

    def record_requests(self, n: int) -> None:
        """``n`` requests submitted."""
        self._add(requests=n)

    def record_sent(self, est_tokens: float = 0.0, est_dollars: float = 0.0) -> tuple[float, float]:
        """A call is about to be sent: count it, with its estimates in flight, and
        save now, so that a SIGKILL while it is out leaves it on disk. Returns the
        ticket to settle it with (:meth:`record_call` or :meth:`record_failure`)."""
        self._add(calls=1, in_flight=1, in_flight_tokens=est_tokens, in_flight_dollars=est_dollars)
        self.save()
        return (est_tokens, est_dollars)

    def _settle(self, sent: tuple[float, float] | None) -> dict[str, float]:
        if sent is None:  # not announced by record_sent (a batch or a local call): count it now
            return {"calls": 1}
        return {"in_flight": -1, "in_flight_tokens": -sent[0], "in_flight_dollars": -sent[1]}

    def record_call(self, usage: Usage, dollars: float = 0.0, sent: tuple[float, float] | None = None) -> None:
        """A successful call (``sent``: its :meth:`record_sent` ticket, if it had one)."""
        self._add(**self._settle(sent), prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                  dollars=dollars)
        if sent is not None:
            self.save()

    def record_failure(self, usage: Usage | None = None, dollars: float = 0.0,
                       sent: tuple[float, float] | None = None) -> None:
        """A failed call; its usage (if the provider billed it) counts."""
        usage = usage or Usage()
        billed = int(usage.total_tokens > 0 or dollars > 0)
        self._add(**self._settle(sent), failures=1, billed_failures=billed, prompt_tokens=usage.prompt_tokens,
                  completion_tokens=usage.completion_tokens, dollars=dollars)
        if sent is not None:
            self.save()

    def record_interrupted(self, sent: tuple[float, float]) -> None:
        """A sent call whose answer this process will not read (it was cancelled:
        Ctrl+C, a stopped run): the provider may bill it, so it counts as interrupted."""
        self._add(in_flight=-1, in_flight_tokens=-sent[0], in_flight_dollars=-sent[1], interrupted=1,
                  interrupted_tokens=sent[0], interrupted_dollars=sent[1])
        self.save()

    def record_error(self, n: int = 1) -> None:
        self._add(errors=n)

    def record_cache_hit(self, n: int = 1) -> None:
        self._add(cache_hits=n)

    def record_retry(self) -> None:
        self._add(retries=1)

    def record_reask(self, n: int = 1) -> None:
        self._add(reasks=n)

    def summary(self, scope: str = "total") -> str:
        """One line: ``calls 12 · tokens 3.4k · $0.0123 · cache hits 5 · failures 1``
        (`` · interrupted 2`` when calls were cut by a killed process)."""
        c: Counters = getattr(self, scope)
        tok = f"{c.tokens / 1000:.1f}k" if c.tokens >= 1000 else str(c.tokens)
        return (f"calls {c.calls} · tokens {tok} · ${c.spent_dollars:.4f} · cache hits {c.cache_hits}"
                f" · failures {c.failures} · errors {c.errors}" + (f" · interrupted {c.interrupted}"
                                                                    if c.interrupted else ""))

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total.to_dict(), "iteration": self.iteration.to_dict()}

    def __repr__(self) -> str:
        return f"CostMeter({self.summary()})"


# -------------------------------------------------------------------------- budget


class BudgetExceeded(RuntimeError):
    """A budget limit is reached: no new call was made. Work done before stays
    done (responses are cached); the runner attaches the partial results as
    ``results`` (``None`` for requests not answered)."""

    def __init__(self, scope: str, limit: str, maximum: float, used: float):
        self.scope = scope
        self.limit = limit
        self.maximum = maximum
        self.used = used
        self.results: list[Any] | None = None
        if limit == "max_dollars":
            amounts = f"${used:.4f} of ${maximum:.4f}"
        else:
            amounts = f"{used:g} of {maximum:g}"
        flag = "--" + limit.replace("_", "-")
        super().__init__(
            f"{scope.capitalize()} budget exhausted: {limit} reached ({amounts}, counting calls in flight). "
            f"No further teacher calls were made; everything made so far is kept. To continue, raise the limit: "
            f"data-agent resume RUN_DIR {flag} N"
        )


@dataclass
class Budget(BudgetSettings):
    """Spending limits. ``None`` means unlimited. The limits are the fields of
    :class:`data_agent.config.BudgetSettings` (documented there), so a run's
    budget is its :class:`~data_agent.config.TeacherConfig`'s values of them.

    Limits are checked before every call: a call is refused when the calls
    made plus those in flight would exceed ``max_calls``, or when the tokens or
    dollars spent plus the estimates of calls in flight have already reached
    the limit (so a limit is overshot by at most the last calls' cost). The
    ``iteration_*`` limits count the current iteration only (see
    ``CostMeter.start_iteration``). A negative limit is a ``ConfigError`` (a
    ``ValueError``).
    """

    @property
    def unlimited(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def check(self, meter: CostMeter, *, pending_calls: int = 1, pending_tokens: float = 0,
              pending_dollars: float = 0.0) -> None:
        """Raise :class:`BudgetExceeded` if one more call may not be launched.

        The meter's own calls in flight (:meth:`CostMeter.record_sent`) are in its
        call count already, and their estimates are added to its tokens and dollars.

        Args:
            meter: what was spent so far.
            pending_calls: calls the meter does not know of yet, the one about to start included.
            pending_tokens: estimated tokens of calls in flight the meter does not know of.
            pending_dollars: estimated dollars of calls in flight the meter does not know of.
        """
        for scope, counters, (calls, tokens, dollars) in self._scopes(meter):
            max_calls = getattr(self, calls)
            if max_calls is not None and counters.calls + pending_calls > max_calls:
                raise BudgetExceeded(scope, calls, max_calls, counters.calls + pending_calls - 1)
            max_tokens = getattr(self, tokens)
            used_tokens = counters.tokens + counters.in_flight_tokens + pending_tokens
            if max_tokens is not None and used_tokens >= max_tokens:
                raise BudgetExceeded(scope, tokens, max_tokens, used_tokens)
            max_dollars = getattr(self, dollars)
            used_dollars = counters.spent_dollars + counters.in_flight_dollars + pending_dollars
            if max_dollars is not None and used_dollars >= max_dollars:
                raise BudgetExceeded(scope, dollars, max_dollars, used_dollars)

    def remaining(self, meter: CostMeter) -> dict[str, float]:
        """Headroom per limit that is set (``inf`` for unlimited ones)."""
        out: dict[str, float] = {}
        for _, counters, names in self._scopes(meter):
            for name, used in zip(names, (counters.calls, counters.tokens, counters.spent_dollars)):
                limit = getattr(self, name)
                out[name] = math.inf if limit is None else max(0.0, limit - used)
        return out

    @staticmethod
    def _scopes(meter: CostMeter) -> tuple[tuple[str, Any, tuple[str, str, str]], ...]:
        """(scope, its counters, its (calls, tokens, dollars) limit fields) for the run and the iteration."""
        return (("run", meter.total, ("max_calls", "max_total_tokens", "max_dollars")),
                ("iteration", meter.iteration, ("iteration_max_calls", "iteration_max_tokens",
                                                "iteration_max_dollars")))
