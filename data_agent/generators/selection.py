"""The selection seam: which N of the accepted records a submission keeps.

Generation tops up until every plan allocation has at least its count of
accepted records, times the plan's *over-generation* factor (``selection.
overgenerate``, 1 by default: a batch may still overshoot); a *policy* then
picks exactly that count from each allocation's accepted records. A policy is
a function ``(records, n, seed, context) -> records`` registered in
:data:`POLICIES`; it sees only accepted records (never validation or test
items) and must return ``n`` of them without duplicates. The plan names the
policy (``selection.policy``), the run's ``--selection`` is the default.

* ``first`` (default): the earliest requests first, so a resumed or repeated
  run keeps the same records;
* ``random``: a seeded random sample, so no request position is favoured;
* ``verified_first``: records whose answer was verified (recomputed by a
  program or by the symbolic teacher's exact computation, or agreed on by
  self-consistency) before unverified ones, earliest first within each;
* ``k_center``: diversity, greedy k-center over the inputs' embeddings
  (all-MiniLM-L6-v2): each next record is the one farthest from those kept
  (Sener & Savarese 2018, "Active Learning for Convolutional Neural
  Networks: A Core-Set Approach");
* ``loss``: difficulty-targeted, the records on which the current student's
  mean token loss over the output is highest (what it has most to learn), the
  top tenth left out as likely noise (Paul et al. 2021, "Deep Learning on a
  Data Diet");
* ``el2n``: the same, ranked by the EL2N score (the mean L2 norm of the
  softmax minus the one-hot target over the output tokens);
* ``coverage``: round-robin over the allocation's sub-skills (the generator's
  template, then the subject), so every one is represented before any repeats.

``k_center``, ``loss`` and ``el2n`` need what :class:`SelectionContext`
provides (embeddings, the student's per-record scores); the loop builds it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from ..errors import DataAgentError
from ..records import Record

ScoreFn = Callable[[Sequence[Record]], list[dict[str, float]]]
"""Records -> one ``{"loss": ..., "el2n": ...}`` per record (the current student's)."""


@dataclass
class SelectionContext:
    """What policies may compute on: embeddings of inputs and the current
    student's per-record scores, each computed once for all the records a
    selection looks at and cached by record id."""

    scores: ScoreFn | None = None
    """The current student's loss and EL2N per record (``loss``/``el2n`` policies)."""
    student: str = ""
    """Which student ``scores`` uses (for the selection's summary)."""
    embed: Callable[[list[str]], Any] | None = None
    """Texts -> unit-length embeddings (:func:`data_agent.embeddings.embed` when ``None``)."""
    _emb: dict[int, Any] = field(default_factory=dict, repr=False)
    _scores: dict[int, dict[str, float]] = field(default_factory=dict, repr=False)

    def prepare(self, records: Sequence[Record], policy: str) -> None:
        """Compute what ``policy`` needs for all ``records`` at once (batched)."""
        todo = [r for r in records if id(r) not in (self._emb if policy == "k_center" else self._scores)]
        if not todo:
            return
        if policy == "k_center":
            from ..embeddings import embed

            for r, v in zip(todo, (self.embed or embed)([r.input for r in todo])):
                self._emb[id(r)] = v
        elif policy in ("loss", "el2n"):
            if self.scores is None:
                raise DataAgentError(f"selection policy {policy!r} needs the student's scores, which this run "
                                     f"does not provide")
            for r, s in zip(todo, self.scores(todo)):
                self._scores[id(r)] = s

    def embedding(self, r: Record):
        if id(r) not in self._emb:
            self.prepare([r], "k_center")
        return self._emb[id(r)]

    def score(self, r: Record, key: str) -> float:
        if id(r) not in self._scores:
            self.prepare([r], key)
        return float(self._scores[id(r)][key])


Policy = Callable[[Sequence[Record], int, int, SelectionContext], list[Record]]


def _ordered(records: Sequence[Record]) -> list[Record]:
    return sorted(records, key=lambda r: (r.attempt, r.id))


def first(records: Sequence[Record], n: int, seed: int, ctx: SelectionContext) -> list[Record]:
    """The ``n`` records of the earliest requests."""
    return _ordered(records)[:n]


def sample(records: Sequence[Record], n: int, seed: int, ctx: SelectionContext) -> list[Record]:
    """``n`` records drawn at random (seeded), kept in request order."""
    pool = _ordered(records)
    keep = set(random.Random(f"selection:{seed}").sample(range(len(pool)), min(n, len(pool))))
    return [r for i, r in enumerate(pool) if i in keep]


VERIFIED = ("verified", "agreed")
"""Verification statuses that count as verified (``Record.verification["status"]``)."""


def is_verified(r: Record) -> bool:
    return str((r.verification or {}).get("status", "")) in VERIFIED


def verified_first(records: Sequence[Record], n: int, seed: int, ctx: SelectionContext) -> list[Record]:
    """Verified records first, then the rest; earliest requests first within each."""
    return sorted(_ordered(records), key=lambda r: not is_verified(r))[:n]


def k_center(records: Sequence[Record], n: int, seed: int, ctx: SelectionContext) -> list[Record]:
    """Greedy k-center on input embeddings, starting from the earliest request;
    returned in request order."""
    import numpy as np

    pool = _ordered(records)
    if n >= len(pool):
        return pool
    if n <= 0:
        return []
    ctx.prepare(pool, "k_center")
    x = np.stack([ctx.embedding(r) for r in pool])
    chosen = [0]
    dist = 1.0 - x @ x[0]  # cosine distance to the nearest chosen record
    for _ in range(n - 1):
        dist[chosen] = -np.inf
        j = int(np.argmax(dist))
        chosen.append(j)
        dist = np.minimum(dist, 1.0 - x @ x[j])
    return [pool[i] for i in sorted(chosen)]


NOISE_SHARE = 0.1
"""The highest-scoring share of records the ``loss``/``el2n`` policies leave
out first: a record the student finds hardest of all is often a wrong one."""


def _by_score(key: str) -> Policy:
    def policy(records: Sequence[Record], n: int, seed: int, ctx: SelectionContext) -> list[Record]:
        pool = _ordered(records)
        if n >= len(pool):
            return pool
        ctx.prepare(pool, key)
        ranked = sorted(pool, key=lambda r: -ctx.score(r, key))
        skip = min(math.floor(NOISE_SHARE * len(pool)), len(pool) - n)
        keep = {id(r) for r in ranked[skip:skip + n]}
        return [r for r in pool if id(r) in keep]

    policy.__name__ = key
    policy.__doc__ = (f"The ``n`` records with the highest student {key} after the top "
                      f"{NOISE_SHARE:.0%} (see :data:`NOISE_SHARE`), in request order.")
    return policy


def coverage(records: Sequence[Record], n: int, seed: int, ctx: SelectionContext) -> list[Record]:
    """Round-robin over the records' sub-skills (template, then subject): every
    sub-skill gets one record before any gets a second; request order within each."""
    groups: dict[tuple[str, str], list[Record]] = {}
    for r in _ordered(records):
        groups.setdefault((r.template, r.subject), []).append(r)
    out: list[Record] = []
    queues = [list(g) for _, g in sorted(groups.items())]
    while len(out) < n and any(queues):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop(0))
    keep = {id(r) for r in out}
    return [r for r in _ordered(records) if id(r) in keep]


