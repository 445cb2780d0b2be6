"""Error analysis of one iteration, from the validation split only: what the
engineer reflects on (``iter-NN/feedback.json``, shown in report.md).

The document holds:

* the overall, per-source and per-skill accuracy and format compliance (a
  skill's items are those of the sources it serves);
* the task's failure classes (:data:`data_agent.tasks.FAILURE_CLASSES`) with
  counts and what each means;
* a bounded sample of failures, spread over failure classes and sources
  (deterministic): the problem, the gold, the student's output and the
  answer read from it, each cut to a few hundred characters;
* the last pool's rejections by validator and reason;
* the teacher's costs this iteration and in the run, and what is left of each
  budget.

Nothing here reads the test split: :func:`build_feedback` takes validation
rows and items only, and says so in ``split``.
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping, Sequence

from .tasks import FAILURE_CLASSES, clip

__all__ = ["FEEDBACK_VERSION", "SAMPLE_SIZE", "build_feedback", "failure_sample"]

FEEDBACK_VERSION = 1
SAMPLE_SIZE = 8
"""Failures shown in a feedback document."""
TEXT_CHARS = 500
"""Characters kept of a failure's problem and of the student's output."""


def _rate(rows: Sequence[Mapping[str, Any]], key: str) -> float:
    return sum(bool(r.get(key)) for r in rows) / len(rows) if rows else 0.0


def failure_sample(rows: Sequence[Mapping[str, Any]], k: int = SAMPLE_SIZE, seed: int = 0) -> list[Mapping[str, Any]]:
    """Up to ``k`` wrong rows, round-robin over (failure class, source) groups,
    each group in a fixed hash order: every kind of failure is shown before
    any is shown twice."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in rows:
        if not r.get("correct"):
            groups.setdefault((str(r.get("failure") or "wrong_value"), str(r.get("source", ""))), []).append(r)
    for g in groups.values():
        g.sort(key=lambda r: hashlib.sha256(f"{seed}:{r.get('id')}".encode()).hexdigest())
    out: list[Mapping[str, Any]] = []
    queues = [groups[key] for key in sorted(groups)]
    while len(out) < k and any(queues):
        for q in queues:
            if q and len(out) < k:
                out.append(q.pop(0))
    return out


BUDGET_USAGE = {"max_calls": ("calls", "requests"), "max_total_tokens": ("tokens",), "max_dollars": ("dollars",)}
"""Each budget setting and the usage counters that count against it (the first one present)."""


def budget_used(usage: Mapping[str, Any], key: str) -> Any:
    """What ``usage`` (a teacher's totals, or one iteration's) spent of budget ``key``."""
    return next((usage[k] for k in BUDGET_USAGE[key] if usage.get(k) is not None), 0)


def _budget_left(usage: Mapping[str, Any], budgets: Mapping[str, Any]) -> dict[str, Any]:
    """What is left of each set budget (``None`` budgets are unlimited and left out)."""
    out = {}
    for key in BUDGET_USAGE:
        used = budget_used(usage, key)
        limit = budgets.get(key)
        if limit is not None:
            out[key] = {"limit": limit, "used": used, "left": max(0, limit - used)}
    return out


def build_feedback(*, iteration: int, rows: Sequence[Mapping[str, Any]], items: Mapping[str, Any],
                   metrics: Mapping[str, Any], skills: Mapping[str, Any], generation: Mapping[str, Any],
                   usage: Mapping[str, Any], budgets: Mapping[str, Any], k: int = SAMPLE_SIZE,
                   seed: int = 0) -> dict[str, Any]:
    """The feedback document of ``iteration`` (see the module docstring).

    Args:
        rows: the iteration's validation rows (``eval-val.json`` ``items``).
        items: validation item id -> :class:`~data_agent.records.EvalItem` (the problem text).
        metrics: the iteration's validation metrics.
        skills: the topics the teacher writes (name -> :class:`~data_agent.plan.TopicInfo`).
        generation: the iteration's ``generation.json`` (its ``validation`` counts).
        usage: the teacher's totals (``usage()``, with the iteration's under ``iteration``).
        budgets: the run's budget settings (``max_calls``, ``max_total_tokens``, ``max_dollars``).
    """
    per_skill = {}
    for name, info in sorted(skills.items()):
        srcs = set(getattr(info, "sources", []) or [])
        sel = [r for r in rows if r.get("source") in srcs]
        if sel:
            per_skill[name] = {"n": len(sel), "accuracy": _rate(sel, "correct"),
                               "format_compliance": _rate(sel, "formatted"), "sources": sorted(srcs)}
    classes = {}
    for r in rows:
        if not r.get("correct"):
            c = str(r.get("failure") or "wrong_value")
            classes.setdefault(c, {"count": 0, "means": FAILURE_CLASSES.get(c, "")})["count"] += 1
    sample = []
    for r in failure_sample(rows, k, seed):
        item = items.get(str(r.get("id")))
        sample.append({"id": r.get("id"), "source": r.get("source"), "failure": r.get("failure"),
                       "problem": clip(getattr(item, "input", ""), TEXT_CHARS), "gold": r.get("gold"),
                       "output": clip(r.get("output", ""), TEXT_CHARS), "extracted": r.get("prediction")})
    validation = generation.get("validation") or {}
    it_usage = dict(usage.get("iteration") or {})
    return {
        "version": FEEDBACK_VERSION, "iteration": iteration, "split": "val",
        "overall": {"n": metrics.get("n"), "accuracy": metrics.get("accuracy"),
                    "accuracy_ci95": metrics.get("accuracy_ci95"),
                    "format_compliance": metrics.get("format_compliance")},
        "per_source": metrics.get("per_source") or {},
        "per_skill": per_skill,
        "failure_classes": dict(sorted(classes.items(), key=lambda kv: (-kv[1]["count"], kv[0]))),
        "failures_sample": sample,
        "rejections": {"checked": validation.get("checked"), "accepted": validation.get("accepted"),
                       "by_reason": validation.get("rejected_by_kind") or validation.get("rejected_by_reason") or {}},
        "costs": {"iteration": it_usage, "run": {k2: v for k2, v in usage.items() if k2 != "iteration"},
                  "budget_left": _budget_left(usage, budgets)},
    }
