"""The selection seam: which N of the accepted records a submission keeps.

Generation tops up until every plan allocation has at least its count of
accepted records (a batch may overshoot); a *policy* then picks exactly that
count from each allocation's accepted records. A policy is a function
``(records, n, seed) -> records`` registered in :data:`POLICIES`; it sees only
accepted records (never validation or test items) and must return ``n`` of
them without duplicates.

* ``first`` (default): the earliest requests first, so a resumed or repeated
  run keeps the same records;
* ``random``: a seeded random sample, so no request position is favoured.
"""

from __future__ import annotations

import random
from typing import Callable, Mapping, Sequence

from ..errors import DataAgentError
from ..records import Record

Policy = Callable[[Sequence[Record], int, int], list[Record]]


def first(records: Sequence[Record], n: int, seed: int) -> list[Record]:
    """The ``n`` records of the earliest requests."""
    return sorted(records, key=lambda r: r.attempt)[:n]


def sample(records: Sequence[Record], n: int, seed: int) -> list[Record]:
    """``n`` records drawn at random (seeded), kept in request order."""
    pool = sorted(records, key=lambda r: r.attempt)
    keep = set(random.Random(f"selection:{seed}").sample(range(len(pool)), min(n, len(pool))))
    return [r for i, r in enumerate(pool) if i in keep]


POLICIES: dict[str, Policy] = {"first": first, "random": sample}
"""Selection policies by name (``RunConfig.selection``)."""


def select(accepted: Mapping[int, Sequence[Record]], want: Mapping[int, int], policy: str = "first",
           seed: int = 0) -> list[Record]:
    """``want[i]`` records from each allocation's ``accepted[i]``, allocation by allocation."""
    try:
        pick = POLICIES[policy]
    except KeyError:
        raise DataAgentError(f"unknown selection policy {policy!r} (known: {', '.join(POLICIES)})") from None
    out: list[Record] = []
    for i in want:
        chosen = pick(accepted[i], want[i], seed + i)
        if len(chosen) != min(want[i], len(accepted[i])) or len({id(r) for r in chosen}) != len(chosen):
            raise DataAgentError(f"selection policy {policy!r} returned {len(chosen)} records for an allocation "
                                 f"that needs {want[i]}")
        out.extend(chosen)
    return out
