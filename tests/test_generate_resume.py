"""Resuming generation from a partial pool (a run killed between, or during, pool writes).

``generate_for_plan`` reads the ``pool.jsonl`` an earlier process left, keeps
its accepted records, continues each allocation's request index after the last
one written and teaches the stateful validators (dedup) the old records. The
symbolic teacher is deterministic, so a resumed run can be compared with one
that was never interrupted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data_agent.domain import load_domain
from data_agent.generators.engine.symbolic_session import SymbolicSession
from data_agent.generators.generate import generate_for_plan
from data_agent.plan import Allocation, Plan
from data_agent.records import read_pool
from data_agent.validators import default_pipeline

DOMAIN = load_domain("science")
# areas_volumes has two templates whose problems repeat from the third request on, so
# dedup rejects some of its replies: the resumed run must know the old records to do so.
TOPICS = ("areas_volumes", "atomic_structure")


def _plan(*counts: int) -> Plan:
    allocs = [Allocation(topic=t, count=c, difficulty=2 + i) for i, (t, c) in enumerate(zip(TOPICS, counts))]
    return Plan(iteration=1, n_records=sum(counts), teacher="symbolic", allocations=allocs, rationale="test")


class CountingSession:
    """The symbolic session, with every request it is asked recorded as (topic, attempt)."""

    def __init__(self) -> None:
        self.session = SymbolicSession(DOMAIN)
        self.build = self.session.build
        self.asked: list[tuple[str, int]] = []

    async def call(self, requests):
        self.asked += [(r.metadata["topic"], r.metadata["attempt"]) for r in requests]
        return await self.session.call(requests)


def _generate(plan: Plan, pool: Path, session: CountingSession | None = None):
    session = session or CountingSession()
    res = generate_for_plan(plan, DOMAIN, teacher_name="symbolic", call=session.call, build=session.build,
                            pipeline=default_pipeline(DOMAIN), pool_path=pool, run_seed=0, max_requests=200)
    return res, session


def _lines(pool: Path) -> list[dict]:
    return [json.loads(line) for line in pool.read_text(encoding="utf-8").splitlines() if line.strip()]


def _assert_no_duplicates(pool: Path) -> None:
    rows = _lines(pool)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "a request index was used twice"
    inputs = [r["input"] for r in rows if r["accepted"]]
    assert len(inputs) == len(set(inputs)), "an accepted problem is in the pool twice"


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[list[dict], list[dict], int]:
    """A run never interrupted: its pool lines, its selected records, its request count."""
    pool = tmp_path_factory.mktemp("ref") / "pool.jsonl"
    res, session = _generate(_plan(4, 3), pool)
    lines = _lines(pool)
    assert res.requests == len(session.asked) == len(lines)
    # The premise of the dedup check below: the uninterrupted run has rejections.
    assert any(not r["accepted"] and r["verdicts"][-1]["validator"] == "dedup" for r in lines)
    return lines, [r.to_dict() for r in res.records], res.requests


@pytest.mark.parametrize("keep, torn, complete", [(2, False, False), (5, False, False), (5, True, False),
                                                  (9, False, True)])
def test_resume_from_a_cut_pool_asks_only_for_what_is_missing(tmp_path: Path, reference, keep: int,
                                                              torn: bool, complete: bool) -> None:
    """The pool of the uninterrupted run, cut after ``keep`` lines (plus half a
    line when ``torn``: a crash mid-write), is resumed: the kept lines stay
    as they were, only the requests that were never written are asked, and the
    result is the uninterrupted run's. After 9 lines the pool already holds
    every record the plan needs (``complete``): nothing is asked."""
    ref_lines, ref_records, ref_requests = reference
    pool = tmp_path / "pool.jsonl"
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ref_lines[:keep])
    if torn:
        text += json.dumps(ref_lines[keep], ensure_ascii=False)[:40]
    pool.write_text(text, encoding="utf-8")
    kept = {(r["topic"], r["attempt"]) for r in ref_lines[:keep]}

    res, session = _generate(_plan(4, 3), pool)

    # Teacher calls only for what the pool did not have, each index once.
    assert len(session.asked) == len(set(session.asked)) == (0 if complete else ref_requests - keep)
    assert not kept & set(session.asked), "a request already in the pool was asked again"
    for topic in TOPICS:  # request indices continue after the last one written
        old = [a for t, a in kept if t == topic]
        new = sorted(a for t, a in session.asked if t == topic)
        if old and new:
            assert new[0] == max(old) + 1
    assert session.session.meter.total.requests == len(session.asked)
    assert res.requests == keep + len(session.asked)  # the count includes the old pool's requests

    # The old lines are unchanged; nothing is duplicated; the outcome is the uninterrupted run's.
    lines = _lines(pool)
    assert lines[:keep] == ref_lines[:keep]
    _assert_no_duplicates(pool)
    expected = ref_lines[:keep] if complete else ref_lines  # (the order of the later rounds may differ)
    assert sorted((r["id"], r["accepted"]) for r in lines) == sorted((r["id"], r["accepted"]) for r in expected)
    assert [r.to_dict() for r in res.records] == ref_records
    old_accepted = [r for r in ref_lines[:keep] if r["accepted"]]
    got = {r.id: r.to_dict() for r in res.records}
    for r in old_accepted:
        if r["id"] in got:
            assert {k: got[r["id"]][k] for k in ("input", "output", "seed", "attempt")} == \
                   {k: r[k] for k in ("input", "output", "seed", "attempt")}


def test_dedup_learns_the_records_of_the_old_pool(tmp_path: Path, reference) -> None:
    """Cut after the two accepted areas_volumes records: the next reply of that
    topic repeats the first one's problem, and only the dedup memory rebuilt
    from the old pool can reject it."""
    ref_lines, _, _ = reference
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps(r) + "\n" for r in ref_lines[:2]), encoding="utf-8")
    assert all(r["accepted"] and r["topic"] == "areas_volumes" for r in ref_lines[:2])
    res, _ = _generate(_plan(4, 3), pool)
    _assert_no_duplicates(pool)
    inputs = [r.input for r in res.records]
    assert len(inputs) == len(set(inputs))
    third = next(r for r in _lines(pool) if r["id"] == ref_lines[2]["id"])
    assert not third["accepted"] and third["verdicts"][-1]["validator"] == "dedup"


def test_a_plan_finished_in_two_calls_keeps_the_first_calls_records(tmp_path: Path) -> None:
    """A first call generates part of the plan (a smaller one); a second call
    with the whole plan on the same pool keeps those records unchanged and asks
    only for the rest."""
    pool = tmp_path / "pool.jsonl"
    first, s1 = _generate(_plan(2, 1), pool)
    first_lines = _lines(pool)
    res, s2 = _generate(_plan(4, 3), pool)

    got = {r.id: r.to_dict() for r in res.records}
    for r in first.records:
        assert got.get(r.id) == r.to_dict(), f"{r.id} from the first call is missing or changed"
    assert _lines(pool)[:len(first_lines)] == first_lines
    _assert_no_duplicates(pool)
    assert not set(s1.asked) & set(s2.asked)
    assert len(s1.asked) + len(s2.asked) == len(_lines(pool)) == res.requests
    assert len(res.records) == 7 and len({r.input for r in res.records}) == 7
    counts = {t: sum(r.topic == t for r in res.records) for t in TOPICS}
    assert counts == {"areas_volumes": 4, "atomic_structure": 3}