POLICIES: dict[str, Policy] = {"first": first, "random": sample, "verified_first": verified_first,
                               "k_center": k_center, "loss": _by_score("loss"), "el2n": _by_score("el2n"),
                               "coverage": coverage}
"""Selection policies by name (``RunConfig.selection``, a plan's ``selection.policy``)."""

NEEDS_SCORES = ("loss", "el2n")
"""Policies that score records with the current student."""


def check_policy(policy: str) -> None:
    if policy not in POLICIES:
        raise DataAgentError(f"unknown selection policy {policy!r} (known: {', '.join(POLICIES)})")


def select(accepted: Mapping[int, Sequence[Record]], want: Mapping[int, int], policy: str = "first",
           seed: int = 0, context: SelectionContext | None = None) -> list[Record]:
    """``want[i]`` records from each allocation's ``accepted[i]``, allocation by allocation."""
    check_policy(policy)
    pick = POLICIES[policy]
    ctx = context or SelectionContext()
    everything = [r for i in want for r in accepted[i]]
    if policy in NEEDS_SCORES or policy == "k_center":
        ctx.prepare(everything, policy)  # one batch for all allocations
    out: list[Record] = []
    for i in want:
        chosen = pick(accepted[i], want[i], seed + i, ctx)
        if len(chosen) != min(want[i], len(accepted[i])) or len({id(r) for r in chosen}) != len(chosen):
            raise DataAgentError(f"selection policy {policy!r} returned {len(chosen)} records for an allocation "
                                 f"that needs {want[i]}")
        out.extend(chosen)
    return out


def summary(selected: Sequence[Record], pool: Sequence[Record], policy: str, overgenerate: float,
            ctx: SelectionContext | None = None) -> dict[str, Any]:
    """What a selection kept, for generation.json: counts, verified shares and,
    for the score policies, the mean score of kept and left-out records."""
    kept = {id(r) for r in selected}
    out: dict[str, Any] = {"policy": policy, "overgenerate": overgenerate, "accepted": len(pool),
                           "kept": len(selected),
                           "verified_kept": sum(is_verified(r) for r in selected),
                           "verified_accepted": sum(is_verified(r) for r in pool)}
    if ctx is not None and policy in NEEDS_SCORES and ctx._scores:
        for name, rs in (("kept", [r for r in pool if id(r) in kept]), ("left_out", [r for r in pool if id(r) not in kept])):
            vals = [ctx._scores[id(r)][policy] for r in rs if id(r) in ctx._scores]
            out[f"mean_{policy}_{name}"] = round(sum(vals) / len(vals), 4) if vals else None
        out["scored_with"] = ctx.student
    return out


__all__ = ["POLICIES", "NEEDS_SCORES", "Policy", "SelectionContext", "check_policy", "is_verified", "select",
           "summary"]
