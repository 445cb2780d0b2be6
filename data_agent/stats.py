"""Accuracy summaries with bootstrap intervals and paired-bootstrap gains.

Task-independent: a task decides whether one output is correct and well
formatted (:mod:`data_agent.tasks`); this module turns those verdicts into the
metrics a run reports.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence


@dataclass
class ItemScore:
    id: str
    source: str
    correct: bool
    formatted: bool
    prediction: Any
    gold: Any
    failure: str | None = None
    """The task's failure class of a wrong output (``None`` when correct)."""


@dataclass
class Metrics:
    n: int
    accuracy: float
    accuracy_ci: tuple[float, float]
    format_compliance: float
    per_source: dict[str, dict[str, float]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    """Wrong outputs by the task's failure class."""

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "accuracy_ci95": list(self.accuracy_ci),
            "format_compliance": self.format_compliance,
            "per_source": self.per_source,
            "failures": self.failures,
        }


def bootstrap_ci(values: Sequence[float], n_boot: int = 2000, seed: int = 0, alpha: float = 0.05,
                 stat=None) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (or ``stat``) of ``values``."""
    vals = list(values)
    if not vals:
        return (0.0, 0.0)
    stat = stat or (lambda xs: sum(xs) / len(xs))
    rng = random.Random(seed)
    n = len(vals)
    boots = sorted(stat([vals[rng.randrange(n)] for _ in range(n)]) for _ in range(n_boot))
    lo = boots[int(alpha / 2 * n_boot)]
    hi = boots[min(n_boot - 1, int((1 - alpha / 2) * n_boot))]
    return (lo, hi)


def summarise(scores: Iterable[ItemScore], seed: int = 0) -> Metrics:
    scores = list(scores)
    n = len(scores)
    correct = [1.0 if s.correct else 0.0 for s in scores]
    by_src: dict[str, list[ItemScore]] = defaultdict(list)
    for s in scores:
        by_src[s.source].append(s)
    per_source = {
        src: {
            "n": len(v),
            "accuracy": sum(x.correct for x in v) / len(v),
            "format_compliance": sum(x.formatted for x in v) / len(v),
        }
        for src, v in sorted(by_src.items())
    }
    return Metrics(
        n=n,
        accuracy=sum(correct) / n if n else 0.0,
        accuracy_ci=bootstrap_ci(correct, seed=seed),
        format_compliance=sum(s.formatted for s in scores) / n if n else 0.0,
        per_source=per_source,
        failures=dict(sorted(Counter(s.failure for s in scores if not s.correct and s.failure).items())),
    )


def paired_gain(base: Sequence[bool], final: Sequence[bool], n_boot: int = 2000, seed: int = 0) -> dict:
    """Absolute and relative gain of ``final`` over ``base`` on the same items,
    with paired-bootstrap 95% intervals. Relative gain is None when base is 0."""
    if len(base) != len(final):
        raise ValueError("paired gain needs the same items for base and final")
    n = len(base)
    b = [1.0 if x else 0.0 for x in base]
    f = [1.0 if x else 0.0 for x in final]
    base_acc = sum(b) / n if n else 0.0
    final_acc = sum(f) / n if n else 0.0
    rng = random.Random(seed)
    abs_boot, rel_boot = [], []
    for _ in range(n_boot):
        idx = [rng.randrange(n) for _ in range(n)]
        bb = sum(b[i] for i in idx) / n
        ff = sum(f[i] for i in idx) / n
        abs_boot.append(ff - bb)
        if bb > 0:
            rel_boot.append((ff - bb) / bb)
    abs_boot.sort()
    rel_boot.sort()

    def pct(xs, q):
        return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else None

    rel = (final_acc - base_acc) / base_acc if base_acc > 0 else None
    return {
        "n": n,
        "base_accuracy": base_acc,
        "final_accuracy": final_acc,
        "absolute_gain": final_acc - base_acc,
        "absolute_gain_ci95": [pct(abs_boot, 0.025), pct(abs_boot, 0.975)],
        "relative_gain": rel,
        "relative_gain_ci95": ([pct(rel_boot, 0.025), pct(rel_boot, 0.975)]
                               if rel is not None and len(rel_boot) >= 0.9 * n_boot else None),
        "relative_gain_note": (None if rel is not None else
                               "base accuracy is 0 on these items, so the relative gain is undefined; "
                               "see the absolute gain"),
    }
