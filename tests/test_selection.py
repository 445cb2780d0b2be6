"""The selection seam: which N of the accepted records a submission keeps."""

import pytest

from data_agent.errors import DataAgentError
from data_agent.generators.selection import POLICIES, select
from data_agent.records import Record


def _recs(n, offset=0):
    return [Record(instruction="i", input=f"q{offset + k}", output="o", attempt=offset + k) for k in range(n)]


def test_first_keeps_the_earliest_requests_of_each_allocation():
    accepted = {0: list(reversed(_recs(5))), 1: _recs(3, 100)}
    out = select(accepted, {0: 2, 1: 3}, policy="first")
    assert [r.attempt for r in out] == [0, 1, 100, 101, 102]


def test_random_is_seeded_distinct_and_keeps_the_counts():
    accepted = {0: _recs(20), 1: _recs(10, 100)}
    a = select(accepted, {0: 5, 1: 4}, policy="random", seed=7)
    b = select(accepted, {0: 5, 1: 4}, policy="random", seed=7)
    c = select(accepted, {0: 5, 1: 4}, policy="random", seed=8)
    assert [r.attempt for r in a] == [r.attempt for r in b] != [r.attempt for r in c]
    assert len(a) == 9 and len({r.attempt for r in a}) == 9
    assert sum(r.attempt < 100 for r in a) == 5 and sum(r.attempt >= 100 for r in a) == 4
    assert [r.attempt for r in a[:5]] == sorted(r.attempt for r in a[:5])  # request order kept
    assert set(POLICIES) >= {"first", "random"}


def test_unknown_policy_and_a_policy_that_miscounts_are_errors(monkeypatch):
    with pytest.raises(DataAgentError, match="unknown selection policy 'best'"):
        select({0: _recs(3)}, {0: 2}, policy="best")
    monkeypatch.setitem(POLICIES, "greedy", lambda recs, n, seed: list(recs))
    with pytest.raises(DataAgentError, match="returned 3 records for an allocation that needs 2"):
        select({0: _recs(3)}, {0: 2}, policy="greedy")


def test_an_unknown_policy_in_the_config_fails_before_the_run_starts(tmp_path):
    from data_agent.config import load_config
    from data_agent.loop import specialize

    with pytest.raises(DataAgentError, match="selection \\(--selection\\): expected one of first, random, got 'best'"):
        load_config("smoke", overrides={"selection": "best"})
    cfg = load_config("smoke")
    object.__setattr__(cfg, "selection", "best")  # past the configuration's own check: the loop checks too
    with pytest.raises(DataAgentError, match="unknown selection policy 'best' \\(known: first, random\\)"):
        specialize(cfg, run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()
